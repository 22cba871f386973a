import type { Deps } from "../deps.ts";
import type { Member, Notification } from "../domain/types.ts";
import { fail, ok, type Result } from "../errors.ts";
import { isId } from "../ids.ts";
import type { Refusal } from "../permissions/permissions.ts";
import { type ActingAs, lockAndReadActor, permit } from "../permissions/permit.ts";
import { recordWarning } from "./notifications.ts";

/** Why `warnMember` refused. */
export type WarnMemberProblem = "not_found" | Refusal;

/**
 * A moderator warns a member: nothing changes but that the member is told
 * why (a `moderation_warning` with the action `none`, as Mastodon's).
 */
export async function warnMember(
  deps: Deps,
  by: ActingAs,
  targetId: string,
  text: string,
): Promise<Result<{ member: Member; notification: Notification }, WarnMemberProblem>> {
  if (!isId(targetId)) return fail("not_found");
  return deps.stores.transaction(async (tx) => {
    const actor = await lockAndReadActor(tx, by);
    if (actor === undefined) return fail("not_allowed");
    const target = await tx.members.getById(targetId);
    if (!target || target.status === "removed") return fail("not_found");
    const refusal = await permit(tx, actor, "member.warn", target);
    if (refusal) return fail(refusal);
    const notification = await recordWarning(tx, deps.now(), target.id, {
      action: "none",
      text,
      statusIds: [],
    });
    return ok({ member: target, notification });
  });
}
