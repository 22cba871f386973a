import type { Deps } from "../deps.ts";
import type { ActorSanction, ActorSanctionKind } from "../domain/remote-moderation.ts";
import type { Actor } from "../domain/types.ts";
import { fail, ok, type Result } from "../errors.ts";
import { isId } from "../ids.ts";
import { type PurgeSummary, purgeRemoteActors } from "./purge-remote-actors.ts";

/** Why a remote account cannot be sanctioned. */
export type SanctionProblem =
  /** No such account. */
  | "not_found"
  /** A member of this Clique: members are suspended and removed by member moderation. */
  | "not_remote";

/** What a sanction did. */
export interface Sanctioned {
  actor: Actor;
  /** False when the account already had this sanction (nothing changed). */
  added: boolean;
  /** What a suspension purged (nothing for a silence). */
  purged: PurgeSummary | null;
}

async function remoteActor(deps: Deps, actorId: string): Promise<Result<Actor, SanctionProblem>> {
  const actor = isId(actorId) ? await deps.stores.actors.getById(actorId) : null;
  if (!actor) return fail("not_found");
  if (actor.kind !== "remote") return fail("not_remote");
  return ok(actor);
}

/**
 * Suspends or silences one remote account. A suspension is a domain block for
 * one account: its follows either way end, what is stored of it is purged
 * (`purgeRemoteActors`), and nothing is accepted from or sent to it. A silence
 * is a limit for one account: its posts reach only the members who follow it
 * (and those they are addressed to), and it must ask to follow.
 */
export async function sanctionRemoteAccount(
  deps: Deps,
  actorId: string,
  kind: ActorSanctionKind,
  reason: string,
  by: string | null,
): Promise<Result<Sanctioned, SanctionProblem>> {
  const found = await remoteActor(deps, actorId);
  if (!found.ok) return found;
  const sanction: ActorSanction = {
    actorId: found.value.id,
    kind,
    reason,
    createdBy: by,
    createdAt: deps.now(),
  };
  const added = await deps.stores.remoteModeration.addSanction(sanction);
  deps.standing.invalidate();
  // Purged again even when it was suspended already: whatever slipped in meanwhile goes too.
  const purged = kind === "suspend" ? await purgeRemoteActors(deps, [found.value.id]) : null;
  return ok({ actor: found.value, added, purged });
}

/**
 * Lifts a suspension or silence. A lifted suspension restores nothing that
 * was purged; the account may follow again. Whether there was one to lift.
 */
export async function liftRemoteSanction(
  deps: Deps,
  actorId: string,
  kind: ActorSanctionKind,
): Promise<Result<{ actor: Actor; lifted: boolean }, SanctionProblem>> {
  const found = await remoteActor(deps, actorId);
  if (!found.ok) return found;
  const lifted = await deps.stores.remoteModeration.removeSanction(found.value.id, kind);
  deps.standing.invalidate();
  return ok({ actor: found.value, lifted });
}

/**
 * Rejects every follow request a remote account has pending with members
 * here: each is removed and its server is sent a `Reject(Follow)` (unless the
 * account is suspended or its server blocked, which are sent nothing).
 * Returns how many there were.
 */
export async function rejectPendingFollows(
  deps: Deps,
  actorId: string,
): Promise<Result<{ actor: Actor; rejected: number }, SanctionProblem>> {
  const found = await remoteActor(deps, actorId);
  if (!found.ok) return found;
  const pending = await deps.stores.follows.listFollowing(found.value.id, "pending");
  let rejected = 0;
  for (const follow of pending) {
    const followee = await deps.stores.members.getById(follow.followeeId);
    if (!followee) continue;
    await deps.stores.transaction(async (tx) => {
      await tx.follows.delete(follow.id);
      await tx.outbox.record({ kind: "follow-rejected", follow }, deps.now());
    });
    rejected++;
  }
  return ok({ actor: found.value, rejected });
}
