/**
 * Compiles the visibility module's grants into SQL. This file adds no rule of
 * its own: each grant kind maps to exactly one condition.
 */
import { type Expression, type ExpressionBuilder, type Kysely, type SqlBool, sql } from "kysely";
import type { Grant, VisibilityFacts, VisibilityFilter } from "../../visibility/visibility.ts";
import type { Database } from "./schema.ts";

type PostsEb = ExpressionBuilder<Database & { p: Database["posts"] }, "p">;

function grantCondition(eb: PostsEb, grant: Grant): Expression<SqlBool> {
  switch (grant.kind) {
    case "audience":
      return eb("p.audience", "in", [...grant.audiences]);
    case "author":
      return eb("p.author_id", "=", grant.actorId);
    case "follower":
      return eb.and([
        eb("p.audience", "in", [...grant.audiences]),
        eb.exists(
          eb
            .selectFrom("follows as f")
            .select(sql`1`.as("one"))
            .whereRef("f.followee_id", "=", "p.author_id")
            .where("f.follower_id", "=", grant.actorId)
            .where("f.state", "=", "accepted"),
        ),
      ]);
    case "circle":
      return eb.and([
        eb("p.audience", "=", "circle"),
        eb.exists(
          eb
            .selectFrom("circle_members as cm")
            .select(sql`1`.as("one"))
            .whereRef("cm.circle_id", "=", "p.circle_id")
            .where("cm.actor_id", "=", grant.actorId),
        ),
      ]);
    case "recipient":
      return eb.and([
        eb("p.audience", "in", [...grant.audiences]),
        eb.exists(
          eb
            .selectFrom("post_recipients as r")
            .select(sql`1`.as("one"))
            .whereRef("r.post_id", "=", "p.id")
            .where("r.actor_id", "=", grant.actorId),
        ),
      ]);
    default: {
      const unreachable: never = grant;
      throw new Error(`unknown grant ${JSON.stringify(unreachable)}`);
    }
  }
}

/** The SQL form of `canView`, for a query over `posts as p`. */
export function visibleCondition(eb: PostsEb, filter: VisibilityFilter): Expression<SqlBool> {
  const conditions: Expression<SqlBool>[] = [
    eb("p.deleted_at", "is", null),
    eb.not(
      eb.exists(
        eb
          .selectFrom("members as am")
          .select(sql`1`.as("one"))
          .whereRef("am.id", "=", "p.author_id")
          .where("am.status", "<>", "active"),
      ),
    ),
    eb.or(filter.grants.map((g) => grantCondition(eb, g))),
  ];
  if (filter.listing === "public") conditions.push(eb("p.audience", "<>", "unlisted"));
  return eb.and(conditions);
}

/** Answers the visibility module's questions with single-row lookups. */
export class KyselyVisibilityFacts implements VisibilityFacts {
  private readonly db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.db = db;
  }

  async authorIsActive(authorId: string): Promise<boolean> {
    const row = await this.db
      .selectFrom("members")
      .select("status")
      .where("id", "=", authorId)
      .executeTakeFirst();
    return row === undefined || row.status === "active";
  }

  async isApprovedFollower(followerId: string, followeeId: string): Promise<boolean> {
    const row = await this.db
      .selectFrom("follows")
      .select("id")
      .where("follower_id", "=", followerId)
      .where("followee_id", "=", followeeId)
      .where("state", "=", "accepted")
      .executeTakeFirst();
    return row !== undefined;
  }

  async circleHolds(circleId: string, actorId: string): Promise<boolean> {
    const row = await this.db
      .selectFrom("circle_members")
      .select("actor_id")
      .where("circle_id", "=", circleId)
      .where("actor_id", "=", actorId)
      .executeTakeFirst();
    return row !== undefined;
  }

  async isRecipient(postId: string, actorId: string): Promise<boolean> {
    const row = await this.db
      .selectFrom("post_recipients")
      .select("actor_id")
      .where("post_id", "=", postId)
      .where("actor_id", "=", actorId)
      .executeTakeFirst();
    return row !== undefined;
  }
}
