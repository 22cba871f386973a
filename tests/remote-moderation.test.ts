/**
 * Remote moderation, from the outside: one real Clique process and three fake
 * remote servers (plain `node:http`, not Fedify) whose accounts sign their
 * requests as Mastodon does. Everything goes through Clique's API, its CLI,
 * its inboxes and its ActivityPub endpoints; the database is read to check
 * what is (not) stored.
 *
 * - `spam` (mallory, mike): blocked through Clique's API, later unblocked.
 * - `loud` (lena): limited through the CLI (a second process: the running
 *   server hears of it through PostgreSQL).
 * - `elsewhere` (troll, sam, olga, eager): troll is suspended, sam silenced,
 *   eager's follow requests rejected; olga, on the same server, is the control.
 * - The Mastodon admin domain blocks API, on a fourth host.
 *
 * Alice is the owner, bob a member, dave a moderator. The tests run in order
 * and build on each other.
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
  type ProcessEnv,
  runCli,
  runCliOk,
  type ServerProcess,
  startFakeRemote,
  startServerProcess,
  stopEmbeddedTestServer,
  type TestDatabase,
} from "@clique/testing";
import { type Kysely, sql } from "kysely";
import { deliver, eventually, fetchAs, idOf, typeOf } from "./support/mastodon-signing.ts";
import { solidImage } from "./support/media.ts";

const AS = "https://www.w3.org/ns/activitystreams";
const PUBLIC = `${AS}#Public`;
const PASSWORDS = { alice: "alice-password-1", bob: "bob-password-22", dave: "dave-password-3" };
type User = keyof typeof PASSWORDS;
type Json = Record<string, unknown>;

let db: TestDatabase | undefined;
let server: ServerProcess | undefined;
let q: Kysely<Database> | undefined;
let env: ProcessEnv = {};
let spam: FakeRemote;
let loud: FakeRemote;
let elsewhere: FakeRemote;
/** Whether the spam server's inbox is down (503). */
let spamDown = false;
const tokens: Record<User, string> = { alice: "", bob: "", dave: "" };
const ids: Record<User, string> = { alice: "", bob: "", dave: "" };
let failed = false;

before(async () => {
  [spam, loud, elsewhere] = await Promise.all([
    startFakeRemote({
      usernames: ["mallory", "mike"],
      inboxStatus: () => (spamDown ? 503 : 202),
    }),
    startFakeRemote({ usernames: ["lena"] }),
    startFakeRemote({ usernames: ["troll", "sam", "olga", "eager"] }),
  ]);
  db = await createTestDatabase();
  env = {
    ...process.env,
    DATABASE_URL: db.url,
    CLIQUE_DB_POOL: "4",
    CLIQUE_ALLOW_PRIVATE_ADDRESS: "true",
    // A delivery to a server that is down is tried again soon, and many times.
    CLIQUE_DELIVERY_ATTEMPTS: "30",
    CLIQUE_RETRY_BASE_MS: "100",
    REDIS_URL: undefined,
  };
  await runCliOk(["init", "--name", "Moderated", "--owner", "alice", "--password-stdin"], {
    env,
    stdin: PASSWORDS.alice,
  });
  const code = lastLine(await runCliOk(["invite", "create", "--by", "alice"], { env }));
  for (const name of ["bob", "dave"] as const)
    await runCliOk(["invite", "redeem", code, "--username", name, "--password-stdin"], {
      env,
      stdin: PASSWORDS[name],
    });
  q = openDatabase(db.url, { maxConnections: 2 });
  // No use case of this work makes moderators: the members' side does.
  await sql`update members set role = 'moderator'
    where id = (select id from actors where username = 'dave' and kind = 'local')`.execute(q);
  server = await startServerProcess({ env, databaseUrl: db.url });
  // The CLI acts on the same Clique: the same public origin.
  env = { ...env, CLIQUE_ORIGIN: server.origin };
  for (const name of ["alice", "bob", "dave"] as const) {
    tokens[name] = lastLine(await runCliOk(["token", "create", name], { env }));
    ids[name] = (await ok(name, "GET", "/api/v1/accounts/verify_credentials")).id as string;
  }
});

afterEach((t) => {
  if ((t as { passed?: boolean }).passed === false) failed = true;
});

after(async () => {
  if (failed && server) console.error(server.output());
  const steps: (() => Promise<unknown>)[] = [
    async () => q?.destroy(),
    async () => server?.stop(),
    async () => Promise.all([spam?.close(), loud?.close(), elsewhere?.close()]),
    async () => db?.drop(),
    () => stopEmbeddedTestServer(),
  ];
  for (const step of steps) await step().catch((e: unknown) => console.error("clean-up:", e));
});

// ---------------------------------------------------------------- helpers

function clique(): ServerProcess {
  assert.ok(server, "the server is running");
  return server;
}

function sqlDb(): Kysely<Database> {
  assert.ok(q);
  return q;
}

async function call(
  user: User | null,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: Json & Json[] }> {
  const response = await fetch(`${clique().url}${path}`, {
    method,
    headers: {
      ...(user ? { authorization: `Bearer ${tokens[user]}` } : {}),
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : null) as Json & Json[] };
}

async function ok(user: User | null, method: string, path: string, body?: unknown) {
  const r = await call(user, method, path, body);
  assert.ok(
    r.status >= 200 && r.status < 300,
    `${method} ${path} as ${user}: ${r.status} ${JSON.stringify(r.body)}`,
  );
  return r.body;
}

function aliceUri(): string {
  return `${clique().origin}/users/alice`;
}

/** A `Create(Note)` by `who`, public unless `to` says otherwise; mentions whoever it names. */
function createNote(
  who: FakeAccount,
  text: string,
  options: { to?: string[]; cc?: string[]; attachment?: Json[] } = {},
): Json {
  const id = `${who.id}/statuses/${randomUUID()}`;
  const to = options.to ?? [PUBLIC];
  const cc = options.cc ?? [who.followers];
  const mentioned = [...to, ...cc].filter((a) => a.startsWith(clique().origin));
  const note = {
    id,
    type: "Note",
    attributedTo: who.id,
    to,
    cc,
    content: `<p>${text}</p>`,
    published: new Date().toISOString(),
    tag: mentioned.map((href) => ({ type: "Mention", href })),
    ...(options.attachment ? { attachment: options.attachment } : {}),
  };
  return {
    "@context": AS,
    id: `${id}/activity`,
    type: "Create",
    actor: who.id,
    to,
    cc,
    object: note,
  };
}

function activity(who: FakeAccount, type: string, object: unknown): Json {
  return {
    "@context": AS,
    id: `${who.id}#${type.toLowerCase()}-${randomUUID()}`,
    type,
    actor: who.id,
    object,
  };
}

function inbox(): string {
  return `${clique().url}/inbox`;
}

async function deliverOk(body: Json, as: FakeAccount): Promise<void> {
  const sent = await deliver(inbox(), body, { as });
  assert.equal(sent.status, 202, `${String(body.type)} from ${as.username}: ${sent.text}`);
}

async function postsBy(uri: string): Promise<{ id: string; content_html: string }[]> {
  return sqlDb()
    .selectFrom("posts")
    .innerJoin("actors", "actors.id", "posts.author_id")
    .select(["posts.id", "posts.content_html"])
    .where("actors.uri", "=", uri)
    .execute();
}

async function postByUri(uri: string) {
  return sqlDb()
    .selectFrom("posts")
    .select(["id", "content_html"])
    .where("uri", "=", uri)
    .executeTakeFirst();
}

async function actorId(uri: string): Promise<string | undefined> {
  return (await sqlDb().selectFrom("actors").select("id").where("uri", "=", uri).executeTakeFirst())
    ?.id;
}

async function countWhere(
  table: "follows" | "post_interactions" | "media",
  column: string,
  actor: string,
) {
  const { rows } = await sql<{
    n: string;
  }>`select count(*) as n from ${sql.table(table)} where ${sql.ref(column)} = ${actor}`.execute(
    sqlDb(),
  );
  return Number(rows[0]!.n);
}

async function followsOf(actor: string): Promise<number> {
  return (
    (await countWhere("follows", "follower_id", actor)) +
    (await countWhere("follows", "followee_id", actor))
  );
}

async function audit(
  action: string,
): Promise<{ actor_id: string | null; subject: string; reason: string; details: Json }[]> {
  const { rows } = await sql<{
    actor_id: string | null;
    subject: string;
    reason: string;
    details: Json;
  }>`
    select actor_id, subject, reason, details from moderation_audit_log where action = ${action} order by id`.execute(
    sqlDb(),
  );
  return rows;
}

/** Finds a remote account by its actor URL, as a member's client does. */
async function resolve(user: User, uri: string): Promise<Json[]> {
  const found = await ok(
    user,
    "GET",
    `/api/v2/search?q=${encodeURIComponent(uri)}&resolve=true&type=accounts`,
  );
  return found.accounts as unknown as Json[];
}

/** `user` follows `who` and `who`'s server accepts. */
async function follow(user: User, remote: FakeRemote, who: FakeAccount): Promise<string> {
  const [account] = await resolve(user, who.id);
  assert.ok(account, `${who.username} resolved`);
  await ok(user, "POST", `/api/v1/accounts/${account.id}/follow`);
  const sent = await remote.waitFor(
    (r) =>
      r.inbox &&
      typeOf(r.json) === "Follow" &&
      idOf((r.json as Json).object) === who.id &&
      r.body.includes(`/users/${user}`),
    { what: `${user}'s Follow of ${who.username}` },
  );
  const followId = String((sent.json as Json).id);
  await deliverOk(
    activity(who, "Accept", {
      type: "Follow",
      id: followId,
      actor: `${clique().origin}/users/${user}`,
      object: who.id,
    }),
    who,
  );
  await eventually(`${user} to follow ${who.username}`, async () => {
    const [r] = (await ok(
      user,
      "GET",
      `/api/v1/accounts/relationships?id[]=${account.id}`,
    )) as unknown as { following: boolean }[];
    return r?.following;
  });
  return String(account.id);
}

/** `who` follows `user`, whom it asks; `user` approves. */
async function followedBy(user: User, who: FakeAccount): Promise<void> {
  await deliverOk(activity(who, "Follow", `${clique().origin}/users/${user}`), who);
  const request = await eventually(`${who.username}'s follow request`, async () =>
    ((await ok(user, "GET", "/api/v1/follow_requests")) as unknown as Json[]).find((a) =>
      String(a.acct).startsWith(`${who.username}@`),
    ),
  );
  await ok(user, "POST", `/api/v1/follow_requests/${request.id}/authorize`);
}

/** Whether the job engine and the outbox relay have nothing left to do (nor any dead letter). */
async function settled(): Promise<boolean> {
  const status = await runCliOk(["queue", "status"], { env });
  return (
    /^outbox events +0 waiting, 0 dead$/m.test(status) &&
    /^outbox +0 waiting, 0 running, 0 delayed, 0 dead$/m.test(status) &&
    /^fanout +0 waiting, 0 running, 0 delayed, 0 dead$/m.test(status)
  );
}

/** Statuses of alice's post as `user` sees it through the API (`null`: anonymous). */
async function statusCode(user: User | null, id: string): Promise<number> {
  return (await call(user, "GET", `/api/v1/statuses/${id}`)).status;
}

// ---------------------------------------------------------------- the tests

describe("remote moderation against servers that are not Fedify", () => {
  const state = { mallory: "", alicePost: "", malloryNote: "", proxied: "" };

  test("before any decision the spam server's accounts follow, post with a photo, like and are delivered to", async () => {
    const mallory = spam.account("mallory");
    spam.serveFile("/files/spam.png", {
      body: await solidImage(8, 8, [250, 0, 0]),
      type: "image/png",
    });
    await followedBy("alice", mallory);
    await follow("alice", spam, mallory);
    state.mallory = (await actorId(mallory.id))!;
    const note = createNote(mallory, "buy cheap things", {
      cc: [mallory.followers, aliceUri()],
      attachment: [
        { type: "Document", mediaType: "image/png", url: `${spam.origin}/files/spam.png` },
      ],
    });
    await deliverOk(note, mallory);
    state.malloryNote = String((note.object as Json).id);
    const stored = await eventually("mallory's note", () => postByUri(state.malloryNote));
    const status = await ok("alice", "GET", `/api/v1/statuses/${stored.id}`);
    state.proxied = String((status.media_attachments as unknown as Json[])[0]!.url);
    assert.match(state.proxied, /\/media\/proxy\//);
    const posted = await ok("alice", "POST", "/api/v1/statuses", {
      status: "hello followers",
      visibility: "public",
    });
    state.alicePost = String(posted.id);
    await deliverOk(
      activity(mallory, "Like", `${aliceUri()}/statuses/${state.alicePost}`),
      mallory,
    );
    await eventually(
      "mallory's like",
      async () => (await countWhere("post_interactions", "actor_id", state.mallory)) === 1,
    );
    await spam.waitFor(
      (r) => r.inbox && typeOf(r.json) === "Create" && r.body.includes(state.alicePost),
      {
        what: "alice's post delivered to the spam server",
      },
    );
    assert.equal(await followsOf(state.mallory), 2);
    assert.equal(await countWhere("media", "owner_id", state.mallory), 1);
  });

  test("only admins and owners may block a server; members and moderators are refused", async () => {
    for (const user of ["bob", "dave"] as const) {
      const refused = await call(user, "POST", "/api/v1/clique/domains", {
        domain: spam.host,
        reason: "spam",
      });
      assert.equal(refused.status, 403, `${user}: ${JSON.stringify(refused.body)}`);
      assert.equal((await call(user, "GET", "/api/v1/clique/domains")).status, 403);
    }
    assert.deepEqual(await ok("alice", "GET", "/api/v1/clique/domains"), []);
    assert.deepEqual(await audit("domain.block"), [], "nothing refused was logged as done");
  });

  test("blocking the server drops the delivery queued to it, purges its follows and content, and is in the audit log", async () => {
    // The spam server goes down: alice's next post waits in the queue for it, retried.
    spamDown = true;
    const posted = await ok("alice", "POST", "/api/v1/statuses", {
      status: "while you were down",
      visibility: "public",
    });
    await spam.waitFor(
      (r) =>
        r.inbox &&
        r.status === 503 &&
        typeOf(r.json) === "Create" &&
        r.body.includes(String(posted.id)),
      { what: "a failed delivery to the spam server" },
    );
    const blocked = await call("alice", "POST", "/api/v1/clique/domains", {
      domain: spam.host,
      severity: "block",
      reason: "spam wave",
    });
    assert.equal(blocked.status, 201, JSON.stringify(blocked.body));
    assert.equal(blocked.body.domain, spam.host);
    assert.equal(blocked.body.severity, "block");
    assert.deepEqual(blocked.body.purged, {
      accounts: 1,
      posts: 1,
      follows: 2,
      interactions: 1,
      media_files: 1,
    });

    // The queued delivery is dropped when its turn comes: never delivered, never a dead letter.
    await eventually("the queues to settle", settled);
    spamDown = false;
    assert.ok(
      !spam.inboxPosts().some((r) => r.status === 202 && r.body.includes(String(posted.id))),
      "the post never reached the blocked server",
    );
    assert.match(
      clique().output(),
      new RegExp(`Dropped a delivery to ["']?${spam.host.replace(/\./g, "\\.")}`),
    );

    // Its follows and content are gone; its account is kept, to remember.
    assert.deepEqual(await postsBy(spam.account("mallory").id), []);
    assert.equal(await followsOf(state.mallory), 0);
    assert.equal(await countWhere("post_interactions", "actor_id", state.mallory), 0);
    assert.equal(await countWhere("media", "owner_id", state.mallory), 0);
    assert.ok(await actorId(spam.account("mallory").id));
    assert.equal(
      (
        await fetch(state.proxied.replace(clique().origin, clique().url), {
          headers: { authorization: `Bearer ${tokens.alice}` },
        })
      ).status,
      404,
    );
    const counts = (await ok("alice", "GET", `/api/v1/statuses/${state.alicePost}`)) as Json;
    assert.equal(counts.favourites_count, 0);

    const [entry] = await audit("domain.block");
    assert.ok(entry, "the block is in the audit log");
    assert.equal(entry.actor_id, ids.alice);
    assert.equal(entry.subject, spam.host);
    assert.equal(entry.reason, "spam wave");
    assert.equal((entry.details.purged as Json).posts, 1);
    assert.deepEqual(
      await ok("alice", "GET", "/api/v1/clique/domains").then((l) =>
        l.map((b) => [b.domain, b.severity, b.reason]),
      ),
      [[spam.host, "block", "spam wave"]],
    );
  });

  test("its signed activities are refused at the door, whoever of it signs, and nothing of it is stored", async () => {
    const mallory = spam.account("mallory");
    const mike = spam.account("mike");
    const olga = elsewhere.account("olga");
    const alicePostUri = `${aliceUri()}/statuses/${state.alicePost}`;
    const attempts: [string, Json, FakeAccount][] = [
      [
        "Create",
        createNote(mallory, "more spam", { cc: [mallory.followers, aliceUri()] }),
        mallory,
      ],
      [
        "Create from a new account",
        createNote(mike, "hello from mike", { cc: [aliceUri()] }),
        mike,
      ],
      ["Follow", activity(mike, "Follow", aliceUri()), mike],
      ["Like", activity(mallory, "Like", alicePostUri), mallory],
      ["Announce", { ...activity(mallory, "Announce", alicePostUri), to: [PUBLIC] }, mallory],
      [
        "Update of the actor",
        activity(mallory, "Update", { ...spam.actorDocument("mallory"), name: "Renamed" }),
        mallory,
      ],
      // Signed by the blocked server for someone elsewhere, and the other way round.
      ["olga's Like signed with mallory's key", activity(olga, "Like", alicePostUri), mallory],
      ["mallory's Like signed with olga's key", activity(mallory, "Like", alicePostUri), olga],
    ];
    for (const [what, body, signer] of attempts) {
      for (const target of [inbox(), `${clique().url}/users/alice/inbox`]) {
        const sent = await deliver(target, body, { as: signer });
        assert.equal(sent.status, 403, `${what} to ${target}: ${sent.status} ${sent.text}`);
        assert.equal(JSON.parse(sent.text).code, "forbidden");
      }
    }
    assert.deepEqual(await postsBy(mallory.id), []);
    assert.deepEqual(await postsBy(mike.id), []);
    assert.equal(
      await actorId(mike.id),
      undefined,
      "a new account of a blocked server is not stored",
    );
    assert.equal(await followsOf(state.mallory), 0);
    assert.equal(await countWhere("post_interactions", "actor_id", state.mallory), 0);
    const stored = await sqlDb()
      .selectFrom("actors")
      .select("display_name")
      .where("uri", "=", mallory.id)
      .executeTakeFirstOrThrow();
    assert.notEqual(stored.display_name, "Renamed");
    // The refusal is the block's, not a broken signature: olga, elsewhere, is let in.
    const like = await deliver(inbox(), activity(olga, "Like", alicePostUri), { as: olga });
    assert.equal(like.status, 202, like.text);
  });

  test("its signed fetches of our posts and actors answer 404; unsigned ones and others' do not", async () => {
    const url = `${aliceUri()}/statuses/${state.alicePost}`;
    for (const path of [url, aliceUri(), `${aliceUri()}/outbox?cursor=`]) {
      const target = path.replace(clique().origin, clique().url);
      for (const who of [spam.account("mallory"), spam.account("mike")]) {
        const signed = await fetchAs(target, who);
        assert.equal(signed.status, 404, `${path} signed by ${who.username}: ${signed.text}`);
        assert.ok(!signed.text.includes("hello followers"));
      }
    }
    const unsigned = await fetchAs(url.replace(clique().origin, clique().url), null);
    assert.equal(unsigned.status, 200);
    assert.match(unsigned.text, /hello followers/);
    const byOlga = await fetchAs(
      url.replace(clique().origin, clique().url),
      elsewhere.account("olga"),
    );
    assert.equal(byOlga.status, 200);
  });

  test("search and resolve do not reach it", async () => {
    assert.deepEqual(await resolve("bob", spam.account("mike").id), []);
    assert.deepEqual(await resolve("bob", spam.account("mallory").id), []);
    assert.equal(await actorId(spam.account("mike").id), undefined);
    assert.ok(
      !spam.requests.some((r) => r.path === "/users/mike" && r.method === "GET"),
      "mike was never fetched",
    );
  });

  test("a server limited through the CLI: its posts reach only the members who follow its accounts, and those they name", async () => {
    const lena = loud.account("lena");
    await follow("alice", loud, lena);
    const limited = await runCliOk(
      ["domain", "block", loud.host, "--limit", "--reason", "too loud"],
      { env },
    );
    assert.match(
      limited,
      new RegExp(`Limited ${loud.host.replace(/\./g, "\\.")} and its subdomains`),
    );
    const listed = await runCliOk(["domain", "list"], { env });
    assert.match(listed, new RegExp(`^${loud.host.replace(/\./g, "\\.")} +limit .*too loud$`, "m"));
    assert.match(
      listed,
      new RegExp(`^${spam.host.replace(/\./g, "\\.")} +block .*spam wave$`, "m"),
    );

    const publicNote = createNote(lena, "lena shouts");
    await deliverOk(publicNote, lena);
    const toBob = createNote(lena, "lena whispers to bob", {
      to: [`${clique().origin}/users/bob`],
      cc: [],
    });
    await deliverOk(toBob, lena);
    const shout = await eventually("lena's public note", () =>
      postByUri(String((publicNote.object as Json).id)),
    );
    const whisper = await eventually("lena's note to bob", () =>
      postByUri(String((toBob.object as Json).id)),
    );
    // alice follows lena: she sees the public note; bob, anonymous and dave do not.
    assert.equal(await statusCode("alice", shout.id), 200);
    for (const who of ["bob", "dave", null] as const)
      assert.equal(await statusCode(who, shout.id), 404, `${who}`);
    const home = (await ok("alice", "GET", "/api/v1/timelines/home?limit=40")) as unknown as Json[];
    assert.ok(
      home.some((s) => s.id === shout.id),
      "in alice's home",
    );
    const lenaId = await actorId(lena.id);
    const asBob = (await ok(
      "bob",
      "GET",
      `/api/v1/accounts/${lenaId}/statuses`,
    )) as unknown as Json[];
    assert.ok(!asBob.some((s) => s.id === shout.id), "not in lena's statuses as bob sees them");
    // What she addressed to bob reaches him, and only him.
    assert.equal(await statusCode("bob", whisper.id), 200);
    assert.equal(await statusCode("alice", whisper.id), 404);

    // Bob takes anyone without asking; someone on a limited server must ask all the same.
    await ok("bob", "PATCH", "/api/v1/accounts/update_credentials", { locked: false });
    await deliverOk(activity(lena, "Follow", `${clique().origin}/users/bob`), lena);
    const request = await eventually("lena's follow request to bob", async () =>
      ((await ok("bob", "GET", "/api/v1/follow_requests")) as unknown as Json[]).find((a) =>
        String(a.acct).startsWith("lena@"),
      ),
    );
    assert.ok(request);
    const [entry] = await audit("domain.limit");
    assert.equal(entry?.actor_id, null);
    assert.equal(entry?.details.via, "cli");
  });

  test("a suspended remote account is refused, its follows and content purged; its server's other accounts are not", async () => {
    const troll = elsewhere.account("troll");
    const olga = elsewhere.account("olga");
    await followedBy("alice", troll);
    const trollNote = createNote(troll, "troll post", { cc: [troll.followers, aliceUri()] });
    await deliverOk(trollNote, troll);
    await eventually("troll's note", () => postByUri(String((trollNote.object as Json).id)));
    const trollId = (await actorId(troll.id))!;
    assert.equal(await followsOf(trollId), 1);

    const path = `/api/v1/clique/moderation/remote_accounts/${trollId}/suspend`;
    assert.equal(
      (await call("bob", "POST", path, { reason: "abuse" })).status,
      403,
      "a member may not",
    );
    assert.equal((await call("dave", "POST", path, {})).status, 422, "a suspension says why");
    const suspended = await ok("dave", "POST", path, { reason: "abuse" });
    assert.equal(suspended.suspended, true);
    assert.equal((suspended.purged as Json).posts, 1);
    assert.equal((suspended.account as Json).id, trollId);
    assert.deepEqual(await postsBy(troll.id), []);
    assert.equal(await followsOf(trollId), 0);

    const again = await deliver(inbox(), createNote(troll, "troll again", { cc: [aliceUri()] }), {
      as: troll,
    });
    assert.equal(again.status, 403);
    const follow = await deliver(inbox(), activity(troll, "Follow", aliceUri()), { as: troll });
    assert.equal(follow.status, 403);
    assert.equal(await followsOf(trollId), 0);
    assert.equal((await fetchAs(`${clique().url}/users/alice`, troll)).status, 404);
    // olga lives on the same server and is not touched.
    assert.equal((await fetchAs(`${clique().url}/users/alice`, olga)).status, 200);
    const olgaNote = createNote(olga, "olga is fine", { cc: [aliceUri()] });
    await deliverOk(olgaNote, olga);
    await eventually("olga's note", () => postByUri(String((olgaNote.object as Json).id)));

    const list = (await ok(
      "dave",
      "GET",
      "/api/v1/clique/moderation/remote_accounts",
    )) as unknown as Json[];
    assert.deepEqual(
      list.map((e) => [(e.account as Json).id, (e.suspended as Json)?.reason, e.silenced]),
      [[trollId, "abuse", null]],
    );
    const [entry] = await audit("remote.suspend");
    assert.equal(entry?.actor_id, ids.dave);
    assert.equal(entry?.subject, trollId);

    // Lifted: it is let in again (what was purged stays gone).
    await ok("dave", "POST", `/api/v1/clique/moderation/remote_accounts/${trollId}/unsuspend`, {
      reason: "appealed",
    });
    const back = createNote(troll, "troll is back", { cc: [aliceUri()] });
    await deliverOk(back, troll);
    await eventually("troll's note after the suspension", () =>
      postByUri(String((back.object as Json).id)),
    );
    assert.equal((await audit("remote.unsuspend"))[0]?.reason, "appealed");
  });

  test("a silenced remote account reaches only its followers, until the silence is lifted", async () => {
    const sam = elsewhere.account("sam");
    await follow("alice", elsewhere, sam);
    const samId = (await actorId(sam.id))!;
    await ok("dave", "POST", `/api/v1/clique/moderation/remote_accounts/${samId}/silence`, {
      reason: "noisy",
    });
    const note = createNote(sam, "sam speaks");
    await deliverOk(note, sam);
    const stored = await eventually("sam's note", () =>
      postByUri(String((note.object as Json).id)),
    );
    assert.equal(await statusCode("alice", stored.id), 200);
    assert.equal(await statusCode("bob", stored.id), 404);
    assert.equal(await statusCode(null, stored.id), 404);
    await ok("dave", "POST", `/api/v1/clique/moderation/remote_accounts/${samId}/unsilence`, {});
    assert.equal(await statusCode("bob", stored.id), 200);
    assert.equal(await statusCode(null, stored.id), 200);
    assert.equal((await audit("remote.silence"))[0]?.reason, "noisy");
  });

  test("rejecting a remote account's pending follows sends its server a Reject for each", async () => {
    const eager = elsewhere.account("eager");
    await ok("bob", "PATCH", "/api/v1/accounts/update_credentials", { locked: true });
    const follow = activity(eager, "Follow", `${clique().origin}/users/bob`);
    await deliverOk(follow, eager);
    const request = await eventually("eager's follow request", async () =>
      ((await ok("bob", "GET", "/api/v1/follow_requests")) as unknown as Json[]).find((a) =>
        String(a.acct).startsWith("eager@"),
      ),
    );
    const rejected = await ok(
      "dave",
      "POST",
      `/api/v1/clique/moderation/remote_accounts/${request.id}/reject_follows`,
      {},
    );
    assert.equal(rejected.rejected_follows, 1);
    assert.deepEqual(
      ((await ok("bob", "GET", "/api/v1/follow_requests")) as unknown as Json[]).filter((a) =>
        String(a.acct).startsWith("eager@"),
      ),
      [],
    );
    const reject = await elsewhere.waitFor(
      (r) => r.inbox && typeOf(r.json) === "Reject" && r.body.includes(String(follow.id)),
      { what: "a Reject of eager's Follow" },
    );
    assert.equal(idOf(((reject.json as Json).object as Json).actor), eager.id);
  });

  test("the Mastodon admin domain blocks API: silence, then suspend, then lift", async () => {
    const host = "mastodon-api.example";
    assert.equal(
      (await call("dave", "POST", "/api/v1/admin/domain_blocks", { domain: host })).status,
      403,
    );
    const made = await ok("alice", "POST", "/api/v1/admin/domain_blocks", {
      domain: host,
      severity: "silence",
      private_comment: "watch it",
      reject_media: false,
    });
    assert.equal(made.domain, host);
    assert.equal(made.severity, "silence");
    assert.equal(made.private_comment, "watch it");
    assert.equal(made.reject_media, false);
    const twice = await call("alice", "POST", "/api/v1/admin/domain_blocks", { domain: host });
    assert.equal(twice.status, 422, "Mastodon changes a block with PUT");
    const partial = await call("alice", "PUT", `/api/v1/admin/domain_blocks/${made.id}`, {
      reject_media: true,
    });
    assert.equal(partial.status, 422, "rejecting media alone is not something Clique does");
    const listed = (await ok("alice", "GET", "/api/v1/admin/domain_blocks")) as unknown as Json[];
    assert.deepEqual(listed.map((b) => b.domain).sort(), [host, loud.host, spam.host].sort());
    const suspended = await ok("alice", "PUT", `/api/v1/admin/domain_blocks/${made.id}`, {
      severity: "suspend",
    });
    assert.equal(suspended.severity, "suspend");
    assert.equal(suspended.reject_reports, true);
    assert.equal(
      (await ok("alice", "GET", `/api/v1/admin/domain_blocks/${made.id}`)).severity,
      "suspend",
    );
    assert.deepEqual(await ok("alice", "DELETE", `/api/v1/admin/domain_blocks/${made.id}`), {});
    assert.equal(
      (await call("alice", "GET", `/api/v1/admin/domain_blocks/${made.id}`)).status,
      404,
    );
    const entries = (await audit("domain.block")).filter((e) => e.subject === host);
    assert.equal(entries[0]?.details.previous, "limit");
    assert.equal((await audit("domain.unblock")).filter((e) => e.subject === host).length, 1);
  });

  test("unblocking lets the server back in: its activities are accepted, its fetches answered, its accounts found", async () => {
    const mallory = spam.account("mallory");
    const lifted = await ok(
      "alice",
      "DELETE",
      `/api/v1/clique/domains?domain=${encodeURIComponent(spam.host)}&reason=${encodeURIComponent("they cleaned up")}`,
    );
    assert.equal((lifted.lifted as Json).severity, "block");
    assert.equal(
      (await call("alice", "DELETE", `/api/v1/clique/domains?domain=${spam.host}`)).status,
      404,
    );
    const note = createNote(mallory, "we are better now", { cc: [aliceUri()] });
    await deliverOk(note, mallory);
    await eventually("mallory's note after the unblock", () =>
      postByUri(String((note.object as Json).id)),
    );
    const fetched = await fetchAs(
      `${aliceUri()}/statuses/${state.alicePost}`.replace(clique().origin, clique().url),
      mallory,
    );
    assert.equal(fetched.status, 200);
    const found = await resolve("bob", spam.account("mike").id);
    assert.equal(found.length, 1);
    // The block's follows are not restored: members follow again if they wish.
    assert.equal(await followsOf(state.mallory), 0);
    assert.equal(
      (await audit("domain.unblock")).find((e) => e.subject === spam.host)?.reason,
      "they cleaned up",
    );
  });

  test("the CLI lifts a limit and refuses what it cannot do, and the server hears of it", async () => {
    const unblocked = await runCliOk(["domain", "unblock", loud.host, "--reason", "calmer"], {
      env,
    });
    assert.match(unblocked, /Lifted the limit of/);
    const missing = await runCli(["domain", "unblock", loud.host], { env });
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /neither blocked nor limited/);
    const self = await runCli(
      ["domain", "block", new URL(clique().origin).host, "--reason", "oops"],
      { env },
    );
    assert.notEqual(self.code, 0);
    assert.match(self.stderr, /block this Clique itself/);
    const asBob = await runCli(["domain", "block", "x.example", "--reason", "r", "--by", "bob"], {
      env,
    });
    assert.notEqual(asBob.code, 0, asBob.stdout);
    // lena's posts reach everyone again (the visibility rules read the decisions live).
    const shout = await postsBy(loud.account("lena").id);
    assert.equal(shout.length, 2);
    for (const post of shout.filter((p) => p.content_html.includes("shouts")))
      assert.equal(await statusCode("bob", post.id), 200);
    // And the edge heard: a fetch signed by a server blocked and unblocked by the CLI in turn.
    await runCliOk(["domain", "block", elsewhere.host, "--reason", "for a moment"], { env });
    await eventually(
      "the server to hear of the CLI's block",
      async () =>
        (await fetchAs(`${clique().url}/users/alice`, elsewhere.account("olga"))).status === 404,
    );
    await runCliOk(["domain", "unblock", elsewhere.host], { env });
    await eventually(
      "the server to hear of the CLI's unblock",
      async () =>
        (await fetchAs(`${clique().url}/users/alice`, elsewhere.account("olga"))).status === 200,
    );
  });
});
