import type { Deps } from "../deps.ts";
import type { Member } from "../domain/types.ts";
import { fail, ok, type Result } from "../errors.ts";
import { isId } from "../ids.ts";
import type { Refusal } from "../permissions/permissions.ts";
import { type ActingAs, lockAndReadActor, permit } from "../permissions/permit.ts";
import { recordWarning } from "./notifications.ts";

/** Why `suspendMember` refused. */
export type SuspendMemberProblem = "not_found" | "invalid_until" | Refusal;

/** Why `unsuspendMember` refused. */
export type UnsuspendMemberProblem = "not_found" | "not_suspended" | Refusal;

/**
 * A moderator suspends a member, until `until` or until lifted (`null`).
 * Reversible, and distinct from removal: the member keeps the seat, their
 * posts and follows, but cannot sign in (every session and token ends now),
 * their posts are hidden from everyone meanwhile, and other servers are sent
 * an `Update` of the actor saying it is suspended (`member-suspended`). They
 * are told why (a `moderation_warning`, read once the suspension ends).
 * Suspending a suspended member changes the end date only.
 */
export async function suspendMember(
  deps: Deps,
  by: ActingAs,
  targetId: string,
  options: { until: Date | null; reason: string },
): Promise<Result<Member, SuspendMemberProblem>> {
  if (!isId(targetId)) return fail("not_found");
  const now = deps.now();
  if (options.until !== null && !(options.until.getTime() > now.getTime()))
    return fail("invalid_until", "A suspension must end in the future (or not by itself).");
  return deps.stores.transaction(async (tx) => {
    const actor = await lockAndReadActor(tx, by);
    if (actor === undefined) return fail("not_allowed");
    const target = await tx.members.getById(targetId);
    if (!target || target.status === "removed") return fail("not_found");
    const refusal = await permit(tx, actor, "member.suspend", target);
    if (refusal) return fail(refusal);
    await tx.members.setStatus(target.id, "suspended", now, options.until);
    await tx.tokens.revokeAllFor(target.id, now);
    if (target.status === "active") {
      await tx.outbox.record({ kind: "member-suspended", memberId: target.id }, now);
      await recordWarning(tx, now, target.id, {
        action: "suspend",
        text: options.reason,
        statusIds: [],
        until: options.until?.toISOString() ?? null,
      });
    }
    return ok({ ...target, status: "suspended", suspendedUntil: options.until });
  });
}

/**
 * Lifts a suspension: the member may sign in again, their posts are back,
 * and other servers are sent an `Update` of the actor (`member-unsuspended`).
 * With `endedBy`, only a suspension whose end date has come (the worker's case).
 */
export async function unsuspendMember(
  deps: Deps,
  by: ActingAs,
  targetId: string,
  options: { endedBy?: Date } = {},
): Promise<Result<Member, UnsuspendMemberProblem>> {
  if (!isId(targetId)) return fail("not_found");
  return deps.stores.transaction(async (tx) => {
    const actor = await lockAndReadActor(tx, by);
    if (actor === undefined) return fail("not_allowed");
    const target = await tx.members.getById(targetId);
    if (!target || target.status === "removed") return fail("not_found");
    if (target.status !== "suspended") return fail("not_suspended");
    if (
      options.endedBy &&
      (target.suspendedUntil === null || target.suspendedUntil > options.endedBy)
    )
      return fail("not_suspended", "The suspension has not ended yet.");
    const refusal = await permit(tx, actor, "member.suspend", target);
    if (refusal) return fail(refusal);
    const now = deps.now();
    await tx.members.setStatus(target.id, "active", now);
    await tx.outbox.record({ kind: "member-unsuspended", memberId: target.id }, now);
    return ok({ ...target, status: "active", suspendedUntil: null });
  });
}

/** Suspended members whose suspension has ended by now (the worker lifts them). */
export async function endedSuspensions(deps: Deps): Promise<Member[]> {
  const now = deps.now();
  return (await deps.stores.members.list({ status: "suspended" })).filter(
    (m) => m.suspendedUntil !== null && m.suspendedUntil <= now,
  );
}

/** When the next suspension ends by itself, if any does. */
export async function nextSuspensionEnd(deps: Deps): Promise<Date | null> {
  let next: Date | null = null;
  for (const m of await deps.stores.members.list({ status: "suspended" }))
    if (m.suspendedUntil && (next === null || m.suspendedUntil < next)) next = m.suspendedUntil;
  return next;
}
