import { hashSecret } from "../auth/secrets.ts";
import type { Deps } from "../deps.ts";
import { type InviteStatus, inviteStatus } from "../domain/invite-status.ts";
import type { CliqueSettings, Invite } from "../domain/types.ts";

/** What the landing page of an invite shows before anyone signs up. */
export interface InvitePreview {
  settings: CliqueSettings;
  invite: Invite;
  /** Members holding a seat now. */
  seated: number;
  /** Seats the Clique has left (never below zero). */
  seatsLeft: number;
  /** What redeeming it would answer now (as far as the invite and the seats go). */
  status: InviteStatus;
}

/**
 * Looks an invite up by its code, for a visitor who holds it. `null` for a
 * code that matches no invite (or before the Clique is set up): a made-up
 * code learns nothing about the Clique.
 */
export async function previewInvite(deps: Deps, code: string): Promise<InvitePreview | null> {
  const trimmed = code.trim();
  if (trimmed.length === 0 || trimmed.length > 200) return null;
  const settings = await deps.stores.settings.get();
  if (!settings) return null;
  // Outside a transaction the row lock ends with the statement, as in redeemInvite's early check.
  const invite = await deps.stores.invites.getByCodeHashForUpdate(hashSecret(trimmed));
  if (!invite) return null;
  const seated = await deps.stores.members.countSeated();
  return {
    settings,
    invite,
    seated,
    seatsLeft: Math.max(0, settings.memberCap - seated),
    status: inviteStatus(invite, deps.now(), { seated, cap: settings.memberCap }),
  };
}
