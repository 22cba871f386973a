/**
 * Public URLs of local things, built from the configured origin. Ids of local
 * objects are derived, never stored, so they follow the origin.
 */
export interface Urls {
  actor(username: string): string;
  profile(username: string): string;
  post(username: string, postId: string): string;
  postPage(username: string, postId: string): string;
  tag(tag: string): string;
  invite(code: string): string;
  /** An account's default avatar (local or remote: every account has one). */
  avatar(actorId: string): string;
}

/** Builds the URL scheme for an origin such as `https://clique.example`. */
export function urlsFor(origin: string): Urls {
  const base = origin.replace(/\/+$/, "");
  return {
    actor: (username) => `${base}/users/${encodeURIComponent(username)}`,
    profile: (username) => `${base}/@${encodeURIComponent(username)}`,
    post: (username, id) => `${base}/users/${encodeURIComponent(username)}/statuses/${id}`,
    postPage: (username, id) => `${base}/@${encodeURIComponent(username)}/${id}`,
    tag: (tag) => `${base}/tags/${encodeURIComponent(tag)}`,
    invite: (code) => `${base}/invite/${encodeURIComponent(code)}`,
    avatar: (actorId) => `${base}/avatars/${encodeURIComponent(actorId)}.png`,
  };
}
