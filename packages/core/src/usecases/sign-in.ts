import { hashPassword, hashSecret, randomSecret, verifyPassword } from "../auth/secrets.ts";
import { countAttempt, forgetFailures, usernameKey } from "../auth/sign-in-throttle.ts";
import type { Deps } from "../deps.ts";
import type { Member } from "../domain/types.ts";
import { fail, ok, type Result } from "../errors.ts";
import { newId } from "../ids.ts";

export {
  MAX_FAILED_SIGN_INS,
  MAX_FAILED_SIGN_INS_PER_ADDRESS,
  MAX_FAILED_SIGN_INS_PER_USERNAME,
} from "../auth/sign-in-throttle.ts";

// Verifying against a real hash for unknown users keeps the timing the same,
// so response times do not reveal which usernames exist.
let dummyHash: Promise<string> | undefined;

/** Why `signIn` refused. Wrong username and wrong password are one reason on purpose. */
export type SignInProblem = "invalid_credentials" | "too_many_attempts" | "account_disabled";

/** Refusal for a password check that the throttle stopped. */
export function throttled() {
  return fail("too_many_attempts", "Too many failed sign-ins. Try again in 15 minutes.");
}

/**
 * Checks a username and password and opens a session (or API token).
 * Throttled per username and client address (`ip`), per client address, and,
 * with a much higher ceiling, per username (see `sign-in-throttle.ts`):
 * guessing from one address does not lock the member out elsewhere.
 */
export async function signIn(
  deps: Deps,
  input: { username: string; password: string; ip: string; kind: "session" | "api"; name?: string },
): Promise<Result<{ member: Member; token: string }, SignInProblem>> {
  const key = usernameKey(input.username);
  if (!(await countAttempt(deps, key, input.ip))) return throttled();

  const member = await deps.stores.members.getByUsername(key);
  const hash = member ? await deps.stores.members.getPasswordHash(member.id) : null;
  const valid = await verifyPassword(hash ?? (await dummyPasswordHash()), input.password);
  if (!member || !hash || !valid) return fail("invalid_credentials", "Wrong username or password.");
  await forgetFailures(deps, key, input.ip);
  if (member.status !== "active") return fail("account_disabled", "This account is not active.");
  const token = await issueToken(deps, member, input.kind, input.name ?? "");
  return ok({ member, token });
}

/** A hash no password matches, to verify against when there is no real one (same cost). */
function dummyPasswordHash(): Promise<string> {
  dummyHash ??= hashPassword(randomSecret());
  return dummyHash;
}

/**
 * Creates a session or API token for a member; returns the secret once.
 * `scopes` (OAuth, issue 11) narrows what it may do (default: everything, `read write follow push`).
 */
export async function issueToken(
  deps: Deps,
  member: Member,
  kind: "session" | "api",
  name: string,
  scopes?: readonly string[],
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
    ...(scopes ? { scopes } : {}),
  });
  return secret;
}
