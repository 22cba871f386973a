import { type Actor, type FeedEntry, NO_STATS, type Post, type VisibleProfile } from "@clique/core";
import type { Context } from "hono";
import type { AppEnv } from "../../http/env.ts";
import { serializeAccount, serializeReblog, serializeStatus } from "./serializers.ts";

/** Serializes posts that the visibility module already let through. */
export async function renderStatuses(
  c: Context<AppEnv>,
  posts: readonly Post[],
  options: { withSource?: boolean } = {},
) {
  const { clique, config } = c.get("services");
  // A browser's session loads media with its cookie: its URLs carry no grant,
  // so a link copied out of the web interface opens for nobody else.
  const extras = await clique.postExtras(posts, c.get("viewer"), {
    grants: c.get("authKind") !== "session",
  });
  const profiles = await profilesFor(c, [...extras.authors.values()]);
  return posts.map((p) => serializeStatus(config.origin, p, extras, options, profiles));
}

/** Serializes one account with its counts as the viewer may see them; `null` if unknown or removed. */
export async function renderAccount(c: Context<AppEnv>, actorId: string) {
  const [account] = await renderAccounts(c, [actorId]);
  return account ?? null;
}

/**
 * Serializes accounts, in the order given, leaving out unknown and removed
 * ones. A fixed number of queries for the whole list, whatever its length:
 * actors, members, counters, and one judgement of every member's profile
 * parts by the visibility module.
 */
export async function renderAccounts(c: Context<AppEnv>, actorIds: readonly string[]) {
  const { clique, config } = c.get("services");
  const viewer = c.get("viewer");
  const actors = new Map((await clique.getActors(actorIds)).map((a) => [a.id, a]));
  const localIds = [...actors.values()].filter((a) => a.kind === "local").map((a) => a.id);
  const [members, stats] = await Promise.all([
    clique.getMembers(localIds),
    clique.accountStats(viewer, [...actors.keys()]),
  ]);
  const memberById = new Map(members.map((m) => [m.id, m]));
  // Removed members are gone from the API.
  const profiles = await clique.viewProfiles(
    viewer,
    members.filter((m) => m.status !== "removed"),
  );
  const accounts: ReturnType<typeof serializeAccount>[] = [];
  for (const id of actorIds) {
    const actor = actors.get(id);
    if (!actor) continue;
    const member = memberById.get(id) ?? null;
    // Removed members are gone from the API.
    if (member?.status === "removed") continue;
    const profile = profiles.get(id) ?? null;
    accounts.push(
      serializeAccount(config.origin, actor, {
        member,
        stats: stats.get(id) ?? NO_STATS,
        profile,
      }),
    );
  }
  return accounts;
}

/** Sets Mastodon's `Link` header for a page of results. */
export function setPaginationLinks(c: Context<AppEnv>, items: readonly { id: string }[]): void {
  if (items.length === 0) return;
  const { config } = c.get("services");
  const base = new URL(c.req.path, config.origin);
  const keep = new URL(c.req.url).searchParams;
  const link = (key: string, id: string) => {
    const u = new URL(base);
    for (const [k, v] of keep)
      if (!["max_id", "min_id", "since_id"].includes(k)) u.searchParams.append(k, v);
    u.searchParams.set(key, id);
    return u.toString();
  };
  const next = link("max_id", items[items.length - 1]!.id);
  const prev = link("min_id", items[0]!.id);
  c.header("Link", `<${next}>; rel="next", <${prev}>; rel="prev"`);
}

/**
 * What the viewer may see of each local author's profile (asked of the
 * visibility module): one query for the members, one for all their parts.
 */
export async function profilesFor(
  c: Context<AppEnv>,
  actors: readonly Actor[],
): Promise<Map<string, VisibleProfile>> {
  const { clique } = c.get("services");
  const members = await clique.getMembers(
    actors.filter((a) => a.kind === "local").map((a) => a.id),
  );
  return clique.viewProfiles(c.get("viewer"), members);
}

// --- Boosts (issue 11) --------------------------------------------------------

/**
 * Serializes feed entries: posts, and boosts as Mastodon's reblog wrapper (a
 * status of the booster whose `reblog` is the original). Every original was
 * let through by the visibility module; a boost whose booster is gone from
 * the API (removed) is left out.
 */
export async function renderFeed(c: Context<AppEnv>, entries: readonly FeedEntry[]) {
  const { config } = c.get("services");
  const statuses = await renderStatuses(
    c,
    entries.map((e) => e.post),
  );
  const boosterIds = [...new Set(entries.flatMap((e) => (e.boost ? [e.boost.actorId] : [])))];
  const boosters = new Map((await renderAccounts(c, boosterIds)).map((a) => [a.id, a]));
  const rendered: (ReturnType<typeof serializeStatus> | ReturnType<typeof serializeReblog>)[] = [];
  entries.forEach((entry, i) => {
    const status = statuses[i]!;
    if (!entry.boost) rendered.push(status);
    else {
      const account = boosters.get(entry.boost.actorId);
      if (account) rendered.push(serializeReblog(config.origin, entry.boost, account, status));
    }
  });
  return rendered;
}
