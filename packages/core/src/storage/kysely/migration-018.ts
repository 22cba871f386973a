/**
 * Migration `018_setup_token`: the one-time token that lets the first visitor
 * of a new server set up the Clique from the web. Only its hash is stored,
 * in a single row that each start of a server replaces while the Clique is
 * not set up, and that setting it up deletes.
 */
import { type Kysely, sql } from "kysely";
import type { Migration } from "kysely/migration";

// biome-ignore lint/suspicious/noExplicitAny: migrations run against the database as it was then, not today's types.
type AnyDb = Kysely<any>;

/** The `018_setup_token` migration. */
export const m018_setup_token: Migration = {
  async up(db: AnyDb) {
    await db.schema
      .createTable("setup_token")
      .addColumn("id", "integer", (c) => c.primaryKey().defaultTo(1).check(sql`id = 1`))
      .addColumn("token_hash", "text", (c) => c.notNull())
      .addColumn("created_at", "timestamptz", (c) => c.notNull())
      .execute();
  },
};
