import type { Deps } from "../deps.ts";
import type { Post } from "../domain/types.ts";
import { type Viewer, visibilityFilter } from "../visibility/visibility.ts";
import { getVisiblePost } from "./get-visible-post.ts";

const MAX_ANCESTORS = 40;
const MAX_DESCENDANTS = 200;

/**
 * A post's thread as the viewer may see it: ancestors (oldest first) and
 * descendants. Invisible posts are left out; the thread above an invisible
 * parent stops there, so nothing is inferred through a hidden post.
 */
export async function getContext(
  deps: Deps,
  viewer: Viewer,
  postId: string,
): Promise<{ ancestors: Post[]; descendants: Post[] } | null> {
  const post = await getVisiblePost(deps, viewer, postId);
  if (!post) return null;
  const filter = visibilityFilter(viewer);
  const ancestorIds = await deps.stores.posts.ancestorIds(post.id, MAX_ANCESTORS);
  const visibleAncestors = await deps.stores.posts.list({ kind: "ids", ids: ancestorIds }, filter, {
    limit: MAX_ANCESTORS,
  });
  const byId = new Map(visibleAncestors.map((p) => [p.id, p]));
  const ancestors: Post[] = [];
  for (const id of ancestorIds) {
    const p = byId.get(id);
    if (!p) break;
    ancestors.unshift(p);
  }

  const descendantIds = await deps.stores.posts.descendantIds(post.id, MAX_DESCENDANTS);
  const visible = await deps.stores.posts.list({ kind: "ids", ids: descendantIds }, filter, {
    limit: MAX_DESCENDANTS,
  });
  // A reply is shown only if the chain up to this post is visible too.
  const shown = new Set([post.id]);
  const descendants: Post[] = [];
  for (const p of [...visible].sort((a, b) => (a.id < b.id ? -1 : 1))) {
    if (p.inReplyToId && shown.has(p.inReplyToId)) {
      shown.add(p.id);
      descendants.push(p);
    }
  }
  return { ancestors, descendants };
}
