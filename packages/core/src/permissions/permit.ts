/**
 * The permission table asked inside a transaction: who acts is read again
 * (their role may have changed since they signed in), and owners are counted
 * under the lock that every change of standing or role takes, so two owners
 * stepping down at once cannot both pass the last-owner rule.
 */
import type { Member, Role } from "../domain/types.ts";
import type { Stores } from "../stores/stores.ts";
import { type Action, decide, type Refusal, SERVER_ACTOR } from "./permissions.ts";

/**
 * Who takes an action: a member, or `null` for the server itself (the CLI, or
 * a worker lifting an expired suspension), which has an owner's reach.
 */
export type ActingAs = Member | null;

/**
 * Takes the lock that serializes changes of standing and role (the settings
 * row, which seat-taking locks too) and reads the acting member again.
 * `undefined`: the member may no longer act (not active any more).
 */
export async function lockAndReadActor(tx: Stores, by: ActingAs): Promise<ActingAs | undefined> {
  await tx.settings.getForUpdate();
  if (by === null) return null;
  const fresh = await tx.members.getById(by.id);
  return fresh?.status === "active" ? fresh : undefined;
}

/**
 * Asks the table whether `by` may take `action` (on `target`, giving
 * `newRole`), counting active owners when the last-owner rule may apply.
 * Call it after `lockAndReadActor`, in the same transaction.
 */
export async function permit(
  tx: Stores,
  by: ActingAs,
  action: Action,
  target?: Member,
  newRole?: Role,
): Promise<Refusal | null> {
  const actor = by ? { id: by.id, role: by.role } : SERVER_ACTOR;
  const ownerInvolved = target !== undefined && (target.role === "owner" || target.id === actor.id);
  // The rule is that an active owner remains: a suspended owner acted on is counted as
  // one more (acting on them takes no active owner away).
  const owners = ownerInvolved
    ? (await tx.members.countActiveOwners()) +
      (target.role === "owner" && target.status !== "active" ? 1 : 0)
    : undefined;
  return decide({
    actor,
    action,
    ...(target ? { target: { id: target.id, role: target.role } } : {}),
    ...(newRole !== undefined ? { newRole } : {}),
    ...(owners !== undefined ? { owners } : {}),
  });
}
