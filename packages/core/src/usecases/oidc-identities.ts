/**
 * Signing in with an identity at an OpenID Connect provider, and a member's
 * linked identities. The server proves the identity (it talks to the
 * provider); these use cases only decide what a proven identity may do.
 */
import { randomSecret, verifyPassword } from "../auth/secrets.ts";
import { countAttempt, forgetFailures, usernameKey } from "../auth/sign-in-throttle.ts";
import type { Deps } from "../deps.ts";
import type { OidcIdentity, VerifiedIdentity } from "../domain/oidc.ts";
import type { Member } from "../domain/types.ts";
import { fail, ok, type Result } from "../errors.ts";
import { isId, newId } from "../ids.ts";
import { issueToken, throttled } from "./sign-in.ts";

/** Why `signInWithIdentity` refused. */
export type OidcSignInProblem = "unknown_identity" | "account_disabled";

/**
 * Opens a session for the member holding a proven identity. Suspended and
 * removed members are refused, as they are at the password sign-in.
 */
export async function signInWithIdentity(
  deps: Deps,
  identity: Pick<VerifiedIdentity, "issuer" | "subject">,
  /** What the session is called in the member's list of sessions (their browser). */
  name = "",
): Promise<Result<{ member: Member; token: string }, OidcSignInProblem>> {
  const found = await deps.stores.oidcIdentities.find(identity.issuer, identity.subject);
  if (!found) return fail("unknown_identity", "No member has linked this identity.");
  const member = await deps.stores.members.getById(found.memberId);
  if (member?.status !== "active") return fail("account_disabled", "This account is not active.");
  const token = await issueToken(deps, member, "session", name);
  return ok({ member, token });
}

/**
 * Links a proven identity to a member. Linking the same identity again is a
 * no-op; an identity another member holds is `identity_taken`.
 */
export async function linkIdentity(
  deps: Deps,
  member: Member,
  identity: VerifiedIdentity,
): Promise<Result<OidcIdentity, "identity_taken">> {
  const existing = await deps.stores.oidcIdentities.find(identity.issuer, identity.subject);
  if (existing) {
    return existing.memberId === member.id
      ? ok(existing)
      : fail("identity_taken", "This identity is linked to another member.");
  }
  const linked: OidcIdentity = {
    id: newId(),
    memberId: member.id,
    issuer: identity.issuer,
    subject: identity.subject,
    email: identity.email,
    createdAt: deps.now(),
  };
  // A concurrent link of the same identity loses here rather than at the check above.
  if (!(await deps.stores.oidcIdentities.create(linked)))
    return fail("identity_taken", "This identity is linked to another member.");
  return ok(linked);
}

/** A member's linked identities, oldest first. */
export function listIdentities(deps: Deps, member: Member): Promise<OidcIdentity[]> {
  return deps.stores.oidcIdentities.listFor(member.id);
}

/** Why `unlinkIdentity` refused. */
export type UnlinkIdentityProblem = "not_found" | "last_identity" | "too_many_attempts";

/**
 * A member unlinks one of their identities; `not_found` if they hold none with
 * this id. The last one goes only with the member's password, so nobody
 * unlinks their way out of their own account: a member who joined with an
 * identity has no password they know, and must link another identity first
 * (or have the owner set a password). A wrong password counts as a failed
 * sign-in, under the same throttle.
 */
export async function unlinkIdentity(
  deps: Deps,
  member: Member,
  id: string,
  proof: { password?: string | undefined; ip: string } = { ip: "" },
): Promise<Result<void, UnlinkIdentityProblem>> {
  if (!isId(id)) return fail("not_found");
  const held = await deps.stores.oidcIdentities.listFor(member.id);
  if (!held.some((identity) => identity.id === id)) return fail("not_found");
  if (held.length === 1) {
    const refused = () =>
      fail(
        "last_identity" as const,
        "This is your last linked account: give your password to unlink it, or link another one first.",
      );
    if (proof.password === undefined || proof.password === "") return refused();
    const key = usernameKey(member.username);
    if (!(await countAttempt(deps, key, proof.ip))) return throttled();
    const hash = await deps.stores.members.getPasswordHash(member.id);
    if (!hash || !(await verifyPassword(hash, proof.password))) return refused();
    await forgetFailures(deps, key, proof.ip);
  }
  if (!(await deps.stores.oidcIdentities.delete(member.id, id))) return fail("not_found");
  return ok(undefined);
}

/**
 * The server's secret for signing the short-lived state of a sign-in in
 * progress (kept in the browser between the redirect and the return), made
 * once and kept.
 */
export function oidcStateSecret(deps: Deps): Promise<string> {
  return deps.stores.secrets.getOrCreate("oidc-state", () => randomSecret(32));
}
