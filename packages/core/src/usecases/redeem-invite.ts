import { checkPassword, hashSecret, randomSecret } from "../auth/secrets.ts";
import type { Deps } from "../deps.ts";
import { inviteStatus } from "../domain/invite-status.ts";
import type { VerifiedIdentity } from "../domain/oidc.ts";
import type { Invite, Member } from "../domain/types.ts";
import { checkUsername, type UsernameProblem } from "../domain/username.ts";
import { fail, ok, type Result } from "../errors.ts";
import { newId } from "../ids.ts";
import type { Stores } from "../stores/stores.ts";
import { insertMember, prepareMember } from "./add-member.ts";

/** Input of `redeemInvite`. */
export interface RedeemInviteInput {
  code: string;
  username: string;
  /** Required unless the member joins with a proven `identity`. */
  password?: string;
  displayName?: string;
  /**
   * Joins with an identity at an OpenID Connect provider instead of a
   * password: it is linked to the new member, who gets no usable password.
   */
  identity?: VerifiedIdentity;
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
  | "password_too_long"
  | "identity_taken"
  | "invalid_input";

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
  // Exactly one way to sign in later: a password, or a proven identity.
  if (input.identity !== undefined && input.password !== undefined)
    return fail("invalid_input", "Give a password or an identity, not both.");
  const passwordProblem = input.identity !== undefined ? null : checkPassword(input.password ?? "");
  if (passwordProblem) return fail(passwordProblem);
  const codeHash = hashSecret(input.code.trim());

  // Refuse what would be refused before the slow part (argon2 and a key pair, a few
  // hundred milliseconds of CPU): anyone may call this, with made-up codes. Outside a
  // transaction each read stands alone; the transaction below checks again, under its locks.
  const early = await checkRedemption(deps.stores, codeHash, input.username, deps.now());
  if (!early.ok) return early;
  const identity = input.identity;
  if (identity && (await deps.stores.oidcIdentities.find(identity.issuer, identity.subject)))
    return fail("identity_taken", "This identity is linked to another member.");

  // Hashing and key generation are slow: do them before taking any lock.
  // A member joining with an identity gets the hash of a random secret nobody
  // ever sees: a real hash (sign-in and password change treat it like any
  // other) that no password matches. The owner can set one (`clique password reset`).
  const prepared = await prepareMember(identity ? randomSecret(32) : (input.password ?? ""));
  try {
    return await redeemPrepared(deps, input, codeHash, prepared);
  } catch (error) {
    if (error instanceof IdentityTaken)
      return fail("identity_taken", "This identity is linked to another member.");
    throw error;
  }
}

/** Thrown inside the transaction so that it rolls back; becomes `identity_taken`. */
class IdentityTaken extends Error {}

/** The seat-taking transaction of `redeemInvite`. */
function redeemPrepared(
  deps: Deps,
  input: RedeemInviteInput,
  codeHash: string,
  prepared: Awaited<ReturnType<typeof prepareMember>>,
): Promise<Result<Member, RedeemInviteProblem>> {
  const identity = input.identity;
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
    if (identity) {
      const linked = await tx.oidcIdentities.create({
        id: newId(),
        memberId: member.id,
        issuer: identity.issuer,
        subject: identity.subject,
        email: identity.email,
        createdAt: deps.now(),
      });
      // Linked by someone else since the check above: undo the whole redemption.
      if (!linked) throw new IdentityTaken();
    }
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
  const seated = await tx.members.countSeated();
  const status = inviteStatus(invite, now, { seated, cap: settings.memberCap });
  switch (status) {
    case "revoked":
      return fail("invite_revoked", "This invite was revoked.");
    case "expired":
      return fail("invite_expired", "This invite has expired.");
    case "used_up":
      return fail("invite_exhausted", "This invite has been used up.");
    case "full":
      return fail("clique_full", `This Clique is full (${settings.memberCap} members).`);
    case "valid":
      break;
  }
  if (await tx.members.getByUsername(username))
    return fail("username_taken", "That username is taken.");
  return ok(invite);
}
