/**
 * Federation defects seen against real peers (issue 7), each against a real
 * Clique process and the fake Mastodon-shaped remote (`startFakeRemote`, a
 * plain `node:http` server), with deliveries signed as Mastodon signs them:
 *
 * - flags written only in the peer's own JSON-LD context (a locked account, a
 *   sensitive post) are read as plain JSON, as Mastodon reads them;
 * - the instance actor is found by WebFinger as Mastodon's is, and serving it
 *   logs no warnings;
 * - every outgoing request carries Clique's User-Agent;
 * - a follow cannot get stuck behind a reused `Accept` id (Hollo reuses one per
 *   follower) or a lost `Follow`;
 * - the same `Create` at two inboxes at once is stored once, without a retry;
 * - NUL and lone surrogates in remote text never reach PostgreSQL;
 * - boosting says that it is not supported yet (and 404 for invisible posts).
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, afterEach, before, describe, test } from "node:test";
import { type Database, openDatabase } from "@clique/core/kysely";
import {
  createTestDatabase,
  type FakeAccount,
  type FakeRemote,
  lastLine,
  type RecordedRequest,
  runCliOk,
  type ServerProcess,
  startFakeRemote,
  startServerProcess,
  stopEmbeddedTestServer,
  type TestDatabase,
} from "@clique/testing";
import type { Kysely } from "kysely";
import { deliver, eventually, typeOf, verifyAsMisskeyWould } from "./support/mastodon-signing.ts";

const AS = "https://www.w3.org/ns/activitystreams";
/** A context that defines none of Mastodon's extension terms (`sensitive`, `manuallyApprovesFollowers`...). */
const OWN_CONTEXT = [AS, "https://w3id.org/security/v1", { peer: "https://peer.example/ns#" }];
const PASSWORDS = { alice: "alice-password-1", bob: "bob-password-22" };

type Json = Record<string, unknown>;
interface Account {
  id: string;
  acct: string;
  display_name: string;
  note: string;
  locked: boolean;
}
interface Status {
  id: string;
  uri: string;
  content: string;
  sensitive: boolean;
  spoiler_text: string;
  account: Account;
  tags: { name: string }[];
}
interface Relationship {
  id: string;
  following: boolean;
  requested: boolean;
}

let db: TestDatabase | undefined;
let server: ServerProcess | undefined;
let remote: FakeRemote | undefined;
let sql: Kysely<Database> | undefined;
const tokens = { alice: "", bob: "" };
let bobUri = "";
let someTestFailed = false;

before(async () => {
  remote = await startFakeRemote({
    usernames: ["holly", "locke", "nul", "racer", "eve"],
    inboxStatus: async (request) => ((await verifyAsMisskeyWould(request)).verified ? 202 : 401),
  });
  db = await createTestDatabase();
  const env = { ...process.env, DATABASE_URL: db.url, CLIQUE_ALLOW_PRIVATE_ADDRESS: "true" };
  await runCliOk(["init", "--name", "Hardening", "--owner", "alice", "--password-stdin"], {
    env,
    stdin: PASSWORDS.alice,
  });
  const code = lastLine(await runCliOk(["invite", "create", "--by", "alice"], { env }));
  await runCliOk(["invite", "redeem", code, "--username", "bob", "--password-stdin"], {
    env,
    stdin: PASSWORDS.bob,
  });
  server = await startServerProcess({ env, databaseUrl: db.url });
  tokens.alice = lastLine(await runCliOk(["token", "create", "alice"], { env }));
  tokens.bob = lastLine(await runCliOk(["token", "create", "bob"], { env }));
  sql = openDatabase(db.url, { maxConnections: 2 });
  bobUri = `${server.origin}/users/bob`;
});

afterEach((t) => {
  if ((t as { passed?: boolean }).passed === false) someTestFailed = true;
});

after(async () => {
  if (someTestFailed && server) console.error(server.output());
  if (someTestFailed && remote) {
    console.error("What the fake remote received:");
    for (const r of remote.requests)
      console.error(`${r.method} ${r.path} → ${r.status} ${typeOf(r.json) ?? ""}`);
  }
  const steps: [string, (() => Promise<unknown>) | undefined][] = [
    ["database client", sql && (() => sql!.destroy())],
    ["server", server && (() => server!.stop())],
    ["fake remote", remote && (() => remote!.close())],
    ["database", db && (() => db!.drop())],
    ["embedded PostgreSQL", () => stopEmbeddedTestServer()],
  ];
  for (const [name, step] of steps) await step?.().catch((e) => console.error(name, e));
});

// ---------------------------------------------------------------- helpers

function fake(): FakeRemote {
  assert.ok(remote, "the fake remote is running");
  return remote;
}

function clique(): ServerProcess {
  assert.ok(server, "the Clique server is running");
  return server;
}

async function api<T = Json>(
  path: string,
  init: { method?: string; body?: unknown; as?: keyof typeof tokens } = {},
): Promise<{ status: number; body: T }> {
  const response = await fetch(`${clique().url}${path}`, {
    method: init.method ?? "GET",
    headers: {
      authorization: `Bearer ${tokens[init.as ?? "bob"]}`,
      ...(init.body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : null) as T };
}

async function apiOk<T = Json>(
  path: string,
  init: { method?: string; body?: unknown; as?: keyof typeof tokens } = {},
) {
  const { status, body } = await api<T>(path, init);
  assert.ok(
    status >= 200 && status < 300,
    `${init.method ?? "GET"} ${path}: ${status} ${JSON.stringify(body)}`,
  );
  return body;
}

/** Finds (fetching if needed) a remote account through the search API, as a client would. */
async function resolve(account: FakeAccount): Promise<Account> {
  const found = await apiOk<{ accounts: Account[] }>(
    `/api/v2/search?q=${encodeURIComponent(account.id)}&resolve=true`,
  );
  const hit = found.accounts[0];
  assert.ok(hit, `${account.username} resolved`);
  return hit;
}

async function relationshipWith(accountId: string): Promise<Relationship> {
  const [r] = await apiOk<Relationship[]>(`/api/v1/accounts/relationships?id[]=${accountId}`);
  assert.ok(r, "a relationship");
  return r;
}

async function homeTimeline(): Promise<Status[]> {
  return apiOk<Status[]>("/api/v1/timelines/home?limit=40");
}

async function storedPosts(uri: string) {
  return sql!.selectFrom("posts").select(["id", "uri"]).where("uri", "=", uri).execute();
}

let statusNumber = 114_000_000_000_000_000n;

/** A `Create(Note)` mentioning Bob, as Mastodon shapes it; `context` and `extra` change it. */
function noteFor(
  author: FakeAccount,
  content: string,
  options: { context?: unknown; extra?: Json; followersOnly?: boolean } = {},
) {
  const n = String(statusNumber++);
  const id = `${author.id}/statuses/${n}`;
  const host = new URL(clique().origin).host;
  const note = {
    id,
    type: "Note",
    attributedTo: author.id,
    to: options.followersOnly ? [author.followers] : [bobUri],
    cc: options.followersOnly ? [] : [author.followers],
    published: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
    url: `${author.url}/${n}`,
    content,
    tag: options.followersOnly ? [] : [{ type: "Mention", href: bobUri, name: `@bob@${host}` }],
    ...options.extra,
  };
  const create = {
    "@context": options.context ?? AS,
    id: `${id}/activity`,
    type: "Create",
    actor: author.id,
    to: note.to,
    cc: note.cc,
    object: note,
  };
  return { note, create };
}

let barriers = 0;

/** Waits until Clique has worked through its inbox queue up to now. */
async function barrier(): Promise<void> {
  const eve = fake().account("eve");
  const { note, create } = noteFor(eve, `<p>barrier ${++barriers}</p>`);
  const sent = await deliver(`${clique().origin}/inbox`, create, { as: eve });
  assert.equal(sent.status, 202, sent.text);
  await eventually(
    `barrier ${barriers} to be stored`,
    async () => (await storedPosts(note.id)).length === 1,
  );
}

/** The next `type` activity Clique delivers to `account` after `since` requests. */
async function nextDelivery(account: FakeAccount, type: string, since: number): Promise<Json> {
  const request = await fake().waitFor(
    (r: RecordedRequest) =>
      fake().requests.indexOf(r) >= since &&
      r.inbox &&
      r.status === 202 &&
      typeOf(r.json) === type &&
      (r.path === new URL(account.inbox).pathname || r.path === "/inbox"),
    { what: `a ${type} for ${account.username}` },
  );
  return request.json as Json;
}

// ---------------------------------------------------------------- cases

describe("federation defects seen against real peers", () => {
  test("flags written only in the peer's own context are read as Mastodon reads them", async () => {
    const locke = fake().account("locke");
    fake().update("locke", {
      context: OWN_CONTEXT,
      properties: { manuallyApprovesFollowers: true, discoverable: true, indexable: true },
    });
    const account = await resolve(locke);
    assert.equal(account.locked, true, "a locked account is shown as locked");

    // A post marked sensitive, in a Create whose context does not define `sensitive`.
    const warned = noteFor(locke, "<p>behind a warning</p>", {
      context: OWN_CONTEXT,
      extra: { sensitive: true, summary: "spoilers" },
    });
    const bare = noteFor(locke, "<p>sensitive, no words of warning</p>", {
      context: OWN_CONTEXT,
      extra: { sensitive: true },
    });
    const plain = noteFor(locke, "<p>nothing to hide</p>", {
      context: OWN_CONTEXT,
      extra: { sensitive: false },
    });
    for (const { create } of [warned, bare, plain]) {
      const sent = await deliver(`${bobUri}/inbox`, create, { as: locke });
      assert.equal(sent.status, 202, sent.text);
    }
    const statuses = await eventually("locke's three notes", async () => {
      const home = await homeTimeline();
      const found = [warned, bare, plain].map(({ note }) => home.find((s) => s.uri === note.id));
      return found.every(Boolean) && (found as Status[]);
    });
    assert.deepEqual(
      statuses.map((s) => ({ sensitive: s.sensitive, spoiler: s.spoiler_text })),
      [
        { sensitive: true, spoiler: "spoilers" },
        { sensitive: true, spoiler: "" },
        { sensitive: false, spoiler: "" },
      ],
    );
  });

  test("the instance actor is found by WebFinger as Mastodon's is, and serving it logs no warnings", async () => {
    const origin = clique().origin;
    const { host, hostname } = new URL(origin);
    const actorId = `${origin}/users/instance.actor`;
    for (const resource of [`acct:${hostname}@${host}`, `acct:instance.actor@${host}`]) {
      const response = await fetch(
        `${clique().url}/.well-known/webfinger?resource=${encodeURIComponent(resource)}`,
      );
      assert.equal(response.status, 200, resource);
      const jrd = (await response.json()) as { links: { rel: string; href: string }[] };
      const self = jrd.links.find((l) => l.rel === "self");
      assert.equal(self?.href, actorId, resource);
    }

    const before = clique().output().length;
    const response = await fetch(actorId, { headers: { accept: "application/activity+json" } });
    assert.equal(response.status, 200);
    const actor = (await response.json()) as Json;
    assert.equal(actor.type, "Application");
    assert.equal(actor.preferredUsername, hostname);
    for (const name of ["followers", "following", "featured"]) {
      assert.equal(typeof actor[name], "string", `the instance actor has ${name}`);
      const collection = await fetch(String(actor[name]), {
        headers: { accept: "application/activity+json" },
      });
      assert.equal(collection.status, 200, name);
      const body = (await collection.json()) as Json;
      assert.deepEqual(body.orderedItems ?? body.items ?? [], [], `${name} is empty`);
      // Followers and following say how many (none); featured lists its items only.
      if (name !== "featured") assert.equal(body.totalItems, 0, `${name} counts none`);
    }
    // Give the log a moment: it is written asynchronously.
    await new Promise((r) => setTimeout(r, 300));
    const logged = clique().output().slice(before);
    assert.doesNotMatch(logged, /You configured a \w+ collection dispatcher/);
  });

  test("a follow recovers from an Accept id reused per follower (as Hollo sends)", async () => {
    const holly = fake().account("holly");
    const hollyId = (await resolve(holly)).id;
    // Hollo names its Accept after the follower: the same id for every follow of Bob's.
    const acceptId = `${holly.id}#accepts/${encodeURIComponent(bobUri)}`;
    const accept = (followId: string) => ({
      "@context": AS,
      id: acceptId,
      type: "Accept",
      actor: holly.id,
      object: { id: followId, type: "Follow", actor: bobUri, object: holly.id },
    });

    let since = fake().requests.length;
    await apiOk(`/api/v1/accounts/${hollyId}/follow`, { method: "POST" });
    const first = await nextDelivery(holly, "Follow", since);
    assert.equal(
      (await deliver(`${bobUri}/inbox`, accept(String(first.id)), { as: holly })).status,
      202,
    );
    await eventually("the first follow to be accepted", async () => {
      return (await relationshipWith(hollyId)).following;
    });

    since = fake().requests.length;
    await apiOk(`/api/v1/accounts/${hollyId}/unfollow`, { method: "POST" });
    await nextDelivery(holly, "Undo", since);
    since = fake().requests.length;
    await apiOk(`/api/v1/accounts/${hollyId}/follow`, { method: "POST" });
    const second = await nextDelivery(holly, "Follow", since);
    assert.notEqual(second.id, first.id, "a new follow has a new id");
    // The same Accept id, now accepting the second Follow.
    assert.equal(
      (await deliver(`${clique().origin}/inbox`, accept(String(second.id)), { as: holly })).status,
      202,
    );
    await eventually("the second follow to be accepted", async () => {
      return (await relationshipWith(hollyId)).following;
    });

    // What Holly then sends to its followers reaches Bob.
    const { note, create } = noteFor(holly, "<p>for my followers</p>", { followersOnly: true });
    assert.equal((await deliver(`${clique().origin}/inbox`, create, { as: holly })).status, 202);
    await eventually("holly's followers-only post on Bob's home", async () =>
      (await homeTimeline()).find((s) => s.uri === note.id),
    );
  });

  test("a pending follow is recoverable: following again sends a new Follow, and an Accept of an older one counts", async () => {
    const [holly, eve] = [fake().account("holly"), fake().account("eve")];
    const hollyId = (await resolve(holly)).id;
    const restart = async () => {
      await apiOk(`/api/v1/accounts/${hollyId}/unfollow`, { method: "POST" });
      const since = fake().requests.length;
      await apiOk(`/api/v1/accounts/${hollyId}/follow`, { method: "POST" });
      const follow = await nextDelivery(holly, "Follow", since);
      assert.equal((await relationshipWith(hollyId)).requested, true);
      // The request seems lost: Bob follows again while it is pending.
      const again = fake().requests.length;
      const retried = await apiOk<Relationship>(`/api/v1/accounts/${hollyId}/follow`, {
        method: "POST",
      });
      assert.equal(retried.requested, true);
      const retry = await nextDelivery(holly, "Follow", again);
      assert.notEqual(retry.id, follow.id, "the retry is a new Follow");
      assert.deepEqual([retry.actor, retry.object], [bobUri, holly.id]);
      return { follow, retry };
    };
    const acceptOf = (object: unknown, actor = holly) => ({
      "@context": AS,
      id: `${actor.id}#accepts/${randomUUID()}`,
      type: "Accept",
      actor: actor.id,
      object,
    });

    // Accepted by the older Follow's id, which Clique minted.
    const byUri = await restart();
    assert.equal(
      (await deliver(`${bobUri}/inbox`, acceptOf(byUri.follow.id), { as: holly })).status,
      202,
    );
    await eventually("the follow to be accepted by its older id", async () => {
      return (await relationshipWith(hollyId)).following;
    });

    // Accepted with the older Follow embedded.
    const embedded = await restart();
    const follow = { id: embedded.follow.id, type: "Follow", actor: bobUri, object: holly.id };
    assert.equal((await deliver(`${bobUri}/inbox`, acceptOf(follow), { as: holly })).status, 202);
    await eventually("the follow to be accepted with the older Follow embedded", async () => {
      return (await relationshipWith(hollyId)).following;
    });

    // Nobody but the followee accepts: Eve's Accept of Bob's follow of Holly changes nothing.
    const other = await restart();
    const forged = acceptOf(
      { id: other.retry.id, type: "Follow", actor: bobUri, object: holly.id },
      eve,
    );
    assert.equal((await deliver(`${clique().origin}/inbox`, forged, { as: eve })).status, 202);
    await barrier();
    const after = await relationshipWith(hollyId);
    assert.deepEqual([after.following, after.requested], [false, true]);
  });

  test("the same Create at a member's inbox and the shared inbox at once is stored once, without a retry", async () => {
    const racer = fake().account("racer");
    const before = clique().output().length;
    const notes = Array.from({ length: 6 }, (_, i) => noteFor(racer, `<p>race ${i}</p>`));
    await Promise.all(
      notes.flatMap(({ create }) =>
        [`${bobUri}/inbox`, `${clique().origin}/inbox`].map(async (inbox) => {
          const sent = await deliver(inbox, create, { as: racer });
          assert.equal(sent.status, 202, sent.text);
        }),
      ),
    );
    for (const { note } of notes)
      await eventually(`${note.id} to be stored`, async () => {
        return (await storedPosts(note.id)).length > 0;
      });
    await barrier();
    for (const { note } of notes) assert.equal((await storedPosts(note.id)).length, 1, note.id);
    const logged = clique().output().slice(before);
    assert.doesNotMatch(logged, /duplicate key|posts_uri_key|Failed to process the incoming/);
  });

  test("NUL and lone surrogates in remote text are stripped before they are stored", async () => {
    const nul = fake().account("nul");
    fake().update("nul", {
      name: "Nul\u0000 Name\uD800",
      summary: "<p>a bio\u0000 with \uDC00a NUL</p>",
    });
    const { note, create } = noteFor(nul, "<p>hello\u0000 world\uDC00</p>", {
      extra: {
        summary: "warning\u0000!",
        tag: [
          { type: "Mention", href: bobUri, name: "@bob" },
          { type: "Hashtag", href: `${fake().origin}/tags/nul`, name: "#nul\u0000tag" },
        ],
      },
      context: [AS, { Hashtag: "as:Hashtag" }],
    });
    assert.ok(JSON.stringify(create).includes("\\u0000"), "the activity carries NULs");
    const sent = await deliver(`${clique().origin}/inbox`, create, { as: nul });
    assert.equal(sent.status, 202, sent.text);
    const status = await eventually("the note with NULs", async () =>
      (await homeTimeline()).find((s) => s.uri === note.id),
    );
    assert.equal(status.content, "<p>hello world</p>");
    assert.equal(status.spoiler_text, "warning!");
    assert.deepEqual(
      status.tags.map((t) => t.name),
      ["nultag"],
    );
    assert.equal(status.account.display_name, "Nul Name");
    assert.equal(status.account.note, "<p>a bio with a NUL</p>");
  });

  test("boosting a visible public post works (issue 11); invisible posts stay not found", async () => {
    const post = await apiOk<Status>("/api/v1/statuses", {
      method: "POST",
      body: { status: "a post to boost", visibility: "public" },
    });
    // Only Alice may see this one: nobody is mentioned.
    const hidden = await apiOk<Status>("/api/v1/statuses", {
      method: "POST",
      body: { status: "a note to self", visibility: "direct" },
      as: "alice",
    });
    for (const action of ["reblog", "unreblog"]) {
      const visible = await api<{ reblog: { id: string } | null; reblogged: boolean }>(
        `/api/v1/statuses/${post.id}/${action}`,
        { method: "POST" },
      );
      assert.equal(visible.status, 200, `${action}: ${JSON.stringify(visible.body)}`);
      // A reblog answers Mastodon's wrapper; an unreblog the post itself.
      if (action === "reblog") assert.equal(visible.body.reblog?.id, post.id);
      else assert.equal(visible.body.reblogged, false);
      for (const id of [hidden.id, randomUUID()]) {
        const invisible = await api<{ error: string }>(`/api/v1/statuses/${id}/${action}`, {
          method: "POST",
        });
        assert.equal(invisible.status, 404, `${action} of ${id}`);
        assert.doesNotMatch(JSON.stringify(invisible.body), /boost/i);
      }
    }
  });

  test("every request Clique sent carries its User-Agent", async () => {
    const requests = fake().requests;
    assert.ok(
      requests.some((r) => r.inbox && r.method === "POST"),
      "Clique delivered something",
    );
    assert.ok(
      requests.some((r) => r.method === "GET"),
      "Clique fetched something",
    );
    const origin = new URL(clique().origin).href;
    const agents = new Set(requests.map((r) => `${r.method} ${r.headers["user-agent"]}`));
    for (const agent of agents) {
      const [method, ...rest] = agent.split(" ");
      assert.match(
        rest.join(" "),
        new RegExp(
          `^Clique/0\\.1\\.0 \\(.*\\+${origin.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}\\)$`,
        ),
        `${method} requests say who sends them`,
      );
    }
  });
});
