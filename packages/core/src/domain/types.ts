/**
 * Domain objects: the shape the use cases and the visibility rules work with.
 * Database rows and wire formats (ActivityPub, Mastodon JSON) are converted to
 * and from these in one place each.
 */

/** Who may see a post. */
export const AUDIENCES = [
  "public",
  "unlisted",
  "followers",
  "friends",
  "clique",
  "circle",
  "direct",
] as const;
/** Who may see a post. */
export type Audience = (typeof AUDIENCES)[number];

/** A member's role in the Clique, from most to least powerful. */
export const ROLES = ["owner", "admin", "moderator", "member"] as const;
/** A member's role in the Clique. */
export type Role = (typeof ROLES)[number];

/** A member's standing. Only `active` members can sign in. */
export type MemberStatus = "active" | "suspended" | "removed";

/** The Clique itself: one per server. */
export interface CliqueSettings {
  name: string;
  description: string;
  memberCap: number;
  /** Whether plain members (not only owner/admin) may create invites. */
  membersCanInvite: boolean;
  /** Who may see the member list: everyone, the Clique (default), or only its staff. */
  memberListAudience?: "public" | "clique" | "staff";
  /** Whether anonymous visitors see the public posts of the Clique's timeline (default: no, they get 401). */
  publicTimelineAnonymous?: boolean;
  createdAt: Date;
}

/** Local members and remote accounts alike are actors. */
export interface Actor {
  id: string;
  kind: "local" | "remote";
  username: string;
  /** `null` for local actors. */
  host: string | null;
  displayName: string;
  summaryHtml: string;
  /** ActivityPub id; `null` for local actors (derived from the origin). */
  uri: string | null;
  /** Profile page; `null` for local actors (derived from the origin). */
  url: string | null;
  inboxUrl: string | null;
  sharedInboxUrl: string | null;
  followersUrl: string | null;
  /** ActivityStreams type: `Person`, `Service`, `Application`, `Group`... */
  type: string;
  manuallyApprovesFollowers: boolean;
  createdAt: Date;
  /** When a remote actor's document was last fetched or received whole; `null` for local actors. */
  fetchedAt: Date | null;
  /** A member's uploaded avatar; `null`: the generated default (and, for now, every remote actor's). */
  avatar: MediaFile | null;
  /** A member's uploaded header image; `null`: none (clients show a plain one). */
  header: MediaFile | null;
  /**
   * Since when the account's own server says it is suspended (Mastodon's
   * `toot:suspended` on the actor document); `null` otherwise, and always for
   * members (their standing is `Member.status`). Its posts are hidden meanwhile.
   */
  originSuspendedAt: Date | null;
}

/**
 * Who may see a part of a profile, or interact with a post: everyone, the
 * owner's followers or friends, the Clique, a circle, or nobody but the owner.
 */
export type PartAudience = "public" | "followers" | "friends" | "clique" | "circle" | "nobody";

/** All part audiences, for validation. */
export const PART_AUDIENCES = [
  "public",
  "followers",
  "friends",
  "clique",
  "circle",
  "nobody",
] as const;

/** A part audience, with its circle when it is `circle`. */
export interface AudienceRef {
  audience: PartAudience;
  circleId?: string | null;
}

/** Who may reply to, like and boost a post (published as GoToSocial's `interactionPolicy`). */
export interface InteractionPolicy {
  reply: AudienceRef;
  like: AudienceRef;
  boost: AudienceRef;
}

/** Everyone may interact: the default. */
export const OPEN_INTERACTIONS: InteractionPolicy = {
  reply: { audience: "public" },
  like: { audience: "public" },
  boost: { audience: "public" },
};

/** A name/value pair shown on a profile, to its own audience (default everyone). */
export interface ProfileField {
  name: string;
  value: string;
  audience?: PartAudience;
  circleId?: string | null;
}

/** A local account: an actor plus what only its own server knows. */
export interface Member {
  id: string;
  username: string;
  displayName: string;
  bio: string;
  bioHtml: string;
  fields: ProfileField[];
  role: Role;
  status: MemberStatus;
  manuallyApprovesFollowers: boolean;
  discoverable: boolean;
  /** Whether the follower/following lists are shown to others (counts always are). */
  showFollows: boolean;
  /** Who may read the bio. */
  bioAudience: AudienceRef;
  /** Who may see the follower and following lists (counts are always public). */
  followsAudience: AudienceRef;
  /** The audience of a new post when none is chosen (Mastodon's `source.privacy`). */
  defaultAudience: DefaultAudience;
  /** Uploaded avatar (square); `null`: the generated default. Public, like the actor document. */
  avatar: MediaFile | null;
  /** Uploaded header image (3:1); `null`: none. Public, like the actor document. */
  header: MediaFile | null;
  /** When a suspension ends by itself; `null`: not suspended, or until a moderator lifts it. */
  suspendedUntil: Date | null;
  createdAt: Date;
}

/** Audiences a member may pick as the default for new posts (those that need no list of names). */
export const DEFAULT_AUDIENCES = ["public", "unlisted", "followers", "friends", "clique"] as const;
/** The audience of a new post when none is chosen. */
export type DefaultAudience = (typeof DEFAULT_AUDIENCES)[number];

/** An invitation to join. The code itself is only known at creation. */
export interface Invite {
  id: string;
  codeHint: string;
  createdBy: string;
  maxUses: number | null;
  uses: number;
  expiresAt: Date | null;
  revokedAt: Date | null;
  createdAt: Date;
}

/** How a post's source is written. */
export type ContentType = "text/plain" | "text/markdown";

/** A post (status), local or remote. */
export interface Post {
  id: string;
  authorId: string;
  /** ActivityPub id of remote posts; `null` for local ones. */
  uri: string | null;
  url: string | null;
  audience: Audience;
  circleId: string | null;
  /**
   * Whose followers a `followers` audience means: the author, except for
   * remote replies to restricted local posts, which borrow the parent's audience.
   */
  audienceOwnerId: string | null;
  inReplyToId: string | null;
  inReplyToUri: string | null;
  contentType: ContentType;
  /** What the author wrote (local posts only). */
  source: string;
  contentHtml: string;
  spoilerText: string;
  sensitive: boolean;
  language: string | null;
  createdAt: Date;
  editedAt: Date | null;
  deletedAt: Date | null;
  /**
   * When a moderator hid this (remote) post from the Clique: to every viewer it
   * is as gone as a deleted post. Absent or `null`: not hidden.
   */
  hiddenAt?: Date | null;
  interactionPolicy: InteractionPolicy;
}

/** A previous version of a post, kept when it is edited. */
export interface PostEdit {
  id: string;
  postId: string;
  source: string;
  contentHtml: string;
  spoilerText: string;
  sensitive: boolean;
  /** When this version was written. */
  createdAt: Date;
}

/** A named list of actors chosen by a member, usable as an audience. */
export interface Circle {
  id: string;
  ownerId: string;
  name: string;
  memberIds: string[];
  createdAt: Date;
}

/** One actor following another; pending until approved. */
export interface Follow {
  id: string;
  followerId: string;
  followeeId: string;
  state: "pending" | "accepted";
  uri: string | null;
  createdAt: Date;
}

/** An access credential: a browser session or an API bearer token. */
export interface AccessToken {
  id: string;
  memberId: string;
  kind: "session" | "api";
  name: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  /** OAuth (issue 11): the app the token was issued to (`null` for sessions and personal tokens). */
  appId: string | null;
  /** OAuth (issue 11): what the token may do (`read write follow push` unless narrowed). */
  scopes: readonly string[];
}

/** What kind of media an attachment is. */
export type MediaKind = "image" | "video" | "gifv" | "unknown";

/** Where an upload is: being processed, ready to attach, or refused by processing. */
export type MediaState = "processing" | "ready" | "failed";

/** One stored file of a media item (a variant), under an unguessable key. */
export interface MediaFile {
  /** Names the file in the blob store and in its URL; 128 random bits or more. */
  key: string;
  mediaType: string;
  width: number | null;
  height: number | null;
  size: number;
}

/** A photo or video: uploaded by a member, or attached to a remote post. */
export interface Media {
  id: string;
  /** The actor who uploaded it (a member), or the author of the remote post it came with. */
  ownerId: string;
  /** The post it is attached to; `null` until then. */
  postId: string | null;
  /** Its place among the post's attachments. */
  position: number;
  kind: MediaKind;
  state: MediaState;
  /** Alt text. */
  description: string;
  /** Focal point, each in [-1, 1] (Mastodon's convention: 0,0 is the centre). */
  focus: { x: number; y: number };
  width: number | null;
  height: number | null;
  /** Seconds, for video. */
  duration: number | null;
  blurhash: string | null;
  /** The file to show (the image's display size, or the video). */
  display: MediaFile | null;
  /** The small preview (a thumbnail, or a video's poster). */
  small: MediaFile | null;
  /** Where a remote attachment lives on its server (fetched through the proxy); `null` for ours. */
  remoteUrl: string | null;
  /** The remote server's media type, as it said. */
  remoteMediaType: string | null;
  /** Why processing refused it. */
  error: string | null;
  createdAt: Date;
}

/** What a notification is about (Mastodon's notification types; more arrive with the apps' work). */
export const NOTIFICATION_TYPES = [
  // Notifications of every type (the apps' issue).
  "mention",
  "status",
  "reblog",
  "follow",
  "follow_request",
  "favourite",
  "update",
  "admin.report",
  "moderation_warning",
] as const;
/** What a notification is about. */
export type NotificationType = (typeof NOTIFICATION_TYPES)[number];

/**
 * What a moderator did about a member or their posts, as the member is told
 * (Mastodon's `AccountWarning` actions, those Clique takes).
 */
export type ModerationWarningAction = "none" | "delete_statuses" | "suspend";

/** What a `moderation_warning` notification carries. */
export interface ModerationWarning {
  action: ModerationWarningAction;
  /** The reason the moderator gave. */
  text: string;
  /** The posts it was about (removed ones included). */
  statusIds: string[];
  /** For a suspension: when it ends by itself, if it does. */
  until?: string | null;
}

/** Something a member is told about. */
export interface Notification {
  id: string;
  /** The member told. */
  recipientId: string;
  type: NotificationType;
  /** Who caused it; `null` when nobody in particular did (the Clique's moderation). */
  accountId: string | null;
  /** The post it is about, if it still exists. */
  postId: string | null;
  /** What the type carries (`ModerationWarning` for `moderation_warning`). */
  data: Record<string, unknown>;
  createdAt: Date;
}
