/**
 * Runs the outbox relay in a worker process: it hands each committed event to
 * its subscribers as soon as its transaction commits (PostgreSQL's NOTIFY, sent
 * only on commit, wakes it) and also every few seconds, which picks up events
 * due for a retry and anything a missed notification left behind. Several
 * relays, in one process or many, share the work: each event is claimed by one
 * (`FOR UPDATE SKIP LOCKED`).
 */
import type { Clique, OutboxEntry, RelayPolicy } from "@clique/core";
import { OUTBOX_CHANNEL } from "@clique/core/kysely";
import { getLogger } from "@logtape/logtape";
import pg from "pg";

const log = getLogger(["clique", "jobs", "relay"]);

/** How the relay runs. */
export interface RelayOptions {
  /** Relay loops in this process. */
  concurrency: number;
  /** Longest sleep between looks at the outbox, without a notification. */
  pollMs: number;
  policy?: RelayPolicy;
  /** Runs after every subscriber has an event, before it leaves the outbox (crash tests). */
  afterHandled?: (entry: OutboxEntry) => void | Promise<void>;
}

/** A running relay. */
export interface RunningRelay {
  /** Lets each loop finish the event it holds, then stops. */
  stop(): Promise<void>;
}

/** Starts the relay loops. */
export async function startRelay(
  clique: Clique,
  connectionString: string,
  options: RelayOptions,
): Promise<RunningRelay> {
  let stopping = false;
  const sleepers = new Set<() => void>();
  const wakeAll = () => {
    for (const wake of sleepers) wake();
  };
  const listener = new pg.Client({ connectionString });
  listener.on("error", (error) => log.warn("Outbox listener: {error}", { error }));
  listener.on("notification", wakeAll);
  try {
    await listener.connect();
    await listener.query(`LISTEN ${OUTBOX_CHANNEL}`);
  } catch (error) {
    // Without notifications the loops still poll.
    log.warn("Could not listen for outbox events; polling only: {error}", { error });
  }

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        sleepers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      sleepers.add(done);
    });

  async function loop(): Promise<void> {
    while (!stopping) {
      try {
        const outcome = await clique.relayNext(options.policy, options.afterHandled);
        if (outcome === "idle") await sleep(options.pollMs);
      } catch (error) {
        // The database is away: wait, then try again.
        log.error("Outbox relay: {error}", { error });
        await sleep(options.pollMs);
      }
    }
  }

  const loops = Array.from({ length: options.concurrency }, () => loop());
  return {
    async stop() {
      stopping = true;
      wakeAll();
      await Promise.all(loops);
      await listener.end().catch(() => {});
    },
  };
}
