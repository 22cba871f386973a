/**
 * Compiles the visibility module's grants into SQL. This file adds no rule of
 * its own: each grant kind maps to exactly one condition.
 */
import { type Expression, type ExpressionBuilder, type Kysely, type SqlBool, sql } from "kysely";
import type { RemoteStandingKind } from "../../domain/remote-moderation.ts";
import type { Post } from "../../domain/types.ts";
import {
  type Grant,
  OPEN_AUDIENCES,
  type VisibilityFacts,
  type VisibilityFilter,
  type Who,
} from "../../visibility/visibility.ts";
import type { Database } from "./schema.ts";

type PostsEb = ExpressionBuilder<Database & { p: Database["posts"] }, "p">;
type AnyEb = ExpressionBuilder<Database, keyof Database>;

/**
 * `column` is the actor `who` means (one actor, or any actor on a host that
 * the `blockers` do not block). Every condition below is an *uncorrelated*
 * `IN (subquery)`: PostgreSQL computes each subquery once per query and probes
 * a hash per row, instead of running a correlated lookup for every candidate
 * post. The one exception is a server viewer in a list, whose host must leave
 * out the actors blocked by each post's author and audience owner (`blockers`
 * are then `p.author_id` and `p.audience_owner_id`).
 */
function whoMatches(
  column: string,
  who: Who,
  blockers: readonly (Expression<string | null> | string)[] | null = null,
): Expression<SqlBool> {
  if ("actorId" in who) return sql<boolean>`${sql.ref(column)} = ${who.actorId}`;
  const on = sql<boolean>`${sql.ref(column)} in (select wa.id from actors wa where lower(wa.host) = ${who.host.toLowerCase()})`;
  const by = blockers ?? who.notBlockedBy ?? [];
  if (by.length === 0) return on;
  return sql<boolean>`(${on} and ${sql.ref(column)} not in (select wb.blocked_id from blocks wb where wb.blocker_id in (${sql.join(by)})))`;
}

/**
 * How a condition is shaped for the query around it (never what it means).
 * `set` (counts and other whole-set queries) asks each relation once and
 * hashes it; `page` (a page of a list, read in `id` order until it is full)
 * probes the relations that grow with the posts table (the posts addressed
 * to the viewer) row by row through their index, so a page costs the same
 * at a thousand posts or a million (issue 13).
 */
export type ConditionShape = "set" | "page";

/**
 * Whether the post `p` is addressed to the actor: one probe of
 * `post_recipients_pk` for this row. A scalar subquery, because PostgreSQL
 * would turn an `exists` into a hash of every post ever addressed to them.
 */
export function addressedTo(eb: PostsEb, actorId: string): Expression<SqlBool> {
  return sql<boolean>`coalesce((select true from post_recipients pa where pa.post_id = ${eb.ref("p.id")} and pa.actor_id = ${actorId} limit 1), false)`;
}

function grantCondition(eb: PostsEb, grant: Grant, shape: ConditionShape): Expression<SqlBool> {
  const any = eb as unknown as AnyEb;
  // A host stands for its actors that the post's author and audience owner do not block.
  const author = [eb.ref("p.author_id"), eb.ref("p.audience_owner_id")];
  switch (grant.kind) {
    case "audience":
      return eb("p.audience", "in", [...grant.audiences]);
    case "author":
      return eb.or([
        eb("p.author_id", "=", grant.actorId),
        eb("p.audience_owner_id", "=", grant.actorId),
      ]);
    case "member":
      return eb.and([
        eb("p.audience", "in", [...grant.audiences]),
        eb.exists(
          eb
            .selectFrom("members as vm")
            .select(sql`1`.as("one"))
            .where("vm.id", "=", grant.actorId)
            .where("vm.status", "=", "active"),
        ),
      ]);
    case "follower":
      return eb.and([
        eb("p.audience", "in", [...grant.audiences]),
        eb(
          eb.fn.coalesce("p.audience_owner_id", "p.author_id"),
          "in",
          any
            .selectFrom("follows as f")
            .select("f.followee_id")
            .where("f.state", "=", "accepted")
            .where(whoMatches("f.follower_id", grant.who, author)),
        ),
      ]);
    case "circle":
      return eb.and([
        eb("p.audience", "=", "circle"),
        eb(
          "p.circle_id",
          "in",
          any
            .selectFrom("circle_members as cm")
            .select("cm.circle_id")
            .where(whoMatches("cm.actor_id", grant.who, author)),
        ),
      ]);
    case "recipient":
      if (shape === "page" && "actorId" in grant.who)
        return eb.and([
          eb("p.audience", "in", [...grant.audiences]),
          addressedTo(eb, grant.who.actorId),
        ]);
      return eb.and([
        eb("p.audience", "in", [...grant.audiences]),
        eb(
          "p.id",
          "in",
          any
            .selectFrom("post_recipients as r")
            .select("r.post_id")
            .where(whoMatches("r.actor_id", grant.who, author)),
        ),
      ]);
    case "friend":
      // They follow the author and the author follows them, both approved.
      return eb.and([
        eb("p.audience", "=", "friends"),
        eb(
          eb.fn.coalesce("p.audience_owner_id", "p.author_id"),
          "in",
          any
            .selectFrom("follows as fa")
            .innerJoin("follows as fb", (join) =>
              join
                .onRef("fb.follower_id", "=", "fa.followee_id")
                .onRef("fb.followee_id", "=", "fa.follower_id"),
            )
            .select("fa.followee_id")
            .where("fa.state", "=", "accepted")
            .where("fb.state", "=", "accepted")
            .where(whoMatches("fa.follower_id", grant.who, author)),
        ),
      ]);
    case "followed":
      if (grant.ownerIds.length === 0) return sql<boolean>`false`;
      return eb.and([
        eb("p.audience", "in", [...grant.audiences]),
        eb(eb.fn.coalesce("p.audience_owner_id", "p.author_id"), "in", [...grant.ownerIds]),
      ]);
    default: {
      const unreachable: never = grant;
      throw new Error(`unknown grant ${JSON.stringify(unreachable)}`);
    }
  }
}

/**
 * Remote actors remote moderation holds at `standing`: those whose server is
 * blocked (limited), kept on each actor by triggers, and those suspended
 * (silenced) one by one.
 */
function actorsStanding(any: AnyEb, standing: "blocked" | "limited") {
  return any
    .selectFrom("actors as ra")
    .select("ra.id")
    .where("ra.domain_severity", "=", standing === "blocked" ? "block" : "limit")
    .union(
      any
        .selectFrom("remote_actor_sanctions as rs")
        .select("rs.actor_id as id")
        .where("rs.kind", "=", standing === "blocked" ? "suspend" : "silence"),
    );
}

/** The remote moderation guards of `canView`, as SQL. */
function remoteModerationConditions(
  eb: PostsEb,
  filter: VisibilityFilter,
  shape: ConditionShape,
): Expression<SqlBool>[] {
  const any = eb as unknown as AnyEb;
  const conditions: Expression<SqlBool>[] = [];
  const viewer = filter.remoteViewer;
  if (viewer) {
    // A blocked server and its accounts, and a suspended account, see nothing.
    conditions.push(
      "actorId" in viewer
        ? eb.not(eb(eb.val(viewer.actorId), "in", actorsStanding(any, "blocked")))
        : sql<boolean>`clique_domain_severity(${viewer.host.toLowerCase()}) is distinct from 'block'`,
    );
  }
  // Nothing of a blocked server or a suspended account is shown.
  conditions.push(eb("p.author_id", "not in", actorsStanding(any, "blocked")));
  // A limited server's and a silenced account's posts reach only the members
  // who follow their author, and the members they are addressed to.
  const notLimited = eb("p.author_id", "not in", actorsStanding(any, "limited"));
  const member = filter.memberActorId;
  conditions.push(
    member === null
      ? notLimited
      : eb.or([
          notLimited,
          eb(
            "p.author_id",
            "in",
            any
              .selectFrom("follows as lf")
              .select("lf.followee_id")
              .where("lf.follower_id", "=", member)
              .where("lf.state", "=", "accepted"),
          ),
          shape === "page"
            ? addressedTo(eb, member)
            : eb(
                "p.id",
                "in",
                any
                  .selectFrom("post_recipients as lr")
                  .select("lr.post_id")
                  .where("lr.actor_id", "=", member),
              ),
        ]),
  );
  return conditions;
}

/**
 * The SQL form of `canView`, for a query over `posts as p`; `shape` says
 * whether the query reads a page (`page`) or a whole set (`set`, the default).
 */
export function visibleCondition(
  eb: PostsEb,
  filter: VisibilityFilter,
  shape: ConditionShape = "set",
): Expression<SqlBool> {
  const any = eb as unknown as AnyEb;
  const conditions: Expression<SqlBool>[] = [
    // Deleted posts, and posts a moderator hid from the Clique, are gone for everyone.
    eb("p.deleted_at", "is", null),
    eb("p.hidden_at", "is", null),
    // Posts of suspended or removed members are hidden with them (and those of
    // accounts their own server suspended).
    eb(
      "p.author_id",
      "not in",
      any
        .selectFrom("members as am")
        .select("am.id")
        .where("am.status", "<>", "active")
        .union(
          any
            .selectFrom("actors as sa")
            .select("sa.id")
            .where("sa.origin_suspended_at", "is not", null),
        ),
    ),
    eb.or(filter.grants.map((g) => grantCondition(eb, g, shape))),
    ...remoteModerationConditions(eb, filter, shape),
  ];
  if (filter.viewerActorId !== null) {
    // Someone the author (or the owner of a borrowed audience) blocks sees
    // only what is open to everyone.
    const blockers = any
      .selectFrom("blocks as vb")
      .select("vb.blocker_id")
      .where("vb.blocked_id", "=", filter.viewerActorId);
    conditions.push(
      eb.or([
        eb("p.audience", "in", [...OPEN_AUDIENCES]),
        eb("p.author_id", "=", filter.viewerActorId),
        eb.and([
          eb("p.author_id", "not in", blockers),
          eb(eb.fn.coalesce("p.audience_owner_id", "p.author_id"), "not in", blockers),
        ]),
      ]),
    );
  }
  if (filter.listing === "public") conditions.push(eb("p.audience", "<>", "unlisted"));
  return eb.and(conditions);
}

/**
 * Posts given by value (not read from `posts`), as a relation `p` with the
 * columns `visibleCondition` reads and each post's index `n`: the list filter
 * then judges posts that are not stored, such as profile parts (issue 13).
 */
export function postsByValue(posts: readonly Post[]) {
  const rows = posts.map(
    (post, n) =>
      sql`(${n}::integer, ${post.id}::uuid, ${post.authorId}::uuid, ${post.audience}::text, ${post.circleId}::uuid, ${post.audienceOwnerId}::uuid, ${post.deletedAt}::timestamptz, ${post.hiddenAt ?? null}::timestamptz)`,
  );
  return sql<{ n: number }>`(values ${sql.join(rows)})`.as<"p">(
    sql`p(n, id, author_id, audience, circle_id, audience_owner_id, deleted_at, hidden_at)`,
  );
}

/**
 * Whether the filter can let through any post that is not open to everyone:
 * false when every grant is for public or unlisted posts (the anonymous
 * viewer's), so that a count of restricted posts can be skipped.
 */
export function mayReachRestricted(filter: VisibilityFilter): boolean {
  return filter.grants.some(
    (g) => !(g.kind === "audience" && g.audiences.every((a) => OPEN_AUDIENCES.includes(a))),
  );
}

/** Answers the visibility module's questions with single-row lookups. */
export class KyselyVisibilityFacts implements VisibilityFacts {
  private readonly db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.db = db;
  }

  async authorIsActive(authorId: string): Promise<boolean> {
    const row = await this.db
      .selectFrom("actors")
      .leftJoin("members", "members.id", "actors.id")
      .select(["members.status", "actors.origin_suspended_at"])
      .where("actors.id", "=", authorId)
      .executeTakeFirst();
    if (!row) return true;
    return (row.status ?? "active") === "active" && row.origin_suspended_at === null;
  }

  async isActiveMember(actorId: string): Promise<boolean> {
    const row = await this.db
      .selectFrom("members")
      .select("status")
      .where("id", "=", actorId)
      .executeTakeFirst();
    return row?.status === "active";
  }

  async isApprovedFollower(who: Who, followeeId: string): Promise<boolean> {
    const row = await this.db
      .selectFrom("follows as f")
      .select("f.id")
      .where("f.followee_id", "=", followeeId)
      .where("f.state", "=", "accepted")
      .where(whoMatches("f.follower_id", who))
      .executeTakeFirst();
    return row !== undefined;
  }

  async circleHolds(circleId: string, who: Who): Promise<boolean> {
    const row = await this.db
      .selectFrom("circle_members as cm")
      .select("cm.actor_id")
      .where("cm.circle_id", "=", circleId)
      .where(whoMatches("cm.actor_id", who))
      .executeTakeFirst();
    return row !== undefined;
  }

  async isRecipient(postId: string, who: Who): Promise<boolean> {
    const row = await this.db
      .selectFrom("post_recipients as r")
      .select("r.actor_id")
      .where("r.post_id", "=", postId)
      .where(whoMatches("r.actor_id", who))
      .executeTakeFirst();
    return row !== undefined;
  }

  async isFriend(who: Who, authorId: string): Promise<boolean> {
    const row = await this.db
      .selectFrom("follows as fa")
      .innerJoin("follows as fb", (join) =>
        join
          .onRef("fb.follower_id", "=", "fa.followee_id")
          .onRef("fb.followee_id", "=", "fa.follower_id"),
      )
      .select("fa.id")
      .where("fa.followee_id", "=", authorId)
      .where("fa.state", "=", "accepted")
      .where("fb.state", "=", "accepted")
      .where(whoMatches("fa.follower_id", who))
      .executeTakeFirst();
    return row !== undefined;
  }

  async remoteStanding(actorId: string): Promise<RemoteStandingKind> {
    const row = await this.db
      .selectFrom("actors as a")
      .select([
        "a.domain_severity",
        (eb) =>
          eb
            .selectFrom("remote_actor_sanctions as s")
            .select(sql<string>`string_agg(s.kind, ',')`.as("kinds"))
            .whereRef("s.actor_id", "=", "a.id")
            .as("kinds"),
      ])
      .where("a.id", "=", actorId)
      .executeTakeFirst();
    const kinds = (row?.kinds ?? "").split(",");
    if (row?.domain_severity === "block" || kinds.includes("suspend")) return "blocked";
    if (row?.domain_severity === "limit" || kinds.includes("silence")) return "limited";
    return "ok";
  }

  async hostStanding(host: string): Promise<RemoteStandingKind> {
    const row = await this.db
      .selectNoFrom(
        sql<string | null>`clique_domain_severity(${host.toLowerCase()})`.as("severity"),
      )
      .executeTakeFirst();
    if (row?.severity === "block") return "blocked";
    return row?.severity === "limit" ? "limited" : "ok";
  }

  async visibleAmong(posts: readonly Post[], filter: VisibilityFilter): Promise<Set<number>> {
    if (posts.length === 0) return new Set();
    // A few rows given by value: "page" probes each relation per row.
    const rows = await this.db
      .selectFrom(postsByValue(posts))
      .select("p.n")
      .where((eb) => visibleCondition(eb as unknown as PostsEb, filter, "page"))
      .execute();
    return new Set(rows.map((r) => Number(r.n)));
  }

  async blocks(blockerId: string, actorId: string): Promise<boolean> {
    const row = await this.db
      .selectFrom("blocks")
      .select("blocker_id")
      .where("blocker_id", "=", blockerId)
      .where("blocked_id", "=", actorId)
      .executeTakeFirst();
    return row !== undefined;
  }
}
