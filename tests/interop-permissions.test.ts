/**
 * Permissions across servers, against a remote that is not Fedify: the same
 * Mastodon-shaped fake as `interop.test.ts` (`startFakeRemote`, requests signed
 * draft-cavage style by Misskey's library, deliveries verified with it).
 *
 * Two fake servers, so that a shared inbox never hides who received what:
 * - "Misskey-ish" A holds mallory (a follower alice blocks), eve (never a
 *   follower) and zoe (in one of alice's circles);
 * - B holds ivy, a follower of alice who is never blocked.
 *
 * A real Clique process, set up with its CLI; alice is its owner and the author
 * of every post here, bob a member. Assertions go through the API, the database
 * and what the fake servers' inboxes received.
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
  typeOf,
  verifyAsMisskeyWould,
  WAIT_MS,
} from "./support/mastodon-signing.ts";

const AS = "https://www.w3.org/ns/activitystreams";
const PUBLIC = `${AS}#Public`;
const PASSWORDS = { alice: "alice-password-1", bob: "bob-password-22" };
/** How long to keep listening before concluding that something was not sent. */
const QUIET_MS = 750;

type Json = Record<string, unknown>;
type Who = "alice" | "bob";
interface Account {
  id: string;
  acct: string;
}
interface Status {
  id: string;
  uri: string;
  content: string;
  audience: string;
  in_reply_to_id: string | null;
  favourites_count: number;
}
interface Relationship {
  id: string;
  following: boolean;
  followed_by: boolean;
  requested_by: boolean;
  blocking: boolean;
}

let db: TestDatabase | undefined;
let server: ServerProcess | undefined;
let serverA: FakeRemote | undefined;
let serverB: FakeRemote | undefined;
let sql: Kysely<Database> | undefined;
const tokens: Record<Who, string> = { alice: "", bob: "" };
let aliceUri = "";
let aliceId = "";
/** Clique's account ids of the remote accounts that have met alice. */
const ids: Record<string, string> = {};
let someTestFailed = false;

/** Whether each inbox POST carried a draft signature Misskey's verifier accepts. */
const verified = new WeakMap<RecordedRequest, boolean>();

before(async () => {
  const inboxStatus = async (request: RecordedRequest) => {
    // Only alice sends here.
    const { verified: ok } = await verifyAsMisskeyWould(request, { keyIdPrefix: `${aliceUri}#` });
    verified.set(request, ok);
    return ok ? 202 : 401;
  };
  [serverA, serverB] = await Promise.all([
    startFakeRemote({ usernames: ["mallory", "eve", "zoe"], inboxStatus }),
    startFakeRemote({ usernames: ["ivy"], inboxStatus }),
  ]);
  db = await createTestDatabase();
  const env = { ...process.env, DATABASE_URL: db.url, CLIQUE_ALLOW_PRIVATE_ADDRESS: "true" };
  await runCliOk(["init", "--name", "Permissions", "--owner", "alice", "--password-stdin"], {
    env,
    stdin: PASSWORDS.alice,
  });
  const code = lastLine(await runCliOk(["invite", "create", "--by", "alice"], { env }));
  await runCliOk(["invite", "redeem", code, "--username", "bob", "--password-stdin"], {
    env,
    stdin: PASSWORDS.bob,
  });
  server = await startServerProcess({ env, databaseUrl: db.url });
  for (const who of ["alice", "bob"] as const) {
    tokens[who] = lastLine(await runCliOk(["token", "create", who], { env }));
  }
  sql = openDatabase(db.url, { maxConnections: 2 });
  aliceUri = `${server.origin}/users/alice`;
  aliceId = (await apiOk<Account>("/api/v1/accounts/verify_credentials")).id;
  // Ivy follows alice throughout: the follower who is never blocked.
  ids.ivy = await followAlice(B().account("ivy"));
});

afterEach((t) => {
  // `passed` is in Node 24 but not yet in @types/node.
  if ((t as { passed?: boolean }).passed === false) someTestFailed = true;
});

after(async () => {
  if (someTestFailed && server) console.error(server.output());
  if (someTestFailed) {
    for (const [name, remote] of [
      ["A", serverA],
      ["B", serverB],
    ] as const) {
      console.error(`What fake server ${name} received:`);
      for (const r of remote?.requests ?? []) {
        console.error(`${r.method} ${r.path} → ${r.status} ${typeOf(r.json) ?? ""}`);
      }
    }
  }
  const steps: [string, (() => Promise<unknown>) | undefined][] = [
    ["database client", sql && (() => sql!.destroy())],
    ["server", server && (() => server!.stop())],
    ["fake server A", serverA && (() => serverA!.close())],
    ["fake server B", serverB && (() => serverB!.close())],
    ["database", db && (() => db!.drop())],
    ["embedded PostgreSQL", () => stopEmbeddedTestServer()],
  ];
  for (const [name, step] of steps) await step?.().catch((e) => console.error(name, e));
});

// ---------------------------------------------------------------- helpers

function A(): FakeRemote {
  assert.ok(serverA, "fake server A is running");
  return serverA;
}

function B(): FakeRemote {
  assert.ok(serverB, "fake server B is running");
  return serverB;
}

function clique(): ServerProcess {
  assert.ok(server, "the Clique server is running");
  return server;
}

/** Calls Clique's API as alice (default) or bob. */
async function api<T = Json>(
  path: string,
  init: { method?: string; body?: unknown; as?: Who } = {},
): Promise<{ status: number; body: T }> {
  const response = await fetch(`${clique().url}${path}`, {
    method: init.method ?? "GET",
    headers: {
      authorization: `Bearer ${tokens[init.as ?? "alice"]}`,
      ...(init.body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : null) as T };
}

async function apiOk<T = Json>(
  path: string,
  init: { method?: string; body?: unknown; as?: Who } = {},
): Promise<T> {
  const { status, body } = await api<T>(path, init);
  assert.ok(
    status >= 200 && status < 300,
    `${init.method ?? "GET"} ${path}: ${status} ${JSON.stringify(body)}`,
  );
  return body;
}

/** Alice posts. */
function post(body: Json): Promise<Status> {
  return apiOk<Status>("/api/v1/statuses", { method: "POST", body });
}

/** Delivers to Clique's shared inbox and expects the 202 Mastodon expects. */
async function deliverOk(activity: Json, as: FakeAccount): Promise<void> {
  const sent = await deliver(`${clique().origin}/inbox`, activity, { as });
  assert.equal(sent.status, 202, `${activity.type} from ${as.username}: ${sent.text}`);
}

/** JSON-LD compaction writes a one-element array as its element. */
function list(value: unknown): unknown[] {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : [value];
}

/** A verified inbox delivery of an activity of `type` whose object is (or names) `objectId`. */
function delivery(type: string, objectId: string) {
  return (r: RecordedRequest) =>
    r.inbox &&
    r.status === 202 &&
    typeOf(r.json) === type &&
    idOf((r.json as Json).object) === objectId;
}

/** Waits for `remote` to receive a verified `type` activity about `objectId`. */
async function received(remote: FakeRemote, type: string, objectId: string): Promise<Json> {
  const request = await remote.waitFor(delivery(type, objectId), {
    what: `a ${type} of ${objectId}`,
    timeoutMs: WAIT_MS,
  });
  assert.equal(verified.get(request), true, "signed by alice, verifiably");
  return request.json as Json;
}

/** Whether `remote` received anything at all that mentions `text` (an id, a marker). */
function anythingAbout(remote: FakeRemote, text: string): RecordedRequest[] {
  return remote.requests.filter((r) => r.inbox && r.body.includes(text));
}

async function storedPosts(uri: string) {
  return sql!.selectFrom("posts").select(["id", "in_reply_to_id"]).where("uri", "=", uri).execute();
}

async function relationshipWith(accountId: string, as: Who = "alice"): Promise<Relationship> {
  const [r] = await apiOk<Relationship[]>(`/api/v1/accounts/relationships?id[]=${accountId}`, {
    as,
  });
  assert.ok(r, "a relationship");
  return r;
}

function acctOf(account: FakeAccount): string {
  return `${account.username}@${new URL(account.id).host}`;
}

function followActivity(from: FakeAccount) {
  return {
    "@context": AS,
    id: `${new URL(from.id).origin}/${randomUUID()}`,
    type: "Follow",
    actor: from.id,
    object: aliceUri,
  };
}

/** `account` follows alice and she approves (she approves followers by hand). Returns its id here. */
async function followAlice(account: FakeAccount): Promise<string> {
  const follow = followActivity(account);
  await deliverOk(follow, account);
  const requester = await eventually(`${account.username}'s follow request`, async () => {
    const requests = await apiOk<Account[]>("/api/v1/follow_requests");
    return requests.find((a) => a.acct === acctOf(account));
  });
  await apiOk(`/api/v1/follow_requests/${requester.id}/authorize`, { method: "POST" });
  await received(remoteOf(account), "Accept", follow.id);
  return requester.id;
}

function remoteOf(account: FakeAccount): FakeRemote {
  return account.id.startsWith(A().origin) ? A() : B();
}

let statusNumber = 114_000_000_000_000_000n;

/** A `Create(Note)` as Mastodon sends it, mentioning alice; published on its server. */
function noteFrom(author: FakeAccount, text: string, options: { inReplyTo?: string } = {}) {
  const n = String(statusNumber++);
  const id = `${author.id}/statuses/${n}`;
  const published = new Date().toISOString().replace(/\.\d+Z$/, "Z");
  const host = new URL(clique().origin).host;
  // A reply is public and names the parent's author, as Mastodon's are; anything else is a direct note.
  const to = options.inReplyTo ? [PUBLIC] : [aliceUri];
  const cc = options.inReplyTo ? [author.followers, aliceUri] : [];
  const note = {
    id,
    type: "Note",
    inReplyTo: options.inReplyTo ?? null,
    published,
    url: `${author.url}/${n}`,
    attributedTo: author.id,
    to,
    cc,
    content: `<p><span class="h-card"><a href="${clique().origin}/@alice" class="u-url mention">@<span>alice</span></a></span> ${text}</p>`,
    tag: [{ type: "Mention", href: aliceUri, name: `@alice@${host}` }],
  };
  const create = {
    "@context": AS,
    id: `${id}/activity`,
    type: "Create",
    actor: author.id,
    published,
    to,
    cc,
    object: note,
  };
  remoteOf(author).publish({ "@context": AS, ...note });
  return { note, create };
}

function likeActivity(from: FakeAccount, objectUri: string) {
  return {
    "@context": AS,
    id: `${from.id}#likes/${randomUUID()}`,
    type: "Like",
    actor: from.id,
    object: objectUri,
  };
}

let barriers = 0;

/**
 * Waits until Clique has worked through what it accepted before (its inbox
 * is a queue): a note from eve, sent now, has been stored.
 */
async function barrier(): Promise<void> {
  const { note, create } = noteFrom(A().account("eve"), `barrier ${++barriers}`);
  await deliverOk(create, A().account("eve"));
  await eventually(`barrier ${barriers} to be stored`, async () => {
    return (await storedPosts(note.id)).length === 1;
  });
}

async function descendantsOf(statusId: string): Promise<Status[]> {
  return (await apiOk<{ descendants: Status[] }>(`/api/v1/statuses/${statusId}/context`))
    .descendants;
}

async function favouritesOf(statusId: string): Promise<number> {
  return (await apiOk<Status>(`/api/v1/statuses/${statusId}`)).favourites_count;
}

// ---------------------------------------------------------------- cases

describe("permissions across servers, with a remote that is not Fedify", () => {
  test("an interaction policy is published in GoToSocial's vocabulary", async () => {
    assert.equal((await relationshipWith(ids.ivy!)).followed_by, true, "ivy follows alice");
    const status = await post({
      status: "policy marker-policy",
      visibility: "public",
      interaction_policy: { reply: "followers", like: "nobody" },
    });
    const create = await received(B(), "Create", status.uri);
    assert.ok(list(create.to).includes(PUBLIC) || list(create.cc).includes(PUBLIC), "public");
    const note = create.object as Json;
    assert.match(String(note.content), /marker-policy/);
    const policy = note.interactionPolicy as Record<string, Json> | undefined;
    assert.ok(policy, `an interactionPolicy: ${JSON.stringify(note)}`);
    // Fedify compacts the public collection to `as:Public`, which GoToSocial reads as Public.
    const approved = (rule: string) =>
      list(policy[rule]?.automaticApproval)
        .map((uri) => (uri === "as:Public" ? PUBLIC : String(uri)))
        .sort();
    assert.deepEqual(
      approved("canReply"),
      [aliceUri, `${aliceUri}/followers`].sort(),
      "followers (and alice) may reply",
    );
    assert.deepEqual(approved("canLike"), [aliceUri], "only alice may like");
    assert.deepEqual(approved("canAnnounce"), [PUBLIC], "everyone may boost");
    // A remote server knows what the terms mean only through the context.
    assert.ok(
      JSON.stringify(create["@context"]).includes("https://gotosocial.org/ns"),
      JSON.stringify(create["@context"]),
    );
  });

  test("replies and likes against a post's policy are taken (202) and dropped", async () => {
    const [ivy, eve] = [B().account("ivy"), A().account("eve")];
    const closed = await post({
      status: "closed marker-closed",
      visibility: "public",
      interaction_policy: { reply: "nobody", like: "nobody" },
    });
    const forFollowers = await post({
      status: "for followers marker-for-followers",
      visibility: "public",
      interaction_policy: { reply: "followers", like: "followers" },
    });

    // Refused first: a follower answering a post nobody may answer, a non-follower
    // answering a post only followers may; likes the same way.
    const refused = {
      "ivy → closed": noteFrom(ivy, "refused reply 1", { inReplyTo: closed.uri }),
      "eve → for followers": noteFrom(eve, "refused reply 2", { inReplyTo: forFollowers.uri }),
    };
    await deliverOk(refused["ivy → closed"].create, ivy);
    await deliverOk(refused["eve → for followers"].create, eve);
    await deliverOk(likeActivity(ivy, closed.uri), ivy);
    await deliverOk(likeActivity(eve, forFollowers.uri), eve);

    // Then allowed: a follower answering and liking a post for followers.
    const allowed = noteFrom(ivy, "allowed reply marker-allowed", { inReplyTo: forFollowers.uri });
    await deliverOk(allowed.create, ivy);
    await deliverOk(likeActivity(ivy, forFollowers.uri), ivy);

    const reply = await eventually("ivy's reply in the thread", async () =>
      (await descendantsOf(forFollowers.id)).find((s) => s.uri === allowed.note.id),
    );
    assert.equal(reply.in_reply_to_id, forFollowers.id);
    assert.match(reply.content, /marker-allowed/);
    await eventually("ivy's like to count", async () => (await favouritesOf(forFollowers.id)) > 0);
    await barrier();

    assert.deepEqual(
      (await descendantsOf(forFollowers.id)).map((s) => s.uri),
      [allowed.note.id],
      "only the allowed reply is threaded",
    );
    assert.deepEqual(await descendantsOf(closed.id), []);
    const [row] = await storedPosts(allowed.note.id);
    assert.equal(row?.in_reply_to_id, forFollowers.id);
    for (const [name, { note }] of Object.entries(refused)) {
      assert.deepEqual(await storedPosts(note.id), [], `${name} is not stored`);
    }
    assert.equal(await favouritesOf(forFollowers.id), 1, "ivy's like; eve's was refused");
    assert.equal(await favouritesOf(closed.id), 0, "nobody may like it");
  });

  test("blocking a follower: Block and Reject; no access, delivery, follow or reply", async () => {
    const mallory = A().account("mallory");
    ids.mallory = await followAlice(mallory);
    const followersOnly = await post({ status: "before marker-before", visibility: "private" });
    const open = await post({ status: "open marker-open", visibility: "public" });
    await received(A(), "Create", followersOnly.uri);
    // Her key and its owner are one document: a signed fetch loads it once at most.
    const actorFetches = () =>
      A().requests.filter((r) => r.method === "GET" && r.path === new URL(mallory.id).pathname)
        .length;
    const fetchesBefore = actorFetches();
    assert.equal((await fetchAs(followersOnly.uri, mallory)).status, 200, "a follower may fetch");
    assert.ok(actorFetches() - fetchesBefore <= 1, "mallory's actor fetched at most once");
    const followRow = await sql!
      .selectFrom("follows")
      .select("uri")
      .where("follower_id", "=", ids.mallory)
      .where("followee_id", "=", aliceId)
      .executeTakeFirst();
    assert.ok(followRow?.uri, "mallory's follow, with the id of her Follow");

    const blocked = await apiOk<Relationship>(`/api/v1/accounts/${ids.mallory}/block`, {
      method: "POST",
    });
    assert.equal(blocked.blocking, true);
    assert.equal(blocked.followed_by, false);

    const block = await received(A(), "Block", mallory.id);
    assert.equal(block.actor, aliceUri);
    const reject = await received(A(), "Reject", followRow.uri);
    assert.equal(reject.actor, aliceUri);
    const rejected = reject.object;
    if (rejected && typeof rejected === "object") {
      assert.equal((rejected as Json).actor, mallory.id);
      assert.equal((rejected as Json).object, aliceUri);
    }

    // Her signed fetches: what is open stays open, the rest is not there.
    const fetched = await fetchAs(followersOnly.uri, mallory);
    assert.equal(fetched.status, 404);
    assert.doesNotMatch(fetched.text, /marker-before/);
    const openFetch = await fetchAs(open.uri, mallory);
    assert.equal(openFetch.status, 200);
    assert.match(openFetch.text, /marker-open/);

    // A new followers-only post reaches ivy's server and not mallory's.
    const later = await post({ status: "later marker-later", visibility: "private" });
    await received(B(), "Create", later.uri);
    await sleep(QUIET_MS);
    assert.deepEqual(
      anythingAbout(A(), later.uri).map((r) => typeOf(r.json)),
      [],
      "nothing about the new post reached mallory's server",
    );

    // She follows again: rejected at once, nothing waits for alice.
    const again = followActivity(mallory);
    const sent = await deliver(`${aliceUri}/inbox`, again, { as: mallory });
    assert.equal(sent.status, 202, sent.text);
    await received(A(), "Reject", again.id);
    // Nor may she answer, even what is open to everyone.
    const answer = noteFrom(mallory, "blocked reply", { inReplyTo: open.uri });
    await deliverOk(answer.create, mallory);
    await barrier();
    assert.deepEqual(await storedPosts(answer.note.id), [], "her reply is not stored");
    assert.deepEqual(await descendantsOf(open.id), []);
    const requests = await apiOk<Account[]>("/api/v1/follow_requests");
    assert.equal(
      requests.some((a) => a.id === ids.mallory),
      false,
    );
    const rows = await sql!
      .selectFrom("follows")
      .select("state")
      .where("follower_id", "=", ids.mallory)
      .where("followee_id", "=", aliceId)
      .execute();
    assert.deepEqual(rows, []);
    const relationship = await relationshipWith(ids.mallory);
    assert.equal(relationship.followed_by, false);
    assert.equal(relationship.requested_by, false);

    // Unblocking undoes the Block.
    const unblocked = await apiOk<Relationship>(`/api/v1/accounts/${ids.mallory}/unblock`, {
      method: "POST",
    });
    assert.equal(unblocked.blocking, false);
    const blockId = idOf(block.id);
    assert.ok(blockId);
    const undo = await received(A(), "Undo", blockId);
    assert.equal(undo.actor, aliceUri);
    const undone = undo.object;
    if (undone && typeof undone === "object") {
      assert.equal((undone as Json).type, "Block");
      assert.equal(idOf((undone as Json).object), mallory.id);
    }
  });

  test("removing someone from a circle recalls its posts from their server", async () => {
    const zoe = A().account("zoe");
    const search = await apiOk<{ accounts: Account[] }>(
      `/api/v2/search?q=${encodeURIComponent(zoe.id)}&resolve=true`,
    );
    const zoeId = search.accounts[0]?.id;
    assert.ok(zoeId, "zoe resolved");
    const circle = await apiOk<{ id: string; member_ids: string[] }>("/api/v1/clique/circles", {
      method: "POST",
      body: { name: "Book club", member_ids: [zoeId] },
    });
    const status = await post({
      status: "circle marker-circle",
      audience: "circle",
      circle_id: circle.id,
    });
    assert.equal(status.audience, "circle");
    const create = await received(A(), "Create", status.uri);
    assert.deepEqual(list((create.object as Json).to), [zoe.id], "addressed to zoe by name");
    const member = await fetchAs(status.uri, zoe);
    assert.equal(member.status, 200);
    assert.match(member.text, /marker-circle/);

    const updated = await apiOk<{ member_ids: string[] }>(`/api/v1/clique/circles/${circle.id}`, {
      method: "PATCH",
      body: { member_ids: [] },
    });
    assert.deepEqual(updated.member_ids, []);
    const recall = await received(A(), "Delete", status.uri);
    assert.equal(recall.actor, aliceUri);
    assert.ok(list(recall.to).includes(zoe.id), `sent to zoe: ${JSON.stringify(recall.to)}`);
    const afterwards = await fetchAs(status.uri, zoe);
    assert.equal(afterwards.status, 404);
    assert.doesNotMatch(afterwards.text, /marker-circle/);
    assert.equal(
      anythingAbout(B(), status.uri).length,
      0,
      "ivy was never in the circle and hears nothing of it",
    );
  });

  test("a member's reply may not reach wider than its parent unless confirmed", async () => {
    const follow = await apiOk<Relationship>(`/api/v1/accounts/${aliceId}/follow`, {
      method: "POST",
      as: "bob",
    });
    if (!follow.following) {
      const bobId = (await apiOk<Account>("/api/v1/accounts/verify_credentials", { as: "bob" })).id;
      await apiOk(`/api/v1/follow_requests/${bobId}/authorize`, { method: "POST" });
    }
    assert.equal((await relationshipWith(aliceId, "bob")).following, true, "bob follows alice");
    const parent = await post({ status: "parent marker-parent", visibility: "private" });
    assert.equal(parent.audience, "followers");
    assert.equal((await api(`/api/v1/statuses/${parent.id}`, { as: "bob" })).status, 200);

    const reply = { status: "wider marker-wider", in_reply_to_id: parent.id, audience: "public" };
    const refused = await api<{ error: string; code: string }>("/api/v1/statuses", {
      method: "POST",
      body: reply,
      as: "bob",
    });
    assert.equal(refused.status, 422, JSON.stringify(refused.body));
    assert.equal(refused.body.code, "audience_wider_than_parent");
    assert.match(refused.body.error, /followers/);
    assert.deepEqual(await descendantsOf(parent.id), []);
    const none = await sql!
      .selectFrom("posts")
      .select("id")
      .where("in_reply_to_id", "=", parent.id)
      .execute();
    assert.deepEqual(none, [], "nothing stored");

    const confirmed = await apiOk<Status>("/api/v1/statuses", {
      method: "POST",
      body: { ...reply, confirm_wider_audience: true },
      as: "bob",
    });
    assert.equal(confirmed.audience, "public");
    assert.equal(confirmed.in_reply_to_id, parent.id);
    assert.deepEqual(
      (await descendantsOf(parent.id)).map((s) => s.id),
      [confirmed.id],
    );
  });
});
