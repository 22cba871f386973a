/**
 * The Fedify federation of a Clique: actors, keys, WebFinger, NodeInfo,
 * objects, collections and the inbox. Built from injected stores; the server
 * mounts `federation.fetch` on the same origin as the API and pages.
 */
import {
  type Context,
  createFederation,
  exportJwk,
  generateCryptoKeyPair,
  type KvStore,
  type MessageQueue,
  type RequestContext,
} from "@fedify/fedify";
import {
  Application,
  Create,
  Endpoints,
  Image,
  Note,
  Person,
  PropertyValue,
  Tombstone,
} from "@fedify/vocab";
import { getLogger } from "@logtape/logtape";
import type { Deps } from "../deps.ts";
import type { Actor, Audience, Member } from "../domain/types.ts";
import { isId } from "../ids.ts";
import type { StoredKeyPair } from "../stores/stores.ts";
import { profileImagesOf, urlsFor } from "../urls.ts";
import { publicProfile } from "../usecases/view-profile.ts";
import {
  ANONYMOUS,
  canSeePart,
  canView,
  federates,
  memberViewer,
  type Viewer,
  type VisibilityFacts,
  visibilityFilter,
} from "../visibility/visibility.ts";
import { MediaCreate, MediaNote } from "./attachments.ts";
import { type InboxListener, registerInbox } from "./inbox.ts";
import { withoutQueueIdempotence } from "./inbox-idempotency.ts";
import { createNoteMemo, KeptNote } from "./kept-notes.ts";
import { createKeyMemo } from "./memo.ts";
import { postLookups } from "./post-lookups.ts";
import { INSTANCE_IDENTIFIER, persistActor } from "./remote-actors.ts";
import { createSignerMemo } from "./signer.ts";
import { addressingFor, instant, narrowFor, noteBuilder, postToNote } from "./wire.ts";

const log = getLogger(["clique", "federation"]);

/** Federation settings the server passes in. */
export interface FederationOptions {
  kv: KvStore;
  /**
   * Where Fedify queues its work: one queue for all, or one each for incoming
   * activities, deliveries (one job per remote inbox) and fan-out.
   */
  queue?: MessageQueue | { inbox?: MessageQueue; outbox?: MessageQueue; fanout?: MessageQueue };
  /** Loopback and private addresses: tests and local trials only. */
  allowPrivateAddress: boolean;
  /** Whether this process only enqueues (CLI) and a server runs the queue. */
  manuallyStartQueue?: boolean;
  /**
   * Fedify's circuit breaker (default on): after five failed deliveries to a
   * host within ten minutes it completes each of that host's jobs and queues a
   * fresh copy for later, for up to a week, then drops it. Pass `false` when the
   * queue's own retries and failed set are the policy (a job engine with dead
   * letters): held copies would never become dead letters, and drops are lost.
   */
  circuitBreaker?: boolean;
  /** Software version announced in NodeInfo and the User-Agent. */
  version: string;
}

/**
 * Where the federation answers. The server's route list is checked against
 * these, so every ActivityPub surface is crawled by the privacy tests.
 */
export const FEDERATION_PATHS = {
  actor: "/users/{identifier}",
  post: "/users/{identifier}/statuses/{id}",
  outbox: "/users/{identifier}/outbox",
  followers: "/users/{identifier}/followers",
  following: "/users/{identifier}/following",
  featured: "/users/{identifier}/featured",
  inbox: "/users/{identifier}/inbox",
  sharedInbox: "/inbox",
} as const;

const PAGE_SIZE = 20;

/** Audiences whose posts' documents may be the same for every viewer (kept-notes.ts). */
const KEPT_AUDIENCES: ReadonlySet<Audience> = new Set(["public", "unlisted", "followers"]);

/** Builds the Fedify federation for a Clique. */
export function buildFederation(
  deps: Deps,
  options: FederationOptions,
  inboxListeners: readonly InboxListener[] = [],
) {
  const urls = urlsFor(deps.config.origin);
  // Inbound de-duplication is Clique's own (inbox-idempotency.ts): Fedify's
  // queue worker would drop an activity whose id was reused for another object.
  const kv = withoutQueueIdempotence(options.kv);
  const federation = createFederation<void>({
    kv,
    ...(options.queue ? { queue: options.queue } : {}),
    manuallyStartQueue: options.manuallyStartQueue ?? false,
    ...(options.circuitBreaker === false ? { circuitBreaker: false as const } : {}),
    origin: deps.config.origin,
    allowPrivateAddress: options.allowPrivateAddress,
    userAgent: { software: `Clique/${options.version}`, url: new URL(deps.config.origin) },
  });

  async function memberNamed(identifier: string): Promise<Member | null> {
    return /^[A-Za-z0-9_]{1,30}$/.test(identifier)
      ? deps.stores.members.getByUsername(identifier)
      : null;
  }

  /**
   * The visibility facts, answering from what this request already read: a
   * post's author, loaded with it (a member is active by its status alone).
   */
  function factsKnowing(author: Member): VisibilityFacts {
    const facts = deps.stores.facts;
    return {
      authorIsActive: (id) =>
        id === author.id ? Promise.resolve(author.status === "active") : facts.authorIsActive(id),
      isActiveMember: (id) => facts.isActiveMember(id),
      isApprovedFollower: (who, followeeId) => facts.isApprovedFollower(who, followeeId),
      circleHolds: (circleId, who) => facts.circleHolds(circleId, who),
      isRecipient: (postId, who) => facts.isRecipient(postId, who),
      isFriend: (who, authorId) => facts.isFriend(who, authorId),
      blocks: (blockerId, actorId) => facts.blocks(blockerId, actorId),
      remoteStanding: (actorId) => facts.remoteStanding(actorId),
      hostStanding: (host) => facts.hostStanding(host),
      visibleAmong: (posts, filter) => facts.visibleAmong(posts, filter),
    };
  }

  // Imported keys, by fingerprint: a member's are read from the store on each
  // use (so a replaced pair is seen by every process), imported once.
  const keyMemo = createKeyMemo();
  // The instance actor's keys are saved once (first writer wins) and never
  // replaced: read and imported once per process. Every signed fetch uses them.
  let instancePairs: Promise<CryptoKeyPair[]> | null = null;
  function instanceKeyPairs(): Promise<CryptoKeyPair[]> {
    if (instancePairs) return instancePairs;
    const pending = instanceKeys().then((pairs) => keyMemo.importPairs(pairs));
    instancePairs = pending;
    pending.catch(() => {
      if (instancePairs === pending) instancePairs = null;
    });
    return pending;
  }

  async function instanceKeys(): Promise<StoredKeyPair[]> {
    let pairs = await deps.stores.keys.getInstance();
    if (pairs.length === 0) {
      const generated: StoredKeyPair[] = [];
      for (const type of ["RSASSA-PKCS1-v1_5", "Ed25519"] as const) {
        const pair = await generateCryptoKeyPair(type);
        generated.push({
          type,
          publicJwk: await exportJwk(pair.publicKey),
          privateJwk: await exportJwk(pair.privateKey),
        });
      }
      await deps.stores.keys.saveInstanceIfAbsent(generated);
      pairs = await deps.stores.keys.getInstance();
    }
    return pairs;
  }

  // Signers' keys and owners, remembered by this process (signer.ts): a signed
  // GET is verified without a fetch once its key is known.
  const signers = createSignerMemo();

  /**
   * Who signed this request. Signatures are checked by Fedify, with the keys
   * this process remembers; a key not seen before and its owner are fetched
   * with the instance actor's signature (strict servers require it). Another
   * server's instance actor (an `Application`/`Service`) stands for everyone
   * on its host.
   */
  async function signedViewer(ctx: RequestContext<void>): Promise<Viewer> {
    const loaders = {
      documentLoader: () => ctx.getDocumentLoader({ identifier: INSTANCE_IDENTIFIER }),
      contextLoader: ctx.contextLoader,
    };
    let signer = await signers.verify(ctx.request, loaders);
    if (!signer) return ANONYMOUS;
    // Nothing of a blocked server is stored; it is its host that the visibility
    // rules shut out (a viewer from there sees nothing, not even what is public).
    const ownerHost = new URL(signer.ownerUri).host.toLowerCase();
    if ((await deps.standing.ofHost(ownerHost)) === "blocked")
      return { kind: "server", host: ownerHost };
    // A key not seen before came with its owner's document, stored as it now stands.
    let actor = signer.owner
      ? await persistActor(deps, signer.owner)
      : await deps.stores.actors.getByUri(signer.ownerUri);
    if (!actor && !signer.owner) {
      // A known key whose owner is no longer stored here (deleted, purged): asked again.
      signer = await signers.refetchOwner(signer, loaders);
      actor = signer?.owner ? await persistActor(deps, signer.owner) : null;
    }
    if (!actor) return ANONYMOUS;
    if (actor.kind === "local") {
      const member = await deps.stores.members.getById(actor.id);
      return member && member.status === "active" ? memberViewer(member) : ANONYMOUS;
    }
    return isInstanceActor(actor)
      ? { kind: "server", host: actor.host! }
      : { kind: "remote", actorId: actor.id };
  }

  /**
   * Only a server's own instance actor stands for its whole host: an
   * Application named after the host (Mastodon, GoToSocial) or `instance.actor`
   * (Misskey, Fedify servers), or Mastodon's `/actor`. Bots and other accounts do not.
   */
  function isInstanceActor(actor: Actor): boolean {
    if (actor.type !== "Application" || actor.host === null || actor.uri === null) return false;
    const name = actor.username.toLowerCase();
    const id = new URL(actor.uri);
    return (
      name === actor.host.toLowerCase() ||
      name === id.hostname.toLowerCase() ||
      name === INSTANCE_IDENTIFIER ||
      id.pathname === "/actor"
    );
  }

  /** A member's actor document: the same for the actor dispatcher and for `Update(Person)`. */
  async function personOf(ctx: Context<void>, member: Member): Promise<Person> {
    const identifier = member.username;
    const keys = await ctx.getActorKeyPairs(identifier);
    if (member.status === "suspended") {
      // Unavailable while suspended, as Mastodon shows it: the account and its
      // keys are there, saying `suspended`; nothing of the profile is.
      return new Person({
        id: ctx.getActorUri(identifier),
        preferredUsername: member.username,
        name: member.username,
        summary: "",
        url: new URL(urls.profile(member.username)),
        inbox: ctx.getInboxUri(identifier),
        outbox: ctx.getOutboxUri(identifier),
        followers: ctx.getFollowersUri(identifier),
        following: ctx.getFollowingUri(identifier),
        featured: ctx.getFeaturedUri(identifier),
        endpoints: new Endpoints({ sharedInbox: ctx.getInboxUri() }),
        published: instant(member.createdAt),
        manuallyApprovesFollowers: member.manuallyApprovesFollowers,
        discoverable: false,
        indexable: false,
        suspended: true,
        publicKey: keys[0]?.cryptographicKey ?? null,
        assertionMethods: keys.map((k) => k.multikey),
      });
    }
    const profile = publicProfile(member);
    const images = profileImagesOf(urls, member);
    return new Person({
      id: ctx.getActorUri(identifier),
      preferredUsername: member.username,
      name: member.displayName,
      summary: profile.bioHtml,
      url: new URL(urls.profile(member.username)),
      inbox: ctx.getInboxUri(identifier),
      outbox: ctx.getOutboxUri(identifier),
      followers: ctx.getFollowersUri(identifier),
      following: ctx.getFollowingUri(identifier),
      featured: ctx.getFeaturedUri(identifier),
      endpoints: new Endpoints({ sharedInbox: ctx.getInboxUri() }),
      published: instant(member.createdAt),
      manuallyApprovesFollowers: member.manuallyApprovesFollowers,
      discoverable: member.discoverable,
      indexable: false,
      // The uploaded avatar, else the generated default; the header when there is one.
      icon: new Image({
        url: new URL(images.avatar.url),
        mediaType: images.avatar.mediaType,
        width: images.avatar.width,
        height: images.avatar.height,
      }),
      image: images.header
        ? new Image({
            url: new URL(images.header.url),
            mediaType: images.header.mediaType,
            width: images.header.width,
            height: images.header.height,
          })
        : null,
      // The actor document is public and cached by other servers: public parts only.
      attachments: profile.fields.map(
        (f) =>
          new PropertyValue({
            name: f.name,
            value: f.value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`),
          }),
      ),
      publicKey: keys[0]?.cryptographicKey ?? null,
      assertionMethods: keys.map((k) => k.multikey),
    });
  }

  // --- Actors ------------------------------------------------------------
  // An actor document is the same whoever asks (public parts only, no
  // signature looked at): the server caches it for everyone. Anything that
  // would depend on the requester must not go in it.

  federation
    .setActorDispatcher(FEDERATION_PATHS.actor, async (ctx, identifier) => {
      if (identifier === INSTANCE_IDENTIFIER) {
        const keys = await ctx.getActorKeyPairs(identifier);
        // Named after the host, as Mastodon's is: `acct:HOSTNAME@HOST` finds it.
        // Its collections exist (Fedify expects them) and stay empty.
        return new Application({
          id: ctx.getActorUri(identifier),
          preferredUsername: new URL(deps.config.origin).hostname,
          name: "Clique",
          inbox: ctx.getInboxUri(identifier),
          outbox: ctx.getOutboxUri(identifier),
          followers: ctx.getFollowersUri(identifier),
          following: ctx.getFollowingUri(identifier),
          featured: ctx.getFeaturedUri(identifier),
          endpoints: new Endpoints({ sharedInbox: ctx.getInboxUri() }),
          manuallyApprovesFollowers: true,
          publicKey: keys[0]?.cryptographicKey ?? null,
          assertionMethods: keys.map((k) => k.multikey),
        });
      }
      const member = await memberNamed(identifier);
      if (!member) return null;
      if (member.status === "removed") {
        return new Tombstone({ id: ctx.getActorUri(identifier), deleted: instant(deps.now()) });
      }
      return personOf(ctx, member);
    })
    .setKeyPairsDispatcher(async (_ctx, identifier) => {
      if (identifier === INSTANCE_IDENTIFIER) return instanceKeyPairs();
      const member = await memberNamed(identifier);
      // A removed member's keys still sign one thing: the Delete of their actor
      // (their document answers 410, so the keys are published nowhere).
      if (!member) return [];
      // RSA first: it is the one Mastodon verifies.
      const pairs = await deps.stores.keys.get(member.id);
      return keyMemo.importPairs([...pairs].sort((a) => (a.type === "RSASSA-PKCS1-v1_5" ? -1 : 1)));
    })
    .mapHandle(async (_ctx, username) => {
      // The instance actor answers to the host's name (as Mastodon's does), with
      // or without the port, and to its identifier; member names have no dots.
      const { host, hostname } = new URL(deps.config.origin);
      if ([hostname, host, INSTANCE_IDENTIFIER].includes(username.toLowerCase()))
        return INSTANCE_IDENTIFIER;
      const member = await memberNamed(username);
      return member && member.status !== "removed" ? member.username : null;
    });

  // --- Discovery --------------------------------------------------------

  federation.setNodeInfoDispatcher("/nodeinfo/2.1", async () => {
    const members = await deps.stores.members.countSeated();
    const settings = await deps.stores.settings.get();
    return {
      software: { name: "clique", version: options.version },
      protocols: ["activitypub"],
      usage: {
        users: { total: members, activeMonth: members, activeHalfyear: members },
        localPosts: 0,
        localComments: 0,
      },
      openRegistrations: false,
      metadata: {
        nodeName: settings?.name ?? "Clique",
        inviteOnly: true,
        memberCap: settings?.memberCap ?? null,
      },
    };
  });

  federation.setWebFingerLinksDispatcher(async () => [
    {
      rel: "http://ostatus.org/schema/1.0/subscribe",
      template: `${deps.config.origin}/authorize_interaction?uri={uri}`,
    },
  ]);

  // --- Objects: a post answers at its id, only to those who may see it ----------

  // Posts' documents that are the same for every viewer, reused while the post row is the same (kept-notes.ts).
  const keptNotes = createNoteMemo();

  federation.setObjectDispatcher(Note, FEDERATION_PATHS.post, async (ctx, values) => {
    if (!isId(values.id)) return null;
    const [post, author] = await Promise.all([
      deps.stores.posts.getById(values.id),
      memberNamed(values.identifier),
    ]);
    if (!post || post.uri !== null) return null;
    if (!author || author.id !== post.authorId) return null;
    if (!federates(post)) return null;
    // Gone for good: deleted by its author or removed by a moderator, or its
    // author left or was removed. Whoever asks gets a Tombstone, which the
    // server answers with 410 Gone (Fedify serves an object with 200).
    if (post.deletedAt !== null || author.status === "removed") {
      const tombstone = new Tombstone({
        id: ctx.getObjectUri(Note, values),
        formerType: Note,
        deleted: instant(post.deletedAt ?? deps.now()),
      });
      return tombstone as unknown as Note;
    }
    // Who may see it is decided on every request, before anything kept is used.
    const viewer = await signedViewer(ctx);
    if (!(await canView(viewer, post, factsKnowing(author)))) return null;
    const id = ctx.getObjectUri(Note, values);
    // Public, unlisted and followers-only posts are addressed to collections:
    // without media whose URLs name their viewer, the document is the same
    // for every viewer allowed to see it (and only such documents are kept).
    const shared = KEPT_AUDIENCES.has(post.audience);
    const version = shared ? JSON.stringify([post, author.username]) : "";
    const kept = shared ? keptNotes.get(post.id, version) : undefined;
    if (kept !== undefined) return new KeptNote(id, kept);
    const lookups = postLookups(deps, [post]);
    // A post addressed by name shows each viewer only their own part of its audience.
    const addressing = await addressingFor(deps, post, author, { lookups, recipients: false });
    if (!addressing) return null;
    const notes = await noteBuilder(deps, post, author, lookups);
    const note = await notes.build(narrowFor(addressing, viewer, author.id), viewer);
    if (!shared || addressing.kind !== "broadcast" || notes.urlsPerViewer || !notes.settled)
      return note;
    const json = await note.toJsonLd({ contextLoader: ctx.contextLoader });
    keptNotes.put(post.id, version, json);
    return new KeptNote(id, json);
  });

  // --- Collections --------------------------------------------------------

  federation
    .setOutboxDispatcher(FEDERATION_PATHS.outbox, async (ctx, identifier, cursor) => {
      const member = await memberNamed(identifier);
      if (member?.status !== "active" || cursor === null) return null;
      // A cursor is a post id: anything else is a page with nothing on it.
      if (cursor !== "" && !isId(cursor)) return { items: [], nextCursor: null };
      // Public posts for everyone; a signed follower also gets followers-only posts.
      const viewer = await signedViewer(ctx);
      const posts = await deps.stores.posts.list(
        { kind: "author", authorId: member.id },
        visibilityFilter(viewer),
        { limit: PAGE_SIZE, ...(cursor ? { maxId: cursor } : {}) },
      );
      const items: Create[] = [];
      // The page's mentions, tags, media and parents are looked up once for all its posts.
      const lookups = postLookups(deps, posts);
      for (const post of posts) {
        const audience = await addressingFor(deps, post, member, { lookups, recipients: false });
        if (!audience) continue;
        const addressing = narrowFor(audience, viewer, member.id);
        const note = await postToNote(deps, post, member, addressing, viewer, lookups);
        items.push(
          new (note instanceof MediaNote ? MediaCreate : Create)({
            id: new URL(`${urls.post(member.username, post.id)}/activity`),
            actor: new URL(urls.actor(member.username)),
            tos: addressing.to,
            ccs: addressing.cc,
            object: note,
            published: instant(post.createdAt),
          }),
        );
      }
      const next = posts.length === PAGE_SIZE ? posts[posts.length - 1]!.id : null;
      return { items, nextCursor: next };
    })
    .setFirstCursor(() => "");

  const followList =
    (side: "followers" | "following") =>
    async (ctx: RequestContext<void>, identifier: string, cursor: string | null) => {
      // The instance actor follows nobody and nobody follows it.
      if (identifier === INSTANCE_IDENTIFIER) return { items: [] };
      const member = await memberNamed(identifier);
      if (member?.status !== "active") return null;
      // One page holds the whole list (a Clique is small); no cursors.
      void cursor;
      // Lists are shown only to the audience the member chose; counts always are.
      if (
        !(await canSeePart(
          await signedViewer(ctx),
          member.id,
          member.followsAudience,
          deps.stores.facts,
        ))
      )
        return { items: [] };
      const follows =
        side === "followers"
          ? await deps.stores.follows.listFollowers(member.id, "accepted")
          : await deps.stores.follows.listFollowing(member.id, "accepted");
      const actors = await deps.stores.actors.getByIds(
        follows.map((f) => (side === "followers" ? f.followerId : f.followeeId)),
      );
      return {
        items: actors.map((a) => new URL(a.kind === "local" ? urls.actor(a.username) : a.uri!)),
      };
    };

  federation
    .setFollowersDispatcher(FEDERATION_PATHS.followers, async (ctx, identifier, cursor) => {
      const page = await followList("followers")(ctx as RequestContext<void>, identifier, cursor);
      if (!page) return null;
      return { items: page.items.map((id) => ({ id, inboxId: null })) };
    })
    .setCounter(async (_ctx, identifier) => {
      if (identifier === INSTANCE_IDENTIFIER) return 0;
      const member = await memberNamed(identifier);
      return member ? deps.stores.follows.countFollowers(member.id) : null;
    });

  federation
    .setFollowingDispatcher(FEDERATION_PATHS.following, followList("following"))
    .setCounter(async (_ctx, identifier) => {
      if (identifier === INSTANCE_IDENTIFIER) return 0;
      const member = await memberNamed(identifier);
      return member ? deps.stores.follows.countFollowing(member.id) : null;
    });

  // Pinned posts (issue 11): each requester sees the pins it may see (signed
  // fetches identify it; anonymous ones get the public ones), as Notes.
  federation.setFeaturedDispatcher(FEDERATION_PATHS.featured, async (ctx, identifier) => {
    if (identifier === INSTANCE_IDENTIFIER) return { items: [] };
    const member = await memberNamed(identifier);
    if (!member) return null;
    if (member.status !== "active") return { items: [] };
    const viewer = await signedViewer(ctx);
    const items: Note[] = [];
    const pinned = (await deps.stores.pins.list(member.id, visibilityFilter(viewer))).filter(
      federates,
    );
    const lookups = postLookups(deps, pinned);
    for (const post of pinned) {
      const audience = await addressingFor(deps, post, member, { lookups, recipients: false });
      if (!audience) continue;
      items.push(
        await postToNote(
          deps,
          post,
          member,
          narrowFor(audience, viewer, member.id),
          viewer,
          lookups,
        ),
      );
    }
    return { items };
  });

  // --- Inbox ---------------------------------------------------------------

  const inbox = federation.setInboxListeners(FEDERATION_PATHS.inbox, FEDERATION_PATHS.sharedInbox);
  registerInbox(deps, inbox, kv, inboxListeners);
  inbox.setSharedKeyDispatcher(() => ({ identifier: INSTANCE_IDENTIFIER }));

  log.debug("Federation built for {origin}", { origin: deps.config.origin });

  /** A context for work outside a request (publishing from use cases and the CLI). */
  const context = (): Context<void> =>
    federation.createContext(new URL(deps.config.origin), undefined);
  /** A member's `Person`, outside a request (for `Update(Person)`). */
  const person = (member: Member) => personOf(context(), member);
  /** Who signed a request to a route outside Fedify's (media files): as for ActivityPub GETs. */
  const viewerOfRequest = (request: Request) =>
    signedViewer(federation.createContext(request, undefined));
  return { federation, context, person, viewerOfRequest };
}

/** The federation object a Clique builds. */
export type CliqueFederation = ReturnType<typeof buildFederation>;
