import type { Deps } from "../deps.ts";
import type { Member, Post } from "../domain/types.ts";
import { fail, ok, type Result } from "../errors.ts";
import { newId } from "../ids.ts";
import { memberViewer } from "../visibility/visibility.ts";
import { getVisiblePost } from "./get-visible-post.ts";

/** How many posts a member may pin at once (Mastodon's default). */
export const MAX_PINS = 5;

/** Why a pin was refused. */
export type PinProblem =
  /** The post does not exist, or the member may not see it. */
  | "not_found"
  /** Only one's own posts can be pinned. */
  | "pin_not_own"
  /** Direct posts are conversations, not something to show on a profile. */
  | "pin_direct"
  /** `MAX_PINS` posts are pinned already. */
  | "pin_limit";

/**
 * Pins one of the member's own posts to their profile (Mastodon's pinned
 * statuses, the actor's `featured` collection). Any audience but `direct` may
 * be pinned: each viewer sees only the pins the visibility module lets them
 * see, so a circle post pinned shows to that circle alone. Idempotent.
 */
export async function pinPost(
  deps: Deps,
  member: Member,
  postId: string,
): Promise<Result<Post, PinProblem>> {
  const post = await getVisiblePost(deps, memberViewer(member), postId);
  if (!post) return fail("not_found");
  if (post.authorId !== member.id) return fail("pin_not_own", "Only your own posts can be pinned");
  if (post.audience === "direct") return fail("pin_direct", "Direct posts cannot be pinned");
  const outcome = await deps.stores.transaction(async (tx) => {
    const pinned = await tx.pins.add(
      { id: newId(), memberId: member.id, postId: post.id, createdAt: deps.now() },
      MAX_PINS,
    );
    // Other servers read pins from the actor's `featured` collection, and read
    // it again when the actor is updated (Mastodon does): an `Update(Person)`.
    if (pinned === "pinned")
      await tx.outbox.record({ kind: "actor-updated", actorId: member.id }, deps.now());
    return pinned;
  });
  if (outcome === "full") return fail("pin_limit", `You can pin at most ${MAX_PINS} posts`);
  return ok(post);
}

/** Unpins one of the member's posts (nothing happens when it was not pinned). */
export async function unpinPost(
  deps: Deps,
  member: Member,
  postId: string,
): Promise<Result<Post, "not_found">> {
  const post = await getVisiblePost(deps, memberViewer(member), postId);
  if (!post) return fail("not_found");
  await deps.stores.transaction(async (tx) => {
    if (await tx.pins.remove(member.id, post.id))
      await tx.outbox.record({ kind: "actor-updated", actorId: member.id }, deps.now());
  });
  return ok(post);
}
