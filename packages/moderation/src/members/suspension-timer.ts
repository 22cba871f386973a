/**
 * The worker that lifts suspensions whose end date has come. It sleeps until
 * the next end date (at most `maxWaitMs`, so that a suspension made by another
 * process is seen), and is woken early when a suspension is recorded (the
 * relay hands `member-suspended` to moderation's subscriber in the worker).
 * Several workers may run it at once: lifting is idempotent.
 */
import type { Clique, EventSubscriber } from "@clique/core";
import { getLogger } from "@logtape/logtape";

const log = getLogger(["clique", "moderation", "suspensions"]);

/** The suspension worker: start it in a worker process, stop it on close. */
export interface SuspensionTimer {
  start(): void;
  /** Looks again now (a suspension was recorded). */
  poke(): void;
  stop(): Promise<void>;
  /** Wakes the timer when a suspension is recorded. */
  subscriber: EventSubscriber;
}

/** Builds the timer; `lift` lifts whatever has ended. */
export function suspensionTimer(
  clique: () => Clique,
  lift: () => Promise<unknown>,
  options: { maxWaitMs?: number; now?: () => Date } = {},
): SuspensionTimer {
  const maxWaitMs = options.maxWaitMs ?? 60_000;
  const now = options.now ?? (() => new Date());
  let started = false;
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> | null = null;
  let again = false;

  async function tick(): Promise<void> {
    try {
      await lift();
    } catch (error) {
      log.warn("Could not lift ended suspensions: {error}", { error });
    }
    let wait = maxWaitMs;
    try {
      const next = await clique().nextSuspensionEnd();
      if (next) wait = Math.min(maxWaitMs, Math.max(0, next.getTime() - now().getTime()));
    } catch (error) {
      log.warn("Could not read the next suspension's end: {error}", { error });
    }
    schedule(wait);
  }

  function schedule(wait: number): void {
    if (stopped) return;
    if (timer) clearTimeout(timer);
    // A little after the end date: a timer may fire a moment early.
    timer = setTimeout(run, wait + 50);
    timer.unref();
  }

  function run(): void {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    timer = null;
    running = tick().finally(() => {
      running = null;
      if (again && !stopped) {
        again = false;
        run();
      }
    });
  }

  return {
    start() {
      if (started) return;
      started = true;
      run();
    },
    poke() {
      if (started) run();
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
    subscriber: {
      name: "moderation: suspensions",
      async handle({ event }) {
        if (event.kind === "member-suspended" && started) run();
      },
    },
  };
}
