import type { Metadata } from "next";
import { notFound, redirect } from "next/navigation";
import { ChatSafety } from "../../../../components/chat-safety";
import { currentAccount } from "../../../../lib/api";
import { chatPeople } from "../../../../lib/chat-people";

export const metadata: Metadata = { title: "Safety number" };

export default async function SafetyNumberPage({
  params,
}: {
  params: Promise<{ memberId: string }>;
}) {
  const { memberId } = await params;
  const viewer = await currentAccount();
  if (!viewer) redirect(`/signin?return_to=${encodeURIComponent(`/chats/safety/${memberId}`)}`);
  const { people } = await chatPeople(viewer.id);
  // Safety numbers are between members of this Clique.
  if (!people[memberId] || memberId === viewer.id) notFound();
  return (
    <div className="narrow">
      <ChatSafety viewerId={viewer.id} contactId={memberId} people={people} />
    </div>
  );
}
