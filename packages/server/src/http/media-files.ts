/**
 * Media files at `/media/:file`. Each is served only to someone the
 * visibility module lets see it (`getVisibleMediaFile`): the member signed in
 * (session or token), a remote account or server that signed the request, or
 * the viewer a signed grant in the URL names (the URLs handed to apps and to
 * other servers carry one: see core's `media/grants.ts`). Files of posts open
 * to everyone are cacheable by anyone, for a year (a key never changes its
 * bytes); the rest are private to the asker. Anything else is 404.
 *
 * One byte range per request (`Range: bytes=…`) is answered with 206, as
 * video players need to start and seek; several ranges, or a stale
 * `If-Range`, get the whole file (RFC 9110 lets a server ignore `Range`).
 */
import { Readable } from "node:stream";
import { ANONYMOUS } from "@clique/core";
import { Hono } from "hono";
import type { AppEnv } from "./env.ts";
import { notFound } from "./errors.ts";
import { publicRequest } from "./federation.ts";

/** `/media/:file`. */
export const mediaFiles = new Hono<AppEnv>();

mediaFiles.get("/:file", async (c) => {
  const { clique, blobs } = c.get("services");
  const key = c.req.param("file");
  let viewer = c.get("viewer");
  if (viewer.kind === "anonymous" && (c.req.header("signature") || c.req.header("signature-input")))
    viewer = await clique.signedViewer(publicRequest(c)).catch(() => ANONYMOUS);
  const found = await clique.getVisibleMediaFile(viewer, key, {
    for: c.req.query("for"),
    sig: c.req.query("sig"),
  });
  if (!found) throw notFound();
  const etag = `"${found.file.key}"`;
  const headers: Record<string, string> = {
    "Content-Type": found.file.mediaType,
    ETag: etag,
    "Cache-Control": found.public ? "public, max-age=31536000, immutable" : "private, max-age=3600",
    // Bytes, never a page: nothing in them may run.
    "Content-Security-Policy": "default-src 'none'; sandbox",
    // Apps on other sites (Elk, Phanpy) show these in <img>: the URL is the permission.
    "Cross-Origin-Resource-Policy": "cross-origin",
  };
  if (!found.public) headers.Vary = "Authorization, Cookie, Signature";
  headers["Accept-Ranges"] = "bytes";
  if (c.req.header("if-none-match") === etag) return c.body(null, 304, headers);
  const blob = await blobs.read(found.file.key);
  if (!blob) throw notFound();
  const ifRange = c.req.header("if-range");
  const range =
    ifRange === undefined || ifRange === etag ? byteRange(c.req.header("range"), blob.size) : null;
  if (range === "unsatisfiable") {
    blob.stream.destroy();
    headers["Content-Range"] = `bytes */${blob.size}`;
    return c.body(null, 416, headers);
  }
  // HEAD: Hono answers it with this handler's headers and drops the body; do not open one.
  const head = c.req.method === "HEAD";
  if (head) blob.stream.destroy();
  if (range) {
    headers["Content-Range"] = `bytes ${range.start}-${range.end}/${blob.size}`;
    headers["Content-Length"] = String(range.end - range.start + 1);
  } else headers["Content-Length"] = String(blob.size);
  const status = range ? 206 : 200;
  if (head) return c.body(null, status, headers);
  const bytes = range ? Readable.from(slice(blob.stream, range.start, range.end)) : blob.stream;
  return c.body(Readable.toWeb(bytes) as ReadableStream, status, headers);
});

/**
 * The one range a `Range` header asks of a file of `size` bytes: `null` to
 * send the whole file (no header, another unit, several ranges, or one that
 * makes no sense), `"unsatisfiable"` when it starts past the end.
 */
export function byteRange(
  header: string | undefined,
  size: number,
): { start: number; end: number } | "unsatisfiable" | null {
  const match = /^bytes=(\d{0,15})-(\d{0,15})$/.exec(header?.trim() ?? "");
  if (!match || (match[1] === "" && match[2] === "")) return null;
  if (match[1] === "") {
    // The last N bytes.
    const count = Number(match[2]);
    if (count === 0 || size === 0) return "unsatisfiable";
    return { start: Math.max(0, size - count), end: size - 1 };
  }
  const start = Number(match[1]);
  if (start >= size) return "unsatisfiable";
  const last = match[2] === "" ? size - 1 : Number(match[2]);
  if (last < start) return null;
  return { start, end: Math.min(last, size - 1) };
}

/**
 * Bytes `start` to `end` of `source`. The blob store reads from the start of
 * the file (it has no ranged read yet): what comes before is read and dropped.
 */
export async function* slice(source: Readable, start: number, end: number): AsyncGenerator<Buffer> {
  let position = 0;
  try {
    for await (const chunk of source as AsyncIterable<Buffer>) {
      const from = Math.max(0, start - position);
      const to = Math.min(chunk.length, end + 1 - position);
      position += chunk.length;
      if (to > from) yield chunk.subarray(from, to);
      if (position > end) break;
    }
  } finally {
    source.destroy();
  }
}
