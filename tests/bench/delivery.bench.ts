/**
 * Benchmark: deliveries per second through a real `clique start` process, and
 * the latency of `POST /api/v1/statuses` meanwhile.
 *
 * Per run: a fresh database (`createTestDatabase`: DATABASE_URL's server, else
 * embedded), N fake remote servers on loopback (one account each, so every
 * post goes to N distinct inboxes; they answer 202 at once), each following
 * alice; then P public posts by alice through the API, timed from the first
 * POST until every receiver has every post's `Create`. Before measuring, a few
 * warm-up posts go through the whole path.
 *
 * It drives the server only through HTTP, the CLI and the test rig, so the same
 * file runs unchanged against an older commit (copy it into a worktree).
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/test npm run bench:delivery
 *   BENCH_BACKEND=redis REDIS_URL=redis://127.0.0.1:6379 DATABASE_URL=... npm run bench:delivery
 *
 * Settings (environment): BENCH_BACKEND postgres|redis (default postgres: the
 * server gets no REDIS_URL), BENCH_POSTS (P, 100), BENCH_FOLLOWERS (N, 10),
 * BENCH_POST_CONCURRENCY (POSTs in flight at once, 4: with one at a time the
 * POSTs, not the deliveries, set the pace), BENCH_WARMUP (5), BENCH_RUNS (1),
 * BENCH_LOG_LEVEL (the server's LOG_LEVEL, warning), and CLIQUE_DB_POOL
 * (passed through, 4 when unset). BENCH_FOLLOWERS=0 times the POSTs alone,
 * with nothing to deliver.
 *
 * Besides deliveries/s and POST p50/p95 it prints how long after its POST a
 * post reached its last inbox, the most events waiting in `outbox_events`
 * (where that table exists), the most connections open to the database, and
 * the CPU time per post of the server process and of the database's
 * PostgreSQL back ends (from /proc, so on this machine's PostgreSQL only).
 *
 * Prints the figures; nothing here asserts a timing. The figures depend on
 * whatever else the machine runs: run it several times and report the spread.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import {
  createTestDatabase,
  type FakeRemote,
  lastLine,
  runCliOk,
  type ServerProcess,
  startFakeRemote,
  startServerProcess,
  type TestDatabase,
} from "@clique/testing";
import { Redis } from "ioredis";
import pg from "pg";
import { deliver } from "../support/mastodon-signing.ts";
import { until } from "./support/proc.ts";

const BACKEND = process.env.BENCH_BACKEND === "redis" ? "redis" : "postgres";
const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const POSTS = Number(process.env.BENCH_POSTS ?? 100);
const FOLLOWERS = Number(process.env.BENCH_FOLLOWERS ?? 10);
const CONCURRENCY = Number(process.env.BENCH_POST_CONCURRENCY ?? 4);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 5);
const RUNS = Number(process.env.BENCH_RUNS ?? 1);
const LOG_LEVEL = process.env.BENCH_LOG_LEVEL ?? "warning";
const DB_POOL = process.env.CLIQUE_DB_POOL ?? "4";
/** Longest wait for the deliveries of one run. */
const DRAIN_TIMEOUT_MS = Number(process.env.BENCH_TIMEOUT_MS ?? 300_000);
const PASSWORD = "bench password 1";
const AS = "https://www.w3.org/ns/activitystreams";

type Json = Record<string, unknown>;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function median(values: number[]): number {
  return percentile(
    [...values].sort((a, b) => a - b),
    50,
  );
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

/** Deletes a server's Redis keys (its queues are named after its host, `clique:HOST:...`). */
async function deleteRedisKeys(origin: string): Promise<void> {
  const redis = new Redis(REDIS_URL, { lazyConnect: true });
  try {
    await redis.connect();
    const keys = await redis.keys(`clique:${new URL(origin).host}:*`);
    if (keys.length > 0) await redis.del(...keys);
  } finally {
    redis.disconnect();
  }
}

/** CPU time (user + system) a process has used, in ms; null where /proc cannot tell. */
function cpuMs(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // utime and stime, fields 14 and 15 of stat(5), in clock ticks (100 a second on Linux).
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return null;
  }
}

/** CPU time of the PostgreSQL back ends serving the database `probe` is connected to. */
async function databaseCpu(probe: pg.Client): Promise<Map<number, number>> {
  const { rows } = await probe.query(
    "select pid from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()",
  );
  const cpu = new Map<number, number>();
  for (const row of rows) {
    const ms = cpuMs(Number(row.pid));
    if (ms !== null) cpu.set(Number(row.pid), ms);
  }
  return cpu;
}

/** One receiving server: its inbox POSTs of `Create`s, by post URI, with arrival times. */
interface Receiver {
  remote: FakeRemote;
  /** Its one account. */
  username: string;
  /** Post URI → arrival time (performance.now()) of its first `Create`. */
  creates: Map<string, number>;
  /** `Create`s received again for a post already delivered. */
  duplicates: number;
  /** Other inbox POSTs (Accepts, Updates...). */
  others: string[];
}

async function startReceiver(index: number): Promise<Receiver> {
  const receiver: Receiver = {
    remote: undefined as unknown as FakeRemote,
    username: `follower${index}`,
    creates: new Map(),
    duplicates: 0,
    others: [],
  };
  receiver.remote = await startFakeRemote({
    usernames: [receiver.username],
    inboxStatus: (request) => {
      const now = performance.now();
      const activity = request.json as Json | undefined;
      const object = activity?.object as Json | string | undefined;
      const uri = typeof object === "object" && object ? object.id : undefined;
      if (activity?.type === "Create" && typeof uri === "string") {
        if (receiver.creates.has(uri)) receiver.duplicates++;
        else receiver.creates.set(uri, now);
      } else {
        receiver.others.push(String(activity?.type));
      }
      return 202;
    },
  });
  return receiver;
}

/** What one run measured. */
interface RunResult {
  deliveries: number;
  seconds: number;
  perSecond: number;
  /** POST /api/v1/statuses, ms. */
  postP50: number;
  postP95: number;
  /** From a POST's answer to its last delivery, ms. */
  lagP50: number;
  lagP95: number;
  /** How long after the last POST answered the last delivery came, ms. */
  tailMs: number;
  duplicates: number;
  /** Most events waiting in `outbox_events` at once (null: no such table, the old path). */
  outboxPeak: number | null;
  /** Most connections open to the run's database at once (the server's, and this probe's one). */
  connectionsPeak: number;
  /** CPU the server process used over the measurement, per post, ms (null: no /proc). */
  serverCpuPerPost: number | null;
  /**
   * CPU the database's PostgreSQL back ends used over the measurement, per post,
   * ms (those open at its end; null: not on this machine's /proc).
   */
  databaseCpuPerPost: number | null;
  load: string;
}

async function oneRun(run: number): Promise<RunResult> {
  const loadBefore = loadavg()[0]!.toFixed(2);
  let db: TestDatabase | undefined;
  let server: ServerProcess | undefined;
  let probe: pg.Client | undefined;
  const receivers: Receiver[] = [];
  try {
    db = await createTestDatabase();
    for (let i = 0; i < FOLLOWERS; i++) receivers.push(await startReceiver(i));
    const env = {
      ...process.env,
      DATABASE_URL: db.url,
      REDIS_URL: BACKEND === "redis" ? REDIS_URL : undefined,
      CLIQUE_ALLOW_PRIVATE_ADDRESS: "true",
      CLIQUE_DB_POOL: DB_POOL,
      LOG_LEVEL,
    };
    await runCliOk(["init", "--name", "Bench", "--owner", "alice", "--password-stdin"], {
      env,
      stdin: PASSWORD,
    });
    server = await startServerProcess({ env, databaseUrl: db.url });
    const token = lastLine(await runCliOk(["token", "create", "alice"], { env }));
    const origin = server.origin;
    const api = async (path: string, init: { method?: string; body?: unknown } = {}) => {
      const response = await fetch(`${origin}${path}`, {
        method: init.method ?? "GET",
        headers: {
          authorization: `Bearer ${token}`,
          ...(init.body === undefined ? {} : { "content-type": "application/json" }),
        },
        ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
      });
      const text = await response.text();
      if (!response.ok)
        throw new Error(`${init.method ?? "GET"} ${path}: ${response.status} ${text}`);
      return JSON.parse(text) as unknown;
    };

    // Every receiver's account follows alice; alice approves them.
    const aliceUri = `${origin}/users/alice`;
    for (const r of receivers) {
      const account = r.remote.account(r.username);
      const sent = await deliver(
        `${aliceUri}/inbox`,
        {
          "@context": AS,
          id: `${r.remote.origin}/follows/${run}`,
          type: "Follow",
          actor: account.id,
          object: aliceUri,
        },
        { as: account },
      );
      if (sent.status >= 300) throw new Error(`Follow refused: ${sent.status} ${sent.text}`);
    }
    await until(`${FOLLOWERS} followers of alice`, async () => {
      for (const request of (await api("/api/v1/follow_requests")) as Json[]) {
        await api(`/api/v1/follow_requests/${String(request.id)}/authorize`, { method: "POST" });
      }
      const me = (await api("/api/v1/accounts/verify_credentials")) as Json;
      return Number(me.followers_count) >= FOLLOWERS;
    });
    await until("every Accept delivered", () =>
      receivers.every((r) => r.others.includes("Accept")),
    );

    const post = async (text: string) => {
      const start = performance.now();
      const status = (await api("/api/v1/statuses", {
        method: "POST",
        body: { status: text, visibility: "public" },
      })) as Json;
      return { uri: String(status.uri), start, answered: performance.now() };
    };
    const deliveredAll = (uris: readonly string[]) =>
      receivers.every((r) => uris.every((u) => r.creates.has(u)));

    // Warm-up: the whole path once over (connections, caches, JIT).
    const warm: string[] = [];
    for (let i = 0; i < WARMUP; i++) warm.push((await post(`warm-up ${i}`)).uri);
    await until("the warm-up deliveries", () => deliveredAll(warm), DRAIN_TIMEOUT_MS);

    // Watch the outbox's backlog, where there is one (not on the old path), and
    // the connections open to the database.
    let outboxPeak: number | null = null;
    let connectionsPeak = 0;
    let watching = true;
    probe = new pg.Client({ connectionString: db.url });
    await probe.connect();
    const hasOutbox =
      (await probe.query("select to_regclass('outbox_events') is not null as present")).rows[0]
        ?.present === true;
    const watcher = (async () => {
      if (hasOutbox) outboxPeak = 0;
      while (watching) {
        const { rows } = await probe!.query(
          `select (select count(*) from pg_stat_activity where datname = current_database()) as connections${
            hasOutbox ? ", (select count(*) from outbox_events) as outbox" : ""
          }`,
        );
        connectionsPeak = Math.max(connectionsPeak, Number(rows[0].connections));
        if (hasOutbox) outboxPeak = Math.max(outboxPeak ?? 0, Number(rows[0].outbox));
        await sleep(20);
      }
    })();

    const duplicatesBefore = receivers.reduce((n, r) => n + r.duplicates, 0);
    const serverCpuBefore = cpuMs(server.pid);
    const databaseCpuBefore = await databaseCpu(probe);
    const posts: { uri: string; start: number; answered: number }[] = [];
    const t0 = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.max(1, CONCURRENCY) }, async () => {
        while (next < POSTS) {
          const i = next++;
          posts.push(await post(`bench post ${i} of run ${run}`));
        }
      }),
    );
    const lastAnswered = Math.max(...posts.map((p) => p.answered));
    const uris = posts.map((p) => p.uri);
    await until(
      `${POSTS * FOLLOWERS} deliveries`,
      () => deliveredAll(uris),
      DRAIN_TIMEOUT_MS,
    ).catch((error: unknown) => {
      const got = receivers.reduce((n, r) => n + uris.filter((u) => r.creates.has(u)).length, 0);
      throw new Error(`${String(error)} (got ${got})\n${server?.output().slice(-4000)}`);
    });
    const arrivals = receivers.flatMap((r) => uris.map((u) => r.creates.get(u)!));
    const tLast = arrivals.length > 0 ? Math.max(...arrivals) : lastAnswered;
    watching = false;
    await watcher;
    const serverCpuAfter = cpuMs(server.pid);
    const databaseCpuAfter = await databaseCpu(probe);
    let databaseCpuUsed: number | null = null;
    for (const [pid, ms] of databaseCpuAfter) {
      databaseCpuUsed = (databaseCpuUsed ?? 0) + ms - (databaseCpuBefore.get(pid) ?? 0);
    }

    const seconds = (tLast - t0) / 1000;
    const latencies = posts.map((p) => p.answered - p.start).sort((a, b) => a - b);
    const lags = posts
      .map((p) => Math.max(p.answered, ...receivers.map((r) => r.creates.get(p.uri)!)) - p.answered)
      .sort((a, b) => a - b);
    return {
      deliveries: arrivals.length,
      seconds,
      perSecond: arrivals.length / seconds,
      postP50: percentile(latencies, 50),
      postP95: percentile(latencies, 95),
      lagP50: percentile(lags, 50),
      lagP95: percentile(lags, 95),
      tailMs: tLast - lastAnswered,
      duplicates: receivers.reduce((n, r) => n + r.duplicates, 0) - duplicatesBefore,
      outboxPeak,
      connectionsPeak,
      serverCpuPerPost:
        serverCpuBefore !== null && serverCpuAfter !== null
          ? (serverCpuAfter - serverCpuBefore) / POSTS
          : null,
      databaseCpuPerPost: databaseCpuUsed === null ? null : databaseCpuUsed / POSTS,
      load: `${loadBefore}→${loadavg()[0]!.toFixed(2)}`,
    };
  } finally {
    await probe?.end().catch(() => {});
    await server?.stop();
    if (server && BACKEND === "redis") await deleteRedisKeys(server.origin);
    await Promise.all(receivers.map((r) => r.remote.close()));
    await db?.drop();
  }
}

console.log(
  `delivery bench: ${commit()}\n` +
    `back end ${BACKEND === "redis" ? `Redis (${REDIS_URL})` : "PostgreSQL"}, database ${process.env.DATABASE_URL ? "DATABASE_URL" : "embedded"}; ` +
    `${POSTS} posts × ${FOLLOWERS} inboxes, ${CONCURRENCY} POST(s) at once, ${WARMUP} warm-up posts, ` +
    `LOG_LEVEL=${LOG_LEVEL}, CLIQUE_DB_POOL=${DB_POOL}`,
);
const results: RunResult[] = [];
for (let run = 1; run <= RUNS; run++) {
  const r = await oneRun(run);
  results.push(r);
  console.log(
    `run ${run}: ${r.deliveries} deliveries in ${r.seconds.toFixed(2)} s = ${r.perSecond.toFixed(1)}/s; ` +
      `POST p50 ${r.postP50.toFixed(1)} ms p95 ${r.postP95.toFixed(1)} ms; ` +
      `POST→last delivery p50 ${r.lagP50.toFixed(0)} ms p95 ${r.lagP95.toFixed(0)} ms; ` +
      `tail after last POST ${r.tailMs.toFixed(0)} ms; duplicates ${r.duplicates}; ` +
      `outbox peak ${r.outboxPeak ?? "n/a"}; connections peak ${r.connectionsPeak}; ` +
      `CPU per post: server ${r.serverCpuPerPost?.toFixed(1) ?? "n/a"} ms, PostgreSQL ${r.databaseCpuPerPost?.toFixed(1) ?? "n/a"} ms; ` +
      `load ${r.load}`,
  );
}
if (RUNS > 1) {
  const span = (pick: (r: RunResult) => number, digits: number) => {
    const values = results.map(pick);
    return `${median(values).toFixed(digits)} (${Math.min(...values).toFixed(digits)}–${Math.max(...values).toFixed(digits)})`;
  };
  console.log(
    `median (min–max) of ${RUNS}: deliveries/s ${span((r) => r.perSecond, 1)}; ` +
      `POST p50 ${span((r) => r.postP50, 1)} ms; POST p95 ${span((r) => r.postP95, 1)} ms; ` +
      `POST→last delivery p50 ${span((r) => r.lagP50, 0)} ms`,
  );
}
