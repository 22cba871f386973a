/**
 * Interoperability with a server that is not Fedify. A fake Mastodon-shaped
 * remote (a plain `node:http` server, `startFakeRemote`) serves actors with
 * RSA-2048 keys; its requests to Clique are signed the way Mastodon signs —
 * draft-cavage HTTP Signatures, `rsa-sha256` over
 * `(request-target) host date digest content-type` with `Digest: SHA-256=` —
 * by Misskey's library. The remote verifies what Clique delivers to it with
 * the same library and answers 401 to what it cannot verify, as Misskey does
 * (so Clique must fall back from RFC 9421 to draft signatures).
 *
 * A real Clique process, set up with its CLI; assertions go through its API
 * and its database.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, afterEach, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
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
import {
  deliver,
  eventually,
  fetchAs,
  idOf,
  jsonOrNull,
  typeOf,
  type Verdict,
  verifyAsMisskeyWould,
  WAIT_MS,
} from "./support/mastodon-signing.ts";

const AS = "https://www.w3.org/ns/activitystreams";
const PUBLIC = `${AS}#Public`;
/** The context Mastodon puts on a `Create(Note)`. */
const MASTODON_NOTE_CONTEXT = [
  AS,
  {
    ostatus: "http://ostatus.org#",
    atomUri: "ostatus:atomUri",
    inReplyToAtomUri: "ostatus:inReplyToAtomUri",
    conversation: "ostatus:conversation",
    sensitive: "as:sensitive",
    toot: "http://joinmastodon.org/ns#",
    votersCount: "toot:votersCount",
  },
];
const PASSWORDS = { alice: "alice-password-1", bob: "bob-password-22" };

type Json = Record<string, unknown>;
interface Account {
  id: string;
  acct: string;
  username: string;
  display_name: string;
  url: string;
}
interface Status {
  id: string;
  uri: string;
  url: string;
  content: string;
  visibility: string;
  audience: string;
  account: Account;
  mentions: { id: string; acct: string }[];
}
interface Relationship {
  id: string;
  following: boolean;
  followed_by: boolean;
  requested_by: boolean;
}

let db: TestDatabase | undefined;
let server: ServerProcess | undefined;
let remote: FakeRemote | undefined;
let sql: Kysely<Database> | undefined;
let token = "";
/** Bob, the member the remote accounts talk to: his actor URI and account id. */
let bobUri = "";
let bobId = "";
let someTestFailed = false;

/** How the fake remote judged each inbox POST it received (Misskey's verifier). */
const verdicts = new WeakMap<RecordedRequest, Verdict>();

before(async () => {
  remote = await startFakeRemote({
    usernames: ["mallory", "zoe", "eve", "oscar", "ghost", "walter"],
    inboxStatus: async (request) => {
      const verdict = await verifyAsMisskeyWould(request);
      verdicts.set(request, verdict);
      return verdict.verified ? 202 : 401;
    },
  });
  // A long-deleted account, as every large server has: its documents answer 410.
  remote.update("ghost", { gone: true });
  db = await createTestDatabase();
  const env = { ...process.env, DATABASE_URL: db.url, CLIQUE_ALLOW_PRIVATE_ADDRESS: "true" };
  await runCliOk(["init", "--name", "Interop", "--owner", "alice", "--password-stdin"], {
    env,
    stdin: PASSWORDS.alice,
  });
  const code = lastLine(await runCliOk(["invite", "create", "--by", "alice"], { env }));
  await runCliOk(["invite", "redeem", code, "--username", "bob", "--password-stdin"], {
    env,
    stdin: PASSWORDS.bob,
  });
  server = await startServerProcess({ env, databaseUrl: db.url });
  token = lastLine(await runCliOk(["token", "create", "bob"], { env }));
  sql = openDatabase(db.url, { maxConnections: 2 });
  bobUri = `${server.origin}/users/bob`;
  bobId = (await api<Account>("/api/v1/accounts/verify_credentials")).body.id;
});

afterEach((t) => {
  // `passed` is in Node 24 but not yet in @types/node.
  if ((t as { passed?: boolean }).passed === false) someTestFailed = true;
});

after(async () => {
  // Server-side logs explain what a 202 or a timeout cannot.
  if (someTestFailed && server) console.error(server.output());
  if (someTestFailed && remote) {
    console.error("What the fake remote received:");
    for (const r of remote.requests) {
      const verdict = r.inbox ? JSON.stringify(verdicts.get(r)) : "";
      console.error(`${r.method} ${r.path} → ${r.status} ${typeOf(r.json) ?? ""} ${verdict}`);
    }
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

/** Calls Clique's API as Bob. */
async function api<T = Json>(
  path: string,
  init: { method?: string; body?: unknown } = {},
): Promise<{ status: number; body: T }> {
  const response = await fetch(`${clique().url}${path}`, {
    method: init.method ?? "GET",
    headers: {
      authorization: `Bearer ${token}`,
      ...(init.body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : null) as T };
}

async function apiOk<T = Json>(path: string, init: { method?: string; body?: unknown } = {}) {
  const { status, body } = await api<T>(path, init);
  assert.ok(
    status >= 200 && status < 300,
    `${init.method ?? "GET"} ${path}: ${status} ${JSON.stringify(body)}`,
  );
  return body;
}

/** A verified delivery of an activity of `type` whose object is (or names) `objectId`. */
function deliveredTo(account: FakeAccount | null, type: string, objectId: string) {
  return (r: RecordedRequest) => {
    if (!r.inbox || r.status !== 202 || typeOf(r.json) !== type) return false;
    if (account && r.path !== new URL(account.inbox).pathname && r.path !== "/inbox") return false;
    return idOf((r.json as Json).object) === objectId;
  };
}

async function homeTimeline(): Promise<Status[]> {
  return apiOk<Status[]>("/api/v1/timelines/home?limit=40");
}

async function storedPosts(uri: string) {
  return sql!
    .selectFrom("posts")
    .select(["id", "uri", "audience", "content_html", "deleted_at", "author_id"])
    .where("uri", "=", uri)
    .execute();
}

async function relationshipWith(accountId: string): Promise<Relationship> {
  const [r] = await apiOk<Relationship[]>(`/api/v1/accounts/relationships?id[]=${accountId}`);
  assert.ok(r, "a relationship");
  return r;
}

let statusNumber = 113_000_000_000_000_000n;

/** A `Create(Note)` as Mastodon sends it: followers-only, mentioning Bob, with HTML content. */
function mastodonCreate(author: FakeAccount, content: string) {
  const n = String(statusNumber++);
  const id = `${author.id}/statuses/${n}`;
  const published = new Date().toISOString().replace(/\.\d+Z$/, "Z");
  const host = new URL(clique().origin).host;
  const note = {
    id,
    type: "Note",
    summary: null,
    inReplyTo: null,
    published,
    url: `${author.url}/${n}`,
    attributedTo: author.id,
    to: [author.followers],
    cc: [bobUri],
    sensitive: false,
    atomUri: id,
    inReplyToAtomUri: null,
    conversation: `tag:${fake().host},2025:objectId=${n}:objectType=Conversation`,
    content,
    contentMap: { en: content },
    attachment: [],
    tag: [{ type: "Mention", href: bobUri, name: `@bob@${host}` }],
  };
  const create = {
    "@context": MASTODON_NOTE_CONTEXT,
    id: `${id}/activity`,
    type: "Create",
    actor: author.id,
    published,
    to: note.to,
    cc: note.cc,
    object: note,
  };
  fake().publish({ "@context": MASTODON_NOTE_CONTEXT, ...note });
  return { note, create };
}

function mentionOfBob(text: string): string {
  return `<p><span class="h-card" translate="no"><a href="${clique().origin}/@bob" class="u-url mention">@<span>bob</span></a></span> ${text}</p>`;
}

function followActivity(from: FakeAccount) {
  return {
    "@context": AS,
    id: `${fake().origin}/${randomUUID()}`,
    type: "Follow",
    actor: from.id,
    object: bobUri,
  };
}

function updatePerson(account: FakeAccount) {
  return {
    "@context": AS,
    id: `${account.id}#updates/${Date.now()}-${randomUUID()}`,
    type: "Update",
    actor: account.id,
    to: [PUBLIC],
    object: fake().actorDocument(account.username),
  };
}

let barriers = 0;

/**
 * Waits until Clique has worked through what it accepted before (its inbox
 * is a queue): a note from eve, sent now, has been stored.
 */
async function barrier(): Promise<void> {
  const eve = fake().account("eve");
  const { note, create } = mastodonCreate(eve, mentionOfBob(`barrier ${++barriers}`));
  const sent = await deliver(`${clique().origin}/inbox`, create, { as: eve });
  assert.equal(sent.status, 202, sent.text);
  await eventually(
    `barrier ${barriers} (a note from eve) to be stored`,
    async () => (await storedPosts(note.id)).length === 1,
  );
}

/** Sends a Follow from `account` to Bob and returns it with the account's id on Clique. */
async function requestFollow(account: FakeAccount) {
  const follow = followActivity(account);
  const sent = await deliver(`${bobUri}/inbox`, follow, { as: account });
  assert.equal(sent.status, 202, sent.text);
  const requester = await eventually(`${account.username}'s follow request`, async () => {
    const requests = await apiOk<Account[]>("/api/v1/follow_requests");
    return requests.find((a) => a.acct === `${account.username}@${fake().host}`);
  });
  return { follow, accountId: requester.id, requester };
}

// ---------------------------------------------------------------- cases

describe("a Mastodon-shaped server that is not Fedify", () => {
  let malloryId = "";
  let mallorysFollowId = "";

  test("a signed Follow waits for approval; authorizing it delivers a verifiable Accept", async () => {
    const mallory = fake().account("mallory");
    const { follow, accountId, requester } = await requestFollow(mallory);
    malloryId = accountId;
    mallorysFollowId = follow.id;
    assert.equal(requester.username, "mallory");
    assert.equal(requester.display_name, "Mallory");
    assert.equal(requester.url, mallory.url);
    const pending = await sql!
      .selectFrom("follows")
      .select(["state", "uri"])
      .where("followee_id", "=", bobId)
      .where("follower_id", "=", malloryId)
      .execute();
    assert.deepEqual(pending, [{ state: "pending", uri: follow.id }]);
    const before = await relationshipWith(malloryId);
    assert.equal(before.requested_by, true);
    assert.equal(before.followed_by, false);

    const authorized = await apiOk<Relationship>(`/api/v1/follow_requests/${malloryId}/authorize`, {
      method: "POST",
    });
    assert.equal(authorized.followed_by, true);
    assert.equal(authorized.requested_by, false);
    assert.deepEqual(await apiOk<Account[]>("/api/v1/follow_requests"), []);
    const followers = await apiOk<Account[]>(`/api/v1/accounts/${bobId}/followers`);
    assert.deepEqual(
      followers.map((a) => a.id),
      [malloryId],
    );

    const delivery = await fake().waitFor(deliveredTo(mallory, "Accept", follow.id), {
      what: "an Accept of mallory's Follow",
      timeoutMs: WAIT_MS,
    });
    const accept = delivery.json as Json;
    assert.equal(accept.actor, bobUri);
    const object = accept.object;
    if (object && typeof object === "object") {
      // An embedded Follow must be the one Mallory sent.
      assert.equal((object as Json).actor, mallory.id);
      assert.equal((object as Json).object, bobUri);
    }
    const verdict = verdicts.get(delivery);
    assert.equal(verdict?.verified, true, JSON.stringify(verdict));
    assert.equal(verdict?.spec, "draft");
    assert.equal(verdict?.algorithm, "rsa-sha256");
    assert.equal(verdict?.keyId?.startsWith(`${bobUri}#`), true, verdict?.keyId);
    for (const header of ["(request-target)", "host", "date", "digest"]) {
      assert.ok(verdict?.headers?.includes(header), `${header} is signed: ${verdict?.headers}`);
    }
  });

  test("a followers-only Create(Note) mentioning a member is stored once, sanitized", async () => {
    const mallory = fake().account("mallory");
    const { note, create } = mastodonCreate(
      mallory,
      mentionOfBob(
        `hi from a server that is not Fedify <script>alert("xss")</script><strong onclick="steal()">really</strong> <a href="javascript:alert(1)">click</a>`,
      ),
    );
    const sent = await deliver(`${clique().origin}/inbox`, create, { as: mallory });
    assert.equal(sent.status, 202, sent.text);

    const status = await eventually("mallory's note on Bob's home timeline", async () =>
      (await homeTimeline()).find((s) => s.uri === note.id),
    );
    assert.equal(status.account.acct, `mallory@${fake().host}`);
    assert.equal(status.account.id, malloryId);
    assert.equal(status.url, note.url);
    assert.equal(status.visibility, "private", "to: followers, cc: a member → followers-only");
    assert.equal(status.audience, "followers");
    assert.ok(
      status.mentions.some((m) => m.id === bobId),
      JSON.stringify(status.mentions),
    );
    assert.match(status.content, /hi from a server that is not Fedify/);
    assert.match(status.content, /really/);
    assert.doesNotMatch(status.content, /<script/i);
    assert.doesNotMatch(status.content, /alert\(/);
    assert.doesNotMatch(status.content, /onclick|steal\(\)/i);
    assert.doesNotMatch(status.content, /javascript:/i);
    const single = await apiOk<Status>(`/api/v1/statuses/${status.id}`);
    assert.equal(single.content, status.content);

    // The same activity again (a retry), to the shared and the personal inbox.
    for (const inbox of [`${clique().origin}/inbox`, `${bobUri}/inbox`]) {
      const again = await deliver(inbox, create, { as: mallory });
      assert.ok(again.status >= 200 && again.status < 300, `${again.status} ${again.text}`);
    }
    // And the same note in another activity, as a second delivery would carry it.
    const other = await deliver(
      `${clique().origin}/inbox`,
      { ...create, id: `${note.id}/activity-again` },
      { as: mallory },
    );
    assert.equal(other.status, 202, other.text);
    await barrier();
    const rows = await storedPosts(note.id);
    assert.equal(rows.length, 1, "one post for the note");
    assert.equal(rows[0]!.author_id, malloryId);
    assert.equal(rows[0]!.deleted_at, null);
    assert.equal((await homeTimeline()).filter((s) => s.uri === note.id).length, 1);
  });

  test("activities that fail verification are refused and leave nothing behind", async () => {
    const [mallory, zoe] = [fake().account("mallory"), fake().account("zoe")];
    const { note, create } = mastodonCreate(mallory, mentionOfBob("a note that must be signed"));
    const inbox = `${clique().origin}/inbox`;
    const signed = JSON.stringify(create);
    const tampered = signed.replace("a note that must be signed", "a note someone rewrote");
    assert.notEqual(tampered, signed);
    const attempts: Record<string, Parameters<typeof deliver>[2]> = {
      "body changed after signing (digest mismatch)": { as: mallory, sendBody: tampered },
      "Date an hour old": { as: mallory, date: new Date(Date.now() - 3_601_000) },
      "signed with zoe's key, actor mallory": { as: zoe },
      "mallory's key id, zoe's signature": { as: zoe, keyId: mallory.keyId },
      unsigned: { as: null },
    };
    const statuses: Record<string, number> = {};
    for (const [name, options] of Object.entries(attempts)) {
      statuses[name] = (await deliver(inbox, create, options)).status;
    }
    assert.deepEqual(
      statuses,
      Object.fromEntries(Object.keys(attempts).map((name) => [name, 401])),
      "each is refused as unauthenticated",
    );

    await barrier();
    assert.deepEqual(await storedPosts(note.id), [], "no post row for the note");
    assert.equal(
      (await homeTimeline()).some((s) => s.uri === note.id),
      false,
    );

    // The same activity, properly signed, is taken: the refusals were about the signatures.
    const good = await deliver(inbox, create, { as: mallory });
    assert.equal(good.status, 202, good.text);
    const stored = await eventually("the properly signed note", async () =>
      (await homeTimeline()).find((s) => s.uri === note.id),
    );
    assert.match(stored.content, /a note that must be signed/);
    assert.doesNotMatch(stored.content, /rewrote/);
  });

  test("signed fetches of a member's posts answer only those who may see them", async () => {
    const [mallory, eve] = [fake().account("mallory"), fake().account("eve")];
    assert.ok(mallorysFollowId, "depends on the Follow test");
    assert.equal((await relationshipWith(malloryId)).followed_by, true, "mallory follows Bob");

    const search = await apiOk<{ accounts: Account[] }>(
      `/api/v2/search?q=${encodeURIComponent(mallory.id)}&resolve=true`,
    );
    assert.deepEqual(
      search.accounts.map((a) => a.id),
      [malloryId],
    );
    const circle = await apiOk<{ id: string; member_ids: string[] }>("/api/v1/clique/circles", {
      method: "POST",
      body: { name: "Close friends", member_ids: [malloryId] },
    });
    assert.deepEqual(circle.member_ids, [malloryId]);

    const bodies: Record<string, Json> = {
      public: { status: "public marker-public", visibility: "public" },
      unlisted: { status: "unlisted marker-unlisted", visibility: "unlisted" },
      followers: { status: "followers marker-followers", visibility: "private" },
      clique: { status: "clique marker-clique", audience: "clique" },
      circle: { status: "circle marker-circle", audience: "circle", circle_id: circle.id },
      // Addressed by a handle with a port: `@mallory@127.0.0.1:PORT`.
      direct: { status: `${mallory.handle} direct marker-direct`, visibility: "direct" },
    };
    const posts: Record<string, Status> = {};
    for (const [name, body] of Object.entries(bodies)) {
      posts[name] = await apiOk<Status>("/api/v1/statuses", { method: "POST", body });
      assert.equal(posts[name].audience, name, `${name} post`);
    }
    assert.deepEqual(
      posts.direct!.mentions.map((m) => m.id),
      [malloryId],
      "the direct post names mallory",
    );

    const mayFetch: Record<string, { mallory: number; eve: number; unsigned: number }> = {
      public: { mallory: 200, eve: 200, unsigned: 200 },
      unlisted: { mallory: 200, eve: 200, unsigned: 200 },
      followers: { mallory: 200, eve: 404, unsigned: 404 },
      clique: { mallory: 404, eve: 404, unsigned: 404 },
      circle: { mallory: 200, eve: 404, unsigned: 404 },
      direct: { mallory: 200, eve: 404, unsigned: 404 },
    };
    const expected: Record<string, unknown> = {};
    const actual: Record<string, unknown> = {};
    for (const [name, post] of Object.entries(posts)) {
      expected[name] = mayFetch[name];
      const row: Record<string, number> = {};
      for (const [who, as] of [
        ["mallory", mallory],
        ["eve", eve],
        ["unsigned", null],
      ] as const) {
        const { status, text } = await fetchAs(post.uri, as);
        const body = jsonOrNull(text);
        row[who] = status;
        if (status === 200) {
          // What is served is the post itself, not something else at that address.
          assert.equal(body?.id, post.uri, `${name} as ${who}`);
          assert.equal(body?.type, "Note");
          assert.equal(body?.attributedTo, bobUri);
          assert.match(String(body?.content), new RegExp(`marker-${name}`));
        } else {
          assert.doesNotMatch(JSON.stringify(body ?? ""), new RegExp(`marker-${name}`));
        }
      }
      actual[name] = row;
    }
    assert.deepEqual(actual, expected);

    // Delivery: everything but the Clique-only post reaches mallory, signed verifiably.
    for (const name of Object.keys(posts).filter((n) => n !== "clique")) {
      const delivery = await fake().waitFor(deliveredTo(mallory, "Create", posts[name]!.uri), {
        what: `the Create of the ${name} post`,
      });
      const object = (delivery.json as Json).object as Json;
      assert.match(String(object.content), new RegExp(`marker-${name}`));
      assert.equal(verdicts.get(delivery)?.verified, true);
    }
    await sleep(500);
    const cliqueUri = posts.clique!.uri;
    assert.equal(
      fake().requests.some((r) => r.body.includes(cliqueUri) || r.body.includes("marker-clique")),
      false,
      "the Clique-only post never left the server",
    );
  });

  test("Undo(Follow), Update(Person) and Delete of the actor", async () => {
    const oscar = fake().account("oscar");
    const inbox = `${bobUri}/inbox`;
    const undo = (follow: ReturnType<typeof followActivity>) => ({
      "@context": AS,
      id: `${follow.id}/undo`,
      type: "Undo",
      actor: oscar.id,
      object: follow,
    });

    // A pending request, withdrawn.
    const first = await requestFollow(oscar);
    const oscarId = first.accountId;
    assert.equal((await deliver(inbox, undo(first.follow), { as: oscar })).status, 202);
    await eventually("the request to disappear", async () => {
      const requests = await apiOk<Account[]>("/api/v1/follow_requests");
      return !requests.some((a) => a.id === oscarId);
    });
    assert.equal((await relationshipWith(oscarId)).requested_by, false);

    // An approved follow, undone.
    const second = await requestFollow(oscar);
    assert.equal(second.accountId, oscarId);
    await apiOk(`/api/v1/follow_requests/${oscarId}/authorize`, { method: "POST" });
    await fake().waitFor(deliveredTo(oscar, "Accept", second.follow.id), {
      what: "an Accept of oscar's second Follow",
    });
    assert.equal((await relationshipWith(oscarId)).followed_by, true);
    assert.equal((await deliver(inbox, undo(second.follow), { as: oscar })).status, 202);
    await eventually("oscar to stop following", async () => {
      return !(await relationshipWith(oscarId)).followed_by;
    });
    const followers = await apiOk<Account[]>(`/api/v1/accounts/${bobId}/followers`);
    assert.equal(
      followers.some((a) => a.id === oscarId),
      false,
    );
    const rows = await sql!
      .selectFrom("follows")
      .select("id")
      .where("follower_id", "=", oscarId)
      .execute();
    assert.deepEqual(rows, []);

    // A note, to see it go with its author.
    const { note, create } = mastodonCreate(oscar, mentionOfBob("oscar was here"));
    assert.equal((await deliver(`${clique().origin}/inbox`, create, { as: oscar })).status, 202);
    await eventually("oscar's note", async () =>
      (await homeTimeline()).find((s) => s.uri === note.id),
    );

    // A new display name, from an Update carrying the whole actor.
    fake().update("oscar", { name: "Oscar the Renamed" });
    assert.equal((await deliver(inbox, updatePerson(oscar), { as: oscar })).status, 202);
    const renamed = await eventually("oscar's new name", async () => {
      const account = await apiOk<Account>(`/api/v1/accounts/${oscarId}`);
      return account.display_name === "Oscar the Renamed" && account;
    });
    assert.equal(renamed.acct, `oscar@${fake().host}`);

    // The account is deleted: its document is gone (410), the Delete is signed with its last key.
    fake().update("oscar", { gone: true });
    const deleted = await deliver(
      `${clique().origin}/inbox`,
      {
        "@context": AS,
        id: `${oscar.id}#delete`,
        type: "Delete",
        actor: oscar.id,
        to: [PUBLIC],
        object: oscar.id,
      },
      { as: oscar },
    );
    assert.equal(deleted.status, 202, deleted.text);
    await eventually("oscar's account to be gone", async () => {
      return (await api(`/api/v1/accounts/${oscarId}`)).status === 404;
    });
    assert.equal(
      (await homeTimeline()).some((s) => s.uri === note.id),
      false,
    );
    assert.deepEqual(await storedPosts(note.id), []);
    const statuses = await api<Status[]>(`/api/v1/accounts/${oscarId}/statuses`);
    assert.equal(statuses.status, 404);
  });

  test("a Delete that borrows another deleted account's 410 deletes nothing", async () => {
    const [zoe, ghost] = [fake().account("zoe"), fake().account("ghost")];
    const { note, create } = mastodonCreate(zoe, mentionOfBob("zoe is still here"));
    assert.equal((await deliver(`${clique().origin}/inbox`, create, { as: zoe })).status, 202);
    const status = await eventually("zoe's note", async () =>
      (await homeTimeline()).find((s) => s.uri === note.id),
    );
    const zoeId = status.account.id;

    // Zoe's Delete, "signed" with the key of a deleted account on the same server:
    // fetching that key answers 410, which says nothing about Zoe.
    const forged = await deliver(
      `${clique().origin}/inbox`,
      {
        "@context": AS,
        id: `${zoe.id}#delete`,
        type: "Delete",
        actor: zoe.id,
        to: [PUBLIC],
        object: zoe.id,
      },
      { as: zoe, keyId: ghost.keyId },
    );
    assert.equal(forged.status, 401, forged.text);
    await barrier();
    assert.equal((await api(`/api/v1/accounts/${zoeId}`)).status, 200, "zoe's account is kept");
    assert.equal((await storedPosts(note.id)).length, 1, "zoe's note is kept");
    assert.ok((await homeTimeline()).some((s) => s.uri === note.id));
  });

  test("a deleted account's own Delete is taken when its key answers 410", async () => {
    const walter = fake().account("walter");
    // Known from a lookup only: Clique never verified a signature of Walter's.
    const found = await apiOk<{ accounts: Account[] }>(
      `/api/v2/search?q=${encodeURIComponent(walter.id)}&resolve=true`,
    );
    const walterId = found.accounts[0]?.id;
    assert.ok(walterId, "walter resolved");
    fake().update("walter", { gone: true });
    const deleted = await deliver(
      `${clique().origin}/inbox`,
      {
        "@context": AS,
        id: `${walter.id}#delete`,
        type: "Delete",
        actor: walter.id,
        to: [PUBLIC],
        object: walter.id,
      },
      { as: walter },
    );
    assert.equal(deleted.status, 202, deleted.text);
    await eventually("walter's account to be gone", async () => {
      return (await api(`/api/v1/accounts/${walterId}`)).status === 404;
    });
  });
});
