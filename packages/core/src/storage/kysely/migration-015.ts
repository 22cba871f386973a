/**
 * Migration `015_bookmarks_pins`: boosts get an audience of their own (a
 * member may boost to everyone or to their followers only), members keep
 * private bookmarks, and pin their own posts to their profile (the actor's
 * `featured` collection).
 */
import { type Kysely, sql } from "kysely";
import type { Migration } from "kysely/migration";

// biome-ignore lint/suspicious/noExplicitAny: migrations run against the database as it was then, not today's types.
type AnyDb = Kysely<any>;

/** The `015_bookmarks_pins` migration. */
export const m015_bookmarks_pins: Migration = {
  async up(db: AnyDb) {
    // Who a boost is shown to: everyone, or the booster's followers. Likes keep `public`.
    await db.schema
      .alterTable("post_interactions")
      .addColumn("audience", "text", (c) =>
        c.notNull().defaultTo("public").check(sql`audience in ('public', 'followers')`),
      )
      .execute();
    // A member's favourites and boosts, newest first (the favourites list, boosts in feeds).
    await db.schema
      .createIndex("post_interactions_actor")
      .on("post_interactions")
      .columns(["actor_id", "kind", "id"])
      .execute();
    // A member's bookmarks: private, listed by when they were made.
    await db.schema
      .createTable("bookmarks")
      .addColumn("id", "uuid", (c) => c.primaryKey())
      .addColumn("member_id", "uuid", (c) =>
        c.notNull().references("members.id").onDelete("cascade"),
      )
      .addColumn("post_id", "uuid", (c) => c.notNull().references("posts.id").onDelete("cascade"))
      .addColumn("created_at", "timestamptz", (c) => c.notNull())
      .addUniqueConstraint("bookmarks_once", ["member_id", "post_id"])
      .execute();
    await db.schema
      .createIndex("bookmarks_member")
      .on("bookmarks")
      .columns(["member_id", "id"])
      .execute();
    // Posts a member pinned to their profile (their own, a few at most).
    await db.schema
      .createTable("pins")
      .addColumn("id", "uuid", (c) => c.primaryKey())
      .addColumn("member_id", "uuid", (c) =>
        c.notNull().references("members.id").onDelete("cascade"),
      )
      .addColumn("post_id", "uuid", (c) => c.notNull().references("posts.id").onDelete("cascade"))
      .addColumn("created_at", "timestamptz", (c) => c.notNull())
      .addUniqueConstraint("pins_once", ["member_id", "post_id"])
      .execute();
  },
};
