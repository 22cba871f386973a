/**
 * What every request meets before a route and every answer after it, so that
 * no input can reach the database in a shape it refuses (a 500) and every
 * error a client reads is JSON with `error` and `code`, whoever answered.
 */
import { CliqueError, isId } from "@clique/core";
import type { Context, MiddlewareHandler } from "hono";
import { checkPath, readQuery } from "./body.ts";
import type { AppEnv } from "./env.ts";
import { notFound } from "./errors.ts";
import { API_ROUTES } from "./routes.ts";

/**
 * Refuses hostile paths and queries for every route, the API's and Fedify's:
 * NUL bytes and lone surrogates, `__proto__`-style query keys (422), and, in
 * the client API, an `:id` that is not a record id (404, as for a record that
 * does not exist). Bodies get the same text checks in `readBody`.
 */
export function inputGuard(): MiddlewareHandler<AppEnv> {
  const templates = API_ROUTES.filter((r) => r.path.startsWith("/api/")).map((r) => ({
    method: r.method,
    segments: r.path.split("/"),
    params: r.path.split("/").filter((s) => s.startsWith(":")).length,
  }));
  return async (c, next) => {
    checkPath(c);
    readQuery(c);
    const path = new URL(c.req.url).pathname;
    if (path.startsWith("/api/")) {
      const method = c.req.method === "HEAD" ? "GET" : c.req.method;
      const segments = path.split("/");
      // The route that answers: the routers list static paths (`/verify_credentials`)
      // before parameters (`/:id`), so the template with the fewest parameters wins.
      const route = templates
        .filter(
          (t) =>
            t.method === method &&
            t.segments.length === segments.length &&
            t.segments.every((s, i) => s.startsWith(":") || s === segments[i]),
        )
        .sort((a, b) => a.params - b.params)[0];
      route?.segments.forEach((s, i) => {
        if (s === ":id" && !isId(decoded(segments[i]!))) throw notFound();
      });
    }
    await next();
  };
}

/** Deepest nesting an inbox POST may have; ActivityPub documents nest a handful of levels. */
const MAX_ACTIVITY_DEPTH = 32;
const INBOX_PATH = /^\/(?:users\/[^/]+\/)?inbox$/;

/**
 * Refuses an inbox POST nested deeper than any activity is before Fedify reads
 * it: its JSON-LD processing recurses per level and overflows the stack on a
 * few thousand (a RangeError, logged as a server error).
 */
export function activityGuard(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (c.req.method === "POST" && INBOX_PATH.test(c.req.path)) {
      if (nestedDeeperThan(await c.req.raw.clone().text(), MAX_ACTIVITY_DEPTH))
        throw new CliqueError(
          "invalid_input",
          `The activity is nested more than ${MAX_ACTIVITY_DEPTH} levels deep`,
        );
    }
    await next();
  };
}

/** Whether JSON text opens more than `limit` arrays and objects inside each other. */
function nestedDeeperThan(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  let escaped = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (inString) {
      if (escaped) escaped = false;
      else if (ch === 0x5c) escaped = true;
      else if (ch === 0x22) inString = false;
    } else if (ch === 0x22) inString = true;
    else if (ch === 0x7b || ch === 0x5b) {
      if (++depth > limit) return true;
    } else if (ch === 0x7d || ch === 0x5d) depth--;
  }
  return false;
}

function decoded(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

const CODES: Record<number, string> = {
  400: "invalid_input",
  401: "unauthorized",
  403: "forbidden",
  404: "not_found",
  405: "method_not_allowed",
  406: "not_acceptable",
  409: "conflict",
  410: "gone",
  413: "payload_too_large",
  415: "unsupported_media_type",
  422: "invalid_input",
  429: "too_many_requests",
};

/**
 * Error answers in JSON with `error` and `code`: Fedify answers its own (a bad
 * signature, an unreadable activity, an unknown WebFinger resource) in plain
 * text, which a client cannot tell from a proxy's error page.
 */
export function jsonErrors(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    await next();
    const status = c.res.status;
    const type = c.res.headers.get("content-type") ?? "";
    if (status < 400 || type.includes("json")) return;
    // Pages written for people (the OAuth sign-in and error pages, issue 11) stay HTML.
    if (type.includes("text/html")) return;
    const text = (await c.res.text()).trim().slice(0, 500);
    const code = CODES[status] ?? (status >= 500 ? "internal" : "error");
    const error = status === 404 || text === "" ? (MESSAGES[code] ?? `HTTP ${status}`) : text;
    c.res = c.json({ error, code }, status as 400);
    // The old answer's length would otherwise be kept with the new body.
    c.res.headers.delete("content-length");
  };
}

const MESSAGES: Record<string, string> = {
  not_found: "Record not found",
  unauthorized: "This request needs a valid signature or token",
  not_acceptable: "No representation of this resource matches the Accept header",
  gone: "This resource is gone",
};

/**
 * Whether an error thrown while Fedify read an inbox POST is the sender's:
 * an activity whose JSON-LD or URLs cannot be read. Fedify throws these
 * rather than answering 400 (it keeps 5xx for failures worth retrying).
 */
export function isUnreadableActivity(c: Context<AppEnv>, error: unknown): boolean {
  if (c.req.method !== "POST" || !INBOX_PATH.test(c.req.path)) return false;
  if (!(error instanceof Error)) return false;
  return (
    error.name.startsWith("jsonld.") ||
    error instanceof TypeError ||
    error instanceof SyntaxError ||
    error instanceof RangeError ||
    error instanceof URIError
  );
}
