/**
 * Media files at `/media/:file`. Each is served only to someone the
 * visibility module lets see it (`getVisibleMediaFile`): the member signed in
 * (session or token), a remote account or server that signed the request, or
 * the viewer a signed grant in the URL names (the URLs handed to apps and to
 * other servers carry one: see core's `media/grants.ts`). Files of posts open
 * to everyone are cacheable by anyone, for a year (a key never changes its
 * bytes); the rest are private to the asker. Anything else is 404.
 */
import { Readable } from "node:stream";
import { ANONYMOUS } from "@clique/core";
import { Hono } from "hono";
import type { AppEnv } from "./env.ts";
import { notFound } from "./errors.ts";

/** `/media/:file`. */
export const mediaFiles = new Hono<AppEnv>();

mediaFiles.get("/:file", async (c) => {
  const { clique, blobs } = c.get("services");
  const key = c.req.param("file");
  let viewer = c.get("viewer");
  if (viewer.kind === "anonymous" && (c.req.header("signature") || c.req.header("signature-input")))
    viewer = await clique.signedViewer(c.req.raw).catch(() => ANONYMOUS);
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
  if (c.req.header("if-none-match") === etag) return c.body(null, 304, headers);
  const blob = await blobs.read(found.file.key);
  if (!blob) throw notFound();
  headers["Content-Length"] = String(blob.size);
  return c.body(Readable.toWeb(blob.stream) as ReadableStream, 200, headers);
});
