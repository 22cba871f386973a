/**
 * Every HTTP route the server answers, in one place. The canary crawl test
 * visits each readable route as every kind of viewer and checks this list
 * against the router, so a new endpoint cannot escape the privacy proof.
 *
 * `reads` says what a GET route can show (and so what the crawl must fill in
 * for its parameters); write routes are listed so that adding one without
 * thinking about it fails the check too.
 */

/** What a path parameter stands for, so the crawl knows what to put there. */
export type RouteParam =
  | "status"
  | "account"
  | "circle"
  | "invite"
  | "username"
  | "follow-request"
  /**
   * An account's default avatar file: `<account id>.png`. (The same route
   * serves uploaded avatars and headers, `<file key>.webp`, public to all.)
   */
  | "avatar"
  /** An uploaded photo or video (its id). */
  | "media"
  /** A stored media file: its key, with the grant query of a URL the API handed out, if any. */
  | "media-file"
  /** A decision about a server (a domain block's id). */
  | "domain-block"
  /** A report (its id). */
  | "report"
  /** A member's profile page: `@username` (issue 11). */
  | "at-username"
  /** A hashtag's name (issue 11). */
  | "hashtag"
  /** A notification (its id; notifications of every type, issue 11). */
  | "notification"
  /** An encrypted chat attachment (its id; only a device of its chat fetches it, issue 15). */
  | "e2ee-blob"
  /** An encrypted chat's page (its group id; the page is a shell the browser fills, issue 15). */
  | "e2ee-group";

/** One route. */
export interface RouteSpec {
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  path: string;
  /** For GET routes: the parameter kinds in the path, in order. */
  params?: readonly RouteParam[];
  /** Query string the crawl adds (e.g. lookups need one). */
  query?: Record<string, "acct" | "actor-url" | "status-url" | "invite-code">;
  /** Served by Fedify (ActivityPub, WebFinger, NodeInfo) rather than the API router. */
  federation?: boolean;
  /**
   * A page of the web interface (packages/web), answered by Next in this
   * process (`http/web-ui.ts`); its errors are HTML pages, not JSON.
   */
  web?: boolean;
  /** An HTML page of the server itself (`http/pages.ts`): its errors are HTML too. */
  html?: boolean;
}

/** The client API, pages and static files (Hono's router). */
export const API_ROUTES: readonly RouteSpec[] = [
  { method: "GET", path: "/", web: true },
  { method: "GET", path: "/health" },
  { method: "GET", path: "/invite/:code", params: ["invite"], web: true },
  // The web interface's pages (issue 12) and its files.
  { method: "GET", path: "/_next/*", web: true },
  { method: "GET", path: "/icon.svg", web: true },
  { method: "GET", path: "/setup", web: true },
  { method: "GET", path: "/signin", web: true },
  { method: "GET", path: "/home", web: true },
  { method: "GET", path: "/clique", web: true },
  { method: "GET", path: "/compose", web: true },
  { method: "GET", path: "/notifications", web: true },
  { method: "GET", path: "/circles", web: true },
  { method: "GET", path: "/people", web: true },
  { method: "GET", path: "/members", web: true },
  { method: "GET", path: "/moderation", web: true },
  { method: "GET", path: "/settings", web: true },
  // Encrypted chats (issue 15): the pages are shells, the chats are decrypted in the browser.
  { method: "GET", path: "/chats", web: true },
  { method: "GET", path: "/chats/devices", web: true },
  { method: "GET", path: "/chats/safety/:id", params: ["account"], web: true },
  { method: "GET", path: "/chats/:id", params: ["e2ee-group"], web: true },
  { method: "GET", path: "/static/avatar.png" },
  { method: "GET", path: "/static/header.png" },
  { method: "GET", path: "/avatars/:file", params: ["avatar"] },
  { method: "GET", path: "/media/:file", params: ["media-file"] },
  { method: "GET", path: "/media/proxy/:file", params: ["media-file"] },
  { method: "POST", path: "/api/v2/media" },
  { method: "POST", path: "/api/v1/media" },
  { method: "GET", path: "/api/v1/media/:id", params: ["media"] },
  { method: "PUT", path: "/api/v1/media/:id" },
  { method: "GET", path: "/api/v1/instance" },
  { method: "GET", path: "/api/v2/instance" },
  { method: "GET", path: "/api/v2/search", query: { q: "acct" } },
  { method: "GET", path: "/api/v1/accounts/verify_credentials" },
  { method: "PATCH", path: "/api/v1/accounts/update_credentials" },
  { method: "DELETE", path: "/api/v1/profile/avatar" },
  { method: "DELETE", path: "/api/v1/profile/header" },
  { method: "GET", path: "/api/v1/accounts/lookup", query: { acct: "acct" } },
  { method: "GET", path: "/api/v1/accounts/relationships" },
  { method: "GET", path: "/api/v1/accounts/:id", params: ["account"] },
  { method: "GET", path: "/api/v1/accounts/:id/statuses", params: ["account"] },
  { method: "GET", path: "/api/v1/accounts/:id/followers", params: ["account"] },
  { method: "GET", path: "/api/v1/accounts/:id/following", params: ["account"] },
  { method: "POST", path: "/api/v1/accounts/:id/follow" },
  { method: "POST", path: "/api/v1/accounts/:id/unfollow" },
  { method: "POST", path: "/api/v1/accounts/:id/remove_from_followers" },
  { method: "POST", path: "/api/v1/accounts/:id/block" },
  { method: "POST", path: "/api/v1/accounts/:id/unblock" },
  { method: "POST", path: "/api/v1/accounts/:id/mute" },
  { method: "POST", path: "/api/v1/accounts/:id/unmute" },
  { method: "GET", path: "/api/v1/blocks" },
  { method: "GET", path: "/api/v1/mutes" },
  { method: "GET", path: "/api/v1/follow_requests" },
  { method: "POST", path: "/api/v1/follow_requests/:id/authorize" },
  { method: "POST", path: "/api/v1/follow_requests/:id/reject" },
  { method: "POST", path: "/api/v1/statuses" },
  { method: "GET", path: "/api/v1/statuses/:id", params: ["status"] },
  { method: "PUT", path: "/api/v1/statuses/:id" },
  { method: "DELETE", path: "/api/v1/statuses/:id" },
  { method: "GET", path: "/api/v1/statuses/:id/context", params: ["status"] },
  { method: "GET", path: "/api/v1/statuses/:id/history", params: ["status"] },
  { method: "GET", path: "/api/v1/statuses/:id/source", params: ["status"] },
  { method: "POST", path: "/api/v1/statuses/:id/favourite" },
  { method: "POST", path: "/api/v1/statuses/:id/unfavourite" },
  { method: "POST", path: "/api/v1/statuses/:id/reblog" },
  { method: "POST", path: "/api/v1/statuses/:id/unreblog" },
  // Bookmarks, pins, favourited_by/reblogged_by and the member's lists (issue 11).
  { method: "POST", path: "/api/v1/statuses/:id/bookmark" },
  { method: "POST", path: "/api/v1/statuses/:id/unbookmark" },
  { method: "POST", path: "/api/v1/statuses/:id/pin" },
  { method: "POST", path: "/api/v1/statuses/:id/unpin" },
  { method: "GET", path: "/api/v1/statuses/:id/favourited_by", params: ["status"] },
  { method: "GET", path: "/api/v1/statuses/:id/reblogged_by", params: ["status"] },
  { method: "GET", path: "/api/v1/bookmarks" },
  { method: "GET", path: "/api/v1/favourites" },
  { method: "GET", path: "/api/v1/timelines/home" },
  { method: "GET", path: "/api/v1/clique" },
  { method: "PATCH", path: "/api/v1/clique" },
  { method: "PATCH", path: "/api/v1/clique/profile" },
  { method: "GET", path: "/api/v1/clique/profile/preview" },
  { method: "GET", path: "/api/v1/clique/export" },
  { method: "POST", path: "/api/v1/clique/sessions" },
  { method: "DELETE", path: "/api/v1/clique/sessions/current" },
  { method: "GET", path: "/api/v1/clique/sessions" },
  { method: "DELETE", path: "/api/v1/clique/sessions/:id" },
  { method: "GET", path: "/api/v1/clique/setup" },
  { method: "POST", path: "/api/v1/clique/setup" },
  { method: "GET", path: "/api/v1/clique/invites/preview", query: { code: "invite-code" } },
  { method: "POST", path: "/api/v1/clique/tokens" },
  { method: "POST", path: "/api/v1/clique/password" },
  { method: "GET", path: "/api/v1/clique/invites" },
  { method: "POST", path: "/api/v1/clique/invites" },
  { method: "DELETE", path: "/api/v1/clique/invites/:id" },
  { method: "POST", path: "/api/v1/clique/invites/redeem" },
  { method: "GET", path: "/api/v1/clique/members" },
  { method: "PATCH", path: "/api/v1/clique/members/:id" },
  { method: "GET", path: "/api/v1/clique/circles" },
  { method: "POST", path: "/api/v1/clique/circles" },
  { method: "GET", path: "/api/v1/clique/circles/:id", params: ["circle"] },
  { method: "PATCH", path: "/api/v1/clique/circles/:id" },
  { method: "DELETE", path: "/api/v1/clique/circles/:id" },
  // Members and their content: Clique's moderation API, leaving, and Mastodon's admin accounts API.
  { method: "POST", path: "/api/v1/clique/leave" },
  { method: "POST", path: "/api/v1/clique/moderation/posts/:id/remove" },
  { method: "POST", path: "/api/v1/clique/moderation/posts/:id/hide" },
  { method: "POST", path: "/api/v1/clique/moderation/posts/:id/unhide" },
  { method: "POST", path: "/api/v1/clique/moderation/members/:id/remove" },
  { method: "POST", path: "/api/v1/clique/moderation/members/:id/suspend" },
  { method: "POST", path: "/api/v1/clique/moderation/members/:id/unsuspend" },
  { method: "POST", path: "/api/v1/clique/moderation/members/:id/warn" },
  { method: "POST", path: "/api/v1/clique/moderation/members/:id/role" },
  { method: "GET", path: "/api/v1/clique/moderation/audit" },
  { method: "GET", path: "/api/v1/admin/accounts" },
  { method: "GET", path: "/api/v1/admin/accounts/:id", params: ["account"] },
  { method: "POST", path: "/api/v1/admin/accounts/:id/action" },
  { method: "POST", path: "/api/v1/admin/accounts/:id/unsuspend" },
  { method: "POST", path: "/api/v1/admin/accounts/:id/enable" },
  { method: "GET", path: "/api/v1/notifications" },
  // Notifications of every type and live updates (issue 11).
  { method: "GET", path: "/api/v1/notifications/unread_count" },
  { method: "GET", path: "/api/v1/notifications/:id", params: ["notification"] },
  { method: "POST", path: "/api/v1/notifications/:id/dismiss" },
  { method: "POST", path: "/api/v1/notifications/clear" },
  // The WebSocket `/api/v1/streaming` is an upgrade that never reaches the router
  // (streaming/hub.ts takes it): the canary crawl checks what it streams separately.
  { method: "GET", path: "/api/v1/streaming/health" },
  // Reports: members file them (Mastodon's), moderators work the queue (Mastodon's admin API and Clique's).
  { method: "POST", path: "/api/v1/reports" },
  { method: "GET", path: "/api/v1/admin/reports" },
  { method: "GET", path: "/api/v1/admin/reports/:id", params: ["report"] },
  { method: "POST", path: "/api/v1/admin/reports/:id/assign_to_self" },
  { method: "POST", path: "/api/v1/admin/reports/:id/unassign" },
  { method: "POST", path: "/api/v1/admin/reports/:id/resolve" },
  { method: "POST", path: "/api/v1/admin/reports/:id/reopen" },
  { method: "GET", path: "/api/v1/clique/reports" },
  { method: "GET", path: "/api/v1/clique/reports/:id", params: ["report"] },
  { method: "POST", path: "/api/v1/clique/reports/:id/dismiss" },
  { method: "POST", path: "/api/v1/clique/reports/:id/forward" },
  // Remote moderation: blocks and limits of servers (admins), suspensions and silences of
  // remote accounts (moderators); Clique's own API and Mastodon's admin domain blocks.
  { method: "GET", path: "/api/v1/clique/domains" },
  { method: "POST", path: "/api/v1/clique/domains" },
  { method: "DELETE", path: "/api/v1/clique/domains" },
  { method: "GET", path: "/api/v1/clique/moderation/remote_accounts" },
  { method: "POST", path: "/api/v1/clique/moderation/remote_accounts/:id/suspend" },
  { method: "POST", path: "/api/v1/clique/moderation/remote_accounts/:id/silence" },
  { method: "POST", path: "/api/v1/clique/moderation/remote_accounts/:id/unsuspend" },
  { method: "POST", path: "/api/v1/clique/moderation/remote_accounts/:id/unsilence" },
  { method: "POST", path: "/api/v1/clique/moderation/remote_accounts/:id/reject_follows" },
  { method: "GET", path: "/api/v1/admin/domain_blocks" },
  { method: "GET", path: "/api/v1/admin/domain_blocks/:id", params: ["domain-block"] },
  { method: "POST", path: "/api/v1/admin/domain_blocks" },
  { method: "PUT", path: "/api/v1/admin/domain_blocks/:id" },
  { method: "DELETE", path: "/api/v1/admin/domain_blocks/:id" },
  // Timelines, what apps call at start-up, conversations, pages (issue 11).
  { method: "GET", path: "/api/v1/timelines/public" },
  { method: "GET", path: "/api/v1/timelines/tag/:hashtag", params: ["hashtag"] },
  { method: "GET", path: "/api/v1/preferences" },
  { method: "GET", path: "/api/v1/custom_emojis" },
  { method: "GET", path: "/api/v1/filters" },
  { method: "GET", path: "/api/v2/filters" },
  { method: "GET", path: "/api/v1/lists" },
  { method: "GET", path: "/api/v1/followed_tags" },
  { method: "GET", path: "/api/v1/featured_tags" },
  { method: "GET", path: "/api/v1/domain_blocks" },
  { method: "GET", path: "/api/v1/trends" },
  { method: "GET", path: "/api/v1/trends/tags" },
  { method: "GET", path: "/api/v1/trends/statuses" },
  { method: "GET", path: "/api/v1/trends/links" },
  { method: "GET", path: "/api/v1/suggestions" },
  { method: "GET", path: "/api/v2/suggestions" },
  { method: "GET", path: "/api/v1/instance/rules" },
  { method: "GET", path: "/api/v1/instance/peers" },
  { method: "GET", path: "/api/v1/instance/activity" },
  { method: "GET", path: "/api/v1/accounts/familiar_followers" },
  { method: "GET", path: "/api/v1/markers" },
  { method: "POST", path: "/api/v1/markers" },
  { method: "GET", path: "/api/v1/announcements" },
  { method: "POST", path: "/api/v1/announcements/:id/dismiss" },
  { method: "POST", path: "/api/v1/clique/announcements" },
  { method: "PATCH", path: "/api/v1/clique/announcements/:id" },
  { method: "DELETE", path: "/api/v1/clique/announcements/:id" },
  { method: "GET", path: "/api/v1/conversations" },
  { method: "POST", path: "/api/v1/conversations/:id/read" },
  { method: "DELETE", path: "/api/v1/conversations/:id" },
  // Profile and post pages: the web interface's when it is built, else http/pages.ts.
  {
    method: "GET",
    path: "/:username{@[A-Za-z0-9_]+}",
    params: ["at-username"],
    html: true,
    web: true,
  },
  {
    method: "GET",
    path: "/:username{@[A-Za-z0-9_]+}/:id",
    params: ["at-username", "status"],
    html: true,
    web: true,
  },
  { method: "GET", path: "/authorize_interaction", query: { uri: "actor-url" }, html: true },
  { method: "GET", path: "/tags/:hashtag", params: ["hashtag"], html: true },
  // OAuth apps (issue 11): registration, the authorization pages, tokens, a member's apps.
  { method: "POST", path: "/api/v1/apps" },
  { method: "GET", path: "/api/v1/apps/verify_credentials" },
  { method: "GET", path: "/oauth/authorize" },
  { method: "POST", path: "/oauth/authorize" },
  { method: "POST", path: "/oauth/token" },
  { method: "POST", path: "/oauth/revoke" },
  { method: "GET", path: "/.well-known/oauth-authorization-server" },
  { method: "GET", path: "/api/v1/clique/apps" },
  { method: "DELETE", path: "/api/v1/clique/apps/:id" },
  // End-to-end encrypted chats (issue 15): devices, KeyPackages, the key directory, Commits
  // and messages of groups, a device's mailbox. Bodies are ciphertexts the server cannot read.
  { method: "POST", path: "/api/v1/e2ee/devices" },
  { method: "GET", path: "/api/v1/e2ee/devices" },
  { method: "DELETE", path: "/api/v1/e2ee/devices/:id" },
  { method: "POST", path: "/api/v1/e2ee/devices/:id/key_packages" },
  { method: "POST", path: "/api/v1/e2ee/key_packages/claim" },
  { method: "GET", path: "/api/v1/e2ee/directory" },
  { method: "POST", path: "/api/v1/e2ee/groups" },
  { method: "POST", path: "/api/v1/e2ee/groups/:id/commits" },
  { method: "POST", path: "/api/v1/e2ee/groups/:id/messages" },
  { method: "GET", path: "/api/v1/e2ee/messages" },
  { method: "POST", path: "/api/v1/e2ee/blobs" },
  { method: "GET", path: "/api/v1/e2ee/blobs/:id", params: ["e2ee-blob"] },
  { method: "POST", path: "/api/v1/e2ee/reports" },
  { method: "GET", path: "/.well-known/clique-security" },
  { method: "GET", path: "/.well-known/clique-web-bundle" },
  // Single sign-on through an OpenID Connect provider.
  { method: "GET", path: "/api/v1/clique/oidc" },
  { method: "GET", path: "/api/v1/clique/oidc/identities" },
  { method: "DELETE", path: "/api/v1/clique/oidc/identities/:id" },
  { method: "GET", path: "/auth/oidc/start" },
  { method: "GET", path: "/auth/oidc/callback" },
];

/** ActivityPub, WebFinger and NodeInfo (Fedify's router; paths as in core's `FEDERATION_PATHS`). */
export const FEDERATION_ROUTES: readonly RouteSpec[] = [
  { method: "GET", path: "/.well-known/webfinger", query: { resource: "acct" }, federation: true },
  { method: "GET", path: "/.well-known/nodeinfo", federation: true },
  { method: "GET", path: "/nodeinfo/2.1", federation: true },
  { method: "GET", path: "/users/:username", params: ["username"], federation: true },
  { method: "GET", path: "/users/:username/outbox", params: ["username"], federation: true },
  { method: "GET", path: "/users/:username/followers", params: ["username"], federation: true },
  { method: "GET", path: "/users/:username/following", params: ["username"], federation: true },
  { method: "GET", path: "/users/:username/featured", params: ["username"], federation: true },
  {
    method: "GET",
    path: "/users/:username/statuses/:id",
    params: ["username", "status"],
    federation: true,
  },
  { method: "POST", path: "/users/:username/inbox", federation: true },
  { method: "POST", path: "/inbox", federation: true },
];

/** Every route. */
export const ROUTES: readonly RouteSpec[] = [...API_ROUTES, ...FEDERATION_ROUTES];
