/**
 * Signing in with an identity at an OpenID Connect provider, and a member's
 * linked identities. The server proves the identity (it talks to the
 * provider); these use cases only decide what a proven identity may do.
 */
import { randomSecret } from "../auth/secrets.ts";
import type { Deps } from "../deps.ts";
import type { OidcIdentity, VerifiedIdentity } from "../domain/oidc.ts";
import type { Member } from "../domain/types.ts";
import { fail, ok, type Result } from "../errors.ts";
import { isId, newId } from "../ids.ts";
import { issueToken } from "./sign-in.ts";

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

/** A member unlinks one of their identities; `not_found` if they hold none with this id. */
export async function unlinkIdentity(
  deps: Deps,
  member: Member,
  id: string,
): Promise<Result<void, "not_found">> {
  if (!isId(id)) return fail("not_found");
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
