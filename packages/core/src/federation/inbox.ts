/**
 * Inbound activities. Every handler is idempotent (a repeated activity
 * changes nothing), checks that the sender is the author of what it touches,
 * and sanitizes remote HTML before storing it.
 */
import type { InboxContext, InboxListenerSetters, KvStore } from "@fedify/fedify";
import {
  Accept,
  type Activity,
  Announce,
  type Object as APObject,
  Block,
  Create,
  Delete,
  Follow,
  Hashtag,
  isActor,
  Like,
  Mention,
  Reject,
  Undo,
  Update,
} from "@fedify/vocab";
import { getLogger } from "@logtape/logtape";
import type { Deps } from "../deps.ts";
import type { Actor, Follow as FollowRecord, Media, Post } from "../domain/types.ts";
import { newId } from "../ids.ts";
import { recordBlock } from "../usecases/block-account.ts";
import { notifyEdit, notifyMentions, recordNotification } from "../usecases/notifications.ts";
import { mayInteract, replyAudience } from "../visibility/visibility.ts";
import { type RemoteAttachment, remoteMediaRows } from "./attachments.ts";
import { handledOnce, idempotencyKey } from "./inbox-idempotency.ts";
import { INSTANCE_IDENTIFIER, persistActor } from "./remote-actors.ts";
import {
  isPostObject,
  localUsernameOf,
  remoteAudience,
  remoteHashtagName,
  remotePostAttachments,
  remotePostText,
} from "./wire.ts";

const log = getLogger(["clique", "federation", "inbox"]);

type Ctx = InboxContext<void>;

/** A vocabulary class such as `Flag`, as Fedify's `on()` takes it. */
// biome-ignore lint/suspicious/noExplicitAny: Fedify's `on()` takes any vocabulary constructor.
type VocabularyClass<A> = new (...args: any[]) => A;

/**
 * An inbox listener another package adds through `createClique` (moderation's
 * `Flag`, say), for an activity type core does not handle itself. It is
 * de-duplicated like core's own listeners.
 */
export interface InboxListener<A extends Activity = Activity> {
  /** The vocabulary class, e.g. `Flag` from `@fedify/vocab`. */
  type: VocabularyClass<A>;
  handle(deps: Deps, ctx: InboxContext<void>, activity: A): Promise<void>;
}

async function loader(ctx: Ctx) {
  return ctx.getDocumentLoader({ identifier: INSTANCE_IDENTIFIER });
}

/**
 * The sender, stored. Fedify has already checked that the signer is the
 * activity's actor. `null` (the activity is ignored) for an actor of a blocked
 * server or a suspended one: the edge refuses their POSTs, and this catches
 * what was queued before the decision. Nothing of them is fetched or stored.
 */
async function senderOf(deps: Deps, ctx: Ctx, activity: Activity): Promise<Actor | null> {
  if (!activity.actorId) return null;
  const uri = activity.actorId.href;
  if ((await deps.standing.ofActor({ uri })) === "blocked") return null;
  const known = await deps.stores.actors.getByUri(uri);
  if (known) {
    if (known.kind === "remote" && (await deps.standing.ofActor(known)) === "blocked") return null;
    return known;
  }
  const actor = await activity.getActor({ documentLoader: await loader(ctx), suppressError: true });
  return actor && isActor(actor) ? persistActor(deps, actor, activity) : null;
}

/** The local post a URI names (`/users/{username}/statuses/{id}`), or a stored remote post. */
async function postByUri(deps: Deps, uri: string): Promise<Post | null> {
  const url = new URL(uri);
  if (url.origin === new URL(deps.config.origin).origin) {
    const m = /^\/users\/[A-Za-z0-9_]{1,30}\/statuses\/([0-9a-f-]{36})$/.exec(url.pathname);
    if (!m) return null;
    const post = await deps.stores.posts.getById(m[1]!);
    return post && post.uri === null ? post : null;
  }
  return deps.stores.posts.getByUri(uri);
}

async function activeMemberByUri(deps: Deps, uri: string | undefined) {
  const username = uri ? localUsernameOf(deps.config.origin, uri) : null;
  const member = username ? await deps.stores.members.getByUsername(username) : null;
  return member && member.status === "active" ? member : null;
}

async function onFollow(deps: Deps, ctx: Ctx, follow: Follow): Promise<void> {
  if (!follow.id || !follow.objectId) return;
  const member = await activeMemberByUri(deps, follow.objectId.href);
  const sender = await senderOf(deps, ctx, follow);
  if (!member || !sender || sender.kind !== "remote") return;
  const existing = await deps.stores.follows.get(sender.id, member.id);
  // Someone on a limited server, or silenced, always asks: the member decides.
  const asks =
    member.manuallyApprovesFollowers || (await deps.standing.ofActor(sender)) === "limited";
  const record = existing ?? {
    id: newId(),
    followerId: sender.id,
    followeeId: member.id,
    state: asks ? ("pending" as const) : ("accepted" as const),
    uri: follow.id.href,
    createdAt: deps.now(),
  };
  const followId = follow.id.href;
  await deps.stores.transaction(async (tx) => {
    if (await tx.blocks.between(sender.id, member.id)) {
      await tx.outbox.record(
        { kind: "follow-rejected", follow: { ...record, uri: followId } },
        deps.now(),
      );
      return;
    }
    let stored: FollowRecord | null = record;
    if (!existing) {
      // The same Follow may arrive at two inboxes at once: the first one stores it.
      if (!(await tx.follows.create(record))) stored = await tx.follows.get(sender.id, member.id);
      // The member is told of a new follower or request (notifications, issue 11).
      else
        await recordNotification(tx, {
          recipientId: member.id,
          type: record.state === "accepted" ? "follow" : "follow_request",
          accountId: sender.id,
          now: deps.now(),
        });
    } else if (existing.uri !== followId && !(await tx.follows.getByUri(followId))) {
      // A follow repeated under a new id: an Accept (now or on approval) names the latest.
      await tx.follows.setUri(existing.id, followId);
    }
    // Answer again when a follow repeats: the first Accept may have been lost.
    if (stored?.state === "accepted")
      await tx.outbox.record(
        { kind: "follow-accepted", follow: { ...stored, uri: followId } },
        deps.now(),
      );
  });
}

async function onUndo(deps: Deps, ctx: Ctx, undo: Undo): Promise<void> {
  const sender = await senderOf(deps, ctx, undo);
  if (!sender) return;
  const object = await undo.getObject({ documentLoader: await loader(ctx), suppressError: true });
  if (object instanceof Follow || (!object && undo.objectId)) {
    const byUri = undo.objectId ? await deps.stores.follows.getByUri(undo.objectId.href) : null;
    const followee =
      object instanceof Follow ? await activeMemberByUri(deps, object.objectId?.href) : null;
    const follow =
      byUri ?? (followee ? await deps.stores.follows.get(sender.id, followee.id) : null);
    if (follow && follow.followerId === sender.id) await deps.stores.follows.delete(follow.id);
    if (follow) return;
  }
  if (undo.objectId) {
    // Undo(Like) / Undo(Announce): only the actor who liked can undo it.
    await deps.stores.interactions.removeByUri(undo.objectId.href, sender.id);
  }
}

/** The actor URI of the member who sent a `Follow` we minted (`/users/{username}/follows/{id}`). */
function mintedFollowActor(origin: string, uri: string | undefined): string | null {
  if (!uri || !URL.canParse(uri)) return null;
  const url = new URL(uri);
  if (url.origin !== new URL(origin).origin) return null;
  const m = /^(\/users\/[A-Za-z0-9_]{1,30})\/follows\/[0-9a-f-]{36}$/.exec(url.pathname);
  return m ? `${url.origin}${m[1]}` : null;
}

/**
 * Our member's follow of the sender that an `Accept`/`Reject` answers: by
 * the `Follow`'s id when it is the one stored, else by who follows whom. A
 * `Follow` sent again goes out under a new id, so the answer may name an
 * older one we minted, or embed it. Only the followee answers a follow.
 */
async function followAnswered(
  deps: Deps,
  ctx: Ctx,
  activity: Accept | Reject,
  sender: Actor,
): Promise<FollowRecord | null> {
  const objectUri = activity.objectId?.href;
  const byUri = objectUri ? await deps.stores.follows.getByUri(objectUri) : null;
  if (byUri?.followeeId === sender.id) return byUri;
  let followerUri = mintedFollowActor(deps.config.origin, objectUri);
  if (!followerUri) {
    // An embedded Follow is read as sent, not fetched back from us (we do not
    // serve follows): it only counts as a follow of the sender, who signed this.
    const object = await activity.getObject({
      documentLoader: await loader(ctx),
      suppressError: true,
      crossOrigin: "trust",
    });
    if (object instanceof Follow && object.objectId?.href === sender.uri)
      followerUri = object.actorId?.href ?? null;
  }
  const follower = followerUri ? await activeMemberByUri(deps, followerUri) : null;
  return follower ? deps.stores.follows.get(follower.id, sender.id) : null;
}

async function onAcceptOrReject(deps: Deps, ctx: Ctx, activity: Accept | Reject): Promise<void> {
  const sender = await senderOf(deps, ctx, activity);
  if (!sender) return;
  const outgoing = await followAnswered(deps, ctx, activity, sender);
  log.debug("{type} of {object} from {sender}: follow {follow}", {
    type: activity instanceof Accept ? "Accept" : "Reject",
    object: activity.objectId?.href,
    sender: sender.uri,
    follow: outgoing?.id ?? null,
  });
  if (activity instanceof Accept) {
    if (outgoing && outgoing.state === "pending") await deps.stores.follows.accept(outgoing.id);
    return;
  }
  if (outgoing) await deps.stores.follows.delete(outgoing.id);
}

async function ingestPost(
  deps: Deps,
  ctx: Ctx,
  object: APObject,
  sender: Actor,
  activity: Activity,
  /** Boosts (issue 11): a public post boosted by an account a member follows is kept too. */
  options: { boosted?: boolean } = {},
): Promise<void> {
  if (!object.id || object.attributionId?.href !== sender.uri) return;
  if (await deps.stores.posts.getByUri(object.id.href)) return; // already have it
  const addressing = remoteAudience(
    deps.config.origin,
    object,
    sender.kind === "remote" ? sender.followersUrl : null,
  );
  const recipients = (
    await Promise.all(
      addressing.localRecipientUsernames.map((u) => deps.stores.members.getByUsername(u)),
    )
  ).filter((m): m is NonNullable<typeof m> => m !== null && m.status === "active");
  // Members who block the sender are not reached by it.
  for (const m of [...recipients]) {
    if (await deps.stores.blocks.between(sender.id, m.id))
      recipients.splice(recipients.indexOf(m), 1);
  }
  const parentUri = object.replyTargetId?.href ?? null;
  const parent = parentUri ? await postByUri(deps, parentUri) : null;
  const senderViewer = { kind: "remote" as const, actorId: sender.id };
  const parentIsLocal = parent !== null && parent.uri === null;
  // A reply to a local post must be allowed by its interaction policy, and
  // nobody the author blocks may answer: refused replies are not stored at all.
  if (
    parent !== null &&
    parentIsLocal &&
    !(await mayInteract(senderViewer, parent, "reply", deps.stores.facts))
  )
    return;
  const followed = (await deps.stores.follows.listFollowers(sender.id, "accepted")).some(
    (f) => f.followerId !== sender.id,
  );
  // Keep only what concerns someone here: followed accounts, posts addressed to
  // a member, and replies to local posts the replier may see.
  if (!followed && recipients.length === 0 && !parentIsLocal && !options.boosted) return;

  // The same rule as a member's reply (visibility.ts), except that another
  // server cannot confirm: a reply wider than its parent takes the parent's audience.
  const decided = parent
    ? replyAudience(parent, { audience: addressing.audience }, sender.id, "narrow")
    : null;
  const chosen = decided === "audience_wider_than_parent" ? null : decided;
  const audience: Post["audience"] = chosen?.audience ?? addressing.audience;
  const circleId = chosen?.circleId ?? null;
  const audienceOwnerId = chosen?.audienceOwnerId ?? null;
  const recipientIds = recipients.map((m) => m.id);
  if (parent && chosen?.addressParent)
    recipientIds.push(parent.authorId, ...(await deps.stores.posts.recipientsOf(parent.id)));

  const mentionIds: string[] = [];
  const hashtags: string[] = [];
  for await (const tag of object.getTags({
    documentLoader: await loader(ctx),
    suppressError: true,
  })) {
    if (tag instanceof Mention && tag.href) {
      const actor =
        (await activeMemberByUri(deps, tag.href.href)) ??
        (await deps.stores.actors.getByUri(tag.href.href));
      if (actor) mentionIds.push(actor.id);
    } else if (tag instanceof Hashtag) {
      const name = remoteHashtagName(tag);
      if (name) hashtags.push(name);
    }
  }
  const text = await remotePostText(object, activity);
  const attachments = await remotePostAttachments(object, activity);
  const url = object.url instanceof URL ? object.url.href : (object.url?.href?.href ?? null);
  const postId = newId();
  // The same post may arrive at several inboxes at once: the first one stores it
  // (and its attachments, which the media proxy fetches when someone looks).
  await deps.stores.transaction(async (tx) => {
    const created = await tx.posts.createRemote({
      id: postId,
      authorId: sender.id,
      uri: object.id!.href,
      url,
      audience,
      circleId,
      audienceOwnerId,
      inReplyToId: parent?.id ?? null,
      inReplyToUri: parentUri,
      contentType: "text/plain",
      source: "",
      contentHtml: text.contentHtml,
      spoilerText: text.spoilerText,
      sensitive: text.sensitive ?? false,
      language: null,
      createdAt: object.published ? new Date(object.published.epochMilliseconds) : deps.now(),
      mentionIds,
      recipientIds: [...new Set(recipientIds)],
      hashtags: [...new Set(hashtags)],
    });
    if (!created) return;
    for (const media of remoteMediaRows(attachments, postId, sender.id, deps.now()))
      await tx.media.create(media);
    // Mentioned members are told, each only if they may see it (notifications, issue 11).
    await notifyMentions(tx, { id: postId, authorId: sender.id }, mentionIds, deps.now());
  });
}

/** The stored attachments of a remote post, as comparable with what an `Update` says. */
function sameAttachments(stored: readonly Media[], sent: readonly RemoteAttachment[]): boolean {
  const key = (a: {
    url: string;
    description: string;
    blurhash: string | null;
    focus: { x: number; y: number };
  }) => JSON.stringify([a.url, a.description, a.blurhash, a.focus.x, a.focus.y]);
  return (
    stored.length === sent.length &&
    stored.every(
      (m, i) => m.remoteUrl !== null && key({ ...m, url: m.remoteUrl }) === key(sent[i]!),
    )
  );
}

async function onCreate(deps: Deps, ctx: Ctx, create: Create): Promise<void> {
  const sender = await senderOf(deps, ctx, create);
  if (sender?.kind !== "remote") return;
  const object = await create.getObject({ documentLoader: await loader(ctx), suppressError: true });
  if (isPostObject(object)) await ingestPost(deps, ctx, object, sender, create);
}

async function onUpdate(deps: Deps, ctx: Ctx, update: Update): Promise<void> {
  const sender = await senderOf(deps, ctx, update);
  if (sender?.kind !== "remote") return;
  const object = await update.getObject({ documentLoader: await loader(ctx), suppressError: true });
  if (isActor(object)) {
    // Only an actor may update itself.
    if (object.id?.href === sender.uri) await persistActor(deps, object, update);
    return;
  }
  if (!isPostObject(object) || !object.id) return;
  const post = await deps.stores.posts.getByUri(object.id.href);
  if (!post || post.authorId !== sender.id || post.deletedAt) return;
  const { contentHtml: html, spoilerText, sensitive } = await remotePostText(object, update);
  const attachments = await remotePostAttachments(object, update);
  const stored = (await deps.stores.media.listByPosts([post.id])).get(post.id) ?? [];
  const mediaChanged = !sameAttachments(stored, attachments);
  const textChanged = html !== post.contentHtml || spoilerText !== post.spoilerText;
  if (!textChanged && !mediaChanged) return; // a repeat
  await deps.stores.transaction(async (tx) => {
    if (mediaChanged) {
      // New attachments replace the old; the proxy's copies of those go with them.
      const keys = await tx.media.deleteByPost(post.id);
      if (keys.length > 0) await tx.outbox.record({ kind: "media-deleted", keys }, deps.now());
      for (const media of remoteMediaRows(attachments, post.id, sender.id, deps.now()))
        await tx.media.create(media);
      // An edit of the photos alone changes no text: no new version of it.
      if (!textChanged) {
        if (sensitive !== null && sensitive !== post.sensitive)
          await tx.posts.update(post.id, {
            source: "",
            contentHtml: post.contentHtml,
            spoilerText: post.spoilerText,
            sensitive,
            language: post.language,
            editedAt: object.updated ? new Date(object.updated.epochMilliseconds) : deps.now(),
            mentionIds: (await tx.posts.mentionsOf([post.id])).get(post.id) ?? [],
            recipientIds: await tx.posts.recipientsOf(post.id),
            hashtags: (await tx.posts.hashtagsOf([post.id])).get(post.id) ?? [],
          });
        return;
      }
    }
    await tx.posts.addEdit({
      id: newId(),
      postId: post.id,
      source: "",
      contentHtml: post.contentHtml,
      spoilerText: post.spoilerText,
      sensitive: post.sensitive,
      createdAt: post.editedAt ?? post.createdAt,
    });
    await tx.posts.update(post.id, {
      source: "",
      contentHtml: html,
      spoilerText,
      sensitive: sensitive ?? post.sensitive,
      language: post.language,
      editedAt: object.updated ? new Date(object.updated.epochMilliseconds) : deps.now(),
      mentionIds: (await tx.posts.mentionsOf([post.id])).get(post.id) ?? [],
      recipientIds: await tx.posts.recipientsOf(post.id),
      hashtags: (await tx.posts.hashtagsOf([post.id])).get(post.id) ?? [],
    });
    // Members who liked or boosted it are told (notifications, issue 11).
    await notifyEdit(tx, post, deps.now());
  });
}

async function onDelete(deps: Deps, ctx: Ctx, del: Delete): Promise<void> {
  const sender = await senderOf(deps, ctx, del);
  if (sender?.kind !== "remote" || !del.objectId) return;
  if (del.objectId.href === sender.uri) {
    // The account is gone: forget it and everything of theirs (the proxy's
    // copies of its media too).
    await forgetRemoteActor(deps, sender.id);
    return;
  }
  const post = await deps.stores.posts.getByUri(del.objectId.href);
  if (post && post.authorId === sender.id && !post.deletedAt) {
    await deps.stores.transaction(async (tx) => {
      await tx.posts.markDeleted(post.id, deps.now());
      const keys = await tx.media.deleteByPost(post.id);
      if (keys.length > 0) await tx.outbox.record({ kind: "media-deleted", keys }, deps.now());
    });
  }
}

/** Forgets a deleted remote account and everything of theirs; their media rows first, so their files go too. */
async function forgetRemoteActor(deps: Deps, actorId: string): Promise<void> {
  await deps.stores.transaction(async (tx) => {
    const keys = await tx.media.deleteByOwner(actorId);
    if (keys.length > 0) await tx.outbox.record({ kind: "media-deleted", keys }, deps.now());
  });
  await deps.stores.actors.deleteRemote(actorId);
}

async function onInteraction(
  deps: Deps,
  ctx: Ctx,
  activity: Like | Announce,
  kind: "like" | "boost",
): Promise<void> {
  const sender = await senderOf(deps, ctx, activity);
  if (sender?.kind !== "remote" || !activity.objectId || !activity.id) return;
  const post =
    (await postByUri(deps, activity.objectId.href)) ??
    (activity instanceof Announce ? await fetchBoosted(deps, ctx, activity, sender) : null);
  // Nobody can like or boost what they may not see, nor against the post's
  // interaction policy (which lets nobody boost a post that is not open to everyone).
  if (
    !post ||
    !(await mayInteract(
      { kind: "remote", actorId: sender.id },
      post,
      kind === "like" ? "like" : "boost",
      deps.stores.facts,
    ))
  )
    return;
  const uri = activity.id.href;
  await deps.stores.transaction(async (tx) => {
    const added = await tx.interactions.add({
      id: newId(),
      kind,
      actorId: sender.id,
      postId: post.id,
      uri,
      createdAt: deps.now(),
      // Boosts (issue 11): one addressed to nobody in public is for the booster's followers.
      ...(kind === "boost" && !isOpenlyAddressed(deps, activity)
        ? { audience: "followers" as const }
        : {}),
    });
    // The author is told, once per like or boost (notifications, issue 11).
    if (added)
      await recordNotification(tx, {
        recipientId: post.authorId,
        type: kind === "like" ? "favourite" : "reblog",
        accountId: sender.id,
        postId: post.id,
        now: deps.now(),
      });
  });
}

// --- Boosts of posts from elsewhere (issue 11) ---------------------------------

/** Whether an activity is addressed to the public (in `to` or `cc`). */
function isOpenlyAddressed(deps: Deps, activity: APObject): boolean {
  const { audience } = remoteAudience(deps.config.origin, activity, null);
  return audience === "public" || audience === "unlisted";
}

/**
 * The remote post an `Announce` boosts, when it is not stored here yet:
 * fetched (through the instance actor's document loader, which keeps to the
 * server's address rules) and stored, only when a member follows the booster,
 * the post is public or unlisted, and its author (on the post's own server)
 * is not shut out by remote moderation. `null` otherwise: the boost is ignored.
 */
async function fetchBoosted(
  deps: Deps,
  ctx: Ctx,
  announce: Announce,
  sender: Actor,
): Promise<Post | null> {
  const uri = announce.objectId?.href;
  if (!uri || new URL(uri).origin === new URL(deps.config.origin).origin) return null;
  const followed = (await deps.stores.follows.listFollowers(sender.id, "accepted")).some(
    (f) => f.followerId !== sender.id,
  );
  if (!followed) return null;
  const documentLoader = await loader(ctx);
  const object = await announce.getObject({ documentLoader, suppressError: true });
  if (!isPostObject(object) || !object.id) return null;
  const origin = new URL(object.id.href).origin;
  if (new URL(uri).origin !== origin) return null;
  // Only what is open to everyone travels by boost.
  if (!isOpenlyAddressed(deps, object)) return null;
  const authorUri = object.attributionId?.href;
  if (!authorUri || new URL(authorUri).origin !== origin) return null;
  if ((await deps.standing.ofActor({ uri: authorUri })) === "blocked") return null;
  let author = await deps.stores.actors.getByUri(authorUri);
  if (!author) {
    const fetched = await object.getAttribution({ documentLoader, suppressError: true });
    author = fetched && isActor(fetched) ? await persistActor(deps, fetched) : null;
  }
  if (author?.kind !== "remote" || (await deps.standing.ofActor(author)) === "blocked") return null;
  await ingestPost(deps, ctx, object, author, announce, { boosted: true });
  return deps.stores.posts.getByUri(object.id.href);
}

function onLike(deps: Deps, ctx: Ctx, like: Like): Promise<void> {
  return onInteraction(deps, ctx, like, "like");
}

function onAnnounce(deps: Deps, ctx: Ctx, announce: Announce): Promise<void> {
  return onInteraction(deps, ctx, announce, "boost");
}

async function onBlock(deps: Deps, ctx: Ctx, block: Block): Promise<void> {
  const sender = await senderOf(deps, ctx, block);
  const member = await activeMemberByUri(deps, block.objectId?.href);
  if (sender?.kind !== "remote" || !member) return;
  await recordBlock(deps.stores, sender.id, member.id, block.id?.href ?? null, deps.now());
}

/**
 * Registers every inbox listener. `kv` is the store Fedify was given: each
 * activity is handled once per (id, object) key (`inbox-idempotency.ts`).
 */
export function registerInbox(
  deps: Deps,
  inbox: InboxListenerSetters<void>,
  kv: KvStore,
  extra: readonly InboxListener[] = [],
): void {
  const once = handledOnce(deps, kv);
  const own = [Follow, Undo, Accept, Reject, Create, Update, Delete, Like, Announce, Block];
  for (const listener of extra) {
    if (own.some((type) => type === listener.type))
      throw new Error(`Core already listens for ${listener.type.name} activities`);
    inbox.on(listener.type, once(listener.handle));
  }
  inbox
    .withIdempotency((_ctx, activity) => idempotencyKey(deps.config.origin, activity))
    .on(Follow, once(onFollow))
    .on(Undo, once(onUndo))
    .on(Accept, once(onAcceptOrReject))
    .on(Reject, once(onAcceptOrReject))
    .on(Create, once(onCreate))
    .on(Update, once(onUpdate))
    .on(Delete, once(onDelete))
    .on(Like, once(onLike))
    .on(Announce, once(onAnnounce))
    .on(Block, once(onBlock))
    .onUnverifiedActivity(async (_ctx, activity, reason) => {
      // A deleted account's server answers 410 for its key, so its own Delete
      // cannot be verified. The 410 for the actor's own document is the proof.
      if (
        reason.type !== "keyFetchError" ||
        !("status" in reason.result) ||
        reason.result.status !== 410
      )
        return;
      if (!(activity instanceof Delete) || !activity.actorId) return;
      if (activity.objectId?.href !== activity.actorId.href) return;
      // The Gone must be the account's own document (`{actor}#main-key`): any
      // other deleted account on its server also answers 410, which proves nothing.
      const keyDocument = new URL(reason.keyId.href);
      keyDocument.hash = "";
      if (keyDocument.href !== activity.actorId.href) return;
      const actor = await deps.stores.actors.getByUri(activity.actorId.href);
      if (actor && actor.kind === "remote") await forgetRemoteActor(deps, actor.id);
      return new Response(null, { status: 202 });
    })
    .onError((_ctx, error) => {
      log.error("Inbox handler failed: {error}", { error });
    });
}
