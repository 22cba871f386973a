/**
 * Subresource integrity on every script and stylesheet tag of a page
 * (issue 15).
 *
 * Next (`experimental.sri` in packages/web/next.config.ts) writes `integrity`
 * only on the scripts that start the app. The page's own client-component
 * chunks are written by React's Flight renderer, which preloads them with
 * `integrity: undefined` (react-server-dom-turbopack's `preinitScriptForSSR`),
 * and stylesheets by Next's `render-css-resource`, which has no integrity
 * either. This module adds the missing attributes to the HTML as it streams
 * out, from the same build's manifest (`<dist>/server/subresource-integrity-manifest.json`),
 * so that every `<script src>` and stylesheet `<link>` of a page names the
 * exact bytes of its file. Chunks that the Turbopack runtime loads later, on
 * client-side navigation, still carry none: the published bundle hash covers
 * them (docs/e2ee.md).
 *
 * Next's own compression is off (next.config.ts `compress: false`): it would
 * gzip the HTML before this could read it. Next's copy of the `compression`
 * middleware is applied here instead, below the rewriting.
 */
import { readFile } from "node:fs/promises";
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from "node:http";
import { createRequire } from "node:module";
import path from "node:path";

/** `static/chunks/x.js` → `sha256-…`, as Next writes it. */
export type IntegrityManifest = Readonly<Record<string, string>>;

const TAG = /<(script|link)\b[^<>]*>/gi;
const SOURCE = /\s(?:src|href)="\/_next\/(static\/[^"?#]+)(?:\?[^"]*)?"/i;
const LOADS = /\srel="(?:stylesheet|preload|modulepreload)"/i;
/** An unfinished tag longer than this at the end of a chunk is not held back. */
const MAX_TAG = 4096;

/** Adds `integrity` to every script and stylesheet tag of `html` that names a build file without it. */
export function addIntegrity(html: string, manifest: IntegrityManifest): string {
  return html.replace(TAG, (tag: string, name: string) => {
    if (/\sintegrity=/i.test(tag)) return tag;
    if (name.toLowerCase() === "link" && !LOADS.test(tag)) return tag;
    const file = SOURCE.exec(tag)?.[1];
    const integrity = file === undefined ? undefined : manifest[file];
    if (!integrity) return tag;
    return tag.replace(/\s*(\/?>)$/, ` integrity="${integrity}"$1`);
  });
}

/** Splits a streamed text into what can go out and an unfinished tag at its end. */
function splitTail(text: string): [string, string] {
  const open = text.lastIndexOf("<");
  if (open < 0 || text.indexOf(">", open) >= 0 || text.length - open > MAX_TAG) return [text, ""];
  return [text.slice(0, open), text.slice(open)];
}

type Callback = (error?: Error | null) => void;
type Write = (chunk: unknown, encoding?: BufferEncoding | Callback, callback?: Callback) => boolean;
type End = (chunk?: unknown, encoding?: BufferEncoding | Callback, callback?: Callback) => unknown;
type WriteHead = (status: number, ...rest: unknown[]) => ServerResponse;

function isHtml(type: unknown): boolean {
  return /^\s*text\/html/i.test(String(type ?? ""));
}

/** Drops Content-Length from writeHead's headers object (the body will change). */
function withoutLength(rest: unknown[]): unknown[] {
  return rest.map((arg) => {
    if (!arg || typeof arg !== "object" || Array.isArray(arg)) return arg;
    const headers = { ...(arg as OutgoingHttpHeaders) };
    for (const key of Object.keys(headers))
      if (key.toLowerCase() === "content-length") delete headers[key];
    return headers;
  });
}

/** Makes `response` add integrity to the HTML written to it; anything else passes unchanged. */
export function rewriteIntegrity(response: ServerResponse, manifest: IntegrityManifest): void {
  const write = response.write as Write;
  const end = response.end as End;
  const writeHead = response.writeHead as WriteHead;
  let html: boolean | undefined;
  let pending = "";
  // ignoreBOM: a byte-order mark, if any, is passed on, not eaten.
  const decoder = new TextDecoder("utf-8", { ignoreBOM: true });

  const decide = (headers: unknown[] = []): boolean => {
    if (html === undefined) {
      const given = headers.find((h) => h && typeof h === "object" && !Array.isArray(h)) as
        | OutgoingHttpHeaders
        | undefined;
      const type =
        response.getHeader("content-type") ??
        Object.entries(given ?? {}).find(([key]) => key.toLowerCase() === "content-type")?.[1];
      html = isHtml(type);
    }
    if (html && !response.headersSent) response.removeHeader("content-length");
    return html;
  };
  const bytes = (chunk: unknown, encoding?: BufferEncoding | Callback): Uint8Array =>
    typeof chunk === "string"
      ? Buffer.from(chunk, typeof encoding === "string" ? encoding : "utf8")
      : (chunk as Uint8Array);

  response.writeHead = function (this: ServerResponse, status: number, ...rest: unknown[]) {
    return writeHead.call(this, status, ...(decide(rest) ? withoutLength(rest) : rest));
  } as typeof response.writeHead;

  response.write = function (
    this: ServerResponse,
    chunk: unknown,
    encoding?: BufferEncoding | Callback,
    callback?: Callback,
  ) {
    if (!decide() || chunk == null) return write.call(this, chunk, encoding, callback);
    const text = pending + decoder.decode(bytes(chunk, encoding), { stream: true });
    const [ready, tail] = splitTail(text);
    pending = tail;
    const done = typeof encoding === "function" ? encoding : callback;
    return write.call(this, Buffer.from(addIntegrity(ready, manifest)), done);
  } as typeof response.write;

  response.end = function (
    this: ServerResponse,
    chunk?: unknown,
    encoding?: BufferEncoding | Callback,
    callback?: Callback,
  ) {
    if (typeof chunk === "function") return end.call(this, undefined, undefined, chunk as Callback);
    if (!decide()) return end.call(this, chunk, encoding, callback);
    const text =
      pending + (chunk == null ? "" : decoder.decode(bytes(chunk, encoding), { stream: true }));
    pending = "";
    const rest = addIntegrity(text + decoder.decode(), manifest);
    const done = typeof encoding === "function" ? encoding : callback;
    return end.call(this, rest.length > 0 ? Buffer.from(rest) : undefined, undefined, done);
  } as typeof response.end;
}

/** What the web build needs on every response Next answers. */
export interface WebResponses {
  /** Compresses and adds integrity; call before handing the request to Next. */
  prepare(request: IncomingMessage, response: ServerResponse): void;
}

/**
 * Loads the build's SRI manifest (none: nothing to add) and Next's copy of the
 * `compression` middleware, resolved from the web package like Next itself.
 */
export async function loadWebResponses(webDir: string, distDir: string): Promise<WebResponses> {
  // A build made before `compress: false` gzips its own answers: leave those alone.
  const built = await readFile(path.join(webDir, distDir, "required-server-files.json"), "utf8")
    .then((text) => JSON.parse(text) as { config?: { compress?: boolean } })
    .catch(() => null);
  if (built?.config?.compress !== false) return { prepare() {} };
  const require = createRequire(path.join(webDir, "package.json"));
  const compression = require("next/dist/compiled/compression") as () => (
    request: IncomingMessage,
    response: ServerResponse,
    next: () => void,
  ) => void;
  const { releaseCompressionStream } =
    require("next/dist/server/lib/release-compression-stream") as {
      releaseCompressionStream: (response: ServerResponse) => void;
    };
  const compress = compression();
  const manifest = await readFile(
    path.join(webDir, distDir, "server", "subresource-integrity-manifest.json"),
    "utf8",
  ).then(
    (text) => JSON.parse(text) as IntegrityManifest,
    () => null,
  );
  return {
    prepare(request, response) {
      compress(request, response, () => {});
      // As Next does: on a client that went away, the zlib stream would outlive the response.
      response.once("close", () => {
        if (!response.writableFinished) releaseCompressionStream(response);
      });
      if (manifest && request.method === "GET") rewriteIntegrity(response, manifest);
    },
  };
}
