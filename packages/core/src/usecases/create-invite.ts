import { hashSecret, randomSecret } from "../auth/secrets.ts";
import type { Deps } from "../deps.ts";
import type { Invite, Member } from "../domain/types.ts";
import { fail, ok, type Result } from "../errors.ts";
import { newId } from "../ids.ts";
import { mayTake } from "../permissions/permissions.ts";
import { urlsFor } from "../urls.ts";

/** Input of `createInvite`. */
export interface CreateInviteInput {
  /** How many people may join with it; `null` for no limit other than the cap. */
  maxUses: number | null;
  /** How long it stays valid, in seconds; `null` for no expiry. */
  expiresInSeconds: number | null;
}

/** Why `createInvite` refused. */
export type CreateInviteProblem =
  | "not_initialized"
  | "not_allowed"
  | "invalid_max_uses"
  | "invalid_expiry";

/** Whether a member may invite people, given the Clique's settings. */
export function mayInvite(member: Member, membersCanInvite: boolean): boolean {
  if (member.status !== "active") return false;
  // Staff the table names invite whatever the setting says.
  if (mayTake(member.role, "invite.create")) return true;
  return membersCanInvite;
}

/**
 * Creates an invite. The code is returned once and stored only as a hash, so
 * a leaked database does not leak working invites.
 */
export async function createInvite(
  deps: Deps,
  by: Member,
  input: CreateInviteInput,
): Promise<Result<{ invite: Invite; code: string; url: string }, CreateInviteProblem>> {
  const settings = await deps.stores.settings.get();
  if (!settings) return fail("not_initialized");
  if (!mayInvite(by, settings.membersCanInvite))
    return fail("not_allowed", "Your role does not allow inviting.");
  if (
    input.maxUses !== null &&
    (!Number.isInteger(input.maxUses) || input.maxUses < 1 || input.maxUses > 1000)
  )
    return fail("invalid_max_uses", "Max uses must be a whole number from 1 to 1000.");
  if (
    input.expiresInSeconds !== null &&
    (!Number.isFinite(input.expiresInSeconds) ||
      input.expiresInSeconds < 60 ||
      input.expiresInSeconds > 366 * 86400)
  )
    return fail("invalid_expiry", "Expiry must be between one minute and one year.");

  // base64url: one code in 64 would start with "-" and read as an option to
  // `clique invite redeem <code>`.
  let code = randomSecret(15);
  while (code.startsWith("-")) code = randomSecret(15);
  const now = deps.now();
  const invite: Invite = {
    id: newId(),
    codeHint: code.slice(0, 4),
    createdBy: by.id,
    maxUses: input.maxUses,
    uses: 0,
    expiresAt:
      input.expiresInSeconds === null
        ? null
        : new Date(now.getTime() + input.expiresInSeconds * 1000),
    revokedAt: null,
    createdAt: now,
  };
  await deps.stores.invites.create({ ...invite, codeHash: hashSecret(code) });
  return ok({ invite, code, url: urlsFor(deps.config.origin).invite(code) });
}
