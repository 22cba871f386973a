/**
 * Boosts, bookmarks, favourites, pins and who liked or boosted, through the
 * public API of real Clique processes; across two Cliques (each its own
 * process and database, behind a TLS proxy, real HTTP signatures) for the
 * `Announce`/`Undo(Announce)` exchange and the `featured` collection.
 *
 * A: alice (owner), amy, cat. alice follows cat. B: bob (owner), who follows
 * alice and amy. The tests run in order and build on each other; each post
 * carries a random token.
 */
import assert from "node:assert/strict";
import { createPrivateKey, randomBytes, sign } from "node:crypto";
import { after, afterEach, before, describe, test } from "node:test";
import { createKyselyStores, openDatabase } from "@clique/core/kysely";
import {
  createTestCertificates,
  stopEmbeddedTestServer,
  type TestCertificates,
  trustingFetch,
} from "@clique/testing";
import {
  api,
  type Cleanup,
  eventually,
  type Json,
  request,
  runCleanup,
  type Site,
  startSite,
} from "./support/sites.ts";

const AP = "application/activity+json";

type Account = Json & { acct: string; username: string };
type Status = Json & {
  content: string;
  uri: string;
  visibility: string;
  reblogs_count: number;
  favourites_count: number;
  reblogged: boolean;
  favourited: boolean;
  bookmarked: boolean;
  pinned: boolean;
  account: Account;
  reblog: Status | null;
};

const cleanup: Cleanup = [];
let certs: TestCertificates;
let A: Site;
let B: Site;
let failed = false;
/** A's members as B knows them. */
const onB: Record<string, string> = {};

function token(label: string): string {
  return `${label}-${randomBytes(6).toString("hex")}`;
}

function post(site: Site, user: string, text: string, extra: Record<string, unknown> = {}) {
  return api<Status>(site, user, "POST", "/api/v1/statuses", {
    status: text,
    visibility: "public",
    ...extra,
  });
}

function home(site: Site, user: string): Promise<Status[]> {
  return api<Status[]>(site, user, "GET", "/api/v1/timelines/home?limit=40");
}

async function following(site: Site, user: string, id: string): Promise<boolean> {
  const [r] = await api<(Json & { following: boolean })[]>(
    site,
    user,
    "GET",
    `/api/v1/accounts/relationships?id[]=${id}`,
  );
  return r?.following ?? false;
}

/** A GET as `username` of B, signed with their key (read from B's database), as B would sign it. */
async function signedGet(url: string, username: string): Promise<{ status: number; text: string }> {
  const actor = await B.fetch(`${B.origin}/users/${username}`, { headers: { accept: AP } });
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
  const response = await B.fetch(url, {
    headers: {
      accept: AP,
      date,
      signature: `keyId="${keyId}",algorithm="rsa-sha256",headers="(request-target) host date",signature="${signature}"`,
    },
  });
  return { status: response.status, text: await response.text() };
}

/** The ids of a collection's items (inline, or on its first page). */
async function collectionIds(
  text: string,
  get: (url: string) => Promise<string>,
): Promise<string[]> {
  let json = JSON.parse(text) as Record<string, unknown>;
  if (!json.orderedItems && !json.items && json.first) {
    const first = json.first;
    json =
      typeof first === "string"
        ? (JSON.parse(await get(first)) as Record<string, unknown>)
        : (first as Record<string, unknown>);
  }
  const items = (json.orderedItems ?? json.items ?? []) as unknown[];
  return items.map((i) => (typeof i === "string" ? i : String((i as { id: string }).id)));
}

before(async () => {
  certs = await createTestCertificates();
  cleanup.unshift(() => certs.remove());
  const tls = { certs, fetch: trustingFetch(certs.ca) as typeof fetch };
  [A, B] = await Promise.all([
    startSite({ label: "a", owner: "alice", members: ["amy", "cat"], cleanup, tls }),
    startSite({ label: "b", owner: "bob", members: [], cleanup, tls }),
  ]);
  // A's members take followers without approval.
  for (const user of ["alice", "amy", "cat"])
    await api(A, user, "PATCH", "/api/v1/accounts/update_credentials", { locked: false });
  await api(A, "alice", "POST", `/api/v1/accounts/${A.ids.cat}/follow`);
  assert.ok(await following(A, "alice", A.ids.cat!), "alice follows cat");
  for (const user of ["alice", "amy"]) {
    const found = await api<{ accounts: Json[] }>(
      B,
      "bob",
      "GET",
      `/api/v2/search?q=${encodeURIComponent(`${user}@${A.host}`)}&resolve=true&type=accounts`,
    );
    assert.equal(found.accounts.length, 1, `bob finds ${user}`);
    onB[user] = found.accounts[0]!.id;
    await api(B, "bob", "POST", `/api/v1/accounts/${onB[user]}/follow`);
    await eventually(`bob following ${user}`, () => following(B, "bob", onB[user]!));
  }
});

afterEach((t) => {
  if ("passed" in t && !t.passed) failed = true;
});

after(async () => {
  if (failed)
    for (const site of [A, B])
      if (site) console.error(`--- server ${site.label} ---\n${site.server.output()}`);
  await runCleanup(cleanup);
  await stopEmbeddedTestServer();
});

/** amy's public post of test 1, boosted by cat. */
let boosted: Status;
/** amy's circle holding cat. */
let circleId: string;

describe("boosts, bookmarks, favourites and pins", () => {
  test("1. a boost shows in a follower's home as a reblog wrapper, with counts", async () => {
    boosted = await post(A, "amy", `boost me ${token("p1")}`);
    const wrapper = await api<Status>(A, "cat", "POST", `/api/v1/statuses/${boosted.id}/reblog`);
    assert.notEqual(wrapper.id, boosted.id, "the boost has an id of its own");
    assert.equal(wrapper.account.id, A.ids.cat);
    assert.equal(wrapper.content, "");
    assert.equal(wrapper.visibility, "public");
    assert.equal(wrapper.reblog?.id, boosted.id);
    assert.equal(wrapper.reblog?.account.id, A.ids.amy);
    assert.equal(wrapper.reblog?.reblogged, true);
    assert.equal(wrapper.reblog?.reblogs_count, 1);
    // Boosting again changes nothing.
    const again = await api<Status>(A, "cat", "POST", `/api/v1/statuses/${boosted.id}/reblog`);
    assert.equal(again.id, wrapper.id);

    // alice follows cat: her home shows cat's boost of amy's post.
    const seen = (await home(A, "alice")).find((s) => s.id === wrapper.id);
    assert.ok(seen, "cat's boost is in alice's home");
    assert.equal(seen.account.username, "cat");
    assert.equal(seen.reblog?.id, boosted.id);
    assert.equal(seen.reblog?.content, boosted.content);
    assert.equal(seen.reblog?.reblogs_count, 1);
    assert.equal(seen.reblog?.reblogged, false, "alice did not boost it");
    // Every status says how many boosts it has and whether the viewer boosted it.
    const asCat = await api<Status>(A, "cat", "GET", `/api/v1/statuses/${boosted.id}`);
    assert.equal(asCat.reblogs_count, 1);
    assert.equal(asCat.reblogged, true);
    const by = await api<Account[]>(A, null, "GET", `/api/v1/statuses/${boosted.id}/reblogged_by`);
    assert.deepEqual(
      by.map((a) => a.id),
      [A.ids.cat],
    );
    // amy is told.
    const notes = await api<(Json & { type: string; status?: Status })[]>(
      A,
      "amy",
      "GET",
      "/api/v1/notifications?types[]=reblog",
    );
    assert.ok(
      notes.some((n) => n.type === "reblog" && n.status?.id === boosted.id),
      "amy has a reblog notification",
    );
  });

  test("2. circle and Clique-only posts cannot be boosted (422); invisible ones answer 404", async () => {
    const circle = await api<Json>(A, "amy", "POST", "/api/v1/clique/circles", {
      name: "close",
      member_ids: [A.ids.cat],
    });
    circleId = circle.id;
    const inCircle = await post(A, "amy", `circle ${token("c")}`, {
      audience: "circle",
      circle_id: circleId,
    });
    const cliqueOnly = await post(A, "amy", `clique ${token("q")}`, { audience: "clique" });
    for (const s of [inCircle, cliqueOnly]) {
      const r = await request<{ error: string; code: string }>(
        A,
        "cat",
        "POST",
        `/api/v1/statuses/${s.id}/reblog`,
      );
      assert.equal(r.status, 422, r.text);
      assert.equal(r.body.code, "not_boostable");
      assert.match(r.body.error, /public/);
    }
    // alice is not in the circle: for her the post does not exist.
    for (const path of ["reblog", "unreblog", "bookmark", "pin"]) {
      const r = await request(A, "alice", "POST", `/api/v1/statuses/${inCircle.id}/${path}`);
      assert.equal(r.status, 404, `${path}: ${r.text}`);
    }
    for (const path of ["favourited_by", "reblogged_by"]) {
      for (const user of ["alice", null]) {
        const r = await request(A, user, "GET", `/api/v1/statuses/${inCircle.id}/${path}`);
        assert.equal(r.status, 404, `${path} as ${user}: ${r.text}`);
      }
    }
    // cat, in the circle, sees who liked it.
    await api(A, "cat", "POST", `/api/v1/statuses/${inCircle.id}/favourite`);
    const likers = await api<Account[]>(
      A,
      "cat",
      "GET",
      `/api/v1/statuses/${inCircle.id}/favourited_by`,
    );
    assert.deepEqual(
      likers.map((a) => a.id),
      [A.ids.cat],
    );
  });

  test("3. unreblog takes the boost out of feeds and counts", async () => {
    const status = await api<Status>(A, "cat", "POST", `/api/v1/statuses/${boosted.id}/unreblog`);
    assert.equal(status.id, boosted.id);
    assert.equal(status.reblogged, false);
    assert.equal(status.reblogs_count, 0);
    assert.ok(!(await home(A, "alice")).some((s) => s.reblog?.id === boosted.id));
    const by = await api<Account[]>(A, null, "GET", `/api/v1/statuses/${boosted.id}/reblogged_by`);
    assert.deepEqual(by, []);
    // A followers-only boost says so.
    const priv = await api<Status>(A, "cat", "POST", `/api/v1/statuses/${boosted.id}/reblog`, {
      visibility: "private",
    });
    assert.equal(priv.visibility, "private");
    await api(A, "cat", "POST", `/api/v1/statuses/${boosted.id}/unreblog`);
  });

  test("4. a boost on B of A's post reaches A as an Announce; the unboost takes it back", async () => {
    const text = token("fed");
    const original = await post(A, "alice", `federated ${text}`);
    const onBob = await eventually("alice's post in bob's home on B", async () =>
      (await home(B, "bob")).find((s) => s.content.includes(text)),
    );
    const wrapper = await api<Status>(B, "bob", "POST", `/api/v1/statuses/${onBob.id}/reblog`);
    assert.equal(wrapper.reblog?.uri, original.uri);
    await eventually("the boost counted on A", async () => {
      const s = await api<Status>(A, "alice", "GET", `/api/v1/statuses/${original.id}`);
      return s.reblogs_count === 1;
    });
    const by = await api<Account[]>(A, null, "GET", `/api/v1/statuses/${original.id}/reblogged_by`);
    assert.deepEqual(
      by.map((a) => a.acct),
      [`bob@${B.host}`],
    );
    await eventually("alice told of bob's boost", async () =>
      (
        await api<(Json & { type: string; status?: Status })[]>(
          A,
          "alice",
          "GET",
          "/api/v1/notifications?types[]=reblog",
        )
      ).some((n) => n.status?.id === original.id),
    );

    await api(B, "bob", "POST", `/api/v1/statuses/${onBob.id}/unreblog`);
    await eventually("the boost gone on A", async () => {
      const s = await api<Status>(A, "alice", "GET", `/api/v1/statuses/${original.id}`);
      return s.reblogs_count === 0;
    });
    assert.deepEqual(
      await api<Account[]>(A, null, "GET", `/api/v1/statuses/${original.id}/reblogged_by`),
      [],
    );
  });

  test("5. a boost on A by someone bob follows shows in bob's home on B", async () => {
    const text = token("relay");
    const original = await post(A, "alice", `relayed ${text}`);
    await eventually("alice's post on B", async () =>
      (await home(B, "bob")).some((s) => s.content.includes(text)),
    );
    const wrapper = await api<Status>(A, "amy", "POST", `/api/v1/statuses/${original.id}/reblog`);
    const seen = await eventually("amy's boost in bob's home on B", async () =>
      (await home(B, "bob")).find((s) => s.reblog?.uri === original.uri),
    );
    assert.equal(seen.account.acct, `amy@${A.host}`);
    assert.equal(seen.reblog?.account.acct, `alice@${A.host}`);
    assert.equal(seen.reblog?.reblogs_count, 1);
    await api(A, "amy", "POST", `/api/v1/statuses/${original.id}/unreblog`);
    await eventually(
      "amy's boost gone from bob's home",
      async () => !(await home(B, "bob")).some((s) => s.reblog?.uri === original.uri),
    );
    assert.ok(wrapper.id);
  });

  test("5b. a boost of a post B never received: B fetches it (public only) and shows the boost", async () => {
    // bob does not follow cat: her posts never reach B by themselves.
    const text = token("fetched");
    const original = await post(A, "cat", `fetched ${text}`);
    const limited = await post(A, "cat", `not for boosts ${token("nb")}`, {
      visibility: "private",
    });
    await api(A, "alice", "POST", `/api/v1/statuses/${original.id}/reblog`);
    const seen = await eventually("alice's boost of cat's post in bob's home on B", async () =>
      (await home(B, "bob")).find((s) => s.reblog?.uri === original.uri),
    );
    assert.equal(seen.account.acct, `alice@${A.host}`);
    assert.equal(seen.reblog?.account.acct, `cat@${A.host}`);
    assert.ok(seen.reblog?.content.includes(text), "the post's content was fetched");
    // alice follows cat and sees her followers-only post, but may not boost it.
    const refused = await request(A, "alice", "POST", `/api/v1/statuses/${limited.id}/reblog`);
    assert.equal(refused.status, 422, refused.text);
    assert.ok(!(await home(B, "bob")).some((s) => s.content.includes(limited.content)));
  });

  test("6. bookmarks and favourites: listed newest first, and only while visible", async () => {
    const open = await post(A, "amy", `open ${token("bm")}`);
    const inCircle = await post(A, "amy", `circle ${token("bm")}`, {
      audience: "circle",
      circle_id: circleId,
    });
    for (const s of [inCircle, open]) {
      const marked = await api<Status>(A, "cat", "POST", `/api/v1/statuses/${s.id}/bookmark`);
      assert.equal(marked.bookmarked, true);
      await api(A, "cat", "POST", `/api/v1/statuses/${s.id}/favourite`);
    }
    const list = await request<Status[]>(A, "cat", "GET", "/api/v1/bookmarks?limit=1");
    assert.equal(list.status, 200);
    assert.deepEqual(
      list.body.map((s) => s.id),
      [open.id],
    );
    const link = await (async () => {
      const r = await A.fetch(`${A.origin}/api/v1/bookmarks?limit=1`, {
        headers: { authorization: `Bearer ${A.tokens.cat}` },
      });
      await r.arrayBuffer();
      return r.headers.get("link") ?? "";
    })();
    const next = /<([^>]+)>; rel="next"/.exec(link)?.[1];
    assert.ok(next, `a next link: ${link}`);
    const page2 = await api<Status[]>(
      A,
      "cat",
      "GET",
      new URL(next).pathname + new URL(next).search,
    );
    assert.deepEqual(
      page2.map((s) => s.id),
      [inCircle.id],
    );
    assert.ok(page2[0]!.bookmarked);
    // Bookmarks are private.
    const mine = await api<Status[]>(A, "alice", "GET", "/api/v1/bookmarks");
    assert.ok(!mine.some((s) => s.id === open.id));
    const faves = await api<Status[]>(A, "cat", "GET", "/api/v1/favourites");
    assert.deepEqual(
      faves.slice(0, 2).map((s) => s.id),
      [open.id, inCircle.id],
    );
    assert.ok(faves[0]!.favourited);

    // cat leaves amy's circle: the circle post is gone from both lists.
    await api(A, "amy", "PATCH", `/api/v1/clique/circles/${circleId}`, { member_ids: [] });
    const after = await api<Status[]>(A, "cat", "GET", "/api/v1/bookmarks");
    assert.deepEqual(
      after.map((s) => s.id),
      [open.id],
    );
    const faves2 = await api<Status[]>(A, "cat", "GET", "/api/v1/favourites");
    assert.ok(!faves2.some((s) => s.id === inCircle.id));
    assert.ok(!JSON.stringify(faves2).includes(inCircle.content));

    await api(A, "cat", "POST", `/api/v1/statuses/${open.id}/unbookmark`);
    assert.deepEqual(await api<Status[]>(A, "cat", "GET", "/api/v1/bookmarks"), []);
  });

  test("7. pins: own posts only, five at most, listed and featured per viewer", async () => {
    const pinned: Status[] = [];
    for (let i = 0; i < 4; i++) pinned.push(await post(A, "amy", `pin ${i} ${token("pin")}`));
    const followersOnly = await post(A, "amy", `followers pin ${token("pin")}`, {
      visibility: "private",
    });
    for (const s of [...pinned, followersOnly]) {
      const r = await api<Status>(A, "amy", "POST", `/api/v1/statuses/${s.id}/pin`);
      assert.equal(r.pinned, true);
    }
    const sixth = await post(A, "amy", `one too many ${token("pin")}`);
    const full = await request<{ code: string }>(
      A,
      "amy",
      "POST",
      `/api/v1/statuses/${sixth.id}/pin`,
    );
    assert.equal(full.status, 422, full.text);
    assert.equal(full.body.code, "pin_limit");
    const notOwn = await request<{ code: string }>(
      A,
      "cat",
      "POST",
      `/api/v1/statuses/${sixth.id}/pin`,
    );
    assert.equal(notOwn.status, 422, notOwn.text);
    assert.equal(notOwn.body.code, "pin_not_own");
    assert.equal(
      (await api<Status>(A, "amy", "GET", `/api/v1/statuses/${followersOnly.id}`)).pinned,
      true,
    );

    const listed = (user: string | null) =>
      api<Status[]>(A, user, "GET", `/api/v1/accounts/${A.ids.amy}/statuses?pinned=true`);
    const publicIds = pinned.map((s) => s.id).sort();
    assert.deepEqual(
      (await listed(null)).map((s) => s.id).sort(),
      publicIds,
      "anonymous: the public pins",
    );
    assert.deepEqual(
      (await listed("alice")).map((s) => s.id).sort(),
      publicIds,
      "alice does not follow amy",
    );
    assert.deepEqual(
      (await listed("amy")).map((s) => s.id).sort(),
      [...publicIds, followersOnly.id].sort(),
    );

    // The featured collection: anonymous sees the public pins; bob, amy's follower, signs and sees all.
    const featured = `${A.origin}/users/amy/featured`;
    const anonymous = await A.fetch(featured, { headers: { accept: AP } });
    assert.equal(anonymous.status, 200);
    const anonIds = await collectionIds(await anonymous.text(), async (u) =>
      (await A.fetch(u, { headers: { accept: AP } })).text(),
    );
    assert.deepEqual(anonIds.sort(), pinned.map((s) => s.uri).sort());
    const signed = await signedGet(featured, "bob");
    assert.equal(signed.status, 200, signed.text);
    const signedIds = await collectionIds(
      signed.text,
      async (u) => (await signedGet(u, "bob")).text,
    );
    assert.deepEqual(signedIds.sort(), [...pinned, followersOnly].map((s) => s.uri).sort());

    await api(A, "amy", "POST", `/api/v1/statuses/${pinned[0]!.id}/unpin`);
    assert.equal((await listed(null)).length, 3);
    await api(A, "amy", "POST", `/api/v1/statuses/${sixth.id}/pin`);
  });

  test("8. favourited_by leaves out accounts the viewer blocks", async () => {
    const s = await post(A, "amy", `liked ${token("fav")}`);
    await api(A, "cat", "POST", `/api/v1/statuses/${s.id}/favourite`);
    await api(A, "alice", "POST", `/api/v1/statuses/${s.id}/favourite`);
    const all = await api<Account[]>(A, null, "GET", `/api/v1/statuses/${s.id}/favourited_by`);
    assert.deepEqual(
      all.map((a) => a.id),
      [A.ids.alice, A.ids.cat],
    );
    await api(A, "amy", "POST", `/api/v1/accounts/${A.ids.cat}/block`);
    const toAmy = await api<Account[]>(A, "amy", "GET", `/api/v1/statuses/${s.id}/favourited_by`);
    assert.deepEqual(
      toAmy.map((a) => a.id),
      [A.ids.alice],
    );
    await api(A, "amy", "POST", `/api/v1/accounts/${A.ids.cat}/unblock`);
  });
});
