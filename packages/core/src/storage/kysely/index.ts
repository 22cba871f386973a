/**
 * The Kysely/PostgreSQL implementation of core's store interfaces, and the
 * schema migrations. Only a composition root (the server's, or a host
 * application's) should import this.
 *
 * @module @clique/core/kysely
 */
import { Kysely, PostgresDialect } from "kysely";
import pg from "pg";
import type { Stores } from "../../stores/stores.ts";
import { KyselyCircleStore } from "./circle.store.kysely.ts";
// End-to-end encrypted chats (issue 15).
import { KyselyE2eeStore } from "./e2ee.store.kysely.ts";
import { KyselyFollowStore } from "./follow.store.kysely.ts";
import {
  KyselyBlockStore,
  KyselyBookmarkStore,
  KyselyInteractionStore,
  KyselyMuteStore,
  KyselyPinStore,
} from "./interaction.store.kysely.ts";
import { KyselyInviteStore } from "./invite.store.kysely.ts";
import { KyselyMediaStore, KyselySecretStore } from "./media.store.kysely.ts";
import { KyselyActorStore, KyselyKeyStore, KyselyMemberStore } from "./member.store.kysely.ts";
import { KyselyNotificationStore } from "./notification.store.kysely.ts";
// OAuth apps and codes (issue 11).
import { KyselyOAuthStore } from "./oauth.store.kysely.ts";
// Sign-in through OpenID Connect.
import { KyselyOidcIdentityStore } from "./oidc.store.kysely.ts";
import { KyselyOutboxStore } from "./outbox.store.kysely.ts";
import { KyselyPostStore } from "./post.store.kysely.ts";
import { KyselyRemoteModerationStore } from "./remote-moderation.store.kysely.ts";
import type { Database } from "./schema.ts";
import { KyselySettingsStore } from "./settings.store.kysely.ts";
import {
  KyselyAnnouncementStore,
  KyselyConversationStore,
  KyselyMarkerStore,
} from "./timelines.store.kysely.ts";
import { KyselyLoginAttemptStore, KyselyTokenStore } from "./token.store.kysely.ts";
import { KyselyVisibilityFacts } from "./visibility.kysely.ts";

// Live updates between server processes (issue 11).
export { STREAM_CHANNEL } from "./migration-014.ts";
export { migrateToLatest } from "./migrations.ts";
export { OUTBOX_CHANNEL } from "./outbox.store.kysely.ts";
export { REMOTE_MODERATION_CHANNEL } from "./remote-moderation.store.kysely.ts";
export type { Database } from "./schema.ts";

/** Opens a connection pool to PostgreSQL as a Kysely instance. */
export function openDatabase(
  connectionString: string,
  options: { maxConnections?: number } = {},
): Kysely<Database> {
  const pool = new pg.Pool({ connectionString, max: options.maxConnections ?? 10 });
  // An idle client that loses its connection must not crash the process.
  pool.on("error", () => {});
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}

/** Builds the `Stores` over a Kysely instance (or a transaction). */
export function createKyselyStores(db: Kysely<Database>): Stores {
  return {
    settings: new KyselySettingsStore(db),
    members: new KyselyMemberStore(db),
    actors: new KyselyActorStore(db),
    keys: new KyselyKeyStore(db),
    invites: new KyselyInviteStore(db),
    tokens: new KyselyTokenStore(db),
    // OAuth apps and codes (issue 11).
    oauth: new KyselyOAuthStore(db),
    loginAttempts: new KyselyLoginAttemptStore(db),
    oidcIdentities: new KyselyOidcIdentityStore(db),
    posts: new KyselyPostStore(db),
    circles: new KyselyCircleStore(db),
    follows: new KyselyFollowStore(db),
    interactions: new KyselyInteractionStore(db),
    // Bookmarks and pins (issue 11).
    bookmarks: new KyselyBookmarkStore(db),
    pins: new KyselyPinStore(db),
    blocks: new KyselyBlockStore(db),
    mutes: new KyselyMuteStore(db),
    outbox: new KyselyOutboxStore(db),
    media: new KyselyMediaStore(db),
    secrets: new KyselySecretStore(db),
    remoteModeration: new KyselyRemoteModerationStore(db),
    notifications: new KyselyNotificationStore(db),
    // Markers, announcements, conversations (issue 11).
    markers: new KyselyMarkerStore(db),
    announcements: new KyselyAnnouncementStore(db),
    conversations: new KyselyConversationStore(db),
    facts: new KyselyVisibilityFacts(db),
    // End-to-end encrypted chats (issue 15).
    e2ee: new KyselyE2eeStore(db),
    transaction: (fn) =>
      db.isTransaction
        ? fn(createKyselyStores(db))
        : db.transaction().execute((trx) => fn(createKyselyStores(trx))),
  };
}
