/**
 * The Mastodon-compatible API through a real Mastodon client library (masto)
 * against a real server process: what third-party apps will see, including who
 * may see which post.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  createTestDatabase,
  lastLine,
  runCliOk,
  type ServerProcess,
  startServerProcess,
  stopEmbeddedTestServer,
  type TestDatabase,
} from "@clique/testing";
import { createRestAPIClient, MastoHttpError, type mastodon } from "masto";

/** A status with Clique's extensions (masto camel-cases them). */
type CliqueStatus = mastodon.v1.Status & { audience: string; circleId: string | null };
type CreateParams = mastodon.rest.v1.CreateStatusParams;

const PASSWORDS = { alice: "alice-password-1", bob: "bob-password-22", carol: "carol-password-3" };

let db: TestDatabase | undefined;
let server: ServerProcess | undefined;
let alice: mastodon.rest.Client;
let bob: mastodon.rest.Client;
let carol: mastodon.rest.Client;
let anonymous: mastodon.rest.Client;
const ids = { alice: "", bob: "", carol: "" };
const tokens = { alice: "", bob: "", carol: "" };

before(async () => {
  db = await createTestDatabase();
  const env = { ...process.env, DATABASE_URL: db.url };
  // The server starts while the CLI sets the Clique up, as it may in real life.
  const starting = startServerProcess({ env, databaseUrl: db.url });
  const setUp = (async () => {
    await runCliOk(["init", "--name", "API Test", "--owner", "alice", "--password-stdin"], {
      env,
      stdin: PASSWORDS.alice,
    });
    const code = lastLine(await runCliOk(["invite", "create", "--by", "alice"], { env }));
    await Promise.all(
      (["bob", "carol"] as const).map((name) =>
        runCliOk(["invite", "redeem", code, "--username", name, "--password-stdin"], {
          env,
          stdin: PASSWORDS[name],
        }),
      ),
    );
  })();
  const [started, done] = await Promise.allSettled([starting, setUp]);
  // Kept even when the set-up failed, so that after() stops it.
  if (started.status === "fulfilled") server = started.value;
  for (const outcome of [started, done]) if (outcome.status === "rejected") throw outcome.reason;
  const url = server!.url;
  // Tokens are made while the server runs, as an operator would.
  const [a, b, c] = await Promise.all(
    (["alice", "bob", "carol"] as const).map(async (name) =>
      lastLine(await runCliOk(["token", "create", name], { env })),
    ),
  );
  Object.assign(tokens, { alice: a, bob: b, carol: c });
  alice = createRestAPIClient({ url, accessToken: tokens.alice });
  bob = createRestAPIClient({ url, accessToken: tokens.bob });
  carol = createRestAPIClient({ url, accessToken: tokens.carol });
  anonymous = createRestAPIClient({ url });
  ids.alice = (await alice.v1.accounts.verifyCredentials()).id;
  ids.bob = (await bob.v1.accounts.verifyCredentials()).id;
  ids.carol = (await carol.v1.accounts.verifyCredentials()).id;
});

after(async () => {
  // Server-side errors explain failures that the client only sees as a 500.
  if (server && / ERR clique/.test(server.output())) console.error(server.output());
  await server?.stop();
  await db?.drop();
  await stopEmbeddedTestServer();
});

async function post(client: mastodon.rest.Client, params: Record<string, unknown>) {
  return (await client.v1.statuses.create(params as unknown as CreateParams)) as CliqueStatus;
}

function isHttpError(status: number) {
  return (error: unknown) => {
    assert.ok(error instanceof MastoHttpError, `expected an HTTP error, got ${String(error)}`);
    assert.equal(error.statusCode, status, error.message);
    return true;
  };
}

/** Plain text of a status's HTML, for assertions on what people read. */
function text(status: { content: string }): string {
  return status.content
    .replace(/<[^>]+>/g, "")
    .replaceAll("&amp;", "&")
    .replaceAll("&#39;", "'")
    .replaceAll("&quot;", '"')
    .trim();
}

async function fetchJson(path: string, token?: string) {
  const response = await fetch(`${server!.url}${path}`, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe("accounts and instance", () => {
  test("verify_credentials describes the token's owner", async () => {
    const me = (await alice.v1.accounts.verifyCredentials()) as mastodon.v1.CredentialAccount & {
      cliqueRole: string;
    };
    assert.equal(me.username, "alice");
    assert.equal(me.acct, "alice");
    assert.equal(me.cliqueRole, "owner");
    assert.equal(me.url, `${server!.origin}/@alice`);
    assert.ok(me.source, "verify_credentials carries the source");
    const bobMe = await bob.v1.accounts.verifyCredentials();
    assert.equal(bobMe.username, "bob");
    assert.notEqual(bobMe.id, me.id);
  });

  test("lookup finds members by acct, with or without the local domain", async () => {
    const found = await alice.v1.accounts.lookup({ acct: "bob" });
    assert.equal(found.id, ids.bob);
    assert.equal(found.username, "bob");
    const host = new URL(server!.origin).host;
    assert.equal((await anonymous.v1.accounts.lookup({ acct: `carol@${host}` })).id, ids.carol);
    await assert.rejects(alice.v1.accounts.lookup({ acct: "nobody" }), isHttpError(404));
    await assert.rejects(
      alice.v1.accounts.lookup({ acct: "bob@elsewhere.example" }),
      isHttpError(404),
    );
  });

  test("instance v1 and v2 describe this Clique", async () => {
    const v1 = await anonymous.v1.instance.fetch();
    assert.equal(v1.title, "API Test");
    assert.equal(v1.uri, new URL(server!.origin).host);
    assert.equal(v1.stats.userCount, 3);
    assert.equal(v1.registrations, false);
    assert.equal(v1.contactAccount?.username, "alice");

    const v2 = (await anonymous.v2.instance.fetch()) as mastodon.v2.Instance & {
      clique: { memberCap: number; members: number };
    };
    assert.equal(v2.title, "API Test");
    assert.equal(v2.domain, new URL(server!.origin).host);
    assert.equal(v2.registrations.enabled, false);
    assert.equal(v2.usage.users.activeMonth, 3);
    assert.equal(v2.contact.account?.username, "alice");
    assert.deepEqual(v2.clique, { memberCap: 50, members: 3 });
  });
});

describe("statuses", () => {
  test("each Mastodon visibility is kept and shown back", async () => {
    for (const visibility of ["public", "unlisted", "private", "direct"] as const) {
      const status = await post(alice, {
        status: `A ${visibility} hello to @carol`,
        visibility,
      });
      assert.equal(status.visibility, visibility);
      assert.equal(text(status), `A ${visibility} hello to @carol`);
      assert.equal(status.account.id, ids.alice);
      assert.deepEqual(
        status.mentions.map((m) => m.acct),
        ["carol"],
      );
      // Mastodon's "private" is Clique's followers-only.
      assert.equal(status.audience, visibility === "private" ? "followers" : visibility);
      const read = (await alice.v1.statuses.$select(status.id).fetch()) as CliqueStatus;
      assert.equal(read.id, status.id);
      assert.equal(read.content, status.content);
    }
  });

  test("the audience extension: Clique-only and circle posts", async () => {
    const clique = await post(alice, { status: "Only for the Clique", audience: "clique" });
    assert.equal(clique.audience, "clique");
    assert.equal(clique.visibility, "private");
    assert.equal(clique.circleId, null);

    const circle = await createCircle(tokens.alice, "Close friends", [ids.carol]);
    const inCircle = await post(alice, {
      status: "Circle news",
      audience: "circle",
      circleId: circle.id,
    });
    assert.equal(inCircle.audience, "circle");
    assert.equal(inCircle.circleId, circle.id);
    assert.equal(inCircle.visibility, "private");
    assert.equal(text(inCircle), "Circle news");

    // A circle post names its circle; someone else's circle is not usable.
    await assert.rejects(
      post(alice, { status: "No circle", audience: "circle" }),
      isHttpError(422),
    );
    const bobsCircle = await createCircle(tokens.bob, "Bob's", [ids.alice]);
    await assert.rejects(
      post(alice, { status: "Borrowed", audience: "circle", circleId: bobsCircle.id }),
      isHttpError(404),
    );
  });

  test("edit keeps the history; source gives the text back", async () => {
    const original = await post(alice, { status: "First draft", visibility: "public" });
    assert.equal(original.editedAt, null);
    const edited = (await alice.v1.statuses
      .$select(original.id)
      .update({ status: "Second draft", spoilerText: "drafts" })) as CliqueStatus;
    assert.equal(edited.id, original.id);
    assert.equal(text(edited), "Second draft");
    assert.equal(edited.spoilerText, "drafts");
    assert.ok(edited.editedAt, "edited_at is set");

    const read = await anonymous.v1.statuses.$select(original.id).fetch();
    assert.equal(text(read), "Second draft");

    const history = await alice.v1.statuses.$select(original.id).history.list();
    assert.deepEqual(
      history.map((h) => text(h)),
      ["First draft", "Second draft"],
    );
    assert.equal(history[0]!.account.id, ids.alice);

    const source = await alice.v1.statuses.$select(original.id).source.fetch();
    assert.equal(source.text, "Second draft");
    assert.equal(source.spoilerText, "drafts");

    // Only the author edits.
    await assert.rejects(
      bob.v1.statuses.$select(original.id).update({ status: "Hijacked" }),
      isHttpError(403),
    );
    assert.equal(text(await bob.v1.statuses.$select(original.id).fetch()), "Second draft");
  });

  test("context shows a reply below its parent and the parent above the reply", async () => {
    const parent = await post(alice, { status: "What shall we eat?", visibility: "public" });
    const reply = await post(bob, {
      status: "@alice Pancakes",
      visibility: "public",
      inReplyToId: parent.id,
    });
    assert.equal(reply.inReplyToId, parent.id);
    assert.equal(reply.inReplyToAccountId, ids.alice);

    const below = await anonymous.v1.statuses.$select(parent.id).context.fetch();
    assert.deepEqual(below.ancestors, []);
    assert.deepEqual(
      below.descendants.map((s) => [s.id, text(s)]),
      [[reply.id, "@alice Pancakes"]],
    );
    const above = await alice.v1.statuses.$select(reply.id).context.fetch();
    assert.deepEqual(
      above.ancestors.map((s) => [s.id, text(s)]),
      [[parent.id, "What shall we eat?"]],
    );
    assert.deepEqual(above.descendants, []);
  });

  test("a reply to a Clique-only post stays in the Clique", async () => {
    const parent = await post(alice, { status: "Members only thread", audience: "clique" });
    const reply = await post(bob, { status: "Members only answer", inReplyToId: parent.id });
    assert.equal(reply.audience, "clique");
    await assert.rejects(anonymous.v1.statuses.$select(reply.id).fetch(), isHttpError(404));
  });

  test("a Mastodon client replies to a followers-only post as Mastodon would let it", async () => {
    // carol follows alice (members approve followers by hand).
    await carol.v1.accounts.$select(ids.alice).follow();
    await alice.v1.followRequests.$select(ids.carol).authorize();
    const parent = await post(alice, { status: "For my followers", visibility: "private" });
    assert.equal(parent.audience, "followers");
    // What every Mastodon client sends: `private`, meaning the replier's own followers.
    const reply = await post(carol, {
      status: "Reply from an app",
      visibility: "private",
      inReplyToId: parent.id,
    });
    assert.equal(reply.visibility, "private");
    assert.equal(reply.audience, "followers", "it stays with the post it answers");
    assert.equal(reply.inReplyToId, parent.id);
    // Whoever may see alice's post sees the reply, alice first; nobody else does.
    assert.equal(text(await alice.v1.statuses.$select(reply.id).fetch()), "Reply from an app");
    await assert.rejects(bob.v1.statuses.$select(reply.id).fetch(), isHttpError(404));
    await assert.rejects(anonymous.v1.statuses.$select(reply.id).fetch(), isHttpError(404));
    // Clique's own clients, which choose `audience`, are asked to confirm instead.
    const asked = await fetch(`${server!.url}/api/v1/statuses`, {
      method: "POST",
      headers: { authorization: `Bearer ${tokens.carol}`, "content-type": "application/json" },
      body: JSON.stringify({ status: "Loud", audience: "public", in_reply_to_id: parent.id }),
    });
    const refusal = (await asked.json()) as { error: string; code: string };
    assert.equal(asked.status, 422);
    assert.equal(refusal.code, "audience_wider_than_parent");
    assert.equal(
      refusal.error,
      "Your reply (public) would reach people who cannot see the post it answers (@alice's followers). Choose the same audience, or confirm.",
    );
    await carol.v1.accounts.$select(ids.alice).unfollow();
  });

  test("a post without a visibility gets the member's default, set like Mastodon's", async () => {
    const me = await carol.v1.accounts.verifyCredentials();
    assert.equal(me.source.privacy, "private", "a new Clique defaults to the Clique itself");
    assert.equal((me.source as unknown as { audience: string }).audience, "clique");
    const quiet = await post(carol, { status: "No visibility given" });
    assert.equal(quiet.audience, "clique");
    await assert.rejects(anonymous.v1.statuses.$select(quiet.id).fetch(), isHttpError(404));
    const changed = await carol.v1.accounts.updateCredentials({ source: { privacy: "unlisted" } });
    assert.equal(changed.source.privacy, "unlisted");
    const open = await post(carol, { status: "Now unlisted by default" });
    assert.equal(open.audience, "unlisted");
    assert.equal(
      text(await anonymous.v1.statuses.$select(open.id).fetch()),
      "Now unlisted by default",
    );
    await carol.v1.accounts.updateCredentials({ source: { privacy: "private" } });
    assert.equal((await post(carol, { status: "Followers now" })).audience, "followers");
  });

  test("delete returns the status with its source text, then it is gone", async () => {
    const status = await post(alice, { status: "Oops, *typo*", visibility: "public" });
    const deleted = (await alice.v1.statuses.$select(status.id).remove()) as CliqueStatus & {
      text: string;
    };
    assert.equal(deleted.id, status.id);
    assert.equal(deleted.text, "Oops, *typo*");
    await assert.rejects(alice.v1.statuses.$select(status.id).fetch(), isHttpError(404));
    await assert.rejects(anonymous.v1.statuses.$select(status.id).fetch(), isHttpError(404));
    await assert.rejects(alice.v1.statuses.$select(status.id).remove(), isHttpError(404));
  });

  test("only the author deletes", async () => {
    const status = await post(alice, { status: "Mine to delete", visibility: "public" });
    await assert.rejects(bob.v1.statuses.$select(status.id).remove(), isHttpError(403));
    assert.equal(text(await bob.v1.statuses.$select(status.id).fetch()), "Mine to delete");
  });
});

describe("timelines", () => {
  test("home timeline pages through everything once, newest first", async () => {
    const made: string[] = [];
    for (let i = 1; i <= 5; i++) {
      made.push((await post(carol, { status: `Page post ${i}`, visibility: "public" })).id);
    }
    const whole = await carol.v1.timelines.home.list({ limit: 40 });
    assert.deepEqual(
      whole.slice(0, 5).map((s) => text(s)),
      ["Page post 5", "Page post 4", "Page post 3", "Page post 2", "Page post 1"],
    );

    // masto follows the Link headers.
    const pages: string[][] = [];
    for await (const page of carol.v1.timelines.home.list({ limit: 2 })) {
      pages.push(page.map((s) => s.id));
      assert.ok(pages.length < 100, "pagination does not end");
    }
    assert.ok(pages.length >= 3, `expected several pages, got ${pages.length}`);
    // Full pages, then the rest, then an empty page without a next link.
    assert.deepEqual(pages.at(-1), []);
    const filled = pages.slice(0, -1);
    for (const page of filled.slice(0, -1)) assert.equal(page.length, 2);
    assert.ok(filled.at(-1)!.length >= 1);
    const seen = pages.flat();
    assert.deepEqual(
      seen,
      whole.map((s) => s.id),
    );
    assert.equal(new Set(seen).size, seen.length, "no status appears twice");
    assert.deepEqual([...seen].sort().reverse(), seen, "newest first (ids are time-ordered)");

    // Explicit cursors, as clients also use them.
    const older = await carol.v1.timelines.home.list({ maxId: made[2], limit: 2 });
    assert.deepEqual(
      older.map((s) => s.id),
      [made[1], made[0]],
    );
    const newer = await carol.v1.timelines.home.list({ minId: made[2], limit: 2 });
    assert.deepEqual(newer.map((s) => s.id).sort(), [made[3], made[4]].sort());
    const since = await carol.v1.timelines.home.list({ sinceId: made[3], limit: 40 });
    assert.deepEqual(
      since.map((s) => s.id),
      [made[4]],
    );
  });

  test("home needs a signed-in member", async () => {
    await assert.rejects(async () => await anonymous.v1.timelines.home.list(), isHttpError(401));
  });
});

describe("privacy through the API", () => {
  const posts: Record<string, CliqueStatus> = {};

  before(async () => {
    const circle = await createCircle(tokens.alice, "Just Carol", [ids.carol]);
    const make = async (name: string, params: Record<string, unknown>) => {
      posts[name] = await post(alice, { status: `Secret of kind ${name}`, ...params });
    };
    await make("public", { visibility: "public" });
    await make("unlisted", { visibility: "unlisted" });
    await make("clique", { audience: "clique" });
    await make("followers", { visibility: "private" });
    await make("direct", { visibility: "direct", status: "@carol Secret of kind direct" });
    await make("circle", { audience: "circle", circleId: circle.id });
  });

  const expected: Record<string, readonly string[]> = {
    anonymous: ["public", "unlisted"],
    bob: ["public", "unlisted", "clique"],
    carol: ["public", "unlisted", "clique", "direct", "circle"],
    alice: ["public", "unlisted", "clique", "followers", "direct", "circle"],
  };

  function clientOf(viewer: string): mastodon.rest.Client {
    return { anonymous, alice, bob, carol }[viewer as "alice"];
  }

  for (const [viewer, visible] of Object.entries(expected)) {
    test(`${viewer} reads exactly ${visible.join(", ")}; the rest is 404`, async () => {
      const client = clientOf(viewer);
      for (const [kind, status] of Object.entries(posts)) {
        if (visible.includes(kind)) {
          const read = await client.v1.statuses.$select(status.id).fetch();
          assert.match(text(read), new RegExp(`Secret of kind ${kind}$`), `${viewer} / ${kind}`);
          const context = await client.v1.statuses.$select(status.id).context.fetch();
          assert.deepEqual(context.ancestors, []);
        } else {
          for (const call of [
            () => client.v1.statuses.$select(status.id).fetch(),
            () => client.v1.statuses.$select(status.id).context.fetch(),
            async () => await client.v1.statuses.$select(status.id).history.list(),
          ]) {
            await assert.rejects(call, isHttpError(404), `${viewer} must not see ${kind}`);
          }
        }
      }
    });

    test(`${viewer} finds the same posts in alice's account statuses`, async () => {
      const listed = await clientOf(viewer).v1.accounts.$select(ids.alice).statuses.list({
        limit: 40,
      });
      const secrets = new Set(Object.values(posts).map((p) => p.id));
      const kinds = listed
        .filter((s) => secrets.has(s.id))
        .map((s) => text(s).replace(/^.*Secret of kind /, ""))
        .sort();
      assert.deepEqual(kinds, [...visible].sort());
    });
  }

  test("an invisible post answers exactly like a missing one", async () => {
    const missing = await fetchJson(
      "/api/v1/statuses/00000000-0000-7000-8000-000000000000",
      tokens.bob,
    );
    const hidden = await fetchJson(`/api/v1/statuses/${posts.followers!.id}`, tokens.bob);
    assert.equal(hidden.status, 404);
    assert.deepEqual(hidden, missing);
    const anonymousDirect = await fetchJson(`/api/v1/statuses/${posts.direct!.id}`);
    assert.deepEqual(anonymousDirect, missing);
  });

  test("bob's home timeline leaves out what he may not see", async () => {
    const home = await bob.v1.timelines.home.list({ limit: 40 });
    const secrets = new Map(Object.entries(posts).map(([kind, p]) => [p.id, kind]));
    const kinds = home
      .map((s) => secrets.get(s.id))
      .filter((k) => k !== undefined)
      .sort();
    assert.deepEqual(kinds, ["clique", "public", "unlisted"]);
  });

  test("carol, addressed directly, has the direct post in her home timeline", async () => {
    const home = await carol.v1.timelines.home.list({ limit: 40 });
    const found = home.find((s) => s.id === posts.direct!.id);
    assert.ok(found, "the direct post is in carol's home");
    assert.equal(found.visibility, "direct");
  });

  test("bob cannot answer a post he cannot see", async () => {
    await assert.rejects(
      post(bob, { status: "Guessing", inReplyToId: posts.circle!.id }),
      isHttpError(404),
    );
  });
});

async function createCircle(token: string, name: string, memberIds: string[]) {
  const response = await fetch(`${server!.url}/api/v1/clique/circles`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({ name, member_ids: memberIds }),
  });
  const body = (await response.json()) as { id: string; name: string; member_ids: string[] };
  assert.equal(response.status, 201, JSON.stringify(body));
  assert.equal(body.name, name);
  assert.deepEqual(body.member_ids, memberIds);
  return body;
}
