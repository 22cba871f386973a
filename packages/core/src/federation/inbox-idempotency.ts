/**
 * De-duplication of inbound activities.
 *
 * Fedify remembers each processed activity for a day and drops repeats. Its
 * key is the activity id alone, but some servers reuse an id for different
 * activities: Hollo answers every follow by the same follower with one
 * `Accept` id (`…#accepts/<follower>`), so the `Accept` of a second follow was
 * dropped as "already processed" and the follow stayed pending for good.
 * Clique's key is the activity id *and* the ids of its object, on this origin
 * (so an activity delivered to a member's inbox and to the shared inbox still
 * counts once).
 *
 * Fedify 2.3.6 uses the `withIdempotency` key when a request arrives, but its
 * queue worker checks and records a key of its own (`[...prefix, origin,
 * activity id]`) whatever the strategy. So Clique records its key itself once
 * a listener has succeeded, and the key–value store Fedify is given ignores
 * the worker's records ({@link withoutQueueIdempotence}).
 */
import type { InboxContext, KvKey, KvStore, KvStoreSetOptions } from "@fedify/fedify";
import type { Activity } from "@fedify/vocab";
import { Temporal } from "@js-temporal/polyfill";
import type { Deps } from "../deps.ts";

/** Fedify's prefix for activity idempotence records (its default `kvPrefixes.activityIdempotence`). */
const PREFIX = ["_fedify", "activityIdempotence"] as const;

/** How long a processed activity is remembered, as Fedify does. */
const REMEMBER = Temporal.Duration.from({ days: 1 }) as unknown as KvStoreSetOptions["ttl"];

/** The de-duplication key of an inbound activity: this origin, its id and its object's ids. */
export function idempotencyKey(origin: string, activity: Activity): string | null {
  if (!activity.id) return null;
  return [origin, activity.id.href, ...activity.objectIds.map((id) => id.href)].join("\n");
}

type Handler<A extends Activity> = (
  deps: Deps,
  ctx: InboxContext<void>,
  activity: A,
) => Promise<void>;
type Listener<A extends Activity> = (ctx: InboxContext<void>, activity: A) => Promise<void>;

/**
 * Makes inbox listeners of handlers that handle each activity (by
 * {@link idempotencyKey}) once: a repeat is skipped, and an activity is
 * remembered only after its handler succeeded (a failure is retried).
 */
export function handledOnce(deps: Deps, kv: KvStore) {
  return <A extends Activity>(handler: Handler<A>): Listener<A> =>
    async (ctx, activity) => {
      const key = idempotencyKey(deps.config.origin, activity);
      const record: KvKey | null = key === null ? null : [...PREFIX, key];
      if (record && (await kv.get(record)) === true) return;
      await handler(deps, ctx, activity);
      if (record) await kv.set(record, true, { ttl: REMEMBER });
    };
}

/** Whether a key is one of the queue worker's own idempotence records (`[...prefix, origin, id]`). */
function isQueueRecord(key: KvKey): boolean {
  return key.length === PREFIX.length + 2 && PREFIX.every((part, i) => key[i] === part);
}

/**
 * The key–value store to give Fedify: `kv`, except that the queue worker's
 * own idempotence records are neither kept nor found (Clique keeps its own,
 * with a better key: see the module comment).
 */
export function withoutQueueIdempotence(kv: KvStore): KvStore {
  const store: KvStore = {
    get: <T = unknown>(key: KvKey) =>
      isQueueRecord(key) ? Promise.resolve(undefined) : kv.get<T>(key),
    set: (key, value, options) =>
      isQueueRecord(key) ? Promise.resolve() : kv.set(key, value, options),
    delete: (key) => kv.delete(key),
    list: (prefix) => kv.list(prefix),
  };
  if (kv.cas) {
    const cas = kv.cas.bind(kv);
    store.cas = (key, expected, value, options) =>
      isQueueRecord(key) ? Promise.resolve(true) : cas(key, expected, value, options);
  }
  return store;
}
