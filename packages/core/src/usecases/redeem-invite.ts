import { checkPassword, hashSecret } from "../auth/secrets.ts";
import type { Deps } from "../deps.ts";
import type { Invite, Member } from "../domain/types.ts";
import { checkUsername, type UsernameProblem } from "../domain/username.ts";
import { fail, ok, type Result } from "../errors.ts";
import type { Stores } from "../stores/stores.ts";
import { insertMember, prepareMember } from "./add-member.ts";

/** Input of `redeemInvite`. */
export interface RedeemInviteInput {
  code: string;
  username: string;
  password: string;
  displayName?: string;
}

/** Why `redeemInvite` refused. */
export type RedeemInviteProblem =
  | "not_initialized"
  | "invalid_invite"
  | "invite_expired"
  | "invite_revoked"
  | "invite_exhausted"
  | "clique_full"
  | "username_taken"
  | UsernameProblem
  | "password_too_short"
  | "password_too_long";

/**
 * Joins the Clique with an invite. Atomic: the Clique's settings row is locked
 * for the seat count, so concurrent redemptions can never exceed the cap, and
 * the invite row is locked so its uses are counted exactly.
 */
export async function redeemInvite(
  deps: Deps,
  input: RedeemInviteInput,
): Promise<Result<Member, RedeemInviteProblem>> {
  const usernameProblem = checkUsername(input.username);
  if (usernameProblem) return fail(usernameProblem);
  const passwordProblem = checkPassword(input.password);
  if (passwordProblem) return fail(passwordProblem);
  const codeHash = hashSecret(input.code.trim());

  // Refuse what would be refused before the slow part (argon2 and a key pair, a few
  // hundred milliseconds of CPU): anyone may call this, with made-up codes. Outside a
  // transaction each read stands alone; the transaction below checks again, under its locks.
  const early = await checkRedemption(deps.stores, codeHash, input.username, deps.now());
  if (!early.ok) return early;

  // Hashing and key generation are slow: do them before taking any lock.
  const prepared = await prepareMember(input.password);
  return deps.stores.transaction(async (tx) => {
    const checked = await checkRedemption(tx, codeHash, input.username, deps.now());
    if (!checked.ok) return checked;
    const member = await insertMember(tx, prepared, {
      username: input.username,
      ...(input.displayName?.trim() ? { displayName: input.displayName.trim() } : {}),
      role: "member",
      inviteId: checked.value.id,
      now: deps.now(),
    });
    await tx.invites.incrementUses(checked.value.id);
    return ok(member);
  });
}

/** Whether the invite may seat this username now; in a transaction, locks the settings, then the invite. */
async function checkRedemption(
  tx: Stores,
  codeHash: string,
  username: string,
  now: Date,
): Promise<Result<Invite, RedeemInviteProblem>> {
  // Lock order: settings, then invite. Every redemption takes them in this order.
  const settings = await tx.settings.getForUpdate();
  if (!settings) return fail("not_initialized");
  const invite = await tx.invites.getByCodeHashForUpdate(codeHash);
  if (!invite) return fail("invalid_invite", "This invite code is not valid.");
  if (invite.revokedAt) return fail("invite_revoked", "This invite was revoked.");
  if (invite.expiresAt && invite.expiresAt <= now)
    return fail("invite_expired", "This invite has expired.");
  if (invite.maxUses !== null && invite.uses >= invite.maxUses)
    return fail("invite_exhausted", "This invite has been used up.");
  if ((await tx.members.countSeated()) >= settings.memberCap)
    return fail("clique_full", `This Clique is full (${settings.memberCap} members).`);
  if (await tx.members.getByUsername(username))
    return fail("username_taken", "That username is taken.");
  return ok(invite);
}
