import type { Deps } from "../deps.ts";
import { ANONYMOUS, type Viewer, visibilityFilter } from "../visibility/visibility.ts";

/** The numbers shown with an account, as one viewer may see them. */
export interface AccountStats {
  /** Approved followers. */
  followers: number;
  /** Approved follows. */
  following: number;
  /** The account's posts this viewer may see. */
  posts: number;
  /** When the newest of those posts was written; `null` when there is none. */
  lastPostAt: Date | null;
}

/** An account with no follows and no posts (or none this viewer may see). */
export const NO_STATS: AccountStats = { followers: 0, following: 0, posts: 0, lastPostAt: null };

/**
 * The numbers of each account as `viewer` may see them. Posts are counted
 * through the visibility module's list filter, so a post the viewer may not
 * read neither counts nor moves `lastPostAt`: counts would otherwise tell
 * anyone when a member writes to her circle. Read from the counters kept
 * with every write (issue 13): one query, and a second only when some
 * account has posts that are not open and the viewer could see some.
 */
export async function accountStats(
  deps: Deps,
  viewer: Viewer,
  actorIds: readonly string[],
): Promise<Map<string, AccountStats>> {
  const counts = await deps.stores.posts.accountCounts(actorIds, visibilityFilter(viewer));
  const stats = new Map<string, AccountStats>();
  for (const id of actorIds) stats.set(id, counts.get(id) ?? NO_STATS);
  return stats;
}

/** How many posts of this Clique anyone may see (for the instance's public numbers). */
export function countOpenLocalPosts(deps: Deps): Promise<number> {
  return deps.stores.posts.countLocal(visibilityFilter(ANONYMOUS));
}
