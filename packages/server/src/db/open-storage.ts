import type { Stores } from "@clique/core";
import {
  createKyselyStores,
  type Database,
  migrateToLatest,
  openDatabase,
} from "@clique/core/kysely";
import { type ModerationDatabase, migrateModeration } from "@clique/moderation";
import { getLogger } from "@logtape/logtape";
import type { Kysely } from "kysely";
import type { Config } from "../config.ts";
import { startEmbeddedPostgres } from "./embedded-postgres.ts";

const log = getLogger(["clique", "db"]);

/** An open database with its stores; `close` also stops an embedded PostgreSQL we started. */
export interface Storage {
  db: Kysely<Database>;
  stores: Stores;
  /** Connection string (with the password) — never log it. */
  connectionString: string;
  embedded: boolean;
  close(): Promise<void>;
}

/**
 * Opens `DATABASE_URL`, or the embedded PostgreSQL under the data directory,
 * and brings the schema up to date.
 */
export async function openStorage(
  config: Config,
  options: { migrate?: boolean } = {},
): Promise<Storage> {
  let connectionString = config.databaseUrl;
  let stopEmbedded = async () => {};
  if (connectionString === null) {
    const embedded = await startEmbeddedPostgres({
      dataDir: config.dataDir,
      log: (msg) => log.debug("{msg}", { msg }),
    });
    connectionString = embedded.connectionString;
    stopEmbedded = () => embedded.stop();
    log.info("Using the embedded PostgreSQL in {dir} ({how}).", {
      dir: config.dataDir,
      how: embedded.owned ? "started it" : "shared with the process that runs it",
    });
  }
  const db = openDatabase(connectionString, { maxConnections: config.dbPoolSize });
  try {
    if (options.migrate !== false) {
      const { applied } = await migrateToLatest(db);
      // Moderation keeps its own tables (and ledger) in the same database.
      const moderation = await migrateModeration(db as unknown as Kysely<ModerationDatabase>);
      const all = [...applied, ...moderation.applied.map((m) => `moderation/${m}`)];
      if (all.length > 0) log.info("Applied migrations: {applied}", { applied: all.join(", ") });
    }
  } catch (error) {
    await db.destroy();
    await stopEmbedded();
    throw error;
  }
  return {
    db,
    stores: createKyselyStores(db),
    connectionString,
    embedded: config.databaseUrl === null,
    async close() {
      await db.destroy();
      await stopEmbedded();
    },
  };
}
