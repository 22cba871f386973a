import type { Deps } from "../deps.ts";
import type { Member, MemberStatus } from "../domain/types.ts";
import { fail, ok, type Result } from "../errors.ts";
import { isId } from "../ids.ts";
import type { Refusal } from "../permissions/permissions.ts";
import { removeMember } from "./remove-member.ts";
import { suspendMember, unsuspendMember } from "./suspend-member.ts";

/**
 * The server sets a member's standing (the CLI's `member set-status`, the
 * fixture world): suspension (until lifted) and removal (posts kept hidden)
 * are `suspendMember` and `removeMember` acting as the server, so the same
 * table and the same federation apply; `active` lifts a suspension, or takes
 * a removed member back if a seat is free (the server alone may).
 */
export async function setMemberStatus(
  deps: Deps,
  memberId: string,
  status: MemberStatus,
): Promise<
  Result<Member, "not_found" | "clique_full" | "not_suspended" | "invalid_until" | Refusal>
> {
  if (!isId(memberId)) return fail("not_found");
  const member = await deps.stores.members.getById(memberId);
  if (!member) return fail("not_found");
  if (status === member.status) return ok(member);
  switch (status) {
    case "suspended":
      return suspendMember(deps, null, memberId, { until: null, reason: "" });
    case "removed":
      return removeMember(deps, null, memberId, { deleteContent: false });
    case "active":
      if (member.status === "suspended") return unsuspendMember(deps, null, memberId);
      return reinstate(deps, memberId);
    default: {
      const unreachable: never = status;
      throw new Error(`unknown status ${String(unreachable)}`);
    }
  }
}

/** A removed member comes back: only with a free seat (their content and actor were deleted elsewhere). */
async function reinstate(
  deps: Deps,
  memberId: string,
): Promise<Result<Member, "not_found" | "clique_full">> {
  return deps.stores.transaction(async (tx) => {
    const settings = await tx.settings.getForUpdate();
    const member = await tx.members.getById(memberId);
    if (!member) return fail("not_found");
    if (member.status !== "removed") return ok(member);
    if (settings && (await tx.members.countSeated()) >= settings.memberCap)
      return fail("clique_full");
    await tx.members.setStatus(memberId, "active", deps.now());
    return ok({ ...member, status: "active" as const });
  });
}
