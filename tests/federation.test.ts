/**
 * Federation between two real Clique processes, each with its own database,
 * each behind a TLS-terminating reverse proxy on `https://localhost:PORT`
 * (Fedify resolves `acct:` handles over https only) with a throwaway CA that
 * both servers and this process trust. Everything goes through the servers'
 * public APIs and ActivityPub endpoints; nothing of the server is imported
 * except, for the signed fetches, a member's key read from B's database.
 *
 * Server A: alice (owner), amy. Server B: bob (owner), bea, bill.
 * The tests run in order and build on each other (follows made in one are
 * used by the next); each post carries a random token so that assertions look
 * for exactly that post.
 */
import assert from "node:assert/strict";
import { createPrivateKey, randomBytes, sign } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, afterEach, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { createKyselyStores, openDatabase } from "@clique/core/kysely";
import {
  createTestCertificates,
  createTestDatabase,
  lastLine,
  runCliOk,
  type ServerProcess,
  startServerProcess,
  startTlsProxy,
  stopEmbeddedTestServer,
  type TestCertificates,
  type TestDatabase,
  type TlsProxy,
  trustingFetch,
} from "@clique/testing";

const AP = "application/activity+json";
/** How long a delivery may take before a test gives up on it. */
const DELIVERY_TIMEOUT_MS = 15_000;

type Json = Record<string, unknown> & { id: string };
type Status = Json & {
  content: string;
  uri: string;
  visibility: string;
  audience: string;
  edited_at: string | null;
  favourites_count: number;
  account: Json & { acct: string };
};
type Relationship = Json & {
  following: boolean;
  followed_by: boolean;
  requested: boolean;
  requested_by: boolean;
};

/** One Clique: its process, proxy, database, members' tokens and account ids. */
interface Site {
  label: string;
  origin: string;
  /** `localhost:PORT`, the host part of its handles. */
  host: string;
  server: ServerProcess;
  db: TestDatabase;
  tokens: Record<string, string>;
  /** Account ids of its own members, as it knows them. */
  ids: Record<string, string>;
}

// Everything started, so that `after` can stop it even when `before` fails halfway.
const cleanup: (() => Promise<unknown>)[] = [];
// The servers' logs explain failures the API only shows as a 500 or a post that never came.
const serverLogs: { label: string; output: () => string }[] = [];
let setUp = false;
let failed = false;
let certs: TestCertificates;
let httpsFetch: ReturnType<typeof trustingFetch>;
let A: Site;
let B: Site;

/** Remote accounts as each side knows them, filled in as tests resolve them. */
const known = {
  aliceOnB: "",
  bobOnA: "",
  beaOnA: "",
  billOnA: "",
};

async function startSite(label: string, owner: string, members: readonly string[]): Promise<Site> {
  const db = await createTestDatabase();
  cleanup.push(() => db.drop());
  const dataDir = await mkdtemp(join(tmpdir(), `clique-fed-${label}-`));
  cleanup.push(() => rm(dataDir, { recursive: true, force: true }));
  const proxy: TlsProxy = await startTlsProxy({ cert: certs.cert, key: certs.key });
  cleanup.push(() => proxy.close());
  const env = {
    ...process.env,
    DATABASE_URL: db.url,
    CLIQUE_DATA_DIR: dataDir,
    CLIQUE_ORIGIN: proxy.origin,
    CLIQUE_ALLOW_PRIVATE_ADDRESS: "true",
    NODE_EXTRA_CA_CERTS: certs.caPath,
  };
  const password = (name: string) => `password-of-${name}-${label}`;
  await runCliOk(["init", "--name", `Site ${label}`, "--owner", owner, "--password-stdin"], {
    env,
    stdin: password(owner),
  });
  const tokens: Record<string, string> = {};
  const mintToken = async (name: string) => {
    tokens[name] = lastLine(await runCliOk(["token", "create", name], { env }));
  };
  // Two CPUs in CI: whatever does not depend on each other runs side by side.
  const [code] = await Promise.all([
    runCliOk(["invite", "create", "--by", owner], { env }).then(lastLine),
    mintToken(owner),
  ]);
  await Promise.all(
    members.map((name) =>
      runCliOk(["invite", "redeem", code, "--username", name, "--password-stdin"], {
        env,
        stdin: password(name),
      }),
    ),
  );
  const starting = startServerProcess({ env, databaseUrl: db.url, dataDir, origin: proxy.origin });
  const [started, minted] = await Promise.allSettled([
    starting.then((server) => {
      // Stopped first: before its database is dropped.
      cleanup.unshift(() => server.stop());
      serverLogs.push({ label, output: () => server.output() });
      return server;
    }),
    Promise.all(members.map(mintToken)),
  ]);
  if (started.status === "rejected") throw started.reason;
  if (minted.status === "rejected") throw minted.reason;
  const server = started.value;
  proxy.upstream = server.url;
  const site: Site = {
    label,
    origin: proxy.origin,
    host: new URL(proxy.origin).host,
    server,
    db,
    tokens,
    ids: {},
  };
  for (const name of [owner, ...members]) {
    site.ids[name] = (await api(site, name, "GET", "/api/v1/accounts/verify_credentials")).id;
  }
  return site;
}

before(async () => {
  certs = await createTestCertificates();
  cleanup.push(() => certs.remove());
  httpsFetch = trustingFetch(certs.ca);
  [A, B] = await Promise.all([
    startSite("a", "alice", ["amy"]),
    startSite("b", "bob", ["bea", "bill"]),
  ]);
  setUp = true;
});

afterEach((t) => {
  if ("passed" in t && !t.passed) failed = true;
});

after(async () => {
  if (failed || !setUp) {
    for (const log of serverLogs) console.error(`--- server ${log.label} ---\n${log.output()}`);
  }
  // In order: servers, then proxies, databases and files (see startSite).
  for (const step of cleanup) {
    await step().catch((error: unknown) => console.error("clean-up failed:", error));
  }
  await stopEmbeddedTestServer();
});

// ---------------------------------------------------------------- helpers

async function request(
  site: Site,
  user: string | null,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: unknown }> {
  const headers: Record<string, string> = { accept: "application/json" };
  if (user) headers.authorization = `Bearer ${site.tokens[user]}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  const response = await httpsFetch(`${site.origin}${path}`, {
    method,
    headers,
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Not JSON: keep the text for the assertion message.
  }
  return { status: response.status, body: parsed };
}

/** A call that must succeed; returns its JSON. */
async function api<T = Json>(
  site: Site,
  user: string | null,
  method: string,
  path: string,
  body?: unknown,
): Promise<T> {
  const r = await request(site, user, method, path, body);
  assert.ok(
    r.status >= 200 && r.status < 300,
    `${method} ${site.label}${path} as ${user}: ${r.status} ${JSON.stringify(r.body)}`,
  );
  return r.body as T;
}

/** Polls `probe` until it returns something truthy; fails with `what` and the last value. */
async function eventually<T>(
  what: string,
  probe: () => Promise<T>,
  timeoutMs = DELIVERY_TIMEOUT_MS,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    last = await probe();
    if (last) return last as NonNullable<T>;
    if (Date.now() > deadline) {
      assert.fail(`Timed out after ${timeoutMs} ms waiting for ${what} (last: ${String(last)})`);
    }
    await sleep(200);
  }
}

function token(label: string): string {
  return `${label}-${randomBytes(6).toString("hex")}`;
}

function home(site: Site, user: string): Promise<Status[]> {
  return api<Status[]>(site, user, "GET", "/api/v1/timelines/home?limit=40");
}

function withToken(statuses: readonly Status[], t: string): Status | undefined {
  return statuses.find((s) => s.content.includes(t));
}

async function relationship(site: Site, user: string, otherId: string): Promise<Relationship> {
  const [r] = await api<Relationship[]>(
    site,
    user,
    "GET",
    `/api/v1/accounts/relationships?id[]=${otherId}`,
  );
  assert.ok(r, `no relationship of ${user} with ${otherId}`);
  return r;
}

async function followRequests(site: Site, user: string): Promise<Json[]> {
  return api<Json[]>(site, user, "GET", "/api/v1/follow_requests");
}

/** Finds a remote account through search with `resolve=true`, as a client would. */
async function resolveAccount(site: Site, user: string, acct: string): Promise<Json> {
  const found = await api<{ accounts: Json[] }>(
    site,
    user,
    "GET",
    `/api/v2/search?q=${encodeURIComponent(acct)}&resolve=true&type=accounts`,
  );
  assert.equal(found.accounts.length, 1, `search for ${acct}: ${JSON.stringify(found)}`);
  return found.accounts[0]!;
}

async function post(user: string, body: Record<string, unknown>): Promise<Status> {
  return api<Status>(A, user, "POST", "/api/v1/statuses", body);
}

/** Makes `follower` on B follow alice and waits until alice sees the request. */
async function requestToFollowAlice(follower: string): Promise<string> {
  const rel = await api<Relationship>(
    B,
    follower,
    "POST",
    `/api/v1/accounts/${known.aliceOnB}/follow`,
  );
  assert.equal(rel.requested, true, `${follower}'s follow should wait for approval`);
  assert.equal(rel.following, false);
  const account = await eventually(`alice to receive ${follower}'s follow request`, async () =>
    (await followRequests(A, "alice")).find((a) => a.acct === `${follower}@${B.host}`),
  );
  return account.id;
}

async function authorize(followerIdOnA: string, follower: string): Promise<void> {
  const rel = await api<Relationship>(
    A,
    "alice",
    "POST",
    `/api/v1/follow_requests/${followerIdOnA}/authorize`,
  );
  assert.equal(rel.followed_by, true);
  await eventually(`${follower} on B to learn that alice accepted`, async () => {
    return (await relationship(B, follower, known.aliceOnB)).following;
  });
}

/**
 * A GET signed (draft-cavage HTTP Signatures, rsa-sha256, as Mastodon signs)
 * with the RSA key of a member of B, read from B's database: B's own API has
 * no way to fetch a post, so this makes the request B would make.
 */
async function signedGet(url: string, username: string): Promise<number> {
  // The key id the actor document announces (Fedify names it, not us).
  const actor = await httpsFetch(`${B.origin}/users/${username}`, { headers: { accept: AP } });
  const keyId = ((await actor.json()) as { publicKey: { id: string } }).publicKey.id;
  const db = openDatabase(B.db.url, { maxConnections: 1 });
  let pairs: Awaited<ReturnType<ReturnType<typeof createKyselyStores>["keys"]["get"]>>;
  try {
    pairs = await createKyselyStores(db).keys.get(B.ids[username]!);
  } finally {
    await db.destroy();
  }
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

async function unsignedGet(url: string): Promise<number> {
  const response = await httpsFetch(url, { headers: { accept: AP } });
  await response.arrayBuffer();
  return response.status;
}

// ---------------------------------------------------------------- the tests

/** alice's posts of scenario 3, by audience: A-side status, token, and B-side id where it arrived. */
const delivered: Record<string, { status: Status; token: string; idOnB?: string }> = {};

describe("federation between two Cliques over https", () => {
  test("1. discovery: WebFinger on A, search and lookup from B", async () => {
    const resource = `acct:alice@${A.host}`;
    const finger = await httpsFetch(
      `${A.origin}/.well-known/webfinger?resource=${encodeURIComponent(resource)}`,
    );
    assert.equal(finger.status, 200);
    const jrd = (await finger.json()) as {
      subject: string;
      links: { rel: string; type?: string; href?: string }[];
    };
    assert.equal(jrd.subject, resource);
    const self = jrd.links.find((l) => l.rel === "self");
    assert.equal(self?.type, AP);
    assert.equal(self?.href, `${A.origin}/users/alice`);

    // The actor document answers at that id over https.
    const actor = (await (
      await httpsFetch(self.href, { headers: { accept: AP } })
    ).json()) as Record<string, unknown>;
    assert.equal(actor.id, `${A.origin}/users/alice`);
    assert.equal(actor.preferredUsername, "alice");

    const found = await resolveAccount(B, "bob", `alice@${A.host}`);
    assert.equal(found.acct, `alice@${A.host}`);
    assert.equal(found.uri, `${A.origin}/users/alice`);
    assert.equal(found.locked, true, "members approve followers by default");
    known.aliceOnB = found.id;

    const looked = await api(B, "bea", "GET", `/api/v1/accounts/lookup?acct=alice@${A.host}`);
    assert.equal(looked.id, known.aliceOnB, "lookup finds the same account");
    // Unknown accounts on a reachable server are not made up.
    const missing = await request(B, "bob", "GET", `/api/v1/accounts/lookup?acct=nobody@${A.host}`);
    assert.equal(missing.status, 404);
  });

  test("2. follows need alice's approval; accepted and rejected requests reach B", async () => {
    known.bobOnA = await requestToFollowAlice("bob");
    assert.equal((await relationship(B, "bob", known.aliceOnB)).requested, true);
    const pending = await relationship(A, "alice", known.bobOnA);
    assert.equal(pending.requested_by, true);
    assert.equal(pending.followed_by, false);
    await authorize(known.bobOnA, "bob");
    const bobRel = await relationship(B, "bob", known.aliceOnB);
    assert.equal(bobRel.requested, false);
    assert.equal((await relationship(A, "alice", known.bobOnA)).followed_by, true);

    known.beaOnA = await requestToFollowAlice("bea");
    const rejected = await api<Relationship>(
      A,
      "alice",
      "POST",
      `/api/v1/follow_requests/${known.beaOnA}/reject`,
    );
    assert.equal(rejected.requested_by, false);
    assert.equal(rejected.followed_by, false);
    await eventually("bea's request to be withdrawn on B after the Reject", async () => {
      const r = await relationship(B, "bea", known.aliceOnB);
      return !r.requested && !r.following;
    });
    assert.deepEqual(await followRequests(A, "alice"), [], "nothing left pending on A");
  });

  test("3. each audience reaches exactly its recipients on B", async () => {
    const bill = await resolveAccount(A, "alice", `bill@${B.host}`);
    known.billOnA = bill.id;
    const circle = await api(A, "alice", "POST", "/api/v1/clique/circles", {
      name: "Remote friends",
      member_ids: [known.billOnA],
    });
    for (const audience of ["public", "unlisted", "followers", "clique", "circle", "direct"]) {
      const t = token(audience);
      const text = audience === "direct" ? `@bea@${B.host} ${t}` : `${audience} post ${t}`;
      const status = await post("alice", {
        status: text,
        audience,
        ...(audience === "circle" ? { circle_id: circle.id } : {}),
      });
      assert.equal(status.audience, audience);
      delivered[audience] = { status, token: t };
    }
    const tok = (audience: string) => delivered[audience]!.token;

    // What must arrive, in each recipient's home timeline.
    const expected: [string, string[]][] = [
      ["bob", ["public", "unlisted", "followers"]],
      ["bill", ["circle"]],
      ["bea", ["direct"]],
    ];
    for (const [user, audiences] of expected) {
      const timeline = await eventually(
        `${audiences.join(", ")} posts in ${user}'s home on B`,
        async () => {
          const statuses = await home(B, user);
          return audiences.every((a) => withToken(statuses, tok(a))) ? statuses : null;
        },
      );
      for (const audience of audiences) {
        const status = withToken(timeline, tok(audience))!;
        assert.equal(status.account.acct, `alice@${A.host}`);
        assert.equal(status.uri, delivered[audience]!.status.uri, "the post keeps its id");
        delivered[audience]!.idOnB = status.id;
      }
    }
    // Everything that was going to arrive has: now the absences mean something.
    const all = ["public", "unlisted", "followers", "clique", "circle", "direct"];
    for (const [user, audiences] of expected) {
      const statuses = await home(B, user);
      for (const audience of all.filter((a) => !audiences.includes(a))) {
        assert.equal(
          withToken(statuses, tok(audience)),
          undefined,
          `${user} must not have alice's ${audience} post in their home timeline`,
        );
      }
    }

    const onB = (audience: string) => delivered[audience]!.idOnB!;
    const visibility = async (user: string, audience: string) => {
      const r = await request(B, user, "GET", `/api/v1/statuses/${onB(audience)}`);
      if (r.status !== 200) return r.status;
      const status = r.body as Status;
      assert.ok(status.content.includes(tok(audience)), JSON.stringify(status));
      return status.visibility;
    };
    // B files each post under the audience its addressing shows.
    assert.equal(await visibility("bob", "public"), "public");
    assert.equal(await visibility("bob", "unlisted"), "unlisted");
    assert.equal(await visibility("bob", "followers"), "private");
    assert.equal(await visibility("bill", "circle"), "direct");
    assert.equal(await visibility("bea", "direct"), "direct");
    const toBea = await api<Status>(B, "bea", "GET", `/api/v1/statuses/${onB("direct")}`);
    assert.deepEqual(
      (toBea.mentions as { acct: string }[]).map((m) => m.acct),
      ["bea"],
      "the mention of bea@host:port resolved",
    );
    // And shows no one the posts that were not for them.
    assert.equal(await visibility("bob", "circle"), 404);
    assert.equal(await visibility("bob", "direct"), 404);
    assert.equal(await visibility("bill", "followers"), 404);
    assert.equal(await visibility("bill", "direct"), 404);
    assert.equal(await visibility("bea", "followers"), 404);
    assert.equal(await visibility("bea", "circle"), 404);
    assert.equal(
      (await request(B, null, "GET", `/api/v1/statuses/${onB("followers")}`)).status,
      404,
    );
    // A Clique-only post never leaves A.
    const cliquePost = await api<Status[]>(A, "amy", "GET", "/api/v1/timelines/home?limit=40");
    assert.ok(withToken(cliquePost, tok("clique")), "amy sees the Clique-only post on A");
  });

  test("4. edits and deletions propagate", async () => {
    const followers = delivered.followers!;
    const edited = token("edited");
    const updated = await api<Status>(
      A,
      "alice",
      "PUT",
      `/api/v1/statuses/${followers.status.id}`,
      {
        status: `followers post, edited ${edited}`,
      },
    );
    assert.ok(updated.edited_at);
    const seen = await eventually("bob to see the edit on B", async () => {
      const s = await api<Status>(B, "bob", "GET", `/api/v1/statuses/${followers.idOnB}`);
      return s.content.includes(edited) ? s : null;
    });
    assert.ok(seen.edited_at, "edited_at is set on B");
    assert.ok(!seen.content.includes(followers.token), "the old text is gone");

    await api(A, "alice", "DELETE", `/api/v1/statuses/${followers.status.id}`);
    await eventually("the deleted post to be gone on B", async () => {
      return (await request(B, "bob", "GET", `/api/v1/statuses/${followers.idOnB}`)).status === 404;
    });
    const timeline = await home(B, "bob");
    assert.equal(withToken(timeline, edited), undefined, "gone from bob's timeline");
    assert.ok(withToken(timeline, delivered.public!.token), "the other posts stay");
  });

  test("5. a reply and a like go back to A", async () => {
    const parent = delivered.public!;
    const t = token("reply");
    const reply = await api<Status>(B, "bob", "POST", "/api/v1/statuses", {
      status: `@alice@${A.host} ${t}`,
      in_reply_to_id: parent.idOnB,
      visibility: "public",
    });
    assert.equal(reply.in_reply_to_id, parent.idOnB);
    const liked = await api<Status>(B, "bob", "POST", `/api/v1/statuses/${parent.idOnB}/favourite`);
    assert.equal(liked.favourited, true);

    const context = await eventually("bob's reply among the post's descendants on A", async () => {
      const c = await api<{ descendants: Status[] }>(
        A,
        "alice",
        "GET",
        `/api/v1/statuses/${parent.status.id}/context`,
      );
      return withToken(c.descendants, t) ? c : null;
    });
    const onA = withToken(context.descendants, t)!;
    assert.equal(onA.account.acct, `bob@${B.host}`);
    assert.equal(onA.in_reply_to_id, parent.status.id);
    assert.equal(onA.uri, reply.uri);
    assert.deepEqual(
      (onA.mentions as { acct: string }[]).map((m) => m.acct),
      ["alice"],
    );

    await eventually("the like to count on A", async () => {
      const s = await api<Status>(A, "alice", "GET", `/api/v1/statuses/${parent.status.id}`);
      return s.favourites_count === 1;
    });
  });

  test("6. after bob unfollows, followers-only posts stop reaching him", async () => {
    const rel = await api<Relationship>(
      B,
      "bob",
      "POST",
      `/api/v1/accounts/${known.aliceOnB}/unfollow`,
    );
    assert.equal(rel.following, false);
    await eventually("A to drop bob from alice's followers", async () => {
      return !(await relationship(A, "alice", known.bobOnA)).followed_by;
    });
    const hidden = token("after-unfollow");
    await post("alice", { status: `followers only ${hidden}`, audience: "followers" });
    // A later post that does reach bob: once it is there, the first would be too.
    const marker = token("marker");
    await post("alice", { status: `@bob@${B.host} ${marker}`, audience: "direct" });
    const timeline = await eventually("the direct marker in bob's home on B", async () => {
      const statuses = await home(B, "bob");
      return withToken(statuses, marker) ? statuses : null;
    });
    assert.equal(withToken(timeline, hidden), undefined, "the followers-only post did not reach B");
  });

  test("7. removing a follower reaches B", async () => {
    const beaOnA = await requestToFollowAlice("bea");
    assert.equal(beaOnA, known.beaOnA);
    await authorize(beaOnA, "bea");
    const rel = await api<Relationship>(
      A,
      "alice",
      "POST",
      `/api/v1/accounts/${beaOnA}/remove_from_followers`,
    );
    assert.equal(rel.followed_by, false);
    await eventually("bea on B to learn she no longer follows alice", async () => {
      const r = await relationship(B, "bea", known.aliceOnB);
      return !r.following && !r.requested;
    });
  });

  test("8. alice's posts answer over ActivityPub only to those who may see them", async () => {
    const uri = (audience: string) => delivered[audience]!.status.uri;
    // A followers-only post that still exists (scenario 4 deleted the first one).
    const followersPost = await post("alice", {
      status: `followers again ${token("followers")}`,
      audience: "followers",
    });
    const followersUri = followersPost.uri;

    // Unsigned: only what is open.
    assert.equal(await unsignedGet(uri("public")), 200);
    assert.equal(await unsignedGet(uri("unlisted")), 200);
    for (const u of [followersUri, uri("clique"), uri("circle"), uri("direct")]) {
      assert.equal(await unsignedGet(u), 404, `unsigned ${u}`);
    }
    const note = (await (
      await httpsFetch(uri("public"), { headers: { accept: AP } })
    ).json()) as Record<string, unknown>;
    assert.equal(note.id, uri("public"));
    assert.ok(String(note.content).includes(delivered.public!.token));

    // Signed by bob, who unfollowed in scenario 6: no followers post yet.
    assert.equal(await signedGet(followersUri, "bob"), 404, "bob is not a follower now");
    const bobOnA = await requestToFollowAlice("bob");
    await authorize(bobOnA, "bob");
    assert.equal(await signedGet(followersUri, "bob"), 200, "bob follows again");
    assert.equal(await signedGet(uri("public"), "bob"), 200);
    for (const audience of ["clique", "circle", "direct"]) {
      assert.equal(await signedGet(uri(audience), "bob"), 404, `bob, ${audience}`);
    }
    // Signed by bill, who is in alice's circle.
    assert.equal(await signedGet(uri("circle"), "bill"), 200);
    for (const u of [followersUri, uri("clique"), uri("direct")]) {
      assert.equal(await signedGet(u, "bill"), 404, `bill, ${u}`);
    }
    // Signed by bea, to whom the direct post was addressed.
    assert.equal(await signedGet(uri("direct"), "bea"), 200);
    for (const u of [followersUri, uri("clique"), uri("circle")]) {
      assert.equal(await signedGet(u, "bea"), 404, `bea, ${u}`);
    }
  });
});
