/**
 * The composition root: the one place that picks implementations (PostgreSQL
 * stores, embedded or not) and builds a Clique from them.
 */
import { type Clique, createClique } from "@clique/core";
import type { Config } from "./config.ts";
import { openStorage, type Storage } from "./db/open-storage.ts";

/** A composed Clique and the resources behind it. */
export interface Composition {
  clique: Clique;
  storage: Storage;
  config: Config;
  close(): Promise<void>;
}

/** Opens the database (migrating it) and builds the Clique. */
export async function compose(config: Config): Promise<Composition> {
  const storage = await openStorage(config);
  const clique = createClique({
    stores: storage.stores,
    config: { origin: config.origin, defaultMemberCap: config.defaultMemberCap },
  });
  return { clique, storage, config, close: () => storage.close() };
}
