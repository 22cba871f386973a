/**
 * What the web UI's "export" and "view as" need of the server, against a
 * real server process:
 *
 * - `GET /api/v1/clique/export`: bob's zip holds his own posts of every
 *   audience (and their audiences), the bytes of his photos, his profile and
 *   a README; nothing of carol's, and not the post a moderator removed nor
 *   the one he deleted;
 * - `GET /api/v1/clique/profile/preview?as=…`: bob's profile and first page
 *   of posts exactly as real viewers get them: anonymous (the account
 *   statuses endpoint, unsigned), a member outside his circles (carol, through
 *   the same endpoint), and a remote follower (rita on a fake server, through
 *   bob's outbox fetched with her signature).
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, afterEach, before, describe, test } from "node:test";
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
import yauzl from "yauzl";
import { deliver, eventually, fetchAs, jsonOrNull } from "./support/mastodon-signing.ts";
import { type MediaAttachment, solidImage, uploadReady } from "./support/media.ts";

const AS = "https://www.w3.org/ns/activitystreams";
const AP = "application/activity+json";

type Json = Record<string, unknown>;
type Name = "alice" | "bob" | "carol";
interface Status {
  id: string;
  uri: string;
  audience: string;
  content: string;
  account: { id: string };
  media_attachments: MediaAttachment[];
}
interface Account {
  id: string;
  username: string;
  note: string;
  fields: { name: string; value: string }[];
  statuses_count: number;
}

let db: TestDatabase | undefined;
let server: ServerProcess | undefined;
let remote: FakeRemote | undefined;
const tokens = {} as Record<Name, string>;
const ids = {} as Record<Name, string>;
let someTestFailed = false;

/** bob's posts by what they are for, as the API returned them when written. */
const posts: Record<string, Status> = {};
let carolsPost: Status | undefined;

function clique(): ServerProcess {
  assert.ok(server, "the Clique server is running");
  return server;
}

async function call(
  method: string,
  path: string,
  as: Name | null,
  body?: unknown,
): Promise<{ status: number; text: string; headers: Headers; bytes: Buffer }> {
  const response = await fetch(`${clique().url}${path}`, {
    method,
    headers: {
      ...(as ? { authorization: `Bearer ${tokens[as]}` } : {}),
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const bytes = Buffer.from(await response.arrayBuffer());
  return {
    status: response.status,
    text: bytes.toString("utf8"),
    headers: response.headers,
    bytes,
  };
}

async function ok<T = Json>(method: string, path: string, as: Name | null, body?: unknown) {
  const got = await call(method, path, as, body);
  assert.ok(got.status >= 200 && got.status < 300, `${method} ${path}: ${got.status} ${got.text}`);
  return JSON.parse(got.text) as T;
}

async function write(key: string, body: Json, as: Name = "bob"): Promise<Status> {
  const status = await ok<Status>("POST", "/api/v1/statuses", as, {
    status: `${key} marker-${key}`,
    ...body,
  });
  if (as === "bob") posts[key] = status;
  return status;
}

/** The entries of a zip, by name. */
function unzip(bytes: Buffer): Promise<Map<string, Buffer>> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(bytes, { lazyEntries: true }, (error, zip) => {
      if (error || !zip) return reject(error);
      const entries = new Map<string, Buffer>();
      zip.on("entry", (entry: yauzl.Entry) => {
        zip.openReadStream(entry, (err, stream) => {
          if (err || !stream) return reject(err);
          const chunks: Buffer[] = [];
          stream.on("data", (c: Buffer) => chunks.push(c));
          stream.on("end", () => {
            entries.set(entry.fileName, Buffer.concat(chunks));
            zip.readEntry();
          });
          stream.on("error", reject);
        });
      });
      zip.on("end", () => resolve(entries));
      zip.on("error", reject);
      zip.readEntry();
    });
  });
}

before(async () => {
  remote = await startFakeRemote({ usernames: ["rita"] });
  db = await createTestDatabase();
  const env = { ...process.env, DATABASE_URL: db.url, CLIQUE_ALLOW_PRIVATE_ADDRESS: "true" };
  await runCliOk(["init", "--name", "Export", "--owner", "alice", "--password-stdin"], {
    env,
    stdin: "alice-password-1",
  });
  const code = lastLine(await runCliOk(["invite", "create", "--by", "alice"], { env }));
  for (const name of ["bob", "carol"] as const)
    await runCliOk(["invite", "redeem", code, "--username", name, "--password-stdin"], {
      env,
      stdin: `${name}-password-123`,
    });
  server = await startServerProcess({ env, databaseUrl: db.url });
  for (const name of ["alice", "bob", "carol"] as const) {
    tokens[name] = lastLine(await runCliOk(["token", "create", name], { env }));
    ids[name] = (await ok<Account>("GET", "/api/v1/accounts/verify_credentials", name)).id;
  }

  // rita, on another server, follows bob, who approves if asked.
  const rita = remote.account("rita");
  const bobUri = `${clique().origin}/users/bob`;
  const sent = await deliver(
    `${clique().origin}/inbox`,
    {
      "@context": AS,
      id: `${new URL(rita.id).origin}/${randomUUID()}`,
      type: "Follow",
      actor: rita.id,
      object: bobUri,
    },
    { as: rita },
  );
  assert.equal(sent.status, 202, sent.text);
  const ritaId = await eventually("rita's follow to arrive", async () => {
    const found = await ok<{ accounts: { id: string }[] }>(
      "GET",
      `/api/v2/search?q=${encodeURIComponent(rita.id)}&resolve=true`,
      "bob",
    );
    const id = found.accounts[0]?.id;
    if (!id) return undefined;
    const [r] = await ok<{ followed_by: boolean; requested_by?: boolean }[]>(
      "GET",
      `/api/v1/accounts/relationships?id[]=${id}`,
      "bob",
    );
    if (r?.followed_by) return id;
    const requests = await ok<{ id: string }[]>("GET", "/api/v1/follow_requests", "bob");
    if (requests.some((a) => a.id === id)) {
      await ok("POST", `/api/v1/follow_requests/${id}/authorize`, "bob");
    }
    return undefined;
  });
  assert.ok(ritaId);

  // bob's profile: a field for everyone, one for followers, one for the Clique.
  await ok("PATCH", "/api/v1/clique/profile", "bob", {
    fields: [
      { name: "Site", value: "open-field", audience: "public" },
      { name: "Phone", value: "followers-field", audience: "followers" },
      { name: "Room", value: "clique-field", audience: "clique" },
    ],
  });
  // bob's circle holds alice only: carol is outside it.
  const circle = await ok<{ id: string }>("POST", "/api/v1/clique/circles", "bob", {
    name: "close",
    member_ids: [ids.alice],
  });

  const bobPhoto = await uploadReady(
    clique().url,
    tokens.bob,
    await solidImage(64, 48, [200, 30, 30]),
  );
  const bobPrivatePhoto = await uploadReady(
    clique().url,
    tokens.bob,
    await solidImage(40, 40, [20, 180, 40], "jpeg"),
  );
  const bobCirclePhoto = await uploadReady(
    clique().url,
    tokens.bob,
    await solidImage(32, 24, [90, 90, 200]),
  );
  const carolPhoto = await uploadReady(
    clique().url,
    tokens.carol,
    await solidImage(30, 30, [0, 0, 255]),
  );

  await write("public", { visibility: "public" });
  await write("unlisted", { visibility: "unlisted" });
  await write("followers", { visibility: "private" });
  await write("clique", { audience: "clique" });
  await write("circle", { audience: "circle", circle_id: circle.id });
  await write("direct", { status: "@alice direct marker-direct", visibility: "direct" });
  await write("photo", { visibility: "public", media_ids: [bobPhoto.id] });
  await write("followersPhoto", { visibility: "private", media_ids: [bobPrivatePhoto.id] });
  await write("circlePhoto", {
    audience: "circle",
    circle_id: circle.id,
    media_ids: [bobCirclePhoto.id],
  });
  await write("removed", { visibility: "public" });
  await write("deleted", { visibility: "public" });
  carolsPost = await write("carols", { visibility: "public", media_ids: [carolPhoto.id] }, "carol");

  // The owner removes one of bob's posts; bob deletes another.
  await ok("POST", `/api/v1/clique/moderation/posts/${posts.removed!.id}/remove`, "alice", {
    reason: "Not here",
  });
  await ok("DELETE", `/api/v1/statuses/${posts.deleted!.id}`, "bob");
});

afterEach((t) => {
  if ((t as { passed?: boolean }).passed === false) someTestFailed = true;
});

after(async () => {
  if (someTestFailed && server) console.error(server.output().slice(-20_000));
  await server?.stop();
  await remote?.close();
  await db?.drop();
  await stopEmbeddedTestServer();
});

const LIVE = [
  "public",
  "unlisted",
  "followers",
  "clique",
  "circle",
  "direct",
  "photo",
  "followersPhoto",
  "circlePhoto",
];

describe("export", () => {
  test("is for signed-in members only", async () => {
    const got = await call("GET", "/api/v1/clique/export", null);
    assert.equal(got.status, 401);
  });

  test("holds bob's own posts, photos and profile, and nothing else", async () => {
    const got = await call("GET", "/api/v1/clique/export", "bob");
    assert.equal(got.status, 200, got.text.slice(0, 500));
    assert.equal(got.headers.get("content-type"), "application/zip");
    assert.match(
      got.headers.get("content-disposition") ?? "",
      /^attachment; filename="clique-bob-\d{4}-\d{2}-\d{2}\.zip"$/,
    );
    const entries = await unzip(got.bytes);
    assert.ok(entries.has("README.txt"));
    assert.match(entries.get("README.txt")!.toString("utf8"), /outbox\.json/);

    const outbox = JSON.parse(entries.get("outbox.json")!.toString("utf8")) as Status[];
    const byId = new Map(outbox.map((s) => [s.id, s]));
    assert.deepEqual(
      [...byId.keys()].sort(),
      LIVE.map((k) => posts[k]!.id).sort(),
      "every live post of bob's, of every audience, and no other",
    );
    for (const key of LIVE) {
      const status = byId.get(posts[key]!.id)!;
      assert.equal(status.account.id, ids.bob);
      assert.equal(status.audience, posts[key]!.audience, `${key} keeps its audience`);
      assert.match(status.content, new RegExp(`marker-${key}`));
    }
    const all = entries.get("outbox.json")!.toString("utf8");
    for (const gone of ["marker-removed", "marker-deleted", "marker-carols"])
      assert.doesNotMatch(all, new RegExp(gone));

    const profile = JSON.parse(entries.get("profile.json")!.toString("utf8")) as Account & {
      source: { fields: { name: string; audience: string }[] };
    };
    assert.equal(profile.id, ids.bob);
    assert.equal(profile.username, "bob");
    assert.deepEqual(
      profile.source.fields.map((f) => [f.name, f.audience]),
      [
        ["Site", "public"],
        ["Phone", "followers"],
        ["Room", "clique"],
      ],
    );

    // The photos: bob's three (public, followers-only, circle), with the bytes the server serves him, and not carol's.
    const media = [...entries.keys()].filter((n) => n.startsWith("media/")).sort();
    const attachments = [posts.photo!, posts.followersPhoto!, posts.circlePhoto!].flatMap(
      (s) => s.media_attachments,
    );
    assert.equal(attachments.length, 3);
    assert.deepEqual(
      media.map((n) => n.replace(/\.[a-z0-9]+$/, "")),
      attachments.map((a) => `media/${a.id}`).sort(),
    );
    for (const attachment of attachments) {
      const name = media.find((n) => n.startsWith(`media/${attachment.id}.`))!;
      const served = await fetch(new URL(attachment.url!, clique().url), {
        headers: { authorization: `Bearer ${tokens.bob}` },
      });
      assert.equal(served.status, 200);
      const bytes = Buffer.from(await served.arrayBuffer());
      assert.ok(bytes.length > 0);
      assert.ok(entries.get(name)!.equals(bytes), `${name} holds the photo's bytes`);
    }
    for (const a of carolsPost!.media_attachments)
      assert.ok(!media.some((n) => n.includes(a.id)), "nothing of carol's");
  });
});

describe("profile preview", () => {
  async function preview(as: string) {
    return ok<{ account: Account; statuses: Status[] }>(
      "GET",
      `/api/v1/clique/profile/preview?as=${as}`,
      "bob",
    );
  }

  test("refuses an unknown viewer and anonymous callers", async () => {
    assert.equal((await call("GET", "/api/v1/clique/profile/preview?as=owner", "bob")).status, 422);
    assert.equal((await call("GET", "/api/v1/clique/profile/preview?as=member", null)).status, 401);
  });

  test("as anonymous: what an anonymous visitor gets", async () => {
    const got = await preview("anonymous");
    const real = await ok<Status[]>("GET", `/api/v1/accounts/${ids.bob}/statuses`, null);
    assert.deepEqual(
      got.statuses.map((s) => s.id),
      real.map((s) => s.id),
    );
    assert.deepEqual(
      got.statuses.map((s) => s.id).sort(),
      ["public", "unlisted", "photo"].map((k) => posts[k]!.id).sort(),
    );
    const account = await ok<Account>("GET", `/api/v1/accounts/${ids.bob}`, null);
    assert.deepEqual(got.account, account);
    assert.deepEqual(
      got.account.fields.map((f) => f.value),
      ["open-field"],
    );
  });

  test("as a member: what carol, outside bob's circles, gets", async () => {
    const got = await preview("member");
    const real = await ok<Status[]>("GET", `/api/v1/accounts/${ids.bob}/statuses`, "carol");
    assert.deepEqual(
      got.statuses.map((s) => s.id),
      real.map((s) => s.id),
    );
    assert.deepEqual(
      got.statuses.map((s) => s.id).sort(),
      ["public", "unlisted", "clique", "photo"].map((k) => posts[k]!.id).sort(),
    );
    // The whole account, counts included, as carol gets it.
    const account = await ok<Account>("GET", `/api/v1/accounts/${ids.bob}`, "carol");
    assert.deepEqual(got.account, account);
    assert.deepEqual(
      got.account.fields.map((f) => f.value),
      ["open-field", "clique-field"],
    );
    // Media URLs carry no grant of carol's: the preview is nobody.
    assert.doesNotMatch(JSON.stringify(got), /[?&]for=/);
  });

  test("as a follower: what rita, on another server, gets from bob's outbox", async () => {
    const got = await preview("follower");
    const rita = remote!.account("rita");
    const outboxUrl = `${clique().origin}/users/bob/outbox`;
    const collection = jsonOrNull<Json>((await fetchAs(outboxUrl, rita, { accept: AP })).text);
    assert.ok(collection, "the outbox answers");
    const first = collection.first;
    const page =
      typeof first === "string"
        ? jsonOrNull<Json>((await fetchAs(first, rita, { accept: AP })).text)
        : (first as Json);
    assert.ok(page, "its first page answers");
    const items = (page.orderedItems ?? page.items ?? []) as Json[];
    const seen = (Array.isArray(items) ? items : [items]).map((activity) => {
      const object = activity.object;
      return typeof object === "string" ? object : String((object as Json).id);
    });
    assert.deepEqual(
      got.statuses.map((s) => s.uri),
      seen,
      "the same posts, in the same order",
    );
    assert.deepEqual(
      got.statuses.map((s) => s.id).sort(),
      ["public", "unlisted", "followers", "photo", "followersPhoto"]
        .map((k) => posts[k]!.id)
        .sort(),
    );
    assert.deepEqual(
      got.account.fields.map((f) => f.value),
      ["open-field", "followers-field"],
    );
    // Counts tell the follower only what they may read.
    assert.equal(got.account.statuses_count, 5);
  });
});
