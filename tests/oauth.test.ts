/**
 * Mastodon's OAuth app flow against a real server: an app registers with the
 * `masto` client library, a member signs in and consents through the HTML
 * pages (driven by plain HTTP, cookies and forms as a browser sends them),
 * the app exchanges the code with PKCE (S256) and uses the token with masto.
 * Then what must fail does: wrong verifiers, reused codes, other redirect
 * URIs, scopes a token was not granted, revoked tokens, cross-site forms.
 */
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { lastLine, stopEmbeddedTestServer } from "@clique/testing";
import { createOAuthAPIClient, createRestAPIClient, MastoHttpError } from "masto";
import {
  api,
  type Cleanup,
  cliOk,
  password,
  request,
  runCleanup,
  type Site,
  startSite,
} from "./support/sites.ts";

const cleanup: Cleanup = [];
let site: Site;

before(async () => {
  site = await startSite({ label: "oauth", owner: "alice", members: ["bob"], cleanup });
});

after(async () => {
  if (site && / ERR clique/.test(site.server.output())) console.error(site.server.output());
  await runCleanup(cleanup);
  await stopEmbeddedTestServer();
});

// ------------------------------------------------------------------ helpers

const REDIRECT = "http://127.0.0.1:9/callback";
const OOB = "urn:ietf:wg:oauth:2.0:oob";

interface RegisteredApp {
  id: string;
  clientId: string;
  clientSecret: string;
}

async function registerApp(
  scopes = "read write follow push",
  redirectUris: string | string[] = [REDIRECT, OOB],
): Promise<RegisteredApp> {
  const masto = createRestAPIClient({ url: site.origin });
  const app = await masto.v1.apps.create({
    clientName: "Test Toots",
    redirectUris,
    scopes,
    website: "https://toots.example",
  });
  assert.ok(app.clientId && app.clientSecret, "the app got client credentials");
  // masto's Application type predates Mastodon 4.3's `id` on it.
  const id = (app as unknown as { id: string }).id;
  assert.equal(typeof id, "string");
  return { id, clientId: app.clientId, clientSecret: app.clientSecret };
}

function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString("base64url");
  return { verifier, challenge: createHash("sha256").update(verifier).digest("base64url") };
}

/** A browser's cookies for the site, kept across requests. */
class Browser {
  readonly cookies = new Map<string, string>();

  async fetch(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    // What a browser asks for when it opens a page or sends a form.
    headers.set("accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8");
    if (this.cookies.size > 0)
      headers.set("cookie", [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; "));
    const response = await fetch(new URL(path, site.origin), {
      ...init,
      headers,
      redirect: "manual",
    });
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(";");
      const eq = pair!.indexOf("=");
      this.cookies.set(pair!.slice(0, eq).trim(), pair!.slice(eq + 1).trim());
    }
    return response;
  }

  /** Posts a form as a page of the site does (with its Origin). */
  post(path: string, fields: Record<string, string>, origin = site.origin): Promise<Response> {
    return this.fetch(path, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", origin },
      body: new URLSearchParams(fields).toString(),
    });
  }
}

const unescapeHtml = (s: string) =>
  s
    .replaceAll("&quot;", '"')
    .replaceAll("&#39;", "'")
    .replaceAll("&lt;", "<")
    .replaceAll("&gt;", ">")
    .replaceAll("&amp;", "&");

/** The hidden fields of a page's form (the request and the CSRF token). */
function hiddenFields(html: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const m of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g))
    fields[m[1]!] = unescapeHtml(m[2]!);
  return fields;
}

function authorizePath(app: RegisteredApp, params: Record<string, string | undefined>): string {
  const query = new URLSearchParams({ response_type: "code", client_id: app.clientId });
  for (const [k, v] of Object.entries(params)) if (v !== undefined) query.set(k, v);
  return `/oauth/authorize?${query}`;
}

/**
 * Drives the pages as a member would: the sign-in form, then the consent
 * screen; returns the consent page's HTML and the final answer.
 */
async function consent(
  app: RegisteredApp,
  options: {
    user?: string;
    scope?: string;
    redirectUri?: string;
    state?: string;
    challenge?: string;
    decision?: "authorize" | "deny";
    browser?: Browser;
  } = {},
): Promise<{ signIn: string; consentPage: string; answer: Response }> {
  const browser = options.browser ?? new Browser();
  const user = options.user ?? "alice";
  const path = authorizePath(app, {
    redirect_uri: options.redirectUri ?? REDIRECT,
    scope: options.scope,
    state: options.state,
    code_challenge: options.challenge,
    code_challenge_method: options.challenge ? "S256" : undefined,
  });
  let page = await browser.fetch(path);
  const signIn = await page.text();
  assert.equal(page.status, 200, signIn);
  let consentHtml = signIn;
  if (/name="step" value="sign_in"/.test(signIn)) {
    const signedIn = await browser.post("/oauth/authorize", {
      ...hiddenFields(signIn),
      username: user,
      password: password(user, site.label),
    });
    assert.equal(signedIn.status, 303, await signedIn.clone().text());
    page = await browser.fetch(signedIn.headers.get("location")!);
    consentHtml = await page.text();
    assert.equal(page.status, 200, consentHtml);
  }
  assert.match(consentHtml, /name="step" value="consent"/, "the consent screen is shown");
  const answer = await browser.post("/oauth/authorize", {
    ...hiddenFields(consentHtml),
    decision: options.decision ?? "authorize",
  });
  return { signIn, consentPage: consentHtml, answer };
}

/** The code from the redirect back to the app. */
function codeFrom(
  answer: Response,
  redirectUri = REDIRECT,
): { code: string; state: string | null } {
  assert.equal(answer.status, 303);
  const location = new URL(answer.headers.get("location")!);
  assert.equal(`${location.origin}${location.pathname}`, redirectUri);
  const code = location.searchParams.get("code");
  assert.ok(code, `a code in ${location.href}`);
  return { code, state: location.searchParams.get("state") };
}

async function exchange(
  fields: Record<string, string>,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${site.origin}/oauth/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(fields).toString(),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** The whole flow: a token for `user` with `scope`. */
async function tokenFor(app: RegisteredApp, user: string, scope: string): Promise<string> {
  const { verifier, challenge } = pkce();
  const { answer } = await consent(app, { user, scope, challenge });
  const { code } = codeFrom(answer);
  const { status, body } = await exchange({
    grant_type: "authorization_code",
    code,
    client_id: app.clientId,
    client_secret: app.clientSecret,
    redirect_uri: REDIRECT,
    code_verifier: verifier,
  });
  assert.equal(status, 200, JSON.stringify(body));
  return body.access_token as string;
}

async function status(token: string, method: string, path: string, body?: unknown) {
  const response = await fetch(`${site.origin}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body ? { "content-type": "application/json" } : {}),
    },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  return { status: response.status, text };
}

// -------------------------------------------------------------------- tests

describe("the app flow with a Mastodon client library", () => {
  test("register, sign in, consent, exchange with PKCE, then use the token with masto", async () => {
    const app = await registerApp();
    const { verifier, challenge } = pkce();
    const { signIn, consentPage, answer } = await consent(app, {
      scope: "read write",
      state: "xyz-123",
      challenge,
    });
    assert.match(signIn, /Sign in to Site oauth/);
    assert.match(consentPage, /Allow Test Toots to use your account\?/);
    const { code, state } = codeFrom(answer);
    assert.equal(state, "xyz-123", "the state comes back unchanged");

    const { status: st, body } = await exchange({
      grant_type: "authorization_code",
      code,
      client_id: app.clientId,
      client_secret: app.clientSecret,
      redirect_uri: REDIRECT,
      code_verifier: verifier,
    });
    assert.equal(st, 200, JSON.stringify(body));
    assert.equal(body.token_type, "Bearer");
    assert.equal(body.scope, "read write");
    assert.equal(typeof body.created_at, "number");
    assert.ok(Math.abs((body.created_at as number) - Date.now() / 1000) < 120);
    assert.equal(body.refresh_token, undefined, "no refresh tokens: tokens do not expire");
    assert.equal(body.expires_in, undefined);

    const masto = createRestAPIClient({
      url: site.origin,
      accessToken: body.access_token as string,
    });
    const me = await masto.v1.accounts.verifyCredentials();
    assert.equal(me.username, "alice");
    const posted = await masto.v1.statuses.create({
      status: "Hello from an app",
      visibility: "public",
    });
    assert.match(posted.content, /Hello from an app/);
    assert.equal(posted.account.id, site.ids.alice);
    const mine = await masto.v1.apps.verifyCredentials();
    assert.equal(mine.name, "Test Toots");
    assert.deepEqual((mine as unknown as { scopes: string[] }).scopes, [
      "read",
      "write",
      "follow",
      "push",
    ]);
  });

  test("a code works once, with the right verifier and redirect URI only", async () => {
    const app = await registerApp();
    const base = {
      grant_type: "authorization_code",
      client_id: app.clientId,
      client_secret: app.clientSecret,
      redirect_uri: REDIRECT,
    };

    // A wrong verifier is refused, and spends the code.
    let { verifier, challenge } = pkce();
    let { code } = codeFrom((await consent(app, { challenge })).answer);
    let r = await exchange({ ...base, code, code_verifier: pkce().verifier });
    assert.equal(r.status, 400);
    assert.equal(r.body.error, "invalid_grant");
    r = await exchange({ ...base, code, code_verifier: verifier });
    assert.equal(r.body.error, "invalid_grant", "the code was spent by the failed attempt");

    // Used once, refused the second time.
    ({ verifier, challenge } = pkce());
    ({ code } = codeFrom((await consent(app, { challenge })).answer));
    r = await exchange({ ...base, code, code_verifier: verifier });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    r = await exchange({ ...base, code, code_verifier: verifier });
    assert.equal(r.status, 400);
    assert.equal(r.body.error, "invalid_grant");

    // A code given with a challenge needs its verifier.
    ({ verifier, challenge } = pkce());
    ({ code } = codeFrom((await consent(app, { challenge })).answer));
    r = await exchange({ ...base, code });
    assert.equal(r.status, 400);

    // Another registered redirect URI than the authorization's.
    ({ verifier, challenge } = pkce());
    ({ code } = codeFrom((await consent(app, { challenge })).answer));
    r = await exchange({ ...base, code, code_verifier: verifier, redirect_uri: OOB });
    assert.equal(r.status, 400);
    assert.equal(r.body.error, "invalid_grant");

    // Another app's secret.
    const other = await registerApp();
    ({ verifier, challenge } = pkce());
    ({ code } = codeFrom((await consent(app, { challenge })).answer));
    r = await exchange({
      ...base,
      client_id: other.clientId,
      client_secret: other.clientSecret,
      code,
      code_verifier: verifier,
    });
    assert.equal(r.status, 400);
    assert.equal(r.body.error, "invalid_grant");

    // A wrong secret.
    r = await exchange({
      ...base,
      client_secret: "not-the-secret-at-all",
      code: "whatever-code-1234567890",
    });
    assert.equal(r.body.error, "invalid_client");

    // The password grant is not offered.
    r = await exchange({
      ...base,
      grant_type: "password",
      username: "alice",
      password: password("alice", site.label),
    });
    assert.equal(r.body.error, "unsupported_grant_type");
  });

  test("an unregistered redirect URI stops at an error page, never redirected to", async () => {
    const app = await registerApp();
    const response = await fetch(
      `${site.origin}${authorizePath(app, { redirect_uri: "https://evil.example/steal" })}`,
      { redirect: "manual", headers: { accept: "text/html" } },
    );
    assert.equal(response.status, 400);
    assert.equal(response.headers.get("location"), null);
    assert.match(await response.text(), /<h1>Wrong return address<\/h1>[\s\S]*did not register/);
    // A caller that takes no HTML gets the API's JSON error.
    const scripted = await fetch(
      `${site.origin}${authorizePath(app, { redirect_uri: "https://evil.example/steal" })}`,
      { redirect: "manual" },
    );
    assert.equal(scripted.status, 400);
    assert.equal(((await scripted.json()) as { code: string }).code, "invalid_request");
    // A scope beyond the app's registration goes back to the app as invalid_scope.
    const narrow = await registerApp("read");
    const scoped = await fetch(
      `${site.origin}${authorizePath(narrow, { redirect_uri: REDIRECT, scope: "write" })}`,
      {
        redirect: "manual",
      },
    );
    assert.equal(scoped.status, 302);
    assert.equal(
      new URL(scoped.headers.get("location")!).searchParams.get("error"),
      "invalid_scope",
    );
  });

  test("denying sends the app access_denied with its state", async () => {
    const app = await registerApp();
    const { answer } = await consent(app, { state: "s-1", decision: "deny" });
    assert.equal(answer.status, 303);
    const location = new URL(answer.headers.get("location")!);
    assert.equal(location.searchParams.get("error"), "access_denied");
    assert.equal(location.searchParams.get("state"), "s-1");
    assert.equal(location.searchParams.get("code"), null);
  });

  test("urn:ietf:wg:oauth:2.0:oob shows the code on a page", async () => {
    const app = await registerApp();
    const { answer } = await consent(app, { redirectUri: OOB });
    assert.equal(answer.status, 200);
    const html = await answer.text();
    assert.match(html, /<h1>Your authorisation code<\/h1>/);
    const code = /<code class="code" id="authorization-code">([^<]+)<\/code>/.exec(html)?.[1];
    assert.ok(code, html);
    const r = await exchange({
      grant_type: "authorization_code",
      code: code!,
      client_id: app.clientId,
      client_secret: app.clientSecret,
      redirect_uri: OOB,
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.scope, "read");
  });
});

describe("scopes on every route", () => {
  test("a read token reads but cannot post", async () => {
    const app = await registerApp();
    const token = await tokenFor(app, "alice", "read");
    const home = await status(token, "GET", "/api/v1/timelines/home");
    assert.equal(home.status, 200, home.text);
    assert.ok(Array.isArray(JSON.parse(home.text)));
    const post = await status(token, "POST", "/api/v1/statuses", { status: "not allowed" });
    assert.equal(post.status, 403);
    assert.equal(JSON.parse(post.text).error, "This action is outside the authorized scopes");
    // Nor make itself a token that may (personal tokens never exceed their maker).
    const escalate = await status(token, "POST", "/api/v1/clique/tokens", { name: "more" });
    assert.equal(escalate.status, 403, escalate.text);
  });

  test("a write:statuses token posts but cannot read notifications", async () => {
    const app = await registerApp();
    const token = await tokenFor(app, "bob", "write:statuses");
    const post = await status(token, "POST", "/api/v1/statuses", { status: "granular" });
    assert.equal(post.status, 200, post.text);
    assert.match(JSON.parse(post.text).content, /granular/);
    const notifications = await status(token, "GET", "/api/v1/notifications");
    assert.equal(notifications.status, 403);
    assert.equal(
      JSON.parse(notifications.text).error,
      "This action is outside the authorized scopes",
    );
    const timeline = await status(token, "GET", "/api/v1/timelines/home");
    assert.equal(timeline.status, 403);
  });

  test("the deprecated follow scope covers following and blocking, not posting", async () => {
    const app = await registerApp();
    const token = await tokenFor(app, "bob", "follow");
    const follow = await status(token, "POST", `/api/v1/accounts/${site.ids.alice}/follow`);
    assert.equal(follow.status, 200, follow.text);
    const relationship = JSON.parse(follow.text);
    assert.ok(relationship.following || relationship.requested, follow.text);
    const blocks = await status(token, "GET", "/api/v1/blocks");
    assert.equal(blocks.status, 200, blocks.text);
    assert.equal((await status(token, "POST", "/api/v1/statuses", { status: "x" })).status, 403);
  });

  test("a personal token made with fewer scopes keeps to them", async () => {
    const made = await api<{ access_token: string; scope: string }>(
      site,
      "bob",
      "POST",
      "/api/v1/clique/tokens",
      {
        name: "reader",
        scopes: "read",
      },
    );
    assert.equal(made.scope, "read");
    // The same from the command line.
    const fromCli = lastLine(
      await cliOk(site, ["token", "create", "bob", "--scopes", "read:accounts"]),
    );
    assert.equal((await status(fromCli, "GET", "/api/v1/accounts/verify_credentials")).status, 200);
    assert.equal((await status(fromCli, "GET", "/api/v1/timelines/home")).status, 403);
    assert.equal(
      (await status(made.access_token, "GET", "/api/v1/accounts/verify_credentials")).status,
      200,
    );
    assert.equal(
      (await status(made.access_token, "POST", "/api/v1/statuses", { status: "x" })).status,
      403,
    );
  });
});

describe("app tokens, revocation and a member's apps", () => {
  test("client_credentials: the app verifies itself, but is nobody's account", async () => {
    const app = await registerApp("read write");
    const oauth = createOAuthAPIClient({ url: site.origin });
    const token = await oauth.token.create({
      grantType: "client_credentials",
      clientId: app.clientId,
      clientSecret: app.clientSecret,
      redirectUri: REDIRECT,
      scope: "read",
    });
    assert.equal(token.scope, "read");
    const masto = createRestAPIClient({ url: site.origin, accessToken: token.accessToken });
    const verified = await masto.v1.apps.verifyCredentials();
    assert.equal(verified.name, "Test Toots");
    await assert.rejects(masto.v1.accounts.verifyCredentials(), (e: unknown) => {
      assert.ok(e instanceof MastoHttpError);
      assert.ok([401, 403, 422].includes(e.statusCode), String(e.statusCode));
      return true;
    });
    // Public reads still work, as for anyone.
    const account = await masto.v1.accounts.$select(site.ids.alice!).fetch();
    assert.equal(account.username, "alice");
    // Beyond the app's registration: refused.
    await assert.rejects(
      oauth.token.create({
        grantType: "client_credentials",
        clientId: app.clientId,
        clientSecret: app.clientSecret,
        redirectUri: REDIRECT,
        scope: "push",
      }),
    );
  });

  test("/oauth/revoke stops the token at once", async () => {
    const app = await registerApp();
    const token = await tokenFor(app, "alice", "read");
    assert.equal((await status(token, "GET", "/api/v1/accounts/verify_credentials")).status, 200);
    // Another app may not revoke it.
    const other = await registerApp();
    const refused = await fetch(`${site.origin}/oauth/revoke`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        client_id: other.clientId,
        client_secret: other.clientSecret,
        token,
      }),
    });
    assert.equal(refused.status, 403);
    assert.equal((await status(token, "GET", "/api/v1/accounts/verify_credentials")).status, 200);
    const oauth = createOAuthAPIClient({ url: site.origin });
    await oauth.revoke({ clientId: app.clientId, clientSecret: app.clientSecret, token });
    const after = await status(token, "GET", "/api/v1/accounts/verify_credentials");
    assert.equal(after.status, 401);
    assert.equal(JSON.parse(after.text).error, "The access token is invalid");
  });

  test("a member lists the apps they authorised and revokes one", async () => {
    const app = await registerApp();
    const token = await tokenFor(app, "bob", "read write");
    const listed = await api<Record<string, unknown>[]>(site, "bob", "GET", "/api/v1/clique/apps");
    const entry = listed.find((a) => a.id === app.id);
    assert.ok(entry, JSON.stringify(listed));
    assert.equal(entry.name, "Test Toots");
    assert.equal(entry.website, "https://toots.example");
    assert.deepEqual(entry.scopes, ["read", "write"]);
    assert.equal(typeof entry.created_at, "string");
    // Alice never authorised it.
    const alices = await api<Record<string, unknown>[]>(
      site,
      "alice",
      "GET",
      "/api/v1/clique/apps",
    );
    assert.ok(!alices.some((a) => a.id === app.id));
    assert.equal(
      (await request(site, "alice", "DELETE", `/api/v1/clique/apps/${app.id}`)).status,
      404,
    );

    const revoked = await api<{ revoked_tokens: number }>(
      site,
      "bob",
      "DELETE",
      `/api/v1/clique/apps/${app.id}`,
    );
    assert.equal(revoked.revoked_tokens, 1);
    assert.equal((await status(token, "GET", "/api/v1/accounts/verify_credentials")).status, 401);
    const after = await api<Record<string, unknown>[]>(site, "bob", "GET", "/api/v1/clique/apps");
    assert.ok(!after.some((a) => a.id === app.id));
  });

  test("changing the password revokes app tokens, unless asked to keep other sessions", async () => {
    const app = await registerApp();
    const kept = await tokenFor(app, "bob", "read");
    const current = password("bob", site.label);
    const next = `${current}-changed`;
    // keep_other_sessions: the app's token stays.
    await api(site, "bob", "POST", "/api/v1/clique/password", {
      current_password: current,
      new_password: next,
      keep_other_sessions: true,
    });
    assert.equal((await status(kept, "GET", "/api/v1/accounts/verify_credentials")).status, 200);
    // By default every other session and token ends, the app's too; the caller's stays.
    const back = await api<{ revoked_sessions: number }>(
      site,
      "bob",
      "POST",
      "/api/v1/clique/password",
      {
        current_password: next,
        new_password: current,
      },
    );
    assert.ok(back.revoked_sessions >= 1);
    assert.equal((await status(kept, "GET", "/api/v1/accounts/verify_credentials")).status, 401);
    assert.equal(
      (await request(site, "bob", "GET", "/api/v1/accounts/verify_credentials")).status,
      200,
    );
  });
});

describe("the pages and the metadata", () => {
  test("the sign-in and consent pages are well-formed, labelled and usable on a phone", async () => {
    const app = await registerApp();
    const browser = new Browser();
    const page = await browser.fetch(
      authorizePath(app, { redirect_uri: REDIRECT, scope: "read write:media" }),
    );
    const html = await page.text();
    assert.match(page.headers.get("content-type") ?? "", /text\/html/);
    assert.match(html, /^<!doctype html>\n<html lang="en">/);
    assert.match(html, /<meta name="viewport" content="width=device-width, initial-scale=1">/);
    assert.match(html, /<title>Sign in to Site oauth<\/title>/);
    assert.equal(html.match(/<h1>/g)?.length, 1, "one heading 1");
    assert.match(
      html,
      /<label for="username">Username<\/label>\n<input type="text" id="username" name="username" autocomplete="username"/,
    );
    assert.match(
      html,
      /<label for="password">Password<\/label>\n<input type="password" id="password" name="password" autocomplete="current-password"/,
    );
    assert.match(html, /<button type="submit" class="primary">Sign in<\/button>/);
    assert.ok(hiddenFields(html).csrf_token, "the form carries a CSRF token");
    assert.equal(page.headers.get("x-frame-options"), "DENY");
    assert.equal(
      page.headers.get("access-control-allow-origin"),
      null,
      "no CORS on the HTML pages",
    );
    // Every tag opened in the body is closed (a cheap well-formedness check).
    for (const tag of ["main", "div", "form", "h1", "p", "label", "button"])
      assert.equal(
        html.match(new RegExp(`<${tag}[ >]`, "g"))?.length ?? 0,
        html.match(new RegExp(`</${tag}>`, "g"))?.length ?? 0,
        `<${tag}> balanced`,
      );

    // A wrong password: the form again, with the error announced.
    const wrong = await browser.post("/oauth/authorize", {
      ...hiddenFields(html),
      username: "alice",
      password: "wrong-password-123",
    });
    assert.equal(wrong.status, 401);
    const again = await wrong.text();
    assert.match(
      again,
      /<p class="error" role="alert" id="sign-in-error">Wrong username or password\.<\/p>/,
    );
    assert.match(again, /value="alice"/, "the username is kept");

    const { consentPage } = await consent(app, { scope: "read write:media", browser });
    assert.match(consentPage, /<h1>Allow Test Toots to use your account\?<\/h1>/);
    assert.match(consentPage, /signed in to Site oauth as <strong>@alice<\/strong>/);
    assert.match(
      consentPage,
      /<a href="https:\/\/toots\.example" rel="noopener noreferrer">https:\/\/toots\.example<\/a>/,
    );
    assert.match(consentPage, /<li>Read everything you can see/);
    assert.match(consentPage, /<li>Upload photos and videos<\/li>/);
    assert.match(
      consentPage,
      /<button type="submit" name="decision" value="authorize" class="primary">Authorise<\/button>/,
    );
    assert.match(
      consentPage,
      /<button type="submit" name="decision" value="deny" class="secondary">Deny<\/button>/,
    );
    // Signed in already: the next authorization goes straight to consent, unless force_login.
    const direct = await (
      await browser.fetch(authorizePath(app, { redirect_uri: REDIRECT }))
    ).text();
    assert.match(direct, /name="step" value="consent"/);
    const forced = await (
      await browser.fetch(authorizePath(app, { redirect_uri: REDIRECT, force_login: "true" }))
    ).text();
    assert.match(forced, /name="step" value="sign_in"/);
  });

  test("forms from another site, or without their token, are refused", async () => {
    const app = await registerApp();
    const browser = new Browser();
    const html = await (await browser.fetch(authorizePath(app, { redirect_uri: REDIRECT }))).text();
    const fields = {
      ...hiddenFields(html),
      username: "alice",
      password: password("alice", site.label),
    };
    const foreign = await browser.post("/oauth/authorize", fields, "http://127.0.0.1:1");
    assert.equal(foreign.status, 403);
    assert.equal(browser.cookies.has("clique_session"), false);
    const forged = await browser.post("/oauth/authorize", { ...fields, csrf_token: "forged" });
    assert.equal(forged.status, 403);
    // Without the flow cookie (another browser), the token is worth nothing.
    const stranger = new Browser();
    const stolen = await stranger.post("/oauth/authorize", fields);
    assert.equal(stolen.status, 403);
    assert.equal(stranger.cookies.has("clique_session"), false);
    // The consent token is bound to the session it was shown to.
    const { consentPage } = await consent(app, { browser, decision: "deny" });
    const other = new Browser();
    await consent(app, { browser: other, user: "bob", decision: "deny" });
    const crossed = await other.post("/oauth/authorize", {
      ...hiddenFields(consentPage),
      decision: "authorize",
    });
    assert.equal(crossed.status, 403);
  });

  test("the authorization server metadata", async () => {
    const response = await fetch(`${site.origin}/.well-known/oauth-authorization-server`);
    assert.equal(response.status, 200);
    const meta = (await response.json()) as Record<string, unknown>;
    assert.equal(meta.issuer, `${site.origin}/`);
    assert.equal(meta.authorization_endpoint, `${site.origin}/oauth/authorize`);
    assert.equal(meta.token_endpoint, `${site.origin}/oauth/token`);
    assert.equal(meta.revocation_endpoint, `${site.origin}/oauth/revoke`);
    assert.equal(meta.app_registration_endpoint, `${site.origin}/api/v1/apps`);
    assert.deepEqual(meta.response_types_supported, ["code"]);
    assert.deepEqual(meta.grant_types_supported, ["authorization_code", "client_credentials"]);
    assert.deepEqual(meta.code_challenge_methods_supported, ["S256"]);
    assert.ok(
      (meta.token_endpoint_auth_methods_supported as string[]).includes("client_secret_post"),
    );
    for (const s of [
      "read",
      "write",
      "follow",
      "push",
      "read:statuses",
      "write:media",
      "admin:read:accounts",
      "profile",
    ])
      assert.ok((meta.scopes_supported as string[]).includes(s), s);
    assert.equal(response.headers.get("access-control-allow-origin"), "*");
  });

  test("POST /api/v1/apps answers Mastodon's Application, and refuses bad input", async () => {
    const response = await fetch(`${site.origin}/api/v1/apps`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        client_name: "Form App",
        redirect_uris: `${REDIRECT}\ntusky://oauth`,
      }).toString(),
    });
    assert.equal(response.status, 200);
    const app = (await response.json()) as Record<string, unknown>;
    assert.equal(app.name, "Form App");
    assert.deepEqual(app.scopes, ["read"], "read by default");
    assert.deepEqual(app.redirect_uris, [REDIRECT, "tusky://oauth"]);
    assert.equal(app.redirect_uri, `${REDIRECT}\ntusky://oauth`);
    assert.equal(app.website, null);
    assert.equal(typeof app.client_id, "string");
    assert.equal(typeof app.client_secret, "string");
    assert.equal(app.client_secret_expires_at, 0);
    for (const bad of [
      { client_name: "x", redirect_uris: "not a uri" },
      { client_name: "x", redirect_uris: "javascript:alert(1)" },
      { client_name: "x", redirect_uris: REDIRECT, scopes: "read everything" },
      { redirect_uris: REDIRECT },
    ]) {
      const r = await request(site, null, "POST", "/api/v1/apps", bad);
      assert.equal(r.status, 422, `${JSON.stringify(bad)}: ${r.text}`);
    }
  });
});
