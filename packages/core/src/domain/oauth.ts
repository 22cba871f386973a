/**
 * OAuth 2 as Mastodon speaks it: client apps, authorization codes, and the
 * scopes a token carries. Scopes are hierarchical (`read` covers
 * `read:statuses`; the deprecated `follow` covers the relationship scopes).
 */

/** The redirect URI that asks for the code to be shown instead of redirected to. */
export const OOB_REDIRECT_URI = "urn:ietf:wg:oauth:2.0:oob";

/** Every scope this server grants, as Mastodon lists them (docs: api/oauth-scopes). */
export const SCOPES = [
  "profile",
  "read",
  "read:accounts",
  "read:blocks",
  "read:bookmarks",
  "read:favourites",
  "read:filters",
  "read:follows",
  "read:lists",
  "read:mutes",
  "read:notifications",
  "read:search",
  "read:statuses",
  "write",
  "write:accounts",
  "write:blocks",
  "write:bookmarks",
  "write:conversations",
  "write:favourites",
  "write:filters",
  "write:follows",
  "write:lists",
  "write:media",
  "write:mutes",
  "write:notifications",
  "write:reports",
  "write:statuses",
  "follow",
  "push",
  "admin:read",
  "admin:read:accounts",
  "admin:read:reports",
  "admin:read:domain_allows",
  "admin:read:domain_blocks",
  "admin:read:ip_blocks",
  "admin:read:email_domain_blocks",
  "admin:read:canonical_email_blocks",
  "admin:write",
  "admin:write:accounts",
  "admin:write:reports",
  "admin:write:domain_allows",
  "admin:write:domain_blocks",
  "admin:write:ip_blocks",
  "admin:write:email_domain_blocks",
  "admin:write:canonical_email_blocks",
  // Clique's own: end-to-end encrypted chats (issue 15). Neither `read` nor `write` covers it,
  // so an app a member authorised for posts cannot register a chat device of its own.
  "clique:chats",
] as const;

/** One scope. */
export type Scope = (typeof SCOPES)[number];

/** Everything a member can grant an app (what Mastodon calls full access). */
export const FULL_SCOPES: readonly Scope[] = ["read", "write", "follow", "push"];

/**
 * What a personal token (`clique token create`, `POST /api/v1/clique/tokens`)
 * may do unless made with fewer: as much as a session, so the admin scopes
 * too (the member's role still decides what they may do there).
 */
export const PERSONAL_TOKEN_SCOPES: readonly Scope[] = [
  "read",
  "write",
  "follow",
  "push",
  "admin:read",
  "admin:write",
  "clique:chats",
];

/** The scope of an app or authorization that asked for none (Mastodon's default). */
export const DEFAULT_SCOPES: readonly Scope[] = ["read"];

/** The relationship scopes the deprecated `follow` scope covers. */
const FOLLOW_CHILDREN = new Set([
  "read:follows",
  "write:follows",
  "read:blocks",
  "write:blocks",
  "read:mutes",
  "write:mutes",
]);

const KNOWN = new Set<string>(SCOPES);

/** Whether a string is a scope this server knows. */
export function isScope(value: string): value is Scope {
  return KNOWN.has(value);
}

/**
 * Reads a space-separated scope list (`+` counts as a space, as in query
 * strings); `null` if any scope is unknown. Duplicates are dropped, order kept.
 * An empty list gives `fallback`.
 */
export function parseScopes(
  text: string | readonly string[] | null | undefined,
  fallback: readonly Scope[] = DEFAULT_SCOPES,
): Scope[] | null {
  const words = (Array.isArray(text) ? text.join(" ") : ((text as string | null) ?? ""))
    .split(/[\s+]+/)
    .filter((w) => w.length > 0);
  if (words.length === 0) return [...fallback];
  const out: Scope[] = [];
  for (const word of words) {
    if (!isScope(word)) return null;
    if (!out.includes(word)) out.push(word);
  }
  return out;
}

/**
 * Whether holding `granted` allows what `required` names: the scope itself,
 * or its parent (`read` for `read:statuses`, `admin:read` for
 * `admin:read:accounts`, `follow` for the relationship scopes).
 */
export function scopeCovers(granted: readonly string[], required: string): boolean {
  if (granted.includes(required)) return true;
  if (FOLLOW_CHILDREN.has(required) && granted.includes("follow")) return true;
  const parts = required.split(":");
  // admin:read:accounts → admin:read; read:statuses → read.
  for (let n = parts.length - 1; n >= 1; n--) {
    if (granted.includes(parts.slice(0, n).join(":"))) return true;
  }
  return false;
}

/** Whether every scope of `requested` is covered by `allowed` (an authorization within an app's registration). */
export function scopesWithin(allowed: readonly string[], requested: readonly string[]): boolean {
  return requested.every((s) => scopeCovers(allowed, s));
}

/** A client app registered through `POST /api/v1/apps`. */
export interface OAuthApp {
  id: string;
  /** Public identifier the app presents. */
  clientId: string;
  name: string;
  website: string | null;
  /** Where the member may be sent back to (exact match), possibly `OOB_REDIRECT_URI`. */
  redirectUris: readonly string[];
  /** The most the app may ask for. */
  scopes: readonly Scope[];
  createdAt: Date;
}

/** A code handed to an app after a member's consent; stored hashed, used once. */
export interface AuthorizationCode {
  id: string;
  appId: string;
  memberId: string;
  redirectUri: string;
  scopes: readonly Scope[];
  /** PKCE (RFC 7636): the challenge the app sent, and its method (only `S256` is accepted). */
  codeChallenge: string | null;
  codeChallengeMethod: "S256" | null;
  expiresAt: Date;
  createdAt: Date;
}

/** A token an app holds for itself (client_credentials grant): no member behind it. */
export interface AppToken {
  id: string;
  appId: string;
  scopes: readonly Scope[];
  createdAt: Date;
  lastUsedAt: Date | null;
}

/** An app a member has authorised, as the member sees it. */
export interface AuthorizedApp {
  app: OAuthApp;
  /** Every scope of the member's live tokens for this app. */
  scopes: readonly Scope[];
  /** When the first live token was issued. */
  createdAt: Date;
  lastUsedAt: Date | null;
}
