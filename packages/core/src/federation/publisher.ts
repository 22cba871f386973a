/**
 * The one module that sends activities. Use cases record what happened
 * (`FederationEvent`) in the outbox; the relay hands each event here, and this
 * turns it into activities, addressed per the audience table in `wire.ts`, and
 * queues them with Fedify, which signs per recipient server and delivers once
 * per shared inbox (the job engine retries). Activity ids are stable for an
 * event, so an event handed over twice (after a crash) is deduplicated by the
 * receiving servers. Failures throw: the relay tries the event again.
 */
import type { Context } from "@fedify/fedify";
import {
  Accept,
  Announce,
  type Object as APObject,
  Block,
  Create,
  Delete,
  Flag,
  Follow,
  Like,
  PUBLIC_COLLECTION,
  type Recipient,
  Reject,
  Tombstone,
  Undo,
  Update,
} from "@fedify/vocab";
import type { Deps } from "../deps.ts";
import { hostOfUrl } from "../domain/remote-moderation.ts";
import type { Actor, Follow as FollowRecord, Member, Post } from "../domain/types.ts";
import { urlsFor } from "../urls.ts";
import { ANONYMOUS, canView, federates, OPEN_AUDIENCES } from "../visibility/visibility.ts";
import { MediaCreate, MediaNote, MediaUpdate } from "./attachments.ts";
import type { Publisher, RecordedEvent } from "./events.ts";
import { postLookups } from "./post-lookups.ts";
import { INSTANCE_IDENTIFIER } from "./remote-actors.ts";
import {
  type Addressing,
  actorUri,
  addressingFor,
  byHost,
  byServer,
  instant,
  noteBuilder,
} from "./wire.ts";

function recipientOf(actor: Actor): Recipient | null {
  if (!actor.uri || !actor.inboxUrl) return null;
  return {
    id: new URL(actor.uri),
    inboxId: new URL(actor.inboxUrl),
    endpoints: actor.sharedInboxUrl ? { sharedInbox: new URL(actor.sharedInboxUrl) } : null,
  };
}

/** Builds the publisher over a Fedify context factory. */
export function createPublisher(
  deps: Deps,
  context: () => Context<void>,
  person: (member: Member) => Promise<APObject>,
): Publisher {
  const urls = urlsFor(deps.config.origin);

  async function send(
    username: string,
    to: readonly Actor[],
    activity: Parameters<Context<void>["sendActivity"]>[2],
  ) {
    const recipients = (await reachable(to))
      .map(recipientOf)
      .filter((r): r is Recipient => r !== null);
    if (recipients.length === 0) return;
    await context().sendActivity({ identifier: username }, recipients, activity, {
      preferSharedInbox: true,
      // Fedify's fan-out re-reads the activity with its own classes, which drop
      // Mastodon's `blurhash` and `focalPoint` (and so break the signed proof).
      ...(activity instanceof MediaCreate || activity instanceof MediaUpdate
        ? { fanout: "skip" as const }
        : {}),
    });
  }

  /**
   * The recipients remote moderation lets us send to: nothing goes to a
   * blocked server (by the actor's host or its inboxes') or a suspended account.
   */
  async function reachable(to: readonly Actor[]): Promise<Actor[]> {
    const kept: Actor[] = [];
    for (const actor of to) {
      if ((await deps.standing.ofActor(actor)) === "blocked") continue;
      if ((await deps.standing.ofHost(hostOfUrl(actor.inboxUrl))) === "blocked") continue;
      if ((await deps.standing.ofHost(hostOfUrl(actor.sharedInboxUrl))) === "blocked") continue;
      kept.push(actor);
    }
    return kept;
  }

  async function sides(follow: FollowRecord) {
    const [follower, followee] = await deps.stores.actors
      .getByIds([follow.followerId, follow.followeeId])
      .then((list) => [
        list.find((a) => a.id === follow.followerId),
        list.find((a) => a.id === follow.followeeId),
      ]);
    if (!follower || !followee) return null;
    return { follower, followee };
  }

  function followObject(follow: FollowRecord, follower: Actor, followee: Actor): Follow {
    // Referenced by id, with actor and object as ids only: some servers refuse
    // a Follow that embeds whole actor documents.
    return new Follow({
      id: follow.uri ? new URL(follow.uri) : null,
      actor: new URL(actorUri(urls, follower)),
      object: new URL(actorUri(urls, followee)),
    });
  }

  /**
   * Adds the remote actors a post already reached or who took part in it
   * (replied, liked, boosted). A delete goes to all of them; an edit only to
   * those who may still see the post (someone removed from a circle must not
   * get the new text).
   */
  async function withParticipants(
    addressing: Addressing,
    post: Post,
    kind: "post-created" | "post-updated" | "post-deleted",
  ): Promise<Addressing> {
    if (kind === "post-created") return addressing;
    const known = new Set(addressing.recipients.map((a) => a.id));
    const ids = (await deps.stores.posts.remoteParticipantsOf(post.id)).filter(
      (id) => !known.has(id),
    );
    const extra: Actor[] = [];
    for (const actor of await deps.stores.actors.getByIds(ids)) {
      if (actor.kind !== "remote" || !actor.uri) continue;
      if (
        kind === "post-deleted" ||
        (await canView({ kind: "remote", actorId: actor.id }, post, deps.stores.facts))
      )
        extra.push(actor);
    }
    if (extra.length === 0) return addressing;
    if (addressing.kind === "broadcast")
      return { ...addressing, recipients: [...addressing.recipients, ...extra] };
    return {
      ...addressing,
      to: [...addressing.to, ...extra.map((a) => new URL(a.uri!))],
      recipients: [...addressing.recipients, ...extra],
      mentioned: [...addressing.mentioned, ...extra],
    };
  }

  async function handle({ id: eventId, event }: RecordedEvent): Promise<void> {
    switch (event.kind) {
      case "post-created":
      case "post-updated":
      case "post-deleted": {
        const post = event.post;
        const author = await deps.stores.members.getById(post.authorId);
        if (!author) return; // remote posts are not ours to send
        // The addressing and the Note look up the same mentions and parent: once.
        const lookups = postLookups(deps, [post]);
        const audience = await addressingFor(deps, post, author, { lookups });
        if (!audience) return;
        // Edits and deletes also follow the post to wherever it went before.
        const addressing = await withParticipants(audience, post, event.kind);
        if (addressing.recipients.length === 0) return;
        const actor = new URL(urls.actor(author.username));
        const postUri = urls.post(author.username, post.id);
        if (event.kind === "post-deleted") {
          for (const part of byServer(addressing)) {
            const activity = new Delete({
              id: new URL(`${postUri}/delete`),
              actor,
              tos: part.to,
              ccs: part.cc,
              object: new Tombstone({ id: new URL(postUri), deleted: instant(deps.now()) }),
            });
            await send(author.username, part.recipients, activity);
          }
          return;
        }
        const notes = await noteBuilder(deps, post, author, lookups);
        const stamp = (post.editedAt ?? post.createdAt).getTime();
        // A post that is not public and carries media goes to each server on
        // its own: its attachment URLs carry a grant for that server (Mastodon
        // fetches attachments unsigned). Otherwise the URLs are the same for all.
        const parts = notes.urlsPerViewer
          ? byHost(addressing).map(({ host, part }) => ({
              part,
              viewer: { kind: "server", host } as const,
            }))
          : byServer(addressing).map((part) => ({ part, viewer: ANONYMOUS }));
        for (const { part, viewer } of parts) {
          const object = await notes.build(part, viewer);
          const values = {
            id: new URL(
              event.kind === "post-created" ? `${postUri}/activity` : `${postUri}/updates/${stamp}`,
            ),
            actor,
            tos: part.to,
            ccs: part.cc,
            object,
            published: instant(post.editedAt ?? post.createdAt),
          };
          const media = object instanceof MediaNote;
          const activity =
            event.kind === "post-created"
              ? new (media ? MediaCreate : Create)(values)
              : new (media ? MediaUpdate : Update)(values);
          await send(author.username, part.recipients, activity);
        }
        await deps.stores.posts.recordDeliveries(
          post.id,
          addressing.recipients.map((a) => a.id),
        );
        return;
      }
      case "follow-requested":
      case "follow-undone": {
        const s = await sides(event.follow);
        if (s?.follower.kind !== "local" || s.followee.kind !== "remote") return;
        const follow = followObject(event.follow, s.follower, s.followee);
        const activity =
          event.kind === "follow-requested"
            ? follow
            : new Undo({
                id: new URL(`${event.follow.uri}/undo`),
                actor: follow.actorId,
                object: follow,
              });
        await send(s.follower.username, [s.followee], activity);
        return;
      }
      case "follow-accepted":
      case "follow-rejected": {
        const s = await sides(event.follow);
        if (s?.followee.kind !== "local" || s.follower.kind !== "remote") return;
        const Response = event.kind === "follow-accepted" ? Accept : Reject;
        const activity = new Response({
          id: new URL(
            `${urls.actor(s.followee.username)}/${event.kind === "follow-accepted" ? "accepts" : "rejects"}/${event.follow.id}/${eventId}`,
          ),
          actor: new URL(urls.actor(s.followee.username)),
          object: followObject(event.follow, s.follower, s.followee),
        });
        await send(s.followee.username, [s.follower], activity);
        return;
      }
      case "liked":
      case "unliked": {
        const [liker, author] = await Promise.all([
          deps.stores.actors.getById(event.actorId),
          deps.stores.actors.getById(event.post.authorId),
        ]);
        if (liker?.kind !== "local" || !author || author.kind !== "remote" || !event.post.uri)
          return;
        const like = new Like({
          id: new URL(`${urls.actor(liker.username)}/likes/${event.likeId}`),
          actor: new URL(urls.actor(liker.username)),
          object: new URL(event.post.uri),
        });
        const activity =
          event.kind === "liked"
            ? like
            : new Undo({ id: new URL(`${like.id!.href}/undo`), actor: like.actorId, object: like });
        await send(liker.username, [author], activity);
        return;
      }
      // Boosts (issue 11): an `Announce` of the post to the booster's remote
      // followers and the post's remote author, and its `Undo`.
      case "boosted":
      case "unboosted": {
        const [booster, author] = await Promise.all([
          deps.stores.members.getById(event.actorId),
          deps.stores.actors.getById(event.post.authorId),
        ]);
        if (!booster || !author) return;
        // Only posts open to everyone are boosted (effectivePermission); never send any other.
        if (!OPEN_AUDIENCES.includes(event.post.audience) || !federates(event.post)) return;
        const objectUri =
          author.kind === "local" ? urls.post(author.username, event.post.id) : event.post.uri;
        if (!objectUri) return;
        const actor = new URL(urls.actor(booster.username));
        const followers = new URL(`${actor.href}/followers`);
        const authorUri = new URL(actorUri(urls, author));
        const to = event.audience === "public" ? [PUBLIC_COLLECTION] : [followers];
        const cc = event.audience === "public" ? [followers, authorUri] : [authorUri];
        const recipients = await deps.stores.follows.remoteFollowers(booster.id);
        if (author.kind === "remote" && !recipients.some((a) => a.id === author.id))
          recipients.push(author);
        if (recipients.length === 0) return;
        const announce = new Announce({
          id: new URL(`${actor.href}/boosts/${event.boostId}`),
          actor,
          tos: to,
          ccs: cc,
          object: new URL(objectUri),
          published: instant(deps.now()),
        });
        const activity =
          event.kind === "boosted"
            ? announce
            : new Undo({
                id: new URL(`${announce.id!.href}/undo`),
                actor,
                tos: to,
                ccs: cc,
                object: announce,
              });
        await send(booster.username, recipients, activity);
        return;
      }
      case "blocked":
      case "unblocked": {
        const [blocker, blocked] = await Promise.all([
          deps.stores.actors.getById(event.blockerId),
          deps.stores.actors.getById(event.blockedId),
        ]);
        if (blocker?.kind !== "local" || !blocked || blocked.kind !== "remote" || !blocked.uri)
          return;
        const block = new Block({
          id: new URL(`${urls.actor(blocker.username)}/blocks/${blocked.id}`),
          actor: new URL(urls.actor(blocker.username)),
          object: new URL(blocked.uri),
        });
        const activity =
          event.kind === "blocked"
            ? block
            : new Undo({
                id: new URL(`${block.id!.href}/undo/${eventId}`),
                actor: block.actorId,
                object: block,
              });
        await send(blocker.username, [blocked], activity);
        return;
      }
      case "post-recalled": {
        // What can be recalled from a remote server: a Delete of the post, sent
        // only to those who lost access, each server told only of its own.
        const author = await deps.stores.members.getById(event.post.authorId);
        if (!author) return;
        const actors = (await deps.stores.actors.getByIds(event.actorIds)).filter(
          (a) => a.kind === "remote" && a.uri !== null,
        );
        const postUri = urls.post(author.username, event.post.id);
        const removed: Addressing = {
          kind: "named",
          to: actors.map((a) => new URL(a.uri!)),
          cc: [],
          recipients: actors,
          mentioned: actors,
        };
        for (const part of byServer(removed)) {
          const activity = new Delete({
            id: new URL(`${postUri}/recalls/${eventId}`),
            actor: new URL(urls.actor(author.username)),
            tos: part.to,
            object: new Tombstone({ id: new URL(postUri), deleted: instant(deps.now()) }),
          });
          await send(author.username, part.recipients, activity);
        }
        return;
      }
      case "actor-updated": {
        // A profile edit reaches the servers of the member's remote followers.
        const member = await deps.stores.members.getById(event.actorId);
        if (member?.status !== "active") return;
        const followers = await deps.stores.follows.remoteFollowers(member.id);
        if (followers.length === 0) return;
        const activity = new Update({
          id: new URL(`${urls.actor(member.username)}/updates/${eventId}`),
          actor: new URL(urls.actor(member.username)),
          tos: [PUBLIC_COLLECTION],
          ccs: [new URL(`${urls.actor(member.username)}/followers`)],
          object: await person(member),
          published: instant(deps.now()),
        });
        await send(member.username, followers, activity);
        return;
      }
      case "report-forwarded": {
        // A report about a remote account goes to its server as a `Flag` from
        // the instance actor, as Mastodon and GoToSocial send theirs: the
        // account first, then its posts; no reporter anywhere in it.
        const target = await deps.stores.actors.getById(event.targetActorId);
        if (target?.kind !== "remote" || !target.uri) return;
        const instance = urls.actor(INSTANCE_IDENTIFIER);
        const activity = new Flag({
          id: new URL(`${instance}/flags/${eventId}`),
          actor: new URL(instance),
          objects: [new URL(target.uri), ...event.postUris.map((uri) => new URL(uri))],
          content: event.comment || null,
        });
        await send(INSTANCE_IDENTIFIER, [target], activity);
        return;
      }
      case "member-suspended":
      case "member-unsuspended": {
        // The actor becomes unavailable (its document says `suspended`), and
        // later available again: an Update of it, to every server the member
        // had to do with. A status that changed again since sends nothing.
        const member = await deps.stores.members.getById(event.memberId);
        const expected = event.kind === "member-suspended" ? "suspended" : "active";
        if (member?.status !== expected) return;
        const contacts = await deps.stores.actors.remoteContactsOf(member.id);
        if (contacts.length === 0) return;
        const activity = new Update({
          id: new URL(`${urls.actor(member.username)}/updates/${eventId}`),
          actor: new URL(urls.actor(member.username)),
          tos: [PUBLIC_COLLECTION],
          ccs: [new URL(`${urls.actor(member.username)}/followers`)],
          object: await person(member),
          published: instant(deps.now()),
        });
        await send(member.username, contacts, activity);
        return;
      }
      case "member-removed": {
        // The account is gone: a Delete of the actor, signed with the removed
        // member's own keys, to every server they had to do with. Those
        // servers drop everything of theirs.
        const member = await deps.stores.members.getById(event.memberId);
        if (member?.status !== "removed") return;
        const contacts = await deps.stores.actors.remoteContactsOf(member.id);
        if (contacts.length === 0) return;
        const actor = new URL(urls.actor(member.username));
        const activity = new Delete({
          id: new URL(`${actor.href}/deletes/${eventId}`),
          actor,
          tos: [PUBLIC_COLLECTION],
          object: actor,
        });
        await send(member.username, contacts, activity);
        return;
      }
      case "media-uploaded":
      case "media-deleted":
        return;
      default: {
        const unreachable: never = event;
        throw new Error(`unknown event ${JSON.stringify(unreachable)}`);
      }
    }
  }

  return { name: "federation", handle };
}
