/**
 * The composition root: the one place that picks implementations (PostgreSQL
 * stores, embedded or not; PostgreSQL or Redis queue) and builds a Clique.
 */
import { type Clique, createClique } from "@clique/core";
import type { Config } from "./config.ts";
import { type FederationBackends, openFederationBackends } from "./db/federation-backends.ts";
import { openStorage, type Storage } from "./db/open-storage.ts";
import { cliqueUserAgent, installUserAgent } from "./user-agent.ts";

/** Clique's version, announced in NodeInfo and the User-Agent. */
export const VERSION = "0.1.0";

/** A composed Clique and the resources behind it. */
export interface Composition {
  clique: Clique;
  storage: Storage;
  config: Config;
  /** Starts delivering queued activities and processing queued inbox work (the server does; the CLI only enqueues). */
  startQueue(): Promise<void>;
  close(): Promise<void>;
}

/** Opens the database (migrating it) and builds the Clique. */
export async function compose(config: Config): Promise<Composition> {
  const storage = await openStorage(config);
  let backends: FederationBackends;
  try {
    backends = openFederationBackends(config, storage.connectionString);
  } catch (error) {
    await storage.close();
    throw error;
  }
  const clique = createClique({
    stores: storage.stores,
    config: { origin: config.origin, defaultMemberCap: config.defaultMemberCap },
    federation: {
      kv: backends.kv,
      queue: backends.queue,
      allowPrivateAddress: config.allowPrivateAddress,
      manuallyStartQueue: true,
      version: VERSION,
    },
  });
  // Fedify's deliveries carry no User-Agent of their own (user-agent.ts).
  const uninstallUserAgent = installUserAgent(cliqueUserAgent(VERSION, config.origin));
  const abort = new AbortController();
  let queueRunning: Promise<void> | null = null;
  return {
    clique,
    storage,
    config,
    async startQueue() {
      queueRunning ??=
        clique.federation?.startQueue(undefined, { signal: abort.signal }) ?? Promise.resolve();
    },
    async close() {
      abort.abort();
      await backends.close();
      await storage.close();
      uninstallUserAgent();
    },
  };
}
