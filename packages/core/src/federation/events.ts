/**
 * What happened, as use cases record it. Each event is written to the outbox
 * in the same transaction as the change that caused it (`OutboxStore.record`),
 * and the relay (`relay.ts`) hands it to every subscriber once that
 * transaction has committed: the publisher (the one module that sends
 * activities) and whatever other packages subscribe through `createClique`.
 */
import type { Actor, Follow, Post } from "../domain/types.ts";

/** Something that other servers, or other parts of Clique, may need to hear about. */
export type FederationEvent =
  | { kind: "post-created"; post: Post }
  | { kind: "post-updated"; post: Post }
  /** `post` is the post as it was before deletion. */
  | { kind: "post-deleted"; post: Post }
  /** A member asked to follow a remote actor. */
  | { kind: "follow-requested"; follow: Follow }
  /** A member stopped following (or cancelled a request to) a remote actor. */
  | { kind: "follow-undone"; follow: Follow }
  /** A member accepted a remote actor's follow. */
  | { kind: "follow-accepted"; follow: Follow }
  /** A member rejected a follow request, or removed a remote follower. */
  | { kind: "follow-rejected"; follow: Follow }
  | { kind: "blocked"; blockerId: string; blockedId: string }
  | { kind: "unblocked"; blockerId: string; blockedId: string }
  /** Removed from a circle: the circle's posts are withdrawn from these remote actors. */
  | { kind: "post-recalled"; post: Post; actorIds: readonly string[] }
  | { kind: "liked"; likeId: string; actorId: string; post: Post }
  | { kind: "unliked"; likeId: string; actorId: string; post: Post }
  // Boosts (issue 11): an `Announce` and its `Undo`, to the booster's
  // followers and the post's author; `audience` says whether it is public.
  | {
      kind: "boosted";
      boostId: string;
      actorId: string;
      post: Post;
      audience: "public" | "followers";
    }
  | {
      kind: "unboosted";
      boostId: string;
      actorId: string;
      post: Post;
      audience: "public" | "followers";
    }
  /** A member's profile changed (name, bio, fields, approval of followers...). */
  | { kind: "actor-updated"; actorId: string }
  /** A member was suspended: they keep their seat but cannot sign in. */
  | { kind: "member-suspended"; memberId: string }
  /** A member's suspension was lifted (by a moderator, or because it ended). */
  | { kind: "member-unsuspended"; memberId: string }
  /** A member was removed from the Clique, or left it: their seat is free again. */
  | { kind: "member-removed"; memberId: string }
  /** An upload waits to be processed; its bytes are in the blob store under `sourceKey`. */
  | { kind: "media-uploaded"; mediaId: string; sourceKey: string }
  /** Media rows are gone (their post or owner was deleted, or they were never attached): delete these files. */
  | { kind: "media-deleted"; keys: readonly string[] }
  /**
   * A moderator forwarded a report about a remote account to its server: a
   * `Flag` from the instance actor. Anonymised by construction: the event
   * names no reporter, only what was reported, and the comment when the
   * moderator chose to send it.
   */
  | {
      kind: "report-forwarded";
      /** The reported remote account (an actor id). */
      targetActorId: string;
      /** Its reported posts, by their ActivityPub ids. */
      postUris: readonly string[];
      /** The report's comment, or `null` to send none. */
      comment: string | null;
    };

/** The kinds of events, for subscribers that want only some. */
export type FederationEventKind = FederationEvent["kind"];

/** An event as the relay hands it over: with the id of its outbox entry. */
export interface RecordedEvent {
  /** Stable across redeliveries: activity ids built from it deduplicate on the other side. */
  id: string;
  event: FederationEvent;
  recordedAt: Date;
}

/**
 * Reacts to what happened, after the change committed. Called at least once
 * per event (again after a crash or a failure of any subscriber), so a
 * handler must be idempotent; throwing makes the relay try the event again
 * later, with back-off, and finally set it aside as dead (`clique queue status`).
 */
export interface EventSubscriber {
  /** For logs and the dead-letter list. */
  name: string;
  handle(recorded: RecordedEvent): Promise<void>;
}

/** Turns what happened into activities for other servers (see `publisher.ts`). */
export type Publisher = EventSubscriber;

/** Resolves remote accounts (`user@host`, or an actor URL) to stored actors. */
export interface RemoteResolver {
  /** Finds or fetches the actor; `null` when unknown or unreachable. */
  resolveHandle(username: string, host: string): Promise<Actor | null>;
  resolveUri(uri: string): Promise<Actor | null>;
}

/** A publisher that sends nothing (no federation configured). */
export const NO_PUBLISHER: Publisher = { name: "federation (off)", handle: async () => {} };

/** A resolver that knows no remote accounts. */
export const NO_RESOLVER: RemoteResolver = {
  resolveHandle: async () => null,
  resolveUri: async () => null,
};

// Fields of the domain objects inside events that are dates.
const DATE_FIELDS = new Set(["createdAt", "editedAt", "deletedAt", "hiddenAt"]);

/** An event as JSON, for the outbox table. */
export function encodeEvent(event: FederationEvent): string {
  return JSON.stringify(event);
}

/** An event read back from the outbox table (its dates as `Date`s again). */
export function decodeEvent(json: unknown): FederationEvent {
  const text = typeof json === "string" ? json : JSON.stringify(json);
  return JSON.parse(text, (key, value) =>
    DATE_FIELDS.has(key) && typeof value === "string" ? new Date(value) : value,
  ) as FederationEvent;
}
