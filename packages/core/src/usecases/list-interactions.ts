import type { Deps } from "../deps.ts";
import type { Member, Post } from "../domain/types.ts";
import type { FeedEntry, InteractionActor, Page, PostEntry } from "../stores/stores.ts";
import {
  memberViewer,
  type Viewer,
  viewerActorOf,
  visibilityFilter,
} from "../visibility/visibility.ts";
import { getVisiblePost } from "./get-visible-post.ts";

/**
 * A member's home feed with boosts: members' posts, followed accounts' posts,
 * posts addressed to them, and the boosts of the accounts they follow (and
 * their own), newest first. Each entry's `id` pages the feed (a boost's id
 * for a boost). A boost is listed only when its post passes the visibility
 * rules for this member, exactly as the post would on its own.
 */
export async function listHomeEntries(
  deps: Deps,
  member: Member,
  page: Page,
): Promise<FeedEntry[]> {
  const filter = visibilityFilter(memberViewer(member));
  const [posts, boosts] = await Promise.all([
    deps.stores.posts.list({ kind: "home", actorId: member.id }, filter, page),
    deps.stores.interactions.listHomeBoosts(member.id, filter, page),
  ]);
  // Both lists are pages of the same id order: merge them and keep one page.
  const merged: FeedEntry[] = [
    ...posts.map((post) => ({ id: post.id, post, boost: null })),
    ...boosts,
  ];
  if (page.minId) {
    // The oldest entries after `minId`, then newest first.
    merged.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return merged.slice(0, page.limit).reverse();
  }
  merged.sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
  return merged.slice(0, page.limit);
}

/**
 * A member's bookmarks, newest bookmark first. Each post passes the
 * visibility rules when the list is read: a bookmarked post the member may no
 * longer see is not listed.
 */
export function listBookmarks(deps: Deps, member: Member, page: Page): Promise<PostEntry[]> {
  return deps.stores.bookmarks.list(member.id, visibilityFilter(memberViewer(member)), page);
}

/** The posts a member liked (Mastodon's favourites), newest like first, each one they may still see. */
export function listFavourites(deps: Deps, member: Member, page: Page): Promise<PostEntry[]> {
  return deps.stores.interactions.listLiked(
    member.id,
    visibilityFilter(memberViewer(member)),
    page,
  );
}

/** An account's pinned posts that the viewer may see, newest pin first. */
export function listPinned(deps: Deps, viewer: Viewer, authorId: string): Promise<Post[]> {
  return deps.stores.pins.list(authorId, visibilityFilter(viewer));
}

/**
 * Who liked (`like`) or boosted (`boost`) a post, newest first; `null` when
 * the viewer may not see the post. Accounts the viewer may not see are left
 * out: suspended and removed members, accounts their server suspended or that
 * remote moderation shut out, and anyone blocking the viewer or blocked by them.
 */
export async function listPostInteractors(
  deps: Deps,
  viewer: Viewer,
  postId: string,
  kind: "like" | "boost",
  page: Page,
): Promise<InteractionActor[] | null> {
  const post = await getVisiblePost(deps, viewer, postId);
  if (!post) return null;
  const found = await deps.stores.interactions.listActors(
    post.id,
    kind,
    viewerActorOf(viewer),
    page,
  );
  const kept: InteractionActor[] = [];
  for (const entry of found) {
    if ((await deps.stores.facts.remoteStanding(entry.actorId)) === "blocked") continue;
    kept.push(entry);
  }
  return kept;
}
