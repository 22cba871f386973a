/**
 * Video uploads (issue 9), through a real server process whose media jobs run
 * on BullMQ's PostgreSQL back end and, when `REDIS_URL` is set, on Redis.
 *
 * The test videos are made by the same ffmpeg the server uses, then given
 * what phones and cameras put in their files: GPS in QuickTime's `©xyz` (and
 * Apple's `com.apple.quicktime.location.ISO6709` key), a title, creation
 * dates (as text and in the MP4 header's binary times), the device's make and
 * model. Each is uploaded through Mastodon's API and waited for; then:
 * its size and duration are right, its poster is a WebP that decodes, not
 * one byte served contains any of that metadata, the served file decodes to
 * the last frame, and byte ranges are served as players ask for them. A
 * truncated MP4, an MP4 header glued to junk, an audio-only file and a video
 * over the limit are refused with a reason, leaving no file behind.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
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
import sharp from "sharp";
import { eventually } from "./support/mastodon-signing.ts";
import { deleteRedisKeys } from "./support/restarts.ts";

const FFMPEG = (createRequire(import.meta.url)("@ffmpeg-installer/ffmpeg") as { path: string })
  .path;

/** What the test videos carry, and what must never be served. */
const GPS = "+48.8583+002.2945/";
const TITLE = "Secret Title XYZZY";
const DAY = "2019-06-01";
const CREATED = `${DAY}T12:34:56Z`;
const MAKE = "Apple";
const MODEL = "iPhone 12 Pro";
const SECRETS = [GPS, "48.8583", "2.2945", TITLE, "XYZZY", DAY, MODEL, "iPhone", "CamName"];
/** QuickTime's epoch is 1904-01-01; a header time of 0 says nothing. */
const CREATED_MAC = Date.parse(CREATED) / 1000 + 2_082_844_800;

/** Small enough that the 720p clip is over it, large enough for the others. */
const VIDEO_LIMIT = 2_000_000;
const WAIT_MS = 60_000;

type Json = Record<string, unknown>;

interface Attachment {
  id: string;
  type: string;
  url: string | null;
  preview_url: string | null;
  blurhash: string | null;
  meta: {
    original?: { width: number; height: number };
    small?: { width: number; height: number };
    duration?: number;
  };
}

// ------------------------------------------------------------------ ffmpeg

function run(file: string, args: string[], timeoutMs = 120_000) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      file,
      args,
      { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024, encoding: "utf8" },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

async function ffmpeg(args: string[]): Promise<void> {
  const result = await run(FFMPEG, ["-hide_banner", "-nostdin", "-v", "error", "-y", ...args]);
  assert.equal(result.code, 0, `ffmpeg ${args.join(" ")}: ${result.stderr}`);
}

/** What `ffmpeg -i` lists for a file (its metadata and streams). */
async function listing(file: string): Promise<string> {
  return (await run(FFMPEG, ["-hide_banner", "-nostdin", "-i", file])).stderr;
}

/** Decodes every frame; the number of video frames, or a failure with ffmpeg's errors. */
async function decodeAll(file: string): Promise<number> {
  const result = await run(FFMPEG, [
    ...["-hide_banner", "-nostdin", "-v", "error", "-xerror", "-i", file],
    ...["-map", "0:v:0", "-f", "null", "-progress", "pipe:1", "-"],
  ]);
  assert.equal(result.code, 0, `the served video decodes: ${result.stderr}`);
  assert.equal(result.stderr.trim(), "", "without a decoding error");
  const frames = [...result.stdout.matchAll(/^frame=(\d+)$/gm)].at(-1)?.[1];
  return Number(frames ?? 0);
}

/** A QuickTime user-data text atom (`©xyz`, `©nam`...), as phones write them. */
function qtText(type: string, text: string): Buffer {
  const value = Buffer.from(text, "utf8");
  const head = Buffer.alloc(12);
  head.writeUInt32BE(12 + value.length, 0);
  head.write(type, 4, "latin1");
  head.writeUInt16BE(value.length, 8);
  head.writeUInt16BE(0x15c7, 10); // "eng"
  return Buffer.concat([head, value]);
}

/** The MP4 with a `udta` box of `children` added at the end of its `moov` (the file's last box). */
function withUserData(mp4: Buffer, children: Buffer[]): Buffer {
  const boxes = topBoxes(mp4);
  const moov = boxes.find((b) => b.type === "moov");
  assert.ok(moov && moov.end === mp4.length, "moov is the last box");
  const body = Buffer.concat(children);
  const udta = Buffer.alloc(8);
  udta.writeUInt32BE(8 + body.length, 0);
  udta.write("udta", 4, "latin1");
  const out = Buffer.concat([mp4, udta, body]);
  out.writeUInt32BE(moov.end - moov.start + udta.length + body.length, moov.start);
  return out;
}

interface Box {
  type: string;
  start: number;
  end: number;
  path: string;
}

function topBoxes(data: Buffer, from = 0, to = data.length, parent = ""): Box[] {
  const boxes: Box[] = [];
  for (let at = from; at + 8 <= to; ) {
    let size = data.readUInt32BE(at);
    const type = data.toString("latin1", at + 4, at + 8);
    if (size === 1) size = Number(data.readBigUInt64BE(at + 8));
    if (size === 0) size = to - at;
    if (size < 8 || at + size > to) break;
    boxes.push({ type, start: at, end: at + size, path: `${parent}/${type}` });
    at += size;
  }
  return boxes;
}

const CONTAINERS = new Set([
  "moov",
  "trak",
  "mdia",
  "minf",
  "stbl",
  "udta",
  "edts",
  "dinf",
  "meta",
]);

/** Every box of the MP4's header, depth first (sample entries are not opened). */
function allBoxes(data: Buffer, from = 0, to = data.length, parent = ""): Box[] {
  const found: Box[] = [];
  for (const box of topBoxes(data, from, to, parent)) {
    found.push(box);
    if (box.type === "mdat" || !CONTAINERS.has(box.type)) continue;
    // `meta` is a full box (4 bytes of version and flags) in MP4, a plain one in QuickTime.
    const skip =
      box.type === "meta" && data.toString("latin1", box.start + 12, box.start + 16) === "hdlr"
        ? 12
        : 8;
    found.push(...allBoxes(data, box.start + skip, box.end, box.path));
  }
  return found;
}

/** The creation and modification times of every header box that has them. */
function headerTimes(data: Buffer, boxes: Box[]): number[] {
  return boxes
    .filter((b) => ["mvhd", "tkhd", "mdhd"].includes(b.type))
    .flatMap((b) =>
      data[b.start + 8] === 1
        ? [Number(data.readBigUInt64BE(b.start + 12)), Number(data.readBigUInt64BE(b.start + 20))]
        : [data.readUInt32BE(b.start + 12), data.readUInt32BE(b.start + 16)],
    );
}

/** Throws unless no byte of `bytes` spells any secret (as UTF-8 or UTF-16). */
function assertNoSecrets(bytes: Buffer, what: string): void {
  for (const secret of SECRETS) {
    for (const encoding of ["utf8", "utf16le"] as const)
      assert.equal(
        bytes.indexOf(Buffer.from(secret, encoding)),
        -1,
        `${what} contains ${JSON.stringify(secret)} (${encoding})`,
      );
  }
}

// ---------------------------------------------------------------- fixtures

let work = "";
const fixtures: Record<string, Buffer> = {};

/** Makes the test videos once, for both back ends. */
async function makeFixtures(): Promise<void> {
  work = await mkdtemp(path.join(tmpdir(), "clique-video-test-"));
  const at = (name: string) => path.join(work, name);
  const picture = (size: string, seconds: number) => [
    ...["-f", "lavfi", "-i", `testsrc2=size=${size}:rate=30`],
    ...["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000"],
    ...["-t", String(seconds)],
  ];
  const tags = [
    ...["-metadata", `title=${TITLE}`, "-metadata", `creation_time=${CREATED}`],
    ...["-metadata", `com.apple.quicktime.location.ISO6709=${GPS}`],
    ...["-metadata", `com.apple.quicktime.make=${MAKE}`],
    ...["-metadata", `com.apple.quicktime.model=${MODEL}`],
    ...["-metadata", `com.apple.quicktime.creationdate=${CREATED}`],
    ...["-movflags", "use_metadata_tags"],
  ];
  const h264 = ["-c:v", "libx264", "-preset", "veryfast", "-crf", "30", "-pix_fmt", "yuv420p"];
  const phoneAtoms = [
    qtText("\u00a9xyz", GPS),
    qtText("\u00a9nam", TITLE),
    qtText("\u00a9day", CREATED),
    qtText("\u00a9mak", MAKE),
    qtText("\u00a9mod", MODEL),
  ];

  // A phone's MP4: H.264 and AAC (copied), every kind of metadata phones write.
  await ffmpeg([...picture("640x360", 3), ...h264, "-c:a", "aac", ...tags, at("phone-raw.mp4")]);
  fixtures.phone = withUserData(await readFile(at("phone-raw.mp4")), phoneAtoms);
  // Held upright: the same, with a 90° display matrix.
  await ffmpeg([
    ...["-i", at("phone-raw.mp4"), "-c", "copy", "-metadata:s:v:0", "rotate=90"],
    at("upright-raw.mp4"),
  ]);
  fixtures.upright = withUserData(await readFile(at("upright-raw.mp4")), phoneAtoms);
  // An iPhone's QuickTime file in HEVC (re-encoded to H.264).
  await ffmpeg([
    ...picture("640x360", 2),
    ...[
      "-c:v",
      "libx265",
      "-preset",
      "ultrafast",
      "-tag:v",
      "hvc1",
      "-x265-params",
      "log-level=error",
    ],
    ...["-pix_fmt", "yuv420p", "-c:a", "aac", ...tags, "-f", "mov", at("iphone-raw.mov")],
  ]);
  fixtures.iphone = withUserData(await readFile(at("iphone-raw.mov")), phoneAtoms);
  // A WebM (VP9 and Opus, copied), with Matroska's tags: title, date, location, a track name.
  await ffmpeg([
    ...picture("640x360", 3),
    ...["-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "300k"],
    ...["-c:a", "libopus", "-metadata", `title=${TITLE}`, "-metadata", `creation_time=${CREATED}`],
    ...["-metadata", `LOCATION=${GPS}`, "-metadata:s:v:0", "title=CamName", at("clip.webm")],
  ]);
  fixtures.webm = await readFile(at("clip.webm"));
  // 720p, 10 s, at a high bit rate: over the test server's video limit.
  await ffmpeg([
    ...picture("1280x720", 10),
    "-c:v",
    "libx264",
    "-preset",
    "ultrafast",
    "-crf",
    "18",
    "-c:a",
    "aac",
    at("large.mp4"),
  ]);
  fixtures.large = await readFile(at("large.mp4"));
  // An MP4 whose header (moov) comes first, cut in the middle of its data.
  await ffmpeg([
    "-i",
    at("phone-raw.mp4"),
    "-c",
    "copy",
    "-movflags",
    "+faststart",
    at("fast.mp4"),
  ]);
  const fast = await readFile(at("fast.mp4"));
  fixtures.cutData = fast.subarray(0, Math.floor(fast.length * 0.6));
  // The usual MP4 (header last), cut before its header.
  fixtures.cutHeader = fixtures.phone.subarray(0, Math.floor(fixtures.phone.length * 0.6));
  // An MP4's first 64 bytes, then junk.
  fixtures.junk = Buffer.concat([fast.subarray(0, 64), randomBytes(200_000)]);
  // Sound only (an .m4a is an MP4 too).
  await ffmpeg([
    ...["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", "2"],
    ...["-c:a", "aac", "-f", "mp4", at("sound.m4a")],
  ]);
  fixtures.sound = await readFile(at("sound.m4a"));
}

// ------------------------------------------------------------------ server

class VideoWorld {
  readonly backend: "postgres" | "redis";
  db: TestDatabase | undefined;
  server: ServerProcess | undefined;
  mediaDir = "";
  token = "";

  constructor(backend: "postgres" | "redis") {
    this.backend = backend;
  }

  async start(): Promise<void> {
    this.mediaDir = await mkdtemp(path.join(tmpdir(), "clique-video-media-"));
    this.db = await createTestDatabase();
    const env = {
      ...process.env,
      DATABASE_URL: this.db.url,
      CLIQUE_DB_POOL: "4",
      CLIQUE_MEDIA_DIR: this.mediaDir,
      CLIQUE_VIDEO_LIMIT: String(VIDEO_LIMIT),
      REDIS_URL: this.backend === "redis" ? process.env.REDIS_URL : undefined,
      LOG_LEVEL: undefined,
      CLIQUE_ROLE: undefined,
    };
    await runCliOk(["init", "--name", "Films", "--owner", "alice", "--password-stdin"], {
      env,
      stdin: "alice-password-1",
    });
    this.token = lastLine(await runCliOk(["token", "create", "alice"], { env }));
    this.server = await startServerProcess({ env, databaseUrl: this.db.url });
  }

  async stop(failed: boolean): Promise<void> {
    if (this.server && (failed || / ERR clique/.test(this.server.output())))
      console.error(this.server.output().slice(-10_000));
    await this.server?.stop();
    if (this.backend === "redis" && this.server)
      await deleteRedisKeys(process.env.REDIS_URL!, `clique:${new URL(this.server.origin).host}`);
    await this.db?.drop();
    if (this.mediaDir) await rm(this.mediaDir, { recursive: true, force: true });
  }

  get url(): string {
    assert.ok(this.server, "the server is running");
    return this.server.url;
  }

  /** Uploads `bytes` as `filename`; the answer's status and JSON. */
  async upload(bytes: Buffer, filename: string, type: string) {
    const form = new FormData();
    form.set("file", new Blob([new Uint8Array(bytes)], { type }), filename);
    const response = await fetch(`${this.url}/api/v2/media`, {
      method: "POST",
      headers: { authorization: `Bearer ${this.token}` },
      body: form,
    });
    return { status: response.status, json: (await response.json()) as Json };
  }

  /** The upload, once processed: the attachment, or the reason it was refused. */
  async processed(id: string): Promise<{ status: number; json: Json }> {
    return eventually(
      `upload ${id} to be processed`,
      async () => {
        const response = await fetch(`${this.url}/api/v1/media/${id}`, {
          headers: { authorization: `Bearer ${this.token}` },
        });
        const json = (await response.json()) as Json;
        return response.status === 206 ? null : { status: response.status, json };
      },
      WAIT_MS,
    );
  }

  async ready(bytes: Buffer, filename: string, type: string): Promise<Attachment> {
    const sent = await this.upload(bytes, filename, type);
    assert.equal(sent.status, 202, JSON.stringify(sent.json));
    assert.equal(sent.json.type, "unknown", "not processed yet");
    const done = await this.processed(String(sent.json.id));
    assert.equal(done.status, 200, `${filename} is processed: ${JSON.stringify(done.json)}`);
    return done.json as unknown as Attachment;
  }

  async refused(bytes: Buffer, filename: string, type: string): Promise<string> {
    const sent = await this.upload(bytes, filename, type);
    assert.equal(sent.status, 202, JSON.stringify(sent.json));
    const done = await this.processed(String(sent.json.id));
    assert.equal(done.status, 422, `${filename} is refused: ${JSON.stringify(done.json)}`);
    return String(done.json.error);
  }

  async get(url: string, headers: Record<string, string> = {}, method = "GET") {
    const response = await fetch(url, {
      method,
      headers: { authorization: `Bearer ${this.token}`, ...headers },
    });
    return {
      status: response.status,
      headers: response.headers,
      body: Buffer.from(await response.arrayBuffer()),
    };
  }

  /** Every file under the media directory, by path relative to it. */
  async files(): Promise<string[]> {
    const entries = await readdir(this.mediaDir, { recursive: true, withFileTypes: true });
    return entries
      .filter((e) => e.isFile())
      .map((e) => path.relative(this.mediaDir, path.join(e.parentPath, e.name)))
      .sort();
  }
}

/** Saves `bytes` under the work directory, for ffmpeg to read. */
async function saved(name: string, bytes: Buffer): Promise<string> {
  const dir = path.join(work, "served");
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, name);
  await writeFile(file, bytes);
  return file;
}

/** The served video and poster of an attachment, checked for what every video must be. */
async function checkServed(
  world: VideoWorld,
  media: Attachment,
  expected: { name: string; width: number; height: number; duration: number; mediaType: string },
) {
  assert.equal(media.type, "video");
  assert.deepEqual(
    [media.meta.original?.width, media.meta.original?.height],
    [expected.width, expected.height],
    `${expected.name}: the size as shown`,
  );
  assert.ok(
    Math.abs((media.meta.duration ?? 0) - expected.duration) < 0.2,
    `${expected.name}: ${media.meta.duration} s, expected about ${expected.duration}`,
  );
  assert.match(media.blurhash ?? "", /^[0-9A-Za-z#$%*+,-.:;=?@[\]^_{|}~]{20,}$/, "a blurhash");
  assert.ok(media.url && media.preview_url, "a video and a poster");

  const video = await world.get(media.url);
  assert.equal(video.status, 200);
  assert.equal(video.headers.get("content-type"), expected.mediaType);
  assert.equal(video.headers.get("accept-ranges"), "bytes");
  assert.equal(Number(video.headers.get("content-length")), video.body.length);
  assertNoSecrets(video.body, `${expected.name}: the served video`);

  const poster = await world.get(media.preview_url);
  assert.equal(poster.status, 200);
  assert.equal(poster.headers.get("content-type"), "image/webp");
  const decoded = await sharp(poster.body).raw().toBuffer({ resolveWithObject: true });
  assert.equal((await sharp(poster.body).metadata()).format, "webp");
  assert.deepEqual(
    [decoded.info.width, decoded.info.height],
    [media.meta.small?.width, media.meta.small?.height],
    "the poster is the size the API says",
  );
  assert.equal(
    Math.sign(decoded.info.width - decoded.info.height),
    Math.sign(expected.width - expected.height),
    "the poster is upright like the video",
  );
  assertNoSecrets(poster.body, `${expected.name}: the poster`);

  const file = await saved(`${expected.name}.${expected.mediaType.split("/")[1]}`, video.body);
  const list = await listing(file);
  for (const word of ["creation_time", "location", "title", "com.apple", "make", "model"])
    assert.doesNotMatch(list, new RegExp(word, "i"), `${expected.name}: ffmpeg finds no ${word}`);
  const frames = await decodeAll(file);
  assert.ok(
    Math.abs(frames - expected.duration * 30) <= 2,
    `${expected.name}: ${frames} frames decoded, ${expected.duration * 30} expected`,
  );
  return { video: video.body, list };
}

// ------------------------------------------------------------------- tests

function videoSuite(backend: "postgres" | "redis", skip: string | false): void {
  describe(`video on BullMQ's ${backend === "redis" ? "Redis" : "PostgreSQL"} back end`, {
    concurrency: 1,
    timeout: 300_000,
  }, () => {
    const world = new VideoWorld(backend);
    let failed = false;
    let phone: Buffer | undefined;

    before(async () => {
      if (skip) return;
      if (!work) await makeFixtures();
      await world.start();
    });
    after(async () => {
      if (!skip) await world.stop(failed);
    });

    const it = (name: string, body: () => Promise<void>) =>
      test(name, { skip }, async () => {
        try {
          await body();
        } catch (error) {
          failed = true;
          throw error;
        }
      });

    it("the test videos carry GPS, a title, dates and the device", async () => {
      const source = await saved("phone-source.mp4", fixtures.phone!);
      const list = await listing(source);
      assert.match(list, /location\s+: \+48\.8583\+002\.2945\//, "©xyz is read as the location");
      assert.match(list, /com\.apple\.quicktime\.location\.ISO6709: \+48\.8583/);
      assert.match(list, /title\s+: Secret Title XYZZY/);
      assert.match(list, /creation_time\s+: 2019-06-01T12:34:56/);
      assert.ok(fixtures.phone!.includes(Buffer.from("\u00a9xyz", "latin1")));
      const times = headerTimes(fixtures.phone!, allBoxes(fixtures.phone!));
      assert.ok(times.includes(CREATED_MAC), "the header's binary creation time is 2019-06-01");
      const webm = await listing(await saved("clip-source.webm", fixtures.webm!));
      assert.match(webm, /LOCATION\s+: \+48\.8583/);
      assert.match(webm, /title\s+: CamName/);
    });

    it("a phone's MP4 is served without its metadata, streams copied, and plays", async () => {
      const media = await world.ready(fixtures.phone!, "holiday.mp4", "video/mp4");
      const { video, list } = await checkServed(world, media, {
        name: "phone",
        width: 640,
        height: 360,
        duration: 3,
        mediaType: "video/mp4",
      });
      phone = video;
      assert.match(list, /Video: h264/);
      assert.match(list, /Audio: aac/);
      const boxes = allBoxes(video);
      const types = new Set(boxes.map((b) => b.type));
      for (const forbidden of [
        "\u00a9xyz",
        "loci",
        "keys",
        "\u00a9nam",
        "\u00a9day",
        "\u00a9mak",
        "\u00a9mod",
        "uuid",
        "XMP_",
      ])
        assert.ok(!types.has(forbidden), `no ${forbidden} box in the served MP4`);
      for (const ilst of boxes.filter((b) => b.type === "ilst"))
        assert.equal(ilst.end - ilst.start, 8, "the iTunes tag list is empty");
      const times = headerTimes(video, boxes);
      assert.ok(times.length >= 3, "the header boxes are there");
      assert.deepEqual([...new Set(times)], [0], "every header time is 0 (1904), not 2019");
      // The header first, so a player starts before the whole file arrived.
      assert.deepEqual(
        topBoxes(video)
          .map((b) => b.type)
          .filter((t) => t !== "free"),
        ["ftyp", "moov", "mdat"],
      );
      // Copied: the same coded pictures as uploaded (x264's settings SEI removed is the only change).
      const source = await listing(await saved("phone-source.mp4", fixtures.phone!));
      assert.equal(
        /Video: (h264 \(High\))/.exec(list)?.[1],
        /Video: (h264 \(High\))/.exec(source)?.[1],
      );
      assert.ok(!video.includes(Buffer.from("x264 - core")), "no encoder SEI");
    });

    it("a video recorded upright is shown upright: its size and poster are portrait", async () => {
      const media = await world.ready(fixtures.upright!, "upright.mp4", "video/mp4");
      const { list } = await checkServed(world, media, {
        name: "upright",
        width: 360,
        height: 640,
        duration: 3,
        mediaType: "video/mp4",
      });
      assert.match(list, /displaymatrix: rotation of -?90/, "the display matrix is kept");
    });

    it("an iPhone's HEVC QuickTime file is re-encoded to H.264 in MP4, without metadata", async () => {
      const media = await world.ready(fixtures.iphone!, "IMG_0001.MOV", "video/quicktime");
      const { video, list } = await checkServed(world, media, {
        name: "iphone",
        width: 640,
        height: 360,
        duration: 2,
        mediaType: "video/mp4",
      });
      assert.match(list, /Video: h264 \(High\)/);
      assert.match(list, /yuv420p/);
      assert.match(list, /Audio: aac/);
      const times = headerTimes(video, allBoxes(video));
      assert.deepEqual([...new Set(times)], [0]);
    });

    it("a WebM is served as WebM, streams copied, without its tags", async () => {
      const media = await world.ready(fixtures.webm!, "clip.webm", "video/webm");
      const { list } = await checkServed(world, media, {
        name: "webm",
        width: 640,
        height: 360,
        duration: 3,
        mediaType: "video/webm",
      });
      assert.match(list, /Video: vp9/);
      assert.match(list, /Audio: opus/);
    });

    it("byte ranges: one range is 206 with Content-Range, past the end 416, HEAD has no body", async () => {
      const media = await world.ready(fixtures.phone!, "again.mp4", "video/mp4");
      assert.ok(media.url && phone);
      const whole = await world.get(media.url);
      const size = whole.body.length;
      assert.ok(whole.body.equals(phone), "the same upload is cleaned to the same bytes");
      const cases: [string, number, number][] = [
        ["bytes=0-1", 0, 1],
        ["bytes=0-99", 0, 99],
        ["bytes=100-", 100, size - 1],
        [`bytes=${size - 10}-${size + 1000}`, size - 10, size - 1],
        ["bytes=-50", size - 50, size - 1],
        [
          `bytes=${Math.floor(size / 2)}-${Math.floor(size / 2) + 70_000}`,
          Math.floor(size / 2),
          Math.floor(size / 2) + 70_000,
        ],
      ];
      for (const [range, start, end] of cases) {
        const part = await world.get(media.url, { range });
        assert.equal(part.status, 206, range);
        assert.equal(part.headers.get("content-range"), `bytes ${start}-${end}/${size}`, range);
        assert.equal(Number(part.headers.get("content-length")), end - start + 1, range);
        assert.ok(
          part.body.equals(whole.body.subarray(start, end + 1)),
          `${range}: the right bytes`,
        );
        assert.equal(part.headers.get("content-type"), "video/mp4");
      }
      const past = await world.get(media.url, { range: `bytes=${size}-` });
      assert.equal(past.status, 416);
      assert.equal(past.headers.get("content-range"), `bytes */${size}`);
      // Error answers are JSON everywhere (the edge's jsonErrors): no byte of the video.
      assert.equal((JSON.parse(past.body.toString("utf8")) as Json).error, "HTTP 416");
      // Several ranges, a stale If-Range, or a range that makes no sense: the whole file.
      const wholeFile: Record<string, string>[] = [
        { range: "bytes=0-1,5-6" },
        { range: "bytes=0-1", "if-range": '"another"' },
        { range: "bytes=9-3" },
        { range: "items=0-1" },
      ];
      for (const headers of wholeFile) {
        const full = await world.get(media.url, headers);
        assert.equal(full.status, 200, JSON.stringify(headers));
        assert.ok(full.body.equals(whole.body));
      }
      const fresh = await world.get(media.url, {
        range: "bytes=0-9",
        "if-range": whole.headers.get("etag")!,
      });
      assert.equal(fresh.status, 206);
      const head = await world.get(media.url, { range: "bytes=0-9" }, "HEAD");
      assert.equal(head.status, 206);
      assert.equal(head.headers.get("content-range"), `bytes 0-9/${size}`);
      assert.equal(head.body.length, 0);
      const revalidated = await world.get(media.url, {
        "if-none-match": whole.headers.get("etag")!,
      });
      assert.equal(revalidated.status, 304);
      // Nobody else gets a byte of it.
      const anonymous = await fetch(new URL(new URL(media.url).pathname, world.url), {
        headers: { range: "bytes=0-9" },
      });
      assert.equal(anonymous.status, 404);
    });

    it("damaged, junk, sound-only and oversized uploads are refused, leaving no file", async () => {
      const before = await world.files();
      const reasons = {
        cutData: await world.refused(fixtures.cutData!, "cut.mp4", "video/mp4"),
        cutHeader: await world.refused(fixtures.cutHeader!, "cut2.mp4", "video/mp4"),
        junk: await world.refused(fixtures.junk!, "junk.mp4", "video/mp4"),
        sound: await world.refused(fixtures.sound!, "song.m4a", "audio/mp4"),
      };
      assert.match(reasons.cutData, /damaged or incomplete/);
      assert.match(reasons.cutHeader, /not a video Clique can read|damaged/);
      assert.match(reasons.junk, /not a video Clique can read|damaged/);
      assert.match(reasons.sound, /no video track/);
      const large = await world.upload(fixtures.large!, "long.mp4", "video/mp4");
      assert.equal(large.status, 413, JSON.stringify(large.json));
      assert.match(String(large.json.error), new RegExp(`videos ${VIDEO_LIMIT}`));
      // The uploads were deleted with their refusal; nothing new is left.
      const after = await eventually("the refused uploads to be deleted", async () => {
        const files = await world.files();
        return files.every((f) => before.includes(f)) ? files : null;
      });
      assert.deepEqual(after, before);
      assert.ok(!after.some((f) => f.startsWith("incoming")), "nothing waits in incoming/");
    });
  });
}

describe("video uploads", { concurrency: 1 }, () => {
  after(async () => {
    await stopEmbeddedTestServer();
    if (work) await rm(work, { recursive: true, force: true });
  });
  videoSuite("postgres", false);
  videoSuite(
    "redis",
    process.env.REDIS_URL ? false : "REDIS_URL is not set: the Redis back end is not tested",
  );
});
