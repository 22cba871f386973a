/**
 * A public post's object is built once and reused (kept-notes.ts), but who
 * may see it is still decided on every request: the same document while the
 * post is the same, the edited one after an edit, not found once its author
 * is suspended. Requests go through the Clique's Fedify federation, signed by
 * an account of a fake remote on loopback.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  type FakeRemote,
  insertFollow,
  openTestClique,
  seedWorld,
  startFakeRemote,
  stopEmbeddedTestServer,
  TEST_ORIGIN,
  type TestClique,
  type World,
} from "@clique/testing";
import { MemoryKvStore, signRequest } from "@fedify/fedify";
import { createClique } from "../clique.ts";
import { createNoteMemo } from "./kept-notes.ts";

let t: TestClique;
let remote: FakeRemote;
let clique: ReturnType<typeof createClique>;
let world: World;

before(async () => {
  [t, remote] = await Promise.all([openTestClique(), startFakeRemote({ usernames: ["rita"] })]);
  clique = createClique({
    stores: t.stores,
    config: { origin: TEST_ORIGIN, defaultMemberCap: 50 },
    federation: { kv: new MemoryKvStore(), allowPrivateAddress: true, version: "test" },
  });
  world = await seedWorld(clique, t.db);
});

after(async () => {
  await remote?.close();
  await t?.drop();
  await stopEmbeddedTestServer();
});

/** GETs `url` from the federation, signed by rita as Mastodon signs; status and body. */
async function fetchAsRita(url: string): Promise<{ status: number; text: string }> {
  const rita = remote.account("rita");
  const der = Buffer.from(
    rita.privateKeyPem.replace(/-----[^-]+-----/g, "").replace(/\s+/g, ""),
    "base64",
  );
  const key = await crypto.subtle.importKey(
    "pkcs8",
    der,
    { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" },
    true,
    ["sign"],
  );
  const request = await signRequest(
    new Request(url, { headers: { accept: "application/activity+json" } }),
    key,
    new URL(rita.keyId),
    { spec: "draft-cavage-http-signatures-12" },
  );
  const response = await clique.federation!.fetch(request, { contextData: undefined });
  return { status: response.status, text: await response.text() };
}

describe("a public post's object", () => {
  it("is the same document while the post is, the edited one after an edit, and found only by who may see it", async () => {
    const alice = world.members.alice_owner;
    const created = await clique.createPost(alice, {
      source: "kept-marker one",
      audience: "public",
    });
    assert.ok(created.ok);
    const url = `${TEST_ORIGIN}/users/alice_owner/statuses/${created.value.id}`;

    const first = await fetchAsRita(url);
    assert.equal(first.status, 200, first.text);
    assert.match(first.text, /kept-marker one/);
    const again = await fetchAsRita(url);
    assert.equal(again.status, 200);
    assert.equal(again.text, first.text, "the kept document, unchanged");

    const edited = await clique.editPost(alice, created.value.id, { source: "kept-marker two" });
    assert.ok(edited.ok);
    const after = await fetchAsRita(url);
    assert.equal(after.status, 200);
    assert.match(after.text, /kept-marker two/);
    assert.doesNotMatch(after.text, /kept-marker one/);

    // Kept or not, a post of a suspended member is found by nobody.
    await t.db
      .updateTable("members")
      .set({ status: "suspended" })
      .where("id", "=", alice.id)
      .execute();
    try {
      const hidden = await fetchAsRita(url);
      assert.notEqual(hidden.status, 200);
      assert.doesNotMatch(hidden.text, /kept-marker/);
    } finally {
      await t.db
        .updateTable("members")
        .set({ status: "active" })
        .where("id", "=", alice.id)
        .execute();
    }
  });
});

describe("a followers-only post's object", () => {
  it("is shown to a follower, and kept or not, not to someone who no longer follows", async () => {
    const alice = world.members.alice_owner;
    const created = await clique.createPost(alice, {
      source: "kept-marker followers",
      audience: "followers",
    });
    assert.ok(created.ok);
    const url = `${TEST_ORIGIN}/users/alice_owner/statuses/${created.value.id}`;

    const stranger = await fetchAsRita(url);
    assert.notEqual(stranger.status, 200, "rita does not follow alice yet");
    assert.doesNotMatch(stranger.text, /kept-marker/);

    const rita = await t.stores.actors.getByUri(remote.account("rita").id);
    assert.ok(rita, "rita was stored when she first signed");
    await insertFollow(t.stores, rita.id, alice.id, "accepted");
    for (let i = 0; i < 2; i++) {
      const follower = await fetchAsRita(url);
      assert.equal(follower.status, 200, follower.text);
      assert.match(follower.text, /kept-marker followers/);
    }

    await t.db.deleteFrom("follows").where("follower_id", "=", rita.id).execute();
    const former = await fetchAsRita(url);
    assert.notEqual(former.status, 200, "the kept document is not hers any more");
    assert.doesNotMatch(former.text, /kept-marker/);
  });
});

describe("the note memo", () => {
  it("answers only for the same version of a post, and only for its time", () => {
    let now = 0;
    const memo = createNoteMemo({ ttlMs: 1_000, now: () => now });
    memo.put("p1", "v1", { content: "one" });
    assert.deepEqual(memo.get("p1", "v1"), { content: "one" });
    assert.equal(memo.get("p1", "v2"), undefined, "another version of the post");
    memo.put("p1", "v2", { content: "two" });
    now = 999;
    assert.deepEqual(memo.get("p1", "v2"), { content: "two" });
    now = 1_000;
    assert.equal(memo.get("p1", "v2"), undefined, "too old");
    assert.equal(memo.size, 0);
  });
});
