import type { Deps } from "../deps.ts";
import type { Post } from "../domain/types.ts";
import { isId } from "../ids.ts";
import { canView, type Viewer } from "../visibility/visibility.ts";

/**
 * The one way to fetch a post for someone: `null` when it does not exist
 * *or* the viewer may not see it. Callers answer both with "not found".
 */
export async function getVisiblePost(deps: Deps, viewer: Viewer, id: string): Promise<Post | null> {
  if (!isId(id)) return null;
  const post = await deps.stores.posts.getById(id);
  if (!post) return null;
  return (await canView(viewer, post, deps.stores.facts)) ? post : null;
}
