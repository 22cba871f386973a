/**
 * Migration `021_e2ee_delivery`: the tables of the end-to-end encrypted chats'
 * delivery service and key directory (issue 15). The server keeps opaque
 * bytes only: MLS KeyPackages, handshake and application messages it cannot
 * read, and the public signature keys of devices.
 *
 * - `e2ee_devices`: a member's devices, each bound to the session or token
 *   that registered it; `delivery_seq` numbers what the device is sent, and
 *   its row lock orders concurrent deliveries to the device.
 * - `e2ee_key_packages`: KeyPackages waiting to be claimed (each once), and at
 *   most one last-resort package per device that claims do not consume.
 * - `e2ee_directory`: the append-only, hash-chained log of device keys.
 * - `e2ee_groups`, `e2ee_group_devices`: each group's epoch (one Commit is
 *   accepted per epoch) and which devices receive its messages.
 * - `e2ee_messages`, `e2ee_deliveries`: ciphertexts and who has yet to fetch
 *   them; a message goes when its last delivery is fetched or when it is
 *   older than the retention limit.
 */
import { type Kysely, sql } from "kysely";
import type { Migration } from "kysely/migration";

// biome-ignore lint/suspicious/noExplicitAny: migrations run against the database as it was then, not today's types.
type AnyDb = Kysely<any>;

/** The `021_e2ee_delivery` migration. */
export const m021_e2ee_delivery: Migration = {
  async up(db: AnyDb) {
    await db.schema
      .createTable("e2ee_devices")
      .addColumn("id", "uuid", (c) => c.primaryKey())
      .addColumn("member_id", "uuid", (c) =>
        c.notNull().references("members.id").onDelete("cascade"),
      )
      .addColumn("token_id", "text", (c) => c.notNull())
      .addColumn("name", "text", (c) => c.notNull())
      .addColumn("signature_key", "bytea", (c) => c.notNull().unique())
      .addColumn("delivery_seq", "bigint", (c) => c.notNull().defaultTo(0))
      .addColumn("created_at", "timestamptz", (c) => c.notNull())
      .addColumn("removed_at", "timestamptz")
      .execute();
    await db.schema
      .createIndex("e2ee_devices_member")
      .on("e2ee_devices")
      .column("member_id")
      .execute();

    await db.schema
      .createTable("e2ee_key_packages")
      .addColumn("id", "bigserial", (c) => c.primaryKey())
      .addColumn("device_id", "uuid", (c) =>
        c.notNull().references("e2ee_devices.id").onDelete("cascade"),
      )
      .addColumn("body", "bytea", (c) => c.notNull())
      .addColumn("last_resort", "boolean", (c) => c.notNull().defaultTo(false))
      .addColumn("created_at", "timestamptz", (c) => c.notNull())
      .execute();
    await sql`create index e2ee_key_packages_device on e2ee_key_packages (device_id, id) where not last_resort`.execute(
      db,
    );
    await sql`create unique index e2ee_key_packages_last_resort on e2ee_key_packages (device_id) where last_resort`.execute(
      db,
    );

    await db.schema
      .createTable("e2ee_directory")
      .addColumn("seq", "bigint", (c) => c.primaryKey().check(sql`seq > 0`))
      .addColumn("member_id", "uuid", (c) => c.notNull())
      .addColumn("device_id", "uuid", (c) => c.notNull())
      .addColumn("signature_key", "bytea", (c) => c.notNull())
      .addColumn("action", "text", (c) => c.notNull().check(sql`action in ('add', 'remove')`))
      .addColumn("prev_hash", "bytea", (c) => c.notNull())
      .addColumn("hash", "bytea", (c) => c.notNull())
      .addColumn("created_at", "timestamptz", (c) => c.notNull())
      .execute();

    await db.schema
      .createTable("e2ee_groups")
      .addColumn("id", "uuid", (c) => c.primaryKey())
      .addColumn("epoch", "bigint", (c) => c.notNull().defaultTo(0))
      .addColumn("created_by", "uuid", (c) => c.notNull())
      .addColumn("created_at", "timestamptz", (c) => c.notNull())
      .execute();
    await db.schema
      .createTable("e2ee_group_devices")
      .addColumn("group_id", "uuid", (c) =>
        c.notNull().references("e2ee_groups.id").onDelete("cascade"),
      )
      .addColumn("device_id", "uuid", (c) =>
        c.notNull().references("e2ee_devices.id").onDelete("cascade"),
      )
      .addColumn("joined_epoch", "bigint", (c) => c.notNull())
      .addPrimaryKeyConstraint("e2ee_group_devices_pk", ["group_id", "device_id"])
      .execute();
    await db.schema
      .createIndex("e2ee_group_devices_device")
      .on("e2ee_group_devices")
      .column("device_id")
      .execute();

    await db.schema
      .createTable("e2ee_messages")
      .addColumn("id", "bigserial", (c) => c.primaryKey())
      .addColumn("group_id", "uuid", (c) =>
        c.notNull().references("e2ee_groups.id").onDelete("cascade"),
      )
      .addColumn("kind", "text", (c) =>
        c.notNull().check(sql`kind in ('commit', 'welcome', 'application')`),
      )
      .addColumn("epoch", "bigint", (c) => c.notNull())
      .addColumn("sender_device_id", "uuid", (c) => c.notNull())
      .addColumn("body", "bytea", (c) => c.notNull())
      .addColumn("created_at", "timestamptz", (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex("e2ee_messages_created")
      .on("e2ee_messages")
      .column("created_at")
      .execute();
    await db.schema
      .createTable("e2ee_deliveries")
      .addColumn("device_id", "uuid", (c) =>
        c.notNull().references("e2ee_devices.id").onDelete("cascade"),
      )
      .addColumn("seq", "bigint", (c) => c.notNull())
      .addColumn("message_id", "bigint", (c) =>
        c.notNull().references("e2ee_messages.id").onDelete("cascade"),
      )
      .addPrimaryKeyConstraint("e2ee_deliveries_pk", ["device_id", "seq"])
      .execute();
    await db.schema
      .createIndex("e2ee_deliveries_message")
      .on("e2ee_deliveries")
      .column("message_id")
      .execute();
  },
};
