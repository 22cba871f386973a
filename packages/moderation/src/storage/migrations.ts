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

const MIGRATIONS: Record<string, Migration> = {
  "001_audit_log": m001_audit_log,
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
