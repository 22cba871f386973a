import type { Metadata } from "next";
import { redirect } from "next/navigation";
import { ChatConversation } from "../../../components/chat-conversation";
import { currentAccount } from "../../../lib/api";
import { chatPeople } from "../../../lib/chat-people";

export const metadata: Metadata = { title: "Chat" };

export default async function ChatPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  const viewer = await currentAccount();
  if (!viewer) redirect(`/signin?return_to=${encodeURIComponent(`/chats/${id}`)}`);
  const { people } = await chatPeople(viewer.id);
  return (
    <div className="narrow">
      <ChatConversation viewerId={viewer.id} groupId={id} people={people} />
    </div>
  );
}
