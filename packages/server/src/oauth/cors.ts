/**
 * CORS for browser clients (Elk, Phanpy, ...): the API, the token and
 * revocation endpoints and the public discovery documents may be read from
 * any origin, with bearer tokens only. `Access-Control-Allow-Origin: *`
 * never goes with credentials, so a browser neither sends the session cookie
 * with such a request in a way the page can read, nor lets the page read an
 * answer to a credentialed one; and `auth.ts` ignores a cookie that arrives
 * with another origin's `Origin` header.
 *
 * Not covered: `/oauth/authorize` (HTML for people), signing in and out
 * (cookie-only), ActivityPub and everything else.
 */
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../http/env.ts";

const ALLOWED_METHODS = "GET, HEAD, POST, PUT, PATCH, DELETE";
const ALLOWED_HEADERS = "Authorization, Content-Type, Idempotency-Key, Accept";
const EXPOSED_HEADERS =
  "Link, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset, Idempotent-Replayed, X-Request-Id";
/** How long a browser may keep a preflight answer (seconds). */
export const CORS_MAX_AGE = 86_400;

/** Routes of the API that only a cookie session makes sense on (signing in and out). */
const COOKIE_ONLY = /^\/api\/v1\/clique\/sessions(\/|$)/;

/** Whether a path answers cross-origin requests. */
export function corsApplies(path: string): boolean {
  if (path.startsWith("/api/")) return !COOKIE_ONLY.test(path);
  return (
    path === "/oauth/token" ||
    path === "/oauth/revoke" ||
    path === "/.well-known/oauth-authorization-server" ||
    path === "/.well-known/nodeinfo" ||
    path === "/.well-known/webfinger" ||
    path.startsWith("/nodeinfo/")
  );
}

/** Answers preflights and marks answers readable from any origin, on the paths above. */
export function cors(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (!corsApplies(c.req.path)) return next();
    if (c.req.method === "OPTIONS") {
      return new Response(null, {
        status: 204,
        headers: {
          "Access-Control-Allow-Origin": "*",
          "Access-Control-Allow-Methods": ALLOWED_METHODS,
          "Access-Control-Allow-Headers": ALLOWED_HEADERS,
          "Access-Control-Max-Age": String(CORS_MAX_AGE),
          "Access-Control-Expose-Headers": EXPOSED_HEADERS,
        },
      });
    }
    await next();
    const set = (headers: Headers) => {
      headers.set("Access-Control-Allow-Origin", "*");
      headers.set("Access-Control-Expose-Headers", EXPOSED_HEADERS);
      headers.delete("Access-Control-Allow-Credentials");
    };
    try {
      set(c.res.headers);
    } catch {
      // Immutable headers (a fetched response passed through): copy it.
      c.res = new Response(c.res.body, c.res);
      set(c.res.headers);
    }
  };
}
