/**
 * Benchmark: the read path of a real `clique start` process under `wrk`, beside
 * a bare Fedify server measured the same way in the same run (the baseline,
 * support/fedify-baseline.ts), because this machine's figures drift from one
 * run to the next and only the ratio travels.
 *
 * Set-up: a fresh database (`createTestDatabase`: DATABASE_URL's server, else
 * embedded); alice, the owner, with one public and one followers-only post;
 * ivy, an account of a fake remote (`startFakeRemote`, not Fedify) whose Follow
 * alice approved; and outsider, an account of the same remote that follows
 * nobody. Ivy's key signs every signed GET, of Clique and of the baseline.
 *
 * Targets: WebFinger, alice's actor document (unsigned and signed GET), the
 * public post's object (signed), the followers-only post's object (signed by
 * ivy; checked to answer 200 to her and 404 to outsider first), the home feed
 * API (bearer token) and alice's profile page (`/@alice`, HTML: needs the web
 * build, `cd packages/web && node scripts/build.mjs --if-stale`; skipped with
 * the reason printed when it is missing). A signed GET is signed once and its
 * headers replayed by wrk; the same headers are first fetched twice and must
 * answer 200 both times. wrk's count of non-2xx answers and socket errors is
 * printed beside every figure.
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/test npm run bench:read
 *
 * Settings (environment): BENCH_SECONDS (each measurement, 15), BENCH_WARMUP
 * (seconds of wrk before each measurement, not counted, 2), BENCH_CONNECTIONS
 * (20), BENCH_THREADS (wrk threads, 1: the other core is left to the server and
 * PostgreSQL), BENCH_ONLY (a comma-separated list of target keys, e.g.
 * `note-signed`), BENCH_CPU_PROF (a directory: the server runs with
 * `--cpu-prof` and writes its profile there when it stops), BENCH_LOG_LEVEL
 * (the server's LOG_LEVEL, warning), CLIQUE_DB_POOL (passed through, 4 unset).
 *
 * Besides requests per second and latencies, each row gives what one request
 * cost, which hardly depends on what else the machine runs: fetches of the
 * signer's actor, database transactions, and CPU time of the server process
 * (`/proc/PID/stat`; for the baseline, of this process, which also serves the
 * signer's key to the baseline). 1000 / (CPU ms per request) is what one core
 * could serve. It includes what the process does meanwhile on its own (its
 * queues, the outbox relay, timers), which weighs more the fewer requests a
 * run serves; contention on a busy machine inflates it too, far less than
 * requests per second. When a run has non-2xx answers, the server's last
 * warnings and errors are printed after the table.
 *
 * Prints the figures; nothing here asserts a timing.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import {
  createTestDatabase,
  type FakeRemote,
  lastLine,
  runCliOk,
  type ServerProcess,
  startFakeRemote,
  startServerProcess,
  stopEmbeddedTestServer,
  type TestDatabase,
} from "@clique/testing";
import pg from "pg";
import { deliver, type Signer } from "../support/mastodon-signing.ts";
import { type Baseline, startBaseline } from "./support/fedify-baseline.ts";
import { until } from "./support/proc.ts";
import { ACTIVITY_ACCEPT, checkReplay, signedGetHeaders } from "./support/signed-get.ts";
import { runWrk, type WrkResult } from "./support/wrk.ts";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 15);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 2);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 20);
const THREADS = Number(process.env.BENCH_THREADS ?? 1);
const ONLY = process.env.BENCH_ONLY?.split(",").filter(Boolean) ?? null;
const CPU_PROF = process.env.BENCH_CPU_PROF;
const LOG_LEVEL = process.env.BENCH_LOG_LEVEL ?? "warning";
const DB_POOL = process.env.CLIQUE_DB_POOL ?? "4";
const PASSWORD = "bench password 1";
const AS = "https://www.w3.org/ns/activitystreams";
const WEB_DIR = fileURLToPath(new URL("../../packages/web/", import.meta.url));

type Json = Record<string, unknown>;

/** One URL to load, with what to send. */
interface Load {
  url: string;
  headers: Record<string, string>;
}

/** One row of the table: Clique's load, and the baseline's where it has the same read. */
interface Target {
  key: string;
  label: string;
  clique: Load | { skip: string };
  baseline?: Load;
}

interface Row {
  target: Target;
  clique: WrkResult | { skip: string };
  /** Requests the signer's server received during Clique's measured run, per request measured. */
  remoteFetches: number | null;
  /** Transactions of Clique's database during its measured run, per request measured. */
  transactions: number | null;
  /** CPU time of Clique's server process during its measured run, ms per request measured. */
  cpuMs: number | null;
  baseline?: WrkResult;
  /** CPU time of the benchmark's own process (the baseline, and the signer's server) per request. */
  baselineCpuMs?: number | null;
}

/** Which commit runs: the figures are only comparable with it named. */
function commit(): string {
  try {
    return execFileSync("git", ["log", "-1", "--format=%h %s"], { encoding: "utf8" })
      .trim()
      .slice(0, 72);
  } catch {
    return "(unknown commit)";
  }
}

/** A process's resident set, MiB (VmRSS of /proc/PID/status); null where /proc cannot tell. */
function rssMiB(pid: number): number | null {
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match ? Number(match[1]) / 1024 : null;
  } catch {
    return null;
  }
}

/** Clock ticks per second of /proc's CPU times. */
const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/**
 * CPU time (user and system) a process has used so far, ms; null where /proc
 * cannot tell. Unlike requests per second, it hardly depends on what else
 * the machine runs: 1000 / (CPU ms per request) is what one core could serve.
 */
function processCpuMs(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields 14 and 15 of proc(5) (utime, stime); the name in parentheses may hold spaces.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return null;
  }
}

/** This process's CPU time so far, ms (the baseline runs in it). */
function ownCpuMs(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}

/** GETs `load` once and throws unless it answers `expected`. */
async function expectStatus(load: Load, expected: number, what: string): Promise<string> {
  const response = await fetch(load.url, { headers: load.headers });
  const text = await response.text();
  if (response.status !== expected)
    throw new Error(`${what}: ${load.url} answered ${response.status}, not ${expected}: ${text}`);
  return text;
}

/**
 * Transactions committed and rolled back in the probe's database so far (every
 * statement outside a transaction is one). PostgreSQL publishes these counters
 * a moment late, hence the pause.
 */
async function transactions(probe: pg.Client): Promise<number> {
  await sleep(1_500);
  await probe.query("select pg_stat_clear_snapshot()");
  const { rows } = await probe.query(
    "select xact_commit + xact_rollback as n from pg_stat_database where datname = current_database()",
  );
  return Number(rows[0]?.n);
}

/**
 * A warm-up run (not counted), then the measured one; with how many requests
 * the signer's server received meanwhile (key and actor fetches) and how many
 * transactions the database ran (the probe's own two are left out).
 */
async function measure(
  load: Load,
  remote: FakeRemote,
  cpu: () => number | null,
  probe?: pg.Client,
): Promise<{
  result: WrkResult;
  remoteFetches: number;
  transactions: number | null;
  cpuMs: number | null;
}> {
  const options = { connections: CONNECTIONS, threads: THREADS, headers: load.headers };
  if (WARMUP > 0) await runWrk(load.url, { ...options, seconds: WARMUP });
  const xactsBefore = probe ? await transactions(probe) : null;
  const before = remote.requests.length;
  const cpuBefore = cpu();
  const result = await runWrk(load.url, { ...options, seconds: SECONDS });
  const cpuAfter = cpu();
  const remoteFetches = remote.requests.length - before;
  const xacts =
    probe && xactsBefore !== null ? (await transactions(probe)) - xactsBefore - 2 : null;
  const cpuMs =
    cpuBefore === null || cpuAfter === null || result.requests === 0
      ? null
      : (cpuAfter - cpuBefore) / result.requests;
  return { result, remoteFetches, transactions: xacts, cpuMs };
}

const cleanup: (() => Promise<unknown>)[] = [];
let server: ServerProcess | undefined;
try {
  const remote: FakeRemote = await startFakeRemote({ usernames: ["ivy", "outsider"] });
  cleanup.unshift(() => remote.close());
  const ivy: Signer = remote.account("ivy");
  const outsider: Signer = remote.account("outsider");

  const db: TestDatabase = await createTestDatabase();
  cleanup.unshift(() => db.drop());
  const env = {
    ...process.env,
    DATABASE_URL: db.url,
    CLIQUE_ALLOW_PRIVATE_ADDRESS: "true",
    CLIQUE_DB_POOL: DB_POOL,
    LOG_LEVEL,
  };
  await runCliOk(["init", "--name", "Bench", "--owner", "alice", "--password-stdin"], {
    env,
    stdin: PASSWORD,
  });
  // Only the server is profiled, not the CLI runs.
  const serverEnv = CPU_PROF
    ? {
        ...env,
        NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ""} --cpu-prof --cpu-prof-dir=${CPU_PROF}`,
      }
    : env;
  // From spawning the process to its first 200 on /health (the rig polls every 100 ms).
  const startedAt = performance.now();
  server = await startServerProcess({ env: serverEnv, databaseUrl: db.url });
  const startupMs = performance.now() - startedAt;
  const running = server;
  cleanup.unshift(() => running.stop());
  const origin = server.origin;
  const token = lastLine(await runCliOk(["token", "create", "alice"], { env }));
  const bearer = { authorization: `Bearer ${token}`, accept: "application/json" };
  const api = async (path: string, init: { method?: string; body?: unknown } = {}) => {
    const response = await fetch(`${origin}${path}`, {
      method: init.method ?? "GET",
      headers: {
        ...bearer,
        ...(init.body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    });
    const text = await response.text();
    if (!response.ok)
      throw new Error(`${init.method ?? "GET"} ${path}: ${response.status} ${text}`);
    return JSON.parse(text) as Json;
  };

  // Ivy follows alice, who approves her; outsider follows nobody.
  const aliceUri = `${origin}/users/alice`;
  const follow = {
    "@context": AS,
    id: `${remote.origin}/follows/ivy`,
    type: "Follow",
    actor: remote.account("ivy").id,
    object: aliceUri,
  };
  const sent = await deliver(`${aliceUri}/inbox`, follow, { as: ivy });
  if (sent.status >= 300) throw new Error(`Follow refused: ${sent.status} ${sent.text}`);
  await until("ivy to follow alice", async () => {
    for (const request of (await api("/api/v1/follow_requests")) as unknown as Json[])
      await api(`/api/v1/follow_requests/${String(request.id)}/authorize`, { method: "POST" });
    return Number((await api("/api/v1/accounts/verify_credentials")).followers_count) >= 1;
  });
  await remote.waitFor((r) => r.inbox && (r.json as Json | undefined)?.type === "Accept", {
    what: "alice's Accept",
  });

  const publicPost = await api("/api/v1/statuses", {
    method: "POST",
    body: { status: "A public post to read.", visibility: "public" },
  });
  const privatePost = await api("/api/v1/statuses", {
    method: "POST",
    body: { status: "For followers only: marker-private.", visibility: "private" },
  });
  const publicUri = String(publicPost.uri);
  const privateUri = String(privatePost.uri);

  // The followers-only post is the follower's, and nobody else's.
  const privateAsIvy = { url: privateUri, headers: await signedGetHeaders(privateUri, ivy) };
  const privateText = await checkReplay(privateAsIvy.url, privateAsIvy.headers);
  if (!privateText.includes("marker-private"))
    throw new Error(`the followers-only post's object is not the post: ${privateText}`);
  await checkReplay(privateUri, await signedGetHeaders(privateUri, outsider), 404);

  // The profile page needs the web build; without it the row is skipped.
  const webDist = join(WEB_DIR, process.env.CLIQUE_WEB_DIST ?? ".next");
  const profile: Load | { skip: string } = existsSync(join(webDist, "BUILD_ID"))
    ? { url: `${origin}/@alice`, headers: { accept: "text/html" } }
    : {
        skip: `no web build in ${webDist} (run: cd packages/web && node scripts/build.mjs --if-stale)`,
      };
  if ("url" in profile) {
    const html = await expectStatus(profile, 200, "the profile page");
    if (!html.includes("alice")) throw new Error("the profile page does not name alice");
  }

  const baseline: Baseline = await startBaseline();
  cleanup.unshift(() => baseline.close());

  const activity = { accept: ACTIVITY_ACCEPT };
  const webfinger = (host: string) =>
    `/.well-known/webfinger?resource=${encodeURIComponent(`acct:alice@${host}`)}`;
  const targets: Target[] = [
    {
      key: "webfinger",
      label: "WebFinger",
      clique: { url: `${origin}${webfinger(new URL(origin).host)}`, headers: {} },
      baseline: { url: baseline.webfinger, headers: {} },
    },
    {
      key: "actor",
      label: "actor, unsigned GET",
      clique: { url: aliceUri, headers: activity },
      baseline: { url: baseline.actor, headers: activity },
    },
    {
      key: "actor-signed",
      label: "actor, signed GET",
      clique: { url: aliceUri, headers: await signedGetHeaders(aliceUri, ivy) },
      baseline: { url: baseline.actor, headers: await signedGetHeaders(baseline.actor, ivy) },
    },
    {
      key: "note-signed",
      label: "public post object, signed",
      clique: { url: publicUri, headers: await signedGetHeaders(publicUri, ivy) },
      baseline: { url: baseline.note, headers: await signedGetHeaders(baseline.note, ivy) },
    },
    {
      key: "private-signed",
      label: "followers-only object, signed",
      clique: privateAsIvy,
    },
    {
      key: "home",
      label: "home feed API",
      clique: { url: `${origin}/api/v1/timelines/home`, headers: bearer },
    },
    { key: "profile", label: "profile page /@alice", clique: profile },
  ];

  // Every load is checked once before it is measured: a 200, and for a signed
  // one a 200 to the replayed headers too.
  for (const target of targets) {
    for (const load of [target.clique, target.baseline]) {
      if (!load || !("url" in load)) continue;
      if (load.headers.signature) await checkReplay(load.url, load.headers);
      else await expectStatus(load, 200, target.label);
    }
  }

  const selected = targets.filter((t) => !ONLY || ONLY.includes(t.key));
  const load = () => loadavg()[0]!.toFixed(2);
  console.log(
    `read-path bench: ${commit()}\n` +
      `${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ` +
      `database ${process.env.DATABASE_URL ? "DATABASE_URL" : "embedded"}, CLIQUE_DB_POOL=${DB_POOL}, ` +
      `LOG_LEVEL=${LOG_LEVEL}; wrk -t${THREADS} -c${CONNECTIONS} -d${SECONDS}s --latency ` +
      `(after ${WARMUP} s of warm-up per load); load ${load()}`,
  );
  const probe = new pg.Client({ connectionString: db.url });
  await probe.connect();
  cleanup.unshift(() => probe.end());
  const rssBefore = rssMiB(server.pid);
  const rows: Row[] = [];
  for (const target of selected) {
    // Clique, then the baseline right after: the same minute's noise on both.
    const serverPid = server.pid;
    const clique =
      "url" in target.clique
        ? await measure(target.clique, remote, () => processCpuMs(serverPid), probe)
        : target.clique;
    const base = target.baseline ? await measure(target.baseline, remote, ownCpuMs) : null;
    const row: Row = {
      target,
      clique: "skip" in clique ? clique : clique.result,
      remoteFetches: "skip" in clique ? null : clique.remoteFetches / clique.result.requests,
      transactions:
        "skip" in clique || clique.transactions === null
          ? null
          : clique.transactions / clique.result.requests,
      cpuMs: "skip" in clique ? null : clique.cpuMs,
      ...(base ? { baseline: base.result, baselineCpuMs: base.cpuMs } : {}),
    };
    rows.push(row);
    console.log(`  measured ${target.key}; load ${load()}`);
  }
  const rssAfter = rssMiB(server.pid);

  const fmt = (value: number, digits = 0) => value.toFixed(digits);
  const refused = (r: WrkResult) =>
    r.non2xx + r.socketErrors === 0 ? "0" : `${r.non2xx} non-2xx, ${r.socketErrors} socket err.`;
  const table = [
    [
      "target",
      "Clique req/s",
      "p50 ms",
      "p99 ms",
      "refused",
      "signer fetches/req",
      "db xacts/req",
      "CPU ms/req",
      "baseline req/s",
      "base p50",
      "base p99",
      "base refused",
      "base CPU ms/req",
      "Clique/baseline",
    ],
  ];
  for (const {
    target,
    clique,
    remoteFetches,
    transactions,
    cpuMs,
    baseline,
    baselineCpuMs,
  } of rows) {
    if ("skip" in clique) {
      table.push([target.label, `skipped: ${clique.skip}`]);
      continue;
    }
    table.push([
      target.label,
      fmt(clique.requestsPerSecond),
      fmt(clique.p50, 2),
      fmt(clique.p99, 2),
      refused(clique),
      remoteFetches === null ? "-" : fmt(remoteFetches, 2),
      transactions === null ? "-" : fmt(transactions, 1),
      cpuMs === null ? "-" : fmt(cpuMs, 2),
      baseline ? fmt(baseline.requestsPerSecond) : "-",
      baseline ? fmt(baseline.p50, 2) : "-",
      baseline ? fmt(baseline.p99, 2) : "-",
      baseline ? refused(baseline) : "-",
      baselineCpuMs === undefined || baselineCpuMs === null ? "-" : fmt(baselineCpuMs, 2),
      baseline ? fmt(clique.requestsPerSecond / baseline.requestsPerSecond, 2) : "-",
    ]);
  }
  const widths = table[0]!.map((_, i) =>
    Math.max(...table.filter((r) => r.length > 2).map((r) => (r[i] ?? "").length)),
  );
  for (const row of table)
    console.log(
      row.length > 2
        ? row
            .map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!)))
            .join("  ")
        : row.join("  "),
    );
  const mib = (v: number | null) => (v === null ? "n/a" : `${v.toFixed(0)} MiB`);
  console.log(
    `server: start to first 200 on /health ${fmt(startupMs)} ms; ` +
      `RSS before the runs ${mib(rssBefore)}, after ${mib(rssAfter)}; load ${load()}`,
  );
  if (CPU_PROF) console.log(`the server's CPU profile goes to ${CPU_PROF} when it stops`);
  // Refusals are not throughput: show what the server said about them.
  const refusedRows = rows.filter((r) => !("skip" in r.clique) && r.clique.non2xx > 0);
  if (refusedRows.length > 0) {
    const said = server
      .output()
      .split("\n")
      .filter((line) => /error|warn|fatal/i.test(line));
    console.log(
      `the server answered non-2xx in: ${refusedRows.map((r) => r.target.key).join(", ")}; ` +
        `its last warnings and errors:\n${said.slice(-20).join("\n") || "(none)"}`,
    );
  }
} finally {
  for (const step of cleanup)
    await step().catch((error: unknown) => console.error("clean-up failed:", error));
  await stopEmbeddedTestServer();
}
