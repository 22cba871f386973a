/**
 * Row types: the database's own shape. Converted to domain objects in
 * `rows.ts` and nowhere else.
 */
import type { ColumnType, Generated } from "kysely";
import type { Audience, InteractionPolicy, MediaFile, ProfileField } from "../../domain/types.ts";
// End-to-end encrypted chats (issue 15).
import type { E2eeTables } from "./e2ee.schema.ts";

type Timestamp = ColumnType<Date, Date | string, Date | string>;
type Json<T> = ColumnType<T, string, string>;
/** A nullable timestamp column that inserts may leave out (it defaults to null). */
type OptionalTimestamp = ColumnType<
  Date | null,
  Date | string | null | undefined,
  Date | string | null
>;

export interface CliqueSettingsTable {
  id: Generated<number>;
  name: string;
  description: string;
  member_cap: number;
  members_can_invite: boolean;
  created_at: Timestamp;
  member_list_audience: Generated<string>;
  /** Timelines (issue 11): whether anonymous visitors see the Clique timeline's public posts. */
  public_timeline_anonymous: Generated<boolean>;
}

export interface ActorsTable {
  id: string;
  kind: "local" | "remote";
  username: string;
  host: string | null;
  display_name: string;
  summary_html: string;
  uri: string | null;
  url: string | null;
  inbox_url: string | null;
  shared_inbox_url: string | null;
  followers_url: string | null;
  manually_approves_followers: boolean;
  raw: Json<unknown> | null;
  created_at: Timestamp;
  updated_at: Timestamp;
  type: Generated<string>;
  outbox_url: string | null;
  following_url: string | null;
  featured_url: string | null;
  fetched_at: Timestamp | null;
  /** A member's uploaded profile images (010_avatars). */
  avatar: Json<MediaFile> | null;
  header: Json<MediaFile> | null;
  /** When the actor's own server said it is suspended (011_member_moderation). */
  origin_suspended_at: OptionalTimestamp;
  /** The most severe block of its server, kept by triggers (012_remote_moderation). */
  domain_severity: Generated<"block" | "limit" | null>;
}

export interface MembersTable {
  id: string;
  bio: string;
  fields: Json<ProfileField[]>;
  role: "owner" | "admin" | "moderator" | "member";
  status: "active" | "suspended" | "removed";
  password_hash: string;
  discoverable: boolean;
  invite_id: string | null;
  status_changed_at: Timestamp | null;
  show_follows: Generated<boolean>;
  bio_audience: Generated<string>;
  bio_circle_id: string | null;
  follows_audience: Generated<string>;
  follows_circle_id: string | null;
  default_audience: Generated<string>;
  /** When a suspension ends by itself (011_member_moderation). */
  suspended_until: OptionalTimestamp;
}

export interface ActorKeysTable {
  actor_id: string;
  type: "RSASSA-PKCS1-v1_5" | "Ed25519";
  public_jwk: Json<JsonWebKey>;
  private_jwk: Json<JsonWebKey>;
  created_at: Generated<Timestamp>;
}

export interface InvitesTable {
  id: string;
  code_hash: string;
  code_hint: string;
  created_by: string;
  max_uses: number | null;
  uses: Generated<number>;
  expires_at: Timestamp | null;
  revoked_at: Timestamp | null;
  created_at: Timestamp;
}

export interface AccessTokensTable {
  id: string;
  member_id: string;
  kind: "session" | "api";
  name: string;
  token_hash: string;
  created_at: Timestamp;
  last_used_at: Timestamp | null;
  revoked_at: Timestamp | null;
  /** OAuth (issue 11, migration 013): the app the token was issued to. */
  app_id: string | null;
  /** OAuth (issue 11): space-separated scopes. */
  scopes: Generated<string>;
}

// --- OAuth apps, codes and app tokens (issue 11, migration 013) ---

export interface OAuthAppsTable {
  id: string;
  client_id: string;
  client_secret_hash: string;
  name: string;
  website: string | null;
  redirect_uris: string;
  scopes: string;
  created_at: Timestamp;
}

export interface OAuthAuthorizationCodesTable {
  id: string;
  code_hash: string;
  app_id: string;
  member_id: string;
  redirect_uri: string;
  scopes: string;
  code_challenge: string | null;
  code_challenge_method: "S256" | null;
  expires_at: Timestamp;
  created_at: Timestamp;
  used_at: Timestamp | null;
}

export interface OAuthAppTokensTable {
  id: string;
  app_id: string;
  token_hash: string;
  scopes: string;
  created_at: Timestamp;
  last_used_at: Timestamp | null;
  revoked_at: Timestamp | null;
}

export interface LoginFailuresTable {
  id: Generated<string>;
  username_key: string;
  ip: string;
  at: Timestamp;
}

export interface CirclesTable {
  id: string;
  owner_id: string;
  name: string;
  created_at: Timestamp;
}

export interface CircleMembersTable {
  circle_id: string;
  actor_id: string;
}

export interface FollowsTable {
  id: string;
  follower_id: string;
  followee_id: string;
  state: "pending" | "accepted";
  uri: string | null;
  created_at: Timestamp;
}

export interface PostsTable {
  id: string;
  author_id: string;
  uri: string | null;
  url: string | null;
  audience: Audience;
  circle_id: string | null;
  in_reply_to_id: string | null;
  in_reply_to_uri: string | null;
  content_type: "text/plain" | "text/markdown";
  source: string;
  content_html: string;
  spoiler_text: string;
  sensitive: boolean;
  language: string | null;
  created_at: Timestamp;
  edited_at: Timestamp | null;
  deleted_at: Timestamp | null;
  audience_owner_id: string | null;
  interaction_policy: Json<InteractionPolicy>;
  /** When a moderator hid it from the Clique (011_member_moderation). */
  hidden_at: OptionalTimestamp;
}

export interface PostLinkTable {
  post_id: string;
  actor_id: string;
}

export interface PostTagsTable {
  post_id: string;
  tag: string;
}

export interface PostEditsTable {
  id: string;
  post_id: string;
  source: string;
  content_html: string;
  spoiler_text: string;
  sensitive: boolean;
  created_at: Timestamp;
}

export interface InstanceKeysTable {
  type: "RSASSA-PKCS1-v1_5" | "Ed25519";
  public_jwk: Json<JsonWebKey>;
  private_jwk: Json<JsonWebKey>;
  created_at: Generated<Timestamp>;
}

export interface PostInteractionsTable {
  id: string;
  kind: "like" | "boost";
  actor_id: string;
  post_id: string;
  uri: string | null;
  created_at: Timestamp;
  /** Who a boost is shown to (likes keep `public`); migration 015. */
  audience: Generated<"public" | "followers">;
}

/** An actor's numbers, kept by triggers (migration 020). */
export interface AccountCountersTable {
  actor_id: string;
  followers_count: Generated<number>;
  following_count: Generated<number>;
  /** Posts neither deleted nor hidden, of every audience. */
  statuses_count: Generated<number>;
  /** Of those, the public and unlisted ones. */
  open_statuses_count: Generated<number>;
  last_status_at: Timestamp | null;
  last_open_status_at: Timestamp | null;
}

/** A post's numbers, kept by triggers (migration 020). */
export interface PostCountersTable {
  post_id: string;
  /** Direct replies neither deleted nor hidden, of every audience. */
  replies_count: Generated<number>;
  likes_count: Generated<number>;
  boosts_count: Generated<number>;
}

// Bookmarks and pins (issue 11, migration 015).
export interface BookmarksTable {
  id: string;
  member_id: string;
  post_id: string;
  created_at: Timestamp;
}

export interface PinsTable {
  id: string;
  member_id: string;
  post_id: string;
  created_at: Timestamp;
}

export interface MutesTable {
  muter_id: string;
  muted_id: string;
  created_at: Timestamp;
}

export interface PostDeliveriesTable {
  post_id: string;
  actor_id: string;
}

export interface OutboxEventsTable {
  id: string;
  kind: string;
  event: Json<unknown>;
  created_at: Timestamp;
  available_at: Timestamp;
  attempts: Generated<number>;
  last_error: string | null;
  dead_at: Timestamp | null;
}

export interface MediaTable {
  id: string;
  owner_id: string;
  post_id: string | null;
  position: Generated<number>;
  kind: "image" | "video" | "gifv" | "unknown";
  state: "processing" | "ready" | "failed";
  description: Generated<string>;
  focus_x: Generated<number>;
  focus_y: Generated<number>;
  width: number | null;
  height: number | null;
  duration: number | null;
  blurhash: string | null;
  display: Json<MediaFile> | null;
  small: Json<MediaFile> | null;
  display_key: string | null;
  small_key: string | null;
  remote_url: string | null;
  remote_media_type: string | null;
  error: string | null;
  created_at: Timestamp;
}

/** First-run setup from the web (migration 018): the hash of the one-time token. */
export interface SetupTokenTable {
  id: Generated<number>;
  token_hash: string;
  created_at: Timestamp;
}

export interface ServerSecretsTable {
  name: string;
  value: string;
  created_at: Generated<Timestamp>;
}

export interface BlocksTable {
  blocker_id: string;
  blocked_id: string;
  uri: string | null;
  created_at: Timestamp;
}

export interface NotificationsTable {
  id: string;
  recipient_id: string;
  type: string;
  account_id: string | null;
  post_id: string | null;
  data: Json<Record<string, unknown>>;
  created_at: Timestamp;
}

/** A decision about a whole server (012_remote_moderation). */
export interface RemoteDomainBlocksTable {
  id: string;
  domain: string;
  severity: "block" | "limit" | "noop";
  reason: string;
  public_comment: string;
  created_by: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

/** A suspension or silence of one remote account (012_remote_moderation). */
export interface RemoteActorSanctionsTable {
  actor_id: string;
  kind: "suspend" | "silence";
  reason: string;
  created_by: string | null;
  created_at: Timestamp;
}

/** The whole schema, as Kysely sees it. */
// --- Timelines, markers, announcements, conversations (issue 11) ---

export interface MarkersTable {
  member_id: string;
  timeline: "home" | "notifications";
  last_read_id: string;
  version: Generated<number>;
  updated_at: Timestamp;
}

export interface AnnouncementsTable {
  id: string;
  text: string;
  content_html: string;
  starts_at: Timestamp | null;
  ends_at: Timestamp | null;
  all_day: Generated<boolean>;
  created_by: string | null;
  published_at: Timestamp;
  updated_at: Timestamp;
}

export interface AnnouncementDismissalsTable {
  announcement_id: string;
  member_id: string;
  dismissed_at: Timestamp;
}

export interface ConversationStatesTable {
  member_id: string;
  conversation_id: string;
  read_up_to: string | null;
  hidden_up_to: string | null;
}

// --- Identities at OpenID Connect providers (migration 017) ---

export interface OidcIdentitiesTable {
  id: string;
  member_id: string;
  issuer: string;
  subject: string;
  email: string | null;
  created_at: Timestamp;
}

export interface Database extends E2eeTables {
  clique_settings: CliqueSettingsTable;
  actors: ActorsTable;
  members: MembersTable;
  actor_keys: ActorKeysTable;
  invites: InvitesTable;
  access_tokens: AccessTokensTable;
  // OAuth (issue 11).
  oauth_apps: OAuthAppsTable;
  oauth_authorization_codes: OAuthAuthorizationCodesTable;
  oauth_app_tokens: OAuthAppTokensTable;
  login_failures: LoginFailuresTable;
  circles: CirclesTable;
  circle_members: CircleMembersTable;
  follows: FollowsTable;
  posts: PostsTable;
  post_mentions: PostLinkTable;
  post_recipients: PostLinkTable;
  post_tags: PostTagsTable;
  post_edits: PostEditsTable;
  instance_keys: InstanceKeysTable;
  post_interactions: PostInteractionsTable;
  // Counters kept by triggers (issue 13, migration 020).
  account_counters: AccountCountersTable;
  post_counters: PostCountersTable;
  post_deliveries: PostDeliveriesTable;
  outbox_events: OutboxEventsTable;
  media: MediaTable;
  server_secrets: ServerSecretsTable;
  setup_token: SetupTokenTable;
  blocks: BlocksTable;
  mutes: MutesTable;
  notifications: NotificationsTable;
  remote_domain_blocks: RemoteDomainBlocksTable;
  remote_actor_sanctions: RemoteActorSanctionsTable;
  // Bookmarks and pins (issue 11).
  bookmarks: BookmarksTable;
  pins: PinsTable;
  // Timelines, markers, announcements, conversations (issue 11).
  markers: MarkersTable;
  announcements: AnnouncementsTable;
  announcement_dismissals: AnnouncementDismissalsTable;
  conversation_states: ConversationStatesTable;
  // Sign-in through OpenID Connect.
  oidc_identities: OidcIdentitiesTable;
}
