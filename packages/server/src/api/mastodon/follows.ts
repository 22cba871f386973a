/**
 * Mastodon's follow endpoints: follow/unfollow, relationships, follow
 * requests, removing followers, and finding remote accounts.
 */
import { type Actor, isId, type Member } from "@clique/core";
import { type Context, Hono } from "hono";
import { z } from "zod";
import { requireMember } from "../../http/auth.ts";
import { looseBoolean, readQuery, validate } from "../../http/body.ts";
import type { AppEnv } from "../../http/env.ts";
import { notFound, problem } from "../../http/errors.ts";
import { renderAccount, renderAccounts } from "./render.ts";

async function serializeRelationship(c: Context<AppEnv>, member: Member, otherId: string) {
  const { clique } = c.get("services");
  const r = await clique.relationship(member, otherId);
  return {
    id: otherId,
    following: r.following,
    showing_reblogs: r.following,
    notifying: false,
    languages: null,
    followed_by: r.followedBy,
    blocking: r.blocking,
    blocked_by: r.blockedBy,
    muting: r.muting,
    muting_notifications: false,
    requested: r.requested,
    requested_by: r.requestedBy,
    domain_blocking: false,
    endorsed: false,
    note: "",
  };
}

/** Follow routes under `/api/v1/accounts`. */
export const followAccountsApi = new Hono<AppEnv>();

followAccountsApi.get("/relationships", async (c) => {
  const member = requireMember(c);
  const q = readQuery(c);
  const raw = q.id ?? [];
  const ids = (Array.isArray(raw) ? raw : [raw])
    .filter((x): x is string => typeof x === "string" && isId(x))
    .slice(0, 40);
  return c.json(await Promise.all(ids.map((id) => serializeRelationship(c, member, id))));
});

followAccountsApi.post("/:id/follow", async (c) => {
  const member = requireMember(c);
  const { clique } = c.get("services");
  const result = await clique.followAccount(member, c.req.param("id"));
  if (!result.ok) throw problem(result.reason === "self_follow" ? "not_allowed" : result.reason);
  return c.json(await serializeRelationship(c, member, c.req.param("id")));
});

followAccountsApi.post("/:id/unfollow", async (c) => {
  const member = requireMember(c);
  const { clique } = c.get("services");
  const result = await clique.unfollowAccount(member, c.req.param("id"));
  if (!result.ok) throw problem(result.reason);
  return c.json(await serializeRelationship(c, member, c.req.param("id")));
});

followAccountsApi.post("/:id/remove_from_followers", async (c) => {
  const member = requireMember(c);
  const { clique } = c.get("services");
  await clique.rejectFollower(member, c.req.param("id"));
  return c.json(await serializeRelationship(c, member, c.req.param("id")));
});

async function followList(c: Context<AppEnv>, side: "followers" | "following") {
  const { clique } = c.get("services");
  const target = await clique.getMember(c.req.param("id") ?? "");
  if (!target || target.status === "removed") throw notFound();
  // The lists are shown only to the audience the member chose (counts always are).
  if (!(await clique.viewProfile(c.get("viewer"), target)).followLists) return c.json([]);
  const ids = await clique.listFollowIds(target.id, side);
  return c.json(await renderAccounts(c, ids.slice(0, 80)));
}

followAccountsApi.get("/:id/followers", (c) => followList(c, "followers"));
followAccountsApi.get("/:id/following", (c) => followList(c, "following"));

/** `/api/v1/follow_requests`. */
export const followRequestsApi = new Hono<AppEnv>();

followRequestsApi.get("/", async (c) => {
  const member = requireMember(c);
  const { clique } = c.get("services");
  const requests = await clique.listFollowRequests(member);
  return c.json(
    await renderAccounts(
      c,
      requests.map((f) => f.followerId),
    ),
  );
});

followRequestsApi.post("/:id/authorize", async (c) => {
  const member = requireMember(c);
  const { clique } = c.get("services");
  const result = await clique.authorizeFollowRequest(member, c.req.param("id"));
  if (!result.ok) throw problem(result.reason);
  return c.json(await serializeRelationship(c, member, c.req.param("id")));
});

followRequestsApi.post("/:id/reject", async (c) => {
  const member = requireMember(c);
  const { clique } = c.get("services");
  const result = await clique.rejectFollower(member, c.req.param("id"));
  if (!result.ok) throw problem(result.reason);
  return c.json(await serializeRelationship(c, member, c.req.param("id")));
});

/** Parses `user@host`, `@user@host` or an actor URL. */
export function parseAccountQuery(
  q: string,
): { username: string; host: string | null } | { uri: string } | null {
  const text = q.trim();
  if (/^https?:\/\//i.test(text)) return { uri: text };
  const m = /^@?([A-Za-z0-9_.-]{1,100})(?:@([A-Za-z0-9.-]+(?::\d{1,5})?))?$/.exec(text);
  return m ? { username: m[1]!, host: m[2] ?? null } : null;
}

/** Resolves a query to an account, fetching remote ones when `resolve` is set. */
export async function findAccount(
  c: Context<AppEnv>,
  q: string,
  resolve: boolean,
): Promise<Actor | null> {
  const { clique, config } = c.get("services");
  const parsed = parseAccountQuery(q);
  if (!parsed) return null;
  // Only signed-in members may make the server fetch other servers.
  if ("uri" in parsed) return resolve && c.get("member") ? clique.resolveUri(parsed.uri) : null;
  const localHost = new URL(config.origin).host.toLowerCase();
  if (parsed.host === null || parsed.host.toLowerCase() === localHost) {
    const member = await clique.getMemberByUsername(parsed.username);
    return member && member.status !== "removed" ? clique.getActor(member.id) : null;
  }
  // Only signed-in members may make the server fetch other servers.
  if (!resolve || !c.get("member")) return null;
  return clique.resolveHandle(parsed.username, parsed.host);
}

/** `/api/v2/search` (accounts only: Clique has no full-text search). */
export const searchApi = new Hono<AppEnv>();

searchApi.get("/search", async (c) => {
  const q = validate(
    z
      .object({
        q: z.string().min(1).max(500),
        resolve: looseBoolean.optional(),
        type: z.string().optional(),
      })
      .passthrough(),
    readQuery(c),
  );
  const accounts: unknown[] = [];
  if (!q.type || q.type === "accounts") {
    const actor = await findAccount(c, q.q, q.resolve ?? false);
    const account = actor ? await renderAccount(c, actor.id) : null;
    if (account) accounts.push(account);
  }
  return c.json({ accounts, statuses: [], hashtags: [] });
});

for (const [path, action] of [
  ["block", "blockAccount"],
  ["unblock", "unblockAccount"],
  ["mute", "muteAccount"],
  ["unmute", "unmuteAccount"],
] as const) {
  followAccountsApi.post(`/:id/${path}`, async (c) => {
    const member = requireMember(c);
    const { clique } = c.get("services");
    const result = await clique[action](member, c.req.param("id"));
    if (!result.ok) throw problem(result.reason === "self_block" ? "not_allowed" : result.reason);
    return c.json(await serializeRelationship(c, member, c.req.param("id")));
  });
}

/** `/api/v1/blocks` and `/api/v1/mutes` (mounted at `/api/v1`). */
export const blocksApi = new Hono<AppEnv>();
for (const [path, list] of [
  ["blocks", "listBlocks"],
  ["mutes", "listMutes"],
] as const) {
  blocksApi.get(`/${path}`, async (c) => {
    const member = requireMember(c);
    const { clique } = c.get("services");
    return c.json(await renderAccounts(c, await clique[list](member)));
  });
}
