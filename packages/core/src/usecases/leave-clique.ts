import { verifyPassword } from "../auth/secrets.ts";
import { countAttempt, forgetFailures, usernameKey } from "../auth/sign-in-throttle.ts";
import type { Deps } from "../deps.ts";
import type { Member } from "../domain/types.ts";
import { fail, ok, type Result } from "../errors.ts";
import { endMembership } from "./remove-member.ts";
import { throttled } from "./sign-in.ts";

/** Why `leaveClique` refused. */
export type LeaveCliqueProblem =
  | "wrong_password"
  | "too_many_attempts"
  | "last_owner"
  | "not_allowed";

/**
 * A member leaves the Clique on their own, confirming with their password
 * (throttled like a sign-in: a wrong one is a guess).
 * Everything goes as for a removal (the same federation: a `Delete` of the
 * actor to every server they had to do with), and their posts are deleted.
 * The last owner cannot leave: they hand ownership over first.
 */
export async function leaveClique(
  deps: Deps,
  member: Member,
  input: { password: string; ip: string },
): Promise<Result<Member, LeaveCliqueProblem>> {
  const key = usernameKey(member.username);
  if (!(await countAttempt(deps, key, input.ip))) return throttled();
  const hash = await deps.stores.members.getPasswordHash(member.id);
  if (!hash || !(await verifyPassword(hash, input.password)))
    return fail("wrong_password", "The password is not right.");
  await forgetFailures(deps, key, input.ip);
  return deps.stores.transaction(async (tx) => {
    await tx.settings.getForUpdate();
    const fresh = await tx.members.getById(member.id);
    if (fresh?.status !== "active") return fail("not_allowed");
    if (fresh.role === "owner" && (await tx.members.countActiveOwners()) <= 1)
      return fail("last_owner", "The last owner cannot leave: make someone else an owner first.");
    return ok(await endMembership(tx, deps.now(), fresh, { deleteContent: true }));
  });
}
