/**
 * Benchmark: the shared inbox. N signed public `Create(Note)`s from many remote
 * actors (support/inbox-load.ts: bench servers on loopback serving the actors'
 * documents and keys; alice follows every actor) POSTed to a real
 * `clique start`'s shared inbox, C at a time. Prints accepted/s (2xx answers:
 * signature verified, activity queued), processed/s (until every note is a
 * stored post, in alice's home feed; one is checked there through the API),
 * the accept latency, and the server's RSS at the peak of the load.
 *
 * Baseline: the bare Fedify server (support/fedify-baseline.ts) takes the same
 * number of Creates from the same actors, signed the same way, in the same
 * run; it verifies each signature and counts it (no queue: the listener runs
 * before it answers, so its accepted is its processed).
 *
 * Before each measurement, one note from every actor warms up (every actor's
 * key fetched and cached, connections, JIT).
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/test npm run bench:inbox
 *
 * Settings (environment): BENCH_INBOX_NOTES (N, 1000), BENCH_INBOX_ACTORS
 * (200), BENCH_INBOX_SERVERS (20), BENCH_INBOX_CONCURRENCY (C, 16),
 * BENCH_BACKEND postgres|redis (the server's queue; default postgres),
 * BENCH_LOG_LEVEL (warning), CLIQUE_DB_POOL (4 unset), BENCH_CPU_PROF (a
 * directory: the server runs with `--cpu-prof` and writes its profile there).
 *
 * Prints the figures (and `BENCH-FIGURE` lines for `npm run bench`); nothing
 * here asserts a timing.
 */
import { cpus, loadavg } from "node:os";
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
import { type Baseline, startBaseline } from "./support/fedify-baseline.ts";
import {
  blast,
  loadInbox,
  seedFollowed,
  signNotes,
  startInboxRemotes,
} from "./support/inbox-load.ts";
import { commit, percentile, reportFigure, rssMiB, until } from "./support/proc.ts";

const NOTES = Number(process.env.BENCH_INBOX_NOTES ?? 1000);
const ACTORS = Number(process.env.BENCH_INBOX_ACTORS ?? 200);
const SERVERS = Number(process.env.BENCH_INBOX_SERVERS ?? 20);
const CONCURRENCY = Number(process.env.BENCH_INBOX_CONCURRENCY ?? 16);
const BACKEND = process.env.BENCH_BACKEND === "redis" ? "redis" : "postgres";
const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const LOG_LEVEL = process.env.BENCH_LOG_LEVEL ?? "warning";
const DB_POOL = process.env.CLIQUE_DB_POOL ?? "4";
const PASSWORD = "bench password 1";

type Json = Record<string, unknown>;

const cleanup: (() => Promise<unknown>)[] = [];
try {
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
  const remotes = await startInboxRemotes(ACTORS, SERVERS);
  cleanup.unshift(() => remotes.close());
  await seedFollowed(db.url, remotes, "alice");

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
    if (BACKEND === "redis") {
      const redis = new Redis(REDIS_URL, { lazyConnect: true });
      await redis.connect();
      const keys = await redis.keys(`clique:${new URL(server.origin).host}:*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
    }
  });
  const token = lastLine(await runCliOk(["token", "create", "alice"], { env }));
  const inbox = `${server.origin}/inbox`;
  console.log(
    `inbox bench: ${commit()}\n` +
      `${cpus().length} cores, Node ${process.version}; queue ${BACKEND === "redis" ? `Redis (${REDIS_URL})` : "PostgreSQL"}, ` +
      `database ${process.env.DATABASE_URL ? "DATABASE_URL" : "embedded"}, CLIQUE_DB_POOL=${DB_POOL}, LOG_LEVEL=${LOG_LEVEL}; ` +
      `${NOTES} notes from ${ACTORS} actors on ${SERVERS} servers, ${CONCURRENCY} in flight; load ${loadavg()[0]!.toFixed(2)}`,
  );

  // Warm-up: one note from every actor.
  const warm = await loadInbox({
    remotes,
    inbox,
    databaseUrl: db.url,
    notes: ACTORS,
    concurrency: CONCURRENCY,
    tag: "warm",
  });
  console.log(
    `warm-up (every actor's first note, keys fetched): ${warm.accepted} accepted at ${warm.acceptedPerSecond.toFixed(0)}/s, ` +
      `processed at ${warm.processedPerSecond.toFixed(0)}/s, refused ${warm.refused.length}`,
  );

  let rssPeak = rssMiB(server.pid) ?? 0;
  const rssBefore = rssPeak;
  const clique = await loadInbox({
    remotes,
    inbox,
    databaseUrl: db.url,
    notes: NOTES,
    concurrency: CONCURRENCY,
    tag: "run",
    during: () => {
      rssPeak = Math.max(rssPeak, rssMiB(server.pid) ?? 0);
    },
  });
  const rssEnd = rssMiB(server.pid);
  console.log(
    `Clique: ${clique.accepted}/${clique.notes} accepted at ${clique.acceptedPerSecond.toFixed(0)}/s ` +
      `(p50 ${clique.p50.toFixed(1)} ms, p99 ${clique.p99.toFixed(1)} ms; refused ${clique.refused.length}` +
      `${clique.refused.length ? `: ${clique.refused.slice(0, 3).join("; ")}` : ""}); ` +
      `all stored after ${clique.processedSeconds.toFixed(2)} s = ${clique.processedPerSecond.toFixed(0)} processed/s; ` +
      `RSS ${rssBefore.toFixed(0)} MiB before, peak ${rssPeak.toFixed(0)} MiB, ${rssEnd?.toFixed(0) ?? "n/a"} MiB at the end; ` +
      `load ${loadavg()[0]!.toFixed(2)}`,
  );

  // The last note is in alice's home feed (read through the API, as she reads it).
  const lastNote = `${remotes.accounts[(NOTES - 1) % remotes.accounts.length]!.id}/statuses/run-${NOTES - 1}`;
  const home = (await (
    await fetch(`${server.origin}/api/v1/timelines/home?limit=40`, {
      headers: { authorization: `Bearer ${token}` },
    })
  ).json()) as Json[];
  if (!home.some((s) => s.uri === lastNote))
    throw new Error(`the last note ${lastNote} is not in alice's home feed`);

  // The baseline, the same way.
  const baseline: Baseline = await startBaseline();
  cleanup.unshift(() => baseline.close());
  const baseWarm = await signNotes(remotes, baseline.inbox, ACTORS, "warm");
  await blast(baseWarm.posts, CONCURRENCY);
  const before = baseline.creates();
  const baseRun = await signNotes(remotes, baseline.inbox, NOTES, "run");
  const base = await blast(baseRun.posts, CONCURRENCY);
  await until("the baseline's count", () => baseline.creates() - before >= base.accepted, 10_000);
  const baseRate = base.accepted / base.seconds;
  const baseP99 = percentile(base.latencies, 99);
  console.log(
    `baseline (bare Fedify): ${base.accepted}/${NOTES} accepted and processed at ${baseRate.toFixed(0)}/s ` +
      `(p50 ${percentile(base.latencies, 50).toFixed(1)} ms, p99 ${baseP99.toFixed(1)} ms; refused ${base.refused.length}` +
      `${base.refused.length ? `: ${base.refused.slice(0, 3).join("; ")}` : ""})`,
  );
  console.log(
    `Clique / baseline: accepted ${(clique.acceptedPerSecond / baseRate).toFixed(2)}, ` +
      `processed ${(clique.processedPerSecond / baseRate).toFixed(2)}`,
  );

  reportFigure({
    part: "inbox",
    name: "accepted/s (shared inbox)",
    value: clique.acceptedPerSecond,
    unit: "/s",
    baseline: baseRate,
  });
  reportFigure({
    part: "inbox",
    name: "processed into feeds/s",
    value: clique.processedPerSecond,
    unit: "/s",
    baseline: baseRate,
    goal: ">= 500",
    note: "baseline: bare Fedify processes before answering",
  });
  reportFigure({
    part: "inbox",
    name: "accept latency p99",
    value: clique.p99,
    unit: "ms",
    baseline: baseP99,
  });
  reportFigure({
    part: "inbox",
    name: "server RSS, peak of the inbox load",
    value: rssPeak,
    unit: "MiB",
    goal: "<= 200",
    note: `${process.env.DATABASE_URL ? "on DATABASE_URL" : "embedded database"}; PostgreSQL not counted`,
  });
} finally {
  for (const step of cleanup)
    await step().catch((error: unknown) => console.error("clean-up failed:", error));
  await stopEmbeddedTestServer();
}
