import type { Deps } from "../deps.ts";
import type { Member, Post } from "../domain/types.ts";
import { fail, ok, type Result } from "../errors.ts";
import { newId } from "../ids.ts";
import { memberViewer } from "../visibility/visibility.ts";
import { getVisiblePost } from "./get-visible-post.ts";

/**
 * Bookmarks a post the member may see. Bookmarks are private: nobody else is
 * told, nothing is federated. Idempotent.
 */
export async function bookmarkPost(
  deps: Deps,
  member: Member,
  postId: string,
): Promise<Result<Post, "not_found">> {
  const post = await getVisiblePost(deps, memberViewer(member), postId);
  if (!post) return fail("not_found");
  await deps.stores.bookmarks.add({
    id: newId(),
    memberId: member.id,
    postId: post.id,
    createdAt: deps.now(),
  });
  return ok(post);
}

/** Removes a bookmark (nothing happens when there was none). */
export async function unbookmarkPost(
  deps: Deps,
  member: Member,
  postId: string,
): Promise<Result<Post, "not_found">> {
  const post = await getVisiblePost(deps, memberViewer(member), postId);
  if (!post) return fail("not_found");
  await deps.stores.bookmarks.remove(member.id, post.id);
  return ok(post);
}
