/**
 * Schema migrations, applied in order by `migrateToLatest`. Never edit a
 * migration that has shipped: add a new one.
 */
import { type Kysely, sql } from "kysely";
import { type Migration, type MigrationProvider, Migrator } from "kysely/migration";
// OAuth apps, codes and token scopes (issue 11).
import { m013_oauth } from "./migration-013.ts";
// Notifications of every type and the live-updates channel (issue 11).
import { m014_notifications } from "./migration-014.ts";
// Bookmarks, pins and boost audiences (issue 11).
import { m015_bookmarks_pins } from "./migration-015.ts";
// Timelines, markers, announcements, conversations (issue 11).
import { m016_timelines_markers } from "./migration-016.ts";
// Sign-in through OpenID Connect.
import { m017_oidc_identities } from "./migration-017.ts";
// The one-time token of first-run setup from the web.
import { m018_setup_token } from "./migration-018.ts";
// Indexes that keep a feed page's cost independent of the tables' size (issue 13).
import { m019_feed_indexes } from "./migration-019.ts";
// Counters kept by triggers, read instead of counted (issue 13).
import { m020_counters } from "./migration-020.ts";
// End-to-end encrypted chats: the delivery service and the key directory (issue 15).
import { m021_e2ee_delivery } from "./migration-021.ts";
// Encrypted chats: a message's declared expiry, and encrypted attachments (issue 15).
import { m022_e2ee_lifetimes } from "./migration-022.ts";
import { m023_chats_scope } from "./migration-023.ts";

// biome-ignore lint/suspicious/noExplicitAny: migrations run against the database as it was then, not today's types.
type AnyDb = Kysely<any>;

const m001_foundation: Migration = {
  async up(db: AnyDb) {
    await db.schema
      .createTable("clique_settings")
      .addColumn("id", "integer", (c) => c.primaryKey().defaultTo(1).check(sql`id = 1`))
      .addColumn("name", "text", (c) => c.notNull())
      .addColumn("description", "text", (c) => c.notNull().defaultTo(""))
      .addColumn("member_cap", "integer", (c) => c.notNull().check(sql`member_cap > 0`))
      .addColumn("members_can_invite", "boolean", (c) => c.notNull().defaultTo(false))
      .addColumn("created_at", "timestamptz", (c) => c.notNull())
      .execute();

    await db.schema
      .createTable("actors")
      .addColumn("id", "uuid", (c) => c.primaryKey())
      .addColumn("kind", "text", (c) => c.notNull().check(sql`kind in ('local', 'remote')`))
      .addColumn("username", "text", (c) => c.notNull())
      .addColumn("host", "text")
      .addColumn("display_name", "text", (c) => c.notNull().defaultTo(""))
      .addColumn("summary_html", "text", (c) => c.notNull().defaultTo(""))
      .addColumn("uri", "text", (c) => c.unique())
      .addColumn("url", "text")
      .addColumn("inbox_url", "text")
      .addColumn("shared_inbox_url", "text")
      .addColumn("followers_url", "text")
      .addColumn("manually_approves_followers", "boolean", (c) => c.notNull().defaultTo(true))
      .addColumn("raw", "jsonb")
      .addColumn("created_at", "timestamptz", (c) => c.notNull())
      .addColumn("updated_at", "timestamptz", (c) => c.notNull())
      .addCheckConstraint(
        "actors_local_or_remote",
        sql`(kind = 'local') = (uri is null and host is null)`,
      )
      .execute();
    await sql`create unique index actors_local_username on actors (lower(username)) where kind = 'local'`.execute(
      db,
    );

    await db.schema
      .createTable("members")
      .addColumn("id", "uuid", (c) => c.primaryKey().references("actors.id").onDelete("restrict"))
      .addColumn("bio", "text", (c) => c.notNull().defaultTo(""))
      .addColumn("fields", "jsonb", (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
      .addColumn("role", "text", (c) =>
        c.notNull().check(sql`role in ('owner', 'admin', 'moderator', 'member')`),
      )
      .addColumn("status", "text", (c) =>
        c.notNull().defaultTo("active").check(sql`status in ('active', 'suspended', 'removed')`),
      )
      .addColumn("password_hash", "text", (c) => c.notNull())
      .addColumn("discoverable", "boolean", (c) => c.notNull().defaultTo(false))
      .addColumn("invite_id", "uuid")
      .addColumn("status_changed_at", "timestamptz")
      .execute();

    await db.schema
      .createTable("actor_keys")
      .addColumn("actor_id", "uuid", (c) => c.notNull().references("actors.id").onDelete("cascade"))
      .addColumn("type", "text", (c) => c.notNull())
      .addColumn("public_jwk", "jsonb", (c) => c.notNull())
      .addColumn("private_jwk", "jsonb", (c) => c.notNull())
      .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
      .addPrimaryKeyConstraint("actor_keys_pk", ["actor_id", "type"])
      .execute();

    await db.schema
      .createTable("invites")
      .addColumn("id", "uuid", (c) => c.primaryKey())
      .addColumn("code_hash", "text", (c) => c.notNull().unique())
      .addColumn("code_hint", "text", (c) => c.notNull())
      .addColumn("created_by", "uuid", (c) => c.notNull().references("members.id"))
      .addColumn("max_uses", "integer", (c) => c.check(sql`max_uses is null or max_uses > 0`))
      .addColumn("uses", "integer", (c) => c.notNull().defaultTo(0))
      .addColumn("expires_at", "timestamptz")
      .addColumn("revoked_at", "timestamptz")
      .addColumn("created_at", "timestamptz", (c) => c.notNull())
      .addCheckConstraint("invites_uses_within_max", sql`max_uses is null or uses <= max_uses`)
      .execute();

    await db.schema
      .createTable("access_tokens")
      .addColumn("id", "uuid", (c) => c.primaryKey())
      .addColumn("member_id", "uuid", (c) =>
        c.notNull().references("members.id").onDelete("cascade"),
      )
      .addColumn("kind", "text", (c) => c.notNull().check(sql`kind in ('session', 'api')`))
      .addColumn("name", "text", (c) => c.notNull().defaultTo(""))
      .addColumn("token_hash", "text", (c) => c.notNull().unique())
      .addColumn("created_at", "timestamptz", (c) => c.notNull())
      .addColumn("last_used_at", "timestamptz")
      .addColumn("revoked_at", "timestamptz")
      .execute();
    await db.schema
      .createIndex("access_tokens_member")
      .on("access_tokens")
      .column("member_id")
      .execute();

    await db.schema
      .createTable("login_failures")
      .addColumn("id", "bigserial", (c) => c.primaryKey())
      .addColumn("username_key", "text", (c) => c.notNull())
      .addColumn("ip", "text", (c) => c.notNull())
      .addColumn("at", "timestamptz", (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex("login_failures_key_at")
      .on("login_failures")
      .columns(["username_key", "at"])
      .execute();

    await db.schema
      .createTable("circles")
      .addColumn("id", "uuid", (c) => c.primaryKey())
      .addColumn("owner_id", "uuid", (c) =>
        c.notNull().references("members.id").onDelete("cascade"),
      )
      .addColumn("name", "text", (c) => c.notNull())
      .addColumn("created_at", "timestamptz", (c) => c.notNull())
      .execute();
    await db.schema
      .createTable("circle_members")
      .addColumn("circle_id", "uuid", (c) =>
        c.notNull().references("circles.id").onDelete("cascade"),
      )
      .addColumn("actor_id", "uuid", (c) => c.notNull().references("actors.id").onDelete("cascade"))
      .addPrimaryKeyConstraint("circle_members_pk", ["circle_id", "actor_id"])
      .execute();
    await db.schema
      .createIndex("circle_members_actor")
      .on("circle_members")
      .column("actor_id")
      .execute();

    await db.schema
      .createTable("follows")
      .addColumn("id", "uuid", (c) => c.primaryKey())
      .addColumn("follower_id", "uuid", (c) =>
        c.notNull().references("actors.id").onDelete("cascade"),
      )
      .addColumn("followee_id", "uuid", (c) =>
        c.notNull().references("actors.id").onDelete("cascade"),
      )
      .addColumn("state", "text", (c) => c.notNull().check(sql`state in ('pending', 'accepted')`))
      .addColumn("uri", "text", (c) => c.unique())
      .addColumn("created_at", "timestamptz", (c) => c.notNull())
      .addUniqueConstraint("follows_pair", ["follower_id", "followee_id"])
      .execute();
    await db.schema
      .createIndex("follows_followee")
      .on("follows")
      .columns(["followee_id", "state"])
      .execute();

    await db.schema
      .createTable("posts")
      .addColumn("id", "uuid", (c) => c.primaryKey())
      .addColumn("author_id", "uuid", (c) =>
        c.notNull().references("actors.id").onDelete("cascade"),
      )
      .addColumn("uri", "text", (c) => c.unique())
      .addColumn("url", "text")
      .addColumn("audience", "text", (c) =>
        c
          .notNull()
          .check(
            sql`audience in ('public', 'unlisted', 'followers', 'clique', 'circle', 'direct')`,
          ),
      )
      .addColumn("circle_id", "uuid", (c) => c.references("circles.id").onDelete("set null"))
      .addColumn("in_reply_to_id", "uuid", (c) => c.references("posts.id").onDelete("set null"))
      .addColumn("in_reply_to_uri", "text")
      .addColumn("content_type", "text", (c) => c.notNull())
      .addColumn("source", "text", (c) => c.notNull())
      .addColumn("content_html", "text", (c) => c.notNull())
      .addColumn("spoiler_text", "text", (c) => c.notNull().defaultTo(""))
      .addColumn("sensitive", "boolean", (c) => c.notNull().defaultTo(false))
      .addColumn("language", "text")
      .addColumn("created_at", "timestamptz", (c) => c.notNull())
      .addColumn("edited_at", "timestamptz")
      .addColumn("deleted_at", "timestamptz")
      .execute();
    await db.schema.createIndex("posts_author").on("posts").columns(["author_id", "id"]).execute();
    await db.schema.createIndex("posts_in_reply_to").on("posts").column("in_reply_to_id").execute();

    await db.schema
      .createTable("post_mentions")
      .addColumn("post_id", "uuid", (c) => c.notNull().references("posts.id").onDelete("cascade"))
      .addColumn("actor_id", "uuid", (c) => c.notNull().references("actors.id").onDelete("cascade"))
      .addPrimaryKeyConstraint("post_mentions_pk", ["post_id", "actor_id"])
      .execute();
    await db.schema
      .createTable("post_recipients")
      .addColumn("post_id", "uuid", (c) => c.notNull().references("posts.id").onDelete("cascade"))
      .addColumn("actor_id", "uuid", (c) => c.notNull().references("actors.id").onDelete("cascade"))
      .addPrimaryKeyConstraint("post_recipients_pk", ["post_id", "actor_id"])
      .execute();
    await db.schema
      .createIndex("post_recipients_actor")
      .on("post_recipients")
      .columns(["actor_id", "post_id"])
      .execute();
    await db.schema
      .createTable("post_tags")
      .addColumn("post_id", "uuid", (c) => c.notNull().references("posts.id").onDelete("cascade"))
      .addColumn("tag", "text", (c) => c.notNull())
      .addPrimaryKeyConstraint("post_tags_pk", ["post_id", "tag"])
      .execute();
    await db.schema
      .createIndex("post_tags_tag")
      .on("post_tags")
      .columns(["tag", "post_id"])
      .execute();
    await db.schema
      .createTable("post_edits")
      .addColumn("id", "uuid", (c) => c.primaryKey())
      .addColumn("post_id", "uuid", (c) => c.notNull().references("posts.id").onDelete("cascade"))
      .addColumn("source", "text", (c) => c.notNull())
      .addColumn("content_html", "text", (c) => c.notNull())
      .addColumn("spoiler_text", "text", (c) => c.notNull())
      .addColumn("sensitive", "boolean", (c) => c.notNull())
      .addColumn("created_at", "timestamptz", (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex("post_edits_post")
      .on("post_edits")
      .columns(["post_id", "created_at"])
      .execute();
  },
};

const m002_federation: Migration = {
  async up(db: AnyDb) {
    await db.schema
      .alterTable("actors")
      .addColumn("type", "text", (c) => c.notNull().defaultTo("Person"))
      .addColumn("outbox_url", "text")
      .addColumn("following_url", "text")
      .addColumn("featured_url", "text")
      .addColumn("fetched_at", "timestamptz")
      .execute();
    await sql`create index actors_host on actors (lower(host)) where kind = 'remote'`.execute(db);
    await db.schema
      .alterTable("members")
      .addColumn("show_follows", "boolean", (c) => c.notNull().defaultTo(false))
      .execute();
    // Remote replies to restricted local posts borrow the parent's audience; for
    // `followers` that means the followers of the parent's author.
    await db.schema
      .alterTable("posts")
      .addColumn("audience_owner_id", "uuid", (c) => c.references("actors.id").onDelete("cascade"))
      .execute();
    await db.schema
      .createTable("instance_keys")
      .addColumn("type", "text", (c) => c.primaryKey())
      .addColumn("public_jwk", "jsonb", (c) => c.notNull())
      .addColumn("private_jwk", "jsonb", (c) => c.notNull())
      .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
      .execute();
    await db.schema
      .createTable("post_interactions")
      .addColumn("id", "uuid", (c) => c.primaryKey())
      .addColumn("kind", "text", (c) => c.notNull().check(sql`kind in ('like', 'boost')`))
      .addColumn("actor_id", "uuid", (c) => c.notNull().references("actors.id").onDelete("cascade"))
      .addColumn("post_id", "uuid", (c) => c.notNull().references("posts.id").onDelete("cascade"))
      .addColumn("uri", "text", (c) => c.unique())
      .addColumn("created_at", "timestamptz", (c) => c.notNull())
      .addUniqueConstraint("post_interactions_once", ["kind", "actor_id", "post_id"])
      .execute();
    await db.schema
      .createIndex("post_interactions_post")
      .on("post_interactions")
      .columns(["post_id", "kind"])
      .execute();
    await db.schema
      .createTable("blocks")
      .addColumn("blocker_id", "uuid", (c) =>
        c.notNull().references("actors.id").onDelete("cascade"),
      )
      .addColumn("blocked_id", "uuid", (c) =>
        c.notNull().references("actors.id").onDelete("cascade"),
      )
      .addColumn("uri", "text")
      .addColumn("created_at", "timestamptz", (c) => c.notNull())
      .addPrimaryKeyConstraint("blocks_pk", ["blocker_id", "blocked_id"])
      .execute();
  },
};

const m003_permissions: Migration = {
  async up(db: AnyDb) {
    await sql`alter table posts drop constraint posts_audience_check`.execute(db);
    await sql`alter table posts add constraint posts_audience_check check (audience in ('public', 'unlisted', 'followers', 'friends', 'clique', 'circle', 'direct'))`.execute(
      db,
    );
    await db.schema
      .alterTable("posts")
      .addColumn("interaction_policy", "jsonb", (c) =>
        c
          .notNull()
          .defaultTo(
            sql`'{"reply":{"audience":"public"},"like":{"audience":"public"},"boost":{"audience":"public"}}'::jsonb`,
          ),
      )
      .execute();
    // Profile parts with an audience of their own (fields carry theirs in the JSON).
    await db.schema
      .alterTable("members")
      .addColumn("bio_audience", "text", (c) => c.notNull().defaultTo("public"))
      .addColumn("bio_circle_id", "uuid", (c) => c.references("circles.id").onDelete("set null"))
      .addColumn("follows_audience", "text", (c) => c.notNull().defaultTo("nobody"))
      .addColumn("follows_circle_id", "uuid", (c) =>
        c.references("circles.id").onDelete("set null"),
      )
      .execute();
    await db.schema
      .alterTable("clique_settings")
      .addColumn("member_list_audience", "text", (c) => c.notNull().defaultTo("clique"))
      .execute();
    await db.schema
      .createTable("mutes")
      .addColumn("muter_id", "uuid", (c) => c.notNull().references("actors.id").onDelete("cascade"))
      .addColumn("muted_id", "uuid", (c) => c.notNull().references("actors.id").onDelete("cascade"))
      .addColumn("created_at", "timestamptz", (c) => c.notNull())
      .addPrimaryKeyConstraint("mutes_pk", ["muter_id", "muted_id"])
      .execute();
    await db.schema.createIndex("blocks_blocked").on("blocks").column("blocked_id").execute();
  },
};

const m004_sign_in_throttle: Migration = {
  async up(db: AnyDb) {
    // Sign-ins are throttled per client address too, and old failures are
    // deleted by age: both need an index.
    await db.schema
      .createIndex("login_failures_ip_at")
      .on("login_failures")
      .columns(["ip", "at"])
      .execute();
    await db.schema.createIndex("login_failures_at").on("login_failures").column("at").execute();
  },
};

const m007_audiences: Migration = {
  async up(db: AnyDb) {
    // Each member's default audience for new posts: existing members keep
    // posting publicly by default; members who join from now on start with the Clique.
    await db.schema
      .alterTable("members")
      .addColumn("default_audience", "text", (c) =>
        c
          .notNull()
          .defaultTo("public")
          .check(sql`default_audience in ('public', 'unlisted', 'followers', 'friends', 'clique')`),
      )
      .execute();
    await sql`alter table members alter column default_audience set default 'clique'`.execute(db);
    // Which remote actors a local post was delivered to: edits and deletes
    // follow the post wherever it went.
    await db.schema
      .createTable("post_deliveries")
      .addColumn("post_id", "uuid", (c) => c.notNull().references("posts.id").onDelete("cascade"))
      .addColumn("actor_id", "uuid", (c) => c.notNull().references("actors.id").onDelete("cascade"))
      .addPrimaryKeyConstraint("post_deliveries_pk", ["post_id", "actor_id"])
      .execute();
    // A circle's posts, for recalling them from someone who left the circle.
    await sql`create index posts_circle on posts (circle_id) where circle_id is not null`.execute(
      db,
    );
    // Local replies that took their parent's Clique or circle audience now name
    // the parent's author as the audience's owner, who may always see them.
    await sql`
      update posts r set audience_owner_id = coalesce(p.audience_owner_id, p.author_id)
      from posts p
      where r.in_reply_to_id = p.id and r.uri is null and r.audience_owner_id is null
        and r.audience in ('clique', 'circle') and r.audience = p.audience
        and r.circle_id is not distinct from p.circle_id and r.author_id <> p.author_id`.execute(
      db,
    );
  },
};

const m008_outbox: Migration = {
  async up(db: AnyDb) {
    // The transactional outbox: events written with the change that caused
    // them, taken out by the relay once every subscriber has them.
    await db.schema
      .createTable("outbox_events")
      .addColumn("id", "uuid", (c) => c.primaryKey())
      .addColumn("kind", "text", (c) => c.notNull())
      .addColumn("event", "jsonb", (c) => c.notNull())
      .addColumn("created_at", "timestamptz", (c) => c.notNull())
      .addColumn("available_at", "timestamptz", (c) => c.notNull())
      .addColumn("attempts", "integer", (c) => c.notNull().defaultTo(0))
      .addColumn("last_error", "text")
      .addColumn("dead_at", "timestamptz")
      .execute();
    await sql`create index outbox_events_due on outbox_events (available_at, id) where dead_at is null`.execute(
      db,
    );
  },
};

const m009_media: Migration = {
  async up(db: AnyDb) {
    await db.schema
      .createTable("media")
      .addColumn("id", "uuid", (c) => c.primaryKey())
      .addColumn("owner_id", "uuid", (c) => c.notNull().references("actors.id").onDelete("cascade"))
      .addColumn("post_id", "uuid", (c) => c.references("posts.id").onDelete("cascade"))
      .addColumn("position", "integer", (c) => c.notNull().defaultTo(0))
      .addColumn("kind", "text", (c) =>
        c.notNull().check(sql`kind in ('image', 'video', 'gifv', 'unknown')`),
      )
      .addColumn("state", "text", (c) =>
        c.notNull().check(sql`state in ('processing', 'ready', 'failed')`),
      )
      .addColumn("description", "text", (c) => c.notNull().defaultTo(""))
      .addColumn("focus_x", "real", (c) => c.notNull().defaultTo(0))
      .addColumn("focus_y", "real", (c) => c.notNull().defaultTo(0))
      .addColumn("width", "integer")
      .addColumn("height", "integer")
      .addColumn("duration", "real")
      .addColumn("blurhash", "text")
      .addColumn("display", "jsonb")
      .addColumn("small", "jsonb")
      .addColumn("display_key", "text", (c) => c.unique())
      .addColumn("small_key", "text", (c) => c.unique())
      .addColumn("remote_url", "text")
      .addColumn("remote_media_type", "text")
      .addColumn("error", "text")
      .addColumn("created_at", "timestamptz", (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex("media_post")
      .on("media")
      .columns(["post_id", "position"])
      .execute();
    await sql`create index media_unattached on media (created_at) where post_id is null and remote_url is null`.execute(
      db,
    );
    await db.schema.createIndex("media_owner").on("media").column("owner_id").execute();
    // Secrets of this server (the key that signs media URLs), made once.
    await db.schema
      .createTable("server_secrets")
      .addColumn("name", "text", (c) => c.primaryKey())
      .addColumn("value", "text", (c) => c.notNull())
      .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
      .execute();
  },
};

const m010_avatars: Migration = {
  async up(db: AnyDb) {
    // A member's uploaded avatar and header: each one file (a MediaFile), public
    // like the actor document; looked up by key when served.
    await db.schema
      .alterTable("actors")
      .addColumn("avatar", "jsonb")
      .addColumn("header", "jsonb")
      .execute();
    await sql`create unique index actors_avatar_key on actors ((avatar->>'key')) where avatar is not null`.execute(
      db,
    );
    await sql`create unique index actors_header_key on actors ((header->>'key')) where header is not null`.execute(
      db,
    );
  },
};

const m011_member_moderation: Migration = {
  async up(db: AnyDb) {
    // A moderator hides a remote post from the Clique: gone for every viewer, as if deleted.
    await db.schema.alterTable("posts").addColumn("hidden_at", "timestamptz").execute();
    // A suspension may end by itself; a worker lifts it then.
    await db.schema.alterTable("members").addColumn("suspended_until", "timestamptz").execute();
    await sql`create index members_suspended_until on members (suspended_until) where status = 'suspended' and suspended_until is not null`.execute(
      db,
    );
    // A remote actor whose own server says it is suspended (toot:suspended).
    await db.schema.alterTable("actors").addColumn("origin_suspended_at", "timestamptz").execute();
    // What members are told (moderation warnings first; the apps' work adds the rest).
    await db.schema
      .createTable("notifications")
      .addColumn("id", "uuid", (c) => c.primaryKey())
      .addColumn("recipient_id", "uuid", (c) =>
        c.notNull().references("members.id").onDelete("cascade"),
      )
      .addColumn("type", "text", (c) => c.notNull())
      .addColumn("account_id", "uuid", (c) => c.references("actors.id").onDelete("cascade"))
      .addColumn("post_id", "uuid", (c) => c.references("posts.id").onDelete("cascade"))
      .addColumn("data", "jsonb", (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
      .addColumn("created_at", "timestamptz", (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex("notifications_recipient")
      .on("notifications")
      .columns(["recipient_id", "id"])
      .execute();
  },
};

const m012_remote_moderation: Migration = {
  async up(db: AnyDb) {
    // Blocks and limits of whole servers, each covering its subdomains.
    await db.schema
      .createTable("remote_domain_blocks")
      .addColumn("id", "uuid", (c) => c.primaryKey())
      .addColumn("domain", "text", (c) => c.notNull().unique())
      .addColumn("severity", "text", (c) =>
        c.notNull().check(sql`severity in ('block', 'limit', 'noop')`),
      )
      .addColumn("reason", "text", (c) => c.notNull().defaultTo(""))
      .addColumn("public_comment", "text", (c) => c.notNull().defaultTo(""))
      // Who decided; the member may leave, the decision stays.
      .addColumn("created_by", "uuid", (c) => c.references("members.id").onDelete("set null"))
      .addColumn("created_at", "timestamptz", (c) => c.notNull())
      .addColumn("updated_at", "timestamptz", (c) => c.notNull())
      .execute();
    // Suspensions and silences of single remote accounts (not members' own blocks).
    await db.schema
      .createTable("remote_actor_sanctions")
      .addColumn("actor_id", "uuid", (c) => c.notNull().references("actors.id").onDelete("cascade"))
      .addColumn("kind", "text", (c) => c.notNull().check(sql`kind in ('suspend', 'silence')`))
      .addColumn("reason", "text", (c) => c.notNull().defaultTo(""))
      .addColumn("created_by", "uuid", (c) => c.references("members.id").onDelete("set null"))
      .addColumn("created_at", "timestamptz", (c) => c.notNull())
      .addPrimaryKeyConstraint("remote_actor_sanctions_pk", ["actor_id", "kind"])
      .execute();
    // Whether a block of `domain` covers `host`: the domain and its subdomains,
    // on any port unless the block names one. The same rule as core's
    // `domainCovers` (domain/remote-moderation.ts); a test holds them together.
    await sql`
      create function clique_domain_covers(domain text, host text) returns boolean
      language sql immutable strict parallel safe as $$
        select case
          when domain ~ ':[0-9]+$' then lower(host) = domain or right(lower(host), length(domain) + 1) = '.' || domain
          else regexp_replace(lower(host), ':[0-9]+$', '') = domain
            or right(regexp_replace(lower(host), ':[0-9]+$', ''), length(domain) + 1) = '.' || domain
        end
      $$`.execute(db);
    // The most severe block covering a host ('block' before 'limit'; 'noop' does nothing).
    await sql`
      create function clique_domain_severity(host text) returns text
      language sql stable strict parallel safe as $$
        select severity from remote_domain_blocks
        where severity <> 'noop' and clique_domain_covers(domain, host)
        order by severity = 'block' desc limit 1
      $$`.execute(db);
    // Each remote actor carries its server's standing, so that the visibility
    // rules ask an indexed column instead of matching every actor's host
    // against every block in every query. Triggers keep it true: an actor
    // stored (or moved) takes its host's standing; a block added, changed or
    // lifted updates the actors it covers (the only place hosts are matched).
    await db.schema.alterTable("actors").addColumn("domain_severity", "text").execute();
    await sql`create index actors_domain_severity on actors (domain_severity) where domain_severity is not null`.execute(
      db,
    );
    await sql`
      create function actors_domain_severity() returns trigger language plpgsql as $$
      begin
        new.domain_severity := case
          when new.kind = 'remote' and new.host is not null then clique_domain_severity(new.host)
        end;
        return new;
      end $$`.execute(db);
    await sql`
      create trigger actors_domain_severity before insert or update of host, kind on actors
        for each row execute function actors_domain_severity()`.execute(db);
    await sql`
      create function remote_domain_blocks_changed() returns trigger language plpgsql as $$
      declare
        domains text[] := array[]::text[];
      begin
        if tg_op in ('UPDATE', 'DELETE') then domains := domains || old.domain; end if;
        if tg_op in ('UPDATE', 'INSERT') then domains := domains || new.domain; end if;
        update actors a set domain_severity = clique_domain_severity(a.host)
        where a.kind = 'remote' and a.host is not null
          and exists (select 1 from unnest(domains) d where clique_domain_covers(d, a.host));
        return null;
      end $$`.execute(db);
    await sql`
      create trigger remote_domain_blocks_changed after insert or update or delete on remote_domain_blocks
        for each row execute function remote_domain_blocks_changed()`.execute(db);
  },
};

const MIGRATIONS: Record<string, Migration> = {
  "001_foundation": m001_foundation,
  "002_federation": m002_federation,
  "003_permissions": m003_permissions,
  "004_sign_in_throttle": m004_sign_in_throttle,
  "007_audiences": m007_audiences,
  "008_outbox": m008_outbox,
  "009_media": m009_media,
  "010_avatars": m010_avatars,
  "012_remote_moderation": m012_remote_moderation,
  "011_member_moderation": m011_member_moderation,
  // OAuth apps, codes and token scopes (issue 11).
  "013_oauth": m013_oauth,
  // Notifications of every type and the live-updates channel (issue 11).
  "014_notifications": m014_notifications,
  // Timelines, markers, announcements, conversations (issue 11).
  "015_bookmarks_pins": m015_bookmarks_pins,
  "016_timelines_markers": m016_timelines_markers,
  // Members' identities at OpenID Connect providers.
  "017_oidc_identities": m017_oidc_identities,
  // The one-time token of first-run setup from the web.
  "018_setup_token": m018_setup_token,
  // Indexes that keep a feed page's cost independent of the tables' size (issue 13).
  "019_feed_indexes": m019_feed_indexes,
  // Counters kept by triggers, read instead of counted (issue 13).
  "020_counters": m020_counters,
  "021_e2ee_delivery": m021_e2ee_delivery,
  "022_e2ee_lifetimes": m022_e2ee_lifetimes,
  // End-to-end encrypted chats get an OAuth scope of their own (issue 15).
  "023_chats_scope": m023_chats_scope,
};

class StaticProvider implements MigrationProvider {
  async getMigrations(): Promise<Record<string, Migration>> {
    return MIGRATIONS;
  }
}

/**
 * Brings the schema up to date. Safe to run concurrently from several
 * processes: Kysely takes a lock around the migration run.
 */
export async function migrateToLatest(db: AnyDb): Promise<{ applied: string[] }> {
  const migrator = new Migrator({ db, provider: new StaticProvider() });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error;
  return {
    applied: (results ?? []).filter((r) => r.status === "Success").map((r) => r.migrationName),
  };
}
