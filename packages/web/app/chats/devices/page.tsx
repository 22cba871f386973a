import type { Metadata } from "next";
import { redirect } from "next/navigation";
import { ChatDevices } from "../../../components/chat-devices";
import { currentAccount } from "../../../lib/api";

export const metadata: Metadata = { title: "Chat devices" };

export default async function ChatDevicesPage() {
  const viewer = await currentAccount();
  if (!viewer) redirect("/signin?return_to=/chats/devices");
  return (
    <div className="narrow">
      <ChatDevices viewerId={viewer.id} />
    </div>
  );
}
