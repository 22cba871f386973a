/**
 * The shared-document cache: what it keeps (200 answers of documents that are
 * the same for everyone), for how long, and that a write empties it, even
 * for an answer that was being built while the write happened.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DocumentCache, isSharedDocument } from "./document-cache.ts";

function actorDoc(name: string): Response {
  return new Response(JSON.stringify({ type: "Person", name }), {
    status: 200,
    headers: { "content-type": "application/activity+json" },
  });
}

function request(url: string, accept = "application/activity+json"): Request {
  return new Request(url, { headers: { accept } });
}

describe("document cache", () => {
  it("caches only documents that are the same for everyone", () => {
    assert.ok(isSharedDocument("/.well-known/webfinger"));
    assert.ok(isSharedDocument("/.well-known/nodeinfo"));
    assert.ok(isSharedDocument("/nodeinfo/2.1"));
    assert.ok(isSharedDocument("/users/alice"));
    // Posts, collections and inboxes depend on who asks.
    assert.ok(!isSharedDocument("/users/alice/statuses/0193c8a0-0000-7000-8000-000000000000"));
    assert.ok(!isSharedDocument("/users/alice/followers"));
    assert.ok(!isSharedDocument("/users/alice/outbox"));
    assert.ok(!isSharedDocument("/users/alice/featured"));
    assert.ok(!isSharedDocument("/inbox"));
  });

  it("serves a kept document, with its headers, until it expires", async () => {
    let now = 1_000;
    const cache = new DocumentCache({ ttlMs: 10_000, maxEntries: 10, now: () => now });
    const key = DocumentCache.keyOf(request("https://c.example/users/alice"));
    assert.equal(cache.get(key), null);
    const sent = await cache.put(key, actorDoc("Alice"), cache.generation);
    assert.deepEqual(await sent.json(), { type: "Person", name: "Alice" });
    for (let i = 0; i < 2; i++) {
      const kept = cache.get(key);
      assert.ok(kept);
      assert.equal(kept.headers.get("content-type"), "application/activity+json");
      assert.deepEqual(await kept.json(), { type: "Person", name: "Alice" });
    }
    now += 10_000;
    assert.equal(cache.get(key), null);
    assert.equal(cache.size, 0);
  });

  it("keys by URL and Accept", async () => {
    const cache = new DocumentCache({ ttlMs: 10_000, maxEntries: 10 });
    const json = DocumentCache.keyOf(request("https://c.example/users/alice"));
    await cache.put(json, actorDoc("Alice"), cache.generation);
    assert.equal(
      cache.get(DocumentCache.keyOf(request("https://c.example/users/alice", "*/*"))),
      null,
    );
    assert.equal(cache.get(DocumentCache.keyOf(request("https://c.example/users/bob"))), null);
    assert.ok(cache.get(json));
  });

  it("keeps no misses, redirects or errors", async () => {
    const cache = new DocumentCache({ ttlMs: 10_000, maxEntries: 10 });
    for (const status of [302, 404, 406, 410, 500]) {
      const key = `k${status}`;
      const sent = await cache.put(key, new Response("x", { status }), cache.generation);
      assert.equal(sent.status, status);
      assert.equal(cache.get(key), null);
    }
    assert.equal(cache.size, 0);
  });

  it("a write empties it, and an answer built before the write is not kept", async () => {
    const cache = new DocumentCache({ ttlMs: 10_000, maxEntries: 10 });
    const key = DocumentCache.keyOf(request("https://c.example/users/alice"));
    await cache.put(key, actorDoc("Alice"), cache.generation);
    // A request starts building Alice's document; her profile is edited meanwhile.
    const started = cache.generation;
    cache.clear();
    assert.equal(cache.get(key), null);
    const sent = await cache.put(key, actorDoc("Alice (old)"), started);
    assert.deepEqual(await sent.json(), { type: "Person", name: "Alice (old)" });
    assert.equal(cache.get(key), null);
    await cache.put(key, actorDoc("Alice (new)"), cache.generation);
    assert.deepEqual(await cache.get(key)?.json(), { type: "Person", name: "Alice (new)" });
  });

  it("keeps at most maxEntries, dropping the oldest", async () => {
    const cache = new DocumentCache({ ttlMs: 10_000, maxEntries: 2 });
    for (const name of ["a", "b", "c"]) await cache.put(name, actorDoc(name), cache.generation);
    assert.equal(cache.size, 2);
    assert.equal(cache.get("a"), null);
    assert.ok(cache.get("b"));
    assert.ok(cache.get("c"));
  });
});
