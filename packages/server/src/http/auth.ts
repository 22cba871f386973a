/**
 * Who is asking: a bearer token (API clients, OAuth apps) or the session
 * cookie (the web UI). Cookie-authenticated writes must come from our own
 * origin (CSRF); a cookie sent with another origin's `Origin` header is
 * ignored on reads, so a cross-origin page never reads as the member (CORS
 * allows bearer tokens only).
 */
import { type Action, ANONYMOUS, CliqueError, type Member, mayTake } from "@clique/core";
import type { Context, MiddlewareHandler } from "hono";
import { getCookie, setCookie } from "hono/cookie";
import type { AppEnv } from "./env.ts";
import { problem } from "./errors.ts";

/** Name of the session cookie. */
export const SESSION_COOKIE = "clique_session";

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/** Resolves the caller and stores it on the context; never rejects anonymous callers. */
export function authentication(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const { clique, config } = c.get("services");
    c.set("member", null);
    c.set("viewer", ANONYMOUS);
    c.set("authKind", null);
    c.set("tokenId", null);
    c.set("scopes", null);
    c.set("oauthApp", null);
    const header = c.req.header("authorization");
    if (header !== undefined) {
      const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
      const found = match ? await clique.authenticateBearer(match[1]!) : null;
      // Mastodon answers an unusable token with 401 rather than treating the caller as anonymous.
      if (!found) throw new CliqueError("unauthorized", "The access token is invalid");
      // OAuth (issue 11): the token's scopes bound every route (oauth/scopes.ts);
      // an app's own token (client_credentials) speaks for no member.
      c.set("scopes", found.token.scopes);
      c.set("oauthApp", found.app);
      c.set("tokenId", found.token.id);
      if (found.kind === "member") setMember(c, found.member, "api");
    } else {
      const cookie = getCookie(c, SESSION_COOKIE);
      const origin = c.req.header("origin");
      // A read from another origin's page carries the cookie too (same site, other port):
      // it is answered as anonymous.
      const foreign = origin !== undefined && origin !== config.origin;
      if (cookie && !(foreign && SAFE_METHODS.has(c.req.method))) {
        const found = await clique.authenticate(cookie, "session");
        if (found) {
          if (!SAFE_METHODS.has(c.req.method)) {
            if (origin !== config.origin)
              throw new CliqueError(
                "forbidden",
                "Cross-site request refused: the Origin header does not match",
              );
          }
          setMember(c, found.member, "session");
          c.set("tokenId", found.token.id);
        }
      }
    }
    await next();
  };
}

/** Opens the web UI's session: the cookie every sign-in (password, single sign-on, joining) sets. */
export function setSessionCookie(c: Context<AppEnv>, token: string): void {
  const { config } = c.get("services");
  setCookie(c, SESSION_COOKIE, token, {
    httpOnly: true,
    sameSite: "Lax",
    secure: config.origin.startsWith("https:"),
    path: "/",
    maxAge: 60 * 60 * 24 * 30,
  });
}

/**
 * What a new browser session is named: the browser's User-Agent, which the
 * settings screen shows beside each session (cut to a sane length).
 */
export function sessionName(c: Context<AppEnv>): string {
  return (c.req.header("user-agent") ?? "").slice(0, 200);
}

function setMember(c: Context<AppEnv>, member: Member, kind: "session" | "api"): void {
  c.set("member", member);
  c.set("viewer", { kind: "member", actorId: member.id, role: member.role });
  c.set("authKind", kind);
}

/** The signed-in member, or a 401. */
export function requireMember(c: Context<AppEnv>): Member {
  const member = c.get("member");
  if (!member) throw new CliqueError("unauthorized", "This method requires an authenticated user");
  return member;
}

/**
 * The signed-in member if the permission table lets their role take `action`
 * at all, or a 403 (whether it may be taken on a given member is the use
 * case's to ask, with the target).
 */
export function requireAction(c: Context<AppEnv>, action: Action): Member {
  const member = requireMember(c);
  if (!mayTake(member.role, action)) throw problem("not_allowed", "Your role does not allow this");
  return member;
}
