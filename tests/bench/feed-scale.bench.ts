/**
 * Benchmark: feeds at scale. A fresh database is filled with SQL
 * (`generate_series`): 50 members, BENCH_POSTS posts (default 1 000 000) over
 * every audience (direct posts with their recipients and mentions rows,
 * circle posts in their author's circle), 10 000 remote accounts of which
 * 5 000 are followed,
 * one circle per member, two hashtags (#common on one post in 5, #rare on one
 * in 500), and the mention notifications of direct posts. Then
 * it times the feed reads (p50/p95/p99) and prints `EXPLAIN (ANALYZE, BUFFERS)`
 * of the home feed's first page, as the exact SQL Kysely sends.
 *
 *   npm run bench:feed                         (from the repository root)
 *   BENCH_POSTS=100000 npm run bench:feed      (smaller, while developing)
 *   BENCH_EXPLAIN_ALL=1 also explains the Clique timeline; BENCH_KEEP=1 keeps the database.
 *
 * Prints the figures; nothing here asserts a timing.
 */
import { performance } from "node:perf_hooks";
import { ANONYMOUS, type Member, type Viewer, visibilityFilter } from "@clique/core";
import { createKyselyStores } from "@clique/core/kysely";
import { openTestClique, stopEmbeddedTestServer } from "@clique/testing";

const MEMBERS = 50;
const POSTS = Number(process.env.BENCH_POSTS ?? 1_000_000);
const REMOTES = 10_000;
const FOLLOWED_REMOTES = 5_000;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 200);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function time(
  label: string,
  rounds: number,
  fn: (i: number) => Promise<unknown>,
): Promise<void> {
  for (let i = 0; i < 5; i++) await fn(i); // warm the plan cache and buffers
  const samples: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const start = performance.now();
    await fn(i);
    samples.push(performance.now() - start);
  }
  samples.sort((a, b) => a - b);
  const f = (p: number) => percentile(samples, p).toFixed(2).padStart(7);
  console.log(`${label.padEnd(46)} n=${rounds}  p50 ${f(50)} ms  p95 ${f(95)} ms  p99 ${f(99)} ms`);
}

/**
 * A time-ordered UUID (version 7 layout) for row number `n` of a series: the
 * millisecond part grows with `n`, so `id` order is insertion order, as with
 * the ids the application makes.
 */
const uuid7 = (n: string, tag: string) =>
  `(lpad(to_hex(1700000000000 + ${n} * 1000), 12, '0') || '7' || lpad(to_hex(${n} % 4096), 3, '0') || '${tag}' || lpad(to_hex(${n}), 15, '0'))::uuid`;

const t = await openTestClique({ maxConnections: 4 });
try {
  const { clique, db } = t;
  const started = performance.now();
  const init = await clique.initClique({
    name: "Bench",
    ownerUsername: "bench_owner",
    ownerPassword: "bench password 1",
    memberCap: 100,
  });
  if (!init.ok) throw new Error(init.reason);
  const members: Member[] = [init.value.owner];
  const invite = await clique.createInvite(init.value.owner, {
    maxUses: null,
    expiresInSeconds: 3600,
  });
  if (!invite.ok) throw new Error(invite.reason);
  for (let i = 1; i < MEMBERS; i++) {
    const r = await clique.redeemInvite({
      code: invite.value.code,
      username: `m${i}`,
      password: "bench password 1",
    });
    if (!r.ok) throw new Error(r.reason);
    members.push(r.value);
  }
  const run = (text: string) => db.executeQuery({ sql: text, parameters: [], query: {} } as never);
  // Members numbered 0..49 in a scratch table, to address them from the series.
  await run(`create table bench_members as
    select (row_number() over (order by a.id)) - 1 as n, a.id from members a`);
  await run(`create table bench_remotes as
    select n, ${uuid7("n", "9")} as id from generate_series(0, ${REMOTES - 1}) n`);
  await run(`insert into actors (id, kind, username, host, uri, inbox_url, created_at, updated_at)
    select id, 'remote', 'r' || n, 'r' || (n % 200) || '.example', 'https://r' || (n % 200) || '.example/u/r' || n,
      'https://r' || (n % 200) || '.example/u/r' || n || '/inbox', now(), now() from bench_remotes`);
  // Each member follows 100 remote accounts (5 000 in all) and the next 10 members, all approved.
  await run(`insert into follows (id, follower_id, followee_id, state, created_at)
    select gen_random_uuid(), m.id, r.id, 'accepted', now()
    from bench_remotes r join bench_members m on m.n = r.n % ${MEMBERS} where r.n < ${FOLLOWED_REMOTES}`);
  await run(`insert into follows (id, follower_id, followee_id, state, created_at)
    select gen_random_uuid(), a.id, b.id, 'accepted', now()
    from bench_members a cross join generate_series(1, 10) k
    join bench_members b on b.n = (a.n + k) % ${MEMBERS}`);
  // Remote accounts follow members back, as remote followers do.
  await run(`insert into follows (id, follower_id, followee_id, state, created_at)
    select gen_random_uuid(), r.id, m.id, 'accepted', now()
    from bench_remotes r join bench_members m on m.n = r.n % ${MEMBERS} where r.n >= ${FOLLOWED_REMOTES}`);
  // One circle per member, holding the next 10 members.
  await run(`insert into circles (id, owner_id, name, created_at)
    select ${uuid7("n", "a")}, id, 'inner', now() from bench_members`);
  await run(`insert into circle_members (circle_id, actor_id)
    select c.id, b.id from circles c join bench_members a on a.id = c.owner_id
    cross join generate_series(1, 10) k join bench_members b on b.n = (a.n + k) % ${MEMBERS}`);
  // Posts: 3 in 10 by members over all seven audiences, the rest by remote
  // accounts (public, unlisted, followers, direct).
  await run(`create table bench_posts as
    with m as (select array_agg(id order by n) as ids from bench_members),
      r as (select array_agg(id order by n) as ids from bench_remotes)
    select g.n, ${uuid7("g.n", "8")} as id,
      case when g.n % 10 < 3 then m.ids[1 + g.n % ${MEMBERS}]
        else r.ids[1 + (g.n::bigint * 7919) % ${REMOTES}] end as author_id,
      case when g.n % 10 < 3
        then (array['public','unlisted','followers','friends','clique','circle','direct'])[1 + (g.n / 10) % 7]
        else (array['public','unlisted','followers','direct'])[1 + (g.n / 10) % 4] end as audience,
      (g.n % 10 >= 3) as remote
    from generate_series(0, ${POSTS - 1}) g(n), m, r`);
  await run("create index on bench_posts (id)");
  await run(`insert into posts (id, author_id, uri, audience, circle_id, content_type, source, content_html, created_at)
    select p.id, p.author_id, case when p.remote then 'https://remote.example/p/' || p.n end, p.audience,
      c.id, 'text/plain', 'post ' || p.n, '<p>post ' || p.n || '</p>',
      to_timestamp((1700000000000 + p.n * 1000) / 1000.0)
    from bench_posts p left join circles c on p.audience = 'circle' and c.owner_id = p.author_id
    order by p.id`);
  // A direct post names one member (and mentions them).
  for (const table of ["post_recipients", "post_mentions"])
    await run(`insert into ${table} (post_id, actor_id)
      select p.id, m.id from bench_posts p join bench_members m on m.n = (p.n / 7) % ${MEMBERS}
      where p.audience = 'direct' and m.id <> p.author_id`);
  // Hashtags: #common on one post in 5, #rare on one in 500.
  await run(`insert into post_tags (post_id, tag)
    select id, 'common' from bench_posts where n % 5 = 0
    union all select id, 'rare' from bench_posts where n % 500 = 7`);
  await run(`insert into notifications (id, recipient_id, type, account_id, post_id, created_at)
    select ${uuid7("p.n", "b")}, r.actor_id, 'mention', p.author_id, p.id, now()
    from post_recipients r join bench_posts p on p.id = r.post_id`);
  await run("analyze");
  console.log(
    `seeded ${MEMBERS} members, ${REMOTES} remote accounts (${FOLLOWED_REMOTES} followed), ${POSTS} posts in ${((performance.now() - started) / 1000).toFixed(1)} s (backend: ${t.backend})`,
  );

  // Each list's SQL as Kysely compiles it, caught on its way to the driver,
  // then explained. A list may send several statements (the Clique's timeline
  // turns JIT off first): the longest one is the list.
  let caught: { sql: string; parameters: readonly unknown[] }[] = [];
  const spy = createKyselyStores(
    db.withPlugin({
      transformQuery(args: { node: never; queryId: never }) {
        caught.push(db.getExecutor().compileQuery(args.node, args.queryId));
        return args.node;
      },
      async transformResult(args: { result: unknown }) {
        return args.result;
      },
    } as never),
  );
  const reader = members[5]!;
  const viewer: Viewer = { kind: "member", actorId: reader.id, role: reader.role };
  async function explain(label: string, list: () => Promise<unknown>): Promise<void> {
    caught = [];
    await list();
    const query = caught.sort((a, b) => b.sql.length - a.sql.length)[0];
    if (!query) return;
    const plan = await db.executeQuery<{ "QUERY PLAN": string }>({
      sql: `explain (analyze, buffers) ${query.sql}`,
      parameters: query.parameters,
      query: {},
    } as never);
    console.log(`\nEXPLAIN (ANALYZE, BUFFERS) ${label}:`);
    for (const row of plan.rows) console.log(`  ${row["QUERY PLAN"]}`);
    console.log();
  }
  await explain("home feed, first page", () =>
    spy.posts.list({ kind: "home", actorId: reader.id }, visibilityFilter(viewer), { limit: 20 }),
  );
  if (process.env.BENCH_EXPLAIN_ALL)
    await explain("Clique timeline, first page", () =>
      spy.posts.list({ kind: "local", onlyMedia: false }, visibilityFilter(viewer, "public"), {
        limit: 20,
      }),
    );

  const { rows: deep } = await db.executeQuery<{ id: string }>({
    sql: `select id from posts order by id desc offset ${Math.floor(POSTS / 2)} limit 1`,
    parameters: [],
    query: {},
  } as never);
  const deepId = deep[0]!.id;
  const remoteAuthor = (
    await db.executeQuery<{ id: string }>({
      sql: "select id from bench_remotes where n = 1",
      parameters: [],
      query: {},
    } as never)
  ).rows[0]!.id;

  await time("home feed, first page (20)", ROUNDS, () =>
    clique.listHomeFeed(reader, { limit: 20 }),
  );
  let cursor: string | undefined;
  await time("home feed, walking pages (max_id)", ROUNDS, async () => {
    const page = await clique.listHomeFeed(reader, {
      limit: 20,
      ...(cursor ? { maxId: cursor } : {}),
    });
    cursor = page.length === 20 ? page[19]!.id : undefined;
  });
  await time("home feed, deep page (max_id halfway)", ROUNDS, () =>
    clique.listHomeFeed(reader, { limit: 20, maxId: deepId }),
  );
  await time("Clique timeline, member (20)", ROUNDS, () =>
    clique.listLocalTimeline(viewer, { limit: 20 }),
  );
  await time("tag timeline #common, member (20)", ROUNDS, () =>
    clique.listTagTimeline(viewer, { tag: "common" }, { limit: 20 }),
  );
  await time("tag timeline #rare, member (20)", ROUNDS, () =>
    clique.listTagTimeline(viewer, { tag: "rare" }, { limit: 20 }),
  );
  await time("account statuses, member viewer (20)", ROUNDS, (i) =>
    clique.listAccountPosts(viewer, members[i % MEMBERS]!.id, { limit: 20 }),
  );
  await time("account statuses, anonymous (20)", ROUNDS, (i) =>
    clique.listAccountPosts(ANONYMOUS, members[i % MEMBERS]!.id, { limit: 20 }),
  );
  await time("account statuses, remote author, member (20)", ROUNDS, () =>
    clique.listAccountPosts(viewer, remoteAuthor, { limit: 20 }),
  );
  await time("notifications, first page (20)", ROUNDS, () =>
    clique.listNotifications(reader, { limit: 20 }),
  );
} finally {
  // BENCH_KEEP=1 leaves the database behind, to study plans with psql.
  if (process.env.BENCH_KEEP) {
    const { rows } = await t.db.executeQuery<{ name: string }>({
      sql: "select current_database() as name",
      parameters: [],
      query: {},
    } as never);
    console.log(`kept database ${rows[0]?.name}`);
    await t.db.destroy();
  } else await t.drop();
  await stopEmbeddedTestServer();
}
