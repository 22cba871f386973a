import { hashSecret } from "../auth/secrets.ts";
import type { Deps } from "../deps.ts";
import type { AccessToken, Member } from "../domain/types.ts";

/**
 * Resolves a session cookie or bearer token to its member. Tokens of members
 * who are not active are refused even if revocation was somehow missed.
 */
export async function authenticate(
  deps: Deps,
  secret: string,
  kind: "session" | "api" | "any" = "any",
): Promise<{ member: Member; token: AccessToken } | null> {
  if (secret.length < 16 || secret.length > 200) return null;
  const found = await deps.stores.tokens.findActive(hashSecret(secret));
  if (!found) return null;
  if (kind !== "any" && found.token.kind !== kind) return null;
  if (found.member.status !== "active") return null;
  const now = deps.now();
  // Record use at most once a minute: a write per request would be wasteful.
  if (!found.token.lastUsedAt || now.getTime() - found.token.lastUsedAt.getTime() > 60_000) {
    await deps.stores.tokens.touch(found.token.id, now);
  }
  return found;
}

/** Ends one session or token (sign-out). */
export async function revokeToken(deps: Deps, secret: string): Promise<boolean> {
  const found = await deps.stores.tokens.findActive(hashSecret(secret));
  if (!found) return false;
  await deps.stores.tokens.revoke(found.token.id, deps.now());
  return true;
}
