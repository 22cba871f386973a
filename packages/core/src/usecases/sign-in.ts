import { hashPassword, hashSecret, randomSecret, verifyPassword } from "../auth/secrets.ts";
import type { Deps } from "../deps.ts";
import type { Member } from "../domain/types.ts";
import { fail, ok, type Result } from "../errors.ts";
import { newId } from "../ids.ts";

/** Failed attempts allowed per username within `THROTTLE_WINDOW_MS`. */
export const MAX_FAILED_SIGN_INS = 5;
const THROTTLE_WINDOW_MS = 15 * 60 * 1000;

// Verifying against a real hash for unknown users keeps the timing the same,
// so response times do not reveal which usernames exist.
let dummyHash: Promise<string> | undefined;

/** Why `signIn` refused. Wrong username and wrong password are one reason on purpose. */
export type SignInProblem = "invalid_credentials" | "too_many_attempts" | "account_disabled";

/**
 * Checks a username and password and opens a session (or API token).
 * Throttled per username: after `MAX_FAILED_SIGN_INS` failures in 15 minutes,
 * further attempts are refused until the window passes.
 */
export async function signIn(
  deps: Deps,
  input: { username: string; password: string; ip: string; kind: "session" | "api"; name?: string },
): Promise<Result<{ member: Member; token: string }, SignInProblem>> {
  const key = input.username.trim().toLowerCase();
  const now = deps.now();
  const since = new Date(now.getTime() - THROTTLE_WINDOW_MS);
  const throttled = () =>
    fail("too_many_attempts", "Too many failed sign-ins. Try again in 15 minutes.");
  if ((await deps.stores.loginAttempts.countFailuresSince(key, since)) >= MAX_FAILED_SIGN_INS)
    return throttled();
  // Count this attempt as failed *before* checking the password, so that guesses
  // made in parallel count against each other; a right password clears it below.
  await deps.stores.loginAttempts.recordFailure(key, input.ip, now);
  if ((await deps.stores.loginAttempts.countFailuresSince(key, since)) > MAX_FAILED_SIGN_INS)
    return throttled();

  const member = await deps.stores.members.getByUsername(key);
  const hash = member ? await deps.stores.members.getPasswordHash(member.id) : null;
  dummyHash ??= hashPassword(randomSecret());
  const valid = await verifyPassword(hash ?? (await dummyHash), input.password);
  if (!member || !hash || !valid) return fail("invalid_credentials", "Wrong username or password.");
  await deps.stores.loginAttempts.clear(key);
  if (member.status !== "active") return fail("account_disabled", "This account is not active.");
  const token = await issueToken(deps, member, input.kind, input.name ?? "");
  return ok({ member, token });
}

/** Creates a session or API token for a member; returns the secret once. */
export async function issueToken(
  deps: Deps,
  member: Member,
  kind: "session" | "api",
  name: string,
): Promise<string> {
  const secret = randomSecret(32);
  await deps.stores.tokens.create({
    id: newId(),
    memberId: member.id,
    kind,
    name,
    tokenHash: hashSecret(secret),
    createdAt: deps.now(),
    lastUsedAt: null,
  });
  return secret;
}
