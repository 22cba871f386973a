/**
 * Mastodon's admin accounts API, where it fits a Clique, so that moderation
 * apps work: `GET /api/v1/admin/accounts` (this Clique's members), one
 * account, and `POST .../action` (`none`: a warning; `suspend`), `/unsuspend`
 * and `/enable`. Each action is moderation's workflow: the permission table
 * decides, the member is told, the audit log records.
 *
 * What does not fit: Clique has no log-in freeze apart from a suspension
 * (`disable`), no silencing of members in a group where everyone sees
 * everyone's posts by their audience (`silence`), and no forced sensitive
 * media (`sensitive`): those answer 422 saying so. `enable` has nothing to
 * undo and answers the account as it is. Remote accounts are not members.
 */
import { type Action, type Member, mayTake, type Role } from "@clique/core";
import { type Context, Hono } from "hono";
import { z } from "zod";
import { requireAction } from "../../http/auth.ts";
import {
  looseBoolean,
  pageSchema,
  readBody,
  readQuery,
  toPage,
  validate,
} from "../../http/body.ts";
import type { AppEnv } from "../../http/env.ts";
import { notFound, problem } from "../../http/errors.ts";
import { renderAccounts, setPaginationLinks } from "./render.ts";

/** Mounted at `/api/v1/admin/accounts`. */
export const adminAccountsApi = new Hono<AppEnv>();

/** Mastodon's role permission bits, from what the permission table lets each role do. */
const PERMISSION_BITS: readonly [Action, number][] = [
  ["audit.read", 1 << 2], // view_audit_log
  ["report.handle", 1 << 4], // manage_reports
  ["domain.block", (1 << 5) | (1 << 7)], // manage_federation, manage_blocks
  ["settings.update", 1 << 6], // manage_settings
  ["member.suspend", 1 << 10], // manage_users
  ["invite.revoke_any", 1 << 11], // manage_invites
  ["member.role", 1 << 17], // manage_roles
  ["member.remove", 1 << 19], // delete_user_data
];

const ROLE_IDS: Readonly<Record<Role, string>> = {
  owner: "3",
  admin: "2",
  moderator: "1",
  member: "-99",
};

function roleJson(role: Role) {
  let bits = role === "owner" ? 1 : 0; // administrator
  for (const [action, bit] of PERMISSION_BITS) if (mayTake(role, action)) bits |= bit;
  return {
    id: ROLE_IDS[role],
    name: role === "member" ? "" : role[0]!.toUpperCase() + role.slice(1),
    permissions: String(bits),
    color: "",
    highlighted: role !== "member",
  };
}

/** Serializes members as Mastodon's `Admin::Account` (accounts rendered in one batch). */
async function renderAdminAccounts(c: Context<AppEnv>, members: readonly Member[]) {
  const accounts = new Map(
    (
      await renderAccounts(
        c,
        members.map((m) => m.id),
      )
    ).map((a) => [a.id, a]),
  );
  return members.map((m) => ({
    id: m.id,
    username: m.username,
    domain: null,
    created_at: m.createdAt.toISOString(),
    // Clique keeps no e-mail addresses nor sign-in addresses.
    email: "",
    ip: null,
    ips: [],
    locale: "",
    invite_request: null,
    role: roleJson(m.role),
    confirmed: true,
    approved: true,
    disabled: false,
    silenced: false,
    suspended: m.status === "suspended",
    account: accounts.get(m.id) ?? null,
    // Clique extension: when a suspension ends by itself.
    suspended_until: m.suspendedUntil?.toISOString() ?? null,
  }));
}

const listQuery = pageSchema
  .extend({
    local: looseBoolean.optional(),
    remote: looseBoolean.optional(),
    active: looseBoolean.optional(),
    pending: looseBoolean.optional(),
    disabled: looseBoolean.optional(),
    silenced: looseBoolean.optional(),
    suspended: looseBoolean.optional(),
    sensitized: looseBoolean.optional(),
    staff: looseBoolean.optional(),
    username: z.string().max(100).optional(),
    display_name: z.string().max(200).optional(),
    by_domain: z.string().max(253).optional(),
  })
  .passthrough();

adminAccountsApi.get("/", async (c) => {
  requireAction(c, "member.list_all");
  const { clique, config } = c.get("services");
  const q = validate(listQuery, readQuery(c));
  const page = toPage(q, { limit: 100, max: 200 });
  const host = new URL(config.origin).host.toLowerCase();
  // No member is pending, disabled, silenced or sensitized; none is remote.
  const none =
    q.remote === true ||
    q.pending === true ||
    q.disabled === true ||
    q.silenced === true ||
    q.sensitized === true ||
    (q.by_domain !== undefined && q.by_domain.toLowerCase() !== host);
  let members = none ? [] : (await clique.listMembers()).filter((m) => m.status !== "removed");
  if (q.active) members = members.filter((m) => m.status === "active");
  if (q.suspended) members = members.filter((m) => m.status === "suspended");
  if (q.staff) members = members.filter((m) => m.role !== "member");
  if (q.username) {
    const needle = q.username.toLowerCase();
    members = members.filter((m) => m.username.toLowerCase().includes(needle));
  }
  if (q.display_name) {
    const needle = q.display_name.toLowerCase();
    members = members.filter((m) => m.displayName.toLowerCase().includes(needle));
  }
  // Newest first, paged by id as Mastodon does.
  members.sort((a, b) => (a.id < b.id ? 1 : -1));
  if (page.maxId) members = members.filter((m) => m.id < page.maxId!);
  if (page.sinceId) members = members.filter((m) => m.id > page.sinceId!);
  if (page.minId) members = members.filter((m) => m.id > page.minId!).slice(-page.limit);
  else members = members.slice(0, page.limit);
  setPaginationLinks(c, members);
  return c.json(await renderAdminAccounts(c, members));
});

/** The member with this id, if they are one (removed ones are gone). */
async function memberOr404(c: Context<AppEnv>): Promise<Member> {
  const member = await c.get("services").clique.getMember(c.req.param("id") ?? "");
  if (!member || member.status === "removed") throw notFound();
  return member;
}

adminAccountsApi.get("/:id", async (c) => {
  requireAction(c, "member.list_all");
  const [account] = await renderAdminAccounts(c, [await memberOr404(c)]);
  return c.json(account);
});

const actionInput = z
  .object({
    type: z.enum(["none", "disable", "sensitive", "silence", "suspend"]).optional(),
    text: z.string().max(2000).optional(),
    report_id: z.string().max(64).optional(),
    warning_preset_id: z.string().max(64).nullish(),
    send_email_notification: looseBoolean.optional(),
  })
  .passthrough();

adminAccountsApi.post("/:id/action", async (c) => {
  const by = requireAction(c, "member.list_all");
  const { moderation } = c.get("services");
  const input = validate(actionInput, await readBody(c));
  const target = await memberOr404(c);
  const type = input.type ?? "none";
  const text = input.text ?? "";
  // A report named is one this moderator may handle, or nothing is done.
  if (input.report_id) {
    const report = await moderation.reports.get(by, input.report_id);
    if (!report.ok) throw problem(report.reason, report.detail);
  }
  switch (type) {
    case "none": {
      const result = await moderation.members.warn(by, target.id, text);
      if (!result.ok) throw problem(result.reason, result.detail);
      break;
    }
    case "suspend": {
      const result = await moderation.members.suspendMember(by, target.id, {
        reason: text,
        until: null,
      });
      if (!result.ok) throw problem(result.reason, result.detail);
      break;
    }
    case "disable":
    case "sensitive":
    case "silence":
      throw problem(
        "unsupported_action",
        `Clique has no "${type}" for its members: suspend them instead (type=suspend), or warn them (type=none)`,
      );
    default: {
      const unreachable: never = type;
      throw new Error(`unknown action ${String(unreachable)}`);
    }
  }
  if (input.report_id) {
    const resolved = await moderation.reports.step(
      by,
      input.report_id,
      "resolve",
      `${type}: ${text}`,
    );
    if (!resolved.ok && resolved.reason !== "report_closed")
      throw problem(resolved.reason, resolved.detail);
  }
  return c.json({});
});

adminAccountsApi.post("/:id/unsuspend", async (c) => {
  const by = requireAction(c, "member.suspend");
  const { moderation } = c.get("services");
  const target = await memberOr404(c);
  const result = await moderation.members.unsuspendMember(by, target.id, "");
  if (!result.ok) throw problem(result.reason, result.detail);
  const [account] = await renderAdminAccounts(c, [result.value]);
  return c.json(account);
});

adminAccountsApi.post("/:id/enable", async (c) => {
  requireAction(c, "member.suspend");
  // Nothing is ever disabled apart from a suspension (which `unsuspend` lifts).
  const [account] = await renderAdminAccounts(c, [await memberOr404(c)]);
  return c.json(account);
});
