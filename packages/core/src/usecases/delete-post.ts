import type { Deps } from "../deps.ts";
import type { Member, Post } from "../domain/types.ts";
import { fail, ok, type Result } from "../errors.ts";
import { permit } from "../permissions/permit.ts";
import type { Stores } from "../stores/stores.ts";
import { getVisiblePost } from "./get-visible-post.ts";

/**
 * Deletes a post inside a transaction: its row stays as a tombstone (its id
 * answers 410 Gone), its photos go with their files, and every server it
 * reached is sent a `Delete`.
 */
export async function erasePost(tx: Stores, now: Date, post: Post): Promise<void> {
  await tx.posts.markDeleted(post.id, now);
  // A deleted post's photos go with it, files included.
  const keys = await tx.media.deleteByPost(post.id);
  if (keys.length > 0) await tx.outbox.record({ kind: "media-deleted", keys }, now);
  // Recipients are worked out from the post as it was; its links are kept for that.
  await tx.outbox.record({ kind: "post-deleted", post }, now);
}

/**
 * Deletes a post. Its author may; so may whoever the permission table lets
 * remove its author's posts (local posts they can see). A moderator's removal
 * with a reason, which tells the author, is `removePost`.
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
  return deps.stores.transaction(async (tx) => {
    if (post.authorId !== by.id) {
      const author = post.uri === null ? await tx.members.getById(post.authorId) : null;
      if (!author || (await permit(tx, by, "post.remove", author)) !== null)
        return fail("not_allowed");
    }
    await erasePost(tx, deps.now(), post);
    return ok(post);
  });
}
