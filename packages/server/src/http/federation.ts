/**
 * ActivityPub, WebFinger and NodeInfo share the origin and port with the API
 * and (later) the web pages: Fedify answers what is for it, content
 * negotiation decides, and everything else falls through to the next handler.
 */
import type { Context, MiddlewareHandler } from "hono";
import { DocumentCache, isSharedDocument, SHARED_DOCUMENT_TTL_MS } from "./document-cache.ts";
import type { AppEnv } from "./env.ts";
import { API_ROUTES } from "./routes.ts";

/** A post's id (`FEDERATION_PATHS.post`): a deleted one answers with a Tombstone. */
const POST_PATH = /^\/users\/[^/]+\/statuses\/[^/]+$/;

/**
 * Fedify serves whatever an object dispatcher returns with 200; core's post
 * dispatcher returns a `Tombstone` for a post that is gone, which is answered
 * here with 410 Gone, as ActivityPub says (the body stays the Tombstone).
 */
async function goneIfTombstone(path: string, response: Response): Promise<Response> {
  if (response.status !== 200 || !POST_PATH.test(path)) return response;
  const type = response.headers.get("content-type") ?? "";
  if (!type.includes("json")) return response;
  const body = await response.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    parsed = null;
  }
  const gone =
    typeof parsed === "object" &&
    parsed !== null &&
    (parsed as { type?: unknown }).type === "Tombstone";
  return new Response(body, {
    status: gone ? 410 : response.status,
    statusText: gone ? "Gone" : response.statusText,
    headers: response.headers,
  });
}

/** The page of an actor id (`/users/alice`) or a post id (`/users/alice/statuses/…`), if it is one. */
function pageOf(path: string): string | null {
  const match = /^\/users\/([A-Za-z0-9_]+)(?:\/statuses\/([0-9a-f-]{36}))?$/i.exec(path);
  if (!match) return null;
  return match[2] ? `/@${match[1]}/${match[2]}` : `/@${match[1]}`;
}

/** Paths that are never ActivityPub: Fedify is not asked (it would log each as a miss). */
const NOT_ACTIVITYPUB = [
  "/api/",
  "/static/",
  "/media/",
  "/avatars/",
  // Pages (issue 11): they redirect ActivityPub clients to the ids themselves.
  "/@",
  "/authorize_interaction",
  "/tags/",
  // The web interface's files (issue 12).
  "/_next/",
];

/** The web interface's pages without parameters (`/`, `/home`...): never ActivityPub either. */
const WEB_PAGES = new Set(
  API_ROUTES.filter((r) => r.web && !r.path.includes(":")).map((r) => r.path),
);

/**
 * The request as it was made to the public origin. Behind a proxy it arrives
 * for an inner address: Fedify must see the public URL, which signatures and
 * object ids are made of.
 */
export function publicRequest(c: Context<AppEnv>): Request {
  const incoming = new URL(c.req.url);
  return new Request(
    new URL(incoming.pathname + incoming.search, c.get("services").config.origin),
    c.req.raw,
  );
}

/** Inboxes (`FEDERATION_PATHS.inbox`, `.sharedInbox`): what arrives there changes no shared document. */
const INBOX_PATH = /^(?:\/users\/[^/]+)?\/inbox$/;

/**
 * Hands requests to Fedify first; falls through on "not found" and "not
 * acceptable". Documents that are the same for everyone (WebFinger, NodeInfo,
 * actors) are answered from a short-lived cache, emptied by any write here.
 */
export function federationMiddleware(): MiddlewareHandler<AppEnv> {
  // The server's composition passes its own, which other processes' events empty too.
  const own = new DocumentCache({ ttlMs: SHARED_DOCUMENT_TTL_MS, maxEntries: 500 });
  const cacheOf = (c: Context<AppEnv>) => c.get("services").sharedDocuments ?? own;
  const handle: MiddlewareHandler<AppEnv> = async (c, next) => {
    const shared = cacheOf(c);
    const method = c.req.method;
    const path = c.req.path;
    const { clique } = c.get("services");
    const federation = clique.federation;
    // The API, files and the health check are never ActivityPub.
    if (
      !federation ||
      NOT_ACTIVITYPUB.some((prefix) => path.startsWith(prefix)) ||
      path === "/health" ||
      WEB_PAGES.has(path)
    )
      return next();
    const request = publicRequest(c);
    const cacheable = method === "GET" && isSharedDocument(path);
    const key = cacheable ? DocumentCache.keyOf(request) : "";
    const generation = shared.generation;
    if (cacheable) {
      const kept = shared.get(key);
      if (kept) return kept;
    }
    let fallThrough = false;
    const response = await federation.fetch(request, {
      contextData: undefined,
      onNotFound: () => {
        fallThrough = true;
        return new Response(null, { status: 404 });
      },
      onNotAcceptable: () => {
        // A browser opening an actor or a post id is sent to its page (issue 12).
        const page = pageOf(path);
        if (page) return Response.redirect(new URL(page, c.get("services").config.origin), 302);
        fallThrough = true;
        return new Response(null, { status: 406 });
      },
      // What a viewer may not see does not exist for them.
      onUnauthorized: () => new Response("Not Found", { status: 404 }),
    });
    if (fallThrough) return next();
    if (cacheable) return shared.put(key, response, generation);
    return goneIfTombstone(path, response);
  };
  return async (c, next) => {
    const method = c.req.method;
    if (
      method === "GET" ||
      method === "HEAD" ||
      method === "OPTIONS" ||
      INBOX_PATH.test(c.req.path)
    )
      return handle(c, next);
    // A write (profile, member, settings...) may change a shared document:
    // none built before its response leaves is served or kept after it.
    try {
      return await handle(c, next);
    } finally {
      cacheOf(c).clear();
    }
  };
}
