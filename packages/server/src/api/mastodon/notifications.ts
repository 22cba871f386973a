/**
 * Mastodon's `/api/v1/notifications`: what a member was told — mentions,
 * follows and follow requests, favourites, boosts, edits of posts they
 * interacted with, reports (for moderators) and moderation warnings. Core
 * decides what is still shown (the visibility module, blocks, mutes, roles);
 * this reads parameters and renders Mastodon's `Notification` entities.
 */
import { isId, type Notification, type Post } from "@clique/core";
import { type Context, Hono } from "hono";
import { z } from "zod";
import { requireMember } from "../../http/auth.ts";
import { looseInt, pageSchema, readQuery, toPage, validate } from "../../http/body.ts";
import type { AppEnv } from "../../http/env.ts";
import { problem } from "../../http/errors.ts";
import { renderAccounts, renderStatuses, setPaginationLinks } from "./render.ts";
import { renderOwnReports } from "./report-serializers.ts";

/** Mounted at `/api/v1/notifications`. */
export const notificationsApi = new Hono<AppEnv>();

const typeList = z
  .union([z.string().max(64), z.array(z.string().max(64)).max(20)])
  .transform((v) => (Array.isArray(v) ? v : [v]));

const query = pageSchema
  .extend({
    types: typeList.optional(),
    exclude_types: typeList.optional(),
    account_id: z.string().refine(isId, "not a valid id").optional(),
  })
  .passthrough();

notificationsApi.get("/", async (c) => {
  const member = requireMember(c);
  const { clique } = c.get("services");
  const q = validate(query, readQuery(c));
  const { items, posts } = await clique.listNotifications(
    member,
    toPage(q, { limit: 40, max: 80 }),
    {
      ...(q.types ? { types: q.types } : {}),
      ...(q.exclude_types ? { excludeTypes: q.exclude_types } : {}),
      ...(q.account_id ? { accountId: q.account_id } : {}),
    },
  );
  setPaginationLinks(c, items);
  return c.json(await renderNotifications(c, items, [...posts.values()]));
});

const unreadQuery = z
  .object({ limit: looseInt.pipe(z.number().int().min(1)).optional() })
  .passthrough();

// Unread: shown notifications newer than the member's `notifications` marker.
notificationsApi.get("/unread_count", async (c) => {
  const member = requireMember(c);
  const { clique } = c.get("services");
  const q = validate(unreadQuery, readQuery(c));
  const [marker] = await clique.getMarkers(member, ["notifications"]);
  const { items } = await clique.listNotifications(member, {
    ...(marker ? { sinceId: marker.lastReadId } : {}),
    limit: Math.min(q.limit ?? 100, 1000),
  });
  return c.json({ count: items.length });
});

notificationsApi.post("/clear", async (c) => {
  const member = requireMember(c);
  await c.get("services").clique.clearNotifications(member);
  return c.json({});
});

notificationsApi.get("/:id", async (c) => {
  const member = requireMember(c);
  const found = await c.get("services").clique.getNotification(member, c.req.param("id"));
  if (!found) throw problem("not_found");
  const [rendered] = await renderNotifications(
    c,
    [found.notification],
    found.post ? [found.post] : [],
  );
  if (!rendered) throw problem("not_found");
  return c.json(rendered);
});

notificationsApi.post("/:id/dismiss", async (c) => {
  const member = requireMember(c);
  const id = c.req.param("id");
  if (!isId(id) || !(await c.get("services").clique.dismissNotification(member, id)))
    throw problem("not_found");
  return c.json({});
});

/**
 * Serializes notifications as Mastodon's entities (accounts and posts rendered
 * in batches, as the member may see them). One whose account is gone (a
 * removed member) or whose report the member may no longer read is left out.
 */
export async function renderNotifications(
  c: Context<AppEnv>,
  list: readonly Notification[],
  posts: readonly Post[],
) {
  const member = requireMember(c);
  const { moderation } = c.get("services");
  const accountIds = [member.id, ...list.flatMap((n) => (n.accountId ? [n.accountId] : []))];
  const accounts = new Map((await renderAccounts(c, accountIds)).map((a) => [a.id, a]));
  const statuses = new Map((await renderStatuses(c, posts)).map((s) => [s.id, s] as const));
  const own = accounts.get(member.id) ?? null;
  const rendered = [];
  for (const n of list) {
    const account = n.accountId ? accounts.get(n.accountId) : own;
    if (!account) continue;
    const base = {
      id: n.id,
      type: n.type,
      created_at: n.createdAt.toISOString(),
      group_key: `ungrouped-${n.id}`,
      // Mastodon names the member themselves as the account of a moderation warning.
      account,
      ...(n.postId && statuses.has(n.postId) ? { status: statuses.get(n.postId) } : {}),
    };
    switch (n.type) {
      case "moderation_warning":
        rendered.push({
          ...base,
          moderation_warning: {
            id: n.id,
            action: String(n.data.action ?? "none"),
            text: String(n.data.text ?? ""),
            status_ids: Array.isArray(n.data.statusIds) ? n.data.statusIds.map(String) : [],
            target_account: own,
            appeal: null,
            created_at: n.createdAt.toISOString(),
            // Clique extension: when a suspension ends by itself.
            ...(n.data.until !== undefined ? { until: n.data.until } : {}),
          },
        });
        break;
      case "admin.report": {
        // Moderation decides whether the member may still read the report.
        const found = await moderation.reports.get(member, String(n.data.reportId ?? ""));
        if (!found.ok) break;
        const [report] = await renderOwnReports(c, [found.value]);
        rendered.push({ ...base, report });
        break;
      }
      default:
        // A notification about a post carries it; without it (gone since) it is not shown.
        if (n.postId && !statuses.has(n.postId)) break;
        rendered.push(base);
    }
  }
  return rendered;
}
