import { createHmac, randomBytes } from "node:crypto";
import type { Deps } from "../deps.ts";
import type { Media, MediaFile, MediaKind, Member, Post } from "../domain/types.ts";
import { fail, ok, type Result } from "../errors.ts";
import { isId, newId } from "../ids.ts";
import { granteeOf, grantQuery, viewerOfGrant } from "../media/grants.ts";
import { canViewMedia, isOpenPost, type Viewer } from "../visibility/visibility.ts";

/** Most attachments on one post, as on Mastodon. */
export const MAX_ATTACHMENTS = 8;
/** Longest alt text, as on Mastodon. */
export const MAX_DESCRIPTION = 1500;
/** Uploads one member may have waiting to be processed at once. */
export const MAX_PROCESSING_PER_MEMBER = 8;
/** How long an upload waits to be attached to a post before it is deleted. */
export const UNATTACHED_TTL_MS = 24 * 60 * 60 * 1000;

/** Why a media operation refused. */
export type MediaProblem =
  | "not_found"
  | "description_too_long"
  | "invalid_focus"
  | "too_many_processing";

/** A new, unguessable file key: 128 random bits, and what the file is. */
export function newFileKey(extension: string): string {
  return `${randomBytes(16).toString("base64url")}.${extension}`;
}

function checkDescribe(input: {
  description?: string;
  focus?: { x: number; y: number };
}): MediaProblem | null {
  if (input.description !== undefined && [...input.description].length > MAX_DESCRIPTION)
    return "description_too_long";
  if (
    input.focus &&
    ![input.focus.x, input.focus.y].every((v) => Number.isFinite(v) && v >= -1 && v <= 1)
  )
    return "invalid_focus";
  return null;
}

/**
 * Takes an upload whose bytes the server stored under `sourceKey`: the item
 * exists at once (state `processing`), and its processing is recorded in the
 * outbox with it, so it happens even after a crash.
 */
export async function uploadMedia(
  deps: Deps,
  owner: Member,
  input: { sourceKey: string; description?: string; focus?: { x: number; y: number } },
): Promise<Result<Media, MediaProblem>> {
  const problem = checkDescribe(input);
  if (problem) return fail(problem);
  const media: Media = {
    id: newId(),
    ownerId: owner.id,
    postId: null,
    position: 0,
    kind: "unknown",
    state: "processing",
    description: input.description ?? "",
    focus: input.focus ?? { x: 0, y: 0 },
    width: null,
    height: null,
    duration: null,
    blurhash: null,
    display: null,
    small: null,
    remoteUrl: null,
    remoteMediaType: null,
    error: null,
    createdAt: deps.now(),
  };
  const created = await deps.stores.transaction(async (tx) => {
    // Counted under the member's lock: uploads sent all at once wait their turn
    // here, so that they cannot all see the count below the limit.
    if ((await tx.media.countProcessing(owner.id, { lock: true })) >= MAX_PROCESSING_PER_MEMBER)
      return false;
    await tx.media.create(media);
    await tx.outbox.record(
      { kind: "media-uploaded", mediaId: media.id, sourceKey: input.sourceKey },
      deps.now(),
    );
    return true;
  });
  if (!created)
    return fail(
      "too_many_processing",
      `At most ${MAX_PROCESSING_PER_MEMBER} uploads can wait to be processed at once; try again in a moment.`,
    );
  return ok(media);
}

/** The member's own upload (attached or not); `null` for anyone else's. */
export async function getOwnMedia(deps: Deps, owner: Member, id: string): Promise<Media | null> {
  if (!isId(id)) return null;
  const media = await deps.stores.media.getById(id);
  return media && media.ownerId === owner.id ? media : null;
}

/**
 * The member's own upload as they look at it to see whether it is processed
 * (Mastodon's `GET /api/v1/media/:id`). An upload whose processing failed is
 * answered this once, with its reason, and deleted: it can never be attached,
 * and nothing of it is kept (it has no files).
 */
export async function checkOwnMedia(deps: Deps, owner: Member, id: string): Promise<Media | null> {
  const media = await getOwnMedia(deps, owner, id);
  if (media?.state === "failed") await deps.stores.media.deleteFailed(media.id);
  return media;
}

/** Sets an upload's alt text and focal point. */
export async function describeMedia(
  deps: Deps,
  owner: Member,
  id: string,
  input: { description?: string; focus?: { x: number; y: number } },
): Promise<Result<Media, MediaProblem>> {
  const media = await getOwnMedia(deps, owner, id);
  if (!media) return fail("not_found");
  const problem = checkDescribe(input);
  if (problem) return fail(problem);
  await deps.stores.media.describe(media.id, input);
  return ok((await deps.stores.media.getById(media.id))!);
}

/** The secret that signs media URLs, made once per server. */
async function mediaSecret(deps: Deps): Promise<string> {
  deps.cache.mediaSecret ??= deps.stores.secrets.getOrCreate("media-urls", () =>
    randomBytes(32).toString("base64url"),
  );
  return deps.cache.mediaSecret;
}

/**
 * The key of one processed file of a media item: unguessable without the
 * server's secret, and the same each time it is made, so a processing job run
 * again after a crash overwrites its files instead of leaving orphans.
 */
export async function mediaFileKey(
  deps: Deps,
  mediaId: string,
  variant: "display" | "small",
  extension: string,
): Promise<string> {
  const digest = createHmac("sha256", await mediaSecret(deps))
    .update(`file\n${mediaId}\n${variant}`)
    .digest("base64url")
    .slice(0, 22);
  return `${digest}.${extension}`;
}

/**
 * The grant query of a media file for `viewer`: empty for media of open
 * posts (served to anyone) and for anonymous viewers; anything else names its
 * viewer (`grants.ts`). `grants: false` leaves it out for a viewer whose
 * fetches carry their own credentials (a browser's session cookie): such a
 * URL, copied elsewhere, opens for nobody else.
 */
export async function mediaGrant(
  deps: Deps,
  file: MediaFile,
  post: Pick<Post, "audience"> | null,
  viewer: Viewer,
  grants = true,
): Promise<string> {
  if (!grants) return "";
  const grantee = post && isOpenPost(post) ? null : granteeOf(viewer);
  return grantee ? grantQuery(await mediaSecret(deps), file.key, grantee) : "";
}

/**
 * The path (and grant) of a media file for `viewer`: media of open posts have
 * plain paths, served to anyone; anything else names its viewer (`grants.ts`).
 */
export async function mediaPath(
  deps: Deps,
  file: MediaFile,
  post: Pick<Post, "audience"> | null,
  viewer: Viewer,
  grants = true,
): Promise<string> {
  return `/media/${file.key}${await mediaGrant(deps, file, post, viewer, grants)}`;
}

/** Remote attachments the media proxy fetches and serves: images and video. */
export const PROXIED_KINDS: readonly MediaKind[] = ["image", "video", "gifv"];

/**
 * Where `viewer` fetches a remote attachment: through this server's media
 * proxy (`/media/proxy/<key>`, with a grant as `mediaPath` gives), never at
 * its remote URL, so the remote server never sees who looks. `null` for
 * what the proxy does not serve (sounds, unknown files).
 */
export async function remoteMediaPath(
  deps: Deps,
  media: Media,
  post: Pick<Post, "audience"> | null,
  viewer: Viewer,
  grants = true,
): Promise<string | null> {
  if (media.remoteUrl === null || !media.display || !PROXIED_KINDS.includes(media.kind))
    return null;
  return `/media/proxy/${media.display.key}${await mediaGrant(deps, media.display, post, viewer, grants)}`;
}

/** A media file someone may fetch, and whether anyone may. */
export interface VisibleMediaFile {
  media: Media;
  file: MediaFile;
  /** Attached to a post open to everyone: cacheable by anyone. */
  public: boolean;
}

/**
 * The one way to fetch a media file: `null` when it does not exist or the
 * viewer may not see it. The viewer is who is asking (a session, a token, a
 * signature) or, when the URL carries a valid grant, the viewer it names —
 * whichever may see it. Files of remote attachments are not served here
 * (see `getVisibleRemoteMedia`).
 */
export function getVisibleMediaFile(
  deps: Deps,
  viewer: Viewer,
  key: string,
  grant: { for?: string | undefined; sig?: string | undefined } = {},
): Promise<VisibleMediaFile | null> {
  return visibleMedia(deps, viewer, key, grant, "local");
}

/**
 * A remote attachment someone may see, by the key its proxy URL names
 * (`remoteMediaPath`): `null` when there is none or the viewer may not see
 * it, with the same rules and grants as `getVisibleMediaFile`. The server's
 * media proxy fetches and serves its file.
 */
export function getVisibleRemoteMedia(
  deps: Deps,
  viewer: Viewer,
  key: string,
  grant: { for?: string | undefined; sig?: string | undefined } = {},
): Promise<VisibleMediaFile | null> {
  return visibleMedia(deps, viewer, key, grant, "remote");
}

async function visibleMedia(
  deps: Deps,
  viewer: Viewer,
  key: string,
  grant: { for?: string | undefined; sig?: string | undefined },
  origin: "local" | "remote",
): Promise<VisibleMediaFile | null> {
  if (!/^[A-Za-z0-9_-]{22,}\.[a-z0-9]{2,5}$/.test(key)) return null;
  const media = await deps.stores.media.getByFileKey(key);
  if (media?.state !== "ready") return null;
  // Our files at /media, remote ones only through the proxy (which checks what it fetched).
  if ((media.remoteUrl !== null) !== (origin === "remote")) return null;
  const file = media.display?.key === key ? media.display : media.small;
  if (!file) return null;
  const post = media.postId ? await deps.stores.posts.getById(media.postId) : null;
  const viewers: Viewer[] = [viewer];
  const granted = viewerOfGrant(await mediaSecret(deps), key, grant.for, grant.sig);
  if (granted) {
    // A removed or suspended member's grants die with their membership.
    const usable =
      granted.kind !== "member" || (await deps.stores.facts.isActiveMember(granted.actorId));
    if (usable) viewers.push(granted);
  }
  for (const v of viewers) {
    if (await canViewMedia(v, media, post, deps.stores.facts))
      return { media, file, public: post !== null && isOpenPost(post) && media.postId !== null };
  }
  return null;
}

/**
 * Checks the uploads a post is to carry: at most eight, each the author's
 * own, processed, and not attached to another post.
 */
export async function checkAttachments(
  deps: Deps,
  author: Member,
  mediaIds: readonly string[],
  postId: string | null,
): Promise<"too_many_attachments" | "media_not_found" | "media_not_ready" | "media_failed" | null> {
  if (mediaIds.length > MAX_ATTACHMENTS) return "too_many_attachments";
  if (new Set(mediaIds).size !== mediaIds.length) return "media_not_found";
  for (const id of mediaIds) {
    const media = await getOwnMedia(deps, author, id);
    if (!media || (media.postId !== null && media.postId !== postId)) return "media_not_found";
    if (media.state === "processing") return "media_not_ready";
    if (media.state === "failed") return "media_failed";
  }
  return null;
}

/**
 * Deletes uploads never attached to a post within a day, and records their
 * files for deletion. Returns how many files went.
 */
export async function sweepUnattachedMedia(deps: Deps): Promise<number> {
  const before = new Date(deps.now().getTime() - UNATTACHED_TTL_MS);
  return deps.stores.transaction(async (tx) => {
    const keys = await tx.media.deleteUnattached(before, 500);
    if (keys.length > 0) await tx.outbox.record({ kind: "media-deleted", keys }, deps.now());
    return keys.length;
  });
}
