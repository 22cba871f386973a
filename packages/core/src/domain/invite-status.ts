import type { Invite } from "./types.ts";

/** Whether an invite would seat someone now, and if not, why. */
export type InviteStatus = "valid" | "revoked" | "expired" | "used_up" | "full";

/**
 * The rules an invite is redeemed by, in the order they are checked (the
 * first that fails is the answer). `redeemInvite` decides with it, and the
 * landing page's preview shows the same answer.
 */
export function inviteStatus(
  invite: Invite,
  now: Date,
  seats: { seated: number; cap: number },
): InviteStatus {
  // Withdrawn by whoever may revoke it: nothing else matters.
  if (invite.revokedAt) return "revoked";
  // Past its expiry date.
  if (invite.expiresAt && invite.expiresAt <= now) return "expired";
  // As many people joined with it as it allows.
  if (invite.maxUses !== null && invite.uses >= invite.maxUses) return "used_up";
  // No seat left in the Clique.
  if (seats.seated >= seats.cap) return "full";
  return "valid";
}
