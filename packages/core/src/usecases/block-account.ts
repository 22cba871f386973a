import type { Deps } from "../deps.ts";
import type { Follow, Member } from "../domain/types.ts";
import { fail, ok, type Result } from "../errors.ts";
import type { Stores } from "../stores/stores.ts";

/**
 * Records that `blockerId` blocks `blockedId` and ends the follows between
 * them, both ways, in one transaction; returns the follows that ended. Used
 * for a member's block and for a `Block` received from elsewhere.
 */
export function recordBlock(
  stores: Stores,
  blockerId: string,
  blockedId: string,
  uri: string | null,
  at: Date,
): Promise<Follow[]> {
  return stores.transaction(async (tx) => {
    await tx.blocks.add(blockerId, blockedId, uri, at);
    const ended: Follow[] = [];
    for (const [a, b] of [
      [blockerId, blockedId],
      [blockedId, blockerId],
    ] as const) {
      const follow = await tx.follows.get(a, b);
      if (follow) {
        await tx.follows.delete(follow.id);
        ended.push(follow);
      }
    }
    return ended;
  });
}

/**
 * A member blocks an account: follows end both ways, the blocked account can
 * no longer see the member's non-public posts, follow, reply or mention them,
 * and a remote account's server is sent a `Block`.
 */
export async function blockAccount(
  deps: Deps,
  member: Member,
  targetId: string,
): Promise<Result<null, "not_found" | "self_block">> {
  const target = await deps.stores.actors.getById(targetId);
  if (!target) return fail("not_found");
  if (target.id === member.id) return fail("self_block");
  await deps.stores.transaction(async (tx) => {
    const ended = await recordBlock(tx, member.id, target.id, null, deps.now());
    if (target.kind !== "remote") return;
    for (const follow of ended) {
      await tx.outbox.record(
        follow.followerId === member.id
          ? { kind: "follow-undone", follow }
          : { kind: "follow-rejected", follow },
        deps.now(),
      );
    }
    await tx.outbox.record(
      { kind: "blocked", blockerId: member.id, blockedId: target.id },
      deps.now(),
    );
  });
  return ok(null);
}

/** Lifts a block; a remote account's server is sent `Undo(Block)`. */
export async function unblockAccount(
  deps: Deps,
  member: Member,
  targetId: string,
): Promise<Result<null, "not_found">> {
  const target = await deps.stores.actors.getById(targetId);
  if (!target) return fail("not_found");
  if (await deps.stores.facts.blocks(member.id, target.id)) {
    await deps.stores.transaction(async (tx) => {
      await tx.blocks.remove(member.id, target.id);
      if (target.kind === "remote")
        await tx.outbox.record(
          { kind: "unblocked", blockerId: member.id, blockedId: target.id },
          deps.now(),
        );
    });
  }
  return ok(null);
}

/** Mutes an account: its posts stay visible but leave the member's home feed. */
export async function muteAccount(
  deps: Deps,
  member: Member,
  targetId: string,
): Promise<Result<null, "not_found">> {
  const target = await deps.stores.actors.getById(targetId);
  if (!target || target.id === member.id) return fail("not_found");
  await deps.stores.mutes.add(member.id, target.id, deps.now());
  return ok(null);
}

/** Ends a mute. */
export async function unmuteAccount(
  deps: Deps,
  member: Member,
  targetId: string,
): Promise<Result<null, "not_found">> {
  await deps.stores.mutes.remove(member.id, targetId);
  return ok(null);
}
