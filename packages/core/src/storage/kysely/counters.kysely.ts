/**
 * Reads of the counters that migration 020's triggers keep (issue 13): a page
 * of accounts or posts costs a fixed number of indexed reads, never a count
 * over an author's posts.
 *
 * A counter is a fact about rows; what a viewer is shown stays the visibility
 * module's decision. An author's open posts (public and unlisted) are shown
 * to a viewer who may see an open post of theirs, judged by the list filter
 * over one post given by value; the restricted ones are counted through the
 * filter, and only when the author has some and the viewer could see some.
 */
import { type ExpressionBuilder, type Kysely, sql } from "kysely";
import type { AccountCounts, PostCounters } from "../../stores/stores.ts";
import type { VisibilityFilter } from "../../visibility/visibility.ts";
import type { Database } from "./schema.ts";
import { mayReachRestricted, visibleCondition } from "./visibility.kysely.ts";

type PostsEb = ExpressionBuilder<Database & { p: Database["posts"] }, "p">;

const NO_POST_ID = "00000000-0000-0000-0000-000000000000";

/** Each post's likes, boosts and replies (of every audience) as the triggers keep them. */
export async function postCounters(
  db: Kysely<Database>,
  postIds: readonly string[],
): Promise<Map<string, PostCounters>> {
  const map = new Map<string, PostCounters>();
  if (postIds.length === 0) return map;
  const rows = await db
    .selectFrom("post_counters")
    .selectAll()
    .where("post_id", "in", [...new Set(postIds)])
    .execute();
  for (const r of rows)
    map.set(r.post_id, { replies: r.replies_count, likes: r.likes_count, boosts: r.boosts_count });
  return map;
}

/** Approved followers and follows of each actor, as the triggers keep them. */
export async function followCounters(
  db: Kysely<Database>,
  actorIds: readonly string[],
): Promise<Map<string, { followers: number; following: number }>> {
  const map = new Map<string, { followers: number; following: number }>();
  if (actorIds.length === 0) return map;
  const rows = await db
    .selectFrom("account_counters")
    .select(["actor_id", "followers_count", "following_count"])
    .where("actor_id", "in", [...new Set(actorIds)])
    .execute();
  for (const r of rows)
    map.set(r.actor_id, { followers: r.followers_count, following: r.following_count });
  return map;
}

/**
 * For each account with counters: its approved followers and follows, how
 * many of its posts the filter lets through and the newest one's time. One
 * query, plus one grouped count of restricted posts when some account has
 * them and the filter may reach them. Only for personal listings: the open
 * counter holds unlisted posts, which a public listing leaves out.
 */
export async function countedAccounts(
  db: Kysely<Database>,
  actorIds: readonly string[],
  filter: VisibilityFilter,
): Promise<Map<string, AccountCounts>> {
  const map = new Map<string, AccountCounts>();
  if (actorIds.length === 0) return map;
  if (filter.listing !== "personal") throw new Error("counted posts are for personal listings");
  const ids = [...new Set(actorIds)];
  // Each author's counters beside an open post of theirs given by value: the
  // filter says whether this viewer may see the author's open posts at all
  // (the author's standing, remote moderation, the viewer's own).
  const rows = await db
    .selectFrom(
      db
        .selectFrom("account_counters as c")
        .select([
          sql<string>`${NO_POST_ID}::uuid`.as("id"),
          "c.actor_id as author_id",
          sql<string>`'public'`.as("audience"),
          sql<string | null>`null::uuid`.as("circle_id"),
          sql<string | null>`null::uuid`.as("audience_owner_id"),
          sql<Date | null>`null::timestamptz`.as("deleted_at"),
          sql<Date | null>`null::timestamptz`.as("hidden_at"),
          "c.followers_count",
          "c.following_count",
          "c.statuses_count",
          "c.open_statuses_count",
          "c.last_status_at",
          "c.last_open_status_at",
        ])
        .where("c.actor_id", "in", ids)
        .as("p"),
    )
    .select((eb) => [
      "p.author_id",
      "p.followers_count",
      "p.following_count",
      "p.statuses_count",
      "p.open_statuses_count",
      "p.last_status_at",
      "p.last_open_status_at",
      sql<boolean>`${visibleCondition(eb as unknown as PostsEb, filter, "page")}`.as("open_seen"),
    ])
    .execute();
  const restricted: string[] = [];
  for (const r of rows) {
    const counts: AccountCounts = {
      followers: r.followers_count,
      following: r.following_count,
      posts: 0,
      lastPostAt: null,
    };
    map.set(r.author_id, counts);
    if (!r.open_seen) continue;
    if (r.author_id === filter.viewerActorId) {
      // Authors see all their own posts.
      counts.posts = r.statuses_count;
      counts.lastPostAt = r.last_status_at ? new Date(r.last_status_at) : null;
      continue;
    }
    counts.posts = r.open_statuses_count;
    counts.lastPostAt = r.last_open_status_at ? new Date(r.last_open_status_at) : null;
    if (r.statuses_count > r.open_statuses_count) restricted.push(r.author_id);
  }
  if (restricted.length === 0 || !mayReachRestricted(filter)) return map;
  // The restricted posts this viewer may see, through the filter (the
  // `posts_author_restricted` partial index holds exactly these rows).
  const seen = await db
    .selectFrom("posts as p")
    .select((eb) => [
      "p.author_id",
      eb.fn.countAll<string>().as("n"),
      eb.fn.max("p.created_at").as("last"),
    ])
    .where("p.author_id", "in", restricted)
    .where(sql<boolean>`p.audience not in ('public', 'unlisted')`)
    .where((eb) => visibleCondition(eb, filter))
    .groupBy("p.author_id")
    .execute();
  for (const r of seen) {
    const counts = map.get(r.author_id);
    if (!counts) continue;
    const last = new Date(r.last);
    counts.posts += Number(r.n);
    if (counts.lastPostAt === null || last > counts.lastPostAt) counts.lastPostAt = last;
  }
  return map;
}
