/**
 * Migration `013_oauth`: Mastodon's OAuth app flow.
 *
 * - `oauth_apps`: client apps (`POST /api/v1/apps`); the client secret is
 *   kept as a SHA-256 hash, like every token.
 * - `oauth_authorization_codes`: hashed, single-use (`used_at`), short-lived,
 *   bound to the app, the member, the redirect URI, the scopes and the PKCE
 *   challenge.
 * - `access_tokens` gains the app a token was issued to and its scopes
 *   (existing tokens keep what a session may do: `read write follow push
 *   admin:read admin:write`; the member's role still decides admin actions).
 * - `oauth_app_tokens`: tokens an app holds for itself (client_credentials),
 *   with no member behind them.
 */
import { type Kysely, sql } from "kysely";
import type { Migration } from "kysely/migration";

// biome-ignore lint/suspicious/noExplicitAny: migrations run against the database as it was then, not today's types.
type AnyDb = Kysely<any>;

/** The `013_oauth` migration. */
export const m013_oauth: Migration = {
  async up(db: AnyDb) {
    await db.schema
      .createTable("oauth_apps")
      .addColumn("id", "uuid", (c) => c.primaryKey())
      .addColumn("client_id", "text", (c) => c.notNull().unique())
      .addColumn("client_secret_hash", "text", (c) => c.notNull())
      .addColumn("name", "text", (c) => c.notNull())
      .addColumn("website", "text")
      // One URI a line, as Mastodon keeps them.
      .addColumn("redirect_uris", "text", (c) => c.notNull())
      .addColumn("scopes", "text", (c) => c.notNull())
      .addColumn("created_at", "timestamptz", (c) => c.notNull())
      .execute();

    await db.schema
      .createTable("oauth_authorization_codes")
      .addColumn("id", "uuid", (c) => c.primaryKey())
      .addColumn("code_hash", "text", (c) => c.notNull().unique())
      .addColumn("app_id", "uuid", (c) =>
        c.notNull().references("oauth_apps.id").onDelete("cascade"),
      )
      .addColumn("member_id", "uuid", (c) =>
        c.notNull().references("members.id").onDelete("cascade"),
      )
      .addColumn("redirect_uri", "text", (c) => c.notNull())
      .addColumn("scopes", "text", (c) => c.notNull())
      .addColumn("code_challenge", "text")
      .addColumn("code_challenge_method", "text", (c) =>
        c.check(sql`code_challenge_method in ('S256')`),
      )
      .addColumn("expires_at", "timestamptz", (c) => c.notNull())
      .addColumn("created_at", "timestamptz", (c) => c.notNull())
      .addColumn("used_at", "timestamptz")
      .execute();
    await db.schema
      .createIndex("oauth_authorization_codes_expires")
      .on("oauth_authorization_codes")
      .column("expires_at")
      .execute();

    await db.schema
      .alterTable("access_tokens")
      .addColumn("app_id", "uuid", (c) => c.references("oauth_apps.id").onDelete("cascade"))
      // Tokens made before apps existed (and personal tokens) may do what a session may.
      .addColumn("scopes", "text", (c) =>
        c.notNull().defaultTo("read write follow push admin:read admin:write"),
      )
      .execute();
    await sql`create index access_tokens_app on access_tokens (member_id, app_id) where app_id is not null and revoked_at is null`.execute(
      db,
    );

    await db.schema
      .createTable("oauth_app_tokens")
      .addColumn("id", "uuid", (c) => c.primaryKey())
      .addColumn("app_id", "uuid", (c) =>
        c.notNull().references("oauth_apps.id").onDelete("cascade"),
      )
      .addColumn("token_hash", "text", (c) => c.notNull().unique())
      .addColumn("scopes", "text", (c) => c.notNull())
      .addColumn("created_at", "timestamptz", (c) => c.notNull())
      .addColumn("last_used_at", "timestamptz")
      .addColumn("revoked_at", "timestamptz")
      .execute();
  },
};
