/**
 * Moderation's own tables, migrated beside core's (their own migration
 * ledger, `moderation_migrations`). Never edit a migration that has shipped.
 */
import { type Kysely, sql } from "kysely";
import { type Migration, type MigrationProvider, Migrator } from "kysely/migration";

// biome-ignore lint/suspicious/noExplicitAny: migrations run against the database as it was then.
type AnyDb = Kysely<any>;

const m001_audit_log: Migration = {
  async up(db: AnyDb) {
    await db.schema
      .createTable("moderation_audit_log")
      .addColumn("id", "uuid", (c) => c.primaryKey())
      .addColumn("actor_id", "uuid")
      .addColumn("action", "text", (c) => c.notNull())
      .addColumn("subject_kind", "text", (c) => c.notNull())
      .addColumn("subject", "text", (c) => c.notNull())
      .addColumn("reason", "text", (c) => c.notNull().defaultTo(""))
      .addColumn("details", "jsonb", (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
      .addColumn("created_at", "timestamptz", (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex("moderation_audit_log_subject")
      .on("moderation_audit_log")
      .columns(["subject_kind", "subject", "id"])
      .execute();
    // Append-only, whoever asks: the database itself refuses changes and deletions.
    await sql`
      create function moderation_audit_log_append_only() returns trigger language plpgsql as $$
      begin
        raise exception 'the moderation audit log is append-only: % is not allowed', tg_op
          using errcode = 'insufficient_privilege';
      end $$`.execute(db);
    await sql`
      create trigger moderation_audit_log_append_only
        before update or delete on moderation_audit_log
        for each row execute function moderation_audit_log_append_only()`.execute(db);
    await sql`
      create trigger moderation_audit_log_no_truncate
        before truncate on moderation_audit_log
        for each statement execute function moderation_audit_log_append_only()`.execute(db);
  },
};

// No foreign keys to core's tables: a report outlives what it names (a
// removed post, a remote account its server deleted) — it is the record of why.
const m002_reports: Migration = {
  async up(db: AnyDb) {
    await db.schema
      .createTable("moderation_reports")
      .addColumn("id", "uuid", (c) => c.primaryKey())
      .addColumn("target_account_id", "uuid", (c) => c.notNull())
      .addColumn("target_account_uri", "text", (c) => c.notNull())
      .addColumn("posts", "jsonb", (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
      .addColumn("comment", "text", (c) => c.notNull().defaultTo(""))
      .addColumn("category", "text", (c) =>
        c.notNull().check(sql`category in ('spam', 'legal', 'violation', 'other')`),
      )
      .addColumn("reporter_member_id", "uuid")
      .addColumn("reporter_actor_uri", "text")
      .addColumn("reporter_host", "text")
      .addColumn("reporter_actor_id", "uuid")
      .addColumn("forward_requested", "boolean", (c) => c.notNull().defaultTo(false))
      .addColumn("flag_uri", "text", (c) => c.unique())
      .addColumn("state", "text", (c) =>
        c.notNull().defaultTo("open").check(sql`state in ('open', 'resolved', 'dismissed')`),
      )
      .addColumn("assignee_id", "uuid")
      .addColumn("action_taken", "text")
      .addColumn("action_taken_at", "timestamptz")
      .addColumn("action_taken_by", "uuid")
      .addColumn("forwarded_at", "timestamptz")
      .addColumn("forwarded_by", "uuid")
      .addColumn("created_at", "timestamptz", (c) => c.notNull())
      .addColumn("updated_at", "timestamptz", (c) => c.notNull())
      // Filed by a member or by another server: exactly one.
      .addCheckConstraint(
        "moderation_reports_one_reporter",
        sql`(reporter_member_id is null) <> (reporter_actor_uri is null)`,
      )
      .execute();
    await db.schema
      .createIndex("moderation_reports_state")
      .on("moderation_reports")
      .columns(["state", "id"])
      .execute();
    await db.schema
      .createIndex("moderation_reports_reporter")
      .on("moderation_reports")
      .columns(["reporter_member_id", "id"])
      .execute();
    await db.schema
      .createIndex("moderation_reports_target")
      .on("moderation_reports")
      .columns(["target_account_id", "id"])
      .execute();
  },
};

const MIGRATIONS: Record<string, Migration> = {
  "001_audit_log": m001_audit_log,
  "002_reports": m002_reports,
};

class Provider implements MigrationProvider {
  async getMigrations(): Promise<Record<string, Migration>> {
    return MIGRATIONS;
  }
}

/** Brings moderation's tables up to date (safe to run from several processes at once). */
export async function migrateModeration(db: AnyDb): Promise<{ applied: string[] }> {
  const migrator = new Migrator({
    db,
    provider: new Provider(),
    migrationTableName: "moderation_migrations",
    migrationLockTableName: "moderation_migrations_lock",
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error;
  return {
    applied: (results ?? []).filter((r) => r.status === "Success").map((r) => r.migrationName),
  };
}
