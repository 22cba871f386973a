/**
 * Remote actors are refreshed once a day after they were last fetched, by
 * the Clique's clock (`deps.now`), not on every use. The remote is a real
 * HTTP server on loopback (`startFakeRemote`); the clock is pinned.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  type FakeRemote,
  openTestClique,
  startFakeRemote,
  stopEmbeddedTestServer,
  TEST_ORIGIN,
  type TestClique,
} from "@clique/testing";
import { MemoryKvStore } from "@fedify/fedify";
import { createClique } from "../clique.ts";

const HOUR = 60 * 60 * 1000;

let t: TestClique;
let remote: FakeRemote;

before(async () => {
  [t, remote] = await Promise.all([openTestClique(), startFakeRemote({ usernames: ["rita"] })]);
});

after(async () => {
  await remote?.close();
  await t?.drop();
  await stopEmbeddedTestServer();
});

describe("refreshing remote actors", () => {
  it("fetches a known actor again only a day after it was last fetched, by the Clique's clock", async () => {
    // Three days ago by the real clock, so that a check against the real clock would refetch.
    const start = Date.now() - 72 * HOUR;
    let now = new Date(start);
    const clique = createClique({
      stores: t.stores,
      config: { origin: TEST_ORIGIN, defaultMemberCap: 10 },
      now: () => now,
      federation: { kv: new MemoryKvStore(), allowPrivateAddress: true, version: "test" },
    });
    const rita = remote.account("rita");
    const fetches = () =>
      remote.requests.filter((r) => r.method === "GET" && r.path === "/users/rita").length;
    const at = async (hours: number) => {
      now = new Date(start + hours * HOUR);
      return clique.resolveUri(rita.id);
    };

    const first = await at(0);
    assert.equal(first?.displayName, "Rita");
    assert.equal(fetches(), 1);
    assert.equal(first?.fetchedAt?.getTime(), start);

    remote.update("rita", { name: "Rita Renamed" });
    assert.equal((await at(1))?.displayName, "Rita", "an hour later: the stored copy");
    assert.equal((await at(23))?.displayName, "Rita", "23 hours later: still the stored copy");
    assert.equal(fetches(), 1, "no fetch within a day");

    const refreshed = await at(25);
    assert.equal(refreshed?.displayName, "Rita Renamed", "a day later: fetched again");
    assert.equal(fetches(), 2);
    assert.equal(refreshed?.fetchedAt?.getTime(), start + 25 * HOUR, "the fetch is recorded");
    assert.equal(refreshed?.createdAt.getTime(), start, "first seen stays first seen");

    await at(26);
    await at(48);
    assert.equal(fetches(), 2, "the next day counts from the last fetch");
    await at(50);
    assert.equal(fetches(), 3);
  });
});
