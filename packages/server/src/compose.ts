/**
 * The composition root: the one place that picks implementations (PostgreSQL
 * stores, embedded or not; the job engine on PostgreSQL or Redis) and builds a
 * Clique. What runs in this process follows its role: `web` serves HTTP and
 * records work; `worker` runs the outbox relay and the queues' workers; `all`
 * (the default) does both.
 */
import { type Clique, createClique } from "@clique/core";
import { OUTBOX_CHANNEL, REMOTE_MODERATION_CHANNEL } from "@clique/core/kysely";
import { createModeration, type Moderation, type ModerationDatabase } from "@clique/moderation";
import { getLogger } from "@logtape/logtape";
import type { Kysely } from "kysely";
import type { Config } from "./config.ts";
import { type ChangeListener, listenForChanges } from "./db/change-listener.ts";
import { type FederationBackends, openFederationBackends } from "./db/federation-backends.ts";
import { openStorage, type Storage } from "./db/open-storage.ts";
import { DocumentCache, SHARED_DOCUMENT_TTL_MS } from "./http/document-cache.ts";
import { type JobBackendTarget, type JobEngine, openJobEngine } from "./jobs/engine.ts";
import { type RunningRelay, startRelay } from "./jobs/relay-runner.ts";
import { type BlobStore, localBlobStore } from "./media/blob-store.ts";
import { mediaJobs } from "./media/media-jobs.ts";
import { type MediaProxy, mediaProxy } from "./media/proxy.ts";
import { s3BlobStore } from "./media/s3-blob-store.ts";
import { cliqueUserAgent, installUserAgent } from "./user-agent.ts";

const log = getLogger(["clique", "server"]);

/** Clique's version, announced in NodeInfo and the User-Agent. */
export const VERSION = "0.1.0";

/** A composed Clique and the resources behind it. */
export interface Composition {
  clique: Clique;
  storage: Storage;
  config: Config;
  jobs: JobEngine;
  /** Where media files are kept. */
  blobs: BlobStore;
  /** Roles, reports, removals, remote blocks and the audit log. */
  moderation: Moderation;
  /** Remote attachments, fetched and kept a while (`media/proxy.ts`). */
  mediaProxy: MediaProxy;
  /** Local disk, for files processed while a request waits (the same as `blobs` without S3). */
  scratch: BlobStore;
  /** WebFinger, NodeInfo and actor documents, kept a few seconds; emptied by `watchDecisions`' events too. */
  sharedDocuments: DocumentCache;
  /**
   * Starts the work of a worker: the outbox relay, and the workers of the
   * inbox, delivery and fan-out queues. The server does this in its `worker`
   * and `all` roles; the CLI and `web` processes only record and enqueue.
   */
  startWorkers(): Promise<void>;
  /**
   * Listens for remote moderation decisions taken by other processes (the CLI,
   * other server processes), so that this one's cached decisions are read
   * again at once. The server does this in every role.
   */
  watchDecisions(): Promise<void>;
  /** Stops the workers (letting running jobs finish, for a bounded time) and closes everything. */
  close(): Promise<void>;
}

/** Where the job engine keeps its jobs: Redis when configured, else Clique's own PostgreSQL. */
function jobTarget(config: Config, connectionString: string): JobBackendTarget {
  return config.redisUrl
    ? { kind: "redis", url: config.redisUrl, prefix: `clique:${new URL(config.origin).host}` }
    : { kind: "postgres", connectionString };
}

/** Opens the database (migrating it) and builds the Clique. */
export async function compose(config: Config): Promise<Composition> {
  const storage = await openStorage(config);
  let backends: FederationBackends;
  try {
    backends = openFederationBackends(storage.connectionString);
  } catch (error) {
    await storage.close();
    throw error;
  }
  const { jobs: settings } = config;
  const jobs = openJobEngine(jobTarget(config, storage.connectionString), {
    attempts: {
      outbox: settings.deliveryAttempts,
      inbox: Math.min(settings.deliveryAttempts, 5),
      fanout: Math.min(settings.deliveryAttempts, 5),
    },
    backoffMs: settings.retryBaseMs,
    concurrency: { outbox: settings.deliveryConcurrency, inbox: 4, fanout: 2 },
    lockMs: settings.lockMs,
    // Deliveries to a blocked server are dropped when their turn comes (remote moderation).
    dropDeliveryTo: async (host) =>
      (await clique.remoteModeration.standing.ofHost(host)) === "blocked",
  });
  // Files on disk under the media directory, or in a bucket (the directory then holds temporary copies).
  const scratch = localBlobStore(config.media.dir);
  const blobs = config.media.s3 ? s3BlobStore(config.media.s3, config.media.dir) : scratch;
  const media = mediaJobs(
    jobs,
    blobs,
    { maxPixels: config.media.maxPixels, concurrency: 1 },
    () => clique,
  );
  const moderation = createModeration({
    db: storage.db as unknown as Kysely<ModerationDatabase>,
  });
  const clique = createClique({
    subscribers: [media.subscriber, ...moderation.subscribers],
    inboxListeners: moderation.inboxListeners,
    stores: storage.stores,
    config: { origin: config.origin, defaultMemberCap: config.defaultMemberCap },
    federation: {
      kv: backends.kv,
      queue: jobs.fedify,
      allowPrivateAddress: config.allowPrivateAddress,
      manuallyStartQueue: true,
      // BullMQ's attempts, back-off and failed set are the policy: Fedify's
      // breaker would hold a down host's jobs outside them, then drop them.
      circuitBreaker: false,
      version: VERSION,
    },
  });
  // Remote photos and videos, fetched when first looked at and kept in the blob store.
  const proxy = mediaProxy(blobs, backends.kv, {
    allowPrivateAddress: config.allowPrivateAddress,
    imageBytes: config.media.imageBytes,
    videoBytes: config.media.videoBytes,
    userAgent: cliqueUserAgent(VERSION, config.origin),
  });
  moderation.attach(clique);
  // Fedify's deliveries carry no User-Agent of their own (user-agent.ts).
  const uninstallUserAgent = installUserAgent(cliqueUserAgent(VERSION, config.origin));
  const abort = new AbortController();
  let relay: RunningRelay | null = null;
  let sweeper: NodeJS.Timeout | null = null;
  let closing: Promise<void> | undefined;
  let decisions: ChangeListener | null = null;
  let events: ChangeListener | null = null;
  const sharedDocuments = new DocumentCache({ ttlMs: SHARED_DOCUMENT_TTL_MS, maxEntries: 500 });
  return {
    clique,
    storage,
    config,
    jobs,
    blobs,
    mediaProxy: proxy,
    scratch,
    moderation,
    sharedDocuments,
    async watchDecisions() {
      if (decisions) return;
      const standing = clique.remoteModeration.standing;
      decisions = await listenForChanges(storage.connectionString, REMOTE_MODERATION_CHANNEL, () =>
        standing.invalidate(),
      );
      // Every recorded event (a profile edit, a suspension, a removal, from any
      // process) may change a shared document: none kept is trusted after it.
      events ??= await listenForChanges(storage.connectionString, OUTBOX_CHANNEL, () =>
        sharedDocuments.clear(),
      );
    },
    async startWorkers() {
      if (relay) return;
      void clique.federation?.startQueue(undefined, { signal: abort.signal });
      jobs.startTasks();
      // Uploads never attached to a post go after a day: looked for hourly, and now.
      const sweep = () =>
        clique.sweepUnattachedMedia().catch((error: unknown) => {
          log.warn("Could not sweep unattached uploads: {error}", { error });
        });
      void sweep();
      sweeper = setInterval(sweep, 60 * 60 * 1000);
      sweeper.unref();
      // Suspensions with an end date are lifted when it comes.
      moderation.suspensions.start();
      relay = await startRelay(clique, storage.connectionString, {
        concurrency: 2,
        pollMs: 2_000,
        policy: {
          maxAttempts: 8,
          backoffMs: (n) => Math.min(settings.retryBaseMs * 2 ** (n - 1), 3_600_000),
        },
        ...(settings.crashAt === "relay-handed-over"
          ? {
              // Test only: die between handing an event over and taking it out of the outbox.
              afterHandled: () => {
                process.kill(process.pid, "SIGKILL");
              },
            }
          : {}),
      });
    },
    close() {
      closing ??= (async () => {
        // The relay first (it finishes the event it holds), then the queues'
        // workers (they finish their jobs, for at most CLIQUE_SHUTDOWN_MS).
        if (sweeper) clearInterval(sweeper);
        await moderation.suspensions.stop();
        await decisions?.stop();
        await events?.stop();
        await relay?.stop();
        await jobs.close(settings.shutdownMs);
        abort.abort();
        await backends.close();
        await storage.close();
        uninstallUserAgent();
      })();
      return closing;
    },
  };
}
