import type { Deps } from "../deps.ts";
import type { Member } from "../domain/types.ts";
import { fail, ok, type Result } from "../errors.ts";
import { isId } from "../ids.ts";
import { mayTake } from "../permissions/permissions.ts";

/** Revokes an invite. Its creator may, and whoever the table lets revoke anyone's (`invite.revoke_any`). */
export async function revokeInvite(
  deps: Deps,
  by: Member,
  inviteId: string,
): Promise<Result<null, "not_found" | "not_allowed">> {
  // Not an id at all: no such invite (and no database error for the caller).
  if (!isId(inviteId)) return fail("not_found");
  const invite = await deps.stores.invites.getById(inviteId);
  if (!invite) return fail("not_found");
  if (!mayTake(by.role, "invite.revoke_any") && invite.createdBy !== by.id)
    return fail("not_allowed");
  if (!invite.revokedAt) await deps.stores.invites.revoke(invite.id, deps.now());
  return ok(null);
}
