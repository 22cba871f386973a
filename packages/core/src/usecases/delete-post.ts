import type { Deps } from "../deps.ts";
import type { Member, Post } from "../domain/types.ts";
import { fail, ok, type Result } from "../errors.ts";
import { getVisiblePost } from "./get-visible-post.ts";

/** Roles that may delete other members' posts. */
const MODERATING_ROLES = new Set(["owner", "admin", "moderator"]);

/**
 * Deletes a post. Its author may, and so may moderators (for local posts).
 * Returns the post as it was, so clients can offer "delete and redraft".
 */
export async function deletePost(
  deps: Deps,
  by: Member,
  postId: string,
): Promise<Result<Post, "not_found" | "not_allowed">> {
  const viewer = { kind: "member", actorId: by.id, role: by.role } as const;
  const post = await getVisiblePost(deps, viewer, postId);
  if (!post) return fail("not_found");
  if (post.authorId !== by.id && !(MODERATING_ROLES.has(by.role) && post.uri === null))
    return fail("not_allowed");
  await deps.stores.transaction(async (tx) => {
    await tx.posts.markDeleted(post.id, deps.now());
    // A deleted post's photos go with it, files included.
    const keys = await tx.media.deleteByPost(post.id);
    if (keys.length > 0) await tx.outbox.record({ kind: "media-deleted", keys }, deps.now());
    // Recipients are worked out from the post as it was; its links are kept for that.
    await tx.outbox.record({ kind: "post-deleted", post }, deps.now());
  });
  return ok(post);
}
