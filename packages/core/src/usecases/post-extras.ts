import type { Deps } from "../deps.ts";
import type { Actor, Media, Post } from "../domain/types.ts";
import { type Viewer, viewerActorOf, visibilityFilter } from "../visibility/visibility.ts";
import { type AccountStats, accountStats } from "./account-stats.ts";
import { mediaPath, remoteMediaPath } from "./media.ts";

/** Extra facts about posts that every rendering needs, as one viewer may see them. */
export interface PostExtras {
  authors: Map<string, Actor>;
  /** The numbers of each post's author as the viewer may see them (not of mentioned accounts). */
  authorStats: Map<string, AccountStats>;
  mentions: Map<string, string[]>;
  hashtags: Map<string, string[]>;
  /** Authors of the posts these answer (by parent post id). */
  parentAuthors: Map<string, string>;
  likes: Map<string, number>;
  boosts: Map<string, number>;
  /** Direct replies to each post that the viewer may see. */
  replies: Map<string, number>;
  /** Posts the viewer liked. */
  likedByViewer: Set<string>;
  /** Posts the viewer boosted. */
  boostedByViewer: Set<string>;
  /** Posts the viewer bookmarked (issue 11). */
  bookmarkedByViewer: Set<string>;
  /** Posts the viewer wrote and pinned to their profile (issue 11). */
  pinnedByViewer: Set<string>;
  /** Each post's photos and videos, with the paths this viewer may fetch them at. */
  media: Map<string, ViewableMedia[]>;
}

/** A media item with the paths (relative to the origin) one viewer fetches it at. */
export interface ViewableMedia {
  media: Media;
  /** The file to show; `null` while it is not ready. */
  url: string | null;
  /** The small preview; `null` when there is none. */
  previewUrl: string | null;
}

/**
 * The paths at which `viewer` may fetch the media of one visible post. Remote
 * attachments are fetched through this server's media proxy, never at their
 * remote URL (which would show the viewer's address to the remote server).
 */
export async function viewableMedia(
  deps: Deps,
  post: Post,
  list: readonly Media[],
  viewer: Viewer,
  grants = true,
): Promise<ViewableMedia[]> {
  return Promise.all(
    list.map(async (media) => {
      if (media.remoteUrl !== null) {
        const url = await remoteMediaPath(deps, media, post, viewer, grants);
        // The one file a remote image has is its own preview; a video shows its blurhash.
        return { media, url, previewUrl: media.kind === "image" ? url : null };
      }
      return {
        media,
        url: media.display ? await mediaPath(deps, media.display, post, viewer, grants) : null,
        previewUrl: media.small ? await mediaPath(deps, media.small, post, viewer, grants) : null,
      };
    }),
  );
}

/**
 * Authors, mentions, hashtags, parent authors and counts of posts the viewer
 * may already see. One query per kind of fact, whatever the page size: never
 * one per post.
 */
export async function postExtras(
  deps: Deps,
  posts: readonly Post[],
  viewer: Viewer,
  options: {
    /** Whether media URLs carry the viewer's grant (default); not for a browser's session (see `mediaGrant`). */
    grants?: boolean;
  } = {},
): Promise<PostExtras> {
  const { stores } = deps;
  const ids = posts.map((p) => p.id);
  const parentIds = posts.map((p) => p.inReplyToId).filter((x): x is string => x !== null);
  const authorIds = [...new Set(posts.map((p) => p.authorId))];
  const viewerId = viewerActorOf(viewer);
  const none = Promise.resolve(new Set<string>());
  const [
    mentions,
    hashtags,
    parentAuthors,
    counters,
    { liked, boosted },
    authorStats,
    mediaByPost,
    bookmarked,
    pinned,
  ] = await Promise.all([
    stores.posts.mentionsOf(ids),
    stores.posts.hashtagsOf(ids),
    stores.posts.authorsOf(parentIds),
    // Likes, boosts and replies as kept with every write (issue 13).
    stores.posts.countersOf(ids),
    viewerId
      ? stores.interactions.bothByActor(viewerId, ids)
      : Promise.resolve({ liked: new Set<string>(), boosted: new Set<string>() }),
    accountStats(deps, viewer, authorIds),
    stores.media.listByPosts(ids),
    // Bookmarks and pins (issue 11): the viewer's own.
    viewerId ? stores.bookmarks.among(viewerId, ids) : none,
    viewerId
      ? stores.pins.among(posts.filter((p) => p.authorId === viewerId).map((p) => p.id))
      : none,
  ]);
  const likes = new Map<string, number>();
  const boosts = new Map<string, number>();
  for (const [id, c] of counters) {
    if (c.likes > 0) likes.set(id, c.likes);
    if (c.boosts > 0) boosts.set(id, c.boosts);
  }
  // A reply the viewer may not read is not counted either: only the posts
  // that have replies at all are asked about, through the visibility module.
  const withReplies = ids.filter((id) => (counters.get(id)?.replies ?? 0) > 0);
  const repliesSeen =
    withReplies.length > 0
      ? stores.posts.countReplies(withReplies, visibilityFilter(viewer))
      : Promise.resolve(new Map<string, number>());
  const actorIds = new Set<string>(authorIds);
  for (const list of mentions.values()) for (const id of list) actorIds.add(id);
  const [actors, replies] = await Promise.all([stores.actors.getByIds([...actorIds]), repliesSeen]);
  const authors = new Map(actors.map((a) => [a.id, a]));
  const media = new Map<string, ViewableMedia[]>();
  for (const post of posts) {
    const list = mediaByPost.get(post.id);
    if (list)
      media.set(post.id, await viewableMedia(deps, post, list, viewer, options.grants ?? true));
  }
  return {
    authors,
    authorStats,
    mentions,
    hashtags,
    parentAuthors,
    likes,
    boosts,
    replies,
    likedByViewer: liked,
    boostedByViewer: boosted,
    bookmarkedByViewer: bookmarked,
    pinnedByViewer: pinned,
    media,
  };
}
