import type { Deps } from "../deps.ts";
import type { Circle, Member } from "../domain/types.ts";
import { fail, ok, type Result } from "../errors.ts";
import { isId, newId } from "../ids.ts";
import type { Stores } from "../stores/stores.ts";

/** Longest circle name. */
export const MAX_CIRCLE_NAME = 100;
/** Most actors in one circle. */
export const MAX_CIRCLE_SIZE = 500;

/** Why a circle operation refused. */
export type CircleProblem = "not_found" | "invalid_name" | "too_many_members" | "unknown_actor";

function checkName(name: string): boolean {
  const n = name.trim();
  return n.length > 0 && n.length <= MAX_CIRCLE_NAME;
}

async function checkActors(deps: Deps, ids: readonly string[]): Promise<CircleProblem | null> {
  const unique = [...new Set(ids)];
  if (unique.length > MAX_CIRCLE_SIZE) return "too_many_members";
  if (unique.some((id) => !isId(id))) return "unknown_actor";
  const found = await deps.stores.actors.getByIds(unique);
  return found.length === unique.length ? null : "unknown_actor";
}

/** The owner's circle, or `null`: other people's circles do not exist for them. */
async function ownCircle(deps: Deps, owner: Member, id: string): Promise<Circle | null> {
  if (!isId(id)) return null;
  const circle = await deps.stores.circles.getById(id);
  return circle && circle.ownerId === owner.id ? circle : null;
}

/** Creates a circle of chosen members and remote actors. */
export async function createCircle(
  deps: Deps,
  owner: Member,
  input: { name: string; memberIds?: string[] },
): Promise<Result<Circle, CircleProblem>> {
  if (!checkName(input.name)) return fail("invalid_name");
  const memberIds = [...new Set(input.memberIds ?? [])];
  const problem = await checkActors(deps, memberIds);
  if (problem) return fail(problem);
  const circle: Circle = {
    id: newId(),
    ownerId: owner.id,
    name: input.name.trim(),
    memberIds,
    createdAt: deps.now(),
  };
  await deps.stores.transaction((tx) => tx.circles.create(circle));
  return ok(circle);
}

/** Lists a member's own circles. */
export function listCircles(deps: Deps, owner: Member): Promise<Circle[]> {
  return deps.stores.circles.listByOwner(owner.id);
}

/** Reads one of the member's own circles. */
export async function getCircle(deps: Deps, owner: Member, id: string): Promise<Circle | null> {
  return ownCircle(deps, owner, id);
}

/**
 * Renames a circle and/or replaces who is in it. Removing someone takes away
 * their access to the circle's posts at once: visibility is checked against
 * the circle as it is now.
 */
export async function updateCircle(
  deps: Deps,
  owner: Member,
  id: string,
  input: { name?: string; memberIds?: string[] },
): Promise<Result<Circle, CircleProblem>> {
  const circle = await ownCircle(deps, owner, id);
  if (!circle) return fail("not_found");
  if (input.name !== undefined && !checkName(input.name)) return fail("invalid_name");
  if (input.memberIds !== undefined) {
    const problem = await checkActors(deps, input.memberIds);
    if (problem) return fail(problem);
  }
  await deps.stores.transaction(async (tx) => {
    if (input.name !== undefined) await tx.circles.rename(id, input.name.trim());
    if (input.memberIds !== undefined) {
      await tx.circles.setMembers(id, input.memberIds);
      const kept = new Set(input.memberIds);
      const removed = circle.memberIds.filter((m) => !kept.has(m));
      if (removed.length > 0) await recallCirclePosts(deps, tx, id, removed);
    }
  });
  return ok((await deps.stores.circles.getById(id))!);
}

/**
 * People removed from a circle lose its posts at once here (visibility reads
 * the circle as it is now); remote servers are sent a `Delete` of each post
 * (the owner's and the replies in it), which is all that can be recalled from them.
 */
async function recallCirclePosts(
  deps: Deps,
  tx: Stores,
  circleId: string,
  removed: readonly string[],
): Promise<void> {
  for (const post of await tx.posts.listInCircle(circleId))
    await tx.outbox.record({ kind: "post-recalled", post, actorIds: removed }, deps.now());
}

/** Deletes a circle. Its posts then stay visible only to their author. */
export async function deleteCircle(
  deps: Deps,
  owner: Member,
  id: string,
): Promise<Result<null, "not_found">> {
  const circle = await ownCircle(deps, owner, id);
  if (!circle) return fail("not_found");
  await deps.stores.transaction((tx) => tx.circles.delete(id));
  return ok(null);
}
