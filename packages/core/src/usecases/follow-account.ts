import type { Deps } from "../deps.ts";
import type { Follow, Member } from "../domain/types.ts";
import { fail, ok, type Result } from "../errors.ts";
import { newId } from "../ids.ts";
import { urlsFor } from "../urls.ts";
import { recordNotification } from "./notifications.ts";

/** Why a follow operation refused. */
export type FollowProblem = "not_found" | "self_follow" | "blocked";

/**
 * A member follows an account. Local accounts that approve followers manually
 * and every remote account start as a pending request; remote follows become
 * accepted when the `Accept` arrives.
 */
export async function followAccount(
  deps: Deps,
  member: Member,
  targetId: string,
): Promise<Result<Follow, FollowProblem>> {
  const target = await deps.stores.actors.getById(targetId);
  if (!target) return fail("not_found");
  if (target.id === member.id) return fail("self_follow");
  if (target.kind === "local") {
    const targetMember = await deps.stores.members.getById(target.id);
    if (targetMember?.status !== "active") return fail("not_found");
  }
  if (await deps.stores.blocks.between(member.id, target.id)) return fail("blocked");
  const followUri = () =>
    `${urlsFor(deps.config.origin).actor(member.username)}/follows/${newId()}`;
  const existing = await deps.stores.follows.get(member.id, target.id);
  if (existing) {
    // Re-send a pending remote request: the first one (or its Accept) may have
    // been lost. Under a new id, or the other server would drop it as a repeat;
    // an Accept of any of our Follows of this account still counts (inbox.ts).
    if (existing.state === "pending" && target.kind === "remote") {
      const retry: Follow = { ...existing, uri: followUri() };
      await deps.stores.transaction(async (tx) => {
        await tx.follows.setUri(existing.id, retry.uri!);
        await tx.outbox.record({ kind: "follow-requested", follow: retry }, deps.now());
      });
      return ok(retry);
    }
    return ok(existing);
  }
  const follow: Follow = {
    id: newId(),
    followerId: member.id,
    followeeId: target.id,
    state: target.kind === "local" && !target.manuallyApprovesFollowers ? "accepted" : "pending",
    // Each Follow sent has an id of its own (a new follow after an unfollow too).
    uri: target.kind === "remote" ? followUri() : null,
    createdAt: deps.now(),
  };
  const created = await deps.stores.transaction(async (tx) => {
    if (!(await tx.follows.create(follow))) return false;
    if (target.kind === "remote")
      await tx.outbox.record({ kind: "follow-requested", follow }, deps.now());
    // The member followed is told (a request when they approve followers).
    else
      await recordNotification(tx, {
        recipientId: target.id,
        type: follow.state === "accepted" ? "follow" : "follow_request",
        accountId: member.id,
        now: deps.now(),
      });
    return true;
  });
  if (!created) {
    // Asked twice at once: the other request made the follow.
    const made = await deps.stores.follows.get(member.id, target.id);
    return made ? ok(made) : fail("not_found");
  }
  return ok(follow);
}

/** A member stops following an account (or withdraws a request). */
export async function unfollowAccount(
  deps: Deps,
  member: Member,
  targetId: string,
): Promise<Result<null, "not_found">> {
  const target = await deps.stores.actors.getById(targetId);
  if (!target) return fail("not_found");
  const follow = await deps.stores.follows.get(member.id, target.id);
  if (follow) {
    await deps.stores.transaction(async (tx) => {
      await tx.follows.delete(follow.id);
      if (target.kind === "remote")
        await tx.outbox.record({ kind: "follow-undone", follow }, deps.now());
    });
  }
  return ok(null);
}

/** Pending follow requests a member has received. */
export async function listFollowRequests(deps: Deps, member: Member): Promise<Follow[]> {
  return deps.stores.follows.listFollowers(member.id, "pending");
}

/** Approves a pending follow request; remote followers get an `Accept`. */
export async function authorizeFollowRequest(
  deps: Deps,
  member: Member,
  followerId: string,
): Promise<Result<Follow, "not_found">> {
  const follow = await deps.stores.follows.get(followerId, member.id);
  if (!follow) return fail("not_found");
  const accepted: Follow = { ...follow, state: "accepted" };
  await deps.stores.transaction(async (tx) => {
    if (follow.state === "pending") await tx.follows.accept(follow.id);
    await tx.outbox.record({ kind: "follow-accepted", follow: accepted }, deps.now());
  });
  return ok(accepted);
}

/**
 * Rejects a pending request, or removes an existing follower: either way the
 * follow is gone and a remote follower gets a `Reject`.
 */
export async function rejectFollower(
  deps: Deps,
  member: Member,
  followerId: string,
): Promise<Result<null, "not_found">> {
  const follow = await deps.stores.follows.get(followerId, member.id);
  if (!follow) return fail("not_found");
  await deps.stores.transaction(async (tx) => {
    await tx.follows.delete(follow.id);
    await tx.outbox.record({ kind: "follow-rejected", follow }, deps.now());
  });
  return ok(null);
}

/** How a member and another account relate, for Mastodon's relationships endpoint. */
export async function relationship(deps: Deps, member: Member, otherId: string) {
  const [out, inbound, blocking, blockedBy, mutes] = await Promise.all([
    deps.stores.follows.get(member.id, otherId),
    deps.stores.follows.get(otherId, member.id),
    deps.stores.facts.blocks(member.id, otherId),
    deps.stores.facts.blocks(otherId, member.id),
    deps.stores.mutes.list(member.id),
  ]);
  return {
    following: out?.state === "accepted",
    requested: out?.state === "pending",
    followedBy: inbound?.state === "accepted",
    requestedBy: inbound?.state === "pending",
    blocking,
    blockedBy,
    muting: mutes.includes(otherId),
  };
}
