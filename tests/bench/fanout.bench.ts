/**
 * Benchmark: fan-out. One member (alice) with F remote followers spread over S
 * remote servers; one public post through `POST /api/v1/statuses`, timed until
 * the last server has received and *verified* its copy.
 *
 * The receiving servers (support/bench-remotes.ts) are loopback `node:http`
 * servers started here, one port each; as Mastodon, each checks the
 * draft-cavage signature and the `Digest` of every inbox POST against alice's
 * key (fetched once per server, then cached) and counts only what verifies.
 * Followers of one server share its shared inbox, so a post is S deliveries
 * reaching F followers. The followers are stored with SQL (support/seed.ts):
 * the Follow/Accept exchange is not what this measures.
 *
 * The floor: a delivery costs at least one RSA-2048 signature (one per
 * receiving server). The same run measures how many WebCrypto can make a
 * second on one core of this machine, and prints the fan-out's time beside S
 * signatures' worth of it.
 *
 * Before the measured posts, a warm-up post goes to every server: Fedify
 * knocks first with an RFC 9421 signature, which these servers refuse (401),
 * and it remembers per server to sign with draft-cavage after that.
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/test npm run bench:fanout
 *   BENCH_FANOUT_FOLLOWERS=5000 BENCH_FANOUT_SERVERS=500 ... npm run bench:fanout
 *
 * Settings (environment): BENCH_FANOUT_FOLLOWERS (F, 1000),
 * BENCH_FANOUT_SERVERS (S, 50), BENCH_FANOUT_RUNS (measured posts, one after
 * the other, 3), BENCH_BACKEND postgres|redis (the server's queue; default
 * postgres: no REDIS_URL), BENCH_LOG_LEVEL (warning), CLIQUE_DB_POOL (4 unset),
 * BENCH_TIMEOUT_MS (longest wait for one post's deliveries, 300 000),
 * BENCH_CPU_PROF (a directory: the server runs with `--cpu-prof` and writes
 * its profile there when it stops).
 *
 * Prints the figures (and `BENCH-FIGURE` lines for `npm run bench`); nothing
 * here asserts a timing.
 */
import { cpus, loadavg } from "node:os";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import {
  createTestDatabase,
  lastLine,
  runCliOk,
  type ServerProcess,
  startServerProcess,
  stopEmbeddedTestServer,
  type TestDatabase,
} from "@clique/testing";
import { Redis } from "ioredis";
import pg from "pg";
import { type BenchServer, keyPool, startBenchServers } from "./support/bench-remotes.ts";
import { commit, cpuMs, cpuOf, cpuUsed, median, reportFigure, until } from "./support/proc.ts";
import { localActorId, seedFollows, seedRemoteActors } from "./support/seed.ts";

const FOLLOWERS = Number(process.env.BENCH_FANOUT_FOLLOWERS ?? 1000);
const SERVERS = Number(process.env.BENCH_FANOUT_SERVERS ?? 50);
const RUNS = Number(process.env.BENCH_FANOUT_RUNS ?? 3);
const BACKEND = process.env.BENCH_BACKEND === "redis" ? "redis" : "postgres";
const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const LOG_LEVEL = process.env.BENCH_LOG_LEVEL ?? "warning";
const DB_POOL = process.env.CLIQUE_DB_POOL ?? "4";
const TIMEOUT_MS = Number(process.env.BENCH_TIMEOUT_MS ?? 300_000);
const PASSWORD = "bench password 1";

type Json = Record<string, unknown>;

/**
 * RSA-2048 signatures (RSASSA-PKCS1-v1_5, SHA-256) WebCrypto makes per second,
 * one after the other (one core), over a signing string the size of an inbox
 * POST's.
 */
async function signaturesPerSecond(seconds: number): Promise<number> {
  const { privateKey } = await crypto.subtle.generateKey(
    {
      name: "RSASSA-PKCS1-v1_5",
      modulusLength: 2048,
      publicExponent: new Uint8Array([1, 0, 1]),
      hash: "SHA-256",
    },
    false,
    ["sign", "verify"],
  );
  const data = new TextEncoder().encode(
    `(request-target): post /inbox\nhost: 127.0.0.1:40000\ndate: ${new Date().toUTCString()}\n` +
      `digest: SHA-256=${"x".repeat(44)}\ncontent-type: application/activity+json`,
  );
  for (let i = 0; i < 20; i++) await crypto.subtle.sign("RSASSA-PKCS1-v1_5", privateKey, data);
  let count = 0;
  const start = performance.now();
  while (performance.now() - start < seconds * 1000) {
    await crypto.subtle.sign("RSASSA-PKCS1-v1_5", privateKey, data);
    count++;
  }
  return count / ((performance.now() - start) / 1000);
}

/** Deletes a server's Redis keys (its queues are named after its host). */
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

/** What one measured post gave. */
interface Run {
  /** POST /api/v1/statuses answered, ms after it was sent. */
  postMs: number;
  /** The last verified delivery, ms after the POST was sent. */
  lastMs: number;
  deliveries: number;
  serversReached: number;
  /** Deliveries beyond one per server (a server's followers not sharing its inbox). */
  extra: number;
  serverCpuMs: number | null;
  databaseCpuMs: number | null;
  refusedRfc9421: number;
  refusedInvalid: number;
}

const cleanup: (() => Promise<unknown>)[] = [];
try {
  if (SERVERS < 1 || FOLLOWERS < SERVERS)
    throw new Error("BENCH_FANOUT_FOLLOWERS must be at least BENCH_FANOUT_SERVERS (and that ≥ 1)");
  const db: TestDatabase = await createTestDatabase();
  cleanup.unshift(() => db.drop());
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

  // The receiving servers: F accounts over S servers, as evenly as they go.
  const keys = await keyPool(Math.min(SERVERS, 8));
  const counts = Array.from(
    { length: SERVERS },
    (_, i) => Math.floor(FOLLOWERS / SERVERS) + (i < FOLLOWERS % SERVERS ? 1 : 0),
  );
  const servers: BenchServer[] = await startBenchServers({ accounts: counts, prefix: "f", keys });
  cleanup.unshift(() => Promise.all(servers.map((s) => s.close())));
  const probe = new pg.Client({ connectionString: db.url });
  await probe.connect();
  cleanup.unshift(() => probe.end());
  const alice = await localActorId(probe, "alice");
  const remoteIds = await seedRemoteActors(
    probe,
    servers.flatMap((s) => s.accounts),
  );
  await seedFollows(
    probe,
    [...remoteIds.values()].map((id) => [id, alice] as const),
  );
  await probe.query("analyze");

  // BENCH_CPU_PROF=dir: the server (only) writes a CPU profile there when it stops.
  const serverEnv = process.env.BENCH_CPU_PROF
    ? {
        ...env,
        NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ""} --cpu-prof --cpu-prof-dir=${process.env.BENCH_CPU_PROF}`,
      }
    : env;
  const server: ServerProcess = await startServerProcess({ env: serverEnv, databaseUrl: db.url });
  cleanup.unshift(async () => {
    await server.stop();
    if (BACKEND === "redis") await deleteRedisKeys(server.origin);
  });
  const token = lastLine(await runCliOk(["token", "create", "alice"], { env }));
  const me = (await (
    await fetch(`${server.origin}/api/v1/accounts/verify_credentials`, {
      headers: { authorization: `Bearer ${token}` },
    })
  ).json()) as Json;
  console.log(
    `fan-out bench: ${commit()}\n` +
      `${cpus().length} cores, Node ${process.version}; queue ${BACKEND === "redis" ? `Redis (${REDIS_URL})` : "PostgreSQL"}, ` +
      `database ${process.env.DATABASE_URL ? "DATABASE_URL" : "embedded"}, CLIQUE_DB_POOL=${DB_POOL}, LOG_LEVEL=${LOG_LEVEL}; ` +
      `alice has ${String(me.followers_count)} followers (${FOLLOWERS} seeded) on ${SERVERS} servers; load ${loadavg()[0]!.toFixed(2)}`,
  );

  const post = async (text: string) => {
    const response = await fetch(`${server.origin}/api/v1/statuses`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ status: text, visibility: "public" }),
    });
    const body = (await response.json()) as Json;
    if (!response.ok) throw new Error(`POST /api/v1/statuses: ${response.status}`);
    return String(body.uri);
  };
  const creates = (uri: string) =>
    servers.map((s) => s.deliveries.filter((d) => d.type === "Create" && d.objectId === uri));
  const waitForAll = (uri: string, what: string) =>
    until(what, () => creates(uri).every((list) => list.length > 0), TIMEOUT_MS).catch(
      (error: unknown) => {
        const reached = creates(uri).filter((list) => list.length > 0).length;
        const refused = servers.flatMap((s) => s.refusedInvalid).slice(0, 5);
        throw new Error(
          `${String(error)}: ${reached} of ${SERVERS} servers reached; refused: ${refused.join("; ") || "none"}\n` +
            server.output().slice(-3000),
        );
      },
    );
  const refusals = () => ({
    rfc9421: servers.reduce((n, s) => n + s.refusedRfc9421, 0),
    invalid: servers.reduce((n, s) => n + s.refusedInvalid.length, 0),
  });

  // Warm-up: connections, JIT, alice's key fetched by every server, and the
  // signature spec Fedify remembers for each.
  const warmStart = performance.now();
  await waitForAll(await post("warm-up"), "the warm-up post's deliveries");
  const warmMs = performance.now() - warmStart;
  const warmRefusals = refusals();
  console.log(
    `warm-up post: all ${SERVERS} servers in ${warmMs.toFixed(0)} ms ` +
      `(${warmRefusals.rfc9421} RFC 9421 first knocks refused, ${warmRefusals.invalid} invalid signatures)`,
  );
  await sleep(1_000);

  // The floor, measured now, the same minute as the runs.
  const signRate = await signaturesPerSecond(2);
  const floorMs = (SERVERS / signRate) * 1000;
  console.log(
    `floor: WebCrypto RSA-2048 signatures, one core: ${signRate.toFixed(0)}/s; ` +
      `${SERVERS} servers = ${floorMs.toFixed(1)} ms of signing`,
  );

  const runs: Run[] = [];
  for (let run = 1; run <= RUNS; run++) {
    const before = refusals();
    const backends = await probe.query<{ pid: number }>(
      "select pid from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()",
    );
    const dbPids = backends.rows.map((r) => Number(r.pid));
    const dbBefore = cpuOf(dbPids);
    const cpuBefore = cpuMs(server.pid);
    const t0 = performance.now();
    const uri = await post(`fan-out ${run}`);
    const postMs = performance.now() - t0;
    await waitForAll(uri, `post ${run}'s deliveries`);
    const cpuAfter = cpuMs(server.pid);
    const dbAfter = cpuOf(dbPids);
    const lists = creates(uri);
    const arrivals = lists.flat().map((d) => d.at);
    const after = refusals();
    runs.push({
      postMs,
      lastMs: Math.max(...arrivals) - t0,
      deliveries: arrivals.length,
      serversReached: lists.filter((l) => l.length > 0).length,
      extra: arrivals.length - SERVERS,
      serverCpuMs: cpuBefore !== null && cpuAfter !== null ? cpuAfter - cpuBefore : null,
      databaseCpuMs: dbBefore.size > 0 ? cpuUsed(dbBefore, dbAfter) : null,
      refusedRfc9421: after.rfc9421 - before.rfc9421,
      refusedInvalid: after.invalid - before.invalid,
    });
    const r = runs.at(-1)!;
    console.log(
      `run ${run}: POST answered in ${r.postMs.toFixed(0)} ms; last verified delivery after ${r.lastMs.toFixed(0)} ms; ` +
        `${r.deliveries} deliveries to ${r.serversReached}/${SERVERS} servers (${FOLLOWERS} followers) = ` +
        `${((r.deliveries / r.lastMs) * 1000).toFixed(0)} deliveries/s, ${((FOLLOWERS / r.lastMs) * 1000).toFixed(0)} followers/s; ` +
        `CPU: server ${r.serverCpuMs?.toFixed(0) ?? "n/a"} ms (${r.serverCpuMs === null ? "n/a" : (r.serverCpuMs / r.deliveries).toFixed(2)} ms/delivery), ` +
        `PostgreSQL ${r.databaseCpuMs?.toFixed(0) ?? "n/a"} ms; refused: ${r.refusedRfc9421} RFC 9421, ${r.refusedInvalid} invalid; ` +
        `load ${loadavg()[0]!.toFixed(2)}`,
    );
    await sleep(1_000);
  }

  const lastMs = median(runs.map((r) => r.lastMs));
  const deliveries = median(runs.map((r) => r.deliveries));
  const perSecond = median(runs.map((r) => (r.deliveries / r.lastMs) * 1000));
  const serverCpu = runs.every((r) => r.serverCpuMs !== null)
    ? median(runs.map((r) => r.serverCpuMs! / r.deliveries))
    : null;
  const databaseCpu = runs.every((r) => r.databaseCpuMs !== null)
    ? median(runs.map((r) => r.databaseCpuMs! / r.deliveries))
    : null;
  console.log(
    `median of ${RUNS}: POST → last verified delivery ${lastMs.toFixed(0)} ms ` +
      `(floor ${floorMs.toFixed(1)} ms: ${(lastMs / floorMs).toFixed(1)}× the floor); ` +
      `${perSecond.toFixed(0)} deliveries/s (floor ${signRate.toFixed(0)}/s); ` +
      `server CPU ${serverCpu?.toFixed(2) ?? "n/a"} ms/delivery (floor ${(1000 / signRate).toFixed(2)} ms)`,
  );

  const shape = `${FOLLOWERS} followers on ${SERVERS} servers`;
  reportFigure({
    part: "fanout",
    name: `POST → last verified delivery (${shape})`,
    value: lastMs,
    unit: "ms",
    baseline: floorMs,
    note: `baseline: the floor, ${SERVERS} RSA-2048 signatures on one core`,
  });
  reportFigure({
    part: "fanout",
    name: "verified deliveries/s (one per server)",
    value: perSecond,
    unit: "/s",
    baseline: signRate,
    goal: ">= 1000",
    note: `baseline: WebCrypto signatures/s on one core; ${deliveries} deliveries a post`,
  });
  reportFigure({
    part: "fanout",
    name: "followers reached/s",
    value: (FOLLOWERS / lastMs) * 1000,
    unit: "/s",
  });
  reportFigure({
    part: "fanout",
    name: "server CPU per delivery",
    value: serverCpu,
    unit: "ms",
    baseline: 1000 / signRate,
    note: "baseline: one signature's CPU",
  });
  if (databaseCpu !== null)
    reportFigure({
      part: "fanout",
      name: "PostgreSQL CPU per delivery",
      value: databaseCpu,
      unit: "ms",
    });
} finally {
  for (const step of cleanup)
    await step().catch((error: unknown) => console.error("clean-up failed:", error));
  await stopEmbeddedTestServer();
}
