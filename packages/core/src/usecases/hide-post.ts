import type { Deps } from "../deps.ts";
import type { Post } from "../domain/types.ts";
import { fail, ok, type Result } from "../errors.ts";
import { isId } from "../ids.ts";
import type { Refusal } from "../permissions/permissions.ts";
import { type ActingAs, lockAndReadActor, permit } from "../permissions/permit.ts";

/** Why `hidePost` or `unhidePost` refused. */
export type HidePostProblem = "not_found" | "not_remote" | Refusal;

async function setHidden(
  deps: Deps,
  by: ActingAs,
  postId: string,
  hidden: boolean,
): Promise<Result<Post, HidePostProblem>> {
  if (!isId(postId)) return fail("not_found");
  return deps.stores.transaction(async (tx) => {
    const actor = await lockAndReadActor(tx, by);
    if (actor === undefined) return fail("not_allowed");
    const refusal = await permit(tx, actor, "post.hide");
    if (refusal) return fail(refusal);
    const post = await tx.posts.getById(postId);
    if (!post || post.deletedAt !== null) return fail("not_found");
    // A local post is removed (and its author told), not hidden.
    if (post.uri === null)
      return fail(
        "not_remote",
        "Only posts from elsewhere can be hidden: remove a member's post instead.",
      );
    const isHidden = (post.hiddenAt ?? null) !== null;
    const at = hidden ? (post.hiddenAt ?? deps.now()) : null;
    if (isHidden !== hidden) await tx.posts.setHidden(post.id, at);
    return ok({ ...post, hiddenAt: at });
  });
}

/**
 * A moderator hides a post from elsewhere from the whole Clique: to every
 * viewer, on every surface, it is as gone as a deleted post (the visibility
 * module's first rule), its attachments included. Its own server keeps it;
 * nothing is sent. Idempotent.
 */
export function hidePost(
  deps: Deps,
  by: ActingAs,
  postId: string,
): Promise<Result<Post, HidePostProblem>> {
  return setHidden(deps, by, postId, true);
}

/** Shows a hidden post again. Idempotent. */
export function unhidePost(
  deps: Deps,
  by: ActingAs,
  postId: string,
): Promise<Result<Post, HidePostProblem>> {
  return setHidden(deps, by, postId, false);
}
