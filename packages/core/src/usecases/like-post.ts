import type { Deps } from "../deps.ts";
import type { Member, Post } from "../domain/types.ts";
import { fail, ok, type Result } from "../errors.ts";
import { newId } from "../ids.ts";
import { mayInteract, memberViewer } from "../visibility/visibility.ts";
import { getVisiblePost } from "./get-visible-post.ts";
import { recordNotification } from "./notifications.ts";

/** Likes (favourites) a post the member can see; remote authors get a `Like`. */
export async function likePost(
  deps: Deps,
  member: Member,
  postId: string,
): Promise<Result<Post, "not_found" | "not_allowed">> {
  const viewer = memberViewer(member);
  const post = await getVisiblePost(deps, viewer, postId);
  if (!post) return fail("not_found");
  // The author's interaction policy decides who may like.
  if (!(await mayInteract(viewer, post, "like", deps.stores.facts))) return fail("not_allowed");
  const likeId = newId();
  await deps.stores.transaction(async (tx) => {
    const added = await tx.interactions.add({
      id: likeId,
      kind: "like",
      actorId: member.id,
      postId: post.id,
      uri: null,
      createdAt: deps.now(),
    });
    if (added) {
      await tx.outbox.record({ kind: "liked", likeId, actorId: member.id, post }, deps.now());
      // The author is told, once per like.
      await recordNotification(tx, {
        recipientId: post.authorId,
        type: "favourite",
        accountId: member.id,
        postId: post.id,
        now: deps.now(),
      });
    }
  });
  return ok(post);
}

/** Takes a like back; remote authors get an `Undo(Like)`. */
export async function unlikePost(
  deps: Deps,
  member: Member,
  postId: string,
): Promise<Result<Post, "not_found">> {
  const post = await getVisiblePost(deps, memberViewer(member), postId);
  if (!post) return fail("not_found");
  await deps.stores.transaction(async (tx) => {
    const likeId = await tx.interactions.remove("like", member.id, post.id);
    if (likeId)
      await tx.outbox.record({ kind: "unliked", likeId, actorId: member.id, post }, deps.now());
  });
  return ok(post);
}
