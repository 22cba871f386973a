/**
 * Domain objects to Mastodon's JSON entities. The only place that knows
 * Mastodon's wire names (`visibility: "private"`, `acct`, `note`...).
 */
import type {
  AccountStats,
  Actor,
  Audience,
  CliqueSettings,
  Media,
  Member,
  Post,
  PostEdit,
  PostExtras,
  VisibleProfile,
} from "@clique/core";
import {
  type Boost,
  MAX_ATTACHMENTS,
  MAX_DESCRIPTION,
  MAX_PINS,
  NO_STATS,
  profileImagesOf,
  urlsFor,
} from "@clique/core";

/** Mastodon's four visibilities, from Clique's audiences. */
export function mastodonVisibility(
  audience: Audience,
): "public" | "unlisted" | "private" | "direct" {
  switch (audience) {
    case "public":
      return "public";
    case "unlisted":
      return "unlisted";
    // Followers, Clique-only and circle posts are all "limited to a chosen set":
    // the closest Mastodon has is private (not boostable, not public).
    case "followers":
    case "friends":
    case "clique":
    case "circle":
      return "private";
    case "direct":
      return "direct";
    default: {
      const unreachable: never = audience;
      return unreachable;
    }
  }
}

function iso(date: Date): string {
  return date.toISOString();
}

/** Serializes an actor (local or remote) as a Mastodon Account. */
export function serializeAccount(
  origin: string,
  actor: Actor,
  extra: { member?: Member | null; stats?: AccountStats; profile?: VisibleProfile | null } = {},
) {
  const urls = urlsFor(origin);
  const local = actor.kind === "local";
  // Uploaded images are WebP stills (processed upright, first frame only): the static URLs are the same.
  const images = profileImagesOf(urls, actor);
  const avatar = images.avatar.url;
  const header = images.header?.url ?? `${origin}/static/header.png`;
  const member = extra.member ?? null;
  return {
    id: actor.id,
    username: actor.username,
    acct: local ? actor.username : `${actor.username}@${actor.host}`,
    display_name: actor.displayName,
    locked: actor.manuallyApprovesFollowers,
    bot: false,
    discoverable: member?.discoverable ?? false,
    indexable: false,
    group: false,
    noindex: true,
    created_at: iso(
      new Date(
        Date.UTC(
          actor.createdAt.getUTCFullYear(),
          actor.createdAt.getUTCMonth(),
          actor.createdAt.getUTCDate(),
        ),
      ),
    ),
    // A member's bio and fields have audiences of their own: only what this
    // viewer may see (`profile`, from the visibility module) is shown.
    note: local ? (extra.profile?.bioHtml ?? "") : actor.summaryHtml,
    url: local ? urls.profile(actor.username) : (actor.url ?? actor.uri ?? ""),
    uri: local ? urls.actor(actor.username) : (actor.uri ?? ""),
    avatar,
    avatar_static: avatar,
    header,
    header_static: header,
    followers_count: extra.stats?.followers ?? 0,
    following_count: extra.stats?.following ?? 0,
    statuses_count: extra.stats?.posts ?? 0,
    last_status_at: extra.stats?.lastPostAt
      ? extra.stats.lastPostAt.toISOString().slice(0, 10)
      : null,
    emojis: [],
    fields: (local ? (extra.profile?.fields ?? []) : []).map((f) => ({
      name: f.name,
      value: escapeHtml(f.value),
      verified_at: null,
    })),
    roles: [],
    // Mastodon's flag, only when true: a suspended member, or an account its own server suspended.
    ...(member?.status === "suspended" || actor.originSuspendedAt ? { suspended: true } : {}),
    // Clique extension: the member's role in this Clique.
    ...(member ? { clique_role: member.role } : {}),
  };
}

/** The account plus `source`, for `verify_credentials`. */
export function serializeCredentialAccount(
  origin: string,
  actor: Actor,
  member: Member,
  stats: AccountStats,
) {
  return {
    // Members see their whole profile.
    ...serializeAccount(origin, actor, {
      member,
      stats,
      profile: { bioHtml: member.bioHtml, fields: member.fields, followLists: true },
    }),
    source: {
      privacy: mastodonVisibility(member.defaultAudience),
      // Clique extension: the exact default audience behind `privacy`.
      audience: member.defaultAudience,
      sensitive: false,
      language: null,
      note: member.bio,
      fields: member.fields.map((f) => ({
        name: f.name,
        value: f.value,
        verified_at: null,
        // Clique extension: each field's audience.
        audience: f.audience ?? "public",
        circle_id: f.circleId ?? null,
      })),
      bio_audience: member.bioAudience.audience,
      follows_audience: member.followsAudience.audience,
      follow_requests_count: 0,
    },
  };
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

/** Serializes visible posts as Mastodon Statuses (authors and mentions come from `extras`). */
export function serializeStatus(
  origin: string,
  post: Post,
  extras: PostExtras,
  options: { withSource?: boolean } = {},
  profiles?: ReadonlyMap<string, VisibleProfile>,
) {
  const urls = urlsFor(origin);
  const author = extras.authors.get(post.authorId);
  if (!author) throw new Error(`author ${post.authorId} of post ${post.id} is missing`);
  const local = author.kind === "local";
  const mentions = (extras.mentions.get(post.id) ?? [])
    .map((id) => extras.authors.get(id))
    .filter((a): a is Actor => a !== undefined)
    .map((a) => ({
      id: a.id,
      username: a.username,
      acct: a.kind === "local" ? a.username : `${a.username}@${a.host}`,
      url: a.kind === "local" ? urls.profile(a.username) : (a.url ?? a.uri ?? ""),
    }));
  return {
    id: post.id,
    created_at: iso(post.createdAt),
    in_reply_to_id: post.inReplyToId,
    in_reply_to_account_id: post.inReplyToId
      ? (extras.parentAuthors.get(post.inReplyToId) ?? null)
      : null,
    sensitive: post.sensitive,
    spoiler_text: post.spoilerText,
    visibility: mastodonVisibility(post.audience),
    language: post.language,
    uri: local ? urls.post(author.username, post.id) : (post.uri ?? ""),
    url: local ? urls.postPage(author.username, post.id) : (post.url ?? post.uri ?? ""),
    // Counts as this viewer may see them (replies through the visibility module).
    replies_count: extras.replies.get(post.id) ?? 0,
    reblogs_count: extras.boosts.get(post.id) ?? 0,
    favourites_count: extras.likes.get(post.id) ?? 0,
    edited_at: post.editedAt ? iso(post.editedAt) : null,
    favourited: extras.likedByViewer.has(post.id),
    reblogged: extras.boostedByViewer.has(post.id),
    muted: false,
    bookmarked: extras.bookmarkedByViewer.has(post.id),
    pinned: extras.pinnedByViewer.has(post.id),
    content: post.contentHtml,
    filtered: [],
    reblog: null,
    application: null,
    account: serializeAccount(origin, author, {
      profile: profiles?.get(author.id) ?? null,
      stats: extras.authorStats.get(author.id) ?? NO_STATS,
    }),
    media_attachments: (extras.media.get(post.id) ?? []).map((m) =>
      serializeMedia(origin, m.media, m),
    ),
    mentions,
    tags: (extras.hashtags.get(post.id) ?? []).map((name) => ({ name, url: urls.tag(name) })),
    emojis: [],
    card: null,
    poll: null,
    ...(options.withSource ? { text: post.source } : {}),
    // Clique extensions: the exact audience behind `visibility`.
    audience: post.audience,
    circle_id: post.circleId,
  };
}

/**
 * A boost as Mastodon shows it (issue 11): the booster's own status, with its
 * own id and time, empty itself, whose `reblog` is the boosted status.
 */
export function serializeReblog(
  origin: string,
  boost: Boost,
  account: ReturnType<typeof serializeAccount>,
  original: ReturnType<typeof serializeStatus>,
) {
  const uri = boost.uri ?? `${account.uri}/boosts/${boost.id}`;
  return {
    id: boost.id,
    created_at: iso(boost.createdAt),
    in_reply_to_id: null,
    in_reply_to_account_id: null,
    sensitive: false,
    spoiler_text: "",
    visibility: boost.audience === "public" ? ("public" as const) : ("private" as const),
    language: null,
    uri,
    url: account.url || `${origin}/`,
    replies_count: 0,
    reblogs_count: 0,
    favourites_count: 0,
    edited_at: null,
    favourited: original.favourited,
    reblogged: original.reblogged,
    muted: false,
    bookmarked: original.bookmarked,
    pinned: false,
    content: "",
    filtered: [],
    reblog: original,
    application: null,
    account,
    media_attachments: [],
    mentions: [],
    tags: [],
    emojis: [],
    card: null,
    poll: null,
  };
}

/** One entry of `GET /api/v1/statuses/:id/history`. */
export function serializeEdit(
  origin: string,
  edit: PostEdit,
  author: Actor,
  profile: VisibleProfile | null,
  stats: AccountStats,
) {
  return {
    content: edit.contentHtml,
    spoiler_text: edit.spoilerText,
    sensitive: edit.sensitive,
    created_at: iso(edit.createdAt),
    account: serializeAccount(origin, author, { profile, stats }),
    media_attachments: [],
    emojis: [],
  };
}

/** Mastodon's v1 Instance. */
export function serializeInstanceV1(
  origin: string,
  settings: CliqueSettings | null,
  stats: { users: number; posts: number },
  contact: unknown,
  limits: MediaLimits,
) {
  const host = new URL(origin).host;
  return {
    uri: host,
    title: settings?.name ?? "Clique",
    short_description: settings?.description ?? "",
    description: settings?.description ?? "",
    email: "",
    version: "4.3.0 (compatible; Clique 0.1.0)",
    urls: { streaming_api: origin.replace(/^http/, "ws") },
    stats: { user_count: stats.users, status_count: stats.posts, domain_count: 0 },
    thumbnail: null,
    languages: ["en"],
    registrations: false,
    approval_required: true,
    invites_enabled: true,
    configuration: configuration(limits),
    contact_account: contact,
    rules: [],
  };
}

/** What uploads may be, as the instance endpoints say. */
export interface MediaLimits {
  imageBytes: number;
  videoBytes: number;
  maxPixels: number;
}

function configuration(limits: MediaLimits) {
  return {
    accounts: { max_featured_tags: 0, max_pinned_statuses: MAX_PINS },
    statuses: {
      max_characters: 5000,
      max_media_attachments: MAX_ATTACHMENTS,
      characters_reserved_per_url: 23,
    },
    media_attachments: {
      supported_mime_types: [
        "image/jpeg",
        "image/png",
        "image/webp",
        "image/avif",
        "image/gif",
        "video/mp4",
        "video/quicktime",
        "video/webm",
      ],
      image_size_limit: limits.imageBytes,
      image_matrix_limit: limits.maxPixels,
      video_size_limit: limits.videoBytes,
      video_frame_rate_limit: 60,
      // process-video.ts refuses videos larger than 4096×2304.
      video_matrix_limit: 4096 * 2304,
      description_limit: MAX_DESCRIPTION,
    },
    polls: { max_options: 0, max_characters_per_option: 0, min_expiration: 0, max_expiration: 0 },
  };
}

/** Mastodon's v2 Instance. */
export function serializeInstanceV2(
  origin: string,
  settings: CliqueSettings | null,
  stats: { users: number },
  contact: unknown,
  limits: MediaLimits,
) {
  const host = new URL(origin).host;
  return {
    domain: host,
    title: settings?.name ?? "Clique",
    version: "4.3.0 (compatible; Clique 0.1.0)",
    description: settings?.description ?? "",
    usage: { users: { active_month: stats.users } },
    thumbnail: { url: `${origin}/static/header.png` },
    icon: [],
    languages: ["en"],
    configuration: {
      urls: { streaming: origin.replace(/^http/, "ws"), status: null },
      vapid: { public_key: "" },
      translation: { enabled: false },
      ...configuration(limits),
    },
    registrations: {
      enabled: false,
      approval_required: true,
      message: "This Clique is invite-only.",
      url: null,
    },
    api_versions: { mastodon: 2 },
    contact: { email: "", account: contact },
    rules: [],
    // Clique extension: the member cap and how many seats are taken.
    clique: { member_cap: settings?.memberCap ?? null, members: stats.users },
  };
}

/** A Mastodon MediaAttachment; `paths` are where this viewer fetches its files (relative to the origin). */
export function serializeMedia(
  origin: string,
  media: Media,
  paths: { url: string | null; previewUrl: string | null },
) {
  const absolute = (p: string | null) =>
    p === null ? null : p.startsWith("/") ? `${origin}${p}` : p;
  const size = (f: { width: number | null; height: number | null } | null) =>
    f?.width && f.height
      ? {
          width: f.width,
          height: f.height,
          size: `${f.width}x${f.height}`,
          aspect: f.width / f.height,
        }
      : undefined;
  const dimensions = size({ width: media.width, height: media.height });
  // Mastodon gives a video's length in `meta.original.duration` (and the top level, for older apps).
  const original =
    dimensions && media.duration !== null
      ? { ...dimensions, duration: media.duration }
      : dimensions;
  const small = size(media.small);
  return {
    id: media.id,
    type: media.kind,
    url: absolute(paths.url),
    preview_url: absolute(paths.previewUrl),
    remote_url: media.remoteUrl,
    preview_remote_url: null,
    text_url: null,
    meta: {
      ...(original ? { original } : {}),
      ...(small ? { small } : {}),
      ...(media.duration !== null ? { duration: media.duration } : {}),
      focus: media.focus,
    },
    description: media.description === "" ? null : media.description,
    blurhash: media.blurhash,
  };
}
