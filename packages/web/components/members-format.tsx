/** Shapes and names shared by the members and moderation pages (server and browser alike). */
import type { Account } from "../lib/types";

export type Role = "owner" | "admin" | "moderator" | "member";

/**
 * A member as `/api/v1/clique/members` lists them for staff. A removed member
 * has no account any more: only id, username, role and status.
 */
export type MemberEntry = (Account | Pick<Account, "id" | "username">) & {
  role: Role;
  status: "active" | "suspended" | "removed" | string;
};

/** The name to show for a member, removed ones included. */
export function memberName(m: { username: string; display_name?: string | undefined }): string {
  return m.display_name?.trim() || m.username;
}

export const ROLE_LABELS: Record<Role, string> = {
  owner: "Owner",
  admin: "Admin",
  moderator: "Moderator",
  member: "Member",
};
