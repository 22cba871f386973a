/**
 * Remote attachments at `/media/proxy/:file`, through the media proxy
 * (`media/proxy.ts`). Who may see one is asked first, with the same rules and
 * grants as `/media/:file` (core's `getVisibleRemoteMedia`): the member signed
 * in, a remote account or server that signed the request, or the viewer a
 * grant in the URL names. Anything else is 404 and fetches nothing; so is a
 * file the proxy will not serve (a private address, a type that is not an
 * image or video, a file over the limit, one its server no longer has).
 * Byte ranges are answered as on `/media/:file` (video players need them).
 */
import { Readable } from "node:stream";
import { ANONYMOUS } from "@clique/core";
import { Hono } from "hono";
import type { AppEnv } from "./env.ts";
import { notFound } from "./errors.ts";
import { publicRequest } from "./federation.ts";
import { byteRange, slice } from "./media-files.ts";

/** `/media/proxy/:file`. */
export const mediaProxyFiles = new Hono<AppEnv>();

mediaProxyFiles.get("/:file", async (c) => {
  const { clique, mediaProxy } = c.get("services");
  let viewer = c.get("viewer");
  if (viewer.kind === "anonymous" && (c.req.header("signature") || c.req.header("signature-input")))
    viewer = await clique.signedViewer(publicRequest(c)).catch(() => ANONYMOUS);
  const found = await clique.getVisibleRemoteMedia(viewer, c.req.param("file"), {
    for: c.req.query("for"),
    sig: c.req.query("sig"),
  });
  if (!found) throw notFound();
  const result = await mediaProxy.open(found.media, found.file.key);
  if (!result.ok) throw notFound();
  const { file } = result;
  const etag = `"${found.file.key}-${file.fetchedAt.toString(36)}"`;
  const headers: Record<string, string> = {
    // What the bytes are, not what the remote server said.
    "Content-Type": file.mediaType,
    ETag: etag,
    // Copies expire (the proxy fetches them again): a day for everyone's, an hour for the asker's.
    "Cache-Control": found.public ? "public, max-age=86400" : "private, max-age=3600",
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "Cross-Origin-Resource-Policy": "cross-origin",
    "Accept-Ranges": "bytes",
  };
  if (!found.public) headers.Vary = "Authorization, Cookie, Signature";
  if (c.req.header("if-none-match") === etag) {
    file.stream.destroy();
    return c.body(null, 304, headers);
  }
  const ifRange = c.req.header("if-range");
  const range =
    ifRange === undefined || ifRange === etag ? byteRange(c.req.header("range"), file.size) : null;
  if (range === "unsatisfiable") {
    file.stream.destroy();
    headers["Content-Range"] = `bytes */${file.size}`;
    return c.body(null, 416, headers);
  }
  if (range) {
    headers["Content-Range"] = `bytes ${range.start}-${range.end}/${file.size}`;
    headers["Content-Length"] = String(range.end - range.start + 1);
  } else headers["Content-Length"] = String(file.size);
  const status = range ? 206 : 200;
  // HEAD: Hono drops the body; do not read one.
  if (c.req.method === "HEAD") {
    file.stream.destroy();
    return c.body(null, status, headers);
  }
  const bytes = range ? Readable.from(slice(file.stream, range.start, range.end)) : file.stream;
  return c.body(Readable.toWeb(bytes) as ReadableStream, status, headers);
});
