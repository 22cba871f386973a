import type { Deps } from "../deps.ts";
import type { Member, MemberStatus } from "../domain/types.ts";
import { fail, ok, type Result } from "../errors.ts";

/**
 * Suspends, removes or reinstates a member. Suspension and removal end every
 * session and token of the member in the same transaction.
 */
export async function setMemberStatus(
  deps: Deps,
  memberId: string,
  status: MemberStatus,
): Promise<Result<Member, "not_found" | "owner_protected" | "clique_full">> {
  return deps.stores.transaction(async (tx) => {
    const settings = await tx.settings.getForUpdate();
    const member = await tx.members.getById(memberId);
    if (!member) return fail("not_found");
    if (member.role === "owner" && status !== "active")
      return fail("owner_protected", "The owner cannot be suspended or removed.");
    // A removed member coming back needs a free seat again.
    if (member.status === "removed" && status !== "removed" && settings) {
      if ((await tx.members.countSeated()) >= settings.memberCap) return fail("clique_full");
    }
    const now = deps.now();
    await tx.members.setStatus(memberId, status, now);
    if (status !== "active") await tx.tokens.revokeAllFor(memberId, now);
    if (status === "removed" && member.status !== "removed") {
      // A removed member's photos and videos are deleted, files included, and
      // so are the avatar and header.
      const keys = [
        ...(await tx.media.deleteByOwner(memberId)),
        ...(await tx.members.setProfileImages(memberId, { avatar: null, header: null })),
      ];
      if (keys.length > 0) await tx.outbox.record({ kind: "media-deleted", keys }, now);
    }
    if (status !== member.status && status !== "active")
      await tx.outbox.record(
        status === "removed"
          ? { kind: "member-removed", memberId }
          : { kind: "member-suspended", memberId },
        now,
      );
    return ok({ ...member, status });
  });
}
