/**
 * Reports as Mastodon's entities: the `Report` a member gets back (and sees of
 * their own reports), and the `Admin::Report` of the admin API, with the
 * `Admin::Account`s in it. What the reporter sees says what became of the
 * report, never who handled it or what they wrote; the reported account sees
 * nothing at all (it is not theirs to read).
 */
import { type Actor, type Member, NO_STATS, type Post, type Viewer } from "@clique/core";
import type { Report } from "@clique/moderation";
import type { Context } from "hono";
import type { AppEnv } from "../../http/env.ts";
import { renderAccounts, renderStatuses } from "./render.ts";
import { serializeAccount } from "./serializers.ts";

const iso = (date: Date | null) => date?.toISOString() ?? null;

/** What everyone who may see a report sees of it (Mastodon's `Report`, less the account). */
function reportBase(report: Report) {
  return {
    id: report.id,
    // Mastodon's `action_taken` means "closed": resolved, or here dismissed too.
    action_taken: report.state !== "open",
    action_taken_at: iso(report.actionTakenAt),
    category: report.category,
    comment: report.comment,
    forwarded: report.forwardedAt !== null,
    created_at: report.createdAt.toISOString(),
    status_ids: report.posts.map((p) => p.postId),
    rule_ids: null,
    // Clique extension: open, resolved or dismissed.
    state: report.state,
  };
}

/** Accounts as this viewer may see them; removed members too (a moderator must see whom a report was about). */
async function accountsFor(c: Context<AppEnv>, ids: readonly string[]) {
  const { clique, config } = c.get("services");
  const wanted = [...new Set(ids)];
  const rendered = new Map((await renderAccounts(c, wanted)).map((a) => [a.id, a]));
  const missing = wanted.filter((id) => !rendered.has(id));
  if (missing.length > 0) {
    const actors = await clique.getActors(missing);
    const members = new Map((await clique.getMembers(missing)).map((m) => [m.id, m]));
    for (const actor of actors)
      rendered.set(
        actor.id,
        serializeAccount(config.origin, actor, {
          member: members.get(actor.id) ?? null,
          stats: NO_STATS,
        }),
      );
  }
  return rendered;
}

/** The `Report` a member gets back, and sees of the reports they filed. */
export async function renderOwnReports(c: Context<AppEnv>, reports: readonly Report[]) {
  const accounts = await accountsFor(
    c,
    reports.map((r) => r.targetAccountId),
  );
  return reports.map((r) => ({
    ...reportBase(r),
    target_account: accounts.get(r.targetAccountId) ?? null,
  }));
}

const ROLE_NAMES: Record<Member["role"], string> = {
  owner: "Owner",
  admin: "Admin",
  moderator: "Moderator",
  member: "Member",
};

/** Mastodon's `Admin::Account` for an actor (a member, or an account elsewhere). */
function adminAccount(
  actor: Actor,
  member: Member | null,
  account: ReturnType<typeof serializeAccount> | undefined,
) {
  return {
    id: actor.id,
    username: actor.username,
    domain: actor.kind === "local" ? null : actor.host,
    created_at: actor.createdAt.toISOString(),
    email: member ? "" : null,
    ip: null,
    ips: [],
    locale: null,
    invite_request: null,
    role: member
      ? {
          id: member.role,
          name: ROLE_NAMES[member.role],
          color: "",
          permissions: "0",
          highlighted: member.role !== "member",
        }
      : null,
    confirmed: member !== null,
    approved: member !== null,
    disabled: member !== null && member.status !== "active",
    silenced: false,
    suspended: member?.status === "suspended" || member?.status === "removed",
    sensitized: false,
    account: account ?? null,
    created_by_application_id: null,
    invited_by_account_id: null,
  };
}

/**
 * Mastodon's `Admin::Report`, for moderators. `statuses` are the reported
 * posts the moderator may see now (asked of the visibility module);
 * `reported_posts` (Clique's) keeps what the reporter saw of each when they
 * reported it, so a post edited or removed since still shows what was reported.
 */
export async function renderAdminReports(c: Context<AppEnv>, reports: readonly Report[]) {
  const { clique } = c.get("services");
  const viewer: Viewer = c.get("viewer");
  const ids = reports.flatMap((r) => [
    r.targetAccountId,
    ...(r.reporter.kind === "member" ? [r.reporter.memberId] : []),
    ...(r.reporter.kind === "remote" && r.reporter.actorId ? [r.reporter.actorId] : []),
    ...(r.assigneeId ? [r.assigneeId] : []),
    ...(r.actionTakenById ? [r.actionTakenById] : []),
  ]);
  const [accounts, actors, members] = await Promise.all([
    accountsFor(c, ids),
    clique.getActors([...new Set(ids)]),
    clique.getMembers([...new Set(ids)]),
  ]);
  const actorById = new Map(actors.map((a) => [a.id, a]));
  const memberById = new Map(members.map((m) => [m.id, m]));
  const admin = (id: string | null) => {
    const actor = id ? actorById.get(id) : undefined;
    return actor
      ? adminAccount(actor, memberById.get(actor.id) ?? null, accounts.get(actor.id))
      : null;
  };
  const visible = new Map<string, Post>();
  for (const r of reports)
    for (const p of r.posts) {
      const post = await clique.getVisiblePost(viewer, p.postId);
      if (post && !post.deletedAt) visible.set(post.id, post);
    }
  const statuses = new Map((await renderStatuses(c, [...visible.values()])).map((s) => [s.id, s]));
  return reports.map((r) => ({
    ...reportBase(r),
    updated_at: r.updatedAt.toISOString(),
    account: admin(r.reporter.kind === "member" ? r.reporter.memberId : r.reporter.actorId),
    target_account: admin(r.targetAccountId),
    assigned_account: admin(r.assigneeId),
    action_taken_by_account: admin(r.actionTakenById),
    statuses: r.posts.flatMap((p) => statuses.get(p.postId) ?? []),
    rules: [],
    // Clique extensions.
    action_taken_comment: r.actionTaken,
    forward_requested: r.forwardRequested,
    forwarded_at: iso(r.forwardedAt),
    reporter_domain: r.reporter.kind === "remote" ? r.reporter.host : null,
    reported_posts: r.posts.map((p) => ({
      id: p.postId,
      uri: p.uri,
      content: p.contentHtml,
      spoiler_text: p.spoilerText,
      created_at: p.createdAt,
    })),
  }));
}
