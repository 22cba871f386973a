import { checkPassword, hashPassword, verifyPassword } from "../auth/secrets.ts";
import { countAttempt, forgetFailures, usernameKey } from "../auth/sign-in-throttle.ts";
import type { Deps } from "../deps.ts";
import type { Member } from "../domain/types.ts";
import { fail, ok, type Result } from "../errors.ts";
import { throttled } from "./sign-in.ts";

/** Why `changePassword` refused. */
export type ChangePasswordProblem =
  | "wrong_password"
  | "too_many_attempts"
  | "password_too_short"
  | "password_too_long";

/** What a member gives to change their own password. */
export interface ChangePasswordInput {
  currentPassword: string;
  newPassword: string;
  /** The client address, for the same throttle as sign-in (a wrong current password is a failed guess). */
  ip: string;
  /** The session or token the request came with: it stays valid. */
  currentTokenId: string | null;
  /** Keep every other session and token too (default: they are revoked). */
  keepOtherSessions?: boolean;
}

/**
 * A signed-in member changes their password. The current password is checked
 * (and throttled like a sign-in); then every other session and token of the
 * member is revoked, in the same transaction as the change, unless asked not to.
 */
export async function changePassword(
  deps: Deps,
  member: Member,
  input: ChangePasswordInput,
): Promise<Result<{ revoked: number }, ChangePasswordProblem>> {
  // The new password's rules first: a refusal there tells nothing about the current one.
  const problem = checkPassword(input.newPassword);
  if (problem) return fail(problem);
  const key = usernameKey(member.username);
  if (!(await countAttempt(deps, key, input.ip))) return throttled();
  const hash = await deps.stores.members.getPasswordHash(member.id);
  if (!hash || !(await verifyPassword(hash, input.currentPassword)))
    return fail("wrong_password", "The current password is not right.");
  await forgetFailures(deps, key, input.ip);
  const newHash = await hashPassword(input.newPassword);
  return deps.stores.transaction(async (tx) => {
    const now = deps.now();
    await tx.members.setPasswordHash(member.id, newHash);
    const revoked = input.keepOtherSessions
      ? 0
      : await tx.tokens.revokeAllFor(member.id, now, input.currentTokenId ?? undefined);
    return ok({ revoked });
  });
}

/** Why `resetPassword` refused. */
export type ResetPasswordProblem = "not_found" | "password_too_short" | "password_too_long";

/**
 * An operator sets a member's password (the CLI's `clique password reset`):
 * no current password is asked, and every session and token of the member is
 * revoked in the same transaction.
 */
export async function resetPassword(
  deps: Deps,
  memberId: string,
  newPassword: string,
): Promise<Result<{ member: Member; revoked: number }, ResetPasswordProblem>> {
  const problem = checkPassword(newPassword);
  if (problem) return fail(problem);
  const newHash = await hashPassword(newPassword);
  return deps.stores.transaction(async (tx) => {
    const member = await tx.members.getById(memberId);
    if (!member) return fail("not_found");
    await tx.members.setPasswordHash(member.id, newHash);
    const revoked = await tx.tokens.revokeAllFor(member.id, deps.now());
    return ok({ member, revoked });
  });
}
