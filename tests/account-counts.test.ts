/**
 * Counts are part of what a viewer sees: an account's `statuses_count` and
 * `last_status_at` and a status's `replies_count` must tell each viewer only
 * about posts it may read (counting a circle post for everyone would let
 * anyone watch a member write to her circle), and `reblogs_count` must count
 * the boosts Clique stored. Through a real server process, real HTTP, and a
 * fake remote server (a plain `node:http` server) whose accounts boost.
 *
 * dana writes only to her circle "close", which holds bob; carol is a member
 * outside the circle.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
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
import { deliver, eventually, jsonOrNull } from "./support/mastodon-signing.ts";

const AS = "https://www.w3.org/ns/activitystreams";
const MEMBERS = ["alice", "bob", "carol", "dana"] as const;
type Name = (typeof MEMBERS)[number];
type Who = Name | "anonymous";
type Json = Record<string, unknown>;

interface Account {
  id: string;
  statuses_count: number;
  last_status_at: string | null;
}
interface Status {
  id: string;
  uri: string;
  created_at: string;
  audience: string;
  replies_count: number;
  reblogs_count: number;
  reblogged: boolean;
  account: Account;
}

let db: TestDatabase | undefined;
let server: ServerProcess | undefined;
let remote: FakeRemote | undefined;
const tokens = {} as Record<Name, string>;
const ids = {} as Record<Name, string>;

before(async () => {
  remote = await startFakeRemote({ usernames: ["booster1", "booster2"] });
  db = await createTestDatabase();
  const env = { ...process.env, DATABASE_URL: db.url, CLIQUE_ALLOW_PRIVATE_ADDRESS: "true" };
  await runCliOk(["init", "--name", "Counts", "--owner", "alice", "--password-stdin"], {
    env,
    stdin: "alice-password-1",
  });
  const code = lastLine(await runCliOk(["invite", "create", "--by", "alice"], { env }));
  for (const name of ["bob", "carol", "dana"] as const)
    await runCliOk(["invite", "redeem", code, "--username", name, "--password-stdin"], {
      env,
      stdin: `${name}-password-123`,
    });
  server = await startServerProcess({ env, databaseUrl: db.url });
  for (const name of MEMBERS) {
    tokens[name] = lastLine(await runCliOk(["token", "create", name], { env }));
    ids[name] = (await ok<Account>("GET", "/api/v1/accounts/verify_credentials", name)).id;
  }
});

after(async () => {
  if (server && / ERR clique/.test(server.output())) console.error(server.output());
  await server?.stop();
  await remote?.close();
  await db?.drop();
  await stopEmbeddedTestServer();
});

async function call<T = Json>(method: string, path: string, who: Who, body?: unknown) {
  assert.ok(server, "the server is running");
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: {
      ...(who === "anonymous" ? {} : { authorization: `Bearer ${tokens[who]}` }),
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: jsonOrNull<T>(text) as T, text };
}

async function ok<T = Json>(method: string, path: string, who: Who, body?: unknown): Promise<T> {
  const r = await call<T>(method, path, who, body);
  assert.ok(
    r.status >= 200 && r.status < 300,
    `${method} ${path} as ${who}: ${r.status} ${r.text}`,
  );
  return r.body;
}

/** `statuses_count` and `last_status_at` of an account, as they read. */
function counts(account: Account) {
  return { statuses_count: account.statuses_count, last_status_at: account.last_status_at };
}

const day = (iso: string) => iso.slice(0, 10);

describe("an account's post counts follow the viewer", () => {
  let circlePost: Status;

  before(async () => {
    const circle = await ok<{ id: string }>("POST", "/api/v1/clique/circles", "dana", {
      name: "close",
      member_ids: [ids.bob],
    });
    circlePost = await ok<Status>("POST", "/api/v1/statuses", "dana", {
      status: "only for my circle",
      audience: "circle",
      circle_id: circle.id,
    });
    assert.equal(circlePost.audience, "circle");
  });

  test("the status just written already counts in its own account", () => {
    // The author sees her own post: the response must not be stale (it said 0).
    assert.deepEqual(counts(circlePost.account), {
      statuses_count: 1,
      last_status_at: day(circlePost.created_at),
    });
  });

  test("anonymous and a member outside the circle see no posts and no date", async () => {
    for (const who of ["anonymous", "carol"] as const) {
      const none = { statuses_count: 0, last_status_at: null };
      const account = await ok<Account>("GET", `/api/v1/accounts/${ids.dana}`, who);
      assert.deepEqual(counts(account), none, `${who}: the account`);
      const lookup = await ok<Account>("GET", "/api/v1/accounts/lookup?acct=dana", who);
      assert.deepEqual(counts(lookup), none, `${who}: lookup`);
      const search = await ok<{ accounts: Account[] }>("GET", "/api/v2/search?q=dana", who);
      assert.deepEqual(search.accounts.map(counts), [none], `${who}: search`);
    }
    const members = await ok<Account[]>("GET", "/api/v1/clique/members", "carol");
    assert.deepEqual(
      counts(members.find((m) => m.id === ids.dana)!),
      { statuses_count: 0, last_status_at: null },
      "carol: the member list",
    );
  });

  test("dana herself and bob, in her circle, see the post counted", async () => {
    const one = { statuses_count: 1, last_status_at: day(circlePost.created_at) };
    const me = await ok<Account>("GET", "/api/v1/accounts/verify_credentials", "dana");
    assert.deepEqual(counts(me), one, "dana: verify_credentials");
    for (const who of ["dana", "bob"] as const) {
      const account = await ok<Account>("GET", `/api/v1/accounts/${ids.dana}`, who);
      assert.deepEqual(counts(account), one, `${who}: the account`);
      const members = await ok<Account[]>("GET", "/api/v1/clique/members", who);
      assert.deepEqual(counts(members.find((m) => m.id === ids.dana)!), one, `${who}: members`);
    }
    // The account embedded in a status carries the same numbers (it said 0).
    const [seen] = await ok<Status[]>("GET", `/api/v1/accounts/${ids.dana}/statuses`, "bob");
    assert.equal(seen?.id, circlePost.id);
    assert.deepEqual(counts(seen.account), one, "bob: the account in dana's status");
    const home = await ok<Status[]>("GET", "/api/v1/timelines/home", "bob");
    const inHome = home.find((s) => s.id === circlePost.id);
    assert.ok(inHome, "dana's circle post is in bob's home timeline");
    assert.deepEqual(counts(inHome.account), one, "bob: the account in his home timeline");
  });

  test("followers and following lists render accounts with the viewer's counts", async () => {
    // bob follows dana (members approve followers by default) and she approves.
    await ok("POST", `/api/v1/accounts/${ids.dana}/follow`, "bob");
    await ok("POST", `/api/v1/follow_requests/${ids.bob}/authorize`, "dana");
    await ok("PATCH", "/api/v1/clique/profile", "bob", { follows_audience: "public" });
    const following = async (who: Who) =>
      (await ok<Account[]>("GET", `/api/v1/accounts/${ids.bob}/following`, who)).map(counts);
    assert.deepEqual(await following("anonymous"), [{ statuses_count: 0, last_status_at: null }]);
    assert.deepEqual(await following("bob"), [
      { statuses_count: 1, last_status_at: day(circlePost.created_at) },
    ]);
  });
});

describe("a status's replies and boosts", () => {
  let post: Status;

  before(async () => {
    post = await ok<Status>("POST", "/api/v1/statuses", "bob", {
      status: "who is coming on Sunday?",
      visibility: "public",
    });
    // carol answers for the Clique only; dana answers in her circle (bob is in it).
    const circle = (
      await ok<{ id: string; name: string }[]>("GET", "/api/v1/clique/circles", "dana")
    ).find((c) => c.name === "close");
    assert.ok(circle, "dana's circle");
    const cliqueReply = await ok<Status>("POST", "/api/v1/statuses", "carol", {
      status: "me!",
      in_reply_to_id: post.id,
      audience: "clique",
    });
    assert.equal(cliqueReply.audience, "clique");
    const circleReply = await ok<Status>("POST", "/api/v1/statuses", "dana", {
      status: "me too, quietly",
      in_reply_to_id: post.id,
      audience: "circle",
      circle_id: circle.id,
    });
    assert.equal(circleReply.audience, "circle");
  });

  test("replies_count counts only the replies the viewer may read", async () => {
    const expected: Record<Who, number> = { anonymous: 0, alice: 1, carol: 1, bob: 2, dana: 2 };
    for (const [who, replies] of Object.entries(expected) as [Who, number][]) {
      const status = await ok<Status>("GET", `/api/v1/statuses/${post.id}`, who);
      assert.equal(status.replies_count, replies, `${who}: the status`);
      // The same through a list (counted for the whole page at once).
      const list = await ok<Status[]>("GET", `/api/v1/accounts/${ids.bob}/statuses`, who);
      assert.equal(
        list.find((s) => s.id === post.id)?.replies_count,
        replies,
        `${who}: bob's statuses`,
      );
    }
  });

  test("dana's circle reply counts for her only where the viewer may read it", async () => {
    for (const [who, posts] of [
      ["anonymous", 0],
      ["carol", 0],
      ["bob", 2],
      ["dana", 2],
    ] as const) {
      const account = await ok<Account>("GET", `/api/v1/accounts/${ids.dana}`, who);
      assert.equal(account.statuses_count, posts, who);
    }
  });

  test("reblogs_count counts the boosts other servers sent", async () => {
    assert.ok(remote, "the fake remote is running");
    const fake = remote;
    for (const name of ["booster1", "booster2"]) {
      const account = fake.account(name);
      const sent = await deliver(
        `${server!.origin}/inbox`,
        {
          "@context": AS,
          id: `${account.id}/statuses/${randomUUID()}/activity`,
          type: "Announce",
          actor: account.id,
          object: post.uri,
          to: [`${AS}#Public`],
          cc: [account.followers],
          published: new Date().toISOString(),
        },
        { as: account },
      );
      assert.equal(sent.status, 202, sent.text);
    }
    // The inbox is a queue: wait until both are stored.
    const boosted = await eventually("both boosts", async () => {
      const status = await ok<Status>("GET", `/api/v1/statuses/${post.id}`, "anonymous");
      return status.reblogs_count === 2 ? status : null;
    });
    assert.equal(boosted.reblogged, false);
    for (const who of ["bob", "carol"] as const) {
      const status = await ok<Status>("GET", `/api/v1/statuses/${post.id}`, who);
      assert.equal(status.reblogs_count, 2, who);
      assert.equal(status.reblogged, false, who);
      const [inList] = (
        await ok<Status[]>("GET", `/api/v1/accounts/${ids.bob}/statuses`, who)
      ).filter((s) => s.id === post.id);
      assert.equal(inList?.reblogs_count, 2, `${who}: bob's statuses`);
    }
  });
});

describe("the instance's numbers", () => {
  test("status_count counts only posts anyone may read", async () => {
    // bob's public post is the only one of this world that is open to everyone.
    const instance = await ok<{ stats: { status_count: number } }>(
      "GET",
      "/api/v1/instance",
      "anonymous",
    );
    assert.equal(instance.stats.status_count, 1);
  });
});
