/**
 * What happened reaches whoever needs it: other servers (a profile edit sends
 * `Update(Person)` to the member's followers' servers) and other packages,
 * which plug in through `createClique` — event subscribers, and inbox
 * listeners for activity types core does not handle (a `Flag`, say).
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import { type Clique, createClique, type RecordedEvent } from "@clique/core";
import { createKyselyStores, migrateToLatest, openDatabase } from "@clique/core/kysely";
import {
  createTestDatabase,
  type FakeRemote,
  lastLine,
  runCliOk,
  type ServerProcess,
  startFakeRemote,
  startServerProcess,
  stopEmbeddedTestServer,
  type TestDatabase,
} from "@clique/testing";
import { MemoryKvStore } from "@fedify/fedify";
import { Flag, Follow } from "@fedify/vocab";
import { serve } from "@hono/node-server";
import { deliver, eventually, idOf, typeOf } from "./support/mastodon-signing.ts";

const AS = "https://www.w3.org/ns/activitystreams";

type Json = Record<string, unknown>;

describe("a profile edit reaches the servers of the member's followers", () => {
  let db: TestDatabase | undefined;
  let server: ServerProcess | undefined;
  let remote: FakeRemote | undefined;

  before(async () => {
    remote = await startFakeRemote({ usernames: ["fan"] });
    db = await createTestDatabase();
    const env = {
      ...process.env,
      DATABASE_URL: db.url,
      CLIQUE_ALLOW_PRIVATE_ADDRESS: "true",
      CLIQUE_DB_POOL: "4",
    };
    await runCliOk(["init", "--name", "Events", "--owner", "alice", "--password-stdin"], {
      env,
      stdin: "alice-password-1",
    });
    server = await startServerProcess({ env, databaseUrl: db.url });
  });

  after(async () => {
    await server?.stop();
    await remote?.close();
    await db?.drop();
  });

  test("Update(Person) with the new name, after the follower was accepted", async () => {
    const env = { ...process.env, DATABASE_URL: db!.url };
    const token = lastLine(await runCliOk(["token", "create", "alice"], { env }));
    const api = async (path: string, method = "GET", body?: unknown) => {
      const response = await fetch(`${server!.url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body ? { "content-type": "application/json" } : {}),
        },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      assert.ok(response.ok, `${method} ${path}: ${response.status}`);
      return (await response.json()) as Json;
    };
    const fan = remote!.account("fan");
    const aliceUri = `${server!.origin}/users/alice`;
    const follow = {
      "@context": AS,
      id: `${remote!.origin}/${randomUUID()}`,
      type: "Follow",
      actor: fan.id,
      object: aliceUri,
    };
    const sent = await deliver(`${server!.origin}/inbox`, follow, { as: fan });
    assert.equal(sent.status, 202);
    const requester = await eventually("fan's follow request", async () => {
      const list = (await api("/api/v1/follow_requests")) as unknown as { id: string }[];
      return list[0];
    });
    await api(`/api/v1/follow_requests/${requester.id}/authorize`, "POST");

    // Her actor document is cached for everyone; the edit shows in it at once.
    const actorDocument = async () => {
      const response = await fetch(`${server!.url}/users/alice`, {
        headers: { accept: "application/activity+json" },
      });
      assert.equal(response.status, 200);
      return (await response.json()) as Json;
    };
    assert.notEqual((await actorDocument()).name, "Alice Renamed");
    assert.notEqual((await actorDocument()).name, "Alice Renamed");
    await api("/api/v1/accounts/update_credentials", "PATCH", { display_name: "Alice Renamed" });
    assert.equal((await actorDocument()).name, "Alice Renamed");
    const update = await remote!.waitFor(
      (r) => r.inbox && typeOf(r.json) === "Update" && idOf((r.json as Json).object) === aliceUri,
      { what: "Update(Person) of alice" },
    );
    const person = (update.json as Json).object as Json;
    assert.equal(person.type, "Person");
    assert.equal(person.name, "Alice Renamed");
    // Only the default audience changes: nothing for other servers to hear.
    await api("/api/v1/accounts/update_credentials", "PATCH", { source: { privacy: "public" } });
    await api("/api/v1/accounts/update_credentials", "PATCH", { display_name: "Alice Again" });
    const updates = await eventually("the second Update(Person)", async () => {
      const all = remote!.requests.filter((r) => r.inbox && typeOf(r.json) === "Update");
      return all.length >= 2 ? all : null;
    });
    assert.equal(updates.length, 2, "one Update per edit that other servers show");
    assert.equal(((updates[1]!.json as Json).object as Json).name, "Alice Again");
  });
});

describe("other packages plug in through createClique", () => {
  let db: TestDatabase | undefined;
  let remote: FakeRemote | undefined;
  let http: ReturnType<typeof serve> | undefined;
  let clique: Clique;
  let kysely: ReturnType<typeof openDatabase> | undefined;
  let origin = "";
  const heard: RecordedEvent[] = [];
  const flags: { actor: string; object: string }[] = [];

  before(async () => {
    remote = await startFakeRemote({ usernames: ["reporter"] });
    db = await createTestDatabase();
    kysely = openDatabase(db.url, { maxConnections: 4 });
    await migrateToLatest(kysely!);
    // The HTTP server is up before the Clique exists, so that its origin is known.
    let fetchFederation: ((request: Request) => Promise<Response>) | null = null;
    http = serve({
      fetch: (request) => fetchFederation?.(request) ?? new Response(null, { status: 503 }),
      port: 0,
      hostname: "127.0.0.1",
    });
    await new Promise<void>((resolve) => http!.once("listening", () => resolve()));
    origin = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
    clique = createClique({
      stores: createKyselyStores(kysely!),
      config: { origin, defaultMemberCap: 10 },
      federation: { kv: new MemoryKvStore(), allowPrivateAddress: true, version: "test" },
      subscribers: [
        {
          name: "listener-package",
          handle: async (recorded) => {
            heard.push(recorded);
          },
        },
      ],
      inboxListeners: [
        {
          type: Flag,
          handle: async (_deps, _ctx, flag) => {
            flags.push({ actor: flag.actorId?.href ?? "", object: flag.objectIds[0]?.href ?? "" });
          },
        },
      ],
    });
    fetchFederation = (request) => clique.federation!.fetch(request, { contextData: undefined });
    const init = await clique.initClique({
      name: "Plugged",
      description: "",
      memberCap: 10,
      ownerUsername: "alice",
      ownerPassword: "alice-password-1",
    });
    assert.ok(init.ok);
  });

  after(async () => {
    await new Promise<void>((resolve) => (http ? http.close(() => resolve()) : resolve()));
    await kysely?.destroy();
    await remote?.close();
    await db?.drop();
    await stopEmbeddedTestServer();
  });

  test("a subscriber hears every event after it committed, with the publisher", async () => {
    const alice = (await clique.getMemberByUsername("alice"))!;
    const post = await clique.createPost(alice, { source: "plugged in", audience: "public" });
    assert.ok(post.ok);
    assert.equal(heard.length, 0, "nothing before the relay hands it over");
    while ((await clique.relayNext()) !== "idle");
    const created = heard.find((r) => r.event.kind === "post-created");
    assert.ok(created, JSON.stringify(heard.map((r) => r.event.kind)));
    assert.equal((created.event as { post: { id: string } }).post.id, post.value.id);
  });

  test("an inbox listener gets the activity type core leaves to it, signed and verified", async () => {
    const reporter = remote!.account("reporter");
    const target = `${origin}/users/alice`;
    const flag = {
      "@context": AS,
      id: `${remote!.origin}/flags/${randomUUID()}`,
      type: "Flag",
      actor: reporter.id,
      object: target,
      content: "spam",
    };
    const unsigned = await deliver(`${origin}/inbox`, flag, { as: null });
    assert.equal(unsigned.status, 401, "unsigned: refused before any listener");
    assert.deepEqual(flags, []);
    const sent = await deliver(`${origin}/inbox`, flag, { as: reporter });
    assert.equal(sent.status, 202, sent.text);
    assert.deepEqual(flags, [{ actor: reporter.id, object: target }]);
    // The same Flag again is a repeat: the listener is not called twice.
    await deliver(`${origin}/inbox`, flag, { as: reporter });
    assert.equal(flags.length, 1);
  });

  test("a package cannot take over an activity type core handles", () => {
    assert.throws(
      () =>
        createClique({
          stores: clique.deps.stores,
          config: { origin, defaultMemberCap: 10 },
          federation: { kv: new MemoryKvStore(), allowPrivateAddress: true, version: "test" },
          inboxListeners: [{ type: Follow, handle: async () => {} }],
        }),
      /Core already listens for Follow activities/,
    );
  });
});
