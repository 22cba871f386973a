/**
 * Mastodon's `/api/v1/notifications`: what a member was told. For now the
 * moderation warnings (`moderation_warning`: a post removed, a suspension, a
 * warning, each with the moderator's reason); the apps' work adds the other
 * types to the same store and list.
 */
import type { Notification, Post } from "@clique/core";
import { type Context, Hono } from "hono";
import { z } from "zod";
import { requireMember } from "../../http/auth.ts";
import { pageSchema, readQuery, toPage, validate } from "../../http/body.ts";
import type { AppEnv } from "../../http/env.ts";
import { renderAccounts, renderStatuses, setPaginationLinks } from "./render.ts";

/** Mounted at `/api/v1/notifications`. */
export const notificationsApi = new Hono<AppEnv>();

const typeList = z
  .union([z.string().max(64), z.array(z.string().max(64)).max(20)])
  .transform((v) => (Array.isArray(v) ? v : [v]));

const query = pageSchema
  .extend({
    types: typeList.optional(),
    exclude_types: typeList.optional(),
    account_id: z.string().max(64).optional(),
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
    },
  );
  setPaginationLinks(c, items);
  return c.json(await renderNotifications(c, items, [...posts.values()]));
});

/** Serializes notifications as Mastodon's entities (accounts and posts rendered in batches). */
async function renderNotifications(
  c: Context<AppEnv>,
  list: readonly Notification[],
  posts: readonly Post[],
) {
  const member = requireMember(c);
  const accountIds = [member.id, ...list.flatMap((n) => (n.accountId ? [n.accountId] : []))];
  const accounts = new Map((await renderAccounts(c, accountIds)).map((a) => [a.id, a]));
  const statuses = new Map((await renderStatuses(c, posts)).map((s) => [s.id, s] as const));
  const own = accounts.get(member.id) ?? null;
  return list.map((n) => {
    const base = {
      id: n.id,
      type: n.type,
      created_at: n.createdAt.toISOString(),
      group_key: `ungrouped-${n.id}`,
      // Mastodon names the member themselves as the account of a moderation warning.
      account: n.accountId ? (accounts.get(n.accountId) ?? own) : own,
      ...(n.postId && statuses.has(n.postId) ? { status: statuses.get(n.postId) } : {}),
    };
    switch (n.type) {
      case "moderation_warning":
        return {
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
        };
      default:
        return base;
    }
  });
}
