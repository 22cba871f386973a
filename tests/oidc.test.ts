/**
 * Single sign-on against a real OpenID Connect provider: `oidc-provider` on
 * loopback (plain http, which the server accepts only because
 * CLIQUE_ALLOW_PRIVATE_ADDRESS is on), a real Clique process configured with
 * it, and a browser played by plain HTTP with a cookie jar and redirects
 * followed by hand. The provider's login and consent are finished by the
 * test's own interaction handler, as whichever subject the scenario names.
 *
 * Joining from an invite with an identity, signing in with it, linking one
 * to a password member and signing in with that, an unknown identity, an
 * identity another member holds, a suspended member, unlinking, and forged
 * or stale state.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { stopEmbeddedTestServer } from "@clique/testing";
import { type IdentityProvider, startIdentityProvider } from "./support/oidc-provider.ts";
import {
  api,
  type Cleanup,
  password,
  request,
  runCleanup,
  type Site,
  startSite,
} from "./support/sites.ts";

const cleanup: Cleanup = [];
let site: Site;
let idp: IdentityProvider;
let issuer: string;

before(async () => {
  idp = await startIdentityProvider({ cleanup });
  issuer = idp.issuer;
  site = await startSite({
    label: "oidc",
    owner: "alice",
    members: ["bob"],
    cleanup,
    env: idp.env("Test IdP"),
  });
  idp.attach(site.origin);
});

after(async () => {
  if (site && / ERR clique/.test(site.server.output())) console.error(site.server.output());
  await runCleanup(cleanup);
  await stopEmbeddedTestServer();
});

// ------------------------------------------------------------------ a browser

/** A browser: cookies per origin (paths ignored), redirects followed by the test. */
class Browser {
  readonly jars = new Map<string, Map<string, string>>();
  readonly setCookies: string[] = [];

  jar(origin: string): Map<string, string> {
    const jar = this.jars.get(origin) ?? new Map<string, string>();
    this.jars.set(origin, jar);
    return jar;
  }

  async fetch(url: string | URL, init: RequestInit = {}): Promise<Response> {
    const target = new URL(url, site.origin);
    const jar = this.jar(target.origin);
    const headers = new Headers(init.headers);
    if (jar.size > 0) headers.set("cookie", [...jar].map(([k, v]) => `${k}=${v}`).join("; "));
    const response = await fetch(target, { ...init, headers, redirect: "manual" });
    for (const line of response.headers.getSetCookie()) {
      this.setCookies.push(line);
      const [pair, ...attributes] = line.split(";");
      const eq = pair!.indexOf("=");
      const name = pair!.slice(0, eq).trim();
      const gone = attributes.some((a) => /^\s*max-age=0\s*$/i.test(a)) || pair!.endsWith("=");
      if (gone) jar.delete(name);
      else jar.set(name, pair!.slice(eq + 1).trim());
    }
    return response;
  }

  /**
   * Opens `path` and follows redirects through the provider and the Clique's
   * callback; returns where the Clique finally sends the browser (or the
   * answer, if it is not a redirect).
   */
  async journey(path: string): Promise<{ location: string | null; response: Response }> {
    let url = new URL(path, site.origin);
    for (let hops = 0; hops < 20; hops++) {
      const response = await this.fetch(url);
      const location = response.headers.get("location");
      if (response.status < 300 || response.status >= 400 || location === null)
        return { location: null, response };
      await response.body?.cancel();
      const next = new URL(location, url);
      const ours = next.origin === site.origin;
      if (ours && !next.pathname.startsWith("/auth/oidc/")) return { location, response };
      url = next;
    }
    assert.fail(`too many redirects from ${path}`);
  }

  /** Where the provider sends the browser back with a code, without following it to the Clique. */
  async codeFor(path: string): Promise<URL> {
    let url = new URL(path, site.origin);
    for (let hops = 0; hops < 20; hops++) {
      const response = await this.fetch(url);
      await response.body?.cancel();
      const location = response.headers.get("location");
      assert.ok(location, `a redirect from ${url} (${response.status})`);
      const next = new URL(location, url);
      if (next.origin === site.origin && next.pathname === "/auth/oidc/callback") return next;
      url = next;
    }
    assert.fail(`too many redirects from ${path}`);
  }

  /** A JSON request to the Clique as this browser (its Origin, its cookies). */
  async api(method: string, path: string, body?: unknown) {
    const response = await this.fetch(path, {
      method,
      headers: {
        accept: "application/json",
        origin: site.origin,
        ...(body !== undefined ? { "content-type": "application/json" } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await response.text();
    return { status: response.status, text, json: JSON.parse(text) as Record<string, unknown> };
  }
}

async function whoAmI(browser: Browser): Promise<string> {
  const me = await browser.api("GET", "/api/v1/accounts/verify_credentials");
  assert.equal(me.status, 200, me.text);
  return me.json.username as string;
}

// ------------------------------------------------------------------ the tests

test("the Clique says single sign-on is offered, and under which name", async () => {
  const answer = await request(site, null, "GET", "/api/v1/clique/oidc");
  assert.equal(answer.status, 200, answer.text);
  assert.deepEqual(answer.body, { enabled: true, name: "Test IdP" });
});

test("the start sends the browser to the provider with PKCE (S256), state and nonce", async () => {
  const browser = new Browser();
  const response = await browser.fetch("/auth/oidc/start?intent=signin&return_to=/notifications");
  assert.equal(response.status, 302);
  const to = new URL(response.headers.get("location")!);
  assert.equal(to.origin, issuer);
  assert.equal(to.searchParams.get("client_id"), idp.clientId);
  assert.equal(to.searchParams.get("redirect_uri"), `${site.origin}/auth/oidc/callback`);
  assert.equal(to.searchParams.get("code_challenge_method"), "S256");
  assert.match(to.searchParams.get("code_challenge") ?? "", /^[A-Za-z0-9_-]{43}$/);
  assert.ok(to.searchParams.get("state"), "a state");
  assert.ok(to.searchParams.get("nonce"), "a nonce");
  assert.match(to.searchParams.get("scope") ?? "", /\bopenid\b/);
  const flow = browser.setCookies.find((c) => c.startsWith("clique_oidc="));
  assert.ok(flow, "the flow's cookie");
  assert.match(flow, /HttpOnly/i);
  assert.match(flow, /SameSite=Lax/i);
  assert.match(flow, /Path=\/auth\/oidc/i);
  // Another site's address, or a protocol-relative one, is not a place to return to.
  for (const bad of ["https://evil.example/", "//evil.example/x", "/\\evil.example"]) {
    const refused = await browser.fetch(
      `/auth/oidc/start?intent=signin&return_to=${encodeURIComponent(bad)}`,
    );
    assert.equal(refused.status, 422, `return_to=${bad}`);
  }
  // Linking needs someone signed in.
  const anonymous = await new Browser().fetch("/auth/oidc/start?intent=link");
  assert.equal(anonymous.status, 401);
});

test("an invitee joins with an identity, then signs in with it", async () => {
  const invite = await api(site, "alice", "POST", "/api/v1/clique/invites", { max_uses: 1 });
  const code = invite.code as string;
  idp.subject = "olga-at-idp";

  const joining = new Browser();
  const back = await joining.journey(`/auth/oidc/start?intent=signup&invite=${code}`);
  assert.equal(back.location, `/invite/${code}?oidc=1`);
  // No password: the proven identity stands for it.
  const joined = await joining.api("POST", "/api/v1/clique/invites/redeem", {
    code,
    username: "olga",
    display_name: "Olga",
    oidc: true,
  });
  assert.equal(joined.status, 201, joined.text);
  assert.equal((joined.json.account as { username: string }).username, "olga");
  assert.equal(await whoAmI(joining), "olga");
  const identities = await joining.api("GET", "/api/v1/clique/oidc/identities");
  assert.equal(identities.status, 200, identities.text);
  const list = identities.json as unknown as { issuer: string; email: string }[];
  assert.deepEqual(
    list.map((i) => [i.issuer, i.email]),
    [[issuer, "olga-at-idp@idp.test"]],
  );
  // Her identity is her only way in (she has no password she knows): it stays linked.
  const own = (identities.json as unknown as { id: string }[])[0]!.id;
  const unlinking = await joining.api("DELETE", `/api/v1/clique/oidc/identities/${own}`);
  assert.equal(unlinking.status, 403, unlinking.text);
  assert.equal(unlinking.json.code, "last_identity");
  assert.equal(
    ((await joining.api("GET", "/api/v1/clique/oidc/identities")).json as unknown as unknown[])
      .length,
    1,
  );

  // The held identity was used up: joining again with it is refused.
  const again = await joining.api("POST", "/api/v1/clique/invites/redeem", {
    code,
    username: "olga2",
    oidc: true,
  });
  assert.equal(again.status, 422, again.text);

  // A fresh browser signs in through the provider and lands where it asked.
  const signing = new Browser();
  const landed = await signing.journey("/auth/oidc/start?intent=signin&return_to=/notifications");
  assert.equal(landed.location, "/notifications");
  assert.equal(await whoAmI(signing), "olga");
  // Without return_to: home.
  const home = await new Browser().journey("/auth/oidc/start?intent=signin");
  assert.equal(home.location, "/home");
});

test("joining with oidc: true but no identity proven is refused", async () => {
  const invite = await api(site, "alice", "POST", "/api/v1/clique/invites", { max_uses: 1 });
  const refused = await new Browser().api("POST", "/api/v1/clique/invites/redeem", {
    code: invite.code,
    username: "mallory",
    oidc: true,
  });
  assert.equal(refused.status, 422, refused.text);
  assert.equal(refused.json.code, "oidc_required");
  const noPassword = await new Browser().api("POST", "/api/v1/clique/invites/redeem", {
    code: invite.code,
    username: "mallory",
  });
  assert.equal(noPassword.status, 422, noPassword.text);
});

test("a password member links an identity, then signs in with it", async () => {
  const browser = new Browser();
  const signedIn = await browser.api("POST", "/api/v1/clique/sessions", {
    username: "bob",
    password: password("bob", "oidc"),
  });
  assert.equal(signedIn.status, 200, signedIn.text);
  idp.subject = "bob-at-idp";
  const linked = await browser.journey("/auth/oidc/start?intent=link");
  assert.equal(linked.location, "/settings?linked=oidc");
  const identities = await browser.api("GET", "/api/v1/clique/oidc/identities");
  const list = identities.json as unknown as { id: string; issuer: string }[];
  assert.equal(list.length, 1, identities.text);
  assert.equal(list[0]!.issuer, issuer);

  const signing = new Browser();
  assert.equal((await signing.journey("/auth/oidc/start?intent=signin")).location, "/home");
  assert.equal(await whoAmI(signing), "bob");

  // Olga's identity is hers: Bob cannot link it (signed out at the provider, then in as Olga).
  browser.jars.delete(issuer);
  idp.subject = "olga-at-idp";
  const taken = await browser.journey("/auth/oidc/start?intent=link");
  assert.equal(taken.location, "/settings?error=oidc_taken");

  // His last identity goes only with his password: nobody unlinks their way out of their account.
  const path = `/api/v1/clique/oidc/identities/${list[0]!.id}`;
  const bare = await browser.api("DELETE", path);
  assert.equal(bare.status, 403, bare.text);
  assert.equal(bare.json.code, "last_identity");
  const wrong = await browser.api("DELETE", path, { password: "not-bobs-password" });
  assert.equal(wrong.status, 403, wrong.text);
  assert.equal(wrong.json.code, "last_identity");
  // Unlinked, the identity signs nobody in.
  const gone = await browser.api("DELETE", path, { password: password("bob", "oidc") });
  assert.equal(gone.status, 200, gone.text);
  const twice = await browser.api("DELETE", `/api/v1/clique/oidc/identities/${list[0]!.id}`);
  assert.equal(twice.status, 404, twice.text);
  idp.subject = "bob-at-idp";
  const unknown = await new Browser().journey("/auth/oidc/start?intent=signin");
  assert.equal(unknown.location, "/signin?error=oidc_unknown");
});

test("an identity nobody linked signs nobody in", async () => {
  idp.subject = "a-stranger";
  const browser = new Browser();
  const back = await browser.journey("/auth/oidc/start?intent=signin");
  assert.equal(back.location, "/signin?error=oidc_unknown");
  assert.equal(browser.jar(site.origin).has("clique_session"), false);
});

test("a suspended member cannot sign in through the provider", async () => {
  const olga = await api(site, "alice", "GET", "/api/v1/accounts/lookup?acct=olga");
  await api(site, "alice", "PATCH", `/api/v1/clique/members/${olga.id}`, { status: "suspended" });
  idp.subject = "olga-at-idp";
  const browser = new Browser();
  const back = await browser.journey("/auth/oidc/start?intent=signin");
  assert.equal(back.location, "/signin?error=account_disabled");
  assert.equal(browser.jar(site.origin).has("clique_session"), false);
  await api(site, "alice", "PATCH", `/api/v1/clique/members/${olga.id}`, { status: "active" });
});

test("a forged or stale state is refused with a clear error, not a 500", async () => {
  idp.subject = "olga-at-idp";
  const browser = new Browser();
  const callback = await browser.codeFor("/auth/oidc/start?intent=signin");
  const forged = new URL(callback);
  forged.searchParams.set("state", "not-the-state");
  const refused = await browser.api("GET", forged.pathname + forged.search);
  assert.equal(refused.status, 422, refused.text);
  assert.match(String(refused.json.error), /start again/);
  assert.equal(browser.jar(site.origin).has("clique_session"), false);

  // The flow is single-use: the real callback after the refusal is refused too.
  const stale = await browser.api("GET", callback.pathname + callback.search);
  assert.equal(stale.status, 422, stale.text);

  // A callback no browser started here (no flow cookie at all).
  const stranger = await new Browser().api("GET", callback.pathname + callback.search);
  assert.equal(stranger.status, 422, stranger.text);
  assert.doesNotMatch(site.server.output(), / ERR clique/);
});
