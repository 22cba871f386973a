/**
 * Benchmark: the footprint of a server on the embedded default (no
 * DATABASE_URL: `clique start` runs its own PostgreSQL in its data directory,
 * in the server's process group).
 *
 * - Start-up: spawning `clique start` to its first 200 on `/health`, the first
 *   start after `clique init` (cold) and then BENCH_FOOTPRINT_STARTS more on
 *   the same data directory (warm: the cluster exists, the OS caches are
 *   warm), median printed. Both include starting the embedded PostgreSQL. The
 *   test rig polls `/health` every 100 ms, so these are ±100 ms.
 * - Idle: BENCH_FOOTPRINT_IDLE_SECONDS after the last start, the server
 *   process's RSS (VmRSS), and PostgreSQL's separately: the sum of the
 *   proportional set sizes (Pss, /proc/PID/smaps_rollup) of the server's
 *   descendants (the postmaster and its back ends), which counts their shared
 *   buffers once rather than once per process.
 * - Under load: the inbox load of the inbox benchmark (support/inbox-load.ts;
 *   BENCH_INBOX_* settings), the peak of both sampled every 100 ms, then the
 *   same BENCH_FOOTPRINT_AFTER_SECONDS (60) later: does it come back down?
 *
 *   npm run bench:footprint
 *
 * Prints the figures (and `BENCH-FIGURE` lines for `npm run bench`); nothing
 * here asserts a timing.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { runCliOk, type ServerProcess, startServerProcess } from "@clique/testing";
import { loadInbox, seedFollowed, startInboxRemotes } from "./support/inbox-load.ts";
import { commit, descendants, median, pssMiB, reportFigure, rssMiB } from "./support/proc.ts";
import { embeddedDatabaseUrl } from "./support/seed.ts";

const STARTS = Number(process.env.BENCH_FOOTPRINT_STARTS ?? 3);
const IDLE_SECONDS = Number(process.env.BENCH_FOOTPRINT_IDLE_SECONDS ?? 10);
const AFTER_SECONDS = Number(process.env.BENCH_FOOTPRINT_AFTER_SECONDS ?? 60);
const NOTES = Number(process.env.BENCH_INBOX_NOTES ?? 1000);
const ACTORS = Number(process.env.BENCH_INBOX_ACTORS ?? 200);
const SERVERS = Number(process.env.BENCH_INBOX_SERVERS ?? 20);
const CONCURRENCY = Number(process.env.BENCH_INBOX_CONCURRENCY ?? 16);
const LOG_LEVEL = process.env.BENCH_LOG_LEVEL ?? "warning";
const PASSWORD = "bench password 1";

/** The server's RSS and its PostgreSQL's summed Pss, MiB. */
function memory(server: ServerProcess): { server: number | null; postgres: number | null } {
  let postgres: number | null = null;
  for (const pid of descendants(server.pid)) {
    const pss = pssMiB(pid);
    if (pss !== null) postgres = (postgres ?? 0) + pss;
  }
  return { server: rssMiB(server.pid), postgres };
}

const mib = (v: number | null) => (v === null ? "n/a" : `${v.toFixed(0)} MiB`);

const cleanup: (() => Promise<unknown>)[] = [];
try {
  const dataDir = await mkdtemp(join(tmpdir(), "clique-footprint-"));
  cleanup.unshift(() => rm(dataDir, { recursive: true, force: true }));
  const env = {
    ...process.env,
    DATABASE_URL: undefined,
    REDIS_URL: undefined,
    CLIQUE_DATA_DIR: dataDir,
    CLIQUE_ALLOW_PRIVATE_ADDRESS: "true",
    LOG_LEVEL,
  };
  await runCliOk(["init", "--name", "Bench", "--owner", "alice", "--password-stdin"], {
    env,
    stdin: PASSWORD,
  });

  let server: ServerProcess | undefined;
  cleanup.unshift(async () => server?.stop());
  const start = async () => {
    const t0 = performance.now();
    server = await startServerProcess({ env });
    return performance.now() - t0;
  };
  const coldMs = await start();
  const warmMs: number[] = [];
  for (let i = 0; i < STARTS; i++) {
    await server!.stop();
    warmMs.push(await start());
  }
  const running: ServerProcess = server!;
  console.log(
    `footprint bench: ${commit()}\n` +
      `${cpus().length} cores, Node ${process.version}; embedded PostgreSQL in ${dataDir}, LOG_LEVEL=${LOG_LEVEL}; ` +
      `load ${loadavg()[0]!.toFixed(2)}\n` +
      `start to first 200 on /health (±100 ms): cold (first after init) ${coldMs.toFixed(0)} ms, ` +
      `warm ${warmMs.map((m) => m.toFixed(0)).join(", ")} ms`,
  );

  await sleep(IDLE_SECONDS * 1000);
  const idle = memory(running);
  console.log(
    `idle (${IDLE_SECONDS} s after start): server RSS ${mib(idle.server)}, PostgreSQL Pss ${mib(idle.postgres)}`,
  );

  const remotes = await startInboxRemotes(ACTORS, SERVERS);
  cleanup.unshift(() => remotes.close());
  const databaseUrl = await embeddedDatabaseUrl(dataDir);
  await seedFollowed(databaseUrl, remotes, "alice");
  const peak = { server: 0, postgres: 0 };
  const sample = () => {
    const now = memory(running);
    peak.server = Math.max(peak.server, now.server ?? 0);
    peak.postgres = Math.max(peak.postgres, now.postgres ?? 0);
  };
  const inbox = `${running.origin}/inbox`;
  for (const [tag, notes] of [
    ["warm", ACTORS],
    ["run", NOTES],
  ] as const) {
    const result = await loadInbox({
      remotes,
      inbox,
      databaseUrl,
      notes,
      concurrency: CONCURRENCY,
      tag,
      during: sample,
    });
    console.log(
      `inbox load (${tag}): ${result.accepted}/${notes} accepted at ${result.acceptedPerSecond.toFixed(0)}/s, ` +
        `processed at ${result.processedPerSecond.toFixed(0)}/s (p99 accept ${result.p99.toFixed(0)} ms)`,
    );
  }
  sample();
  console.log(
    `peak during the inbox load: server RSS ${mib(peak.server)}, PostgreSQL Pss ${mib(peak.postgres)}`,
  );
  const trail: string[] = [];
  for (let s = 10; s <= AFTER_SECONDS; s += 10) {
    await sleep(10_000);
    trail.push(`${s} s ${mib(memory(running).server)}`);
  }
  const after = memory(running);
  console.log(
    `after the load: server RSS ${trail.join(", ")}; at ${AFTER_SECONDS} s server ${mib(after.server)}, ` +
      `PostgreSQL Pss ${mib(after.postgres)}; load ${loadavg()[0]!.toFixed(2)}`,
  );

  const warm = median(warmMs);
  reportFigure({
    part: "footprint",
    name: "start-up to first 200, warm (embedded PostgreSQL included)",
    value: warm,
    unit: "ms",
    goal: "<= 1000",
    note: `±100 ms; cold ${coldMs.toFixed(0)} ms`,
  });
  reportFigure({
    part: "footprint",
    name: "idle RSS, server process",
    value: idle.server,
    unit: "MiB",
    goal: "<= 130",
    note: `embedded PostgreSQL apart: Pss ${mib(idle.postgres)}`,
  });
  reportFigure({
    part: "footprint",
    name: "RSS at the peak of the inbox load",
    value: peak.server,
    unit: "MiB",
    note: `PostgreSQL Pss peak ${peak.postgres.toFixed(0)} MiB`,
  });
  reportFigure({
    part: "footprint",
    name: `RSS ${AFTER_SECONDS} s after the inbox load`,
    value: after.server,
    unit: "MiB",
    goal: "<= 200",
    note: `${after.server !== null && after.server < peak.server * 0.9 ? "comes down" : "does not come down"} from ${peak.server.toFixed(0)}; PostgreSQL Pss ${mib(after.postgres)}`,
  });
} finally {
  for (const step of cleanup)
    await step().catch((error: unknown) => console.error("clean-up failed:", error));
}
