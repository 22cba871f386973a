/**
 * CORS for browser clients: preflights are answered, a page of another origin
 * reads the API with a bearer token (in a real headless Chromium), and the
 * session cookie never authenticates a cross-origin request. Chromium comes
 * from the system (`/usr/bin/chromium`, driven by playwright-core); without
 * it the browser test is skipped, saying so.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, test } from "node:test";
import { stopEmbeddedTestServer } from "@clique/testing";
import { type Cleanup, password, runCleanup, type Site, startSite } from "./support/sites.ts";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

const cleanup: Cleanup = [];
let site: Site;
/** A page of another origin (same host, another port). */
let elsewhere: Server;
let elsewhereOrigin: string;
/** alice's session cookie, as the web interface holds it. */
let session: string;

before(async () => {
  site = await startSite({ label: "cors", owner: "alice", members: [], cleanup });
  elsewhere = createServer((_req, res) => {
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    res.end('<!doctype html><html lang="en"><title>Another app</title><h1>Another app</h1></html>');
  });
  await new Promise<void>((resolve) => elsewhere.listen(0, "127.0.0.1", resolve));
  cleanup.unshift(() => new Promise((resolve) => elsewhere.close(resolve)));
  elsewhereOrigin = `http://127.0.0.1:${(elsewhere.address() as AddressInfo).port}`;
  assert.notEqual(elsewhereOrigin, site.origin);
  const signIn = await fetch(`${site.origin}/api/v1/clique/sessions`, {
    method: "POST",
    headers: { "content-type": "application/json", origin: site.origin },
    body: JSON.stringify({ username: "alice", password: password("alice", "cors") }),
  });
  assert.equal(signIn.status, 200, await signIn.clone().text());
  const cookie = signIn.headers.getSetCookie().find((c) => c.startsWith("clique_session="));
  assert.ok(cookie, "signing in sets the session cookie");
  session = cookie.split(";")[0]!.slice("clique_session=".length);
});

after(async () => {
  await runCleanup(cleanup);
  await stopEmbeddedTestServer();
});

function preflight(path: string, method = "GET", headers = "authorization") {
  return fetch(`${site.origin}${path}`, {
    method: "OPTIONS",
    headers: {
      origin: elsewhereOrigin,
      "access-control-request-method": method,
      "access-control-request-headers": headers,
    },
  });
}

test("preflights on the API and the token endpoint are answered; not on the HTML pages", async () => {
  for (const path of [
    "/api/v1/accounts/verify_credentials",
    "/api/v1/statuses",
    "/oauth/token",
    "/oauth/revoke",
  ]) {
    const response = await preflight(path, "POST", "authorization, content-type, idempotency-key");
    assert.equal(response.status, 204, path);
    assert.equal(response.headers.get("access-control-allow-origin"), "*", path);
    assert.equal(response.headers.get("access-control-allow-credentials"), null, path);
    const methods = response.headers.get("access-control-allow-methods") ?? "";
    for (const m of ["GET", "POST", "PUT", "PATCH", "DELETE"])
      assert.match(methods, new RegExp(m), path);
    const allowed = (response.headers.get("access-control-allow-headers") ?? "").toLowerCase();
    for (const h of ["authorization", "content-type", "idempotency-key"])
      assert.ok(allowed.includes(h), `${path}: ${h}`);
    assert.ok(Number(response.headers.get("access-control-max-age")) > 0, path);
  }
  // The sign-in page is for people, and signing in with a cookie is not for other origins.
  for (const path of ["/oauth/authorize", "/api/v1/clique/sessions"]) {
    const response = await preflight(path, "POST", "content-type");
    assert.equal(response.headers.get("access-control-allow-origin"), null, path);
  }
  // Answers carry the header and expose pagination.
  const instance = await fetch(`${site.origin}/api/v1/instance`, {
    headers: { origin: elsewhereOrigin },
  });
  assert.equal(instance.status, 200);
  assert.equal(instance.headers.get("access-control-allow-origin"), "*");
  assert.match(instance.headers.get("access-control-expose-headers") ?? "", /\bLink\b/);
  // Error answers too, so that a browser client can read why.
  const refused = await fetch(`${site.origin}/api/v1/accounts/verify_credentials`, {
    headers: { origin: elsewhereOrigin, authorization: "Bearer not-a-token-at-all-really" },
  });
  assert.equal(refused.status, 401);
  assert.equal(refused.headers.get("access-control-allow-origin"), "*");
});

test("the session cookie does not authenticate a request from another origin", async () => {
  const asCookie = (origin?: string) =>
    fetch(`${site.origin}/api/v1/accounts/verify_credentials`, {
      headers: { cookie: `clique_session=${session}`, ...(origin ? { origin } : {}) },
    });
  assert.equal(
    (await asCookie()).status,
    200,
    "the web interface's own requests (no Origin on GET)",
  );
  assert.equal((await asCookie(site.origin)).status, 200, "same origin");
  const foreign = await asCookie(elsewhereOrigin);
  assert.equal(foreign.status, 401, "another origin's page: anonymous");
  assert.equal(
    ((await foreign.json()) as { error: string }).error,
    "This method requires an authenticated user",
  );
  // Writes with the cookie from another origin are refused outright.
  const write = await fetch(`${site.origin}/api/v1/statuses`, {
    method: "POST",
    headers: {
      cookie: `clique_session=${session}`,
      origin: elsewhereOrigin,
      "content-type": "application/json",
    },
    body: JSON.stringify({ status: "cross-site" }),
  });
  assert.ok([401, 403].includes(write.status), String(write.status));
});

test("a page of another origin reads the API with a bearer token in headless Chromium", async (t) => {
  if (!existsSync(CHROMIUM)) {
    t.skip(
      `Chromium not found at ${CHROMIUM}: install it (apt-get install chromium) or set CHROMIUM_PATH`,
    );
    return;
  }
  const { chromium } = await import("playwright-core");
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--no-sandbox"],
  });
  try {
    const context = await browser.newContext();
    // The browser also holds alice's session cookie for the Clique, as after using the web interface.
    await context.addCookies([
      { name: "clique_session", value: session, url: site.origin, httpOnly: true, sameSite: "Lax" },
    ]);
    const page = await context.newPage();
    await page.goto(`${elsewhereOrigin}/`);
    assert.equal(await page.title(), "Another app");

    const read = await page.evaluate(
      async ({ api, token }) => {
        const response = await fetch(`${api}/api/v1/accounts/verify_credentials`, {
          headers: { Authorization: `Bearer ${token}` },
        });
        return { status: response.status, body: await response.json() };
      },
      { api: site.origin, token: site.tokens.alice! },
    );
    assert.equal(read.status, 200);
    assert.equal(read.body.username, "alice");
    assert.equal(read.body.id, site.ids.alice);

    // A write with JSON needs a preflight; it passes with the bearer token.
    const posted = await page.evaluate(
      async ({ api, token }) => {
        const response = await fetch(`${api}/api/v1/statuses`, {
          method: "POST",
          headers: {
            Authorization: `Bearer ${token}`,
            "Content-Type": "application/json",
            "Idempotency-Key": "cors-1",
          },
          body: JSON.stringify({ status: "Posted from another origin" }),
        });
        return { status: response.status, body: await response.json() };
      },
      { api: site.origin, token: site.tokens.alice! },
    );
    assert.equal(posted.status, 200, JSON.stringify(posted.body));
    assert.match(posted.body.content, /Posted from another origin/);

    // With only the cookie: a credentialed request is blocked by the browser (no credentials in CORS)...
    const credentialed = await page.evaluate(
      async ({ api }) => {
        try {
          const response = await fetch(`${api}/api/v1/accounts/verify_credentials`, {
            credentials: "include",
          });
          return { read: true, status: response.status, body: await response.text() };
        } catch (error) {
          return { read: false, error: String(error) };
        }
      },
      { api: site.origin },
    );
    assert.equal(
      credentialed.read,
      false,
      `the page must not read a cookie-authenticated answer: ${JSON.stringify(credentialed)}`,
    );
    // ...and an uncredentialed one is anonymous.
    const plain = await page.evaluate(
      async ({ api }) => {
        const response = await fetch(`${api}/api/v1/accounts/verify_credentials`);
        return { status: response.status, body: await response.json() };
      },
      { api: site.origin },
    );
    assert.equal(plain.status, 401);
    assert.equal(plain.body.username, undefined);
  } finally {
    await browser.close();
  }
});
