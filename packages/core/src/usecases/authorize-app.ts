import { hashSecret, randomSecret } from "../auth/secrets.ts";
import type { Deps } from "../deps.ts";
import type { AppToken, AuthorizationCode, OAuthApp, Scope } from "../domain/oauth.ts";
import type { AccessToken, Member } from "../domain/types.ts";
import { newId } from "../ids.ts";
import { authenticate } from "./authenticate.ts";

/** How long an authorization code lives: long enough for an app to exchange it, no longer. */
export const AUTHORIZATION_CODE_TTL_MS = 10 * 60_000;

/** What a member's consent gives an app. */
export interface AuthorizationGrant {
  app: OAuthApp;
  redirectUri: string;
  scopes: readonly Scope[];
  codeChallenge: string | null;
  codeChallengeMethod: "S256" | null;
}

/**
 * Records a member's consent as an authorization code for the app; returns the
 * code (kept only hashed). The caller has checked the redirect URI and the
 * scopes against the app's registration.
 */
export async function grantAuthorizationCode(
  deps: Deps,
  member: Member,
  grant: AuthorizationGrant,
): Promise<{ code: string; expiresAt: Date }> {
  const code = randomSecret(32);
  const now = deps.now();
  const expiresAt = new Date(now.getTime() + AUTHORIZATION_CODE_TTL_MS);
  await deps.stores.oauth.createCode({
    id: newId(),
    codeHash: hashSecret(code),
    appId: grant.app.id,
    memberId: member.id,
    redirectUri: grant.redirectUri,
    scopes: grant.scopes,
    codeChallenge: grant.codeChallenge,
    codeChallengeMethod: grant.codeChallengeMethod,
    expiresAt,
    createdAt: now,
  });
  // Codes long expired (used or not) are of no more use: cleared as new ones are made.
  await deps.stores.oauth.deleteExpiredCodes(new Date(now.getTime() - 24 * 60 * 60_000));
  return { code, expiresAt };
}

/**
 * The unused, unexpired code with this value, with its app and its member if
 * the member is still active; `null` otherwise.
 */
export async function findAuthorizationCode(
  deps: Deps,
  code: string,
): Promise<{ code: AuthorizationCode; app: OAuthApp; member: Member } | null> {
  if (code.length < 16 || code.length > 200) return null;
  const found = await deps.stores.oauth.findCode(hashSecret(code), deps.now());
  if (!found) return null;
  const member = await deps.stores.members.getById(found.memberId);
  if (member?.status !== "active") return null;
  const app = await deps.stores.oauth.getApp(found.appId);
  if (!app) return null;
  return { code: found, app, member };
}

/** Uses a code up; false when another redemption already did (a code works once). */
export function useAuthorizationCode(deps: Deps, codeId: string): Promise<boolean> {
  return deps.stores.oauth.useCode(codeId, deps.now());
}

/**
 * Issues a token to an app: for a member (authorization_code) or, with
 * `member: null`, for the app itself (client_credentials). Mastodon's tokens
 * do not expire; they last until revoked.
 */
export async function issueAppToken(
  deps: Deps,
  input: { app: OAuthApp; member: Member | null; scopes: readonly Scope[] },
): Promise<{ token: string; id: string; createdAt: Date }> {
  const secret = randomSecret(32);
  const id = newId();
  const createdAt = deps.now();
  if (input.member) {
    await deps.stores.tokens.create({
      id,
      memberId: input.member.id,
      kind: "api",
      name: input.app.name,
      tokenHash: hashSecret(secret),
      createdAt,
      lastUsedAt: null,
      appId: input.app.id,
      scopes: input.scopes,
    });
  } else {
    await deps.stores.oauth.createAppToken({
      id,
      appId: input.app.id,
      tokenHash: hashSecret(secret),
      scopes: input.scopes,
      createdAt,
      lastUsedAt: null,
    });
  }
  return { token: secret, id, createdAt };
}

/** Who a bearer token speaks for: a member (through an app or a personal token), or an app alone. */
export type BearerIdentity =
  | { kind: "member"; member: Member; token: AccessToken; app: OAuthApp | null }
  | { kind: "app"; app: OAuthApp; token: AppToken };

/**
 * Resolves a bearer token: a member's API token (with the app it was issued
 * to, if any), or an app's own token. Revoked tokens fail at once: nothing is
 * cached.
 */
export async function authenticateBearer(
  deps: Deps,
  secret: string,
): Promise<BearerIdentity | null> {
  if (secret.length < 16 || secret.length > 200) return null;
  const found = await authenticate(deps, secret, "api");
  if (found) {
    const app = found.token.appId ? await deps.stores.oauth.getApp(found.token.appId) : null;
    return { kind: "member", member: found.member, token: found.token, app };
  }
  const appToken = await deps.stores.oauth.findActiveAppToken(hashSecret(secret));
  if (!appToken) return null;
  const now = deps.now();
  if (!appToken.token.lastUsedAt || now.getTime() - appToken.token.lastUsedAt.getTime() > 60_000) {
    await deps.stores.oauth.touchAppToken(appToken.token.id, now);
  }
  return { kind: "app", app: appToken.app, token: appToken.token };
}

/**
 * Revokes a token on behalf of the app it was issued to (RFC 7009). A token
 * that does not exist counts as revoked; one issued to another app (or made
 * by a member by hand) is not the app's to revoke.
 */
export async function revokeAppToken(
  deps: Deps,
  app: OAuthApp,
  secret: string,
): Promise<"revoked" | "not_owner"> {
  if (secret.length < 16 || secret.length > 200) return "revoked";
  const hash = hashSecret(secret);
  const now = deps.now();
  const memberToken = await deps.stores.tokens.findActive(hash);
  if (memberToken) {
    if (memberToken.token.appId !== app.id) return "not_owner";
    await deps.stores.tokens.revoke(memberToken.token.id, now);
    return "revoked";
  }
  const appToken = await deps.stores.oauth.findActiveAppToken(hash);
  if (appToken) {
    if (appToken.app.id !== app.id) return "not_owner";
    await deps.stores.oauth.revokeAppToken(appToken.token.id, now);
  }
  return "revoked";
}
