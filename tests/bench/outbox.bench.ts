/**
 * Benchmark: what the transactional outbox costs per post, through core's API
 * on a real PostgreSQL (DATABASE_URL, else embedded).
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/test npm run bench:outbox
 *
 * 1. Writing the event. `createPost` as it is (the post and its `post-created`
 *    event in one transaction, the event's `pg_notify` firing at commit) against
 *    the same use case on the same database with stores whose transaction
 *    (a) leaves the event out, (b) inserts it without the NOTIFY. Interleaved
 *    one post at a time, then in blocks of BENCH_CONCURRENCY posts in flight.
 * 2. The relay's work per event: `relayNext()` over `post-created` events,
 *    (a) bare, with no subscriber (claim, decode, take out, commit), and (b)
 *    with the federation publisher of the server's own composition (`compose()`;
 *    Redis jobs with BENCH_BACKEND=redis), its workers not started: addressing
 *    BENCH_FOLLOWERS remote followers on as many servers, building the Note,
 *    Fedify's `sendActivity` and the enqueue of its fan-out job. Each timed
 *    one loop at a time, then the rate of two loops, as a server runs them.
 *
 * Prints the figures; nothing here asserts a timing. The machine may be
 * shared: run it more than once.
 */
import { performance } from "node:perf_hooks";
import {
  type Clique,
  createClique,
  type Member,
  type OutboxStore,
  type Stores,
} from "@clique/core";
import { createKyselyStores, migrateToLatest, openDatabase } from "@clique/core/kysely";
import { compose, loadConfig } from "@clique/server";
import {
  createTestDatabase,
  insertFollow,
  insertRemoteActor,
  stopEmbeddedTestServer,
  TEST_ORIGIN,
  type TestDatabase,
} from "@clique/testing";
import { Redis } from "ioredis";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 300);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);
const BLOCK = Number(process.env.BENCH_BLOCK ?? 80);
const FOLLOWERS = Number(process.env.BENCH_FOLLOWERS ?? 10);
const EVENTS = Number(process.env.BENCH_EVENTS ?? 200);
/** Relay loops in a server process (`compose.ts`). */
const RELAY_LOOPS = 2;
const BACKEND = process.env.BENCH_BACKEND === "redis" ? "redis" : "postgres";
const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const PASSWORD = "bench password 1";
/** The composed server's origin: nothing is served or delivered; it names its Redis keys. */
const ORIGIN = "http://127.0.0.1:9";

async function deleteRedisKeys(pattern: string): Promise<void> {
  const redis = new Redis(REDIS_URL, { lazyConnect: true });
  try {
    await redis.connect();
    const keys = await redis.keys(pattern);
    if (keys.length > 0) await redis.del(...keys);
  } finally {
    redis.disconnect();
  }
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function summary(samples: number[]): { mean: number; p50: number; p95: number; line: string } {
  const sorted = [...samples].sort((a, b) => a - b);
  const mean = sorted.reduce((a, b) => a + b, 0) / sorted.length;
  const p50 = percentile(sorted, 50);
  const p95 = percentile(sorted, 95);
  return {
    mean,
    p50,
    p95,
    line: `n=${sorted.length}  mean ${mean.toFixed(3)} ms  p50 ${p50.toFixed(3)} ms  p95 ${p95.toFixed(3)} ms`,
  };
}

/** The stores of a transaction with `record` replaced. */
function withRecord(tx: Stores, record: OutboxStore["record"]): Stores {
  const outbox = Object.create(tx.outbox) as OutboxStore;
  outbox.record = record;
  return { ...tx, outbox };
}

/** A member with FOLLOWERS accepted remote followers, each on a server of its own. */
async function seed(clique: Clique, stores: Stores, db: Parameters<typeof insertRemoteActor>[0]) {
  const init = await clique.initClique({
    name: "Bench",
    ownerUsername: "alice",
    ownerPassword: PASSWORD,
    memberCap: 10,
  });
  if (!init.ok) throw new Error(init.reason);
  const alice: Member = init.value.owner;
  for (let i = 0; i < FOLLOWERS; i++) {
    const actor = await insertRemoteActor(db, `follower${i}`, `r${i}.example`);
    await insertFollow(stores, actor.id, alice.id, "accepted");
  }
  return alice;
}

async function post(clique: Clique, alice: Member, text: string): Promise<void> {
  const r = await clique.createPost(alice, { source: text, audience: "public" });
  if (!r.ok) throw new Error(r.reason);
}

// ---------------------------------------------------------------- 1. writing the event

async function writeCost(database: TestDatabase): Promise<void> {
  const db = openDatabase(database.url, { maxConnections: CONCURRENCY + 2 });
  try {
    await migrateToLatest(db);
    const stores = createKyselyStores(db);
    const config = { origin: TEST_ORIGIN, defaultMemberCap: 10 };
    const variants = {
      "with the event (as shipped)": stores,
      "event inserted, no NOTIFY": {
        ...stores,
        transaction: (fn) =>
          db.transaction().execute((trx) =>
            fn(
              withRecord(createKyselyStores(trx), async (event, at) => {
                await trx
                  .insertInto("outbox_events")
                  .values({
                    id: crypto.randomUUID(),
                    kind: event.kind,
                    event: JSON.stringify(event),
                    created_at: at,
                    available_at: at,
                  })
                  .execute();
              }),
            ),
          ),
      } satisfies Stores,
      "without the event": {
        ...stores,
        transaction: (fn) => stores.transaction((tx) => fn(withRecord(tx, async () => {}))),
      } satisfies Stores,
    };
    const names = Object.keys(variants) as (keyof typeof variants)[];
    const nameAt = (i: number) => names[i % names.length] as keyof typeof variants;
    const cliques = new Map(names.map((n) => [n, createClique({ stores: variants[n], config })]));
    const alice = await seed(cliques.get(nameAt(0))!, stores, db);
    // The relay would take events out as they come; here they go between batches, untimed.
    const emptyOutbox = () => db.deleteFrom("outbox_events").execute();

    for (let i = 0; i < 30; i++) for (const n of names) await post(cliques.get(n)!, alice, "warm");
    await emptyOutbox();

    console.log(
      `\n1a. createPost, one at a time, ${ROUNDS} each, interleaved (order rotates every round)`,
    );
    const samples = new Map(names.map((n) => [n, [] as number[]]));
    for (let round = 0; round < ROUNDS; round++) {
      for (let k = 0; k < names.length; k++) {
        const n = nameAt(round + k);
        const start = performance.now();
        await post(cliques.get(n)!, alice, `post ${round} #bench`);
        samples.get(n)!.push(performance.now() - start);
      }
      if (round % 50 === 49) await emptyOutbox();
    }
    const base = summary(samples.get("without the event")!);
    for (const n of names) {
      const s = summary(samples.get(n)!);
      console.log(
        `${n.padEnd(30)} ${s.line}  (p50 ${s.p50 - base.p50 >= 0 ? "+" : ""}${(s.p50 - base.p50).toFixed(3)} ms)`,
      );
    }

    console.log(
      `\n1b. createPost, ${CONCURRENCY} in flight, blocks of ${BLOCK} posts, 3 blocks each, interleaved`,
    );
    const rates = new Map(names.map((n) => [n, [] as number[]]));
    const concurrent = new Map(names.map((n) => [n, [] as number[]]));
    for (let block = 0; block < 3; block++) {
      for (let k = 0; k < names.length; k++) {
        const n = nameAt(block + k);
        let next = 0;
        const start = performance.now();
        await Promise.all(
          Array.from({ length: CONCURRENCY }, async () => {
            while (next++ < BLOCK) {
              const t = performance.now();
              await post(cliques.get(n)!, alice, `concurrent post #bench`);
              concurrent.get(n)!.push(performance.now() - t);
            }
          }),
        );
        rates.get(n)!.push(BLOCK / ((performance.now() - start) / 1000));
        await emptyOutbox();
      }
    }
    for (const n of names) {
      const r = rates.get(n)!;
      console.log(
        `${n.padEnd(30)} ${summary(concurrent.get(n)!).line}  posts/s ${r.map((x) => x.toFixed(0)).join(", ")}`,
      );
    }
  } finally {
    await db.destroy();
  }
}

// ---------------------------------------------------------------- 2. the relay

async function relayCost(): Promise<void> {
  console.log(`\n2. relayNext per post-created event, ${EVENTS} events a row`);
  // (a) Bare: a Clique without federation has no publisher and no subscriber.
  {
    const first = await createTestDatabase();
    const db = openDatabase(first.url, { maxConnections: 4 });
    try {
      await migrateToLatest(db);
      const stores = createKyselyStores(db);
      const clique = createClique({
        stores,
        config: { origin: TEST_ORIGIN, defaultMemberCap: 10 },
      });
      const alice = await seed(clique, stores, db);
      await timeRelay("bare (no subscriber)", clique, alice);
    } finally {
      await db.destroy();
      await first.drop();
    }
  }
  // (b) The server's composition: the federation publisher on the real job engine.
  const second = await createTestDatabase();
  try {
    const composition = await compose(
      loadConfig({
        DATABASE_URL: second.url,
        CLIQUE_ORIGIN: ORIGIN,
        CLIQUE_ALLOW_PRIVATE_ADDRESS: "true",
        CLIQUE_DB_POOL: "4",
        REDIS_URL: BACKEND === "redis" ? REDIS_URL : undefined,
        LOG_LEVEL: "warning",
      }),
    );
    try {
      const { clique, storage, jobs } = composition;
      const alice = await seed(clique, storage.stores, storage.db);
      await timeRelay(
        `with the publisher, jobs on ${jobs.backend === "redis" ? "Redis" : "PostgreSQL"}`,
        clique,
        alice,
      );
      const fanout = (await jobs.status()).find((q) => q.name === "fanout");
      console.log(`   (fan-out jobs queued: ${fanout?.waiting ?? "?"}; no worker ran them)`);
    } finally {
      await composition.close();
    }
  } finally {
    await second.drop();
    // The fan-out jobs queued on Redis, never run: the database took the PostgreSQL ones with it.
    if (BACKEND === "redis") await deleteRedisKeys(`clique:${new URL(ORIGIN).host}:*`);
  }
}

async function timeRelay(label: string, clique: Clique, alice: Member): Promise<void> {
  for (let i = 0; i < 20; i++) await post(clique, alice, "warm");
  while ((await clique.relayNext()) !== "idle");
  // One loop, each event timed; then as many loops as the server runs (two), events/s.
  for (const loops of [1, RELAY_LOOPS]) {
    for (let i = 0; i < EVENTS; i++) await post(clique, alice, `relayed post ${i} #bench`);
    const samples: number[] = [];
    const start = performance.now();
    await Promise.all(
      Array.from({ length: loops }, async () => {
        for (;;) {
          const t = performance.now();
          const outcome = await clique.relayNext();
          if (outcome === "idle") return;
          if (outcome !== "relayed") throw new Error(`relayNext: ${outcome}`);
          samples.push(performance.now() - t);
        }
      }),
    );
    const rate = samples.length / ((performance.now() - start) / 1000);
    console.log(
      `${`${label}, ${loops} loop${loops > 1 ? "s" : ""}`.padEnd(52)} ${summary(samples).line}  ${rate.toFixed(0)} events/s`,
    );
  }
}

const database = await createTestDatabase();
console.log(
  `outbox bench: database ${process.env.DATABASE_URL ? "DATABASE_URL" : "embedded"}; ${FOLLOWERS} remote followers on ${FOLLOWERS} servers`,
);
try {
  await writeCost(database);
  await relayCost();
} finally {
  await database.drop();
  await stopEmbeddedTestServer();
}
