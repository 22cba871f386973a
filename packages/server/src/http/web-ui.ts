/**
 * The web interface (packages/web, a Next.js app) runs inside this process and
 * answers on the same origin and port as the API and ActivityPub. Requests
 * reach it last: Fedify has answered what is ActivityPub (content negotiation
 * on actor and post ids), the API and files have their own routes, and every
 * other GET is a page.
 *
 * Next is loaded on the first page request, not at start, so processes that
 * only serve the API or federation (workers, most system tests) never pay its
 * memory. The pages read through this server's own API over loopback
 * (`CLIQUE_INTERNAL_URL`), as the visitor, so the visibility module decides
 * what each page shows.
 *
 * The server does not build the UI: `npm start` (and `npm run build`) run
 * `packages/web/scripts/build.mjs`, which rebuilds only when sources changed.
 */
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { HttpBindings } from "@hono/node-server";
import { RESPONSE_ALREADY_SENT } from "@hono/node-server/utils/response";
import { getLogger } from "@logtape/logtape";
import type { Context, MiddlewareHandler } from "hono";
import type { AppEnv } from "./env.ts";
import { loadWebResponses, type WebResponses } from "./web-integrity.ts";

const log = getLogger(["clique", "http", "web"]);

/** Where the web app lives in the repository. */
export const WEB_DIR = fileURLToPath(new URL("../../../web/", import.meta.url));

/** Paths that are never pages: the API, files, OAuth and ActivityPub's own. */
const NOT_PAGES = [
  "/api/",
  "/media/",
  "/avatars/",
  "/static/",
  "/oauth/",
  "/.well-known/",
  "/nodeinfo/",
  "/inbox",
];

type NextHandler = (request: IncomingMessage, response: ServerResponse) => Promise<void>;

interface NextServer {
  prepare(): Promise<void>;
  getRequestHandler(): NextHandler;
  close?(): Promise<void>;
}

let loading: Promise<NextServer | null> | undefined;
/** Compression and subresource integrity for what Next answers (web-integrity.ts). */
let responses: WebResponses | undefined;

/** The build's directory under WEB_DIR (see packages/web/next.config.ts). */
export function distDir(): string {
  // biome-ignore lint/complexity/useLiteralKeys: an environment variable
  return process.env["CLIQUE_WEB_DIST"] ?? ".next";
}

let built: boolean | undefined;

/** Whether a production build of the web app exists (asked once per process). */
export function webUiBuilt(): boolean {
  built ??= existsSync(path.join(WEB_DIR, distDir(), "BUILD_ID"));
  return built;
}

async function loadNext(): Promise<NextServer | null> {
  if (!webUiBuilt()) {
    log.warn(
      "The web interface is not built, so pages answer 503. Build it with `npm run build` (`npm start` does it for you).",
    );
    return null;
  }
  const started = Date.now();
  // Next is the web package's dependency, resolved from there (the server does not import the web app's code).
  const require = createRequire(path.join(WEB_DIR, "package.json"));
  const module = (await import(pathToFileURL(require.resolve("next")).href)) as {
    default: (options: { dir: string; dev: boolean; quiet: boolean }) => NextServer;
  };
  const server = module.default({ dir: WEB_DIR, dev: false, quiet: true });
  await server.prepare();
  responses = await loadWebResponses(WEB_DIR, distDir());
  log.info("Web interface ready in {ms} ms.", { ms: Date.now() - started });
  return server;
}

function webServer(): Promise<NextServer | null> {
  loading ??= loadNext().catch((error: unknown) => {
    log.error("Could not start the web interface: {error}", { error });
    loading = undefined;
    return null;
  });
  return loading;
}

/** Whether a path may be a page. */
function isPagePath(pathname: string): boolean {
  return !NOT_PAGES.some((prefix) => pathname.startsWith(prefix));
}

/** Whether every percent-escape of a path decodes to valid UTF-8. */
function decodable(pathname: string): boolean {
  try {
    decodeURIComponent(pathname);
    return true;
  } catch {
    return false;
  }
}

/**
 * The pages' Content-Security-Policy, with a fresh nonce per page: Next puts
 * the nonce on its own scripts when it finds it in the request's
 * `Content-Security-Policy` header, and `'strict-dynamic'` lets those load the
 * rest. No inline script of anyone else runs, nothing loads from another
 * origin (remote pictures come through this server's media proxy), and the
 * pages cannot be framed.
 */
export function pagePolicy(nonce: string, origin: string): string {
  const socket = origin.replace(/^http/, "ws");
  return [
    "default-src 'self'",
    `script-src 'self' 'nonce-${nonce}' 'strict-dynamic'`,
    // React writes `style` attributes; no style can run code.
    "style-src 'self' 'unsafe-inline'",
    // Previews of photos being uploaded are blob: URLs.
    "img-src 'self' data: blob:",
    "media-src 'self' blob:",
    `connect-src 'self' ${socket}`,
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join("; ");
}

/** Hands GET and HEAD requests for pages to Next; anything else falls through. */
export function webUi(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if ((c.req.method !== "GET" && c.req.method !== "HEAD") || !isPagePath(c.req.path))
      return next();
    // A path that is not valid percent-encoded UTF-8 names no page (Next would answer 500).
    if (!decodable(new URL(c.req.url).pathname)) return next();
    const bindings = (c as unknown as Context<{ Bindings: HttpBindings }>).env;
    if (!bindings?.incoming || !bindings.outgoing) return next();
    const server = await webServer();
    if (!server) {
      // Without a build, whatever else answers this path does (the plain `/` and
      // invite pages); nothing else: say why there is no page.
      await next();
      if (c.res.status !== 404) return;
      return c.json(
        {
          error:
            "The web interface is not built on this server; the API works. Run `npm run build`.",
          code: "unavailable",
        },
        503,
      );
    }
    const policy = pagePolicy(randomBytes(16).toString("base64"), c.get("services").config.origin);
    // What the client sent under this name is replaced: only ours names the nonce.
    bindings.incoming.headers["content-security-policy"] = policy;
    bindings.outgoing.setHeader("Content-Security-Policy", policy);
    responses?.prepare(bindings.incoming, bindings.outgoing);
    await server.getRequestHandler()(bindings.incoming, bindings.outgoing);
    return RESPONSE_ALREADY_SENT;
  };
}

/** Stops the web interface, if it was started. */
export async function closeWebUi(): Promise<void> {
  const server = await loading;
  loading = undefined;
  await server?.close?.();
}
