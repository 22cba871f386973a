/**
 * Migration `017_oidc_identities`: members' identities at OpenID Connect
 * providers. One identity belongs to at most one member; a member may hold
 * several (one per provider account).
 */
import { type Kysely, sql } from "kysely";
import type { Migration } from "kysely/migration";

// biome-ignore lint/suspicious/noExplicitAny: migrations run against the database as it was then, not today's types.
type AnyDb = Kysely<any>;

/** The `017_oidc_identities` migration. */
export const m017_oidc_identities: Migration = {
  async up(db: AnyDb) {
    await db.schema
      .createTable("oidc_identities")
      .addColumn("id", "uuid", (c) => c.primaryKey())
      .addColumn("member_id", "uuid", (c) =>
        c.notNull().references("members.id").onDelete("cascade"),
      )
      .addColumn("issuer", "text", (c) => c.notNull())
      .addColumn("subject", "text", (c) => c.notNull())
      .addColumn("email", "text")
      .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
      .addUniqueConstraint("oidc_identities_issuer_subject", ["issuer", "subject"])
      .execute();
    await db.schema
      .createIndex("oidc_identities_member")
      .on("oidc_identities")
      .column("member_id")
      .execute();
  },
};
