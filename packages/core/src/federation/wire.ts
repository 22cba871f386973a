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
import type { Actor, Audience, AudienceRef, Member, Post } from "../domain/types.ts";
import type { RemoteActorInput } from "../stores/stores.ts";
import { htmlToPlainText, sanitizePostHtml } from "../text/render.ts";
import { stripUnsafeText } from "../text/sanitize.ts";
import { type Urls, urlsFor } from "../urls.ts";

/** `to`/`cc` of a local post and the remote actors it is delivered to. */
export interface Addressing {
  to: URL[];
  cc: URL[];
  /** Remote actors to deliver to (their servers, de-duplicated by shared inbox). */
  recipients: Actor[];
  /** Whether mentions become `Mention` tags (they do except for circle posts). */
  mentionTags: boolean;
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

/**
 * The audience-to-addressing table: who a local post is addressed to and
 * which remote actors receive it. `null`: the post never leaves the server.
 */
export async function addressingFor(
  deps: Deps,
  post: Post,
  author: Member,
): Promise<Addressing | null> {
  const urls = urlsFor(deps.config.origin);
  const followersUri = new URL(`${urls.actor(author.username)}/followers`);
  const mentioned = await deps.stores.actors.getByIds(
    (await deps.stores.posts.mentionsOf([post.id])).get(post.id) ?? [],
  );
  const remote = (actors: readonly Actor[]) => actors.filter((a) => a.kind === "remote" && a.uri);
  const uris = (actors: readonly Actor[]) => actors.map((a) => new URL(actorUri(urls, a)));
  const parentAuthor = await replyTargetAuthor(deps, post);
  // A block leaves circles and earlier recipients as they are: whoever the
  // author blocks is left out here, as the visibility module leaves them out.
  const unblocked = async (actors: readonly Actor[]) => {
    const blocked = new Set(await deps.stores.blocks.list(author.id));
    return actors.filter((a) => !blocked.has(a.id));
  };
  switch (post.audience) {
    case "clique":
      // Clique-only posts never leave the server.
      return null;
    case "public":
    case "unlisted": {
      const followers = await deps.stores.follows.remoteFollowers(author.id);
      const extra = parentAuthor ? [parentAuthor] : [];
      const everyone = post.audience === "public" ? [PUBLIC_COLLECTION] : [followersUri];
      const cc = post.audience === "public" ? [followersUri] : [PUBLIC_COLLECTION];
      return {
        to: everyone,
        cc: [...cc, ...uris([...mentioned, ...extra])],
        recipients: dedupe([...followers, ...remote(mentioned), ...remote(extra)]),
        mentionTags: true,
      };
    }
    case "followers": {
      // Mastodon reads a followers-only post from the followers collection in `to`.
      const followers = await deps.stores.follows.remoteFollowers(author.id);
      return {
        to: [followersUri],
        cc: uris(mentioned),
        recipients: dedupe([...followers, ...remote(mentioned)]),
        mentionTags: true,
      };
    }
    case "friends": {
      // Friends are named one by one, like a circle: accounts that follow the author and are followed back.
      const [followers, following] = await Promise.all([
        deps.stores.follows.listFollowers(author.id, "accepted"),
        deps.stores.follows.listFollowing(author.id, "accepted"),
      ]);
      const followed = new Set(following.map((f) => f.followeeId));
      const friends = await deps.stores.actors.getByIds(
        followers.map((f) => f.followerId).filter((id) => followed.has(id)),
      );
      return { to: uris(friends), cc: [], recipients: dedupe(remote(friends)), mentionTags: false };
    }
    case "circle": {
      // Named actors in `to`, no Mention tags: Mastodon shows it as a limited post.
      const circle = post.circleId ? await deps.stores.circles.getById(post.circleId) : null;
      const members = circle ? await deps.stores.actors.getByIds(circle.memberIds) : [];
      const audience = (await unblocked(members)).filter((a) => a.id !== author.id);
      return {
        to: uris(audience),
        cc: [],
        recipients: dedupe(remote(audience)),
        mentionTags: false,
      };
    }
    case "direct": {
      const recipients = await unblocked(
        await deps.stores.actors.getByIds(await deps.stores.posts.recipientsOf(post.id)),
      );
      return {
        to: uris(recipients),
        cc: [],
        recipients: dedupe(remote(recipients)),
        mentionTags: true,
      };
    }
    default: {
      const unreachable: never = post.audience;
      throw new Error(`unknown audience ${unreachable}`);
    }
  }
}

async function replyTargetAuthor(deps: Deps, post: Post): Promise<Actor | null> {
  if (!post.inReplyToId) return null;
  const parent = await deps.stores.posts.getById(post.inReplyToId);
  return parent ? deps.stores.actors.getById(parent.authorId) : null;
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

/** A local post as an ActivityPub `Note`. */
export async function postToNote(
  deps: Deps,
  post: Post,
  author: Member,
  addressing: Addressing,
): Promise<Note> {
  const urls = urlsFor(deps.config.origin);
  const host = new URL(deps.config.origin).host;
  const mentionIds = (await deps.stores.posts.mentionsOf([post.id])).get(post.id) ?? [];
  const mentioned = await deps.stores.actors.getByIds(mentionIds);
  const hashtags = (await deps.stores.posts.hashtagsOf([post.id])).get(post.id) ?? [];
  const parent = post.inReplyToId ? await deps.stores.posts.getById(post.inReplyToId) : null;
  const parentAuthor = parent ? await deps.stores.actors.getById(parent.authorId) : null;
  const parentUri =
    parent && parentAuthor
      ? parentAuthor.kind === "local"
        ? urls.post(parentAuthor.username, parent.id)
        : parent.uri
      : post.inReplyToUri;
  const tags = [
    ...(addressing.mentionTags
      ? mentioned.map(
          (a) =>
            new Mention({
              href: new URL(actorUri(urls, a)),
              name: `@${a.username}@${a.kind === "local" ? host : a.host}`,
            }),
        )
      : []),
    ...hashtags.map((t) => new Hashtag({ href: new URL(urls.tag(t)), name: `#${t}` })),
  ];
  return new Note({
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
    tags,
    interactionPolicy: await interactionPolicyOf(deps, post, author),
  });
}

/**
 * A post's interaction policy in GoToSocial's vocabulary: who is approved
 * automatically to reply, like and boost. Everyone and followers have
 * collection URIs. The Clique, circles and friends are not published one by
 * one (that would reveal who is in them to everyone who sees the post): the
 * policy names only the author, and this server enforces the rest itself.
 */
async function interactionPolicyOf(
  deps: Deps,
  post: Post,
  author: Member,
): Promise<InteractionPolicy> {
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
  const rule = (ref: AudienceRef) => new InteractionRule({ automaticApprovals: approvals(ref) });
  return new InteractionPolicy({
    canReply: rule(post.interactionPolicy.reply),
    canLike: rule(post.interactionPolicy.like),
    canAnnounce: rule(post.interactionPolicy.boost),
  });
}

/**
 * Mastodon's extension flags. Mastodon reads them as plain JSON, whatever the
 * sender's `@context` says; Fedify reads through JSON-LD, which drops a term
 * the sender's context does not define.
 */
export type MastodonFlag = "manuallyApprovesFollowers" | "sensitive" | "discoverable" | "indexable";

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
