/**
 * Migration `022_e2ee_lifetimes`: how long the end-to-end encrypted chats'
 * ciphertexts live (issue 15, part 3).
 *
 * - `e2ee_messages.expires_at`: the time the sender's device declared a
 *   disappearing message expires (capped by retention): the server stops
 *   handing it out and deletes it once that time has passed. The timer itself
 *   is inside the ciphertext; only this time is visible.
 * - `e2ee_blobs`: encrypted attachments, opaque bytes a device uploaded for a
 *   group, fetched by the group's devices; deleted at their expiry, with the
 *   retention limit, or with the group.
 */
import { type Kysely, sql } from "kysely";
import type { Migration } from "kysely/migration";

// biome-ignore lint/suspicious/noExplicitAny: migrations run against the database as it was then, not today's types.
type AnyDb = Kysely<any>;

/** The `022_e2ee_lifetimes` migration. */
export const m022_e2ee_lifetimes: Migration = {
  async up(db: AnyDb) {
    await db.schema.alterTable("e2ee_messages").addColumn("expires_at", "timestamptz").execute();
    await sql`create index e2ee_messages_expires on e2ee_messages (expires_at) where expires_at is not null`.execute(
      db,
    );
    await db.schema
      .createTable("e2ee_blobs")
      .addColumn("id", "uuid", (c) => c.primaryKey())
      .addColumn("group_id", "uuid", (c) =>
        c.notNull().references("e2ee_groups.id").onDelete("cascade"),
      )
      .addColumn("device_id", "uuid", (c) => c.notNull())
      .addColumn("body", "bytea", (c) => c.notNull())
      .addColumn("created_at", "timestamptz", (c) => c.notNull())
      .addColumn("expires_at", "timestamptz")
      .execute();
    await db.schema
      .createIndex("e2ee_blobs_created")
      .on("e2ee_blobs")
      .column("created_at")
      .execute();
    await db.schema.createIndex("e2ee_blobs_group").on("e2ee_blobs").column("group_id").execute();
  },
};
