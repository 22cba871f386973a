import type { Deps } from "../deps.ts";
import type { Post } from "../domain/types.ts";
import { fail, ok, type Result } from "../errors.ts";
import { isId } from "../ids.ts";
import type { Refusal } from "../permissions/permissions.ts";
import { type ActingAs, lockAndReadActor, permit } from "../permissions/permit.ts";
import { erasePost } from "./delete-post.ts";
import { recordWarning } from "./notifications.ts";

/** Why `removePost` refused. */
export type RemovePostProblem = "not_found" | "not_local" | Refusal;

/**
 * A moderator removes a member's post, giving a reason. It goes as a delete
 * does (gone from every surface, its photos deleted with their files, a
 * `Delete` to every server it reached, its id answering 410 Gone), and its
 * author is told what was removed and why (a `moderation_warning`).
 *
 * Any local post, whoever may see it: moderators act on what is reported to
 * them. The table decides (`post.remove`, with rank over the author); `null`
 * acts as the server (the CLI). Returns the post as it was.
 */
export async function removePost(
  deps: Deps,
  by: ActingAs,
  postId: string,
  reason: string,
): Promise<Result<Post, RemovePostProblem>> {
  if (!isId(postId)) return fail("not_found");
  return deps.stores.transaction(async (tx) => {
    const actor = await lockAndReadActor(tx, by);
    if (actor === undefined) return fail("not_allowed");
    const post = await tx.posts.getById(postId);
    if (!post || post.deletedAt !== null) return fail("not_found");
    // A remote post is its own server's to delete; here it can only be hidden.
    if (post.uri !== null)
      return fail(
        "not_local",
        "Only this Clique's posts can be removed: hide a remote post instead.",
      );
    const author = await tx.members.getById(post.authorId);
    if (!author) return fail("not_found");
    const refusal = await permit(tx, actor, "post.remove", author);
    if (refusal) return fail(refusal);
    const now = deps.now();
    await erasePost(tx, now, post);
    await recordWarning(tx, now, author.id, {
      action: "delete_statuses",
      text: reason,
      statusIds: [post.id],
    });
    return ok(post);
  });
}
