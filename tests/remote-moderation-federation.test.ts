/**
 * A domain block between two real Clique processes, each with its own
 * database, each behind a TLS-terminating proxy on `https://localhost:PORT`
 * (as in `federation.test.ts`). Server A blocks server B (`localhost:PORT_B`,
 * that port alone: both live on localhost).
 *
 * A: alice (owner), amy. B: bob (owner), bea. Before the block bob follows
 * alice, alice follows bea, and posts go both ways. After it, everything B
 * sends — a post, a Like, a Follow — is refused by A with 403 (B keeps each
 * as a dead letter: one attempt, `CLIQUE_DELIVERY_ATTEMPTS=1`) and nothing
 * of it is stored on A; A sends B nothing; B's signed fetches of A's posts
 * and actors answer 404, so B cannot even find A's members. Unblocking lets
 * B's activities in again.
 */
import assert from "node:assert/strict";
import { createPrivateKey, randomBytes, sign } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, afterEach, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { createKyselyStores, type Database, openDatabase } from "@clique/core/kysely";
import {
  createTestCertificates,
  createTestDatabase,
  lastLine,
  type ProcessEnv,
  runCliOk,
  type ServerProcess,
  startServerProcess,
  startTlsProxy,
  stopEmbeddedTestServer,
  type TestCertificates,
  type TestDatabase,
  trustingFetch,
} from "@clique/testing";
import { type Kysely, sql } from "kysely";

const AP = "application/activity+json";
// Generous: on a loaded 2-core CI machine the first delivery between the two
// Cliques (each with a pool of 4 connections) has taken over 30 s.
const TIMEOUT_MS = 60_000;

type Json = Record<string, unknown>;
type Status = Json & { id: string; content: string; uri: string };

interface Site {
  label: string;
  origin: string;
  host: string;
  server: ServerProcess;
  db: TestDatabase;
  sql: Kysely<Database>;
  env: ProcessEnv;
  tokens: Record<string, string>;
  ids: Record<string, string>;
}

const cleanup: (() => Promise<unknown>)[] = [];
let certs: TestCertificates;
let httpsFetch: ReturnType<typeof trustingFetch>;
let A: Site;
let B: Site;
let failed = false;

async function startSite(
  label: string,
  owner: string,
  member: string,
  extra: ProcessEnv,
): Promise<Site> {
  const db = await createTestDatabase();
  cleanup.push(() => db.drop());
  const dataDir = await mkdtemp(join(tmpdir(), `clique-rmfed-${label}-`));
  cleanup.push(() => rm(dataDir, { recursive: true, force: true }));
  const proxy = await startTlsProxy({ cert: certs.cert, key: certs.key });
  cleanup.push(() => proxy.close());
  const env: ProcessEnv = {
    ...process.env,
    DATABASE_URL: db.url,
    CLIQUE_DATA_DIR: dataDir,
    CLIQUE_ORIGIN: proxy.origin,
    CLIQUE_ALLOW_PRIVATE_ADDRESS: "true",
    CLIQUE_DB_POOL: "4",
    NODE_EXTRA_CA_CERTS: certs.caPath,
    REDIS_URL: undefined,
    ...extra,
  };
  const password = (name: string) => `password-of-${name}-${label}`;
  await runCliOk(["init", "--name", `Site ${label}`, "--owner", owner, "--password-stdin"], {
    env,
    stdin: password(owner),
  });
  const code = lastLine(await runCliOk(["invite", "create", "--by", owner], { env }));
  await runCliOk(["invite", "redeem", code, "--username", member, "--password-stdin"], {
    env,
    stdin: password(member),
  });
  const server = await startServerProcess({
    env,
    databaseUrl: db.url,
    dataDir,
    origin: proxy.origin,
  });
  cleanup.unshift(() => server.stop());
  proxy.upstream = server.url;
  const q = openDatabase(db.url, { maxConnections: 2 });
  cleanup.unshift(() => q.destroy());
  const site: Site = {
    label,
    origin: proxy.origin,
    host: new URL(proxy.origin).host,
    server,
    db,
    sql: q,
    env,
    tokens: {},
    ids: {},
  };
  for (const name of [owner, member]) {
    site.tokens[name] = lastLine(await runCliOk(["token", "create", name], { env }));
    site.ids[name] = String(
      (await api(site, name, "GET", "/api/v1/accounts/verify_credentials")).id,
    );
  }
  return site;
}

before(async () => {
  certs = await createTestCertificates();
  cleanup.push(() => certs.remove());
  httpsFetch = trustingFetch(certs.ca);
  // One attempt per delivery on B: a refusal is a dead letter at once, for the test to read.
  [A, B] = await Promise.all([
    startSite("a", "alice", "amy", {}),
    startSite("b", "bob", "bea", { CLIQUE_DELIVERY_ATTEMPTS: "1" }),
  ]);
});

afterEach((t) => {
  if ((t as { passed?: boolean }).passed === false) failed = true;
});

after(async () => {
  if (failed)
    for (const s of [A, B]) if (s) console.error(`--- ${s.label} ---\n${s.server.output()}`);
  for (const step of cleanup) await step().catch((e: unknown) => console.error("clean-up:", e));
  await stopEmbeddedTestServer();
});

// ---------------------------------------------------------------- helpers

async function call(
  site: Site,
  user: string | null,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: Json }> {
  const response = await httpsFetch(`${site.origin}${path}`, {
    method,
    headers: {
      accept: "application/json",
      ...(user ? { authorization: `Bearer ${site.tokens[user]}` } : {}),
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : null) as Json };
}

async function api(site: Site, user: string | null, method: string, path: string, body?: unknown) {
  const r = await call(site, user, method, path, body);
  assert.ok(
    r.status >= 200 && r.status < 300,
    `${method} ${site.label}${path} as ${user}: ${r.status} ${JSON.stringify(r.body)}`,
  );
  return r.body;
}

async function eventually<T>(what: string, probe: () => Promise<T>): Promise<NonNullable<T>> {
  const deadline = Date.now() + TIMEOUT_MS;
  for (;;) {
    const value = await probe();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) assert.fail(`Timed out waiting for ${what}`);
    await sleep(200);
  }
}

function token(label: string): string {
  return `${label}-${randomBytes(6).toString("hex")}`;
}

async function home(site: Site, user: string): Promise<Status[]> {
  return (await api(site, user, "GET", "/api/v1/timelines/home?limit=40")) as unknown as Status[];
}

async function search(site: Site, user: string, q: string): Promise<Json[]> {
  const found = await api(
    site,
    user,
    "GET",
    `/api/v2/search?q=${encodeURIComponent(q)}&resolve=true&type=accounts`,
  );
  return found.accounts as Json[];
}

async function post(site: Site, user: string, text: string): Promise<Status> {
  return (await api(site, user, "POST", "/api/v1/statuses", {
    status: text,
    visibility: "public",
  })) as Status;
}

/** Whether a site's relay and queues have nothing left to do. */
async function settled(site: Site): Promise<string | null> {
  const status = await runCliOk(["queue", "status"], { env: site.env });
  const idle =
    /^outbox events +0 waiting/m.test(status) &&
    ["inbox", "outbox", "fanout"].every((q) =>
      new RegExp(`^${q} +0 waiting, 0 running, 0 delayed`, "m").test(status),
    );
  return idle ? status : null;
}

/** What A has stored from B: posts, follows either way, likes and boosts, accounts. */
async function storedFromB() {
  const { rows } = await sql<{
    posts: string;
    follows: string;
    interactions: string;
    actors: string;
  }>`
    with b as (select id from actors where host = ${B.host})
    select
      (select count(*) from posts where author_id in (select id from b)) as posts,
      (select count(*) from follows where follower_id in (select id from b) or followee_id in (select id from b)) as follows,
      (select count(*) from post_interactions where actor_id in (select id from b)) as interactions,
      (select string_agg(username, ',' order by username) from actors where host = ${B.host}) as actors`.execute(
    A.sql,
  );
  const r = rows[0]!;
  return {
    posts: Number(r.posts),
    follows: Number(r.follows),
    interactions: Number(r.interactions),
    actors: r.actors ?? "",
  };
}

/** A GET signed (draft-cavage, rsa-sha256) with the key of a member of B, read from B's database. */
async function signedByB(url: string, username: string): Promise<number> {
  const keyId = `${B.origin}/users/${username}#main-key`;
  const pairs = await createKyselyStores(B.sql).keys.get(B.ids[username]!);
  const rsa = pairs.find((p) => p.type === "RSASSA-PKCS1-v1_5");
  assert.ok(rsa, `${username} has no RSA key`);
  const target = new URL(url);
  const date = new Date().toUTCString();
  const signingString = [
    `(request-target): get ${target.pathname}${target.search}`,
    `host: ${target.host}`,
    `date: ${date}`,
  ].join("\n");
  const key = createPrivateKey({ key: rsa.privateJwk as never, format: "jwk" });
  const signature = sign("sha256", Buffer.from(signingString), key).toString("base64");
  const response = await httpsFetch(url, {
    headers: {
      accept: AP,
      date,
      signature: `keyId="${keyId}",algorithm="rsa-sha256",headers="(request-target) host date",signature="${signature}"`,
    },
  });
  await response.arrayBuffer();
  return response.status;
}

// ---------------------------------------------------------------- the tests

describe("a domain block between two Cliques", () => {
  const known = { aliceOnB: "", beaOnA: "", alicePost: "" };

  test("before: bob follows alice, alice follows bea, and posts go both ways", async () => {
    const [alice] = await search(B, "bob", `alice@${A.host}`);
    assert.ok(alice, "B finds alice");
    known.aliceOnB = String(alice.id);
    await api(B, "bob", "POST", `/api/v1/accounts/${known.aliceOnB}/follow`);
    const request = await eventually("bob's request on A", async () =>
      ((await api(A, "alice", "GET", "/api/v1/follow_requests")) as unknown as Json[]).find(
        (a) => a.acct === `bob@${B.host}`,
      ),
    );
    await api(A, "alice", "POST", `/api/v1/follow_requests/${request.id}/authorize`);

    const [bea] = await search(A, "alice", `bea@${B.host}`);
    assert.ok(bea, "A finds bea");
    known.beaOnA = String(bea.id);
    await api(A, "alice", "POST", `/api/v1/accounts/${known.beaOnA}/follow`);
    const asked = await eventually("alice's request on B", async () =>
      ((await api(B, "bea", "GET", "/api/v1/follow_requests")) as unknown as Json[]).find(
        (a) => a.acct === `alice@${A.host}`,
      ),
    );
    await api(B, "bea", "POST", `/api/v1/follow_requests/${asked.id}/authorize`);

    const fromBea = token("bea-before");
    await post(B, "bea", fromBea);
    await eventually("bea's post in alice's home", async () =>
      (await home(A, "alice")).some((s) => s.content.includes(fromBea)),
    );
    const fromAlice = token("alice-before");
    known.alicePost = (await post(A, "alice", fromAlice)).id;
    await eventually("alice's post in bob's home", async () =>
      (await home(B, "bob")).some((s) => s.content.includes(fromAlice)),
    );
    const stored = await storedFromB();
    assert.deepEqual([stored.posts, stored.follows], [1, 2]);
    assert.equal(stored.actors, "bea,bob");
  });

  test("blocking B purges what A stored of it: its follows and posts; its accounts stay", async () => {
    const blocked = await api(A, "alice", "POST", "/api/v1/clique/domains", {
      domain: B.host,
      reason: "a test of blocking",
    });
    assert.equal(blocked.domain, B.host);
    assert.deepEqual(blocked.purged, {
      accounts: 2,
      posts: 1,
      follows: 2,
      interactions: 0,
      media_files: 0,
    });
    assert.deepEqual(await storedFromB(), {
      posts: 0,
      follows: 0,
      interactions: 0,
      actors: "bea,bob",
    });
    assert.ok(
      !(await home(A, "alice")).some((s) => s.content.includes("bea-before")),
      "bea's post left alice's home",
    );
  });

  test("B's post, Like and Follow are refused with 403 and nothing of them is stored on A", async () => {
    const beaPost = token("bea-blocked");
    await post(B, "bea", `@alice@${A.host} ${beaPost}`);
    const bobsView = (await home(B, "bob")).find((s) => s.content.includes("alice-before"));
    assert.ok(bobsView, "alice's post is still on B");
    await api(B, "bob", "POST", `/api/v1/statuses/${bobsView.id}/favourite`);
    const [amy] = await search(B, "bea", `amy@${A.host}`).then((found) => found);
    assert.equal(amy, undefined, "B cannot even find amy: its fetch of her is answered 404");
    await api(B, "bob", "POST", `/api/v1/accounts/${known.aliceOnB}/unfollow`);
    await api(B, "bob", "POST", `/api/v1/accounts/${known.aliceOnB}/follow`);

    // B tried each once; A refused each (B's dead letters say so).
    const status = await eventually("B's deliveries to A to be dead letters", async () => {
      const s = await settled(B);
      if (!s) return null;
      const dead = s.split("\n").filter((l) => l.includes(`${A.origin}/inbox`) && /403/.test(l));
      return ["Create", "Like", "Follow"].every((type) =>
        dead.some((l) => l.includes(`deliver ${type} `)),
      )
        ? s
        : null;
    });
    assert.match(status, /Forbidden|403/);
    await eventually("A to settle", () => settled(A));
    assert.deepEqual(await storedFromB(), {
      posts: 0,
      follows: 0,
      interactions: 0,
      actors: "bea,bob",
    });
    const { rows } = await sql<{
      n: string;
    }>`select count(*) as n from posts where content_html like ${`%${beaPost}%`}`.execute(A.sql);
    assert.equal(Number(rows[0]!.n), 0);
    assert.deepEqual(
      ((await api(A, "alice", "GET", "/api/v1/follow_requests")) as unknown as Json[]).map(
        (a) => a.acct,
      ),
      [],
    );
    const liked = await api(A, "alice", "GET", `/api/v1/statuses/${known.alicePost}`);
    assert.equal(liked.favourites_count, 0);
  });

  test("A sends B nothing, and B's signed fetches of A's posts and actors answer 404", async () => {
    const fromAlice = token("alice-blocked");
    await post(A, "alice", fromAlice);
    await eventually("A to settle", () => settled(A));
    await eventually("B to settle", () => settled(B));
    assert.ok(!(await home(B, "bob")).some((s) => s.content.includes(fromAlice)));
    const postUrl = `${A.origin}/users/alice/statuses/${known.alicePost}`;
    for (const url of [postUrl, `${A.origin}/users/alice`, `${A.origin}/users/amy`]) {
      assert.equal(await signedByB(url, "bob"), 404, url);
      const unsigned = await httpsFetch(url, { headers: { accept: AP } });
      await unsigned.arrayBuffer();
      assert.equal(unsigned.status, 200, `${url} unsigned`);
    }
  });

  test("unblocking lets B in again", async () => {
    await api(A, "alice", "DELETE", `/api/v1/clique/domains?domain=${encodeURIComponent(B.host)}`);
    const [amy] = await search(B, "bea", `amy@${A.host}`);
    assert.ok(amy, "B finds amy now");
    assert.equal(
      await signedByB(`${A.origin}/users/alice/statuses/${known.alicePost}`, "bob"),
      200,
    );
    const again = token("bea-after");
    await post(B, "bea", `@alice@${A.host} ${again}`);
    await eventually("bea's mention of alice stored on A", async () => {
      const { rows } = await sql<{
        n: string;
      }>`select count(*) as n from posts where content_html like ${`%${again}%`}`.execute(A.sql);
      return Number(rows[0]!.n) === 1;
    });
    // The block's follows are not restored.
    assert.equal((await storedFromB()).follows, 0);
  });
});
