/**
 * The Clique's members as the chat screens name them, read on the server as
 * the visitor (the chats themselves are decrypted in the browser only).
 */
import type { ChatPeople } from "../components/chat-gate";
import { apiGet } from "./api";
import { displayName } from "./format";
import type { Account } from "./types";

/** Every member the visitor may see, and the ids of those one can start a chat with. */
export async function chatPeople(
  viewerId: string,
): Promise<{ people: ChatPeople; pickable: string[] }> {
  const members = await apiGet<(Account & { status?: string })[]>("/api/v1/clique/members");
  const list = members.ok ? members.data : [];
  const people: ChatPeople = {};
  for (const m of list) people[m.id] = { id: m.id, name: displayName(m), acct: m.acct };
  const pickable = list
    .filter((m) => m.id !== viewerId && (m.status ?? "active") === "active")
    .map((m) => m.id);
  return { people, pickable };
}
