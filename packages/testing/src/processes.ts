/**
 * Real Clique processes for whole-system tests: the server started as
 * `clique start` would be in production, and the `clique` CLI. Nothing here
 * imports the server's code; tests see exactly what an operator sees.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";

/** The `clique` entry point (a path, not an import: the rig runs it as a separate process). */
export const CLIQUE_BIN = fileURLToPath(new URL("../../server/src/bin/clique.ts", import.meta.url));

const NODE_FLAGS = ["--disable-warning=ExperimentalWarning"];
const START_TIMEOUT_MS = 90_000; // First start with the embedded database runs initdb.
const STOP_TIMEOUT_MS = 20_000;
const CLI_TIMEOUT_MS = 60_000;
const OUTPUT_LIMIT = 200_000;

/** An environment for a child process; `undefined` values are left out. */
export type ProcessEnv = Record<string, string | undefined>;

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

// ---------------------------------------------------------------- the server

/** How to start a server process. */
export interface StartServerOptions {
  /** The whole environment of the process (default: this process's). Undefined values are dropped. */
  env?: ProcessEnv;
  /** Sets `CLIQUE_DATA_DIR`. */
  dataDir?: string;
  /** Sets `DATABASE_URL`. */
  databaseUrl?: string;
  /** How long to wait for `GET /health` (default 90 s). */
  timeoutMs?: number;
  /**
   * Sets `CLIQUE_ORIGIN`, the public origin (e.g. a TLS proxy's `https://localhost:PORT`);
   * default: the server's own `url`.
   */
  origin?: string;
}

/** How a server process ended. */
export interface ServerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A running `clique start`. */
export interface ServerProcess {
  /** `http://127.0.0.1:PORT`, where the process listens. */
  url: string;
  /** Its `CLIQUE_ORIGIN`: `url` unless `StartServerOptions.origin` said otherwise. */
  origin: string;
  port: number;
  pid: number;
  /**
   * Sends `signal` (default SIGTERM) and waits for the process to exit; falls back
   * to SIGKILL for the whole process group after 20 s. Idempotent.
   */
  stop(signal?: NodeJS.Signals): Promise<ServerExit>;
  /**
   * SIGKILL, as an operator's `kill -9` would: by default only the server, leaving its
   * embedded PostgreSQL running as an orphan; with `{ group: true }` PostgreSQL too,
   * leaving a stale `postmaster.pid` behind.
   */
  kill9(options?: { group?: boolean }): Promise<ServerExit>;
  /** Everything the process wrote so far (stdout and stderr, interleaved). */
  output(): string;
  /** How the process ended, or `null` while it runs. */
  exitStatus(): ServerExit | null;
}

/**
 * Starts `clique start` on a free port of 127.0.0.1 and waits until `/health`
 * answers. On failure the error carries the server's output.
 */
export async function startServerProcess(options: StartServerOptions = {}): Promise<ServerProcess> {
  // The port may be taken between freePort() and the server's bind: retry then.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(options);
    } catch (error) {
      if (attempt < 3 && error instanceof PortTakenError) continue;
      throw error;
    }
  }
}

class PortTakenError extends Error {}

async function startOnce(options: StartServerOptions): Promise<ServerProcess> {
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const env = cleanEnv({
    ...(options.env ?? process.env),
    ...(options.dataDir !== undefined ? { CLIQUE_DATA_DIR: options.dataDir } : {}),
    ...(options.databaseUrl !== undefined ? { DATABASE_URL: options.databaseUrl } : {}),
    PORT: String(port),
    HOST: "127.0.0.1",
    CLIQUE_ORIGIN: options.origin ?? origin,
  });
  const child = spawn(process.execPath, [...NODE_FLAGS, CLIQUE_BIN, "start"], {
    env,
    stdio: ["ignore", "pipe", "pipe"],
    // Its own process group, so the embedded PostgreSQL can be found and killed with it.
    detached: true,
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error("could not spawn the server process");
  live.add(pid);
  installExitHandler();

  let output = "";
  const append = (chunk: Buffer) => {
    output += chunk.toString("utf8");
    if (output.length > OUTPUT_LIMIT) output = output.slice(-OUTPUT_LIMIT);
  };
  child.stdout?.on("data", append);
  child.stderr?.on("data", append);
  const exited = new Promise<ServerExit>((resolve) => {
    child.once("exit", (code, signal) => {
      resolve({ code, signal });
    });
  });
  let exit: ServerExit | undefined;
  void exited.then((e) => {
    exit = e;
  });

  let stopping: Promise<ServerExit> | undefined;
  let killed = false;
  const stop = (signal: NodeJS.Signals = "SIGTERM") => {
    stopping ??= (async () => {
      if (exit && !killed) {
        // A server that died on its own is the first thing to know about when tests fail.
        console.error(
          `The server on ${origin} had already exited (code ${exit.code}, signal ${exit.signal}):\n${output.trim()}`,
        );
      }
      if (!exit) {
        signalPid(pid, signal);
        const result = await Promise.race([
          exited,
          sleep(STOP_TIMEOUT_MS, undefined, { ref: false }),
        ]);
        if (!result) signalPid(-pid, "SIGKILL");
      }
      const result = await exited;
      await reapGroup(pid);
      return result;
    })();
    return stopping;
  };
  const server: ServerProcess = {
    url: origin,
    origin: options.origin ?? origin,
    port,
    pid,
    stop,
    async kill9(opts = {}) {
      killed = true;
      signalPid(opts.group ? -pid : pid, "SIGKILL");
      // stop() still reaps what is left of the group later.
      return exited;
    },
    output: () => output,
    exitStatus: () => exit ?? null,
  };

  const deadline = Date.now() + (options.timeoutMs ?? START_TIMEOUT_MS);
  for (;;) {
    if (exit) {
      await reapGroup(pid);
      if (/EADDRINUSE|is already running on|is taken by another program/.test(output))
        throw new PortTakenError(`port ${port} was taken`);
      throw new Error(
        `The server exited before answering /health (code ${exit.code}, signal ${exit.signal}):\n${output.trim()}`,
      );
    }
    if (await healthy(origin)) return server;
    if (Date.now() > deadline) {
      await stop("SIGKILL");
      throw new Error(
        `The server did not answer ${origin}/health within ${options.timeoutMs ?? START_TIMEOUT_MS} ms:\n${output.trim()}`,
      );
    }
    await sleep(100);
  }
}

async function healthy(origin: string): Promise<boolean> {
  try {
    const response = await fetch(`${origin}/health`, { signal: AbortSignal.timeout(2_000) });
    await response.body?.cancel();
    return response.ok;
  } catch {
    return false;
  }
}

// Process groups of servers not yet stopped and reaped, killed if this process exits first.
const live = new Set<number>();
let exitHandlerInstalled = false;

function installExitHandler(): void {
  if (exitHandlerInstalled) return;
  exitHandlerInstalled = true;
  // A test that crashes must not leave servers (and their PostgreSQL) running.
  process.on("exit", () => {
    for (const pid of live) signalPid(-pid, "SIGKILL");
  });
}

/**
 * Waits for whatever is left of a server's process group (an embedded PostgreSQL
 * orphaned by a SIGKILL) to go, asking it to shut down first.
 */
async function reapGroup(pgid: number): Promise<void> {
  if (groupAlive(pgid)) {
    signalPid(-pgid, "SIGINT"); // PostgreSQL's fast shutdown.
    const deadline = Date.now() + STOP_TIMEOUT_MS;
    while (groupAlive(pgid) && Date.now() < deadline) await sleep(50);
    if (groupAlive(pgid)) signalPid(-pgid, "SIGKILL");
  }
  live.delete(pgid);
}

/** Whether any process of the group is alive (zombies, which nobody may reap here, are not). */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
  } catch {
    return false;
  }
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return true; // No /proc: trust kill(0).
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      // Fields after the command: state, ppid, pgrp, ...
      const [state, , pgrp] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(pgrp) === pgid && state !== "Z") return true;
    } catch {
      // Gone meanwhile.
    }
  }
  return false;
}

function signalPid(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // Already gone.
  }
}

function cleanEnv(env: ProcessEnv): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
}

// ---------------------------------------------------------------- the CLI

/** How to run a CLI command. */
export interface RunCliOptions {
  /** The whole environment of the process (default: this process's). Undefined values are dropped. */
  env?: ProcessEnv;
  /** Written to standard input, which is then closed (closed at once when absent). */
  stdin?: string;
  /** Default 60 s; the process is killed after it. */
  timeoutMs?: number;
  /** Working directory (default: this process's). */
  cwd?: string;
}

/** What a CLI command did. */
export interface CliResult {
  /** Exit code; `null` if it was killed by a signal. */
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `clique ...args` as its own process and collects its output. */
export function runCli(args: readonly string[], options: RunCliOptions = {}): Promise<CliResult> {
  const child: ChildProcess = spawn(process.execPath, [...NODE_FLAGS, CLIQUE_BIN, ...args], {
    env: cleanEnv(options.env ?? process.env),
    stdio: ["pipe", "pipe", "pipe"],
    ...(options.cwd !== undefined ? { cwd: options.cwd } : {}),
  });
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    stdout += chunk.toString("utf8");
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString("utf8");
  });
  // A command that exits before reading its input closes the pipe under us.
  child.stdin?.on("error", () => {});
  child.stdin?.end(options.stdin ?? "");
  const timeoutMs = options.timeoutMs ?? CLI_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(
        new Error(
          `clique ${args.join(" ")} did not finish within ${timeoutMs} ms\nstdout:\n${stdout}\nstderr:\n${stderr}`,
        ),
      );
    }, timeoutMs);
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** The last non-empty line of a command's output (where the CLI prints codes and tokens). */
export function lastLine(text: string): string {
  const lines = text.split("\n").filter((line) => line.trim() !== "");
  return lines[lines.length - 1] ?? "";
}

/** Runs `clique ...args` and returns its stdout; a non-zero exit throws with everything it printed. */
export async function runCliOk(
  args: readonly string[],
  options: RunCliOptions = {},
): Promise<string> {
  const result = await runCli(args, options);
  if (result.code !== 0) {
    throw new Error(
      `clique ${args.join(" ")} exited with ${result.code}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`,
    );
  }
  return result.stdout;
}
