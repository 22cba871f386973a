import type { Deps } from "../deps.ts";
import type { Member, Role } from "../domain/types.ts";
import { fail, ok, type Result } from "../errors.ts";
import { isId } from "../ids.ts";
import type { Refusal } from "../permissions/permissions.ts";
import { type ActingAs, lockAndReadActor, permit } from "../permissions/permit.ts";

/** Why `setMemberRole` refused. */
export type SetMemberRoleProblem = "not_found" | Refusal;

/**
 * Gives a member a role, as the table allows (`member.role`: an admin gives
 * roles below their own to members below them; an owner gives any, owner
 * included). Ownership is handed over in two steps: the owner makes someone
 * else an owner, then steps down (their own role, which only an owner may
 * change); the last owner cannot step down. Nothing is sent elsewhere: roles
 * are this Clique's own.
 */
export async function setMemberRole(
  deps: Deps,
  by: ActingAs,
  targetId: string,
  role: Role,
): Promise<Result<{ member: Member; previous: Role }, SetMemberRoleProblem>> {
  if (!isId(targetId)) return fail("not_found");
  return deps.stores.transaction(async (tx) => {
    const actor = await lockAndReadActor(tx, by);
    if (actor === undefined) return fail("not_allowed");
    const target = await tx.members.getById(targetId);
    if (!target || target.status === "removed") return fail("not_found");
    const refusal = await permit(tx, actor, "member.role", target, role);
    if (refusal) return fail(refusal);
    if (target.role !== role) await tx.members.setRole(target.id, role);
    return ok({ member: { ...target, role }, previous: target.role });
  });
}
