/**
 * Uploaded avatars and headers, through Mastodon's `PATCH
 * /api/v1/accounts/update_credentials` (multipart): cropped to 400×400 and
 * 1500×500, upright, without a byte of the photo's metadata (GPS, camera),
 * served publicly, named by the client API and by the actor document (and the
 * `Update(Person)` other servers get), refused when not an image, gone with
 * `DELETE /api/v1/profile/avatar` (back to the generated default) and with a
 * removed member. Every file replaced or removed is deleted from the disk.
 */
import assert from "node:assert/strict";
import { randomFillSync, randomUUID } from "node:crypto";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
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
import sharp from "sharp";
import { sendReadingEarlyAnswer } from "./support/early-answer.ts";
import { deliver, eventually, idOf, typeOf } from "./support/mastodon-signing.ts";

type Json = Record<string, unknown>;

/** The largest image upload this server takes: more than the 1 MiB body limit other requests have. */
const IMAGE_LIMIT = 3 * 1024 * 1024;

let db: TestDatabase | undefined;
let server: ServerProcess | undefined;
let remote: FakeRemote | undefined;
let mediaDir = "";
let env: NodeJS.ProcessEnv = {};
const tokens = { alice: "", bob: "" };
const ids = { alice: "", bob: "" };

before(async () => {
  remote = await startFakeRemote({ usernames: ["fan"] });
  db = await createTestDatabase();
  mediaDir = await mkdtemp(path.join(tmpdir(), "clique-avatars-"));
  env = {
    ...process.env,
    DATABASE_URL: db.url,
    CLIQUE_DB_POOL: "4",
    CLIQUE_MEDIA_DIR: mediaDir,
    CLIQUE_IMAGE_LIMIT: String(IMAGE_LIMIT),
    CLIQUE_ALLOW_PRIVATE_ADDRESS: "true",
  };
  await runCliOk(["init", "--name", "Faces", "--owner", "alice", "--password-stdin"], {
    env,
    stdin: "alice-password-1",
  });
  const code = lastLine(await runCliOk(["invite", "create", "--by", "alice"], { env }));
  await runCliOk(["invite", "redeem", code, "--username", "bob", "--password-stdin"], {
    env,
    stdin: "bob-password-123",
  });
  server = await startServerProcess({ env, databaseUrl: db.url });
  for (const name of ["alice", "bob"] as const) {
    tokens[name] = lastLine(await runCliOk(["token", "create", name], { env }));
    ids[name] = (await api(name, "/api/v1/accounts/verify_credentials")).id as string;
  }
  // A follower on another server, to hear of profile changes.
  const fan = remote.account("fan");
  const follow = {
    "@context": "https://www.w3.org/ns/activitystreams",
    id: `${remote.origin}/${randomUUID()}`,
    type: "Follow",
    actor: fan.id,
    object: `${server.origin}/users/alice`,
  };
  assert.equal((await deliver(`${server.origin}/inbox`, follow, { as: fan })).status, 202);
  const requester = await eventually("fan's follow request", async () => {
    const list = (await api("alice", "/api/v1/follow_requests")) as unknown as { id: string }[];
    return list[0];
  });
  await api("alice", `/api/v1/follow_requests/${requester.id}/authorize`, { method: "POST" });
});

after(async () => {
  if (server && / ERR clique/.test(server.output())) console.error(server.output());
  await server?.stop();
  await remote?.close();
  await db?.drop();
  await stopEmbeddedTestServer();
  if (mediaDir) await rm(mediaDir, { recursive: true, force: true });
});

// ------------------------------------------------------------------ helpers

async function request(who: keyof typeof tokens | null, pathname: string, init: RequestInit = {}) {
  const headers = new Headers(init.headers);
  if (who) headers.set("authorization", `Bearer ${tokens[who]}`);
  return fetch(new URL(pathname, server!.url), { ...init, headers });
}

async function api(who: keyof typeof tokens | null, pathname: string, init: RequestInit = {}) {
  const response = await request(who, pathname, init);
  const text = await response.text();
  assert.ok(response.ok, `${init.method ?? "GET"} ${pathname}: ${response.status} ${text}`);
  return JSON.parse(text) as Json;
}

/** `update_credentials` as a multipart form, as Mastodon apps send it. */
async function updateCredentials(
  who: keyof typeof tokens,
  parts: Record<string, string | { bytes: Uint8Array; filename: string; type: string }>,
) {
  const form = new FormData();
  for (const [name, value] of Object.entries(parts))
    if (typeof value === "string") form.append(name, value);
    else
      form.append(
        name,
        new Blob([new Uint8Array(value.bytes)], { type: value.type }),
        value.filename,
      );
  const response = await request(who, "/api/v1/accounts/update_credentials", {
    method: "PATCH",
    body: form,
  });
  return { status: response.status, json: (await response.json()) as Json };
}

async function get(url: string, headers: Record<string, string> = {}) {
  const response = await fetch(new URL(new URL(url).pathname, server!.url), { headers });
  return {
    status: response.status,
    headers: response.headers,
    body: Buffer.from(await response.arrayBuffer()),
  };
}

async function actorDocument(username: string) {
  const actor = await get(`${server!.origin}/users/${username}`, {
    accept: "application/activity+json",
  });
  assert.equal(actor.status, 200);
  return JSON.parse(actor.body.toString("utf8")) as Json;
}

/** Every file under the media directory, by relative path. */
async function mediaFiles(): Promise<string[]> {
  const entries = await readdir(mediaDir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => path.relative(mediaDir, path.join(e.parentPath, e.name)))
    .sort();
}

/** The file key in an uploaded picture's URL. */
function keyOf(url: string): string {
  const key = /\/avatars\/([A-Za-z0-9_-]{22,}\.webp)$/.exec(url)?.[1];
  assert.ok(key, `an uploaded picture's URL, got ${url}`);
  return key;
}

/** Where the local disk store keeps a key (media/blob-store.ts). */
function fileOf(key: string): string {
  return path.join(key.slice(0, 2), key);
}

/** Bytes a camera writes, and a phone's GPS position: none may reach anyone. */
const CAMERA = "CliqueSpyCam";
const GPS_IFD_POINTER = Buffer.from([0x25, 0x88]); // tag 0x8825, little-endian

/**
 * A photo with camera and GPS EXIF, stored sideways (EXIF orientation 6): its
 * top half red, its bottom half blue, so that once turned upright the left
 * half is blue and the right half red.
 */
async function sidewaysPhoto(width: number, height: number): Promise<Buffer> {
  const half = Buffer.alloc(width * Math.floor(height / 2) * 3);
  const red = Buffer.from(half.map((_, i) => (i % 3 === 0 ? 220 : 20)));
  const blue = Buffer.from(half.map((_, i) => (i % 3 === 2 ? 220 : 20)));
  const jpeg = await sharp(Buffer.concat([red, blue]), {
    raw: { width, height: Math.floor(height / 2) * 2, channels: 3 },
  })
    .withExif({
      IFD0: { Make: CAMERA, Model: "Pocket 3000" },
      IFD3: {
        GPSLatitudeRef: "N",
        GPSLatitude: "48/1 51/1 2964/100",
        GPSLongitudeRef: "E",
        GPSLongitude: "2/1 17/1 4000/100",
      },
    })
    .withMetadata({ orientation: 6 })
    .jpeg({ quality: 90 })
    .toBuffer();
  const meta = await sharp(jpeg).metadata();
  assert.equal(meta.orientation, 6, "the photo is stored sideways");
  assert.ok(meta.exif?.includes(CAMERA), "the photo names its camera");
  assert.ok(meta.exif?.includes(GPS_IFD_POINTER), "the photo carries a GPS position");
  return jpeg;
}

/** Noise, so the JPEG is as large as a real photo of its size. */
async function noisyPhoto(width: number, height: number): Promise<Buffer> {
  const pixels = randomFillSync(Buffer.alloc(width * height * 3));
  return sharp(pixels, { raw: { width, height, channels: 3 } })
    .jpeg({ quality: 95 })
    .toBuffer();
}

/** The served picture: a clean WebP of this size, with nothing of the photo's metadata. */
async function assertClean(bytes: Buffer, width: number, height: number) {
  const meta = await sharp(bytes).metadata();
  assert.equal(meta.format, "webp");
  assert.deepEqual([meta.width, meta.height], [width, height]);
  assert.equal(meta.exif, undefined, "no EXIF");
  assert.equal(meta.xmp, undefined, "no XMP");
  assert.equal(meta.iptc, undefined, "no IPTC");
  assert.equal(meta.orientation, undefined, "no orientation tag: the pixels are upright");
  assert.ok(!bytes.includes(CAMERA), "the camera's name is not in the bytes");
  assert.ok(!bytes.includes("Exif"), "no EXIF block in the bytes");
}

/** Mean colour of a region of an image. */
async function colourAt(bytes: Buffer, left: number, top: number, size = 40) {
  const { data } = await sharp(bytes)
    .extract({ left, top, width: size, height: size })
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  const sum = [0, 0, 0];
  for (let i = 0; i < data.length; i += 3) for (let c = 0; c < 3; c++) sum[c]! += data[i + c]!;
  return sum.map((v) => v / (data.length / 3)) as [number, number, number];
}

// ------------------------------------------------------------------ tests

let avatarUrl = "";
let headerUrl = "";

test("an avatar with GPS EXIF is served upright, 400×400, without a byte of its metadata", async () => {
  const before = await mediaFiles();
  const photo = await sidewaysPhoto(1200, 800);
  const { status, json } = await updateCredentials("alice", {
    display_name: "Alice Pictured",
    avatar: { bytes: photo, filename: "holiday.jpg", type: "image/jpeg" },
  });
  assert.equal(status, 200, JSON.stringify(json));
  assert.equal(json.display_name, "Alice Pictured", "the form's fields apply with the file");
  avatarUrl = json.avatar as string;
  assert.equal(json.avatar_static, avatarUrl);
  const key = keyOf(avatarUrl);
  assert.ok(avatarUrl.startsWith(`${server!.origin}/avatars/`));

  const served = await get(avatarUrl);
  assert.equal(served.status, 200);
  assert.equal(served.headers.get("content-type"), "image/webp");
  assert.match(served.headers.get("cache-control") ?? "", /\bpublic\b.*\bimmutable\b/);
  assert.equal(served.headers.get("content-length"), String(served.body.length));
  await assertClean(served.body, 400, 400);
  // Upright: the photo's top (red) is now on the right, its bottom (blue) on the left.
  const [leftR, , leftB] = await colourAt(served.body, 20, 180);
  const [rightR, , rightB] = await colourAt(served.body, 340, 180);
  assert.ok(leftB > 150 && leftR < 80, `left is blue, got ${leftR},${leftB}`);
  assert.ok(rightR > 150 && rightB < 80, `right is red, got ${rightR},${rightB}`);
  // Revalidation by its ETag.
  const etag = served.headers.get("etag")!;
  assert.equal((await get(avatarUrl, { "if-none-match": etag })).status, 304);

  // On disk: the one processed file, nothing of the upload.
  const after = await mediaFiles();
  assert.deepEqual(
    after.filter((f) => !before.includes(f)),
    [fileOf(key)],
  );
});

test("the API and the actor document show the uploaded avatar, to anyone", async () => {
  const own = await api("alice", "/api/v1/accounts/verify_credentials");
  assert.equal(own.avatar, avatarUrl);
  const anonymous = await api(null, `/api/v1/accounts/${ids.alice}`);
  assert.equal(anonymous.avatar, avatarUrl);
  assert.equal(anonymous.avatar_static, avatarUrl);
  // A post's account (built from the actor, not the member) shows it too.
  const post = await api("alice", "/api/v1/statuses", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ status: "New face", visibility: "public" }),
  });
  assert.equal((post.account as Json).avatar, avatarUrl);
  // Bob still has his generated one.
  const bob = await api(null, `/api/v1/accounts/${ids.bob}`);
  assert.equal(bob.avatar, `${server!.origin}/avatars/${ids.bob}.png`);

  const actor = await actorDocument("alice");
  const icon = actor.icon as Json;
  assert.equal(icon.type, "Image");
  assert.equal(icon.url, avatarUrl);
  assert.equal(icon.mediaType, "image/webp");
  assert.equal(icon.width, 400);
  assert.equal(icon.height, 400);
  assert.equal(actor.image, undefined, "no header yet");
});

test("the follower's server hears Update(Person) with the new icon, and may fetch it unsigned", async () => {
  const aliceUri = `${server!.origin}/users/alice`;
  const update = await remote!.waitFor(
    (r) =>
      r.inbox &&
      typeOf(r.json) === "Update" &&
      idOf((r.json as Json).object) === aliceUri &&
      ((r.json as Json).object as Json).name === "Alice Pictured",
    { what: "Update(Person) of alice with her avatar" },
  );
  const icon = ((update.json as Json).object as Json).icon as Json;
  assert.equal(icon.url, avatarUrl);
  // Other servers fetch avatars without signing, as they fetch actor documents.
  const fetched = await fetch(avatarUrl);
  assert.equal(fetched.status, 200);
  await assertClean(Buffer.from(await fetched.arrayBuffer()), 400, 400);
});

test("a header is cropped to 1500×500 and shown as the actor's image", async () => {
  const { status, json } = await updateCredentials("alice", {
    header: { bytes: await sidewaysPhoto(2400, 1800), filename: "banner.jpg", type: "image/jpeg" },
  });
  assert.equal(status, 200, JSON.stringify(json));
  assert.equal(json.avatar, avatarUrl, "the avatar stays");
  headerUrl = json.header as string;
  assert.equal(json.header_static, headerUrl);
  keyOf(headerUrl);
  const served = await get(headerUrl);
  assert.equal(served.status, 200);
  await assertClean(served.body, 1500, 500);
  const image = (await actorDocument("alice")).image as Json;
  assert.equal(image.type, "Image");
  assert.equal(image.url, headerUrl);
  assert.equal(image.mediaType, "image/webp");
  assert.deepEqual([image.width, image.height], [1500, 500]);
  const update = await remote!.waitFor(
    (r) =>
      r.inbox &&
      typeOf(r.json) === "Update" &&
      (((r.json as Json).object as Json).image as Json | undefined)?.url === headerUrl,
    { what: "Update(Person) with the header" },
  );
  assert.equal((((update.json as Json).object as Json).icon as Json).url, avatarUrl);
});

test("what is not an image is refused, and nothing changes or stays on disk", async () => {
  const before = await mediaFiles();
  const photo = await noisyPhoto(600, 400);
  const cases: [string, Buffer, string][] = [
    ["text named .png", Buffer.from("just some words, not a picture\n".repeat(20)), "x.png"],
    [
      "an SVG",
      Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>1</script></svg>'),
      "a.svg",
    ],
    ["a truncated JPEG", photo.subarray(0, photo.length / 2), "cut.jpg"],
    ["an empty file", Buffer.alloc(0), "empty.jpg"],
  ];
  for (const [what, bytes, filename] of cases) {
    const { status, json } = await updateCredentials("alice", {
      display_name: "Should Not Apply",
      avatar: { bytes, filename, type: "image/png" },
    });
    assert.equal(status, 422, `${what}: ${JSON.stringify(json)}`);
    assert.equal(typeof json.error, "string", what);
    assert.match(json.error as string, /avatar|image|empty/i, what);
  }
  const own = await api("alice", "/api/v1/accounts/verify_credentials");
  assert.equal(own.avatar, avatarUrl);
  assert.equal(own.display_name, "Alice Pictured");
  assert.deepEqual(await mediaFiles(), before);
});

test("a file input left empty, as a browser's form sends it, is no file at all", async () => {
  const before = await mediaFiles();
  const { status, json } = await updateCredentials("alice", {
    display_name: "Alice Formed",
    avatar: { bytes: new Uint8Array(0), filename: "", type: "application/octet-stream" },
  });
  assert.equal(status, 200, JSON.stringify(json));
  assert.equal(json.display_name, "Alice Formed");
  assert.equal(json.avatar, avatarUrl, "the avatar stays");
  assert.deepEqual(await mediaFiles(), before);
});

test("pictures over the image limit are refused; under it, they pass the 1 MiB body limit", async () => {
  const before = await mediaFiles();
  const big = await noisyPhoto(1600, 1200);
  assert.ok(big.length > 1024 * 1024 && big.length < IMAGE_LIMIT, `${big.length} bytes`);
  const taken = await updateCredentials("bob", {
    avatar: { bytes: big, filename: "big.jpg", type: "image/jpeg" },
  });
  assert.equal(taken.status, 200, JSON.stringify(taken.json));
  const bobAvatar = taken.json.avatar as string;
  keyOf(bobAvatar);

  const huge = await noisyPhoto(2600, 1800);
  assert.ok(huge.length > IMAGE_LIMIT, `${huge.length} bytes`);
  // Read with node:http: the 413 may come while the upload is still being written.
  const form = new FormData();
  form.append("avatar", new Blob([new Uint8Array(huge)], { type: "image/jpeg" }), "huge.jpg");
  const encoded = new Response(form);
  const refused = await sendReadingEarlyAnswer(
    new URL("/api/v1/accounts/update_credentials", server!.url),
    {
      method: "PATCH",
      headers: {
        authorization: `Bearer ${tokens.bob}`,
        "content-type": encoded.headers.get("content-type")!,
      },
      body: new Uint8Array(await encoded.arrayBuffer()),
    },
  );
  assert.equal(refused.status, 413, refused.body);
  assert.match((JSON.parse(refused.body) as Json).error as string, /too large/);
  assert.equal((await api("bob", "/api/v1/accounts/verify_credentials")).avatar, bobAvatar);
  assert.deepEqual(await mediaFiles(), [...before, fileOf(keyOf(bobAvatar))].sort());
  // JSON bodies keep the body limit.
  const long = await sendReadingEarlyAnswer(
    new URL("/api/v1/accounts/update_credentials", server!.url),
    {
      method: "PATCH",
      headers: { authorization: `Bearer ${tokens.bob}`, "content-type": "application/json" },
      body: new TextEncoder().encode(JSON.stringify({ note: "x".repeat(1100 * 1024) })),
    },
  );
  assert.equal(long.status, 413);
});

test("a new avatar replaces the old one, whose file is deleted", async () => {
  const oldKey = keyOf(avatarUrl);
  const { status, json } = await updateCredentials("alice", {
    avatar: { bytes: await sidewaysPhoto(500, 500), filename: "new.jpg", type: "image/jpeg" },
  });
  assert.equal(status, 200);
  const newUrl = json.avatar as string;
  assert.notEqual(newUrl, avatarUrl);
  assert.equal((await get(avatarUrl)).status, 404, "the old URL is gone");
  await eventually("the old file deleted", async () =>
    (await mediaFiles()).includes(fileOf(oldKey)) ? null : true,
  );
  assert.ok((await mediaFiles()).includes(fileOf(keyOf(newUrl))));
  avatarUrl = newUrl;
});

test("DELETE /api/v1/profile/avatar and /header bring back the defaults", async () => {
  const avatarKey = keyOf(avatarUrl);
  const headerKey = keyOf(headerUrl);
  const cleared = await api("alice", "/api/v1/profile/avatar", { method: "DELETE" });
  const defaultAvatar = `${server!.origin}/avatars/${ids.alice}.png`;
  assert.equal(cleared.avatar, defaultAvatar);
  assert.equal(cleared.avatar_static, defaultAvatar);
  assert.equal(cleared.header, headerUrl, "the header stays");
  const icon = (await actorDocument("alice")).icon as Json;
  assert.equal(icon.url, defaultAvatar);
  assert.equal(icon.mediaType, "image/png");
  assert.equal((await get(defaultAvatar)).status, 200);

  const noHeader = await api("alice", "/api/v1/profile/header", { method: "DELETE" });
  assert.equal(noHeader.header, `${server!.origin}/static/header.png`);
  assert.equal((await actorDocument("alice")).image, undefined);
  // Deleting again is fine: nothing to delete.
  await api("alice", "/api/v1/profile/header", { method: "DELETE" });
  assert.equal((await request(null, "/api/v1/profile/avatar", { method: "DELETE" })).status, 401);

  for (const url of [avatarUrl, headerUrl]) assert.equal((await get(url)).status, 404, url);
  await eventually("both files deleted", async () => {
    const files = await mediaFiles();
    return files.includes(fileOf(avatarKey)) || files.includes(fileOf(headerKey)) ? null : true;
  });
});

test("a removed member's avatar is gone, file and all", async () => {
  const bobAvatar = (await api("bob", "/api/v1/accounts/verify_credentials")).avatar as string;
  const key = keyOf(bobAvatar);
  assert.equal((await get(bobAvatar)).status, 200);
  await runCliOk(["member", "set-status", "bob", "removed"], { env });
  const gone = await get(bobAvatar);
  const never = await get(`${server!.origin}/avatars/${"A".repeat(22)}.webp`);
  assert.equal(gone.status, 404);
  assert.equal(gone.body.toString(), never.body.toString());
  await eventually("bob's file deleted", async () =>
    (await mediaFiles()).includes(fileOf(key)) ? null : true,
  );
});
