import type { Deps } from "../deps.ts";
import type { Member } from "../domain/types.ts";
import { fail, ok, type Result } from "../errors.ts";
import { isId } from "../ids.ts";
import type { Refusal } from "../permissions/permissions.ts";
import { type ActingAs, lockAndReadActor, permit } from "../permissions/permit.ts";
import type { Stores } from "../stores/stores.ts";

/** Why `removeMember` refused. */
export type RemoveMemberProblem = "not_found" | Refusal;

/** What becomes of a removed member's posts. */
export interface RemovalOptions {
  /**
   * `true`: every post is deleted (each id answers 410 Gone for good).
   * `false`: the posts stay on this server for the moderators' record,
   * hidden from everyone (a removed author's posts are invisible) — their ids
   * answer 410 all the same. Other servers are told to delete everything either way.
   */
  deleteContent: boolean;
}

/**
 * Ends a membership, in the caller's transaction: the seat is freed, every
 * session and token ends at once (authentication reads the status on every
 * request, so the very next one is refused), photos, videos, avatar and
 * header are deleted with their files, the posts are deleted or kept hidden,
 * and `member-removed` is recorded: the publisher sends a `Delete` of the
 * actor to every server the member had to do with.
 */
export async function endMembership(
  tx: Stores,
  now: Date,
  member: Member,
  options: RemovalOptions,
): Promise<Member> {
  await tx.members.setStatus(member.id, "removed", now);
  await tx.tokens.revokeAllFor(member.id, now);
  const keys = [
    ...(await tx.media.deleteByOwner(member.id)),
    ...(await tx.members.setProfileImages(member.id, { avatar: null, header: null })),
  ];
  if (keys.length > 0) await tx.outbox.record({ kind: "media-deleted", keys }, now);
  // No Delete per post: the Delete of the actor tells every server to drop them all.
  if (options.deleteContent) await tx.posts.markDeletedByAuthor(member.id, now);
  await tx.outbox.record({ kind: "member-removed", memberId: member.id }, now);
  return { ...member, status: "removed", suspendedUntil: null, avatar: null, header: null };
}

/**
 * A moderator (or the server: `by` null) removes a member from the Clique.
 * The table decides (`member.remove`: rank over them; the last owner stays).
 */
export async function removeMember(
  deps: Deps,
  by: ActingAs,
  targetId: string,
  options: RemovalOptions,
): Promise<Result<Member, RemoveMemberProblem>> {
  if (!isId(targetId)) return fail("not_found");
  return deps.stores.transaction(async (tx) => {
    const actor = await lockAndReadActor(tx, by);
    if (actor === undefined) return fail("not_allowed");
    const target = await tx.members.getById(targetId);
    if (!target || target.status === "removed") return fail("not_found");
    const refusal = await permit(tx, actor, "member.remove", target);
    if (refusal) return fail(refusal);
    return ok(await endMembership(tx, deps.now(), target, options));
  });
}
