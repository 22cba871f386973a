/**
 * The S3-compatible blob store, against a real S3 server on loopback: s3rver,
 * a pure-JavaScript implementation of S3's REST API (signature V4 checked),
 * started here. The same contract is asked of the local disk store and of
 * the bucket; then a whole server keeps its photos and avatars in the bucket
 * (`CLIQUE_S3_*`): an attachment goes up to the bucket, is processed by the
 * media job from a downloaded copy that is removed afterwards, and is served
 * from the bucket; an avatar likewise; the secret key is never logged.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { after, before, describe, test } from "node:test";
import { ListObjectsV2Command, type S3Client } from "@aws-sdk/client-s3";
import {
  createTestDatabase,
  lastLine,
  runCliOk,
  type ServerProcess,
  startServerProcess,
  stopEmbeddedTestServer,
  type TestDatabase,
} from "@clique/testing";
import S3rver from "s3rver";
import sharp from "sharp";
import { type BlobStore, localBlobStore } from "../packages/server/src/media/blob-store.ts";
import {
  type S3Settings,
  s3BlobStore,
  s3Client,
} from "../packages/server/src/media/s3-blob-store.ts";
import { eventually } from "./support/mastodon-signing.ts";

const BUCKET = "clique-media";
/** s3rver's only credentials; it checks every request's signature with them. */
const ACCESS_KEY = "S3RVER";
const SECRET_KEY = "S3RVER";

let s3rver: S3rver | undefined;
let scratch = "";
let settings: S3Settings;
let client: S3Client;

before(async () => {
  scratch = await mkdtemp(path.join(tmpdir(), "clique-s3-"));
  s3rver = new S3rver({
    address: "127.0.0.1",
    port: 0,
    silent: true,
    directory: path.join(scratch, "s3rver"),
    configureBuckets: [{ name: BUCKET, configs: [] }],
  });
  const { port } = await s3rver.run();
  settings = {
    endpoint: `http://127.0.0.1:${port}`,
    bucket: BUCKET,
    region: "us-east-1",
    credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY },
    pathStyle: true,
  };
  client = s3Client(settings);
});

after(async () => {
  client?.destroy();
  await s3rver?.close();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

async function bucketKeys(): Promise<string[]> {
  const listed = await client.send(new ListObjectsV2Command({ Bucket: BUCKET }));
  return (listed.Contents ?? []).map((o) => o.Key!).sort();
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name));
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** A source that yields `good` bytes in pieces, then fails, as a cut-off upload does. */
function failingSource(good: Buffer): Readable {
  return Readable.from(
    (async function* () {
      for (let i = 0; i < good.length; i += 256 * 1024) yield good.subarray(i, i + 256 * 1024);
      throw new Error("the client went away");
    })(),
  );
}

const key = () => `${randomBytes(16).toString("base64url")}.webp`;

for (const kind of ["local disk", "S3"] as const) {
  describe(`the blob store contract: ${kind}`, () => {
    let store: BlobStore;
    let temp = "";

    before(async () => {
      temp = await mkdtemp(path.join(scratch, "store-"));
      store = kind === "S3" ? s3BlobStore(settings, temp, client) : localBlobStore(temp);
    });

    test("a file written is read back whole, with its size, in one part or several; a missing one is null", async () => {
      for (const size of [3 * 1024 * 1024 + 17, 17 * 1024 * 1024 + 5]) {
        const bytes = randomBytes(size);
        const name = key();
        const source = Readable.from([bytes.subarray(0, 1000), bytes.subarray(1000)]);
        assert.equal(await store.write(name, source), bytes.length);
        const read = await store.read(name);
        assert.ok(read);
        assert.equal(read.size, bytes.length);
        assert.ok((await readAll(read.stream)).equals(bytes));
        if (kind === "S3") assert.ok((await bucketKeys()).includes(name), "in the bucket");
      }
      assert.equal(await store.read(key()), null);
    });

    test("a source that fails leaves nothing behind, even past one part", async () => {
      const before = kind === "S3" ? await bucketKeys() : [];
      for (const size of [100 * 1024, 20 * 1024 * 1024]) {
        const name = `incoming/${randomBytes(16).toString("hex")}`;
        await assert.rejects(store.write(name, failingSource(randomBytes(size))), /went away/);
        assert.equal(await store.read(name), null, `${size} bytes`);
      }
      if (kind === "S3") assert.deepEqual(await bucketKeys(), before);
      else
        assert.deepEqual(
          (await filesUnder(temp)).filter((f) => f.includes("incoming")),
          [],
        );
    });

    test("a local path holds the bytes for tools; deleting the key removes the copy too", async () => {
      const bytes = randomBytes(200_000);
      const name = `incoming/${randomBytes(16).toString("hex")}`;
      await store.write(name, Readable.from([bytes]));
      const local = await store.localPath(name);
      assert.ok((await readFile(local)).equals(bytes));
      assert.equal(await store.localPath(name), local, "the same copy twice");
      await store.delete([name, key()]);
      assert.equal(await store.read(name), null);
      await assert.rejects(readFile(local), { code: "ENOENT" });
      if (kind === "S3")
        assert.deepEqual(await filesUnder(temp), [], "no copy left in the temporary directory");
    });

    test("keys that are not media keys are refused before anything is touched", async () => {
      for (const bad of ["../../etc/passwd", "a/b", "", "incoming/../x1234567890123456"]) {
        await assert.rejects(
          store.write(bad, Readable.from([Buffer.from("x")])),
          /not a media file key/,
        );
        await assert.rejects(store.read(bad), /not a media file key/);
        await assert.rejects(store.delete([bad]), /not a media file key/);
      }
    });
  });
}

describe("a server that keeps its media in the bucket", () => {
  let db: TestDatabase | undefined;
  let server: ServerProcess | undefined;
  let mediaDir = "";
  let token = "";

  before(async () => {
    db = await createTestDatabase();
    mediaDir = await mkdtemp(path.join(scratch, "server-"));
    const env = {
      ...process.env,
      DATABASE_URL: db.url,
      CLIQUE_DB_POOL: "4",
      CLIQUE_MEDIA_DIR: mediaDir,
      CLIQUE_S3_ENDPOINT: settings.endpoint!,
      CLIQUE_S3_BUCKET: BUCKET,
      CLIQUE_S3_ACCESS_KEY_ID: ACCESS_KEY,
      CLIQUE_S3_SECRET_ACCESS_KEY: SECRET_KEY,
      LOG_LEVEL: "debug",
    };
    await runCliOk(["init", "--name", "Bucket", "--owner", "alice", "--password-stdin"], {
      env,
      stdin: "alice-password-1",
    });
    server = await startServerProcess({ env, databaseUrl: db.url });
    token = lastLine(await runCliOk(["token", "create", "alice"], { env }));
  });

  after(async () => {
    if (server && / ERR clique/.test(server.output())) console.error(server.output());
    await server?.stop();
    await db?.drop();
    await stopEmbeddedTestServer();
  });

  const authorized = { authorization: () => `Bearer ${token}` };

  async function send(pathname: string, init: RequestInit = {}) {
    const headers = new Headers(init.headers);
    headers.set("authorization", authorized.authorization());
    const response = await fetch(new URL(pathname, server!.url), { ...init, headers });
    return { status: response.status, json: (await response.json()) as Record<string, unknown> };
  }

  function photo(): Promise<Buffer> {
    return sharp(randomBytes(640 * 480 * 3), { raw: { width: 640, height: 480, channels: 3 } })
      .withExif({ IFD0: { Make: "BucketCam" } })
      .jpeg()
      .toBuffer();
  }

  test("an attachment goes to the bucket, is processed from a copy that is then removed, and is served", async () => {
    const form = new FormData();
    form.append("file", new Blob([new Uint8Array(await photo())], { type: "image/jpeg" }), "p.jpg");
    form.append("description", "noise");
    const uploaded = await send("/api/v2/media", { method: "POST", body: form });
    assert.equal(uploaded.status, 202, JSON.stringify(uploaded.json));
    const ready = await eventually("the upload processed", async () => {
      const got = await send(`/api/v1/media/${uploaded.json.id}`);
      return got.status === 200 ? got.json : null;
    });
    const url = new URL(ready.url as string);
    const key = url.pathname.replace("/media/", "");
    const served = await fetch(new URL(url.pathname + url.search, server!.url), {
      headers: { authorization: authorized.authorization() },
    });
    assert.equal(served.status, 200);
    const bytes = Buffer.from(await served.arrayBuffer());
    const meta = await sharp(bytes).metadata();
    assert.equal(meta.format, "webp");
    assert.deepEqual([meta.width, meta.height], [640, 480]);
    assert.equal(meta.exif, undefined);

    const keys = await bucketKeys();
    assert.ok(keys.includes(key), `the display file is in the bucket: ${keys.join(", ")}`);
    assert.ok(!keys.some((k) => k.startsWith("incoming/")), "the upload itself is gone");
    // The media directory held only the job's copy, removed once processed.
    await eventually("the processing copy removed", async () =>
      (await filesUnder(mediaDir)).length === 0 ? true : null,
    );
  });

  test("an avatar is stored in the bucket and served from it", async () => {
    const form = new FormData();
    form.append(
      "avatar",
      new Blob([new Uint8Array(await photo())], { type: "image/jpeg" }),
      "a.jpg",
    );
    const updated = await send("/api/v1/accounts/update_credentials", {
      method: "PATCH",
      body: form,
    });
    assert.equal(updated.status, 200, JSON.stringify(updated.json));
    const avatar = new URL(updated.json.avatar as string);
    const key = avatar.pathname.replace("/avatars/", "");
    assert.ok((await bucketKeys()).includes(key));
    const served = await fetch(new URL(avatar.pathname, server!.url));
    assert.equal(served.status, 200);
    const meta = await sharp(Buffer.from(await served.arrayBuffer())).metadata();
    assert.deepEqual(
      [meta.format, meta.width, meta.height, meta.exif],
      ["webp", 400, 400, undefined],
    );
    assert.deepEqual(await filesUnder(mediaDir), [], "nothing of it on the local disk");
  });

  test("the secret key never reaches the log", () => {
    const output = server!.output();
    assert.ok(output.length > 0);
    assert.ok(!output.includes(SECRET_KEY), "the secret is not in the server's output");
  });
});
