import type { Deps } from "../deps.ts";
import type { Member, Post } from "../domain/types.ts";
import { fail, ok, type Result } from "../errors.ts";
import { newId } from "../ids.ts";
import type { Boost, BoostAudience } from "../stores/stores.ts";
import { mayInteract, memberViewer, OPEN_AUDIENCES } from "../visibility/visibility.ts";
import { getVisiblePost } from "./get-visible-post.ts";
import { recordNotification } from "./notifications.ts";

/** Why a boost was refused. */
export type BoostProblem =
  /** The post does not exist, or the member may not see it. */
  | "not_found"
  /** Only posts open to everyone can be boosted (a boost would show any other to new people). */
  | "not_boostable"
  /** The author's interaction policy does not let this member boost, or a block stands between them. */
  | "not_allowed";

/** A boost and the post it boosts. */
export interface BoostResult {
  boost: Boost;
  post: Post;
}

/**
 * Boosts (reblogs) a post the member may see. Only posts whose audience is
 * open to everyone (public, unlisted) can be boosted, and only as the author's
 * interaction policy allows; the boost itself is shown to everyone or to the
 * member's followers (`audience`). Idempotent: boosting again returns the
 * existing boost. Federated as an `Announce`; a local author is told.
 */
export async function boostPost(
  deps: Deps,
  member: Member,
  postId: string,
  options: { audience?: BoostAudience } = {},
): Promise<Result<BoostResult, BoostProblem>> {
  const viewer = memberViewer(member);
  const post = await getVisiblePost(deps, viewer, postId);
  if (!post) return fail("not_found");
  // Circle, Clique-only, followers, friends and direct posts stay with their audience.
  if (!OPEN_AUDIENCES.includes(post.audience))
    return fail("not_boostable", "Only posts open to everyone (public or unlisted) can be boosted");
  if (!(await mayInteract(viewer, post, "boost", deps.stores.facts))) return fail("not_allowed");
  const audience = options.audience ?? "public";
  const boost = await deps.stores.transaction(async (tx) => {
    const boostId = newId();
    const added = await tx.interactions.add({
      id: boostId,
      kind: "boost",
      actorId: member.id,
      postId: post.id,
      uri: null,
      createdAt: deps.now(),
      audience,
    });
    if (added) {
      await tx.outbox.record(
        { kind: "boosted", boostId, actorId: member.id, post, audience },
        deps.now(),
      );
      // The author is told, once per boost.
      await recordNotification(tx, {
        recipientId: post.authorId,
        type: "reblog",
        accountId: member.id,
        postId: post.id,
        now: deps.now(),
      });
    }
    return tx.interactions.getBoost(member.id, post.id);
  });
  if (!boost) return fail("not_found");
  return ok({ boost, post });
}

/**
 * Takes a boost back (nothing happens when there was none); federated as an
 * `Undo(Announce)`. The post must still be one the member may see.
 */
export async function unboostPost(
  deps: Deps,
  member: Member,
  postId: string,
): Promise<Result<Post, "not_found">> {
  const post = await getVisiblePost(deps, memberViewer(member), postId);
  if (!post) return fail("not_found");
  await deps.stores.transaction(async (tx) => {
    const boost = await tx.interactions.getBoost(member.id, post.id);
    if (!boost) return;
    await tx.interactions.remove("boost", member.id, post.id);
    await tx.outbox.record(
      {
        kind: "unboosted",
        boostId: boost.id,
        actorId: member.id,
        post,
        audience: boost.audience,
      },
      deps.now(),
    );
  });
  return ok(post);
}
