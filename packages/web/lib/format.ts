import type { Audience } from "./types";

/** Plain words for each audience, as the compose box and each post say them. */
export const AUDIENCE_LABELS: Record<Audience, { label: string; who: string }> = {
  public: { label: "Everyone", who: "Anyone, on the web and in the fediverse" },
  unlisted: {
    label: "Everyone, quietly",
    who: "Anyone with the link; not shown in public timelines",
  },
  followers: { label: "Followers", who: "Your approved followers, here and elsewhere" },
  friends: { label: "Friends", who: "People you follow who follow you back" },
  clique: { label: "The Clique", who: "Members of this Clique only" },
  circle: { label: "A circle", who: "Only the people in the chosen circle" },
  direct: { label: "Named people", who: "Only the people you mention by @name" },
};

/** A short, human time: "5 min ago", "yesterday", or the date. */
export function timeAgo(iso: string, now = Date.now()): string {
  const then = new Date(iso).getTime();
  const seconds = Math.round((now - then) / 1000);
  if (seconds < 45) return "just now";
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.round(minutes / 60);
  if (hours < 24) return `${hours} h ago`;
  const days = Math.round(hours / 24);
  if (days === 1) return "yesterday";
  if (days < 7) return `${days} days ago`;
  return new Date(iso).toLocaleDateString("en", {
    day: "numeric",
    month: "short",
    year: "numeric",
  });
}

/** The name to show for an account. */
export function displayName(account: { display_name: string; username: string }): string {
  return account.display_name.trim() || account.username;
}

/** The page of an account: ours at `/@name`, others' at their own URL. */
export function profileHref(account: { acct: string; username: string; url: string }): string {
  return account.acct.includes("@") ? account.url : `/@${account.username}`;
}

/** Whether a role moderates (owner, admins and moderators). */
export function moderates(role: string | undefined): boolean {
  return role === "owner" || role === "admin" || role === "moderator";
}

/**
 * Whether `path` is a path on this site, safe to send a visitor to after
 * signing in: not `//host` or `/\\host` (browsers read both as another site),
 * no backslashes, spaces or control characters.
 */
export function isLocalPath(path: string): boolean {
  return (
    path.length <= 1000 &&
    /^\/(?![/\\])/.test(path) &&
    ![...path].some((ch) => ch === "\\" || ch.charCodeAt(0) <= 0x20 || ch.charCodeAt(0) === 0x7f)
  );
}

/** "Firefox on Android" from a User-Agent, or a plain fallback. */
export function deviceName(userAgent: string | null): string {
  if (!userAgent) return "A browser";
  const browser = /Edg\//.test(userAgent)
    ? "Edge"
    : /Firefox\//.test(userAgent)
      ? "Firefox"
      : /Chrom(e|ium)\//.test(userAgent)
        ? "Chrome"
        : /Safari\//.test(userAgent)
          ? "Safari"
          : null;
  const system = /Android/.test(userAgent)
    ? "Android"
    : /iPhone|iPad|iOS/.test(userAgent)
      ? "iPhone or iPad"
      : /Windows/.test(userAgent)
        ? "Windows"
        : /Mac OS X|Macintosh/.test(userAgent)
          ? "Mac"
          : /Linux/.test(userAgent)
            ? "Linux"
            : null;
  if (browser && system) return `${browser} on ${system}`;
  return browser ?? system ?? userAgent.slice(0, 60);
}
