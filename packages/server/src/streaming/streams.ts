/**
 * The streams a client may subscribe to (Mastodon's streaming API) and the
 * scopes each needs. On Clique, `public` and `public:local` are the same
 * stream: the Clique's own timeline, every post by a member that the
 * subscriber may see (remote posts are not streamed there).
 */
import { Hono } from "hono";
import type { AppEnv } from "../http/env.ts";

/** A subscription: a stream, and for the hashtag streams its tag (lower-cased). */
export interface Subscription {
  stream: "user" | "user:notification" | "public" | "public:local" | "hashtag" | "hashtag:local";
  tag: string | null;
}

const STREAMS = new Set<Subscription["stream"]>([
  "user",
  "user:notification",
  "public",
  "public:local",
  "hashtag",
  "hashtag:local",
]);

/** Parses a stream name (and tag) as clients send them; `null` when unknown or a tag is missing. */
export function parseSubscription(stream: unknown, tag: unknown): Subscription | null {
  if (typeof stream !== "string" || !STREAMS.has(stream as Subscription["stream"])) return null;
  const name = stream as Subscription["stream"];
  if (name === "hashtag" || name === "hashtag:local") {
    if (typeof tag !== "string") return null;
    const clean = tag.replace(/^#/, "").trim().toLowerCase();
    if (clean.length === 0 || clean.length > 100) return null;
    return { stream: name, tag: clean };
  }
  return { stream: name, tag: null };
}

/** The key a subscription is kept under (`hashtag:local:cats`). */
export function subscriptionKey(s: Subscription): string {
  return s.tag === null ? s.stream : `${s.stream}:${s.tag}`;
}

/** The `stream` array of an event, as Mastodon sends it (`["hashtag", "cats"]`). */
export function streamLabel(s: Subscription): string[] {
  return s.tag === null ? [s.stream] : [s.stream, s.tag];
}

/**
 * Whether a token's scopes let it read a stream: notifications need `read` or
 * `read:notifications`; posts need `read` or `read:statuses` (as Mastodon).
 */
export function scopeAllows(scopes: readonly string[], stream: Subscription["stream"]): boolean {
  const needed = stream === "user:notification" ? "read:notifications" : "read:statuses";
  return scopes.includes("read") || scopes.includes(needed);
}

/**
 * The HTTP side of the streaming API on the API's router: the health check.
 * Upgrades never reach Hono: `streaming/hub.ts` takes them from the node
 * server (a plain GET of the WebSocket's path answers 404, like any unknown path).
 */
export const streamingApi = new Hono<AppEnv>();

streamingApi.get("/health", (c) => c.text("OK"));
