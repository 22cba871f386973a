/**
 * Photos over ActivityPub, both ways, against a real Clique process and fake
 * remote servers (plain `node:http`, not Fedify; deliveries verified with
 * Misskey's library, as Misskey would).
 *
 * Out: a post's photo reaches other servers as an `Image` attachment with
 * `mediaType`, `name`, `width`, `height`, `blurhash` and `focalPoint`, at a
 * URL the receiving server can fetch **unsigned** (as Mastodon does). A public
 * post's URL is plain; anything else carries a grant naming the receiving
 * server, which works only while someone there may see the post.
 *
 * In: a remote post's photos show in the API with their alt text, blurhash,
 * focal point and the post's sensitive flag, at this server's proxy URLs;
 * the proxy fetches each file once, refuses what is not an image and what is
 * too large, and answers 404 to whoever may not see the post.
 *
 * - A holds ann (in alice's circle) and al (alice's follower; alice follows al);
 * - B holds bea (in the circle).
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
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
import sharp from "sharp";
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
/** Mastodon's context for posts: it defines the attachment terms. */
const MASTODON_CONTEXT = [
  AS,
  {
    toot: "http://joinmastodon.org/ns#",
    sensitive: "as:sensitive",
    blurhash: "toot:blurhash",
    focalPoint: { "@container": "@list", "@id": "toot:focalPoint" },
  },
];
/** The largest image (local upload or remote file) this server takes, for the test. */
const IMAGE_LIMIT = 200_000;
const QUIET_MS = 1_500;

type Json = Record<string, unknown>;
interface Attachment {
  id: string;
  type: string;
  url: string | null;
  preview_url: string | null;
  remote_url: string | null;
  description: string | null;
  blurhash: string | null;
  meta: { original?: { width: number; height: number }; focus?: { x: number; y: number } };
}
interface Status {
  id: string;
  uri: string;
  sensitive: boolean;
  spoiler_text: string;
  media_attachments: Attachment[];
}

let db: TestDatabase | undefined;
let server: ServerProcess | undefined;
let mediaDir = "";
const fakes: Record<"A" | "B", FakeRemote | undefined> = { A: undefined, B: undefined };
let instanceOfA: Signer | undefined;
const tokens = { alice: "", bob: "" };
let aliceUri = "";
let circleId = "";
/** Clique's account ids of the remote accounts. */
const ids: Record<string, string> = {};
let someTestFailed = false;
const verified = new WeakMap<RecordedRequest, boolean>();

function fake(name: "A" | "B"): FakeRemote {
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
    try {
      if (remote) return remote.account(name);
    } catch {
      // not on this one
    }
  }
  throw new Error(`no fake account ${name}`);
}

async function api<T = Json>(
  path: string,
  init: { method?: string; body?: unknown; as?: keyof typeof tokens } = {},
): Promise<T> {
  const response = await fetch(`${clique().url}${path}`, {
    method: init.method ?? "GET",
    headers: {
      authorization: `Bearer ${tokens[init.as ?? "alice"]}`,
      ...(init.body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  const text = await response.text();
  assert.ok(response.ok, `${init.method ?? "GET"} ${path}: ${response.status} ${text}`);
  return JSON.parse(text) as T;
}

async function deliverOk(activity: Json, as: FakeAccount): Promise<void> {
  const sent = await deliver(`${clique().origin}/inbox`, activity, { as });
  assert.equal(sent.status, 202, `${activity.type} from ${as.username}: ${sent.text}`);
}

/** A JPEG with two halves of different colours (so its blurhash is not flat). */
function photo(width: number, height: number): Promise<Buffer> {
  const half = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      half[i] = x < width / 2 ? 220 : 20;
      half[i + 1] = 40;
      half[i + 2] = x < width / 2 ? 30 : 200;
    }
  return sharp(half, { raw: { width, height, channels: 3 } })
    .jpeg({ quality: 80 })
    .toBuffer();
}

/** Uploads a photo as alice, with alt text and a focal point, and waits until it is processed. */
async function upload(description: string, focus: string): Promise<Attachment> {
  const form = new FormData();
  form.append(
    "file",
    new Blob([new Uint8Array(await photo(640, 480))], { type: "image/jpeg" }),
    "p.jpg",
  );
  form.append("description", description);
  form.append("focus", focus);
  const response = await fetch(`${clique().url}/api/v2/media`, {
    method: "POST",
    headers: { authorization: `Bearer ${tokens.alice}` },
    body: form,
  });
  const created = (await response.json()) as Attachment;
  assert.ok(response.status === 202 || response.status === 200, JSON.stringify(created));
  return eventually(`upload ${created.id} to be processed`, async () => {
    const got = await fetch(`${clique().url}/api/v1/media/${created.id}`, {
      headers: { authorization: `Bearer ${tokens.alice}` },
    });
    return got.status === 200 ? ((await got.json()) as Attachment) : null;
  });
}

async function postWithPhoto(body: Json, description: string): Promise<Status> {
  const media = await upload(description, "0.5,-0.25");
  return api<Status>("/api/v1/statuses", {
    method: "POST",
    body: { ...body, media_ids: [media.id] },
  });
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
  return eventually(`a ${type} of ${objectId} at ${remote.host}`, async () => {
    const found = deliveries(remote, type, objectId);
    assert.ok(found.length <= 1, `one ${type} per server, not ${found.length}`);
    return found[0];
  });
}

/** The one attachment of a note, as sent. */
function attachmentOf(note: Json): Json {
  const list = [note.attachment].flat().filter(Boolean) as Json[];
  assert.equal(list.length, 1, `one attachment: ${JSON.stringify(note.attachment)}`);
  return list[0]!;
}

/** A GET with no credentials at all, as Mastodon fetches attachments. */
async function unsigned(url: string): Promise<{ status: number; type: string; bytes: Buffer }> {
  const response = await fetch(url);
  return {
    status: response.status,
    type: response.headers.get("content-type") ?? "",
    bytes: Buffer.from(await response.arrayBuffer()),
  };
}

/** The same URL without its query (its grant). */
function bare(url: string): string {
  const u = new URL(url);
  u.search = "";
  return u.href;
}

/** Who a URL's grant names (`s:host`, `r:actor`, `m:actor`), or `null`. */
function grantee(url: string): string | null {
  return new URL(url).searchParams.get("for");
}

function isWebp(bytes: Buffer): boolean {
  return (
    bytes.subarray(0, 4).toString("latin1") === "RIFF" &&
    bytes.subarray(8, 12).toString("latin1") === "WEBP"
  );
}

/** `remote`'s follow of alice, approved by her. Returns the Follow's id. */
async function followAlice(who: FakeAccount): Promise<string> {
  const id = `${new URL(who.id).origin}/follows/${randomUUID()}`;
  await deliverOk({ "@context": AS, id, type: "Follow", actor: who.id, object: aliceUri }, who);
  await eventually(`${who.username}'s follow request`, async () =>
    (await api<{ id: string }[]>("/api/v1/follow_requests")).some(
      (a) => a.id === ids[who.username],
    ),
  );
  await api(`/api/v1/follow_requests/${ids[who.username]}/authorize`, { method: "POST" });
  await eventually(`${who.username} to follow alice`, async () => {
    const [r] = await api<{ followed_by: boolean }[]>(
      `/api/v1/accounts/relationships?id[]=${ids[who.username]}`,
    );
    return r?.followed_by;
  });
  return id;
}

async function followedByAlice(who: FakeAccount): Promise<boolean> {
  const [r] = await api<{ followed_by: boolean }[]>(
    `/api/v1/accounts/relationships?id[]=${ids[who.username]}`,
  );
  return r?.followed_by ?? false;
}

/** Alice follows `who`, whose server accepts. */
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
  [fakes.A, fakes.B] = await Promise.all([
    startFakeRemote({ usernames: ["ann", "al"], inboxStatus }),
    startFakeRemote({ usernames: ["bea"], inboxStatus }),
  ]);
  instanceOfA = publishInstanceActor(fake("A"));
  db = await createTestDatabase();
  mediaDir = await mkdtemp(path.join(tmpdir(), "clique-media-federation-"));
  const env = {
    ...process.env,
    DATABASE_URL: db.url,
    CLIQUE_ALLOW_PRIVATE_ADDRESS: "true",
    CLIQUE_DB_POOL: "4",
    CLIQUE_MEDIA_DIR: mediaDir,
    CLIQUE_IMAGE_LIMIT: String(IMAGE_LIMIT),
  };
  await runCliOk(["init", "--name", "Photos", "--owner", "alice", "--password-stdin"], {
    env,
    stdin: "alice-password-1",
  });
  const code = lastLine(await runCliOk(["invite", "create", "--by", "alice"], { env }));
  await runCliOk(["invite", "redeem", code, "--username", "bob", "--password-stdin"], {
    env,
    stdin: "bob-password-22",
  });
  server = await startServerProcess({ env, databaseUrl: db.url });
  tokens.alice = lastLine(await runCliOk(["token", "create", "alice"], { env }));
  tokens.bob = lastLine(await runCliOk(["token", "create", "bob"], { env }));
  aliceUri = `${clique().origin}/users/alice`;
  for (const name of ["ann", "al", "bea"]) {
    const found = await api<{ accounts: { id: string }[] }>(
      `/api/v2/search?q=${encodeURIComponent(account(name).id)}&resolve=true`,
    );
    assert.equal(found.accounts.length, 1, `${name} resolves`);
    ids[name] = found.accounts[0]!.id;
  }
  await followAlice(account("al"));
  await aliceFollows(account("al"), fake("A"));
  circleId = (
    await api<{ id: string }>("/api/v1/clique/circles", {
      method: "POST",
      body: { name: "photos", member_ids: [ids.ann, ids.bea] },
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
    ["fake A", fakes.A && (() => fakes.A!.close())],
    ["fake B", fakes.B && (() => fakes.B!.close())],
    ["database", db && (() => db!.drop())],
    ["embedded PostgreSQL", () => stopEmbeddedTestServer()],
    [
      "media directory",
      mediaDir ? () => rm(mediaDir, { recursive: true, force: true }) : undefined,
    ],
  ];
  for (const [name, step] of steps) await step?.().catch((e) => console.error(name, e));
});

describe("photos sent to other servers", () => {
  test("a public photo reaches a follower's server with its alt text, size, blurhash and focal point, at a plain URL", async () => {
    const status = await postWithPhoto(
      { status: "public photo marker-pub", visibility: "public" },
      "two halves, red and blue",
    );
    const [local] = status.media_attachments;
    assert.ok(local?.blurhash, "the API has a blurhash");
    const create = await received(fake("A"), "Create", status.uri);
    const sent = attachmentOf(create.object as Json);
    assert.equal(sent.type, "Image");
    assert.equal(sent.mediaType, "image/webp");
    assert.equal(sent.name, "two halves, red and blue");
    assert.equal(sent.width, 640);
    assert.equal(sent.height, 480);
    assert.equal(sent.blurhash, local.blurhash);
    assert.deepEqual(sent.focalPoint, [0.5, -0.25]);
    // Mastodon reads the plain keys; a JSON-LD reader needs them defined.
    const context = [create["@context"]].flat() as Json[];
    assert.ok(
      context.some((c) => typeof c === "object" && c?.blurhash === "toot:blurhash"),
      `a context defining blurhash: ${JSON.stringify(context)}`,
    );
    // Public: a plain URL, the same as the API's, that anyone fetches.
    const url = String(sent.url);
    assert.equal(grantee(url), null, "no grant on a public photo");
    assert.equal(new URL(url).pathname, new URL(local.url!).pathname);
    const got = await unsigned(url);
    assert.equal(got.status, 200);
    assert.equal(got.type, "image/webp");
    assert.ok(isWebp(got.bytes), "WebP bytes");
    assert.deepEqual(got.bytes, (await unsigned(local.url!)).bytes, "the file the API shows");
  });

  test("a followers-only photo's URL works unsigned for the follower's server only while it may see the post", async () => {
    const status = await postWithPhoto(
      { status: "followers photo marker-fo", visibility: "private" },
      "for followers",
    );
    const create = await received(fake("A"), "Create", status.uri);
    const url = String(attachmentOf(create.object as Json).url);
    assert.equal(grantee(url), `s:${fake("A").host}`, "a grant for A's server");
    const ok = await unsigned(url);
    assert.equal(ok.status, 200, "A fetches it unsigned");
    assert.ok(isWebp(ok.bytes));
    assert.equal((await unsigned(bare(url))).status, 404, "bare, it is nobody's");
    // A grant is for the server it names: B's name with A's signature is no grant.
    const forged = new URL(url);
    forged.searchParams.set("for", `s:${fake("B").host}`);
    assert.equal((await unsigned(forged.href)).status, 404, "a grant cannot be renamed");
    await sleep(QUIET_MS);
    assert.deepEqual(deliveries(fake("B"), "Create", status.uri), [], "B has no follower");

    // A signed fetch of the post: its attachment names who fetched.
    const byServer = jsonOrNull<Json>(
      (await fetchAs(status.uri, instanceOfA!, { accept: AP })).text,
    );
    const served = attachmentOf(byServer!);
    assert.equal(served.name, "for followers");
    assert.equal(typeof served.blurhash, "string", "the served Note has the blurhash too");
    assert.deepEqual(served.focalPoint, [0.5, -0.25]);
    const serverUrl = String(served.url);
    assert.equal(grantee(serverUrl), `s:${fake("A").host}`);
    const byAl = jsonOrNull<Json>((await fetchAs(status.uri, account("al"), { accept: AP })).text);
    const alUrl = String(attachmentOf(byAl!).url);
    assert.equal(grantee(alUrl), `r:${ids.al}`, "a grant for al, who fetched it");
    assert.equal((await unsigned(alUrl)).status, 200);
    assert.equal((await unsigned(serverUrl)).status, 200);

    // al unfollows: nobody on A may see the post, so neither grant works any more.
    const al = account("al");
    await undoFollowOfAlice(al);
    for (const u of [url, serverUrl, alUrl])
      assert.equal((await unsigned(u)).status, 404, `after the unfollow: ${grantee(u)}`);

    // Following again brings it back (each fetch asks again); being removed takes it away.
    await followAlice(al);
    assert.equal((await unsigned(url)).status, 200, "a follower again");
    await api(`/api/v1/accounts/${ids.al}/remove_from_followers`, { method: "POST" });
    await eventually("al to be removed", async () => !(await followedByAlice(al)));
    for (const u of [url, serverUrl, alUrl])
      assert.equal((await unsigned(u)).status, 404, `after the removal: ${grantee(u)}`);
    await followAlice(al);
  });

  test("a circle photo's URL sent to server A is A's: B's copy names B, and A's stops working when A leaves", async () => {
    const status = await postWithPhoto(
      { status: "circle photo marker-circle", audience: "circle", circle_id: circleId },
      "for the circle",
    );
    const [toA, toB] = await Promise.all([
      received(fake("A"), "Create", status.uri),
      received(fake("B"), "Create", status.uri),
    ]);
    const urlA = String(attachmentOf(toA.object as Json).url);
    const urlB = String(attachmentOf(toB.object as Json).url);
    assert.equal(grantee(urlA), `s:${fake("A").host}`);
    assert.equal(grantee(urlB), `s:${fake("B").host}`);
    assert.equal(bare(urlA), bare(urlB), "the same file");
    assert.notEqual(urlA, urlB, "each server its own grant");
    assert.ok(!JSON.stringify(toA).includes(fake("B").host), "A hears nothing of B");
    assert.ok(!JSON.stringify(toB).includes(fake("A").host), "B hears nothing of A");
    for (const u of [urlA, urlB]) assert.equal((await unsigned(u)).status, 200);
    // A's signature does not stand for B, nor B's for A.
    const swapped = new URL(urlA);
    swapped.searchParams.set("for", `s:${fake("B").host}`);
    assert.equal((await unsigned(swapped.href)).status, 404);
    const swappedBack = new URL(urlB);
    swappedBack.searchParams.set("for", `s:${fake("A").host}`);
    assert.equal((await unsigned(swappedBack.href)).status, 404);

    // ann leaves the circle: nobody on A may see the post; bea still may.
    await api(`/api/v1/clique/circles/${circleId}`, {
      method: "PATCH",
      body: { member_ids: [ids.bea] },
    });
    assert.equal((await unsigned(urlA)).status, 404, "A's URL stops working");
    assert.equal((await unsigned(urlB)).status, 200, "B's still works");
    await api(`/api/v1/clique/circles/${circleId}`, {
      method: "PATCH",
      body: { member_ids: [ids.ann, ids.bea] },
    });
  });
});

/** al takes back his follow of alice (Undo of the Follow he sent last). */
async function undoFollowOfAlice(al: FakeAccount): Promise<void> {
  const follows = fake("A")
    .requests.filter((r) => r.inbox && typeOf(r.json) === "Accept")
    .map((r) => (r.json as Json).object as Json)
    .filter((f) => f.actor === al.id);
  const last = follows.at(-1);
  assert.ok(last?.id, "alice accepted a follow of al's");
  await deliverOk(
    {
      "@context": AS,
      id: `${al.id}#undo/${randomUUID()}`,
      type: "Undo",
      actor: al.id,
      object: { id: last.id, type: "Follow", actor: al.id, object: aliceUri },
    },
    al,
  );
  await eventually("al's unfollow", async () => !(await followedByAlice(al)));
}

describe("photos from other servers", () => {
  const al = () => account("al");
  let png: Buffer;

  /** Delivers al's post with `attachment`, and returns it as alice's API shows it. */
  async function remotePost(extra: Json, marker: string): Promise<Status> {
    const id = `${al().id}/statuses/${randomUUID()}`;
    await deliverOk(
      {
        "@context": MASTODON_CONTEXT,
        id: `${id}/activity`,
        type: "Create",
        actor: al().id,
        to: [PUBLIC],
        object: {
          id,
          type: "Note",
          attributedTo: al().id,
          to: [PUBLIC],
          content: `<p>${marker}</p>`,
          published: new Date().toISOString(),
          ...extra,
        },
      },
      al(),
    );
    return eventually(`al's post ${marker} in alice's home feed`, async () =>
      (await api<Status[]>("/api/v1/timelines/home?limit=40")).find((s) => s.uri === id),
    );
  }

  function filesAt(remote: FakeRemote, file: string): RecordedRequest[] {
    return remote.requests.filter((r) => r.method === "GET" && r.path === file);
  }

  before(async () => {
    png = await sharp({
      create: { width: 48, height: 32, channels: 3, background: { r: 10, g: 200, b: 90 } },
    })
      .png()
      .toBuffer();
    fake("A").serveFile("/files/photo.png", { body: png, type: "image/png" });
    fake("A").serveFile("/files/private.png", { body: png, type: "image/png" });
    fake("A").serveFile("/files/evil.png", {
      body: Buffer.from(
        '<svg xmlns="http://www.w3.org/2000/svg"><script>alert("marker-svg")</script></svg>',
      ),
      type: "image/png",
    });
    fake("A").serveFile("/files/huge.png", {
      body: Buffer.concat([png, Buffer.alloc(IMAGE_LIMIT + 1000)]),
      type: "image/png",
    });
  });

  test("a remote photo shows with its alt text, blurhash, focal point and sensitive flag, at a proxy URL; the proxy fetches it once", async () => {
    const remoteUrl = `${fake("A").origin}/files/photo.png`;
    const status = await remotePost(
      {
        sensitive: true,
        summary: "green",
        attachment: [
          {
            type: "Document",
            mediaType: "image/png",
            url: remoteUrl,
            name: "a green rectangle",
            blurhash: "LEHV6nWB2yk8pyo0adR*.7kCMdnj",
            focalPoint: [0.1, 0.2],
            width: 48,
            height: 32,
          },
        ],
      },
      "remote photo marker-in",
    );
    assert.equal(status.sensitive, true);
    assert.equal(status.spoiler_text, "green");
    const [media] = status.media_attachments;
    assert.ok(media, "the photo is shown");
    assert.equal(status.media_attachments.length, 1);
    assert.equal(media.type, "image");
    assert.equal(media.description, "a green rectangle");
    assert.equal(media.blurhash, "LEHV6nWB2yk8pyo0adR*.7kCMdnj");
    assert.deepEqual(media.meta.focus, { x: 0.1, y: 0.2 });
    assert.deepEqual(
      { width: media.meta.original?.width, height: media.meta.original?.height },
      { width: 48, height: 32 },
    );
    assert.equal(media.remote_url, remoteUrl);
    for (const u of [media.url ?? "", media.preview_url ?? ""]) {
      assert.ok(u.startsWith(`${clique().origin}/media/proxy/`), `a proxy URL: ${u}`);
      assert.ok(!u.includes(fake("A").host), "never the remote server's");
    }
    assert.equal(filesAt(fake("A"), "/files/photo.png").length, 0, "nothing fetched before a look");

    // A public post: the proxy URL is plain, and anyone may look.
    for (let i = 0; i < 3; i++) {
      const got = await unsigned(media.url!);
      assert.equal(got.status, 200, `look ${i + 1}`);
      assert.equal(got.type, "image/png");
      assert.deepEqual(got.bytes, png, "the remote bytes");
    }
    const fetched = filesAt(fake("A"), "/files/photo.png");
    assert.equal(fetched.length, 1, "fetched once for three looks");
    assert.match(String(fetched[0]!.headers["user-agent"]), /^Clique\//);
    assert.equal(fetched[0]!.headers.cookie, undefined);
    assert.equal(fetched[0]!.headers.authorization, undefined);
    assert.equal(fetched[0]!.headers.signature, undefined);
    // Byte ranges, as video players ask, from the copy.
    const part = await fetch(media.url!, { headers: { range: "bytes=8-15" } });
    assert.equal(part.status, 206);
    assert.equal(part.headers.get("content-range"), `bytes 8-15/${png.length}`);
    assert.deepEqual(Buffer.from(await part.arrayBuffer()), png.subarray(8, 16));
    assert.equal(filesAt(fake("A"), "/files/photo.png").length, 1, "still fetched once");

    // Deleted by its author: the photo is gone with the post.
    await deliverOk(
      {
        "@context": AS,
        id: `${status.uri}#delete`,
        type: "Delete",
        actor: al().id,
        to: [PUBLIC],
        object: { id: status.uri, type: "Tombstone" },
      },
      al(),
    );
    await eventually("the deleted post's photo to go", async () =>
      (await unsigned(media.url!)).status === 404 ? true : null,
    );
  });

  test("the proxy answers 404 to whoever may not see the post, and fetches nothing for them", async () => {
    const status = await remotePost(
      {
        to: [`${al().id}/followers`],
        attachment: [
          {
            type: "Image",
            mediaType: "image/png",
            url: `${fake("A").origin}/files/private.png`,
            name: "for al's followers",
          },
        ],
      },
      "followers-only photo marker-in-fo",
    );
    const url = status.media_attachments[0]?.url;
    assert.ok(url, "alice sees the photo");
    assert.equal(
      grantee(url),
      `m:${(await api<{ id: string }>("/api/v1/accounts/verify_credentials")).id}`,
    );
    // Anonymous, bob (a member who does not follow al), and a forged grant: nothing.
    assert.equal((await unsigned(bare(url))).status, 404, "anonymous");
    const asBob = await fetch(bare(url), { headers: { authorization: `Bearer ${tokens.bob}` } });
    assert.equal(asBob.status, 404, "bob may not see the post");
    const forged = new URL(url);
    forged.searchParams.set("for", `m:${ids.al}`);
    assert.equal((await unsigned(forged.href)).status, 404, "a renamed grant");
    assert.equal(filesAt(fake("A"), "/files/private.png").length, 0, "nothing fetched for them");
    // Alice's URL works (its grant names her), and alice signed in does too.
    const got = await unsigned(url);
    assert.equal(got.status, 200);
    assert.deepEqual(got.bytes, png);
    const asAlice = await fetch(bare(url), {
      headers: { authorization: `Bearer ${tokens.alice}` },
    });
    assert.equal(asAlice.status, 200);
    await asAlice.arrayBuffer();
    assert.equal(filesAt(fake("A"), "/files/private.png").length, 1);
  });

  test("the proxy refuses a file that is not an image, and one over the limit", async () => {
    const status = await remotePost(
      {
        attachment: [
          {
            type: "Document",
            mediaType: "image/png",
            url: `${fake("A").origin}/files/evil.png`,
            name: "not a photo",
          },
          {
            type: "Document",
            mediaType: "image/png",
            url: `${fake("A").origin}/files/huge.png`,
            name: "too big",
          },
        ],
      },
      "bad files marker-bad",
    );
    const [evil, huge] = status.media_attachments;
    assert.ok(evil?.url && huge?.url);
    for (let i = 0; i < 2; i++) {
      const got = await unsigned(evil.url);
      assert.equal(got.status, 404, "an SVG is not served, whatever its server calls it");
      assert.ok(!got.bytes.toString("latin1").includes("marker-svg"));
    }
    assert.equal(filesAt(fake("A"), "/files/evil.png").length, 1, "the refusal is remembered");
    const big = await unsigned(huge.url);
    assert.equal(big.status, 404, "over the limit");
    assert.ok(big.bytes.length < 1000, "none of it served");
  });

  test("an edit of a remote post's photos replaces them", async () => {
    const remoteUrl = `${fake("A").origin}/files/photo.png`;
    const attachment = (name: string) => [
      { type: "Document", mediaType: "image/png", url: remoteUrl, name },
    ];
    const status = await remotePost(
      { attachment: attachment("first words") },
      "edited marker-edit",
    );
    const before = status.media_attachments[0]!;
    assert.equal(before.description, "first words");
    await deliverOk(
      {
        "@context": MASTODON_CONTEXT,
        id: `${status.uri}#updates/1`,
        type: "Update",
        actor: al().id,
        to: [PUBLIC],
        object: {
          id: status.uri,
          type: "Note",
          attributedTo: al().id,
          to: [PUBLIC],
          content: "<p>edited marker-edit</p>",
          updated: new Date().toISOString(),
          attachment: attachment("better words"),
        },
      },
      al(),
    );
    const after = await eventually("the new alt text", async () => {
      const got = await api<Status>(`/api/v1/statuses/${status.id}`);
      return got.media_attachments[0]?.description === "better words" ? got : null;
    });
    assert.equal(after.media_attachments.length, 1);
    assert.notEqual(after.media_attachments[0]!.url, before.url, "a new item");
    assert.equal((await unsigned(before.url!)).status, 404, "the old one is gone");
    assert.equal((await unsigned(after.media_attachments[0]!.url!)).status, 200);
  });
});
