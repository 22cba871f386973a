/**
 * Audiences addressed by name (circles, friends) on servers that show a
 * direct-addressed post only to the accounts it mentions, as GoToSocial and
 * Hollo do — and without telling anyone who else is in the audience.
 *
 * Three fake remote servers (plain `node:http`, not Fedify; deliveries checked
 * with Misskey's verifier):
 * - A holds ann and amy (in alice's circle "inner") and al (a follower of alice);
 * - B holds bea (in the circle) and ben (alice's friend: they follow each other);
 * - C holds zed and yan, strangers who answer and like one of alice's posts.
 *
 * Each server must receive a circle or friends post naming only its own
 * recipients in `to` and as `Mention` tags, and a signed fetch must show each
 * viewer only their own part of the audience. Edits and deletes follow a post
 * to everyone who took part in it; someone removed from a circle gets a
 * `Delete` naming only them, and no later edit.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, afterEach, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
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
import { publishInstanceActor } from "./support/instance-actor.ts";
import {
  deliver,
  eventually,
  fetchAs,
  idOf,
  jsonOrNull,
  type Signer,
  typeOf,
  verifyAsMisskeyWould,
} from "./support/mastodon-signing.ts";

const AS = "https://www.w3.org/ns/activitystreams";
const PUBLIC = `${AS}#Public`;
const AP = "application/activity+json";
/** How long to keep listening before concluding that something was not sent. */
const QUIET_MS = 1_500;

type Json = Record<string, unknown>;
interface Status {
  id: string;
  uri: string;
  audience: string;
  replies_count: number;
  favourites_count: number;
}

let db: TestDatabase | undefined;
let server: ServerProcess | undefined;
const fakes: Record<"A" | "B" | "C", FakeRemote | undefined> = {
  A: undefined,
  B: undefined,
  C: undefined,
};
let instanceOfA: Signer | undefined;
let token = "";
let aliceUri = "";
let circleId = "";
/** Clique's account ids of the remote accounts. */
const ids: Record<string, string> = {};
let someTestFailed = false;
const verified = new WeakMap<RecordedRequest, boolean>();

function fake(name: "A" | "B" | "C"): FakeRemote {
  const remote = fakes[name];
  assert.ok(remote, `fake server ${name} is running`);
  return remote;
}

function clique(): ServerProcess {
  assert.ok(server, "the Clique server is running");
  return server;
}

function account(name: string): FakeAccount {
  for (const remote of Object.values(fakes)) {
    const found = remote ? tryAccount(remote, name) : null;
    if (found) return found;
  }
  throw new Error(`no fake account ${name}`);
}

function tryAccount(remote: FakeRemote, name: string): FakeAccount | null {
  try {
    return remote.account(name);
  } catch {
    return null;
  }
}

async function api<T = Json>(
  path: string,
  init: { method?: string; body?: unknown } = {},
): Promise<T> {
  const response = await fetch(`${clique().url}${path}`, {
    method: init.method ?? "GET",
    headers: {
      authorization: `Bearer ${token}`,
      ...(init.body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  const text = await response.text();
  assert.ok(response.ok, `${init.method ?? "GET"} ${path}: ${response.status} ${text}`);
  return JSON.parse(text) as T;
}

function post(body: Json): Promise<Status> {
  return api<Status>("/api/v1/statuses", { method: "POST", body });
}

async function deliverOk(activity: Json, as: FakeAccount): Promise<void> {
  const sent = await deliver(`${clique().origin}/inbox`, activity, { as });
  assert.equal(sent.status, 202, `${activity.type} from ${as.username}: ${sent.text}`);
}

/** JSON-LD compaction writes a one-element array as its element. */
function list(value: unknown): unknown[] {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : [value];
}

/** Verified inbox deliveries of `type` activities whose object is (or names) `objectId`. */
function deliveries(remote: FakeRemote, type: string, objectId: string): Json[] {
  return remote.requests
    .filter(
      (r) =>
        r.inbox &&
        r.status === 202 &&
        typeOf(r.json) === type &&
        idOf((r.json as Json).object) === objectId,
    )
    .map((r) => {
      assert.equal(verified.get(r), true, "signed by alice, verifiably");
      return r.json as Json;
    });
}

async function received(remote: FakeRemote, type: string, objectId: string): Promise<Json> {
  return eventually(`a ${type} of ${objectId}`, async () => {
    const found = deliveries(remote, type, objectId);
    assert.ok(found.length <= 1, `one ${type} per server, not ${found.length}`);
    return found[0];
  });
}

/** Whether `remote` received anything at all that names `text`. */
function anythingAbout(remote: FakeRemote, text: string): RecordedRequest[] {
  return remote.requests.filter((r) => r.inbox && r.body.includes(text));
}

/** Who a note is addressed to (`to` and `cc`), sorted. */
function addressees(note: Json): string[] {
  return [...list(note.to), ...list(note.cc)].map(String).sort();
}

/** Who a note mentions, sorted. */
function mentioned(note: Json): string[] {
  return list(note.tag)
    .filter((t) => typeOf(t) === "Mention")
    .map((t) => String((t as Json).href))
    .sort();
}

/**
 * Whom a server that shows a post addressed by name only to the accounts it
 * mentions (GoToSocial, Hollo) would show `note` to: addressed *and* mentioned.
 */
function shownByNameTo(note: Json): string[] {
  const tagged = new Set(mentioned(note));
  return addressees(note).filter((a) => tagged.has(a));
}

function idsOf(...names: string[]): string[] {
  return names.map((n) => account(n).id).sort();
}

/** The accounts who may approve themselves for an interaction (`as:Public` read as Public). */
function approvals(note: Json, rule: string): string[] {
  const policy = note.interactionPolicy as Record<string, Json> | undefined;
  assert.ok(policy, `an interactionPolicy: ${JSON.stringify(note)}`);
  return list(policy[rule]?.automaticApproval)
    .map((uri) => (uri === "as:Public" ? PUBLIC : String(uri)))
    .sort();
}

/** `account` follows alice, who approves. */
async function followAlice(who: FakeAccount): Promise<void> {
  const follow = {
    "@context": AS,
    id: `${new URL(who.id).origin}/${randomUUID()}`,
    type: "Follow",
    actor: who.id,
    object: aliceUri,
  };
  await deliverOk(follow, who);
  await eventually(`${who.username}'s follow request`, async () =>
    (await api<{ id: string }[]>("/api/v1/follow_requests")).some(
      (a) => a.id === ids[who.username],
    ),
  );
  await api(`/api/v1/follow_requests/${ids[who.username]}/authorize`, { method: "POST" });
}

/** Alice follows `account`, whose server accepts. */
async function aliceFollows(who: FakeAccount, remote: FakeRemote): Promise<void> {
  await api(`/api/v1/accounts/${ids[who.username]}/follow`, { method: "POST" });
  const follow = await eventually(`alice's Follow of ${who.username}`, async () =>
    remote.requests.find(
      (r) => r.inbox && typeOf(r.json) === "Follow" && (r.json as Json).object === who.id,
    ),
  );
  await deliverOk(
    {
      "@context": AS,
      id: `${who.id}#accepts/${randomUUID()}`,
      type: "Accept",
      actor: who.id,
      object: { id: (follow.json as Json).id, type: "Follow", actor: aliceUri, object: who.id },
    },
    who,
  );
  await eventually(`alice's follow of ${who.username} to be accepted`, async () => {
    const [r] = await api<{ following: boolean }[]>(
      `/api/v1/accounts/relationships?id[]=${ids[who.username]}`,
    );
    return r?.following;
  });
}

before(async () => {
  const inboxStatus = async (request: RecordedRequest) => {
    const { verified: ok } = await verifyAsMisskeyWould(request, { keyIdPrefix: `${aliceUri}#` });
    verified.set(request, ok);
    return ok ? 202 : 401;
  };
  [fakes.A, fakes.B, fakes.C] = await Promise.all([
    startFakeRemote({ usernames: ["ann", "amy", "al"], inboxStatus }),
    startFakeRemote({ usernames: ["bea", "ben"], inboxStatus }),
    startFakeRemote({ usernames: ["zed", "yan"], inboxStatus }),
  ]);
  instanceOfA = publishInstanceActor(fake("A"));
  db = await createTestDatabase();
  const env = { ...process.env, DATABASE_URL: db.url, CLIQUE_ALLOW_PRIVATE_ADDRESS: "true" };
  await runCliOk(["init", "--name", "Named", "--owner", "alice", "--password-stdin"], {
    env,
    stdin: "alice-password-1",
  });
  server = await startServerProcess({ env, databaseUrl: db.url });
  token = lastLine(await runCliOk(["token", "create", "alice"], { env }));
  aliceUri = `${clique().origin}/users/alice`;
  for (const name of ["ann", "amy", "al", "bea", "ben", "zed", "yan"]) {
    const found = await api<{ accounts: { id: string }[] }>(
      `/api/v2/search?q=${encodeURIComponent(account(name).id)}&resolve=true`,
    );
    assert.equal(found.accounts.length, 1, `${name} resolves`);
    ids[name] = found.accounts[0]!.id;
  }
  await followAlice(account("al"));
  await followAlice(account("ben"));
  await aliceFollows(account("ben"), fake("B"));
  circleId = (
    await api<{ id: string }>("/api/v1/clique/circles", {
      method: "POST",
      body: { name: "inner", member_ids: [ids.ann, ids.amy, ids.bea] },
    })
  ).id;
});

afterEach((t) => {
  if ((t as { passed?: boolean }).passed === false) someTestFailed = true;
});

after(async () => {
  if (someTestFailed && server) console.error(server.output().slice(-20_000));
  const steps: [string, (() => Promise<unknown>) | undefined][] = [
    ["server", server && (() => server!.stop())],
    ...(["A", "B", "C"] as const).map(
      (n) => [`fake ${n}`, fakes[n] && (() => fakes[n]!.close())] as [string, () => Promise<void>],
    ),
    ["database", db && (() => db!.drop())],
    ["embedded PostgreSQL", () => stopEmbeddedTestServer()],
  ];
  for (const [name, step] of steps) await step?.().catch((e) => console.error(name, e));
});

describe("audiences addressed by name", () => {
  let circlePost: Status;

  test("a circle post reaches each server naming only that server's recipients", async () => {
    circlePost = await post({
      status: "circle marker-inner",
      audience: "circle",
      circle_id: circleId,
    });
    const [toA, toB] = await Promise.all([
      received(fake("A"), "Create", circlePost.uri),
      received(fake("B"), "Create", circlePost.uri),
    ]);
    for (const [create, names] of [
      [toA, ["ann", "amy"]],
      [toB, ["bea"]],
    ] as const) {
      const note = create.object as Json;
      assert.match(String(note.content), /marker-inner/);
      assert.deepEqual(addressees(create), idsOf(...names), "the activity names its own only");
      assert.deepEqual(addressees(note), idsOf(...names), "the note names its own only");
      assert.deepEqual(mentioned(note), idsOf(...names), "and mentions them");
      assert.deepEqual(shownByNameTo(note), idsOf(...names), "so GoToSocial and Hollo show it");
    }
    // Nobody learns who else is in the circle.
    assert.deepEqual(
      anythingAbout(fake("A"), account("bea").id).map((r) => r.path),
      [],
      "A never hears of bea",
    );
    for (const other of ["ann", "amy"])
      assert.deepEqual(
        anythingAbout(fake("B"), account(other).id),
        [],
        `B never hears of ${other}`,
      );
    await sleep(QUIET_MS);
    assert.deepEqual(anythingAbout(fake("C"), "marker-inner"), [], "C is not in the circle");
  });

  test("a signed fetch shows each viewer only their own part of the audience", async () => {
    const fetchNote = async (as: Signer | null) => {
      const got = await fetchAs(circlePost.uri, as, { accept: AP });
      return { status: got.status, note: jsonOrNull<Json>(got.text) };
    };
    for (const name of ["ann", "bea"]) {
      const { status, note } = await fetchNote(account(name));
      assert.equal(status, 200, `${name} may fetch the circle post`);
      assert.deepEqual(addressees(note!), idsOf(name), `${name} sees only themself`);
      assert.deepEqual(mentioned(note!), idsOf(name));
    }
    const byServer = await fetchNote(instanceOfA!);
    assert.equal(byServer.status, 200, "A's instance actor fetches for ann and amy");
    assert.deepEqual(addressees(byServer.note!), idsOf("ann", "amy"));
    for (const outsider of [account("al"), account("zed"), null]) {
      const { status, note } = await fetchNote(outsider);
      assert.equal(status, 404, `${outsider?.username ?? "anonymous"} gets nothing`);
      assert.doesNotMatch(JSON.stringify(note), /marker-inner/);
    }
  });

  test("a friends post reaches the friends by name, and no other follower", async () => {
    const friends = await post({ status: "friends marker-friends", audience: "friends" });
    const create = await received(fake("B"), "Create", friends.uri);
    const note = create.object as Json;
    assert.deepEqual(addressees(note), idsOf("ben"));
    assert.deepEqual(shownByNameTo(note), idsOf("ben"));
    await sleep(QUIET_MS);
    assert.deepEqual(anythingAbout(fake("A"), "marker-friends"), [], "al follows but is no friend");
  });

  test("only posts open to everyone may be boosted, and the policy says so", async () => {
    const followersOnly = await post({ status: "followers marker-fo", visibility: "private" });
    const open = await post({ status: "public marker-open", visibility: "public" });
    const fromA = (await received(fake("A"), "Create", followersOnly.uri)).object as Json;
    const openA = (await received(fake("A"), "Create", open.uri)).object as Json;
    const circleA = (await received(fake("A"), "Create", circlePost.uri)).object as Json;
    for (const [what, note] of [
      ["followers-only", fromA],
      ["circle", circleA],
    ] as const) {
      assert.deepEqual(approvals(note, "canAnnounce"), [aliceUri], `${what}: only alice`);
      assert.deepEqual(approvals(note, "canReply"), [PUBLIC], `${what}: replies as set`);
    }
    assert.deepEqual(approvals(openA, "canAnnounce"), [PUBLIC], "a public post may be boosted");
    // And a boost of the followers-only post is refused (not counted).
    const al = account("al");
    await deliverOk(
      {
        "@context": AS,
        id: `${al.id}/statuses/${randomUUID()}/activity`,
        type: "Announce",
        actor: al.id,
        to: [PUBLIC],
        object: followersOnly.uri,
      },
      al,
    );
    await sleep(QUIET_MS);
    const seen = await api<Status & { reblogs_count: number }>(
      `/api/v1/statuses/${followersOnly.id}`,
    );
    assert.equal(seen.reblogs_count, 0);
  });

  test("an edit and a delete follow a post to everyone who answered or liked it", async () => {
    const original = await post({ status: "open marker-talk v1", visibility: "public" });
    const [zed, yan] = [account("zed"), account("yan")];
    const n = Date.now();
    const reply = {
      id: `${zed.id}/statuses/${n}`,
      type: "Note",
      attributedTo: zed.id,
      inReplyTo: original.uri,
      to: [PUBLIC],
      cc: [aliceUri],
      content: "<p>a reply from C</p>",
      published: new Date().toISOString(),
      tag: [{ type: "Mention", href: aliceUri }],
    };
    fake("C").publish({ "@context": AS, ...reply });
    await deliverOk(
      {
        "@context": AS,
        id: `${reply.id}/activity`,
        type: "Create",
        actor: zed.id,
        to: reply.to,
        cc: reply.cc,
        object: reply,
      },
      zed,
    );
    await deliverOk(
      {
        "@context": AS,
        id: `${yan.id}#likes/${n}`,
        type: "Like",
        actor: yan.id,
        object: original.uri,
      },
      yan,
    );
    await eventually("the reply and the like to be taken in", async () => {
      const s = await api<Status>(`/api/v1/statuses/${original.id}`);
      return s.replies_count === 1 && s.favourites_count === 1;
    });
    assert.deepEqual(deliveries(fake("C"), "Create", original.uri), [], "C had no copy before");

    await api(`/api/v1/statuses/${original.id}`, {
      method: "PUT",
      body: { status: "open marker-talk v2" },
    });
    const update = await received(fake("C"), "Update", original.uri);
    assert.match(String((update.object as Json).content), /v2/);

    await api(`/api/v1/statuses/${original.id}`, { method: "DELETE" });
    await received(fake("C"), "Delete", original.uri);
  });

  test("people removed from a circle get a Delete naming only them, and no later edit", async () => {
    // amy (on A, with ann who stays) and bea (alone on B) leave the circle.
    await api(`/api/v1/clique/circles/${circleId}`, {
      method: "PATCH",
      body: { member_ids: [ids.ann] },
    });
    const [recallA, recallB] = await Promise.all([
      received(fake("A"), "Delete", circlePost.uri),
      received(fake("B"), "Delete", circlePost.uri),
    ]);
    assert.deepEqual(addressees(recallA), idsOf("amy"), "A is told of amy only");
    assert.deepEqual(addressees(recallB), idsOf("bea"), "B is told of bea only");
    await api(`/api/v1/statuses/${circlePost.id}`, {
      method: "PUT",
      body: { status: "circle marker-inner, edited" },
    });
    const update = await received(fake("A"), "Update", circlePost.uri);
    assert.deepEqual(addressees(update), idsOf("ann"), "the edit goes to ann, still in the circle");
    assert.deepEqual(addressees(update.object as Json), idsOf("ann"));
    await sleep(QUIET_MS);
    assert.deepEqual(deliveries(fake("B"), "Update", circlePost.uri), [], "bea left the circle");
  });
});
