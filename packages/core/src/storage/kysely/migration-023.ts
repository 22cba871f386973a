/**
 * Migration `023_chats_scope`: end-to-end encrypted chats get an OAuth scope
 * of their own, `clique:chats` (issue 15), which `read` and `write` do not
 * cover. Personal tokens and sessions that could do everything still can:
 * the column's default gains the scope, and so do the tokens made without an
 * app with every scope. A personal token made with fewer scopes, and the
 * tokens issued to apps, keep what they were given.
 */
import { type Kysely, sql } from "kysely";
import type { Migration } from "kysely/migration";

// biome-ignore lint/suspicious/noExplicitAny: migrations run against the database as it was then, not today's types.
type AnyDb = Kysely<any>;

const BEFORE = "read write follow push admin:read admin:write";
const AFTER = `${BEFORE} clique:chats`;

/** The `023_chats_scope` migration. */
export const m023_chats_scope: Migration = {
  async up(db: AnyDb) {
    await sql`alter table access_tokens alter column scopes set default ${sql.lit(AFTER)}`.execute(
      db,
    );
    await sql`update access_tokens set scopes = ${AFTER} where app_id is null and scopes = ${BEFORE}`.execute(
      db,
    );
  },
  async down(db: AnyDb) {
    await sql`alter table access_tokens alter column scopes set default ${sql.lit(BEFORE)}`.execute(
      db,
    );
    await sql`update access_tokens set scopes = ${BEFORE} where app_id is null and scopes = ${AFTER}`.execute(
      db,
    );
  },
};
