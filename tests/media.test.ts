/**
 * Photos, end to end (issue 9): real `clique` processes — one web process and
 * one worker on one database and one media directory (`CLIQUE_MEDIA_DIR`, a
 * temporary directory of this file's own) — with the job engine on PostgreSQL,
 * then on Redis (`REDIS_URL`; skipped with the reason when it is unset).
 *
 * - A JPEG carrying camera EXIF, GPS coordinates, XMP, IPTC and a Display P3
 *   ICC profile, turned by its EXIF orientation: no byte anyone is served
 *   (every variant; the API's URLs, with their grants and bare; the URLs of the
 *   ActivityPub `Note` when it carries attachments) and no file kept contains
 *   any of it; the picture is upright and its colours converted to sRGB.
 * - Bad input — empty, a PNG named `.jpg`, a 30 000 × 30 000 PNG, a truncated
 *   JPEG, an SVG with a script, a ZIP named `.png`, a JPEG with a ZIP
 *   appended, an upload cut off mid-stream, one over the size limit, 20 at
 *   once — each answered with a clear error or limit, leaving no row in the
 *   `media` table and no file in the media directory behind.
 * - Posts with photos (and only photos), edits of `media_ids`, uploads that
 *   cannot be attached (someone else's, one still processing, a failed one),
 *   `only_media` listings through the visibility rules, files deleted with
 *   their post, unattached uploads swept.
 * - kill -9 of the worker while it processes: after a restart, the upload
 *   ends `ready` and nothing is left over.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { crc32, deflateSync } from "node:zlib";
import { openDatabase } from "@clique/core/kysely";
import {
  createTestDatabase,
  lastLine,
  type ProcessEnv,
  runCli,
  runCliOk,
  type ServerProcess,
  startServerProcess,
  stopEmbeddedTestServer,
  type TestDatabase,
} from "@clique/testing";
import sharp from "sharp";
import { type Backend, backends } from "./support/delivery.ts";
import { eventually, fetchAs } from "./support/mastodon-signing.ts";
import {
  type MediaAttachment,
  meanColour,
  multipart,
  near,
  solidImage,
  upload,
  uploadReady,
  whenProcessed,
} from "./support/media.ts";
import { deleteRedisKeys, type StableOrigin, startStableOrigin } from "./support/restarts.ts";

type Json = Record<string, unknown>;

/** As `MAX_PROCESSING_PER_MEMBER` in core. */
const MAX_PROCESSING = 8;
/** Short, so that a killed worker's job is taken up again soon after a restart. */
const LOCK_MS = 2_000;
/** The default image limit (CLIQUE_IMAGE_LIMIT). */
const IMAGE_LIMIT = 16 * 1024 * 1024;

// ---------------------------------------------------------------- files made for the tests

/** Strings planted in the photo's metadata: none may come out. */
const PLANTED = {
  make: "CanaryCamMake",
  model: "CanaryModel9000",
  copyright: "exif-canary-owner",
  serial: "serial-canary-4711",
  lens: "lens-canary-50mm",
  gps: "gps-canary-datum",
  xmp: "xmp-canary-creator",
  iptc: "iptc-canary-byline",
};
/** Byte signatures of metadata blocks: EXIF, ICC, XMP, IPTC (Photoshop IRB), ICC's own magic. */
const SIGNATURES: Record<string, Buffer> = {
  "EXIF header": Buffer.from("Exif\0\0", "latin1"),
  "EXIF chunk": Buffer.from("EXIF", "latin1"),
  "ICC marker": Buffer.from("ICC_PROFILE", "latin1"),
  "ICC chunk": Buffer.from("ICCP", "latin1"),
  "ICC magic": Buffer.from("acsp", "latin1"),
  "XMP namespace": Buffer.from("http://ns.adobe.com/xap/1.0/", "latin1"),
  "XMP chunk": Buffer.from("XMP ", "latin1"),
  "IPTC block": Buffer.from("Photoshop 3.0", "latin1"),
  "IPTC resource": Buffer.from("8BIM", "latin1"),
};

/** The two halves of the test photo, as sRGB colours (the file holds them in Display P3). */
const RED: [number, number, number] = [220, 20, 20];
const GREEN: [number, number, number] = [40, 180, 60];

/**
 * A 300 × 200 JPEG, red on the left and green on the right, stored sideways:
 * EXIF orientation 6 says to turn it a quarter clockwise (so upright it is
 * 200 × 300, red above green). It carries camera EXIF, GPS (IFD3), XMP, IPTC
 * (an APP13 segment written by hand: sharp writes none) and a Display P3
 * profile, in which its pixels are stored.
 */
async function photoWithMetadata(): Promise<Buffer> {
  const left = await sharp({
    create: { width: 150, height: 200, channels: 3, background: rgb(RED) },
  })
    .png()
    .toBuffer();
  const xmp = `<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:creator>${PLANTED.xmp}</dc:creator></rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>`;
  const jpeg = await sharp({
    create: { width: 300, height: 200, channels: 3, background: rgb(GREEN) },
  })
    .composite([{ input: left, left: 0, top: 0 }])
    .jpeg({ quality: 92 })
    .withExif({
      IFD0: { Make: PLANTED.make, Model: PLANTED.model, Copyright: PLANTED.copyright },
      IFD2: { BodySerialNumber: PLANTED.serial, LensModel: PLANTED.lens },
      IFD3: {
        GPSLatitudeRef: "N",
        GPSLatitude: "51/1 28/1 3888/100",
        GPSLongitudeRef: "W",
        GPSLongitude: "0/1 7/1 3900/100",
        GPSMapDatum: PLANTED.gps,
      },
    })
    .withMetadata({ orientation: 6 })
    .withIccProfile("p3")
    .withXmp(xmp)
    .toBuffer();
  // IPTC: a Photoshop APP13 segment with one IPTC dataset (2:80, By-line).
  const dataset = Buffer.concat([
    Buffer.from([0x1c, 0x02, 0x50, 0x00, PLANTED.iptc.length]),
    Buffer.from(PLANTED.iptc, "latin1"),
  ]);
  const size = Buffer.alloc(4);
  size.writeUInt32BE(dataset.length);
  const resource = Buffer.concat([
    Buffer.from("8BIM", "latin1"),
    Buffer.from([0x04, 0x04, 0x00, 0x00]),
    size,
    dataset,
    Buffer.alloc(dataset.length % 2),
  ]);
  const payload = Buffer.concat([Buffer.from("Photoshop 3.0\0", "latin1"), resource]);
  const header = Buffer.from([0xff, 0xed, 0, 0]);
  header.writeUInt16BE(payload.length + 2, 2);
  return Buffer.concat([jpeg.subarray(0, 2), header, payload, jpeg.subarray(2)]);
}

function rgb([r, g, b]: readonly number[]) {
  return { r: r!, g: g!, b: b! };
}

/** A PNG chunk. */
function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, "latin1"), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** A black 1-bit PNG of `side` × `side` pixels, written by hand: 30 000² is about 110 KB. */
function hugePng(side: number): Buffer {
  const row = Buffer.alloc(1 + Math.ceil(side / 8)); // filter 0, then zero bits
  const raw = Buffer.alloc(row.length * side);
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(side, 0);
  ihdr.writeUInt32BE(side, 4);
  ihdr.set([1, 0, 0, 0, 0], 8); // bit depth 1, greyscale, deflate, no filter method, no interlace
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", ihdr),
    chunk("IDAT", deflateSync(raw, { level: 9 })),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

/** A ZIP archive holding one stored file, written by hand. */
function zipOf(name: string, content: string): Buffer {
  const data = Buffer.from(content);
  const file = Buffer.from(name);
  const crc = crc32(data);
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(20, 4);
  local.writeUInt32LE(crc, 14);
  local.writeUInt32LE(data.length, 18);
  local.writeUInt32LE(data.length, 22);
  local.writeUInt16LE(file.length, 26);
  const central = Buffer.alloc(46);
  central.writeUInt32LE(0x02014b50, 0);
  central.writeUInt16LE(20, 4);
  central.writeUInt16LE(20, 6);
  central.writeUInt32LE(crc, 16);
  central.writeUInt32LE(data.length, 20);
  central.writeUInt32LE(data.length, 24);
  central.writeUInt16LE(file.length, 28);
  const centralOffset = local.length + file.length + data.length;
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(1, 8);
  end.writeUInt16LE(1, 10);
  end.writeUInt32LE(central.length + file.length, 12);
  end.writeUInt32LE(centralOffset, 16);
  return Buffer.concat([local, file, data, central, file, end]);
}

/** A noisy JPEG (its data is most of its bytes, so cutting it cuts the picture). */
async function noisyJpeg(width: number, height: number): Promise<Buffer> {
  return sharp({
    create: {
      width,
      height,
      channels: 3,
      background: { r: 0, g: 0, b: 0 },
      noise: { type: "gaussian", mean: 128, sigma: 40 },
    },
  })
    .jpeg({ quality: 90 })
    .toBuffer();
}

/** A large JPEG that takes the worker a while (48 megapixels, a smooth picture of a few MB). */
async function largeJpeg(seed: number): Promise<Buffer> {
  const small = await sharp({
    create: {
      width: 60,
      height: 80,
      channels: 3,
      background: { r: 0, g: 0, b: 0 },
      noise: { type: "gaussian", mean: 100 + seed, sigma: 50 },
    },
  })
    .png()
    .toBuffer();
  return sharp(small).resize(6000, 8000, { kernel: "cubic" }).jpeg({ quality: 80 }).toBuffer();
}

/** Where in `bytes` each planted string or metadata signature occurs. */
function metadataIn(bytes: Uint8Array): string[] {
  const buffer = Buffer.from(bytes);
  return [
    ...Object.entries(PLANTED)
      .filter(([, text]) => buffer.includes(text))
      .map(([what]) => `planted ${what}`),
    ...Object.entries(SIGNATURES)
      .filter(([, sig]) => buffer.includes(sig))
      .map(([what]) => what),
  ];
}

// ---------------------------------------------------------------- one Clique per back end

interface Row {
  id: string;
  state: string;
  owner_id: string;
  post_id: string | null;
  display_key: string | null;
  small_key: string | null;
  error: string | null;
}

class MediaClique {
  db!: TestDatabase;
  kysely!: ReturnType<typeof openDatabase>;
  dir!: string;
  stable!: StableOrigin;
  web!: ServerProcess;
  worker: ServerProcess | null = null;
  env: ProcessEnv = {};
  readonly tokens = { alice: "", bob: "" };
  readonly ids = { alice: "", bob: "" };
  readonly backend: Backend;

  constructor(backend: Backend) {
    this.backend = backend;
  }

  async start(): Promise<void> {
    this.db = await createTestDatabase();
    this.kysely = openDatabase(this.db.url, { maxConnections: 2 });
    this.dir = await mkdtemp(path.join(tmpdir(), `clique-media-${this.backend.name}-`));
    this.stable = await startStableOrigin();
    this.env = {
      ...process.env,
      ...this.backend.env,
      DATABASE_URL: this.db.url,
      CLIQUE_MEDIA_DIR: this.dir,
      CLIQUE_ORIGIN: this.stable.origin,
      CLIQUE_DB_POOL: "4",
      CLIQUE_JOB_LOCK_MS: String(LOCK_MS),
      CLIQUE_ROLE: undefined,
    };
    await runCliOk(["init", "--name", "Photos", "--owner", "alice", "--password-stdin"], {
      env: this.env,
      stdin: "alice-password-1",
    });
    const code = lastLine(await runCliOk(["invite", "create", "--by", "alice"], { env: this.env }));
    await runCliOk(["invite", "redeem", code, "--username", "bob", "--password-stdin"], {
      env: this.env,
      stdin: "bob-password-22",
    });
    this.web = await startServerProcess({
      env: { ...this.env, CLIQUE_ROLE: "web" },
      origin: this.stable.origin,
    });
    this.stable.point(this.web.port);
    await this.startWorker();
    for (const name of ["alice", "bob"] as const) {
      this.tokens[name] = lastLine(await runCliOk(["token", "create", name], { env: this.env }));
      this.ids[name] = (
        await this.api<{ id: string }>(name, "GET", "/api/v1/accounts/verify_credentials")
      ).id;
    }
  }

  async startWorker(): Promise<void> {
    assert.equal(this.worker, null, "one worker at a time");
    this.worker = await startServerProcess({
      env: { ...this.env, CLIQUE_ROLE: "worker" },
      origin: this.stable.origin,
    });
  }

  async stopWorker(): Promise<void> {
    await this.worker?.stop();
    this.worker = null;
  }

  get url(): string {
    return this.web.url;
  }

  async stop(): Promise<void> {
    const output = `${this.web?.output() ?? ""}\n${this.worker?.output() ?? ""}`;
    if (/ ERR /.test(output)) console.error(output.slice(-20_000));
    await this.worker?.stop().catch(() => {});
    await this.web?.stop().catch(() => {});
    await this.stable?.close().catch(() => {});
    await this.kysely?.destroy().catch(() => {});
    await this.db?.drop().catch(() => {});
    if (this.backend.name === "redis" && this.backend.env.REDIS_URL && this.stable)
      await deleteRedisKeys(
        this.backend.env.REDIS_URL,
        `clique:${new URL(this.stable.origin).host}`,
      ).catch(() => {});
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
  }

  /** The client API as a member; any answer. */
  async call(
    who: "alice" | "bob" | null,
    method: string,
    pathname: string,
    body?: unknown,
  ): Promise<{ status: number; json: Json & Json[]; headers: Headers; text: string }> {
    const response = await fetch(`${this.url}${pathname}`, {
      method,
      headers: {
        ...(who ? { authorization: `Bearer ${this.tokens[who]}` } : {}),
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    let json = {} as Json & Json[];
    try {
      json = JSON.parse(text);
    } catch {}
    return { status: response.status, json, headers: response.headers, text };
  }

  /** The client API as a member; a 2xx is expected. */
  async api<T = Json>(
    who: "alice" | "bob" | null,
    method: string,
    pathname: string,
    body?: unknown,
  ): Promise<T> {
    const r = await this.call(who, method, pathname, body);
    assert.ok(r.status >= 200 && r.status < 300, `${method} ${pathname}: ${r.status} ${r.text}`);
    return r.json as T;
  }

  /** A file the server serves (a media URL, absolute on the public origin or a path). */
  async file(
    url: string,
    who: "alice" | "bob" | null = null,
  ): Promise<{ status: number; bytes: Buffer; headers: Headers }> {
    const target = url.startsWith("/") ? `${this.url}${url}` : url;
    const response = await fetch(target, {
      headers: who ? { authorization: `Bearer ${this.tokens[who]}` } : {},
    });
    return {
      status: response.status,
      bytes: Buffer.from(await response.arrayBuffer()),
      headers: response.headers,
    };
  }

  async rows(): Promise<Row[]> {
    return this.kysely
      .selectFrom("media")
      .select(["id", "state", "owner_id", "post_id", "display_key", "small_key", "error"])
      .orderBy("id")
      .execute() as Promise<Row[]>;
  }

  /** Every file under the media directory, relative to it. */
  async files(): Promise<string[]> {
    const entries = await readdir(this.dir, { recursive: true, withFileTypes: true });
    return entries
      .filter((e) => e.isFile())
      .map((e) => path.relative(this.dir, path.join(e.parentPath, e.name)))
      .sort();
  }

  /** What is stored now: rows and files. */
  async snapshot(): Promise<{ rows: Row[]; files: string[] }> {
    return { rows: await this.rows(), files: await this.files() };
  }

  /** Waits until rows and files are exactly as in `before` (processing and deletions are jobs). */
  async nothingLeftSince(before: { rows: Row[]; files: string[] }, what: string): Promise<void> {
    const now = await eventually(
      `${what} to leave nothing behind`,
      async () => {
        const s = await this.snapshot();
        return JSON.stringify(s) === JSON.stringify(before) ? s : null;
      },
      20_000,
    ).catch(async () => this.snapshot());
    assert.deepEqual(now, before, `${what}: rows and files left behind`);
  }

  /** The files of the ready uploads' variants; every stored file must be one of them. */
  async assertFilesAreVariants(): Promise<void> {
    const rows = await this.rows();
    const keys = rows.flatMap((r) => [r.display_key, r.small_key]).filter((k) => k !== null);
    const expected = keys.map((k) => path.join(k.slice(0, 2), k)).sort();
    await eventually("the media directory to hold exactly the variants of the rows", async () =>
      JSON.stringify(await this.files()) === JSON.stringify(expected) ? true : null,
    ).catch(() => undefined);
    assert.deepEqual(await this.files(), expected, "files that are no row's variant");
  }
}

// ---------------------------------------------------------------- the tests

for (const backend of backends()) {
  describe(`media, the job engine on ${backend.name}`, { skip: backend.skip }, () => {
    const c = new MediaClique(backend);
    before(() => c.start());
    after(() => c.stop());

    test("no byte served or kept holds the photo's EXIF, GPS, XMP, IPTC or ICC; it is upright and in sRGB", async (t) => {
      const original = await photoWithMetadata();
      // The file really carries all of it.
      const meta = await sharp(original).metadata();
      assert.equal(meta.orientation, 6);
      assert.ok(meta.exif && meta.xmp && meta.icc && meta.iptc, "EXIF, XMP, ICC and IPTC planted");
      assert.deepEqual(
        metadataIn(original).filter((m) => m.startsWith("planted")).length,
        Object.keys(PLANTED).length,
        "every planted string is in the original",
      );
      const media = await uploadReady(c.url, c.tokens.alice, original, {
        filename: "IMG_0001.jpg",
        fields: { description: "Red over green", focus: "0.0,0.5" },
      });
      assert.deepEqual(
        media.meta.original,
        { width: 200, height: 300, size: "200x300", aspect: 200 / 300 },
        "upright: width and height swapped",
      );
      assert.equal(media.type, "image");
      assert.match(media.blurhash ?? "", /^[0-9A-Za-z#$%*+,\-.:;=?@[\]^_{|}~]{6,}$/);
      const status = await c.api<{ id: string; media_attachments: MediaAttachment[] }>(
        "alice",
        "POST",
        "/api/v1/statuses",
        { status: "A day out", visibility: "public", media_ids: [media.id] },
      );
      const [attached] = status.media_attachments;
      assert.equal(attached?.id, media.id);
      // Every URL anyone is handed: the upload's (a grant for alice), the post's (public:
      // bare), each also bare and as anonymous, and those of the ActivityPub Note.
      const urls = new Set<string>();
      for (const m of [media, attached!])
        for (const u of [m.url, m.preview_url]) {
          assert.ok(u, "a URL for each variant");
          urls.add(u);
          urls.add(u.split("?")[0]!);
        }
      const note = await fetchAs(`${c.stable.origin}/users/alice/statuses/${status.id}`, null, {
        accept: "application/activity+json",
      });
      assert.equal(note.status, 200, note.text);
      const noteUrls = [...note.text.matchAll(/"(https?:[^"]*\/media\/[^"]+)"/g)].map((m) => m[1]!);
      if (noteUrls.length === 0)
        t.diagnostic("the Note carries no attachment yet: its URLs are not checked");
      for (const u of noteUrls) urls.add(u);
      const keys = new Set([...urls].map((u) => new URL(u).pathname));
      assert.equal(keys.size, 2, `two variants: ${[...keys].join(", ")}`);
      for (const u of urls) {
        for (const who of ["alice", null] as const) {
          const served = await c.file(u.replace(c.stable.origin, c.url), who);
          assert.equal(served.status, 200, `${u} as ${who ?? "anonymous"}`);
          assert.deepEqual(metadataIn(served.bytes), [], `metadata in ${u}`);
          const info = await sharp(served.bytes).metadata();
          assert.equal(info.format, "webp");
          assert.deepEqual(
            [info.exif, info.xmp, info.icc, info.iptc, info.orientation],
            [undefined, undefined, undefined, undefined, undefined],
            `${u}: no metadata block`,
          );
          assert.ok(info.width! < info.height!, `${u} is upright (${info.width}×${info.height})`);
          // Red above green, in sRGB (left in Display P3, the red would read about 201,49,36).
          const h = info.height!;
          const half = Math.floor(h / 2);
          const top = await meanColour(
            await sharp(served.bytes)
              .extract({ left: 0, top: 0, width: info.width!, height: half - 4 })
              .png()
              .toBuffer(),
          );
          const bottom = await meanColour(
            await sharp(served.bytes)
              .extract({ left: 0, top: half + 4, width: info.width!, height: h - half - 4 })
              .png()
              .toBuffer(),
          );
          assert.ok(near(top, RED), `${u}: red on top, in sRGB (got ${top})`);
          assert.ok(near(bottom, GREEN), `${u}: green below, in sRGB (got ${bottom})`);
        }
      }
      // Nothing kept holds it either: the original is gone once processed.
      const kept = await c.files();
      assert.ok(kept.length >= 2);
      assert.ok(!kept.some((f) => f.startsWith("incoming")), `sources left: ${kept}`);
      for (const f of kept)
        assert.deepEqual(metadataIn(await readFile(path.join(c.dir, f))), [], `metadata in ${f}`);
      t.diagnostic(
        `${urls.size} URLs, ${keys.size} files checked; the original was ${original.length} bytes`,
      );
    });

    test("bad input: a clear error or limit each, and no row or file left behind", async (t) => {
      const refused = async (
        what: string,
        bytes: Buffer,
        expected: { status?: number; code: string; message: RegExp },
        filename = "photo.png",
      ) => {
        const before = await c.snapshot();
        const sent = await upload(c.url, c.tokens.alice, bytes, { filename });
        let answer = sent;
        if (sent.status === 202) {
          // Refused by processing: told on the next look at the upload.
          const done = await whenProcessed(c.url, c.tokens.alice, sent.json.id as string);
          answer = { status: done.status, json: done.json, text: JSON.stringify(done.json) };
        }
        assert.equal(answer.status, expected.status ?? 422, `${what}: ${answer.text}`);
        assert.equal(answer.json.code, expected.code, `${what}: ${answer.text}`);
        assert.match(String(answer.json.error), expected.message, what);
        await c.nothingLeftSince(before, what);
        t.diagnostic(
          `${what} (${bytes.length} bytes): ${sent.status}${sent.status === 202 ? ` then ${answer.status}` : ""} ${answer.json.error}`,
        );
      };
      await refused("a zero-byte file", Buffer.alloc(0), {
        code: "invalid_input",
        message: /empty/,
      });
      const huge = hugePng(30_000);
      await refused("a 30 000 × 30 000 PNG", huge, {
        code: "media_failed",
        message: /900000000 pixels; at most 50000000/,
      });
      const jpeg = await noisyJpeg(800, 600);
      await refused(
        "a truncated JPEG",
        jpeg.subarray(0, Math.floor(jpeg.length * 0.6)),
        {
          code: "media_failed",
          message: /damaged or incomplete/,
        },
        "cut.jpg",
      );
      const svg =
        '<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100"><script>alert(document.cookie)</script><rect width="100" height="100" fill="red"/></svg>';
      await refused(
        "an SVG with a script",
        Buffer.from(svg),
        {
          code: "media_failed",
          message: /SVG files are not taken/,
        },
        "image.svg",
      );
      await refused("a ZIP named .png", zipOf("hello.txt", "zip-canary-content"), {
        code: "media_failed",
        message: /not an image Clique can read/,
      });
      const tooBig = Buffer.concat([jpeg.subarray(0, 20), randomBytes(IMAGE_LIMIT + 1024)]);
      await refused("a file over the image limit", tooBig, {
        status: 413,
        code: "payload_too_large",
        message: new RegExp(`at most ${IMAGE_LIMIT} bytes`),
      });

      // Accepted: the type comes from the bytes, whatever the name says.
      const png = await solidImage(120, 80, [10, 120, 240]);
      const named = await uploadReady(c.url, c.tokens.alice, png, { filename: "holiday.jpg" });
      assert.equal(named.type, "image");
      assert.deepEqual([named.meta.original?.width, named.meta.original?.height], [120, 80]);
      const namedFile = await c.file(named.url!, "alice");
      assert.ok(near(await meanColour(namedFile.bytes), [10, 120, 240]), "the PNG's picture");
      t.diagnostic(`a PNG named .jpg: ready, ${namedFile.bytes.length} bytes of WebP`);

      // A JPEG with a ZIP appended: the picture is taken, the ZIP is not served.
      const blue = await solidImage(160, 120, [30, 30, 200], "jpeg");
      const polyglot = Buffer.concat([blue, zipOf("payload.txt", "zip-canary-content")]);
      assert.equal((await sharp(polyglot).metadata()).format, "jpeg", "a valid JPEG");
      const taken = await uploadReady(c.url, c.tokens.alice, polyglot, { filename: "x.jpg" });
      for (const u of [taken.url!, taken.preview_url!]) {
        const served = await c.file(u, "alice");
        assert.equal(served.status, 200);
        assert.ok(!served.bytes.includes(Buffer.from("PK\u0003\u0004", "latin1")), `a ZIP in ${u}`);
        assert.ok(!served.bytes.includes("zip-canary-content"), `the ZIP's content in ${u}`);
        assert.ok(near(await meanColour(served.bytes), [30, 30, 200]), "the JPEG's picture");
      }
      t.diagnostic(`a JPEG with a ZIP appended (${polyglot.length} bytes): ready, no ZIP served`);
    });

    test("an upload cut off mid-stream leaves nothing behind (it was being written to disk)", async (t) => {
      const before = await c.snapshot();
      const file = randomBytes(4 * 1024 * 1024);
      file.set([0xff, 0xd8, 0xff, 0xe0], 0);
      const { type, body } = multipart([
        { name: "file", filename: "big.jpg", contentType: "image/jpeg", body: file },
      ]);
      const socket = connect(c.web.port, "127.0.0.1");
      await new Promise<void>((resolve, reject) => {
        socket.once("connect", resolve);
        socket.once("error", reject);
      });
      socket.on("error", () => {});
      socket.write(
        [
          "POST /api/v2/media HTTP/1.1",
          `Host: 127.0.0.1:${c.web.port}`,
          `Authorization: Bearer ${c.tokens.alice}`,
          `Content-Type: ${type}`,
          `Content-Length: ${body.length}`,
          "",
          "",
        ].join("\r\n"),
      );
      const half = Math.floor(body.length / 2);
      socket.write(body.subarray(0, half));
      // The half that came is on disk (streamed, not held in memory) before the sender stops.
      const partial = await eventually(
        "the upload's bytes to reach the media directory",
        async () => {
          for (const f of await c.files().catch(() => [])) {
            if (!f.startsWith("incoming")) continue;
            const size = (await readFile(path.join(c.dir, f)).catch(() => Buffer.alloc(0))).length;
            if (size > 1024 * 1024) return { f, size };
          }
          return null;
        },
      );
      // The sender stops sending, then goes away.
      await sleep(200);
      socket.destroy();
      await c.nothingLeftSince(before, "an upload cut off mid-stream");
      t.diagnostic(
        `${partial.size} of ${body.length} bytes were on disk (${partial.f}) when the sender went away`,
      );
    });

    test(`20 uploads at once: ${MAX_PROCESSING} wait to be processed, the others get 429, the ${MAX_PROCESSING} end ready`, async (t) => {
      // No worker: what is accepted waits, so the limit is what decides.
      await c.stopWorker();
      t.after(async () => {
        if (!c.worker) await c.startWorker();
      });
      const before = await c.snapshot();
      const images = await Promise.all(
        Array.from({ length: 20 }, (_, i) => solidImage(64, 48, [i * 12, 100, 200 - i * 8])),
      );
      const answers = await Promise.all(
        images.map((bytes, i) =>
          upload(c.url, c.tokens.alice, bytes, { filename: `burst-${i}.png` }),
        ),
      );
      const accepted = answers.filter((a) => a.status === 202);
      const limited = answers.filter((a) => a.status === 429);
      t.diagnostic(`answers: ${answers.map((a) => a.status).join(" ")}`);
      assert.equal(accepted.length, MAX_PROCESSING, "accepted");
      assert.equal(limited.length, 20 - MAX_PROCESSING, "refused with 429");
      for (const a of limited) {
        assert.equal(a.json.code, "too_many_processing");
        assert.match(String(a.json.error), /At most 8 uploads can wait to be processed/);
      }
      const rows = await c.rows();
      const added = rows.filter((r) => !before.rows.some((b) => b.id === r.id));
      assert.equal(
        added.length,
        MAX_PROCESSING,
        "one row per accepted upload, none for the others",
      );
      assert.ok(added.every((r) => r.state === "processing"));
      // Only the accepted uploads' bytes wait in the media directory.
      const incoming = (await c.files()).filter((f) => !before.files.includes(f));
      assert.equal(incoming.length, MAX_PROCESSING, `files: ${incoming}`);

      // Meanwhile, one of them cannot be attached yet.
      const early = await c.call("alice", "POST", "/api/v1/statuses", {
        status: "too soon",
        media_ids: [accepted[0]!.json.id],
      });
      assert.equal(early.status, 422, early.text);
      assert.equal(early.json.code, "media_not_ready");

      await c.startWorker();
      for (const a of accepted) {
        const done = await whenProcessed(c.url, c.tokens.alice, a.json.id as string);
        assert.equal(done.status, 200, JSON.stringify(done.json));
      }
      await c.assertFilesAreVariants();
    });

    test("posts with photos: with text, with only photos, edited; others' and failed uploads refused", async () => {
      const [red, green, yellow] = await Promise.all(
        (
          [
            [200, 30, 30],
            [30, 200, 30],
            [220, 220, 30],
          ] as const
        ).map(async (colour) =>
          uploadReady(c.url, c.tokens.alice, await solidImage(100, 100, colour)),
        ),
      );
      const bobs = await uploadReady(c.url, c.tokens.bob, await solidImage(50, 50, [0, 0, 0]));
      const withText = await c.api<{
        id: string;
        content: string;
        media_attachments: MediaAttachment[];
      }>("alice", "POST", "/api/v1/statuses", {
        status: "Red",
        visibility: "public",
        media_ids: [red!.id],
      });
      assert.deepEqual(
        withText.media_attachments.map((m) => m.id),
        [red!.id],
      );
      const onlyPhotos = await c.api<{
        id: string;
        content: string;
        media_attachments: MediaAttachment[];
      }>("alice", "POST", "/api/v1/statuses", {
        status: "",
        visibility: "public",
        media_ids: [green!.id, yellow!.id],
      });
      assert.equal(onlyPhotos.content, "");
      assert.deepEqual(
        onlyPhotos.media_attachments.map((m) => m.id),
        [green!.id, yellow!.id],
        "in order",
      );
      const shown = await c.file(onlyPhotos.media_attachments[1]!.url!);
      assert.ok(near(await meanColour(shown.bytes), [220, 220, 30]), "the second is yellow");

      // Refused: someone else's upload, one attached to another post, more than eight, none at all.
      for (const [ids, code] of [
        [[bobs.id], "media_not_found"],
        [[red!.id], "media_not_found"],
        [["00000000-0000-7000-8000-000000000000"], "media_not_found"],
      ] as const) {
        const r = await c.call("alice", "POST", "/api/v1/statuses", {
          status: "x",
          media_ids: ids,
        });
        assert.equal(r.status, 422, r.text);
        assert.equal(r.json.code, code, r.text);
      }
      const nine = await c.call("alice", "POST", "/api/v1/statuses", {
        status: "x",
        media_ids: Array.from({ length: 9 }, () => red!.id),
      });
      assert.equal(nine.status, 422, nine.text);
      const empty = await c.call("alice", "POST", "/api/v1/statuses", {
        status: "",
        media_ids: [],
      });
      assert.equal(empty.status, 422, empty.text);

      // A failed upload: refused while it is failed, then gone once its failure was told.
      const broken = await noisyJpeg(400, 300);
      const failed = await upload(c.url, c.tokens.alice, broken.subarray(0, broken.length / 2));
      assert.equal(failed.status, 202);
      const failedId = failed.json.id as string;
      await eventually("the broken upload to fail", async () =>
        (await c.rows()).some((r) => r.id === failedId && r.state === "failed"),
      );
      const attachFailed = await c.call("alice", "POST", "/api/v1/statuses", {
        status: "x",
        media_ids: [failedId],
      });
      assert.equal(attachFailed.status, 422, attachFailed.text);
      assert.equal(attachFailed.json.code, "media_failed");

      // Editing: the photos replaced, then taken off. A photo taken off is deleted, files and
      // all: one shown to this post's audience never moves to another under the same URL.
      const edited = await c.api<{ media_attachments: MediaAttachment[] }>(
        "alice",
        "PUT",
        `/api/v1/statuses/${onlyPhotos.id}`,
        { status: "Now with words", media_ids: [yellow!.id] },
      );
      assert.deepEqual(
        edited.media_attachments.map((m) => m.id),
        [yellow!.id],
      );
      const greenRow = (await c.rows()).find((r) => r.id === green!.id);
      assert.equal(greenRow, undefined, "green is gone");
      await c.assertFilesAreVariants();
      const bare = await c.api<{ media_attachments: MediaAttachment[] }>(
        "alice",
        "PUT",
        `/api/v1/statuses/${onlyPhotos.id}`,
        { status: "Only words", media_ids: [] },
      );
      assert.deepEqual(bare.media_attachments, []);
      const noText = await c.call("alice", "PUT", `/api/v1/statuses/${withText.id}`, {
        status: "",
        media_ids: [],
      });
      assert.equal(noText.status, 422, "a post needs text or a photo");
      // Alt text and focal point reach the post.
      await c.api("alice", "PUT", `/api/v1/media/${red!.id}`, {
        description: "A red square",
        focus: "-0.5,0.25",
      });
      const reread = await c.api<{ media_attachments: MediaAttachment[] }>(
        "bob",
        "GET",
        `/api/v1/statuses/${withText.id}`,
      );
      assert.equal(reread.media_attachments[0]?.description, "A red square");
      assert.deepEqual(reread.media_attachments[0]?.meta.focus, { x: -0.5, y: 0.25 });
    });

    test("only_media lists the posts with photos, as each viewer may see them", async () => {
      const photo = async () =>
        (await uploadReady(c.url, c.tokens.alice, await solidImage(40, 40, [90, 90, 90]))).id;
      const post = async (body: Json) =>
        (await c.api<{ id: string }>("alice", "POST", "/api/v1/statuses", body)).id;
      const mine = {
        publicPhoto: await post({
          status: "public photo",
          visibility: "public",
          media_ids: [await photo()],
        }),
        publicText: await post({ status: "public words", visibility: "public" }),
        cliquePhoto: await post({
          status: "clique photo",
          audience: "clique",
          media_ids: [await photo()],
        }),
        privatePhoto: await post({
          status: "followers photo",
          visibility: "private",
          media_ids: [await photo()],
        }),
      };
      const list = async (who: "alice" | "bob" | null, query = "only_media=true&limit=40") =>
        c.api<{ id: string; media_attachments: unknown[] }[]>(
          who,
          "GET",
          `/api/v1/accounts/${c.ids.alice}/statuses?${query}`,
        );
      const everything = await list("alice", "limit=40");
      const expected = (who: "alice" | "bob" | null) =>
        everything
          .filter((s) => s.media_attachments.length > 0)
          .map((s) => s.id)
          .filter(
            (id) =>
              who === "alice" ||
              (id !== mine.privatePhoto && (who === "bob" || id !== mine.cliquePhoto)),
          );
      for (const who of ["alice", "bob", null] as const) {
        const listed = await list(who);
        assert.ok(
          listed.every((s) => s.media_attachments.length > 0),
          `${who}: only posts with photos`,
        );
        assert.deepEqual(
          listed.map((s) => s.id),
          expected(who),
          `${who ?? "anonymous"}'s media tab`,
        );
        assert.ok(!listed.some((s) => s.id === mine.publicText));
      }
      const anonymous = (await list(null)).map((s) => s.id);
      assert.ok(anonymous.includes(mine.publicPhoto) && !anonymous.includes(mine.cliquePhoto));
      assert.ok(
        (await list("bob")).some((s) => s.id === mine.cliquePhoto),
        "bob, a member, sees the Clique's",
      );
      assert.ok(
        !(await list("bob")).some((s) => s.id === mine.privatePhoto),
        "bob does not follow alice",
      );
      // Pages follow the same filter.
      const first = await c.call(
        null,
        "GET",
        `/api/v1/accounts/${c.ids.alice}/statuses?only_media=true&limit=1`,
      );
      const next = /<([^>]+)>;\s*rel="next"/.exec(first.headers.get("link") ?? "")?.[1];
      assert.ok(next, "a next page");
      const second = await fetch(next.replace(c.stable.origin, c.url));
      const page = (await second.json()) as { id: string }[];
      assert.deepEqual(
        page.map((s) => s.id),
        expected(null).slice(1, 2),
      );
    });

    test("deleting a post deletes its files; unattached uploads are swept", async () => {
      const photo = await uploadReady(c.url, c.tokens.alice, await solidImage(90, 60, [5, 5, 5]));
      const status = await c.api<{ id: string; media_attachments: MediaAttachment[] }>(
        "alice",
        "POST",
        "/api/v1/statuses",
        { status: "soon gone", audience: "clique", media_ids: [photo.id] },
      );
      const urls = [status.media_attachments[0]!.url!, status.media_attachments[0]!.preview_url!];
      for (const u of urls)
        assert.equal((await c.file(u)).status, 200, "served while the post lives");
      const row = (await c.rows()).find((r) => r.id === photo.id)!;
      const files = [row.display_key!, row.small_key!].map((k) => path.join(k.slice(0, 2), k));
      const stored = await c.files();
      assert.ok(
        files.every((f) => stored.includes(f)),
        "its two files are stored",
      );
      await c.api("alice", "DELETE", `/api/v1/statuses/${status.id}`);
      await eventually("the post's files to be deleted", async () => {
        const now = await c.files();
        return files.every((f) => !now.includes(f));
      });
      assert.equal(
        (await c.rows()).some((r) => r.id === photo.id),
        false,
        "its row is gone",
      );
      for (const u of urls) assert.equal((await c.file(u)).status, 404);

      // An upload never attached, a day and more old, goes at the next sweep (a worker's start).
      const left = await uploadReady(c.url, c.tokens.alice, await solidImage(30, 30, [1, 2, 3]));
      const fresh = await uploadReady(c.url, c.tokens.alice, await solidImage(30, 30, [3, 2, 1]));
      await c.kysely
        .updateTable("media")
        .set({ created_at: new Date(Date.now() - 25 * 60 * 60 * 1000) })
        .where("id", "=", left.id)
        .execute();
      await c.stopWorker();
      await c.startWorker();
      await eventually(
        "the old upload to be swept",
        async () => !(await c.rows()).some((r) => r.id === left.id),
      );
      assert.ok(
        (await c.rows()).some((r) => r.id === fresh.id),
        "a fresh upload stays",
      );
      assert.equal((await c.file(left.url!, "alice")).status, 404);
      await c.assertFilesAreVariants();
    });

    test("kill -9 of the worker while it processes loses nothing", async (t) => {
      const large = await largeJpeg(0);
      const incoming = async () => (await c.files()).filter((f) => f.startsWith("incoming"));
      for (let attempt = 1; ; attempt++) {
        assert.deepEqual(await incoming(), [], "no upload waits");
        const ids: string[] = [];
        for (let i = 0; i < 3; i++) {
          const sent = await upload(c.url, c.tokens.alice, large, { filename: "big.jpg" });
          assert.equal(sent.status, 202, sent.text);
          ids.push(sent.json.id as string);
        }
        // The first upload done (its bytes deleted, the job's last step), the worker goes
        // straight on to the next, a second or so of work: kill it in the middle of that.
        await eventually(
          "the first upload to be processed",
          async () => (await incoming()).length < ids.length,
          60_000,
        );
        await sleep(250);
        const exit = await c.worker!.kill9();
        c.worker = null;
        assert.equal(exit.signal, "SIGKILL");
        // Proof that it died mid-job: a job is still marked running, and an upload not ready.
        const status = (await runCli(["queue", "status"], { env: c.env })).stdout;
        const line = /^media\s+(\d+) waiting, (\d+) running/m.exec(status);
        const states = (await c.rows()).filter((r) => ids.includes(r.id)).map((r) => r.state);
        t.diagnostic(`attempt ${attempt}: killed; ${line?.[0]}; uploads ${states.join(", ")}`);
        const midJob = Number(line?.[2] ?? 0) === 1 && states.includes("processing");
        await c.startWorker();
        for (const id of ids) {
          const done = await whenProcessed(c.url, c.tokens.alice, id, 90_000);
          assert.equal(done.status, 200, JSON.stringify(done.json));
          const media = done.json as unknown as MediaAttachment;
          assert.deepEqual([media.meta.original?.width, media.meta.original?.height], [6000, 8000]);
          const shown = await c.file(media.url!, "alice");
          assert.equal(shown.status, 200);
          assert.equal((await sharp(shown.bytes).metadata()).width, 1440, "the display size");
        }
        // Nothing lost, nothing left over: the variants of the rows, no source, no partial file.
        await c.assertFilesAreVariants();
        if (midJob) break;
        // Killed between two jobs: that proved nothing about a running one; again.
        assert.ok(attempt < 3, "the worker was never killed in the middle of a job");
      }
    });
  });
}

after(() => stopEmbeddedTestServer());
