import type { Metadata } from "next";
import { redirect } from "next/navigation";
import { ChatsHome } from "../../components/chats-home";
import { currentAccount } from "../../lib/api";
import { chatPeople } from "../../lib/chat-people";

export const metadata: Metadata = { title: "Chats" };

export default async function ChatsPage() {
  const viewer = await currentAccount();
  if (!viewer) redirect("/signin?return_to=/chats");
  const { people, pickable } = await chatPeople(viewer.id);
  return (
    <div className="narrow stack">
      <h1>Chats</h1>
      <p className="muted">
        End-to-end encrypted: messages and photos are locked on your device and opened only on the
        devices of the people in the chat. The server passes them on without being able to read
        them.
      </p>
      <ChatsHome viewerId={viewer.id} people={people} pickable={pickable} />
    </div>
  );
}
