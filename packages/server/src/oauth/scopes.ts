/**
 * Which OAuth scope each route needs, as Mastodon documents it
 * (docs.joinmastodon.org/api/oauth-scopes and each method's page), and the
 * middleware that holds bearer tokens to it. A session cookie has every
 * scope; anonymous requests are the handlers' business (they answer 401
 * where a member is needed).
 *
 * Entries name a method and a path as `routes.ts` does (`:param` for one
 * segment); a path ending in `/*` covers everything below it, so that routes
 * being added are mapped before they land. The most specific entry wins.
 * `scopes.test.ts` checks that every route of `API_ROUTES` has an entry.
 */
import { CliqueError, scopeCovers } from "@clique/core";
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../http/env.ts";

/** No scope: public, or authenticated in its own way (sign-in, OAuth itself). */
export const NONE = null;

/** What a route needs: one scope, any of several, or none. */
export type RouteScope = string | readonly string[] | null;

type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

/** One entry of the table. */
export interface ScopeEntry {
  method: Method;
  path: string;
  scope: RouteScope;
}

const R = (method: Method, path: string, scope: RouteScope): ScopeEntry => ({
  method,
  path,
  scope,
});

/** Read with `read`, write with `write`-side scope: the same path prefix, both ways. */
const both = (path: string, read: RouteScope, write: RouteScope): ScopeEntry[] => [
  R("GET", path, read),
  R("POST", path, write),
  R("PUT", path, write),
  R("PATCH", path, write),
  R("DELETE", path, write),
];

/** The table. Order does not matter; specificity does. */
export const ROUTE_SCOPES: readonly ScopeEntry[] = [
  // --- Pages, files and health: public ---
  R("GET", "/", NONE),
  R("GET", "/health", NONE),
  R("GET", "/invite/:code", NONE),
  // The web interface's pages (issue 12): each reads through the API as the visitor,
  // where a token's scopes bound what it gets.
  ...[
    "/_next/*",
    "/icon.svg",
    "/setup",
    "/signin",
    "/home",
    "/clique",
    "/compose",
    "/notifications",
  ].map((p) => R("GET", p, NONE)),
  ...["/circles", "/people", "/members", "/moderation", "/settings"].map((p) => R("GET", p, NONE)),
  ...["/chats", "/chats/devices", "/chats/safety/:id", "/chats/:id"].map((p) => R("GET", p, NONE)),
  R("GET", "/static/*", NONE),
  R("GET", "/avatars/:file", NONE),
  R("GET", "/media/:file", NONE),
  R("GET", "/media/proxy/:file", NONE),
  // Profile and status pages, remote follow (links that resolve, issue 11).
  R("GET", "/:username{@[A-Za-z0-9_]+}", NONE),
  R("GET", "/:username{@[A-Za-z0-9_]+}/*", NONE),
  R("GET", "/authorize_interaction", NONE),
  R("GET", "/tags/:hashtag", NONE),
  R("GET", "/share", NONE),

  // --- OAuth itself ---
  R("POST", "/api/v1/apps", NONE),
  // Any valid token, the app's own or a member's (Mastodon 4.3).
  R("GET", "/api/v1/apps/verify_credentials", NONE),
  R("GET", "/oauth/authorize", NONE),
  R("POST", "/oauth/authorize", NONE),
  R("POST", "/oauth/token", NONE),
  R("POST", "/oauth/revoke", NONE),
  R("GET", "/.well-known/oauth-authorization-server", NONE),
  R("GET", "/.well-known/clique-security", NONE),
  R("GET", "/.well-known/clique-web-bundle", NONE),

  // --- The server, public information ---
  R("GET", "/api/v1/instance", NONE),
  R("GET", "/api/v1/instance/*", NONE),
  R("GET", "/api/v2/instance", NONE),
  R("GET", "/api/v1/custom_emojis", NONE),
  R("GET", "/api/v1/trends/*", NONE),
  R("GET", "/api/v1/trends", NONE),
  R("GET", "/api/v1/directory", NONE),
  R("GET", "/api/v1/streaming/health", NONE),
  R("GET", "/api/v1/clique", NONE),

  // --- Media ---
  R("POST", "/api/v1/media", "write:media"),
  R("POST", "/api/v2/media", "write:media"),
  R("GET", "/api/v1/media/:id", "write:media"),
  R("PUT", "/api/v1/media/:id", "write:media"),

  // --- Search ---
  R("GET", "/api/v2/search", "read:search"),
  R("GET", "/api/v1/accounts/search", "read:accounts"),

  // --- Accounts ---
  R("GET", "/api/v1/accounts/verify_credentials", ["read:accounts", "profile"]),
  R("PATCH", "/api/v1/accounts/update_credentials", "write:accounts"),
  R("DELETE", "/api/v1/profile/avatar", "write:accounts"),
  R("DELETE", "/api/v1/profile/header", "write:accounts"),
  R("GET", "/api/v1/accounts/lookup", "read:accounts"),
  R("GET", "/api/v1/accounts/relationships", "read:follows"),
  R("GET", "/api/v1/accounts/familiar_followers", "read:follows"),
  R("GET", "/api/v1/accounts/:id", "read:accounts"),
  R("GET", "/api/v1/accounts", "read:accounts"),
  R("GET", "/api/v1/accounts/:id/statuses", "read:statuses"),
  R("GET", "/api/v1/accounts/:id/followers", "read:accounts"),
  R("GET", "/api/v1/accounts/:id/following", "read:accounts"),
  R("GET", "/api/v1/accounts/:id/featured_tags", "read:accounts"),
  R("GET", "/api/v1/accounts/:id/lists", "read:lists"),
  R("POST", "/api/v1/accounts/:id/follow", "write:follows"),
  R("POST", "/api/v1/accounts/:id/unfollow", "write:follows"),
  R("POST", "/api/v1/accounts/:id/remove_from_followers", "write:follows"),
  R("POST", "/api/v1/accounts/:id/block", "write:blocks"),
  R("POST", "/api/v1/accounts/:id/unblock", "write:blocks"),
  R("POST", "/api/v1/accounts/:id/mute", "write:mutes"),
  R("POST", "/api/v1/accounts/:id/unmute", "write:mutes"),
  R("POST", "/api/v1/accounts/:id/pin", "write:accounts"),
  R("POST", "/api/v1/accounts/:id/unpin", "write:accounts"),
  R("POST", "/api/v1/accounts/:id/note", "write:accounts"),
  R("GET", "/api/v1/preferences", "read:accounts"),
  R("GET", "/api/v1/endorsements", "read:accounts"),
  R("GET", "/api/v1/featured_tags", "read:accounts"),
  ...both("/api/v1/featured_tags/*", "read:accounts", "write:accounts"),
  R("POST", "/api/v1/featured_tags", "write:accounts"),

  // --- Relationships (the deprecated `follow` covers these) ---
  R("GET", "/api/v1/blocks", "read:blocks"),
  R("GET", "/api/v1/mutes", "read:mutes"),
  ...both("/api/v1/domain_blocks", "read:blocks", "write:blocks"),
  R("GET", "/api/v1/follow_requests", "read:follows"),
  R("POST", "/api/v1/follow_requests/:id/authorize", "write:follows"),
  R("POST", "/api/v1/follow_requests/:id/reject", "write:follows"),
  R("GET", "/api/v1/followed_tags", "read:follows"),
  R("GET", "/api/v1/tags/:id", "read:statuses"),
  R("POST", "/api/v1/tags/:id/follow", "write:follows"),
  R("POST", "/api/v1/tags/:id/unfollow", "write:follows"),
  R("GET", "/api/v1/suggestions", "read"),
  R("GET", "/api/v2/suggestions", "read"),
  R("DELETE", "/api/v1/suggestions/:id", "read"),

  // --- Statuses ---
  R("POST", "/api/v1/statuses", "write:statuses"),
  R("GET", "/api/v1/statuses", "read:statuses"),
  R("GET", "/api/v1/statuses/:id", "read:statuses"),
  R("PUT", "/api/v1/statuses/:id", "write:statuses"),
  R("DELETE", "/api/v1/statuses/:id", "write:statuses"),
  R("GET", "/api/v1/statuses/:id/context", "read:statuses"),
  R("GET", "/api/v1/statuses/:id/history", "read:statuses"),
  R("GET", "/api/v1/statuses/:id/source", "read:statuses"),
  R("GET", "/api/v1/statuses/:id/card", "read:statuses"),
  R("POST", "/api/v1/statuses/:id/translate", "read:statuses"),
  R("POST", "/api/v1/statuses/:id/favourite", "write:favourites"),
  R("POST", "/api/v1/statuses/:id/unfavourite", "write:favourites"),
  R("POST", "/api/v1/statuses/:id/reblog", "write:statuses"),
  R("POST", "/api/v1/statuses/:id/unreblog", "write:statuses"),
  R("POST", "/api/v1/statuses/:id/bookmark", "write:bookmarks"),
  R("POST", "/api/v1/statuses/:id/unbookmark", "write:bookmarks"),
  R("POST", "/api/v1/statuses/:id/pin", "write:accounts"),
  R("POST", "/api/v1/statuses/:id/unpin", "write:accounts"),
  R("POST", "/api/v1/statuses/:id/mute", "write:mutes"),
  R("POST", "/api/v1/statuses/:id/unmute", "write:mutes"),
  R("GET", "/api/v1/statuses/:id/favourited_by", "read:accounts"),
  R("GET", "/api/v1/statuses/:id/reblogged_by", "read:accounts"),
  ...both("/api/v1/polls/*", "read:statuses", "write:statuses"),
  ...both("/api/v1/scheduled_statuses", "read:statuses", "write:statuses"),
  ...both("/api/v1/scheduled_statuses/*", "read:statuses", "write:statuses"),

  // --- Timelines, markers, conversations ---
  R("GET", "/api/v1/timelines/home", "read:statuses"),
  R("GET", "/api/v1/timelines/public", "read:statuses"),
  R("GET", "/api/v1/timelines/tag/:hashtag", "read:statuses"),
  R("GET", "/api/v1/timelines/link", "read:statuses"),
  R("GET", "/api/v1/timelines/list/:id", "read:lists"),
  R("GET", "/api/v1/timelines/direct", "read:statuses"),
  R("GET", "/api/v1/markers", "read:statuses"),
  R("POST", "/api/v1/markers", "write:statuses"),
  R("GET", "/api/v1/conversations", "read:statuses"),
  R("DELETE", "/api/v1/conversations/:id", "write:conversations"),
  R("POST", "/api/v1/conversations/:id/read", "write:conversations"),
  R("POST", "/api/v1/conversations/:id/unread", "write:conversations"),
  // The streaming API: the `user` stream reads statuses (notification streams need
  // read:notifications too: the streaming module checks those per stream).
  R("GET", "/api/v1/streaming", "read:statuses"),
  R("GET", "/api/v1/streaming/*", "read:statuses"),

  // --- Notifications ---
  R("GET", "/api/v1/notifications", "read:notifications"),
  R("GET", "/api/v1/notifications/:id", "read:notifications"),
  R("GET", "/api/v1/notifications/unread_count", "read:notifications"),
  R("POST", "/api/v1/notifications/clear", "write:notifications"),
  R("POST", "/api/v1/notifications/dismiss", "write:notifications"),
  R("POST", "/api/v1/notifications/:id/dismiss", "write:notifications"),
  ...both("/api/v1/notifications/policy", "read:notifications", "write:notifications"),
  ...both("/api/v2/notifications/policy", "read:notifications", "write:notifications"),
  ...both("/api/v1/notifications/requests", "read:notifications", "write:notifications"),
  ...both("/api/v1/notifications/requests/*", "read:notifications", "write:notifications"),
  ...both("/api/v2/notifications", "read:notifications", "write:notifications"),
  ...both("/api/v2/notifications/*", "read:notifications", "write:notifications"),
  ...both("/api/v1/push/subscription", "push", "push"),

  // --- Bookmarks, favourites ---
  R("GET", "/api/v1/bookmarks", "read:bookmarks"),
  R("GET", "/api/v1/favourites", "read:favourites"),

  // --- Filters, lists ---
  ...both("/api/v1/filters", "read:filters", "write:filters"),
  ...both("/api/v1/filters/*", "read:filters", "write:filters"),
  ...both("/api/v2/filters", "read:filters", "write:filters"),
  ...both("/api/v2/filters/*", "read:filters", "write:filters"),
  ...both("/api/v1/lists", "read:lists", "write:lists"),
  ...both("/api/v1/lists/*", "read:lists", "write:lists"),

  // --- Announcements (Mastodon: `read` to list; dismissing writes the account, reacting favourites) ---
  R("GET", "/api/v1/announcements", "read"),
  R("POST", "/api/v1/announcements/:id/dismiss", "write:accounts"),
  R("PUT", "/api/v1/announcements/:id/reactions/:name", "write:favourites"),
  R("DELETE", "/api/v1/announcements/:id/reactions/:name", "write:favourites"),

  // --- Reports ---
  R("POST", "/api/v1/reports", "write:reports"),

  // --- Mastodon's admin API ---
  ...both("/api/v1/admin/accounts", "admin:read:accounts", "admin:write:accounts"),
  ...both("/api/v1/admin/accounts/*", "admin:read:accounts", "admin:write:accounts"),
  ...both("/api/v1/admin/reports", "admin:read:reports", "admin:write:reports"),
  ...both("/api/v1/admin/reports/*", "admin:read:reports", "admin:write:reports"),
  ...both("/api/v1/admin/domain_blocks", "admin:read:domain_blocks", "admin:write:domain_blocks"),
  ...both("/api/v1/admin/domain_blocks/*", "admin:read:domain_blocks", "admin:write:domain_blocks"),
  ...both("/api/v1/admin/*", "admin:read", "admin:write"),

  // --- Clique's own API ---
  // The Clique's settings are the owner's: administration.
  R("PATCH", "/api/v1/clique", "admin:write"),
  R("PATCH", "/api/v1/clique/profile", "write:accounts"),
  // The member's own posts, photos and profile, and their profile as others see it.
  R("GET", "/api/v1/clique/export", ["read", "read:accounts"]),
  R("GET", "/api/v1/clique/profile/preview", ["read", "read:accounts"]),
  // Signing in and out: the session, not a token's grant.
  R("POST", "/api/v1/clique/sessions", NONE),
  R("DELETE", "/api/v1/clique/sessions/current", NONE),
  // The settings screen: one's own browser sessions.
  R("GET", "/api/v1/clique/sessions", "read:accounts"),
  R("DELETE", "/api/v1/clique/sessions/:id", "write:accounts"),
  // First-run setup from the web, and an invite's landing page: public.
  R("GET", "/api/v1/clique/setup", NONE),
  R("POST", "/api/v1/clique/setup", NONE),
  R("GET", "/api/v1/clique/invites/preview", NONE),
  // Single sign-on (OpenID Connect): the button's settings and the redirects are public;
  // linked identities are the member's account settings.
  R("GET", "/api/v1/clique/oidc", NONE),
  R("GET", "/auth/oidc/start", NONE),
  R("GET", "/auth/oidc/callback", NONE),
  R("GET", "/api/v1/clique/oidc/identities", "read:accounts"),
  R("DELETE", "/api/v1/clique/oidc/identities/:id", "write:accounts"),
  // Personal tokens (never more than the caller holds: checked by the handler) and the password.
  R("POST", "/api/v1/clique/tokens", "write:accounts"),
  R("POST", "/api/v1/clique/password", "write:accounts"),
  // A member's authorised apps.
  R("GET", "/api/v1/clique/apps", "read:accounts"),
  R("DELETE", "/api/v1/clique/apps/:id", "write:accounts"),
  // Invites have no granular Mastodon scope: the broad ones.
  R("GET", "/api/v1/clique/invites", "read"),
  R("POST", "/api/v1/clique/invites", "write"),
  R("DELETE", "/api/v1/clique/invites/:id", "write"),
  R("POST", "/api/v1/clique/invites/redeem", NONE),
  R("GET", "/api/v1/clique/members", "read:accounts"),
  R("PATCH", "/api/v1/clique/members/:id", "admin:write:accounts"),
  // Circles are Clique's lists.
  ...both("/api/v1/clique/circles", "read:lists", "write:lists"),
  ...both("/api/v1/clique/circles/:id", "read:lists", "write:lists"),
  R("POST", "/api/v1/clique/leave", "write:accounts"),
  // Moderation of posts has no granular admin scope; of members, the accounts one.
  R("POST", "/api/v1/clique/moderation/posts/:id/remove", "admin:write"),
  R("POST", "/api/v1/clique/moderation/posts/:id/hide", "admin:write"),
  R("POST", "/api/v1/clique/moderation/posts/:id/unhide", "admin:write"),
  R("POST", "/api/v1/clique/moderation/members/:id/*", "admin:write:accounts"),
  R("GET", "/api/v1/clique/moderation/audit", "admin:read"),
  ...both("/api/v1/clique/reports", "admin:read:reports", "admin:write:reports"),
  ...both("/api/v1/clique/reports/*", "admin:read:reports", "admin:write:reports"),
  ...both("/api/v1/clique/domains", "admin:read:domain_blocks", "admin:write:domain_blocks"),
  ...both(
    "/api/v1/clique/moderation/remote_accounts",
    "admin:read:accounts",
    "admin:write:accounts",
  ),
  ...both(
    "/api/v1/clique/moderation/remote_accounts/*",
    "admin:read:accounts",
    "admin:write:accounts",
  ),
  // End-to-end encrypted chats (issue 15): a scope of their own, which `read` and `write` do not
  // cover — a device registered by an app would sit in every chat started afterwards.
  ...both("/api/v1/e2ee/*", "clique:chats", "clique:chats"),
  // The Clique's announcements: members read them, admins write them.
  ...both("/api/v1/clique/announcements", "read", "admin:write"),
  ...both("/api/v1/clique/announcements/*", "read", "admin:write"),
];

interface Compiled {
  entry: ScopeEntry;
  pattern: RegExp;
  /** Literal segments, then parameters: more of either is more specific. */
  rank: number;
}

function compile(entry: ScopeEntry): Compiled {
  const wildcard = entry.path.endsWith("/*");
  const base = wildcard ? entry.path.slice(0, -2) : entry.path;
  const segments = base.split("/").slice(1);
  let literal = 0;
  let params = 0;
  const source = segments
    .map((segment) => {
      if (segment.includes(":")) params++;
      else literal++;
      // `:name` is one segment; Hono's `:name{regex}` is what the regex matches.
      return segment
        .split(/(:[A-Za-z_]+(?:\{[^}]*\})?)/)
        .map((part) => {
          if (!part.startsWith(":")) return part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
          const custom = /\{([^}]*)\}$/.exec(part);
          return custom ? `(?:${custom[1]})` : "[^/]+";
        })
        .join("");
    })
    .join("/");
  const pattern = new RegExp(`^/${source}${wildcard ? "(?:/.*)?" : "/?"}$`);
  return { entry, pattern, rank: literal * 1000 + params * 10 + (wildcard ? 0 : 5) };
}

const COMPILED = ROUTE_SCOPES.map(compile);

/** The table's entry for a request, or `undefined` when no entry matches. */
export function findScopeEntry(method: string, path: string): ScopeEntry | undefined {
  const m = method === "HEAD" ? "GET" : method;
  let best: Compiled | undefined;
  for (const c of COMPILED) {
    if (c.entry.method !== m || !c.pattern.test(path)) continue;
    if (!best || c.rank > best.rank) best = c;
  }
  return best?.entry;
}

/**
 * The scope a request needs. A route the table does not know (none should
 * be: the test checks) needs the broad scope of its kind, `read` or `write`.
 */
export function requiredScope(method: string, path: string): RouteScope {
  const entry = findScopeEntry(method, path);
  if (entry) return entry.scope;
  return method === "GET" || method === "HEAD" ? "read" : "write";
}

/** Whether scopes `granted` allow what `required` names (any of a list). */
export function allows(granted: readonly string[], required: RouteScope): boolean {
  if (required === null) return true;
  const any = typeof required === "string" ? [required] : required;
  return any.some((s) => scopeCovers(granted, s));
}

/** Mastodon's words when a token's scopes do not reach a route. */
export const OUTSIDE_SCOPES = "This action is outside the authorized scopes";

/**
 * Holds bearer tokens to the route's scope: 403 with Mastodon's message when
 * the token was not granted it. Runs after `authentication()`.
 */
export function scopeGuard(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const granted = c.get("scopes");
    if (granted !== null && c.req.method !== "OPTIONS") {
      if (!allows(granted, requiredScope(c.req.method, c.req.path)))
        throw new CliqueError("forbidden", OUTSIDE_SCOPES);
    }
    await next();
  };
}
