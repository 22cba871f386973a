import type { Actor, Post, VisibleProfile } from "@clique/core";
import type { Context } from "hono";
import type { AppEnv } from "../../http/env.ts";
import { serializeAccount, serializeStatus } from "./serializers.ts";

/** Serializes posts that the visibility module already let through. */
export async function renderStatuses(
  c: Context<AppEnv>,
  posts: readonly Post[],
  options: { withSource?: boolean } = {},
) {
  const { clique, config } = c.get("services");
  const extras = await clique.postExtras(posts, c.get("member")?.id ?? null);
  const profiles = await profilesFor(c, [...extras.authors.values()]);
  return posts.map((p) => serializeStatus(config.origin, p, extras, options, profiles));
}

/** Serializes one account with its public counts. */
export async function renderAccount(c: Context<AppEnv>, actorId: string) {
  const { clique, config } = c.get("services");
  const actor = await clique.getActor(actorId);
  if (!actor) return null;
  const [member, stats] = await Promise.all([
    actor.kind === "local" ? clique.getMember(actor.id) : Promise.resolve(null),
    clique.accountStats(actor.id),
  ]);
  // Removed members are gone from the API.
  if (member && member.status === "removed") return null;
  const profile = member ? await clique.viewProfile(c.get("viewer"), member) : null;
  return serializeAccount(config.origin, actor, { member, stats, profile });
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

/** What the viewer may see of each local author's profile (asked of the visibility module). */
export async function profilesFor(
  c: Context<AppEnv>,
  actors: readonly Actor[],
): Promise<Map<string, VisibleProfile>> {
  const { clique } = c.get("services");
  const profiles = new Map<string, VisibleProfile>();
  for (const actor of actors) {
    if (actor.kind !== "local") continue;
    const member = await clique.getMember(actor.id);
    if (member) profiles.set(actor.id, await clique.viewProfile(c.get("viewer"), member));
  }
  return profiles;
}
