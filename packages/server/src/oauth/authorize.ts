/**
 * `/oauth/authorize`: the member signs in (if needed), reads what the app
 * asks for, and agrees or not. The request is checked before anything is
 * shown: an unknown app or a redirect URI the app did not register gets an
 * error page, never a redirect.
 *
 * Forms are protected against cross-site posting twice over: each carries a
 * token derived (HMAC) from a random cookie of this flow and, for consent,
 * the session it was shown to; and a POST whose `Origin` (or
 * `Sec-Fetch-Site`) says another site sent it is refused.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import {
  type Clique,
  type Member,
  type OAuthApp,
  OOB_REDIRECT_URI,
  parseScopes,
  type Scope,
  scopesWithin,
} from "@clique/core";
import { type Context, Hono } from "hono";
import { getCookie, setCookie } from "hono/cookie";
import { SESSION_COOKIE } from "../http/auth.ts";
import { checkInput } from "../http/body.ts";
import { clientAddress, throttleKey } from "../http/client-address.ts";
import type { AppEnv } from "../http/env.ts";
import { codePage, consentPage, errorPage, signInPage } from "./pages.ts";

/** The cookie that ties this flow's forms to this browser. */
const FLOW_COOKIE = "clique_oauth_flow";

/** An authorization request, checked against the app's registration. */
interface AuthorizationRequest {
  app: OAuthApp;
  redirectUri: string;
  scopes: Scope[];
  state: string | undefined;
  codeChallenge: string | null;
  codeChallengeMethod: "S256" | null;
  forceLogin: boolean;
  lang: string | undefined;
}

type Checked =
  | { ok: true; request: AuthorizationRequest }
  /** Shown as a page: there is no redirect URI it is safe to send the member to. */
  | { ok: false; page: true; title: string; message: string }
  /** Sent back to the app (its redirect URI is registered). */
  | { ok: false; page: false; redirect: string };

const PKCE_CHALLENGE = /^[A-Za-z0-9._~-]{43,128}$/;
const LANG = /^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$/;

/** The redirect URI with `params` added to its query (kept as registered otherwise). */
function withParams(redirectUri: string, params: Record<string, string | undefined>): string {
  const url = new URL(redirectUri);
  for (const [key, value] of Object.entries(params))
    if (value !== undefined) url.searchParams.set(key, value);
  return url.href;
}

/** Reads and checks the parameters of an authorization request (query or form). */
async function checkRequest(clique: Clique, params: Record<string, string>): Promise<Checked> {
  const clientId = params.client_id ?? "";
  const app = clientId ? await clique.findClientApp(clientId, null) : null;
  if (!app)
    return {
      ok: false,
      page: true,
      title: "Unknown app",
      message:
        "The app that sent you here is not registered with this Clique. Go back to the app and try again.",
    };
  const redirectUri =
    params.redirect_uri ?? (app.redirectUris.length === 1 ? app.redirectUris[0] : undefined);
  if (!redirectUri || !app.redirectUris.includes(redirectUri))
    return {
      ok: false,
      page: true,
      title: "Wrong return address",
      message: `${app.name} asked to be sent back to an address it did not register, so this sign-in was stopped.`,
    };
  const state = params.state || undefined;
  const refuse = (error: string, description: string): Checked =>
    redirectUri === OOB_REDIRECT_URI
      ? { ok: false, page: true, title: "This request cannot be completed", message: description }
      : {
          ok: false,
          page: false,
          redirect: withParams(redirectUri, { error, error_description: description, state }),
        };
  if (params.response_type !== "code")
    return refuse("unsupported_response_type", "Only response_type=code is supported.");
  const scopes = parseScopes(params.scope);
  if (!scopes || !scopesWithin(app.scopes, scopes))
    return refuse("invalid_scope", "The requested scope is invalid, unknown, or malformed.");
  const challenge = params.code_challenge || null;
  const method = params.code_challenge_method || null;
  if (challenge === null && method !== null)
    return refuse("invalid_request", "code_challenge_method was given without a code_challenge.");
  if (challenge !== null && (method !== "S256" || !PKCE_CHALLENGE.test(challenge)))
    return refuse(
      "invalid_request",
      "PKCE needs code_challenge_method=S256 and a 43 to 128 character code_challenge.",
    );
  if (state !== undefined && state.length > 2000)
    return refuse("invalid_request", "The state is too long.");
  const lang = params.lang && LANG.test(params.lang) ? params.lang : undefined;
  return {
    ok: true,
    request: {
      app,
      redirectUri,
      scopes,
      state,
      codeChallenge: challenge,
      codeChallengeMethod: challenge ? "S256" : null,
      forceLogin: ["true", "1", "yes"].includes((params.force_login ?? "").toLowerCase()),
      lang,
    },
  };
}

/** The request as form fields (and query parameters), to carry it from page to page. */
function fieldsOf(request: AuthorizationRequest): Record<string, string | undefined> {
  return {
    response_type: "code",
    client_id: request.app.clientId,
    redirect_uri: request.redirectUri,
    scope: request.scopes.join(" "),
    state: request.state,
    code_challenge: request.codeChallenge ?? undefined,
    code_challenge_method: request.codeChallengeMethod ?? undefined,
    lang: request.lang,
  };
}

function queryOf(fields: Record<string, string | undefined>): string {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(fields)) if (value) query.set(key, value);
  return query.toString();
}

/** The form token for a step: an HMAC keyed by this browser's flow secret. */
function csrfToken(flowSecret: string, purpose: string): string {
  return createHmac("sha256", flowSecret).update(`clique-oauth:${purpose}`).digest("base64url");
}

function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The flow secret of this browser, made (and set) if it has none. */
function flowSecret(c: Context<AppEnv>): string {
  const existing = getCookie(c, FLOW_COOKIE);
  if (existing && /^[A-Za-z0-9_-]{32,64}$/.test(existing)) return existing;
  const secret = randomBytesBase64url(32);
  setCookie(c, FLOW_COOKIE, secret, {
    httpOnly: true,
    sameSite: "Lax",
    secure: c.get("services").config.origin.startsWith("https:"),
    path: "/oauth",
    maxAge: 60 * 60,
  });
  return secret;
}

function randomBytesBase64url(n: number): string {
  const bytes = new Uint8Array(n);
  crypto.getRandomValues(bytes);
  return Buffer.from(bytes).toString("base64url");
}

/** The member signed in with this browser's session cookie, and the session's id. */
async function sessionOf(c: Context<AppEnv>): Promise<{ member: Member; tokenId: string } | null> {
  const cookie = getCookie(c, SESSION_COOKIE);
  if (!cookie) return null;
  const found = await c.get("services").clique.authenticate(cookie, "session");
  return found ? { member: found.member, tokenId: found.token.id } : null;
}

async function cliqueName(clique: Clique): Promise<string> {
  return (await clique.getSettings())?.name ?? "Clique";
}

/**
 * Answers with a page. A refusal goes to a caller that does not take HTML (a
 * script, not a browser) as the API's JSON error, `{ error, code }`.
 */
function html(
  c: Context<AppEnv>,
  body: string,
  status: 200 | 400 | 401 | 403 | 429 = 200,
  problem?: { code: string; message: string },
) {
  c.header("Cache-Control", "no-store");
  if (status !== 200 && problem && !(c.req.header("accept") ?? "").includes("text/html"))
    return c.json({ error: problem.message, code: problem.code }, status);
  // The pages may not be framed (clickjacking the Authorise button).
  c.header("X-Frame-Options", "DENY");
  c.header(
    "Content-Security-Policy",
    "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
  );
  return c.html(body, status);
}

async function showSignIn(
  c: Context<AppEnv>,
  request: AuthorizationRequest,
  secret: string,
  extra: { error?: string; username?: string; status?: 401 | 403 | 429 } = {},
) {
  return html(
    c,
    signInPage({
      cliqueName: await cliqueName(c.get("services").clique),
      appName: request.app.name,
      fields: fieldsOf(request),
      csrf: csrfToken(secret, "sign_in"),
      ...(extra.error ? { error: extra.error } : {}),
      ...(extra.username ? { username: extra.username } : {}),
    }),
    extra.status ?? 200,
    {
      code:
        extra.status === 429
          ? "too_many_attempts"
          : extra.status === 403
            ? "account_disabled"
            : "invalid_credentials",
      message: extra.error ?? "Sign in first",
    },
  );
}

async function showConsent(
  c: Context<AppEnv>,
  request: AuthorizationRequest,
  secret: string,
  session: { member: Member; tokenId: string },
) {
  const fields = fieldsOf(request);
  return html(
    c,
    consentPage({
      cliqueName: await cliqueName(c.get("services").clique),
      username: session.member.username,
      app: { name: request.app.name, website: request.app.website },
      scopes: request.scopes,
      fields,
      csrf: csrfToken(secret, `consent:${session.tokenId}`),
      switchUrl: `/oauth/authorize?${queryOf({ ...fields, force_login: "true" })}`,
    }),
  );
}

function refused(c: Context<AppEnv>, checked: Exclude<Checked, { ok: true }>) {
  if (!checked.page) return c.redirect(checked.redirect, 302);
  return html(c, errorPage({ title: checked.title, message: checked.message }), 400, {
    code: "invalid_request",
    message: checked.message,
  });
}

/** Mounted at `/oauth/authorize`. */
export const authorizeApi = new Hono<AppEnv>();

authorizeApi.get("/", async (c) => {
  const params = Object.fromEntries(new URL(c.req.url).searchParams);
  checkInput(params, "query parameter");
  // Opened by hand, without an app's request: say what this page is for.
  if (Object.keys(params).length === 0)
    return html(
      c,
      errorPage({
        title: "Sign in from an app",
        message:
          "This page opens when a Mastodon app asks to use your account. Start from the app: type this Clique's address there.",
      }),
    );
  const checked = await checkRequest(c.get("services").clique, params);
  if (!checked.ok) return refused(c, checked);
  const secret = flowSecret(c);
  const session = checked.request.forceLogin ? null : await sessionOf(c);
  if (!session) return showSignIn(c, checked.request, secret);
  return showConsent(c, checked.request, secret, session);
});

authorizeApi.post("/", async (c) => {
  const { clique, config } = c.get("services");
  // Sent by a page of another site: refused whatever it carries.
  const origin = c.req.header("origin");
  const site = c.req.header("sec-fetch-site");
  if (
    (origin !== undefined && origin !== config.origin) ||
    (site && site !== "same-origin" && site !== "none")
  )
    return html(
      c,
      errorPage({
        title: "Request refused",
        message: "This form was sent from another site. Go back to the app and start again.",
      }),
      403,
      {
        code: "forbidden",
        message: "Cross-site request refused: the Origin header does not match",
      },
    );
  const body = await c.req.parseBody().catch(() => ({}) as Record<string, unknown>);
  const params: Record<string, string> = {};
  for (const [key, value] of Object.entries(body))
    if (typeof value === "string") params[key] = value;
  // NUL bytes, lone surrogates and the like: refused as everywhere else (a 422).
  checkInput(params);
  const checked = await checkRequest(clique, params);
  if (!checked.ok) return refused(c, checked);
  const request = checked.request;
  const secret = getCookie(c, FLOW_COOKIE);
  const expired = () =>
    html(
      c,
      errorPage({
        title: "This page expired",
        message: "Go back to the app and start signing in again.",
      }),
      403,
      { code: "forbidden", message: "The form's token is missing or out of date" },
    );
  if (!secret) return expired();
  const given = params.csrf_token ?? "";

  if (params.step === "sign_in") {
    if (!sameToken(given, csrfToken(secret, "sign_in"))) return expired();
    const username = (params.username ?? "").trim();
    const password = params.password ?? "";
    if (!username || !password || username.length > 100 || password.length > 1024)
      return showSignIn(c, request, secret, {
        error: "Enter your username and password.",
        username: username.slice(0, 100),
        status: 401,
      });
    const result = await clique.signIn({
      username,
      password,
      ip: throttleKey(clientAddress(c, config.trustedProxies)),
      kind: "session",
      name: "web",
    });
    if (!result.ok) {
      const status =
        result.reason === "too_many_attempts"
          ? 429
          : result.reason === "account_disabled"
            ? 403
            : 401;
      return showSignIn(c, request, secret, {
        error: result.detail ?? "Wrong username or password.",
        username,
        status,
      });
    }
    setCookie(c, SESSION_COOKIE, result.value.token, {
      httpOnly: true,
      sameSite: "Lax",
      secure: config.origin.startsWith("https:"),
      path: "/",
      maxAge: 60 * 60 * 24 * 30,
    });
    // On to consent, as a fresh page (reloading it does not sign in again).
    return c.redirect(`/oauth/authorize?${queryOf(fieldsOf(request))}`, 303);
  }

  if (params.step !== "consent") return expired();
  const session = await sessionOf(c);
  if (!session) return showSignIn(c, request, secret);
  if (!sameToken(given, csrfToken(secret, `consent:${session.tokenId}`))) return expired();
  const oob = request.redirectUri === OOB_REDIRECT_URI;
  if (params.decision !== "authorize") {
    if (oob)
      return html(
        c,
        errorPage({
          title: "Not authorised",
          message: `${request.app.name} will not get access to your account.`,
        }),
      );
    return c.redirect(
      withParams(request.redirectUri, {
        error: "access_denied",
        error_description: "The resource owner or authorization server denied the request.",
        state: request.state,
      }),
      303,
    );
  }
  const { code } = await clique.grantAuthorizationCode(session.member, {
    app: request.app,
    redirectUri: request.redirectUri,
    scopes: request.scopes,
    codeChallenge: request.codeChallenge,
    codeChallengeMethod: request.codeChallengeMethod,
  });
  if (oob) return html(c, codePage({ appName: request.app.name, code }));
  return c.redirect(withParams(request.redirectUri, { code, state: request.state }), 303);
});
