/** Mastodon's rule for local usernames. */
const USERNAME_RE = /^[a-z0-9_]{1,30}$/i;

/**
 * Names that would collide with routes, impersonate the server, or confuse
 * people. Compared case-insensitively.
 */
const RESERVED = new Set([
  "about",
  "abuse",
  "account",
  "accounts",
  "activity",
  "actor",
  "admin",
  "administrator",
  "announcements",
  "api",
  "app",
  "apps",
  "auth",
  "clique",
  "contact",
  "everyone",
  "explore",
  "feed",
  "feeds",
  "followers",
  "following",
  "help",
  "home",
  "inbox",
  "info",
  "instance",
  "invite",
  "invites",
  "login",
  "logout",
  "mod",
  "moderator",
  "moderators",
  "nodeinfo",
  "noreply",
  "no_reply",
  "notifications",
  "oauth",
  "outbox",
  "owner",
  "postmaster",
  "privacy",
  "public",
  "relay",
  "root",
  "security",
  "settings",
  "signin",
  "signup",
  "staff",
  "static",
  "status",
  "statuses",
  "support",
  "system",
  "tags",
  "terms",
  "users",
  "webmaster",
  "well_known",
  "www",
]);

/** Why a username cannot be used. */
export type UsernameProblem = "invalid_username" | "reserved_username";

/**
 * Checks a requested username: `[a-z0-9_]{1,30}` (case-insensitive) and not
 * reserved. Returns `null` when it is acceptable.
 */
export function checkUsername(username: string): UsernameProblem | null {
  if (!USERNAME_RE.test(username)) return "invalid_username";
  if (RESERVED.has(username.toLowerCase())) return "reserved_username";
  return null;
}
