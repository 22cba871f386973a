/**
 * Who may do what in a Clique: the one permission table. Every entry point —
 * the API, the CLI, moderation's workflows, later the web pages — asks
 * `decide`; nothing else compares roles.
 *
 * Ranks: owner > admin > moderator > member. An action on another member
 * also needs rank over them: nobody acts on an equal or higher rank, except
 * an owner (who may act on another owner). The last owner can be neither
 * removed, suspended nor demoted; ownership is handed over by making someone
 * else an owner first.
 */
import type { Role } from "../domain/types.ts";

/** Everything the table rules on. */
export const ACTIONS = [
  /** Remove another member's post (with a reason); needs rank over its author. */
  "post.remove",
  /** Hide a remote post from the Clique. */
  "post.hide",
  /** Suspend a member, for a while or until lifted; lift a suspension. */
  "member.suspend",
  /** Remove a member from the Clique. */
  "member.remove",
  /** Warn a member (a notification saying why, nothing else changes). */
  "member.warn",
  /** Give a member a role (which must be below one's own, unless one is an owner). */
  "member.role",
  /** See the member list with every member's standing. */
  "member.list_all",
  /** See, take on and close reports. */
  "report.handle",
  /** Send a report about a remote account to its server. */
  "report.forward",
  /** Block or limit a whole server. */
  "domain.block",
  /** Suspend or silence one account elsewhere. */
  "remote.moderate",
  /** Read the audit log. */
  "audit.read",
  /** Change the Clique's settings. */
  "settings.update",
  /** Revoke invites other people made (and see them all). */
  "invite.revoke_any",
  /** Invite people even when the settings keep inviting to staff (`membersCanInvite` off). */
  "invite.create",
  /** Write, edit and delete the Clique's announcements (issue 11). */
  "announcement.manage",
] as const;
/** Something the table rules on. */
export type Action = (typeof ACTIONS)[number];

/** How far each role reaches. */
export const RANK: Readonly<Record<Role, number>> = {
  owner: 3,
  admin: 2,
  moderator: 1,
  member: 0,
};

/** The least role that may take each action. */
const LEAST_ROLE: Readonly<Record<Action, Role>> = {
  "post.remove": "moderator",
  "post.hide": "moderator",
  "member.suspend": "moderator",
  "member.remove": "moderator",
  "member.warn": "moderator",
  "member.role": "admin",
  "member.list_all": "moderator",
  "report.handle": "moderator",
  "report.forward": "moderator",
  "domain.block": "admin",
  "remote.moderate": "moderator",
  "audit.read": "moderator",
  "settings.update": "admin",
  "invite.revoke_any": "admin",
  "invite.create": "admin",
  "announcement.manage": "admin",
};

/** Actions that are about another member, and so need rank over them. */
const ON_A_MEMBER = new Set<Action>([
  // A post's removal acts on its author: a moderator removes no admin's post.
  "post.remove",
  "member.suspend",
  "member.remove",
  "member.warn",
  "member.role",
]);

/** Actions on a member that take an owner away (the last one is kept). */
const TAKES_AN_OWNER = new Set<Action>(["member.suspend", "member.remove"]);

/** Why the table says no. */
export type Refusal =
  /** The role does not reach this action. */
  | "not_allowed"
  /** The target's rank is equal or higher. */
  | "outranked"
  /** It would leave the Clique without an owner. */
  | "last_owner"
  /** One does not do this to oneself (leave instead). */
  | "self";

/** What the table needs to know about an action. */
export interface Decision {
  /** Who acts. */
  actor: { id: string; role: Role };
  action: Action;
  /** The member acted on, for member actions. */
  target?: { id: string; role: Role };
  /** For `member.role`: the role to give. */
  newRole?: Role;
  /** For actions on an owner: how many owners the Clique has. */
  owners?: number;
}

/** `null` when allowed; otherwise why not. */
export function decide(d: Decision): Refusal | null {
  const { actor, action, target } = d;
  if (RANK[actor.role] < RANK[LEAST_ROLE[action]]) return "not_allowed";
  if (!ON_A_MEMBER.has(action) || !target) return null;
  if (target.id === actor.id) {
    // An owner hands ownership over by making someone else an owner, then stepping down.
    if (action !== "member.role" || actor.role !== "owner") return "self";
    return (d.newRole ?? "owner") !== "owner" && (d.owners ?? 1) <= 1 ? "last_owner" : null;
  }
  // Rank over the target: owners may act on owners; nobody else on an equal or higher rank.
  if (actor.role !== "owner" && RANK[target.role] >= RANK[actor.role]) return "outranked";
  if (action === "member.role") {
    const newRole = d.newRole ?? target.role;
    // Nobody makes someone their equal or better, except an owner.
    if (actor.role !== "owner" && RANK[newRole] >= RANK[actor.role]) return "outranked";
    if (target.role === "owner" && newRole !== "owner" && (d.owners ?? 1) <= 1) return "last_owner";
    return null;
  }
  // Suspending or removing would leave no owner; warning them or removing a post would not.
  if (TAKES_AN_OWNER.has(action) && target.role === "owner" && (d.owners ?? 1) <= 1)
    return "last_owner";
  return null;
}

/** Whether a role may take an action at all (before any target is known): for menus and guards. */
export function mayTake(role: Role, action: Action): boolean {
  return RANK[role] >= RANK[LEAST_ROLE[action]];
}

/**
 * The server itself, as the table sees it: who acts when an operator runs the
 * CLI (or a worker lifts an expired suspension). It has an owner's reach, so
 * only the last-owner rule binds it; its id is no member's.
 */
export const SERVER_ACTOR: Readonly<{ id: string; role: Role }> = { id: "server", role: "owner" };
