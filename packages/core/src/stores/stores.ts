/**
 * Storage interfaces, one small interface per aggregate, composed into
 * `Stores`. Core depends only on these; the server's composition root picks
 * the implementation (Kysely over PostgreSQL, in `storage/kysely`).
 */

// OAuth (issue 11).
import type { AppToken, AuthorizationCode, AuthorizedApp, OAuthApp } from "../domain/oauth.ts";
// Sign-in through OpenID Connect.
import type { OidcIdentity } from "../domain/oidc.ts";
import type {
  ActorSanction,
  ActorSanctionKind,
  DomainBlock,
  DomainSeverity,
} from "../domain/remote-moderation.ts";
import type {
  Announcement,
  ConversationState,
  Marker,
  MarkerTimeline,
  MemberAnnouncement,
} from "../domain/timelines.ts";
import type {
  AccessToken,
  Actor,
  AudienceRef,
  Circle,
  CliqueSettings,
  DefaultAudience,
  Follow,
  InteractionPolicy,
  Invite,
  Media,
  MediaFile,
  MediaKind,
  Member,
  MemberStatus,
  Notification,
  Post,
  PostEdit,
  ProfileField,
  Role,
} from "../domain/types.ts";
import type { FederationEvent } from "../federation/events.ts";
import type { VisibilityFacts, VisibilityFilter } from "../visibility/visibility.ts";
// End-to-end encrypted chats (issue 15).
import type { E2eeStore } from "./e2ee.store.ts";

/** The Clique's single settings row. */
export interface SettingsStore {
  /** The settings, or `null` before `clique init`. */
  get(): Promise<CliqueSettings | null>;
  /** Same as `get`, locking the row until the transaction ends (serializes seat-taking). */
  getForUpdate(): Promise<CliqueSettings | null>;
  create(settings: CliqueSettings): Promise<void>;
  update(patch: Partial<Omit<CliqueSettings, "createdAt">>): Promise<void>;
  /** Stores the hash of the first-run setup token, replacing any earlier one. */
  replaceSetupToken(tokenHash: string, at: Date): Promise<void>;
  /** Whether `tokenHash` is the hash of the current setup token. */
  hasSetupToken(tokenHash: string): Promise<boolean>;
  /** Deletes the setup token if `tokenHash` is its hash; whether it did (at most once). */
  consumeSetupToken(tokenHash: string): Promise<boolean>;
}

/** Everything needed to create a member. */
export interface NewMember {
  id: string;
  username: string;
  displayName: string;
  passwordHash: string;
  role: Role;
  inviteId: string | null;
  createdAt: Date;
}

/** Local accounts. Creating a member also creates its actor. */
export interface MemberStore {
  create(member: NewMember): Promise<Member>;
  getById(id: string): Promise<Member | null>;
  /** The members among these ids, in no particular order (one query). */
  getByIds(ids: readonly string[]): Promise<Member[]>;
  /** Case-insensitive. */
  getByUsername(username: string): Promise<Member | null>;
  list(options?: { status?: MemberStatus }): Promise<Member[]>;
  /** Members holding a seat: active and suspended ones (removed ones free their seat). */
  countSeated(): Promise<number>;
  /**
   * Sets a member's standing; `suspendedUntil` is when a suspension ends by
   * itself (`null`: until lifted), and is cleared for any other status.
   */
  setStatus(
    id: string,
    status: MemberStatus,
    at: Date,
    suspendedUntil?: Date | null,
  ): Promise<void>;
  /** How many owners are active (the last one is kept). */
  countActiveOwners(): Promise<number>;
  setRole(id: string, role: Role): Promise<void>;
  updateProfile(
    id: string,
    patch: Partial<{
      displayName: string;
      bio: string;
      bioHtml: string;
      fields: ProfileField[];
      manuallyApprovesFollowers: boolean;
      discoverable: boolean;
      showFollows: boolean;
      bioAudience: AudienceRef;
      followsAudience: AudienceRef;
      defaultAudience: DefaultAudience;
    }>,
  ): Promise<void>;
  /**
   * Sets or clears (`null`) the avatar and/or header (`undefined`: left as it
   * is). Returns the keys of the files that were replaced or cleared.
   */
  setProfileImages(
    id: string,
    images: { avatar?: MediaFile | null; header?: MediaFile | null },
  ): Promise<string[]>;
  /** The member whose avatar or header is the file with this key. */
  getByProfileImageKey(
    key: string,
  ): Promise<{ member: Member; slot: "avatar" | "header"; file: MediaFile } | null>;
  getPasswordHash(id: string): Promise<string | null>;
  setPasswordHash(id: string, hash: string): Promise<void>;
}

/** What is known of a remote actor, from its ActivityPub document. */
export interface RemoteActorInput {
  uri: string;
  type: string;
  username: string;
  host: string;
  displayName: string;
  summaryHtml: string;
  url: string | null;
  inboxUrl: string | null;
  sharedInboxUrl: string | null;
  followersUrl: string | null;
  followingUrl: string | null;
  outboxUrl: string | null;
  featuredUrl: string | null;
  manuallyApprovesFollowers: boolean;
  /**
   * Whether the actor's own server says it is suspended (Mastodon's
   * `toot:suspended`); `undefined` leaves what is stored as it is.
   */
  suspended?: boolean;
  raw: unknown;
}

/** Local and remote actors. */
export interface ActorStore {
  getById(id: string): Promise<Actor | null>;
  getByIds(ids: readonly string[]): Promise<Actor[]>;
  getByUri(uri: string): Promise<Actor | null>;
  /** Finds a remote actor by `username@host` (case-insensitive). */
  getRemoteByHandle(username: string, host: string): Promise<Actor | null>;
  /** Inserts or refreshes a remote actor, keyed by its URI. */
  upsertRemote(input: RemoteActorInput, at: Date): Promise<Actor>;
  /** Forgets a remote actor and everything of theirs (posts, follows, likes). */
  deleteRemote(id: string): Promise<void>;
  /**
   * Remote actors a member has to do with: who follow them or whom they follow
   * (approved or pending), and those their posts reached or who liked or
   * boosted them. A removal or suspension is told to all of them.
   */
  remoteContactsOf(memberId: string): Promise<Actor[]>;
}

// --- Boosts, bookmarks, pins (issue 11) -------------------------------------

/** Who a boost is shown to: everyone, or the booster's followers. */
export type BoostAudience = "public" | "followers";

/** A boost of a post; its id is the id of the boost's own status (Mastodon's reblog wrapper). */
export interface Boost {
  id: string;
  actorId: string;
  postId: string;
  audience: BoostAudience;
  /** The `Announce`'s id, for a boost from another server. */
  uri: string | null;
  createdAt: Date;
}

/** One entry of a list of posts; `id` is the entry's own (a like's, a bookmark's), for paging. */
export interface PostEntry {
  id: string;
  post: Post;
}

/** One entry of a home feed: a post, or a boost of one (then `id` is the boost's). */
export interface FeedEntry {
  id: string;
  post: Post;
  boost: Boost | null;
}

/** Who liked or boosted a post: `id` is the like's or boost's, for paging. */
export interface InteractionActor {
  id: string;
  actorId: string;
}

/** A member's private bookmarks. */
export interface BookmarkStore {
  /** Idempotent; whether a bookmark was written. */
  add(input: { id: string; memberId: string; postId: string; createdAt: Date }): Promise<boolean>;
  remove(memberId: string, postId: string): Promise<void>;
  /** Bookmarked posts the filter lets through, newest bookmark first (paged by bookmark id). */
  list(memberId: string, filter: VisibilityFilter, page: Page): Promise<PostEntry[]>;
  /** Which of these posts the member bookmarked. */
  among(memberId: string, postIds: readonly string[]): Promise<Set<string>>;
}

/** Posts members pinned to their profiles. */
export interface PinStore {
  /**
   * Pins a post unless the member already pinned `max` others: `"pinned"`,
   * `"already"` (it was pinned) or `"full"`. Call it in a transaction: it
   * locks the member's pins while it counts.
   */
  add(
    input: { id: string; memberId: string; postId: string; createdAt: Date },
    max: number,
  ): Promise<"pinned" | "already" | "full">;
  /** Whether there was a pin to remove. */
  remove(memberId: string, postId: string): Promise<boolean>;
  /** A member's pinned posts the filter lets through, newest pin first. */
  list(memberId: string, filter: VisibilityFilter): Promise<Post[]>;
  /** Which of these posts their authors pinned. */
  among(postIds: readonly string[]): Promise<Set<string>>;
}

/** Likes and boosts of posts. */
export interface InteractionStore {
  /** Idempotent: a repeated like/boost changes nothing. Returns false when it already existed. */
  add(input: {
    id: string;
    kind: "like" | "boost";
    actorId: string;
    postId: string;
    uri: string | null;
    createdAt: Date;
    /** For boosts: who it is shown to (default everyone). */
    audience?: BoostAudience;
  }): Promise<boolean>;
  /** The actor's boost of a post, if any. */
  getBoost(actorId: string, postId: string): Promise<Boost | null>;
  /**
   * Boosts for a member's home feed: by the member and the accounts they
   * follow (approved), not by muted accounts nor of muted authors' posts, nor
   * by suspended or removed members; only of posts the filter lets through.
   * Newest first (paged by boost id; oldest first with `minId`, then reversed).
   */
  listHomeBoosts(memberId: string, filter: VisibilityFilter, page: Page): Promise<FeedEntry[]>;
  /** Posts the actor liked that the filter lets through, newest like first (paged by like id). */
  listLiked(actorId: string, filter: VisibilityFilter, page: Page): Promise<PostEntry[]>;
  /**
   * Who liked/boosted a post, newest first (paged by interaction id), leaving
   * out suspended and removed members, accounts their server suspended, and
   * anyone who blocks `viewerActorId` or whom it blocks. Followers-only boosts
   * are listed only to their booster.
   */
  listActors(
    postId: string,
    kind: "like" | "boost",
    viewerActorId: string | null,
    page: Page,
  ): Promise<InteractionActor[]>;
  /** Removes a like/boost; returns its id, or `null` when there was none. */
  remove(kind: "like" | "boost", actorId: string, postId: string): Promise<string | null>;
  /** Removes the like/boost with this activity id, if its actor matches. */
  removeByUri(uri: string, actorId: string): Promise<boolean>;
  count(postIds: readonly string[], kind: "like" | "boost"): Promise<Map<string, number>>;
  /** Which of these posts the actor liked/boosted. */
  byActor(
    actorId: string,
    postIds: readonly string[],
    kind: "like" | "boost",
  ): Promise<Set<string>>;
  /** Which of these posts the actor liked and which they boosted, in one query (a page, issue 13). */
  bothByActor(
    actorId: string,
    postIds: readonly string[],
  ): Promise<{ liked: Set<string>; boosted: Set<string> }>;
}

/** Mutes: whose posts leave a member's home feed. */
export interface MuteStore {
  add(muterId: string, mutedId: string, at: Date): Promise<void>;
  remove(muterId: string, mutedId: string): Promise<void>;
  list(muterId: string): Promise<string[]>;
}

/** Blocks between actors. */
export interface BlockStore {
  /** Idempotent (an existing block is kept as it is); whether a block was written. */
  add(blockerId: string, blockedId: string, uri: string | null, at: Date): Promise<boolean>;
  remove(blockerId: string, blockedId: string): Promise<void>;
  /** Whether either actor blocks the other. */
  between(a: string, b: string): Promise<boolean>;
  /** Actors the member blocks. */
  list(blockerId: string): Promise<string[]>;
}

/** A key pair as JSON Web Keys. */
export interface StoredKeyPair {
  type: "RSASSA-PKCS1-v1_5" | "Ed25519";
  publicJwk: JsonWebKey;
  privateJwk: JsonWebKey;
}

/** Actors' signing keys. Keys are created once and never silently replaced. */
export interface KeyStore {
  save(actorId: string, pairs: readonly StoredKeyPair[]): Promise<void>;
  get(actorId: string): Promise<StoredKeyPair[]>;
  /** The server's own (instance actor) keys; empty until first saved. */
  getInstance(): Promise<StoredKeyPair[]>;
  /** Saves the instance keys unless some exist already (first writer wins). */
  saveInstanceIfAbsent(pairs: readonly StoredKeyPair[]): Promise<void>;
}

/** Invites. Codes are stored hashed. */
export interface InviteStore {
  create(invite: Invite & { codeHash: string }): Promise<void>;
  /** Finds an invite by code hash and locks it until the transaction ends. */
  getByCodeHashForUpdate(codeHash: string): Promise<Invite | null>;
  getById(id: string): Promise<Invite | null>;
  list(): Promise<Invite[]>;
  incrementUses(id: string): Promise<void>;
  revoke(id: string, at: Date): Promise<void>;
}

/** Browser sessions and API tokens. Tokens are stored hashed. */
export interface TokenStore {
  /** `appId` and `scopes` (OAuth, issue 11) default to none and `read write follow push`. */
  create(
    token: Omit<AccessToken, "appId" | "scopes"> & {
      tokenHash: string;
      appId?: string | null;
      scopes?: readonly string[];
    },
  ): Promise<void>;
  /** The live token with this hash and its member. */
  findActive(tokenHash: string): Promise<{ token: AccessToken; member: Member } | null>;
  touch(id: string, at: Date): Promise<void>;
  revoke(id: string, at: Date): Promise<void>;
  /** Revokes every live token of a member but `exceptId` (if given); returns how many. */
  revokeAllFor(memberId: string, at: Date, exceptId?: string): Promise<number>;
  listFor(memberId: string): Promise<AccessToken[]>;
  /** OAuth (issue 11): revokes every live token of a member issued to an app; returns how many. */
  revokeAllForApp(memberId: string, appId: string, at: Date): Promise<number>;
}

// --- OAuth apps, authorization codes and app tokens (issue 11) ---

/** Client apps, the codes members hand them, and the tokens apps hold for themselves. */
export interface OAuthStore {
  createApp(app: OAuthApp & { clientSecretHash: string }): Promise<void>;
  /** The app with this client id, with its secret's hash. */
  findApp(clientId: string): Promise<(OAuthApp & { clientSecretHash: string }) | null>;
  getApp(id: string): Promise<OAuthApp | null>;
  createCode(code: AuthorizationCode & { codeHash: string }): Promise<void>;
  /** The unused, unexpired code with this hash. */
  findCode(codeHash: string, now: Date): Promise<AuthorizationCode | null>;
  /** Marks a code used; false if it already was (only one redemption wins). */
  useCode(id: string, at: Date): Promise<boolean>;
  /** Deletes codes that expired before `before`; returns how many. */
  deleteExpiredCodes(before: Date): Promise<number>;
  createAppToken(token: AppToken & { tokenHash: string }): Promise<void>;
  /** The live app token with this hash, and its app. */
  findActiveAppToken(tokenHash: string): Promise<{ token: AppToken; app: OAuthApp } | null>;
  touchAppToken(id: string, at: Date): Promise<void>;
  revokeAppToken(id: string, at: Date): Promise<void>;
  /** The apps a member holds live tokens for, most recently authorised first. */
  listAuthorized(memberId: string): Promise<AuthorizedApp[]>;
}

/** Members' identities at OpenID Connect providers; (issuer, subject) names at most one. */
export interface OidcIdentityStore {
  /** Stores an identity; false (nothing written) if the issuer and subject are linked already. */
  create(identity: OidcIdentity): Promise<boolean>;
  /** The identity with this issuer and subject, whoever holds it. */
  find(issuer: string, subject: string): Promise<OidcIdentity | null>;
  /** A member's identities, oldest first. */
  listFor(memberId: string): Promise<OidcIdentity[]>;
  /** Deletes one of a member's identities; false if the member holds none with this id. */
  delete(memberId: string, id: string): Promise<boolean>;
}

/** Failed sign-ins counted since some moment, three ways. */
export interface FailureCounts {
  /** For this username from this client address. */
  pair: number;
  /** From this client address, whatever the username. */
  address: number;
  /** For this username, from any address. */
  username: number;
}

/** Failed sign-ins, for throttling. `address` is the client address (or the key standing for it). */
export interface LoginAttemptStore {
  recordFailure(usernameKey: string, address: string, at: Date): Promise<void>;
  countFailuresSince(usernameKey: string, address: string, since: Date): Promise<FailureCounts>;
  /** Forgets the failures of this username from this address. */
  clear(usernameKey: string, address: string): Promise<void>;
  /** Deletes at most `limit` failures older than `before`; returns how many went. */
  deleteOlderThan(before: Date, limit: number): Promise<number>;
}

/** What is needed to store a new post: the post, and who and what it names. */
export type NewPost = Omit<
  Post,
  "editedAt" | "deletedAt" | "audienceOwnerId" | "interactionPolicy"
> & {
  audienceOwnerId?: string | null;
  /** Everyone may interact when omitted. */
  interactionPolicy?: InteractionPolicy;
  /** Actors mentioned in the text. */
  mentionIds: readonly string[];
  /** Actors the post is addressed to (for `direct`, the only ones who see it). */
  recipientIds: readonly string[];
  hashtags: readonly string[];
};

/** Cursor pagination as Mastodon does it: ids are time-sortable. */
export interface Page {
  maxId?: string | undefined;
  sinceId?: string | undefined;
  minId?: string | undefined;
  limit: number;
}

/** Which posts a list query is about; visibility is always applied on top. */
export type PostScope =
  /** An author's posts; `onlyMedia`: those carrying a processed photo or video (a media tab). */
  | { kind: "author"; authorId: string; excludeReplies?: boolean; onlyMedia?: boolean }
  /** A member's home feed: members' posts, followed accounts' posts and posts addressed to them. */
  | { kind: "home"; actorId: string }
  | { kind: "replies-to"; postId: string }
  | { kind: "ids"; ids: readonly string[] }
  // Timelines (issue 11):
  /** The Clique's own timeline: posts by its members; `onlyMedia`: those carrying a photo or video. */
  | { kind: "local"; onlyMedia?: boolean }
  /**
   * Posts carrying hashtags (normalised names): any of `any` (at least one
   * required), all of `all`, none of `none`; `localOnly`: by members only.
   */
  | {
      kind: "tag";
      any: readonly string[];
      all?: readonly string[];
      none?: readonly string[];
      localOnly?: boolean;
      onlyMedia?: boolean;
    }
  /** Direct posts an actor wrote or is addressed to (their conversations). */
  | { kind: "direct"; actorId: string };

/** Posts, their edits, mentions and hashtags. */
export interface PostStore {
  create(post: NewPost): Promise<Post>;
  /**
   * Stores a remote post unless a post with its URI is already stored (the
   * same post may arrive at several inboxes at once); whether it was written.
   */
  createRemote(post: NewPost & { uri: string }): Promise<boolean>;
  /** Including deleted ones (callers decide). */
  getById(id: string): Promise<Post | null>;
  /** Authors of these posts, by post id (whatever their visibility; for reply metadata). */
  authorsOf(ids: readonly string[]): Promise<Map<string, string>>;
  getByUri(uri: string): Promise<Post | null>;
  /** Visible posts in scope, newest first (or oldest first when paging with `minId`, then reversed). */
  list(scope: PostScope, filter: VisibilityFilter, page: Page): Promise<Post[]>;
  /** The chain of parents, nearest first, whatever their visibility. */
  ancestorIds(id: string, maxDepth: number): Promise<string[]>;
  /** All replies below a post, whatever their visibility. */
  descendantIds(id: string, maxCount: number): Promise<string[]>;
  update(
    id: string,
    patch: Pick<Post, "source" | "contentHtml" | "spoilerText" | "sensitive" | "language"> & {
      editedAt: Date;
      mentionIds: readonly string[];
      recipientIds: readonly string[];
      hashtags: readonly string[];
    },
  ): Promise<void>;
  addEdit(edit: PostEdit): Promise<void>;
  listEdits(postId: string): Promise<PostEdit[]>;
  markDeleted(id: string, at: Date): Promise<void>;
  /** Marks every post of an author deleted (content dropped, as `markDeleted`); returns how many. */
  markDeletedByAuthor(authorId: string, at: Date): Promise<number>;
  /** Hides a post from every viewer (`at`), or shows it again (`null`). */
  setHidden(id: string, at: Date | null): Promise<void>;
  /** Notes that a local post was delivered to these remote actors (idempotent). */
  recordDeliveries(postId: string, actorIds: readonly string[]): Promise<void>;
  /**
   * Remote actors a post reached or who took part in it: those it was
   * delivered to, and those who replied to, liked or boosted it. Edits and
   * deletes go to them as well as to the post's current audience.
   */
  remoteParticipantsOf(postId: string): Promise<string[]>;
  /** Local posts addressed to a circle (not deleted), whoever wrote them. */
  listInCircle(circleId: string): Promise<Post[]>;
  mentionsOf(postIds: readonly string[]): Promise<Map<string, string[]>>;
  recipientsOf(postId: string): Promise<string[]>;
  /** The recipients of these posts, by post id (one query; conversations, issue 11). */
  recipientsOfPosts(postIds: readonly string[]): Promise<Map<string, string[]>>;
  hashtagsOf(postIds: readonly string[]): Promise<Map<string, string[]>>;
  /**
   * For each author, how many of their posts the filter lets through and when
   * the newest of those was written: one grouped query, whatever the number of
   * authors. Authors with no such post are left out of the map.
   */
  statsByAuthor(
    authorIds: readonly string[],
    filter: VisibilityFilter,
  ): Promise<Map<string, AuthorPostStats>>;
  /**
   * Each post's likes, boosts and direct replies (of every audience, neither
   * deleted nor hidden), as kept with every write (one query). Replies are a
   * fact about rows: what a viewer is shown is `countReplies`.
   */
  countersOf(postIds: readonly string[]): Promise<Map<string, PostCounters>>;
  /**
   * Each account's approved followers and follows, and how many of its posts
   * the filter lets through with the newest one's time, from the counters
   * kept with every write: a fixed number of queries for any number of
   * accounts (issue 13). Unknown accounts are left out.
   */
  accountCounts(
    actorIds: readonly string[],
    filter: VisibilityFilter,
  ): Promise<Map<string, AccountCounts>>;
  /** For each post, how many direct replies to it the filter lets through (one grouped query). */
  countReplies(postIds: readonly string[], filter: VisibilityFilter): Promise<Map<string, number>>;
  /** How many posts by this Clique's members the filter lets through. */
  countLocal(filter: VisibilityFilter): Promise<number>;
}

/** An account's numbers as one viewer may see them (`PostStore.accountCounts`). */
export interface AccountCounts {
  followers: number;
  following: number;
  posts: number;
  lastPostAt: Date | null;
}

/** A post's numbers as stored (`PostStore.countersOf`). */
export interface PostCounters {
  replies: number;
  likes: number;
  boosts: number;
}

/** An author's posts as one viewer may see them. */
export interface AuthorPostStats {
  count: number;
  /** When the newest of them was written. */
  lastPostAt: Date;
}

/** Circles and who is in them. */
export interface CircleStore {
  create(circle: Circle): Promise<void>;
  getById(id: string): Promise<Circle | null>;
  listByOwner(ownerId: string): Promise<Circle[]>;
  rename(id: string, name: string): Promise<void>;
  setMembers(id: string, actorIds: readonly string[]): Promise<void>;
  delete(id: string): Promise<void>;
}

/** Follow relationships between actors. */
export interface FollowStore {
  get(followerId: string, followeeId: string): Promise<Follow | null>;
  getByUri(uri: string): Promise<Follow | null>;
  /** Remote actors following a member (approved), for delivery. */
  remoteFollowers(followeeId: string): Promise<Actor[]>;
  /**
   * Idempotent: a follow between the same actors (or with the same URI) that
   * is already stored is kept as it is. Whether the follow was written.
   */
  create(follow: Follow): Promise<boolean>;
  /** Gives a follow a new activity id (its `Follow` was sent again under a new one). */
  setUri(id: string, uri: string): Promise<void>;
  accept(id: string): Promise<void>;
  delete(id: string): Promise<void>;
  listFollowers(followeeId: string, state: Follow["state"]): Promise<Follow[]>;
  listFollowing(followerId: string, state: Follow["state"]): Promise<Follow[]>;
  countFollowers(followeeId: string): Promise<number>;
  countFollowing(followerId: string): Promise<number>;
  /** Approved followers and followings of each actor, in one query; actors with neither may be left out. */
  countMany(
    actorIds: readonly string[],
  ): Promise<Map<string, { followers: number; following: number }>>;
}

/** What processing found out about an upload. */
export interface ProcessedMedia {
  kind: MediaKind;
  width: number | null;
  height: number | null;
  duration: number | null;
  blurhash: string | null;
  display: MediaFile;
  small: MediaFile | null;
}

/** Secrets of this server, made once and kept. */
export interface SecretStore {
  /** The secret with this name; `make()`'s value if there was none (the first writer wins). */
  getOrCreate(name: string, make: () => string): Promise<string>;
}

/** Photos and videos. */
export interface MediaStore {
  create(media: Media): Promise<void>;
  getById(id: string): Promise<Media | null>;
  /** The media item one of whose files has this key. */
  getByFileKey(key: string): Promise<Media | null>;
  /** The attachments of these posts, in their order, by post id (one query). */
  listByPosts(postIds: readonly string[]): Promise<Map<string, Media[]>>;
  /** Processing succeeded: the item is ready to attach. */
  markReady(id: string, result: ProcessedMedia): Promise<void>;
  markFailed(id: string, error: string): Promise<void>;
  describe(
    id: string,
    patch: { description?: string; focus?: { x: number; y: number } },
  ): Promise<void>;
  /**
   * Attaches these items to a post in the given order and detaches the post's
   * others; only the owner's items, not attached elsewhere. Returns how many
   * were attached.
   */
  attach(postId: string, ownerId: string, mediaIds: readonly string[]): Promise<number>;
  /**
   * How many uploads of an owner are still being processed. With `lock`, in a
   * transaction: holds the owner's upload lock until the transaction ends, so
   * that concurrent uploads of one owner are counted one after another.
   */
  countProcessing(ownerId: string, options?: { lock?: boolean }): Promise<number>;
  /** Deletes an upload whose processing failed (it has no files); whether there was one. */
  deleteFailed(id: string): Promise<boolean>;
  /**
   * Deletes the post's media rows other than `keep` (taken off the post by an
   * edit: a photo once shown with one audience never moves to another);
   * returns their file keys.
   */
  deleteFromPost(postId: string, keep: readonly string[]): Promise<string[]>;
  /** Deletes the post's media rows; returns their file keys. */
  deleteByPost(postId: string): Promise<string[]>;
  /** Deletes uploads never attached, made before `before`; returns their file keys. */
  deleteUnattached(before: Date, limit: number): Promise<string[]>;
  /** Deletes every media item of an owner; returns their file keys. */
  deleteByOwner(ownerId: string): Promise<string[]>;
}

/** An event waiting in the outbox to be handed to its subscribers. */
export interface OutboxEntry {
  id: string;
  event: FederationEvent;
  createdAt: Date;
  /** Failed hand-overs so far. */
  attempts: number;
  lastError: string | null;
  /** When it was set aside after its last failed attempt; `null` while it is still due. */
  deadAt: Date | null;
}

/**
 * The transactional outbox: events are recorded in the transaction of the
 * change that caused them, so an event exists exactly when its change
 * committed; the relay takes them out once every subscriber has them.
 */
export interface OutboxStore {
  /** Records an event in the current transaction, and wakes the relay when it commits. */
  record(event: FederationEvent, at: Date): Promise<void>;
  /**
   * The oldest event that is due (not dead, not waiting for a retry), locked
   * until the transaction ends; events another transaction holds are skipped.
   */
  claimNext(now: Date): Promise<OutboxEntry | null>;
  /** The event was handed over: it leaves the outbox. */
  remove(id: string): Promise<void>;
  /** A failed hand-over: try again at `retryAt`, or set it aside as dead when `null`. */
  failed(id: string, error: string, retryAt: Date | null, at: Date): Promise<void>;
  /** How many events wait, and how many were set aside. */
  counts(): Promise<{ pending: number; dead: number }>;
  /** Events set aside, oldest first. */
  listDead(limit: number): Promise<OutboxEntry[]>;
  /** Makes a dead event due again now; whether there was one. */
  revive(id: string, at: Date): Promise<boolean>;
}

/** Everything the inbox, the publisher and the edge ask of remote moderation, read at once. */
export interface RemoteModerationSnapshot {
  domains: readonly { domain: string; severity: DomainSeverity }[];
  /** With each actor's URI, so that a request can be judged before its actor is looked up. */
  sanctions: readonly { actorId: string; uri: string | null; kind: ActorSanctionKind }[];
}

/** What purging remote actors removed. */
export interface PurgeCounts {
  posts: number;
  follows: number;
  interactions: number;
}

/**
 * Remote moderation's decisions: domain blocks, and suspended or silenced
 * remote accounts. (Members' own blocks are `BlockStore`'s.) Every write
 * tells the other processes, when it commits, to read the decisions again.
 */
export interface RemoteModerationStore {
  /** Every domain block, by domain. */
  listDomains(): Promise<DomainBlock[]>;
  getDomain(id: string): Promise<DomainBlock | null>;
  /** The block of exactly this (normalized) domain. */
  getDomainByName(domain: string): Promise<DomainBlock | null>;
  /** Stores a block, or replaces the one of its domain (keeping that one's id and creation time). */
  saveDomain(block: DomainBlock): Promise<DomainBlock>;
  /** Lifts the block of this domain; the block that was lifted, if any. */
  deleteDomain(domain: string): Promise<DomainBlock | null>;
  /** The remote actors a block of `domain` covers (it and its subdomains). */
  actorIdsOnDomain(domain: string): Promise<string[]>;
  /** Every sanction on a remote account, newest first. */
  listSanctions(): Promise<ActorSanction[]>;
  sanctionsOf(actorId: string): Promise<ActorSanction[]>;
  /** Idempotent (an existing sanction of that kind is kept); whether one was written. */
  addSanction(sanction: ActorSanction): Promise<boolean>;
  /** Whether there was one to lift. */
  removeSanction(actorId: string, kind: ActorSanctionKind): Promise<boolean>;
  /** What the checks need, in one read. */
  snapshot(): Promise<RemoteModerationSnapshot>;
  /**
   * Forgets everything of these remote actors but the actors themselves (and
   * what remembers the decision): their posts (with their edits, tags,
   * mentions and the interactions on them), their likes and boosts, and every
   * follow either way. Their media rows are `MediaStore.deleteByOwner`'s.
   */
  purgeActors(actorIds: readonly string[]): Promise<PurgeCounts>;
}

/** What members are told. */
export interface NotificationStore {
  /**
   * Stores a notification; `false` when it repeats one already there (one per
   * like, boost, follow, request or mention), and nothing is written.
   */
  create(notification: Notification): Promise<boolean>;
  /** A member's notifications, newest first (oldest first when paging with `minId`, then reversed). */
  list(
    recipientId: string,
    page: Page,
    options?: { types?: readonly string[]; excludeTypes?: readonly string[]; accountId?: string },
  ): Promise<Notification[]>;
  // Notifications of every type (issue 11).
  /** One of a member's notifications, or `null`. */
  getById(recipientId: string, id: string): Promise<Notification | null>;
  /** Any notification by id (live updates load it once, then ask who may see it). */
  getAnyById(id: string): Promise<Notification | null>;
  /** Dismisses one of a member's notifications; whether there was one. */
  dismiss(recipientId: string, id: string): Promise<boolean>;
  /** Dismisses all of a member's notifications. */
  clear(recipientId: string): Promise<void>;
  /** The local members who liked or boosted a post (told when it is edited). */
  interactedWith(postId: string): Promise<string[]>;
}

// --- Markers, announcements, conversations (issue 11) ---

/** Members' read positions, one per timeline. */
export interface MarkerStore {
  list(memberId: string): Promise<Marker[]>;
  /** Saves a position: the version goes up by one on each save. */
  save(memberId: string, timeline: MarkerTimeline, lastReadId: string, at: Date): Promise<Marker>;
}

/** The Clique's announcements and who dismissed them. */
export interface AnnouncementStore {
  create(announcement: Announcement): Promise<void>;
  getById(id: string): Promise<Announcement | null>;
  update(
    id: string,
    patch: Partial<
      Pick<Announcement, "text" | "contentHtml" | "startsAt" | "endsAt" | "allDay">
    > & {
      updatedAt: Date;
    },
  ): Promise<void>;
  /** Whether there was one to delete. */
  delete(id: string): Promise<boolean>;
  /** Every announcement, newest first, with whether `memberId` dismissed it. */
  list(memberId: string): Promise<MemberAnnouncement[]>;
  /** Idempotent. */
  dismiss(id: string, memberId: string, at: Date): Promise<void>;
}

/** Members' read state of their direct conversations. */
export interface ConversationStore {
  /** The member's states of these conversations, by conversation id. */
  states(
    memberId: string,
    conversationIds: readonly string[],
  ): Promise<Map<string, ConversationState>>;
  markRead(memberId: string, conversationId: string, upTo: string): Promise<void>;
  hide(memberId: string, conversationId: string, upTo: string): Promise<void>;
}

/** All stores, plus a way to run several writes atomically. */
export interface Stores {
  settings: SettingsStore;
  members: MemberStore;
  actors: ActorStore;
  keys: KeyStore;
  invites: InviteStore;
  tokens: TokenStore;
  // OAuth apps and codes (issue 11).
  oauth: OAuthStore;
  loginAttempts: LoginAttemptStore;
  /** Identities at OpenID Connect providers. */
  oidcIdentities: OidcIdentityStore;
  posts: PostStore;
  circles: CircleStore;
  follows: FollowStore;
  interactions: InteractionStore;
  // Bookmarks and pins (issue 11).
  bookmarks: BookmarkStore;
  pins: PinStore;
  blocks: BlockStore;
  mutes: MuteStore;
  outbox: OutboxStore;
  media: MediaStore;
  secrets: SecretStore;
  /** What members are told. */
  notifications: NotificationStore;
  /** Domain blocks and remote accounts' suspensions and silences. */
  remoteModeration: RemoteModerationStore;
  // Markers, announcements, conversations (issue 11).
  markers: MarkerStore;
  announcements: AnnouncementStore;
  conversations: ConversationStore;
  /** End-to-end encrypted chats: devices, KeyPackages, the key directory, ciphertexts (issue 15). */
  e2ee: E2eeStore;
  /** The relationships the visibility rules ask about. */
  facts: VisibilityFacts;
  /** Runs `fn` in one database transaction; everything it writes lands or nothing does. */
  transaction<T>(fn: (tx: Stores) => Promise<T>): Promise<T>;
}
