/**
 * The remote media proxy against a real HTTP server on loopback, with a real
 * blob store on disk: it fetches once and serves the copy until it expires,
 * refuses private addresses unless allowed, types that are not images or
 * video (whatever the server says), files over the limit, and keeps nothing
 * of what it refused.
 */
import assert from "node:assert/strict";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { MemoryKvStore } from "@fedify/fedify";
import { type BlobStore, localBlobStore } from "./blob-store.ts";
import { type MediaProxySettings, mediaProxy, publicLookup, sniffMediaType } from "./proxy.ts";

const PNG = Buffer.concat([
  Buffer.from("89504e470d0a1a0a0000000d49484452", "hex"),
  Buffer.alloc(200, 7),
]);
const MP4 = Buffer.concat([
  Buffer.from("0000001866747970", "hex"),
  Buffer.from("isom"),
  Buffer.alloc(300, 1),
]);
const SVG = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>');

let server: Server;
let origin = "";
let dir = "";
let blobs: BlobStore;
const files = new Map<string, { body: Buffer; type: string; status?: number; chunked?: boolean }>();
const seen: IncomingMessage[] = [];

function hits(pathname: string): number {
  return seen.filter((r) => r.url === pathname).length;
}

function settings(extra: Partial<MediaProxySettings> = {}): MediaProxySettings {
  return {
    allowPrivateAddress: true,
    imageBytes: 1000,
    videoBytes: 2000,
    userAgent: "Clique/test (+http://clique.test/)",
    ...extra,
  };
}

async function body(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** The keys in the blob store (the files on disk, without partial copies). */
async function stored(): Promise<string[]> {
  const names: string[] = [];
  for (const sub of await readdir(dir).catch(() => [])) {
    for (const name of await readdir(path.join(dir, sub)).catch(() => [])) names.push(name);
  }
  assert.deepEqual(
    names.filter((n) => n.includes(".partial")),
    [],
    "no partial copy left behind",
  );
  return names.sort();
}

before(async () => {
  server = createServer((req, res) => {
    seen.push(req);
    const file = files.get(req.url ?? "");
    if (req.url?.startsWith("/redirect/")) {
      res.writeHead(302, { location: req.url.slice("/redirect".length) });
      return res.end();
    }
    if (!file) {
      res.writeHead(404);
      return res.end();
    }
    res.writeHead(file.status ?? 200, {
      "content-type": file.type,
      ...(file.chunked ? {} : { "content-length": String(file.body.length) }),
    });
    if (file.chunked) {
      // No Content-Length: only counting the bytes can stop it.
      for (let i = 0; i < file.body.length; i += 100) res.write(file.body.subarray(i, i + 100));
      res.end();
    } else res.end(file.body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  dir = await mkdtemp(path.join(tmpdir(), "clique-proxy-"));
  blobs = localBlobStore(dir);
});

after(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

describe("the remote media proxy", () => {
  test("fetches a file once, serves the copy with the type its bytes say, and fetches it again when it expires", async () => {
    files.set("/a.png", { body: PNG, type: "application/octet-stream" });
    let clock = 1_000_000;
    const proxy = mediaProxy(
      blobs,
      new MemoryKvStore(),
      settings({ ttlMs: 5_000, now: () => clock }),
    );
    const media = { remoteUrl: `${origin}/a.png`, kind: "image" as const };
    const key = "AAAAAAAAAAAAAAAAAAAAAA.png";
    for (let i = 0; i < 3; i++) {
      const result = await proxy.open(media, key);
      assert.ok(result.ok, `look ${i + 1}`);
      assert.equal(result.file.mediaType, "image/png");
      assert.equal(result.file.size, PNG.length);
      assert.deepEqual(await body(result.file.stream), PNG);
    }
    assert.equal(hits("/a.png"), 1, "fetched once for three looks");
    const request = seen.find((r) => r.url === "/a.png")!;
    assert.equal(request.headers["user-agent"], "Clique/test (+http://clique.test/)");
    assert.equal(request.headers.cookie, undefined);
    assert.equal(request.headers.authorization, undefined);

    // Two looks at once fetch once too.
    files.set("/b.png", { body: PNG, type: "image/png" });
    const both = await Promise.all([
      proxy.open({ ...media, remoteUrl: `${origin}/b.png` }, "BBBBBBBBBBBBBBBBBBBBBB.png"),
      proxy.open({ ...media, remoteUrl: `${origin}/b.png` }, "BBBBBBBBBBBBBBBBBBBBBB.png"),
    ]);
    assert.ok(both.every((r) => r.ok));
    for (const r of both) if (r.ok) r.file.stream.destroy();
    assert.equal(hits("/b.png"), 1);

    clock += 5_001;
    const changed = Buffer.concat([PNG, Buffer.from("new")]);
    files.set("/a.png", { body: changed, type: "image/png" });
    const later = await proxy.open(media, key);
    assert.ok(later.ok);
    assert.deepEqual(await body(later.file.stream), changed, "the new bytes after expiry");
    assert.equal(hits("/a.png"), 2, "fetched again once expired");

    // Expired while its server is down: the old copy is served meanwhile.
    clock += 5_001;
    files.set("/a.png", { body: Buffer.alloc(0), type: "text/plain", status: 503 });
    const stale = await proxy.open(media, key);
    assert.ok(stale.ok, "served stale while the server is down");
    assert.deepEqual(await body(stale.file.stream), changed);
    assert.equal(hits("/a.png"), 3);
  });

  test("refuses loopback and private addresses unless allowed, without a request", async () => {
    files.set("/private.png", { body: PNG, type: "image/png" });
    const proxy = mediaProxy(blobs, new MemoryKvStore(), settings({ allowPrivateAddress: false }));
    for (const url of [
      `${origin}/private.png`,
      `http://localhost:${new URL(origin).port}/private.png`,
      `http://[::1]:${new URL(origin).port}/private.png`,
      "http://10.1.2.3/private.png",
      "http://169.254.169.254/latest/meta-data",
      `ftp://127.0.0.1/private.png`,
    ]) {
      const result = await proxy.open(
        { remoteUrl: url, kind: "image" },
        "CCCCCCCCCCCCCCCCCCCCCC.png",
      );
      assert.deepEqual(result, { ok: false, reason: "private_address" }, url);
    }
    assert.equal(hits("/private.png"), 0, "nothing reached the loopback server");
    assert.ok(!(await stored()).includes("CCCCCCCCCCCCCCCCCCCCCC.png"));
  });

  test("checks the address a connection really uses, not an earlier answer", async () => {
    // The lookup sockets use: a name that resolves to loopback now is refused now.
    for (const all of [false, true]) {
      const error = await new Promise<NodeJS.ErrnoException | null>((resolve) =>
        publicLookup("localhost", { all }, (e) => resolve(e)),
      );
      assert.equal(error?.code, "EPRIVATEADDRESS", `all: ${all}`);
    }
  });

  test("refuses what is not an image or video, whatever its server says, and keeps nothing", async () => {
    files.set("/evil.png", { body: SVG, type: "image/png" });
    files.set("/page.jpg", { body: Buffer.from("<!doctype html><p>hi</p>"), type: "image/jpeg" });
    files.set("/clip.png", { body: MP4, type: "image/png" });
    const proxy = mediaProxy(blobs, new MemoryKvStore(), settings());
    for (const [file, key] of [
      ["/evil.png", "DDDDDDDDDDDDDDDDDDDDDD.png"],
      ["/page.jpg", "EEEEEEEEEEEEEEEEEEEEEE.jpg"],
      // A video where an image was promised is refused too.
      ["/clip.png", "FFFFFFFFFFFFFFFFFFFFFF.png"],
    ] as const) {
      const result = await proxy.open({ remoteUrl: `${origin}${file}`, kind: "image" }, key);
      assert.deepEqual(result, { ok: false, reason: "unsupported_type" }, file);
      assert.ok(!(await stored()).includes(key), `nothing kept of ${file}`);
    }
    // A refusal is remembered: a second look does not fetch again.
    await proxy.open(
      { remoteUrl: `${origin}/evil.png`, kind: "image" },
      "DDDDDDDDDDDDDDDDDDDDDD.png",
    );
    assert.equal(hits("/evil.png"), 1);
    // As a video, the MP4 is fine.
    const video = await proxy.open(
      { remoteUrl: `${origin}/clip.png`, kind: "video" },
      "GGGGGGGGGGGGGGGGGGGGGG.mp4",
    );
    assert.ok(video.ok);
    assert.equal(video.file.mediaType, "video/mp4");
    video.file.stream.destroy();
  });

  test("refuses files over the limit, said or not, and keeps nothing", async () => {
    const big = Buffer.concat([PNG, Buffer.alloc(1000)]);
    files.set("/big.png", { body: big, type: "image/png" });
    files.set("/big-chunked.png", { body: big, type: "image/png", chunked: true });
    files.set("/ok-video.mp4", {
      body: Buffer.concat([MP4, Buffer.alloc(1000)]),
      type: "video/mp4",
    });
    const proxy = mediaProxy(blobs, new MemoryKvStore(), settings());
    for (const [file, key] of [
      ["/big.png", "HHHHHHHHHHHHHHHHHHHHHH.png"],
      ["/big-chunked.png", "IIIIIIIIIIIIIIIIIIIIII.png"],
    ] as const) {
      const result = await proxy.open({ remoteUrl: `${origin}${file}`, kind: "image" }, key);
      assert.deepEqual(result, { ok: false, reason: "too_large" }, file);
      assert.ok(!(await stored()).includes(key), `nothing kept of ${file}`);
    }
    // Video has its own, larger limit.
    const video = await proxy.open(
      { remoteUrl: `${origin}/ok-video.mp4`, kind: "video" },
      "JJJJJJJJJJJJJJJJJJJJJJ.mp4",
    );
    assert.ok(video.ok);
    video.file.stream.destroy();
  });

  test("follows a few redirects, and says a missing file is gone", async () => {
    files.set("/moved.png", { body: PNG, type: "image/png" });
    const proxy = mediaProxy(blobs, new MemoryKvStore(), settings());
    const moved = await proxy.open(
      { remoteUrl: `${origin}/redirect/moved.png`, kind: "image" },
      "KKKKKKKKKKKKKKKKKKKKKK.png",
    );
    assert.ok(moved.ok);
    assert.deepEqual(await body(moved.file.stream), PNG);
    const gone = await proxy.open(
      { remoteUrl: `${origin}/nothing.png`, kind: "image" },
      "LLLLLLLLLLLLLLLLLLLLLL.png",
    );
    assert.deepEqual(gone, { ok: false, reason: "gone" });
  });

  test("knows images and videos by their first bytes", () => {
    assert.equal(sniffMediaType(PNG), "image/png");
    assert.equal(sniffMediaType(Buffer.from("ffd8ffe000104a464946", "hex")), "image/jpeg");
    assert.equal(sniffMediaType(Buffer.from("GIF89a......")), "image/gif");
    assert.equal(sniffMediaType(Buffer.from("RIFF\0\0\0\0WEBPVP8 ")), "image/webp");
    assert.equal(sniffMediaType(Buffer.from("\0\0\0\x1cftypavif\0\0\0\0", "latin1")), "image/avif");
    assert.equal(sniffMediaType(MP4), "video/mp4");
    assert.equal(sniffMediaType(Buffer.from("1a45dfa3a3428681", "hex")), "video/webm");
    assert.equal(sniffMediaType(SVG), null);
    assert.equal(sniffMediaType(Buffer.from("PK\x03\x04zip")), null);
  });
});
