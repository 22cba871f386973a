/**
 * The job engine: BullMQ, and the one module that owns its queues and
 * workers. On BullMQ's PostgreSQL back end (schema `bullmq` in Clique's own
 * database) unless `REDIS_URL` is set, then on Redis (keys prefixed with the
 * Clique's host, so several Cliques can share one Redis).
 *
 * Fedify gets three queues on it — inbox, outbox (one job per remote inbox)
 * and fan-out — so a slow server holds up only its own deliveries. Fedify
 * is told the queues retry natively: a failed delivery or inbox job throws,
 * and BullMQ tries it again with exponential back-off. A job leaves its queue
 * only after its handler returned; a worker that dies mid-job loses its lock,
 * and the job is taken up again (stalled-job recovery). A job that fails every
 * attempt stays in the failed set — the dead letters `clique queue status`
 * shows and `clique queue retry` brings back.
 */
import type {
  MessageQueue,
  MessageQueueDepth,
  MessageQueueEnqueueOptions,
  MessageQueueListenOptions,
} from "@fedify/fedify";
import { getLogger } from "@logtape/logtape";
import {
  createPostgresBackend,
  DelayedError,
  type Job,
  type JobsOptions,
  Queue,
  type QueueOptions,
  Worker,
  type WorkerOptions,
  withBackend,
} from "bullmq";
import { Redis } from "ioredis";
import { jsonbSafe } from "../db/federation-backends.ts";

const log = getLogger(["clique", "jobs"]);

/** Fedify's three queues. */
export const QUEUE_NAMES = ["inbox", "outbox", "fanout"] as const;
/** One of Fedify's queues. */
export type QueueName = (typeof QUEUE_NAMES)[number];

/** How jobs are tried and how many run at once. */
export interface JobSettings {
  /** Tries per job before it is a dead letter, by queue. */
  attempts: Record<QueueName, number>;
  /** First wait before a retry; it doubles with every failure. */
  backoffMs: number;
  /** Jobs one worker process runs at once, by queue. */
  concurrency: Record<QueueName, number>;
  /** How long a worker's hold on a job lasts without renewal: a dead worker's job is taken up after it. */
  lockMs: number;
  /**
   * Whether a delivery to this host is to be dropped rather than made (a
   * blocked server): asked when the job's turn comes, so deliveries queued
   * before a block are dropped too, without a request or a retry.
   */
  dropDeliveryTo?: (host: string) => Promise<boolean>;
}

/** One of Clique's own queues of work (besides Fedify's): processing uploads, say. */
export interface TaskQueue<T> {
  /** Queues a job; a job with the id of one still queued or running is not queued twice. */
  add(data: T, options?: { jobId?: string }): Promise<void>;
}

/** How a task queue's jobs are done. */
export interface TaskOptions<T> {
  /** Tries per job before it is a dead letter. */
  attempts: number;
  /** Jobs one worker process runs at once. */
  concurrency: number;
  /**
   * Throws to be tried again (with back-off); returns when the job is done.
   * `final` is set on the last attempt: what it throws makes a dead letter.
   */
  handler(data: T, attempt: { final: boolean }): Promise<void>;
}

/** What one queue holds. */
export interface QueueStatus {
  name: string;
  waiting: number;
  active: number;
  delayed: number;
  /** Dead letters: jobs that failed every attempt. */
  failed: number;
}

/** A dead letter, as `clique queue status` lists it. */
export interface DeadJob {
  queue: string;
  id: string;
  /** What the job was: an activity type and its target inbox, for deliveries. */
  summary: string;
  attempts: number;
  reason: string;
  failedAt: Date | null;
}

/** The job engine of one process. */
export interface JobEngine {
  backend: "postgres" | "redis";
  /** Fedify's queues on the engine. */
  fedify: Record<QueueName, MessageQueue>;
  /** Declares one of Clique's own queues (its workers run in worker processes: `startTasks`). */
  task<T>(name: string, options: TaskOptions<T>): TaskQueue<T>;
  /** Starts the workers of the task queues. */
  startTasks(): void;
  /** Every queue's name: Fedify's, then the tasks'. */
  queueNames(): string[];
  status(): Promise<QueueStatus[]>;
  deadLetters(limit: number): Promise<DeadJob[]>;
  /** Puts a dead letter back in its queue; whether there was one. */
  retry(queue: string, id: string): Promise<boolean>;
  /**
   * Stops this process's workers — each finishes its running jobs, for at
   * most `drainMs`; a job cut off is not marked done and is taken up again
   * after its lock expires — then closes every connection.
   */
  close(drainMs: number): Promise<void>;
}

/** Where the engine keeps its jobs. */
export type JobBackendTarget =
  | { kind: "postgres"; connectionString: string }
  | { kind: "redis"; url: string; prefix: string };

type AnyQueue = Queue;
type AnyWorker = Worker;

/** Builds the BullMQ classes for a back end, each instance with its own connection. */
function backendFor(target: JobBackendTarget) {
  if (target.kind === "postgres") {
    const { Queue: PgQueue, Worker: PgWorker } = withBackend(createPostgresBackend);
    // A small pool per instance; a worker also holds one LISTEN connection.
    const connection = (max: number) => ({
      connectionString: target.connectionString,
      max,
      migrate: true,
    });
    return {
      queue: (name: string) =>
        new PgQueue(name, { connection: connection(1) }) as unknown as AnyQueue,
      worker: (
        name: string,
        processor: (job: Job, token?: string) => Promise<void>,
        opts: Partial<WorkerOptions>,
      ) =>
        new PgWorker(name, processor, {
          ...opts,
          connection: connection(2),
        } as WorkerOptions<never>) as unknown as AnyWorker,
      release: async () => {},
    };
  }
  const clients: Redis[] = [];
  const connect = () => {
    // Workers block on Redis: they must not give up on a slow reply.
    const client = new Redis(target.url, { maxRetriesPerRequest: null });
    clients.push(client);
    return client;
  };
  return {
    queue: (name: string) =>
      new Queue(name, { connection: connect(), prefix: target.prefix } as QueueOptions),
    worker: (
      name: string,
      processor: (job: Job, token?: string) => Promise<void>,
      opts: Partial<WorkerOptions>,
    ) => new Worker(name, processor, { ...opts, connection: connect(), prefix: target.prefix }),
    release: async () => {
      await Promise.all(clients.map((c) => c.quit().catch(() => c.disconnect())));
    },
  };
}

function delayMs(options?: MessageQueueEnqueueOptions): number | undefined {
  const delay = options?.delay;
  if (!delay) return undefined;
  return Math.max(0, Math.round(delay.total({ unit: "millisecond" })));
}

/** What a Fedify message is about, in a line. */
function summarize(data: unknown): string {
  const message = data as { type?: string; activityType?: string; inbox?: string };
  const type = message.activityType?.replace("https://www.w3.org/ns/activitystreams#", "");
  if (message.type === "outbox") return `deliver ${type ?? "activity"} to ${message.inbox ?? "?"}`;
  if (message.type === "fanout") return `fan out ${type ?? "activity"}`;
  if (message.type === "inbox") return "process an incoming activity";
  return message.type ?? "job";
}

/** The first line of an error: Fedify's delivery errors end with the receiver's whole answer. */
function firstLine(text: string): string {
  const line = text.split("\n").find((l) => l.trim() !== "") ?? "";
  return line.replace(/:\s*$/, "").slice(0, 300);
}

/** The host a delivery goes to; `null` for any other job. */
function deliveryHost(data: unknown): string | null {
  const message = data as { type?: string; inbox?: string };
  if (message.type !== "outbox" || !message.inbox) return null;
  try {
    return new URL(message.inbox).host;
  } catch {
    return null;
  }
}

/** How long a delivery to a host that has its share of the slots waits before it is looked at again. */
const HOST_BUSY_DELAY_MS = 1_000;

/** Opens the engine. Workers start only when Fedify listens (`startQueue`), in worker processes. */
export function openJobEngine(target: JobBackendTarget, settings: JobSettings): JobEngine {
  const backend = backendFor(target);
  const queues = new Map<string, AnyQueue>();
  const workers = new Set<AnyWorker>();
  const tasks = new Map<string, TaskOptions<never>>();
  const queueOf = (name: string): AnyQueue => {
    let queue = queues.get(name);
    if (!queue) {
      queue = backend.queue(`clique-${name}`);
      queue.on("error", (error) => log.error("Queue {name}: {error}", { name, error }));
      queues.set(name, queue);
    }
    return queue;
  };
  const jobOptions = (name: QueueName, options?: MessageQueueEnqueueOptions): JobsOptions => {
    const delay = delayMs(options);
    return {
      attempts: settings.attempts[name],
      backoff: { type: "exponential", delay: settings.backoffMs },
      ...(delay ? { delay } : {}),
      // Done jobs go; dead letters stay (a month at most) until retried.
      removeOnComplete: true,
      removeOnFail: { age: 30 * 24 * 60 * 60 },
    };
  };

  /** Keeps a worker for `close()` and logs what happens to its jobs. */
  function watch(name: string, worker: AnyWorker): void {
    workers.add(worker);
    worker.on("error", (error) => log.error("Worker {name}: {error}", { name, error }));
    worker.on("failed", (job, error) => {
      if (!job) return;
      const dead = job.attemptsMade >= (job.opts.attempts ?? 1);
      const message = dead
        ? "{summary} failed on its last attempt ({attempt}); it is now a dead letter: {error}"
        : "{summary} failed (attempt {attempt}); it will be tried again: {error}";
      log.warn(message, {
        summary: summarize(job.data),
        attempt: job.attemptsMade,
        error: firstLine(error.message),
      });
    });
    worker.on("stalled", (jobId) => {
      log.warn("Job {queue}:{id} lost its worker (stopped or killed); it is taken up again.", {
        queue: name,
        id: jobId,
      });
    });
  }

  function fedifyQueue(name: QueueName): MessageQueue {
    return {
      nativeRetrial: true,
      async enqueue(message: unknown, options?: MessageQueueEnqueueOptions) {
        await queueOf(name).add(name, jsonbSafe(message), jobOptions(name, options));
      },
      async enqueueMany(messages: readonly unknown[], options?: MessageQueueEnqueueOptions) {
        await queueOf(name).addBulk(
          messages.map((m) => ({
            name,
            data: jsonbSafe(m),
            opts: jobOptions(name, options),
          })),
        );
      },
      async listen(
        handler: (message: unknown) => Promise<void> | void,
        options?: MessageQueueListenOptions,
      ) {
        // One slow server must not take every delivery slot of a process: at
        // most a quarter of them (at least one) go to one host at once. A
        // delivery over that share goes back to wait a moment (a BullMQ delay,
        // which is not an attempt), leaving its slot to other servers.
        const perHost = Math.max(1, Math.ceil(settings.concurrency[name] / 4));
        const busy = new Map<string, number>();
        const worker = backend.worker(
          `clique-${name}`,
          async (job, token) => {
            const host = deliveryHost(job.data);
            if (host !== null && (await settings.dropDeliveryTo?.(host))) {
              log.info("Dropped a delivery to {host}, a blocked server: {summary}", {
                host,
                summary: summarize(job.data),
              });
              return;
            }
            if (host === null || token === undefined) return handler(job.data);
            const running = busy.get(host) ?? 0;
            if (running >= perHost) {
              const jitter = Math.floor(Math.random() * HOST_BUSY_DELAY_MS);
              await job.moveToDelayed(Date.now() + HOST_BUSY_DELAY_MS + jitter, token);
              throw new DelayedError();
            }
            busy.set(host, running + 1);
            try {
              await handler(job.data);
            } finally {
              const left = (busy.get(host) ?? 1) - 1;
              if (left > 0) busy.set(host, left);
              else busy.delete(host);
            }
          },
          {
            concurrency: settings.concurrency[name],
            lockDuration: settings.lockMs,
            stalledInterval: Math.max(1000, Math.floor(settings.lockMs / 2)),
            // A job whose worker died is taken up again, not failed, up to this often.
            maxStalledCount: 5,
          },
        );
        watch(name, worker);
        // Resolves when the worker is closed: by `close()`, or when the signal aborts.
        await new Promise<void>((resolve) => {
          worker.on("closed", () => resolve());
          options?.signal?.addEventListener("abort", () => void closeWorker(worker, 0), {
            once: true,
          });
        });
      },
      async getDepth(): Promise<MessageQueueDepth> {
        const counts = await queueOf(name).getJobCounts("waiting", "delayed", "prioritized");
        const ready = (counts.waiting ?? 0) + (counts.prioritized ?? 0);
        return { queued: ready + (counts.delayed ?? 0), ready, delayed: counts.delayed ?? 0 };
      },
    };
  }

  async function closeWorker(worker: AnyWorker, drainMs: number): Promise<void> {
    if (!workers.delete(worker)) return;
    // Take no new job and let running ones finish; after `drainMs` stop waiting
    // (their locks expire and another worker takes them up: nothing cut off is
    // marked done). Pausing, not closing, waits: once a graceful `close()` is
    // under way, BullMQ's `close(true)` only returns it, still waiting.
    const drained = worker.pause();
    const timedOut = await Promise.race([
      drained.then(
        () => false,
        () => false,
      ),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(true), drainMs).unref()),
    ]);
    if (timedOut) {
      log.warn("Stopped waiting for running jobs after {ms} ms; they will be taken up again.", {
        ms: drainMs,
      });
    }
    await worker.close(timedOut).catch(() => {});
  }

  const fedify = {
    inbox: fedifyQueue("inbox"),
    outbox: fedifyQueue("outbox"),
    fanout: fedifyQueue("fanout"),
  };

  return {
    backend: target.kind,
    fedify,
    task<T>(name: string, options: TaskOptions<T>): TaskQueue<T> {
      if ((QUEUE_NAMES as readonly string[]).includes(name) || tasks.has(name))
        throw new Error(`There is a queue named ${name} already`);
      tasks.set(name, options as TaskOptions<never>);
      return {
        async add(data, opts = {}) {
          await queueOf(name).add(name, jsonbSafe(data), {
            attempts: options.attempts,
            backoff: { type: "exponential", delay: settings.backoffMs },
            removeOnComplete: true,
            removeOnFail: { age: 30 * 24 * 60 * 60 },
            ...(opts.jobId ? { jobId: opts.jobId } : {}),
          });
        },
      };
    },
    startTasks() {
      for (const [name, options] of tasks) {
        const worker = backend.worker(
          `clique-${name}`,
          async (job) => {
            await options.handler(job.data as never, {
              final: job.attemptsMade + 1 >= (job.opts.attempts ?? 1),
            });
          },
          {
            concurrency: options.concurrency,
            lockDuration: settings.lockMs,
            stalledInterval: Math.max(1000, Math.floor(settings.lockMs / 2)),
            maxStalledCount: 5,
          },
        );
        watch(name, worker);
      }
    },
    queueNames: () => [...QUEUE_NAMES, ...tasks.keys()],
    async status() {
      return Promise.all(
        [...QUEUE_NAMES, ...tasks.keys()].map(async (name) => {
          const c = await queueOf(name).getJobCounts(
            "waiting",
            "prioritized",
            "active",
            "delayed",
            "failed",
          );
          return {
            name,
            waiting: (c.waiting ?? 0) + (c.prioritized ?? 0),
            active: c.active ?? 0,
            delayed: c.delayed ?? 0,
            failed: c.failed ?? 0,
          };
        }),
      );
    },
    async deadLetters(limit) {
      const dead: DeadJob[] = [];
      for (const name of [...QUEUE_NAMES, ...tasks.keys()]) {
        for (const job of await queueOf(name).getFailed(0, limit - 1)) {
          if (!job?.id) continue;
          dead.push({
            queue: name,
            id: job.id,
            summary: summarize(job.data),
            attempts: job.attemptsMade,
            reason: firstLine(job.failedReason ?? ""),
            failedAt: job.finishedOn ? new Date(job.finishedOn) : null,
          });
        }
      }
      return dead.slice(0, limit);
    },
    async retry(queue, id) {
      if (!(QUEUE_NAMES as readonly string[]).includes(queue) && !tasks.has(queue)) return false;
      const job = await queueOf(queue).getJob(id);
      if (!job || !(await job.isFailed())) return false;
      await job.retry("failed", { resetAttemptsMade: true });
      return true;
    },
    async close(drainMs) {
      await Promise.all([...workers].map((w) => closeWorker(w, drainMs)));
      await Promise.all([...queues.values()].map((q) => q.close().catch(() => {})));
      await backend.release();
    },
  };
}
