/**
 * What happened, as use cases record it. The publisher (the one module that
 * sends activities) turns these into ActivityPub activities.
 */
import type { Actor, Follow, Post } from "../domain/types.ts";

/** Something that other servers may need to hear about. */
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
  | { kind: "unliked"; likeId: string; actorId: string; post: Post };

/** Sends what happened to the servers that need to know. Never throws. */
export interface Publisher {
  publish(event: FederationEvent): Promise<void>;
}

/** Resolves remote accounts (`user@host`, or an actor URL) to stored actors. */
export interface RemoteResolver {
  /** Finds or fetches the actor; `null` when unknown or unreachable. */
  resolveHandle(username: string, host: string): Promise<Actor | null>;
  resolveUri(uri: string): Promise<Actor | null>;
}

/** A publisher that sends nothing (no federation configured). */
export const NO_PUBLISHER: Publisher = { publish: async () => {} };

/** A resolver that knows no remote accounts. */
export const NO_RESOLVER: RemoteResolver = {
  resolveHandle: async () => null,
  resolveUri: async () => null,
};
