import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { createTestDatabase, stopEmbeddedTestServer, type TestDatabase } from "@clique/testing";
import { type FederationBackends, openFederationBackends } from "./federation-backends.ts";

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

describe("Fedify key–value store on PostgreSQL", () => {
  let database: TestDatabase;
  let backends: FederationBackends;

  before(async () => {
    database = await createTestDatabase();
    backends = openFederationBackends(database.url);
  });
  after(async () => {
    await backends?.close();
    await database?.drop();
    await stopEmbeddedTestServer();
  });

  test("get, set, delete and list by prefix", async () => {
    const { kv } = backends;
    await kv.set(["a", "1"], { n: 1 });
    await kv.set(["a", "2"], { n: 2 });
    await kv.set(["b", "1"], "other");
    assert.deepEqual(await kv.get(["a", "1"]), { n: 1 });
    const listed = await collect(kv.list(["a"]));
    assert.deepEqual(listed.map((e) => [e.key, e.value]).sort(), [
      [["a", "1"], { n: 1 }],
      [["a", "2"], { n: 2 }],
    ]);
    assert.equal((await collect(kv.list())).length, 3);
    await kv.delete(["a", "1"]);
    assert.equal(await kv.get(["a", "1"]), undefined);
  });

  test("compare-and-swap succeeds once for the same expected value", async () => {
    const { kv } = backends;
    assert.ok(kv.cas, "the adapter implements cas");
    assert.equal(await kv.cas(["c"], undefined, { v: 1 }), true, "creates when absent");
    assert.equal(
      await kv.cas(["c"], undefined, { v: 9 }),
      false,
      "does not overwrite when present",
    );
    const results = await Promise.all([
      kv.cas(["c"], { v: 1 }, { v: 2 }),
      kv.cas(["c"], { v: 1 }, { v: 3 }),
    ]);
    assert.deepEqual(results.filter(Boolean).length, 1, "exactly one concurrent swap wins");
    const stored = await kv.get(["c"]);
    assert.ok([2, 3].includes((stored as { v: number }).v), `stored ${JSON.stringify(stored)}`);
  });
});
