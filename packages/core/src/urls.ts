/**
 * Public URLs of local things, built from the configured origin. Ids of local
 * objects are derived, never stored, so they follow the origin.
 */
import type { Actor, MediaFile } from "./domain/types.ts";

/** The URLs of one origin. */
export interface Urls {
  actor(username: string): string;
  profile(username: string): string;
  post(username: string, postId: string): string;
  postPage(username: string, postId: string): string;
  tag(tag: string): string;
  invite(code: string): string;
  /** An account's default avatar (local or remote: every account has one). */
  avatar(actorId: string): string;
  /** A member's uploaded avatar or header, by its file key (served publicly, like the actor). */
  profileImage(key: string): string;
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
    profileImage: (key) => `${base}/avatars/${encodeURIComponent(key)}`,
  };
}

/** An image of an account's profile, as other servers and clients are told of it. */
export interface ProfileImageLink {
  url: string;
  mediaType: string;
  width: number | null;
  height: number | null;
}

/**
 * An account's avatar (the uploaded one, else the generated default) and
 * header (the uploaded one, else `null`): the one place the API and the actor
 * document get them from.
 */
export function profileImagesOf(
  urls: Urls,
  account: Pick<Actor, "id" | "avatar" | "header">,
): { avatar: ProfileImageLink; header: ProfileImageLink | null } {
  const link = (file: MediaFile): ProfileImageLink => ({
    url: urls.profileImage(file.key),
    mediaType: file.mediaType,
    width: file.width,
    height: file.height,
  });
  return {
    avatar: account.avatar
      ? link(account.avatar)
      : // The generated default (the server draws it, 400×400).
        { url: urls.avatar(account.id), mediaType: "image/png", width: 400, height: 400 },
    header: account.header ? link(account.header) : null,
  };
}
