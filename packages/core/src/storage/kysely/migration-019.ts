/**
 * Migration `019_feed_indexes`: keeps a feed page's cost independent of the
 * size of the tables behind it (issue 13, "Feeds at scale").
 *
 * Every list query leaves out the posts of accounts their own server
 * suspended (`actors.origin_suspended_at is not null`, visibility.kysely.ts).
 * Without an index that subquery read the whole `actors` table on every
 * page; this partial index holds only the suspended few, so it costs nothing
 * until someone is suspended.
 */
import { type Kysely, sql } from "kysely";
import type { Migration } from "kysely/migration";

// biome-ignore lint/suspicious/noExplicitAny: migrations run against the database as it was then, not today's types.
type AnyDb = Kysely<any>;

/** The `019_feed_indexes` migration. */
export const m019_feed_indexes: Migration = {
  async up(db: AnyDb) {
    await sql`create index actors_origin_suspended on actors (id) where origin_suspended_at is not null`.execute(
      db,
    );
  },
};
