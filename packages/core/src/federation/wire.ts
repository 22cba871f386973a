/**
 * Domain objects to and from ActivityPub objects: the only place that knows
 * both shapes. Also the audience-to-addressing table (FEDERATION.md documents it).
 */

import {
  type Actor as APActor,
  type Object as APObject,
  Article,
  getActorTypeName,
  Hashtag,
  Image,
  InteractionPolicy,
  InteractionRule,
  LanguageString,
  Mention,
  Note,
  PUBLIC_COLLECTION,
  Question,
} from "@fedify/vocab";
import { Temporal } from "@js-temporal/polyfill";
import type { Deps } from "../deps.ts";
import type { Actor, Audience, AudienceRef, Media, Member, Post } from "../domain/types.ts";
import type { RemoteActorInput } from "../stores/stores.ts";
import { htmlToPlainText, sanitizePostHtml } from "../text/render.ts";
import { stripUnsafeText } from "../text/sanitize.ts";
import { type Urls, urlsFor } from "../urls.ts";
import { mediaPath } from "../usecases/media.ts";
import {
  effectivePermission,
  federates,
  isOpenPost,
  type Viewer,
} from "../visibility/visibility.ts";
import {
  MediaNote,
  mediaAttachment,
  type RemoteAttachment,
  remoteAttachments,
} from "./attachments.ts";
import { type PostLookups, postLookups } from "./post-lookups.ts";

/**
 * `to`/`cc` of a local post and the remote actors it is delivered to.
 *
 * `broadcast` addressing is the same for everyone (Public, a followers
 * collection, the people a direct post names). `named` addressing is a list of
 * people who must not learn about each other (a circle, friends, someone
 * else's followers): each server is sent, and shown when it fetches, only its
 * own recipients, named in `to` and as `Mention` tags — servers such as
 * GoToSocial and Hollo show a post addressed by name only to the accounts it
 * mentions. `byServer` and `narrowFor` do the splitting.
 */
export interface Addressing {
  kind: "broadcast" | "named";
  to: URL[];
  cc: URL[];
  /** Remote actors to deliver to (their servers, de-duplicated by shared inbox). */
  recipients: Actor[];
  /** Actors named as `Mention` tags. */
  mentioned: Actor[];
}

/** The public URI of any actor we store. */
export function actorUri(urls: Urls, actor: Actor): string {
  return actor.kind === "local" ? urls.actor(actor.username) : (actor.uri ?? "");
}

/** The local member a URI names, if it is one of ours (`/users/{username}`). */
export function localUsernameOf(origin: string, uri: string): string | null {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return null;
  }
  if (url.origin !== new URL(origin).origin) return null;
  const m = /^\/users\/([A-Za-z0-9_]{1,30})$/.exec(url.pathname);
  return m ? m[1]! : null;
}

/** How `addressingFor` works for its caller. */
export interface AddressingOptions {
  /** Lookups shared with the other posts of a page and with the post's `Note` (`post-lookups.ts`). */
  lookups?: PostLookups;
  /**
   * Whether `recipients` must name every remote follower (default): needed
   * to deliver, not to serve the object, whose `to`/`cc` name the collection.
   */
  recipients?: boolean;
}

/**
 * The audience-to-addressing table: who a local post is addressed to and
 * which remote actors receive it. `null`: the post never leaves the server.
 */
export async function addressingFor(
  deps: Deps,
  post: Post,
  author: Member,
  options: AddressingOptions = {},
): Promise<Addressing | null> {
  if (!federates(post)) return null;
  const urls = urlsFor(deps.config.origin);
  const ownerId = post.audienceOwnerId ?? author.id;
  const lookups = options.lookups ?? postLookups(deps, [post]);
  const deliveries = options.recipients ?? true;
  // Only deliveries go to every remote follower: an object served on a fetch names the collection.
  const remoteFollowers = () =>
    deliveries ? deps.stores.follows.remoteFollowers(author.id) : Promise.resolve([]);
  const [mentioned, addressed, parentAuthor, blocked] = await Promise.all([
    lookups.mentioned(post),
    // Only direct and followers-only posts are addressed to people beside their mentions.
    post.audience === "direct" || post.audience === "followers"
      ? deps.stores.posts.recipientsOf(post.id).then((ids) => deps.stores.actors.getByIds(ids))
      : Promise.resolve([]),
    lookups.parent(post).then((parent) => parent?.author ?? null),
    // Blocks narrow only audiences named one by one, and direct posts.
    post.audience === "public" ||
    post.audience === "unlisted" ||
    (post.audience === "followers" && ownerId === author.id)
      ? Promise.resolve(new Set<string>())
      : lookups.blockedBy(author.id),
  ]);
  const uris = (actors: readonly Actor[]) => actors.map((a) => new URL(actorUri(urls, a)));
  // Whoever the author blocks is left out of anything addressed by name, as the
  // visibility module leaves them out (a block leaves circles and earlier recipients as they are).
  const named = (actors: readonly Actor[]): Addressing => {
    const audience = dedupe(actors).filter((a) => a.id !== author.id && !blocked.has(a.id));
    return {
      kind: "named",
      to: uris(audience),
      cc: [],
      recipients: remote(audience),
      mentioned: audience,
    };
  };
  switch (post.audience) {
    case "clique":
      return null;
    case "public":
    case "unlisted": {
      const followers = await remoteFollowers();
      const followersUri = new URL(`${urls.actor(author.username)}/followers`);
      const extra = parentAuthor ? [parentAuthor] : [];
      const everyone = post.audience === "public" ? [PUBLIC_COLLECTION] : [followersUri];
      const cc = post.audience === "public" ? [followersUri] : [PUBLIC_COLLECTION];
      return {
        kind: "broadcast",
        to: everyone,
        cc: [...cc, ...uris(dedupe([...mentioned, ...extra]))],
        recipients: dedupe([...followers, ...remote(mentioned), ...remote(extra)]),
        mentioned,
      };
    }
    case "followers": {
      if (ownerId === author.id) {
        // Mastodon reads a followers-only post from the followers collection in `to`.
        const followers = await remoteFollowers();
        return {
          kind: "broadcast",
          to: [new URL(`${urls.actor(author.username)}/followers`)],
          cc: uris(dedupe([...mentioned, ...addressed])),
          recipients: dedupe([...followers, ...remote(mentioned), ...remote(addressed)]),
          mentioned,
        };
      }
      // A reply in someone else's followers: no server would read another
      // actor's followers collection, so they are named one by one.
      const followers = await deps.stores.follows.listFollowers(ownerId, "accepted");
      const owners = await deps.stores.actors.getByIds([
        ownerId,
        ...followers.map((f) => f.followerId),
      ]);
      return named([...owners, ...addressed]);
    }
    case "friends": {
      // Friends follow the audience owner and are followed back.
      const [followers, following] = await Promise.all([
        deps.stores.follows.listFollowers(ownerId, "accepted"),
        deps.stores.follows.listFollowing(ownerId, "accepted"),
      ]);
      const followed = new Set(following.map((f) => f.followeeId));
      const friends = await deps.stores.actors.getByIds([
        ...(ownerId === author.id ? [] : [ownerId]),
        ...followers.map((f) => f.followerId).filter((id) => followed.has(id)),
      ]);
      return named(friends);
    }
    case "circle": {
      const circle = post.circleId ? await deps.stores.circles.getById(post.circleId) : null;
      const members = circle ? await deps.stores.actors.getByIds(circle.memberIds) : [];
      return named(members);
    }
    case "direct": {
      // Everyone a direct post names sees the others' names in it anyway.
      const audience = dedupe(addressed).filter((a) => !blocked.has(a.id));
      return {
        kind: "broadcast",
        to: uris(audience),
        cc: [],
        recipients: remote(audience),
        mentioned: dedupe([...mentioned, ...audience]),
      };
    }
    default: {
      const unreachable: never = post.audience;
      throw new Error(`unknown audience ${unreachable}`);
    }
  }
}

/** Only the part of a named addressing that concerns `keep`; broadcast addressing is unchanged. */
export function narrowTo(addressing: Addressing, keep: (actor: Actor) => boolean): Addressing {
  if (addressing.kind === "broadcast") return addressing;
  // In named addressing, `to` names `mentioned` one by one, in the same order.
  const kept = addressing.mentioned.map(keep);
  const mentioned = addressing.mentioned.filter((_, i) => kept[i]);
  return {
    kind: "named",
    to: addressing.to.filter((_, i) => kept[i]),
    cc: [],
    recipients: remote(mentioned),
    mentioned,
  };
}

/**
 * Addressing split for delivery: one part per remote server, each naming only
 * that server's recipients (broadcast addressing is one part for everyone).
 */
export function byServer(addressing: Addressing): Addressing[] {
  if (addressing.kind === "broadcast") return [addressing];
  const hosts = new Set(addressing.recipients.map(serverOf));
  return [...hosts].map((host) =>
    narrowTo(addressing, (a) => a.kind === "remote" && serverOf(a) === host),
  );
}

/**
 * Addressing split for delivery when each server must get URLs of its own (a
 * post that is not public and carries media: its attachment URLs name the
 * server they were sent to, see `noteBuilder`). One part per host of the
 * recipients, broadcast addressing included (its `to`/`cc` stay the same);
 * named addressing names only that host's recipients, as `byServer` does.
 */
export function byHost(addressing: Addressing): { host: string; part: Addressing }[] {
  const hosts = new Set(addressing.recipients.map(hostOf).filter((h) => h !== ""));
  return [...hosts].map((host) => {
    const here = (a: Actor) => a.kind === "remote" && hostOf(a) === host;
    return {
      host,
      part:
        addressing.kind === "broadcast"
          ? { ...addressing, recipients: addressing.recipients.filter(here) }
          : narrowTo(addressing, here),
    };
  });
}

/** The host an actor lives on, as the visibility module names servers (lower case). */
function hostOf(actor: Actor): string {
  if (actor.host) return actor.host.toLowerCase();
  return actor.uri && URL.canParse(actor.uri) ? new URL(actor.uri).host.toLowerCase() : "";
}

/** What a viewer fetching a post may learn of its addressing: named audiences show only the viewer's own. */
export function narrowFor(addressing: Addressing, viewer: Viewer, authorId: string): Addressing {
  switch (viewer.kind) {
    case "anonymous":
    // A hypothetical viewer is named on no post.
    case "hypothetical":
      return narrowTo(addressing, () => false);
    case "server":
      return narrowTo(addressing, (a) => a.host?.toLowerCase() === viewer.host.toLowerCase());
    case "member":
    case "remote":
      return viewer.actorId === authorId
        ? addressing
        : narrowTo(addressing, (a) => a.id === viewer.actorId);
    default: {
      const unreachable: never = viewer;
      throw new Error(`unknown viewer ${JSON.stringify(unreachable)}`);
    }
  }
}

/** Which server an actor lives on, as deliveries see it (a shared inbox serves its whole server). */
function serverOf(actor: Actor): string {
  const inbox = actor.sharedInboxUrl ?? actor.inboxUrl;
  return inbox ? new URL(inbox).origin : (actor.host ?? "");
}

function remote(actors: readonly Actor[]): Actor[] {
  return actors.filter((a) => a.kind === "remote" && a.uri !== null);
}

function dedupe(actors: readonly Actor[]): Actor[] {
  const seen = new Map<string, Actor>();
  for (const a of actors) seen.set(a.id, a);
  return [...seen.values()];
}

/** Fedify's types name the global `Temporal`; at run time it uses the polyfill's. */
export type APInstant = NonNullable<
  NonNullable<ConstructorParameters<typeof Note>[0]>["published"]
>;

/** A `Date` as the instant type Fedify expects. */
export function instant(date: Date): APInstant {
  return Temporal.Instant.fromEpochMilliseconds(date.getTime()) as unknown as APInstant;
}

/** Builds the `Note`s of one local post. */
export interface NoteBuilder {
  /**
   * The post as a `Note` addressed as given, for `viewer`: its attachment URLs
   * are plain for a post open to everyone, and otherwise carry a grant naming
   * the viewer (a server it is sent to, or whoever signed a fetch).
   */
  build(addressing: Addressing, viewer: Viewer): Promise<Note>;
  /**
   * Whether the attachment URLs differ per viewer (a post that is not open to
   * everyone and carries media): it must be sent to each server on its own.
   */
  urlsPerViewer: boolean;
  /** Whether none of its media is still being processed (the `Note` will not change by itself). */
  settled: boolean;
}

/**
 * A local post as ActivityPub `Note`s: what every copy shares is looked up
 * once, then each addressing (one per server for named audiences) gets its own
 * `to`, `cc` and `Mention` tags, and each viewer its own attachment URLs.
 */
export async function noteBuilder(
  deps: Deps,
  post: Post,
  author: Member,
  lookups: PostLookups = postLookups(deps, [post]),
): Promise<NoteBuilder> {
  const urls = urlsFor(deps.config.origin);
  const host = new URL(deps.config.origin).host;
  const [hashtags, parentOf, allMedia] = await Promise.all([
    lookups.hashtags(post),
    lookups.parent(post),
    lookups.media(post),
  ]);
  const parent = parentOf?.post ?? null;
  const parentAuthor = parentOf?.author ?? null;
  const parentUri =
    parent && parentAuthor
      ? parentAuthor.kind === "local"
        ? urls.post(parentAuthor.username, parent.id)
        : parent.uri
      : post.inReplyToUri;
  const interactionPolicy = interactionPolicyOf(deps, post, author);
  const hashtagTags = hashtags.map(
    (t) => new Hashtag({ href: new URL(urls.tag(t)), name: `#${t}` }),
  );
  const local = allMedia.filter((m) => m.remoteUrl === null);
  const media = local.filter((m) => m.state === "ready" && m.display !== null);
  const build = async (addressing: Addressing, viewer: Viewer): Promise<Note> => {
    const attachments = await Promise.all(media.map((m) => attachmentOf(deps, m, post, viewer)));
    // Mastodon's `blurhash` and `focalPoint` need a context that defines them.
    const NoteClass = attachments.length > 0 ? MediaNote : Note;
    return new NoteClass({
      id: new URL(urls.post(author.username, post.id)),
      attribution: new URL(urls.actor(author.username)),
      tos: addressing.to,
      ccs: addressing.cc,
      contents: post.language
        ? [post.contentHtml, new LanguageString(post.contentHtml, post.language)]
        : [post.contentHtml],
      summary: post.spoilerText === "" ? null : post.spoilerText,
      sensitive: post.sensitive,
      replyTarget: parentUri ? new URL(parentUri) : null,
      published: instant(post.createdAt),
      updated: post.editedAt ? instant(post.editedAt) : null,
      url: new URL(urls.postPage(author.username, post.id)),
      attachments,
      tags: [
        ...addressing.mentioned.map(
          (a) =>
            new Mention({
              href: new URL(actorUri(urls, a)),
              name: `@${a.username}@${a.kind === "local" ? host : a.host}`,
            }),
        ),
        ...hashtagTags,
      ],
      interactionPolicy,
    });
  };
  return {
    build,
    urlsPerViewer: media.length > 0 && !isOpenPost(post),
    settled: local.every((m) => m.state !== "processing"),
  };
}

/**
 * A local attachment as ActivityPub sees it: the display file (a video's poster
 * as its `icon`), with alt text, size, blurhash and focal point. Its URL is
 * `viewer`'s (`mediaPath`): plain for a post open to everyone, else a grant.
 */
async function attachmentOf(deps: Deps, media: Media, post: Post, viewer: Viewer) {
  const display = media.display!;
  const url = async (key: NonNullable<Media["display"]>) =>
    new URL(`${deps.config.origin}${await mediaPath(deps, key, post, viewer)}`);
  const poster =
    media.kind !== "image" && media.small
      ? new Image({
          url: await url(media.small),
          mediaType: media.small.mediaType,
          width: media.small.width,
          height: media.small.height,
        })
      : null;
  return mediaAttachment(
    media.kind,
    {
      url: await url(display),
      mediaType: display.mediaType,
      name: media.description === "" ? null : media.description,
      width: display.width ?? media.width,
      height: display.height ?? media.height,
      icon: poster,
    },
    { blurhash: media.blurhash, focalPoint: [media.focus.x, media.focus.y] },
  );
}

/** A local post as an ActivityPub `Note`, addressed as given, for `viewer`. */
export async function postToNote(
  deps: Deps,
  post: Post,
  author: Member,
  addressing: Addressing,
  viewer: Viewer,
  lookups?: PostLookups,
): Promise<Note> {
  return (await noteBuilder(deps, post, author, lookups)).build(addressing, viewer);
}

/**
 * A post's interaction policy in GoToSocial's vocabulary: who is approved
 * automatically to reply, like and boost. Everyone and followers have
 * collection URIs. The Clique, circles and friends are not published one by
 * one (that would reveal who is in them to everyone who sees the post): the
 * policy names only the author, and this server enforces the rest itself.
 * Only posts open to everyone can be boosted (`effectivePermission`).
 */
function interactionPolicyOf(deps: Deps, post: Post, author: Member): InteractionPolicy {
  const urls = urlsFor(deps.config.origin);
  const self = new URL(urls.actor(author.username));
  const approvals = (ref: AudienceRef): URL[] => {
    switch (ref.audience) {
      case "public":
        return [PUBLIC_COLLECTION];
      case "followers":
        return [self, new URL(`${urls.actor(author.username)}/followers`)];
      case "friends":
      case "clique":
      case "circle":
      case "nobody":
        return [self];
      default: {
        const unreachable: never = ref.audience;
        return unreachable;
      }
    }
  };
  const rule = (kind: keyof Post["interactionPolicy"]) =>
    new InteractionRule({ automaticApprovals: approvals(effectivePermission(post, kind)) });
  return new InteractionPolicy({
    canReply: rule("reply"),
    canLike: rule("like"),
    canAnnounce: rule("boost"),
  });
}

/**
 * Mastodon's extension flags. Mastodon reads them as plain JSON, whatever the
 * sender's `@context` says; Fedify reads through JSON-LD, which drops a term
 * the sender's context does not define.
 */
export type MastodonFlag =
  | "manuallyApprovesFollowers"
  | "sensitive"
  | "discoverable"
  | "indexable"
  | "suspended";

/**
 * A Mastodon flag of a remote object, read as Mastodon reads it: the typed
 * property when JSON-LD kept it, else the raw JSON the object was parsed
 * from (for an object embedded in an activity, its copy in `container`, the
 * activity's raw JSON). `null` when neither says.
 */
export function mastodonFlag(
  object: APObject,
  flag: MastodonFlag,
  container?: APObject | null,
): boolean | null {
  const typed = (object as unknown as Partial<Record<MastodonFlag, boolean | null>>)[flag];
  if (typeof typed === "boolean") return typed;
  const raw = rawJsonOf(object, container ?? null)?.[flag];
  return typeof raw === "boolean" ? raw : null;
}

/**
 * The JSON an object was parsed from, as the sender wrote it. Fedify keeps it
 * (`_cachedJsonLd`) for a document it parsed whole; an embedded object only
 * keeps its expanded form, so it is looked up in the activity that carried it.
 */
function rawJsonOf(object: APObject, container: APObject | null): Record<string, unknown> | null {
  const own = cachedJsonOf(object);
  // Expanded JSON-LD names properties by IRI and has lost the terms we want.
  if (own && ("@context" in own || !("@id" in own))) return own;
  const outer = container ? cachedJsonOf(container) : null;
  if (!outer || !object.id) return null;
  for (const embedded of [outer.object].flat()) {
    if (isRecord(embedded) && embedded.id === object.id.href) return embedded;
  }
  return null;
}

function cachedJsonOf(object: APObject): Record<string, unknown> | null {
  const json: unknown = (object as unknown as { _cachedJsonLd?: unknown })._cachedJsonLd;
  return isRecord(json) ? json : null;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Remote text as we store it: cut to `max` code units, without NULs or lone surrogates. */
function remoteText(text: string | null | undefined, max: number): string {
  return stripUnsafeText((text ?? "").slice(0, max));
}

/** Remote HTML as we store it: sanitized to Mastodon's allowed set, without NULs or lone surrogates. */
function remoteHtml(html: string): string {
  return stripUnsafeText(sanitizePostHtml(stripUnsafeText(html)));
}

/**
 * A remote actor document as what we store of it. Remote HTML is sanitized
 * here; `container` is the activity that carried the document, if any (for
 * flags written only in the sender's own context).
 */
export function remoteActorInput(
  actor: APActor,
  container?: APObject | null,
): RemoteActorInput | null {
  if (!actor.id) return null;
  const url = actor.url instanceof URL ? actor.url.href : (actor.url?.href?.href ?? null);
  const username =
    remoteText(actor.preferredUsername?.toString(), 100) ||
    actor.id.pathname.split("/").filter(Boolean).pop() ||
    "unknown";
  return {
    uri: actor.id.href,
    type: getActorTypeName(actor),
    username: remoteText(username, 100),
    host: actor.id.host,
    displayName: remoteText(htmlToPlainText(stripUnsafeText(actor.name?.toString() ?? "")), 200),
    summaryHtml: remoteHtml(actor.summary?.toString() ?? ""),
    url,
    inboxUrl: actor.inboxId?.href ?? null,
    sharedInboxUrl: actor.endpoints?.sharedInbox?.href ?? null,
    followersUrl: actor.followersId?.href ?? null,
    followingUrl: actor.followingId?.href ?? null,
    outboxUrl: actor.outboxId?.href ?? null,
    featuredUrl: actor.featuredId?.href ?? null,
    manuallyApprovesFollowers: mastodonFlag(actor, "manuallyApprovesFollowers", container) ?? false,
    // The document as it stands is the truth: a suspension not mentioned is over.
    suspended: mastodonFlag(actor, "suspended", container) ?? false,
    raw: null,
  };
}

/** What a remote post says about its audience, in our terms. */
export interface RemoteAudience {
  audience: Exclude<Audience, "clique" | "circle">;
  /** Local actors it is addressed to. */
  localRecipientUsernames: string[];
}

/** Reads the addressing of a remote object (the inverse of `addressingFor`). */
export function remoteAudience(
  origin: string,
  object: APObject,
  authorFollowersUrl: string | null,
): RemoteAudience {
  const to = object.toIds.map((u) => u.href);
  const cc = object.ccIds.map((u) => u.href);
  const all = [...to, ...cc];
  const localRecipientUsernames = [
    ...new Set(all.map((u) => localUsernameOf(origin, u)).filter((u): u is string => u !== null)),
  ];
  const isPublic = (u: string) =>
    u === PUBLIC_COLLECTION.href || u === "as:Public" || u === "Public";
  let audience: RemoteAudience["audience"] = "direct";
  if (to.some(isPublic)) audience = "public";
  else if (cc.some(isPublic)) audience = "unlisted";
  else if (authorFollowersUrl && all.includes(authorFollowersUrl)) audience = "followers";
  return { audience, localRecipientUsernames };
}

/** The HTML to store for a remote object: sanitized, with titles and poll options kept as text. */
export function remoteContentHtml(object: APObject): string {
  const content = object.content?.toString() ?? "";
  let html = content;
  if (object instanceof Article && object.name)
    html = `<p><strong>${escapeHtml(object.name.toString())}</strong></p>${content}`;
  return remoteHtml(html);
}

/** Poll options are shown as a list until Clique supports polls. */
export async function questionOptionsHtml(object: APObject): Promise<string> {
  if (!(object instanceof Question)) return "";
  const names: string[] = [];
  for await (const option of object.getExclusiveOptions())
    names.push(option.name?.toString() ?? "");
  for await (const option of object.getInclusiveOptions())
    names.push(option.name?.toString() ?? "");
  if (names.length === 0) return "";
  return remoteHtml(`<ul>${names.map((n) => `<li>${escapeHtml(n)}</li>`).join("")}</ul>`);
}

/** What we store of a remote post's text. */
export interface RemotePostText {
  contentHtml: string;
  /** The content warning (`summary`), as plain text. */
  spoilerText: string;
  /** `null` when the post does not say. */
  sensitive: boolean | null;
}

/**
 * A remote post's content, content warning and sensitive flag, as stored:
 * sanitized, without NULs or lone surrogates. `activity` is the activity that
 * carried the post (a `sensitive` written only in the sender's context is read
 * from its raw JSON).
 */
export async function remotePostText(
  object: APObject,
  activity: APObject | null,
): Promise<RemotePostText> {
  return {
    contentHtml: remoteContentHtml(object) + (await questionOptionsHtml(object)),
    spoilerText: remoteText(object.summary?.toString(), 1000),
    sensitive: mastodonFlag(object, "sensitive", activity),
  };
}

/**
 * A remote post's photos and videos, as stored (`attachments.ts`); `activity`
 * is the activity that carried the post (Mastodon's `blurhash` and
 * `focalPoint` are read from the JSON as the sender wrote it, as Mastodon does).
 */
export function remotePostAttachments(
  object: APObject,
  activity: APObject | null,
): Promise<RemoteAttachment[]> {
  return remoteAttachments(object, rawJsonOf(object, activity));
}

/** A remote hashtag's name as stored (lower case, no `#`), or `null` if unusable. */
export function remoteHashtagName(tag: Hashtag): string | null {
  const name = stripUnsafeText(tag.name?.toString() ?? "")
    .replace(/^#/, "")
    .toLowerCase();
  return name && name.length <= 100 ? name : null;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

/** Whether an object is a kind of post we take in. */
export function isPostObject(object: unknown): object is Note | Article | Question {
  return object instanceof Note || object instanceof Article || object instanceof Question;
}
