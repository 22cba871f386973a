/**
 * Benchmark: the home feed and single-post reads through the visibility
 * filter, on a real PostgreSQL (DATABASE_URL, else embedded), with a Clique of
 * 50 members and a few thousand posts across every audience.
 *
 *   npm run bench:home       (from the repository root)
 *
 * Prints the figures; nothing here asserts a timing.
 */
import { performance } from "node:perf_hooks";
import { AUDIENCES, type Member } from "@clique/core";
import { openTestClique, stopEmbeddedTestServer } from "@clique/testing";

const MEMBERS = 50;
const POSTS_PER_MEMBER = Number(process.env.BENCH_POSTS_PER_MEMBER ?? 60);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 200);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function time(
  label: string,
  rounds: number,
  fn: (i: number) => Promise<unknown>,
): Promise<void> {
  const samples: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const start = performance.now();
    await fn(i);
    samples.push(performance.now() - start);
  }
  samples.sort((a, b) => a - b);
  const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
  console.log(
    `${label.padEnd(44)} n=${rounds}  mean ${mean.toFixed(2)} ms  p50 ${percentile(samples, 50).toFixed(2)} ms  p95 ${percentile(samples, 95).toFixed(2)} ms`,
  );
}

const t = await openTestClique({ maxConnections: 4 });
try {
  const { clique, stores } = t;
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
  // Everyone follows a few others, so followers/friends audiences mean something.
  for (const [i, m] of members.entries()) {
    for (const j of [1, 2, 3]) await clique.followAccount(m, members[(i + j) % members.length]!.id);
  }
  for (const m of members) {
    for (const f of await clique.listFollowRequests(m))
      await clique.authorizeFollowRequest(m, f.followerId);
  }
  const circle = await clique.createCircle(members[0]!, {
    name: "inner",
    memberIds: members.slice(1, 10).map((m) => m.id),
  });
  if (!circle.ok) throw new Error(circle.reason);
  const audiences = AUDIENCES.filter((a) => a !== "circle");
  const postIds: string[] = [];
  for (let n = 0; n < POSTS_PER_MEMBER; n++) {
    for (const m of members) {
      const audience = audiences[(n + m.username.length) % audiences.length]!;
      const r = await clique.createPost(m, {
        source: `post ${n} by @${m.username} #bench`,
        audience,
      });
      if (r.ok) postIds.push(r.value.id);
    }
  }
  const c = await clique.createPost(members[0]!, {
    source: "circle post",
    audience: "circle",
    circleId: circle.value.id,
  });
  if (c.ok) postIds.push(c.value.id);
  console.log(
    `seeded ${members.length} members, ${postIds.length} posts in ${((performance.now() - started) / 1000).toFixed(1)} s (backend: ${t.backend})`,
  );

  const reader = members[5]!;
  const viewer = { kind: "member" as const, actorId: reader.id, role: reader.role };
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
  await time("account statuses as another member (20)", ROUNDS, (i) =>
    clique.listAccountPosts(viewer, members[i % members.length]!.id, { limit: 20 }),
  );
  await time("getVisiblePost (canView), mixed audiences", ROUNDS, (i) =>
    clique.getVisiblePost(viewer, postIds[(i * 37) % postIds.length]!),
  );
  await time("postExtras + 20 posts (rendering inputs)", ROUNDS, async () => {
    const page = await clique.listHomeFeed(reader, { limit: 20 });
    await clique.postExtras(page, viewer);
  });
  void stores;
} finally {
  await t.drop();
  await stopEmbeddedTestServer();
}
