/**
 * Migration `016_timelines_markers`: what Mastodon apps read at start-up and
 * the Clique's own timeline. Read positions (markers), the Clique's
 * announcements and who dismissed them, each member's read state of their
 * direct conversations, and whether anonymous visitors see the public posts
 * of the Clique's timeline. Hashtags were already stored (`post_tags`).
 */
import { type Kysely, sql } from "kysely";
import type { Migration } from "kysely/migration";

// biome-ignore lint/suspicious/noExplicitAny: migrations run against the database as it was then, not today's types.
type AnyDb = Kysely<any>;

/** The `016_timelines_markers` migration. */
export const m016_timelines_markers: Migration = {
  async up(db: AnyDb) {
    await db.schema
      .alterTable("clique_settings")
      .addColumn("public_timeline_anonymous", "boolean", (c) => c.notNull().defaultTo(false))
      .execute();
    // Where a member stopped reading a timeline (`home`, `notifications`).
    await db.schema
      .createTable("markers")
      .addColumn("member_id", "uuid", (c) =>
        c.notNull().references("members.id").onDelete("cascade"),
      )
      .addColumn("timeline", "text", (c) =>
        c.notNull().check(sql`timeline in ('home', 'notifications')`),
      )
      .addColumn("last_read_id", "text", (c) => c.notNull())
      .addColumn("version", "integer", (c) => c.notNull().defaultTo(1))
      .addColumn("updated_at", "timestamptz", (c) => c.notNull())
      .addPrimaryKeyConstraint("markers_pk", ["member_id", "timeline"])
      .execute();
    await db.schema
      .createTable("announcements")
      .addColumn("id", "uuid", (c) => c.primaryKey())
      .addColumn("text", "text", (c) => c.notNull())
      .addColumn("content_html", "text", (c) => c.notNull())
      .addColumn("starts_at", "timestamptz")
      .addColumn("ends_at", "timestamptz")
      .addColumn("all_day", "boolean", (c) => c.notNull().defaultTo(false))
      .addColumn("created_by", "uuid", (c) => c.references("members.id").onDelete("set null"))
      .addColumn("published_at", "timestamptz", (c) => c.notNull())
      .addColumn("updated_at", "timestamptz", (c) => c.notNull())
      .execute();
    await db.schema
      .createTable("announcement_dismissals")
      .addColumn("announcement_id", "uuid", (c) =>
        c.notNull().references("announcements.id").onDelete("cascade"),
      )
      .addColumn("member_id", "uuid", (c) =>
        c.notNull().references("members.id").onDelete("cascade"),
      )
      .addColumn("dismissed_at", "timestamptz", (c) => c.notNull())
      .addPrimaryKeyConstraint("announcement_dismissals_pk", ["announcement_id", "member_id"])
      .execute();
    // A member's direct conversation (keyed by its participants): read up to
    // a post, and hidden up to a post (a newer post brings it back).
    await db.schema
      .createTable("conversation_states")
      .addColumn("member_id", "uuid", (c) =>
        c.notNull().references("members.id").onDelete("cascade"),
      )
      .addColumn("conversation_id", "uuid", (c) => c.notNull())
      .addColumn("read_up_to", "uuid")
      .addColumn("hidden_up_to", "uuid")
      .addPrimaryKeyConstraint("conversation_states_pk", ["member_id", "conversation_id"])
      .execute();
  },
};
