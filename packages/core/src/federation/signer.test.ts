/**
 * Who signed a GET, as the federation tells it (`signedViewer`): every
 * signature is verified, the signer's key and actor are fetched once and
 * not on every request, and a new key, a replaced key, a key its claimed
 * owner does not list, an owner that went away are all told apart. The
 * remote is a real HTTP server on loopback (`startFakeRemote`); requests are
 * signed as Mastodon signs its GETs (draft-cavage, RSA).
 */
import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { after, before, describe, it } from "node:test";
import {
  type FakeRemote,
  openTestClique,
  startFakeRemote,
  stopEmbeddedTestServer,
  TEST_ORIGIN,
  type TestClique,
} from "@clique/testing";
import { MemoryKvStore, signRequest } from "@fedify/fedify";
import { CryptographicKey } from "@fedify/vocab";
import { createClique } from "../clique.ts";
import { createSignerMemo } from "./signer.ts";

let t: TestClique;
let remote: FakeRemote;
let clique: ReturnType<typeof createClique>;

before(async () => {
  [t, remote] = await Promise.all([
    openTestClique(),
    startFakeRemote({ usernames: ["rita", "sam", "gone"] }),
  ]);
  clique = createClique({
    stores: t.stores,
    config: { origin: TEST_ORIGIN, defaultMemberCap: 10 },
    federation: { kv: new MemoryKvStore(), allowPrivateAddress: true, version: "test" },
  });
});

after(async () => {
  await remote?.close();
  await t?.drop();
  await stopEmbeddedTestServer();
});

/** An RSA key pair as PEM, as the fake remote's accounts have. */
function rsaPair(): { publicKeyPem: string; privateKeyPem: string } {
  const { publicKey, privateKey } = generateKeyPairSync("rsa", {
    modulusLength: 2048,
    publicKeyEncoding: { type: "spki", format: "pem" },
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
  });
  return { publicKeyPem: publicKey, privateKeyPem: privateKey };
}

/** A GET of one of this Clique's objects, signed with `privateKeyPem` under `keyId`. */
async function signedGet(keyId: string, privateKeyPem: string): Promise<Request> {
  const der = Buffer.from(
    privateKeyPem.replace(/-----[^-]+-----/g, "").replace(/\s+/g, ""),
    "base64",
  );
  const key = await crypto.subtle.importKey(
    "pkcs8",
    der,
    { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" },
    // Fedify's signRequest insists on an extractable key.
    true,
    ["sign"],
  );
  const request = new Request(`${TEST_ORIGIN}/users/alice/statuses/x`, {
    headers: { accept: "application/activity+json" },
  });
  return signRequest(request, key, new URL(keyId), { spec: "draft-cavage-http-signatures-12" });
}

/** GETs of an account's actor document the remote received so far. */
function fetchesOf(username: string): number {
  return remote.requests.filter((r) => r.method === "GET" && r.path === `/users/${username}`)
    .length;
}

describe("signed GETs", () => {
  it("fetches a signer's key and actor once, then verifies each request without asking", async () => {
    const rita = remote.account("rita");
    const before = fetchesOf("rita");
    const first = await clique.signedViewer(await signedGet(rita.keyId, rita.privateKeyPem));
    const stored = await t.stores.actors.getByUri(rita.id);
    assert.ok(stored, "the signer is stored");
    assert.deepEqual(first, { kind: "remote", actorId: stored.id });
    assert.equal(
      fetchesOf("rita") - before,
      1,
      "one fetch: the key and its owner are one document",
    );
    for (let i = 0; i < 3; i++) {
      const again = await clique.signedViewer(await signedGet(rita.keyId, rita.privateKeyPem));
      assert.deepEqual(again, { kind: "remote", actorId: stored.id });
    }
    assert.equal(fetchesOf("rita") - before, 1, "no fetch for a known key");
  });

  it("still verifies every signature: a known key id signed with another key is anonymous", async () => {
    const rita = remote.account("rita");
    const sam = remote.account("sam");
    await clique.signedViewer(await signedGet(rita.keyId, rita.privateKeyPem));
    const forged = await clique.signedViewer(await signedGet(rita.keyId, sam.privateKeyPem));
    assert.deepEqual(forged, { kind: "anonymous" });
    // The genuine key is still accepted afterwards.
    const stored = await t.stores.actors.getByUri(rita.id);
    assert.deepEqual(await clique.signedViewer(await signedGet(rita.keyId, rita.privateKeyPem)), {
      kind: "remote",
      actorId: stored!.id,
    });
  });

  it("answers an unsigned request as anonymous without fetching anything", async () => {
    const count = remote.requests.length;
    const viewer = await clique.signedViewer(new Request(`${TEST_ORIGIN}/users/alice`));
    assert.deepEqual(viewer, { kind: "anonymous" });
    assert.equal(remote.requests.length, count);
  });

  it("follows a key rotated to a new id, and a key replaced under the same id", async () => {
    const rita = remote.account("rita");
    const stored = await t.stores.actors.getByUri(rita.id);
    await clique.signedViewer(await signedGet(rita.keyId, rita.privateKeyPem));

    // A new key with a new id: unknown, so fetched, with its owner.
    const second = rsaPair();
    const secondId = `${rita.id}#key-2`;
    remote.update("rita", {
      properties: {
        publicKey: { id: secondId, owner: rita.id, publicKeyPem: second.publicKeyPem },
      },
    });
    const before = fetchesOf("rita");
    assert.deepEqual(await clique.signedViewer(await signedGet(secondId, second.privateKeyPem)), {
      kind: "remote",
      actorId: stored!.id,
    });
    assert.ok(fetchesOf("rita") > before, "the new key was fetched");

    // New material under the first id: the remembered key fails, the fresh one verifies.
    const third = rsaPair();
    remote.update("rita", {
      properties: {
        publicKey: { id: rita.keyId, owner: rita.id, publicKeyPem: third.publicKeyPem },
      },
    });
    assert.deepEqual(await clique.signedViewer(await signedGet(rita.keyId, third.privateKeyPem)), {
      kind: "remote",
      actorId: stored!.id,
    });
    // …and the replaced material no longer does.
    assert.deepEqual(await clique.signedViewer(await signedGet(rita.keyId, rita.privateKeyPem)), {
      kind: "anonymous",
    });
    remote.update("rita", { properties: {} });
  });

  it("refuses a key whose claimed owner does not list it", async () => {
    const sam = remote.account("sam");
    const rita = remote.account("rita");
    // A key document on the remote naming rita as its owner; rita's actor does not list it.
    const keyId = `${remote.origin}/keys/not-rita`;
    remote.publish({
      "@context": "https://w3id.org/security/v1",
      id: keyId,
      type: "Key",
      owner: rita.id,
      publicKeyPem: sam.publicKeyPem,
    });
    assert.deepEqual(await clique.signedViewer(await signedGet(keyId, sam.privateKeyPem)), {
      kind: "anonymous",
    });
  });

  it("fetches again a known signer whose stored actor went away, and refuses one that is gone", async () => {
    const sam = remote.account("sam");
    await clique.signedViewer(await signedGet(sam.keyId, sam.privateKeyPem));
    const first = await t.stores.actors.getByUri(sam.id);
    assert.ok(first);
    await t.stores.actors.deleteRemote(first.id);
    const before = fetchesOf("sam");
    const viewer = await clique.signedViewer(await signedGet(sam.keyId, sam.privateKeyPem));
    const again = await t.stores.actors.getByUri(sam.id);
    assert.ok(again, "stored again");
    assert.deepEqual(viewer, { kind: "remote", actorId: again.id });
    assert.equal(fetchesOf("sam") - before, 1);

    const gone = remote.account("gone");
    await clique.signedViewer(await signedGet(gone.keyId, gone.privateKeyPem));
    const stored = await t.stores.actors.getByUri(gone.id);
    assert.ok(stored);
    remote.update("gone", { gone: true });
    await t.stores.actors.deleteRemote(stored.id);
    assert.deepEqual(await clique.signedViewer(await signedGet(gone.keyId, gone.privateKeyPem)), {
      kind: "anonymous",
    });
  });

  it("takes another server's instance actor for its whole host, from what is stored", async () => {
    const sam = remote.account("sam");
    // A new key id, so the changed document is fetched and stored.
    const pair = rsaPair();
    const keyId = `${sam.id}#instance-key`;
    remote.update("sam", {
      properties: {
        type: "Application",
        preferredUsername: remote.host,
        publicKey: { id: keyId, owner: sam.id, publicKeyPem: pair.publicKeyPem },
      },
    });
    const expected = { kind: "server", host: remote.host };
    assert.deepEqual(
      await clique.signedViewer(await signedGet(keyId, pair.privateKeyPem)),
      expected,
    );
    // Known now: the same answer without a fetch.
    const before = fetchesOf("sam");
    assert.deepEqual(
      await clique.signedViewer(await signedGet(keyId, pair.privateKeyPem)),
      expected,
    );
    assert.equal(fetchesOf("sam"), before);
    remote.update("sam", { properties: {} });
  });
});

describe("the signer memo's key cache", () => {
  it("keeps a fetched key for its time, and a key that could not be fetched for less", async () => {
    let now = 0;
    const memo = createSignerMemo({ keyTtlMs: 1_000, unavailableTtlMs: 100, now: () => now });
    const id = new URL("https://example.com/users/a#main-key");
    const missing = new URL("https://example.com/users/b#main-key");
    const key = new CryptographicKey({ id });
    await memo.keyCache.set(id, key);
    await memo.keyCache.set(missing, null);
    assert.equal(await memo.keyCache.get(id), key);
    assert.equal(await memo.keyCache.get(missing), null, "not asked for again yet");
    now = 100;
    assert.equal(await memo.keyCache.get(missing), undefined, "asked for again");
    assert.equal(await memo.keyCache.get(id), key);
    now = 1_000;
    assert.equal(await memo.keyCache.get(id), undefined, "fetched again");
    assert.equal(memo.size, 0);
  });
});
