/**
 * The outbox relay: takes recorded events out of the outbox and hands each to
 * every subscriber (the publisher first, which queues the activities for
 * delivery). An event leaves the outbox in the same transaction that claimed
 * it, and only after every subscriber returned: a crash before that leaves it
 * in the outbox, and the next relay hands it over again (subscribers are
 * idempotent, and activity ids are stable, so receivers deduplicate).
 */
import { getLogger } from "@logtape/logtape";
import type { Deps } from "../deps.ts";
import type { OutboxEntry } from "../stores/stores.ts";
import type { EventSubscriber } from "./events.ts";

const log = getLogger(["clique", "federation", "relay"]);

/** How the relay retries an event a subscriber failed on. */
export interface RelayPolicy {
  /** Hand-overs tried before an event is set aside as dead. */
  maxAttempts: number;
  /** How long to wait before the next try, after `attempts` failures (1, 2...). */
  backoffMs(attempts: number): number;
}

/** Eight tries, waiting 2 s, 4 s, 8 s... at most an hour: about four minutes in all. */
export const DEFAULT_RELAY_POLICY: RelayPolicy = {
  maxAttempts: 8,
  backoffMs: (attempts) => Math.min(1000 * 2 ** attempts, 60 * 60 * 1000),
};

/** What one call of `relayNext` did. */
export type RelayOutcome = "idle" | "relayed" | "failed";

/**
 * Hands the oldest due event to every subscriber and takes it out of the
 * outbox; `idle` when nothing is due. `afterHandled` runs once every
 * subscriber has the event and before it leaves the outbox (crash tests stop
 * the process there).
 */
export async function relayNext(
  deps: Deps,
  subscribers: readonly EventSubscriber[],
  policy: RelayPolicy = DEFAULT_RELAY_POLICY,
  afterHandled?: (entry: OutboxEntry) => void | Promise<void>,
): Promise<RelayOutcome> {
  return deps.stores.transaction(async (tx) => {
    const entry = await tx.outbox.claimNext(deps.now());
    if (!entry) return "idle";
    const recorded = { id: entry.id, event: entry.event, recordedAt: entry.createdAt };
    let current = "";
    try {
      for (const subscriber of subscribers) {
        current = subscriber.name;
        await subscriber.handle(recorded);
      }
      await afterHandled?.(entry);
      await tx.outbox.remove(entry.id);
      return "relayed";
    } catch (error) {
      const attempts = entry.attempts + 1;
      const now = deps.now();
      const retryAt =
        attempts >= policy.maxAttempts
          ? null
          : new Date(now.getTime() + policy.backoffMs(attempts));
      log.error("{subscriber} failed on {kind} event {id} (attempt {attempts}); {next}: {error}", {
        subscriber: current,
        kind: entry.event.kind,
        id: entry.id,
        attempts,
        next: retryAt ? `retrying at ${retryAt.toISOString()}` : "set aside as dead",
        error,
      });
      await tx.outbox.failed(entry.id, `${current}: ${String(error)}`, retryAt, now);
      return "failed";
    }
  });
}
