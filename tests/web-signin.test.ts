/**
 * Signing in through the web interface in a real browser (Debian's Chromium
 * through playwright-core), against a real Clique process configured with a
 * real OpenID Connect provider on loopback (`oidc-provider`, whose login page
 * is the test's own: an account field and a "Continue" button).
 *
 * - Joining from an invite with the provider's identity, signing out, signing
 *   in with it; a password member linking one in Settings and signing in with it.
 * - A Mastodon app's OAuth sign-in: registered, sent to `/oauth/authorize`,
 *   the member signs in and agrees on the server's pages, the app (a tiny
 *   loopback server) gets the code and exchanges it with PKCE.
 * - The profile editor's "View as…" preview shows the posts, bio and details
 *   that an anonymous visitor and another member really see on the profile.
 *
 * The screens are checked with axe-core and photographed into
 * `tests/artifacts/screenshots`.
 */
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import { stopEmbeddedTestServer } from "@clique/testing";
import type { Browser, BrowserContext, Page } from "playwright-core";
import {
  assertAccessible,
  browserMissing,
  launchBrowser,
  newVisitor,
  photograph,
  WIDTHS,
} from "./support/browser.ts";
import { type IdentityProvider, startIdentityProvider } from "./support/oidc-provider.ts";
import { api, type Cleanup, password, runCleanup, type Site, startSite } from "./support/sites.ts";

const skip = browserMissing();
const LABEL = "websignin";
const SSO = "Example ID";

const cleanup: Cleanup = [];
let idp: IdentityProvider;
let site: Site;
let browser: Browser;

before(async () => {
  if (skip) return;
  idp = await startIdentityProvider({ cleanup, loginPage: true });
  site = await startSite({
    label: LABEL,
    owner: "alice",
    members: ["bob", "carol", "dave"],
    cleanup,
    env: idp.env(SSO),
  });
  idp.attach(site.origin);
  browser = await launchBrowser();
  // Closed before the servers stop (the list runs newest first).
  cleanup.unshift(() => browser.close());
});

after(async () => {
  if (site && / ERR clique/.test(site.server.output())) console.error(site.server.output());
  await runCleanup(cleanup);
  await stopEmbeddedTestServer();
});

/** A fresh browser profile; `bypassCSP` lets axe-core run on the OAuth pages' strict CSP. */
async function visitor(options: { bypassCSP?: boolean } = {}): Promise<BrowserContext> {
  const context = options.bypassCSP
    ? await browser.newContext({ viewport: WIDTHS.desktop, locale: "en-GB", bypassCSP: true })
    : await newVisitor(browser);
  cleanup.unshift(() => context.close());
  return context;
}

async function open(context: BrowserContext, where: string): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${site.origin}${where}`);
  return page;
}

/** Who the page's session is, asked from the page itself (its cookies). */
async function whoAmI(page: Page): Promise<string | number> {
  return page.evaluate(async () => {
    const response = await fetch("/api/v1/accounts/verify_credentials");
    if (!response.ok) return response.status;
    return ((await response.json()) as { username: string }).username;
  });
}

/**
 * After a click that goes to the provider: signs in there as `subject` if it
 * asks (it does not when this browser is still signed in with it), and waits
 * until the Clique has taken the browser to `landing`.
 */
async function throughProvider(page: Page, subject: string, landing: string): Promise<void> {
  const target = `${site.origin}${landing}`;
  const atLogin = page
    .getByRole("button", { name: "Continue" })
    .waitFor()
    .then(() => "login" as const);
  const back = page.waitForURL(target).then(() => "back" as const);
  const first = await Promise.race([atLogin, back]);
  if (first === "login") {
    assert.ok(page.url().startsWith(`${idp.issuer}/interaction/`), page.url());
    await page.getByLabel("Account").fill(subject);
    await page.getByRole("button", { name: "Continue" }).click();
    await back;
  }
  // The race's loser must not fail later as an unhandled rejection.
  atLogin.catch(() => {});
  assert.equal(page.url(), target);
}

/** Whether the page's header says someone is signed in. */
async function signedInHeader(page: Page): Promise<void> {
  await page.locator("header").getByRole("link", { name: "Profile", exact: true }).waitFor();
}

async function signOut(page: Page): Promise<void> {
  await page.goto(`${site.origin}/settings`);
  await page.getByRole("button", { name: "Sign out", exact: true }).click();
  await page.waitForURL(`${site.origin}/`);
  assert.equal(await whoAmI(page), 401);
}

async function signInWithPassword(page: Page, who: string): Promise<void> {
  await page.goto(`${site.origin}/signin`);
  await page.getByLabel("Username", { exact: true }).fill(who);
  await page.getByLabel("Password", { exact: true }).fill(password(who, LABEL));
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await page.waitForURL(`${site.origin}/home`);
}

describe("single sign-on in the browser", { skip: skip ?? false }, () => {
  let olga: Page;

  test("an invitee joins with the provider's identity", async () => {
    const invite = await api(site, "alice", "POST", "/api/v1/clique/invites", { max_uses: 1 });
    const code = invite.code as string;
    olga = await open(await visitor(), `/invite/${code}`);
    await olga.getByRole("link", { name: `Join with ${SSO}` }).click();
    await throughProvider(olga, "olga-at-idp", `/invite/${code}?oidc=1`);
    // No password fields: the identity stands in for one.
    assert.equal(await olga.getByLabel("Password", { exact: true }).count(), 0);
    await olga.getByLabel("Username", { exact: true }).fill("olga");
    await olga.getByLabel("Display name", { exact: true }).fill("Olga Nilsson");
    await olga.getByRole("button", { name: "Join", exact: true }).click();
    await olga.waitForURL(`${site.origin}/home`);
    await signedInHeader(olga);
    assert.equal(await whoAmI(olga), "olga");
  });

  test("she signs out, then signs in with the identity", async () => {
    assert.ok(olga, "she joined");
    await signOut(olga);
    await olga.goto(`${site.origin}/signin`);
    const button = olga.getByRole("link", { name: `Sign in with ${SSO}` });
    await button.waitFor();
    await assertAccessible(olga, "sign-in with single sign-on");
    await photograph(olga, "signin-sso");
    await button.click();
    await throughProvider(olga, "olga-at-idp", "/home");
    await signedInHeader(olga);
    assert.equal(await whoAmI(olga), "olga");
  });

  test("a password member links an identity in Settings, then signs in with it", async () => {
    const context = await visitor();
    const bob = await context.newPage();
    await signInWithPassword(bob, "bob");
    await bob.goto(`${site.origin}/settings#sso`);
    const section = bob.getByRole("region", { name: "Single sign-on" });
    await section.getByText(`No ${SSO} account is linked yet.`).waitFor();
    await assertAccessible(bob, "settings, single sign-on");
    await section.getByRole("link", { name: `Link a ${SSO} account` }).click();
    await throughProvider(bob, "bob-at-idp", "/settings?linked=oidc");
    await section.getByText("Linked. You can now sign in with it too.").waitFor();
    await section.getByText("bob-at-idp@idp.test").waitFor();
    await assertAccessible(bob, "settings, an identity linked");
    await photograph(bob, "settings-sso");

    await signOut(bob);
    // A fresh start at the provider too: the login page is shown again.
    await context.clearCookies({ domain: "127.0.0.1", name: /^_session/ });
    await bob.goto(`${site.origin}/signin`);
    await bob.getByRole("link", { name: `Sign in with ${SSO}` }).click();
    await bob.getByRole("button", { name: "Continue" }).waitFor();
    await throughProvider(bob, "bob-at-idp", "/home");
    await signedInHeader(bob);
    assert.equal(await whoAmI(bob), "bob");
  });
});

describe("a Mastodon app's sign-in through the server's pages", { skip: skip ?? false }, () => {
  test("sign in, authorise, and the app's code becomes a working token (PKCE)", async () => {
    // The app's own address: it only notes where the browser came back to.
    const returns: URL[] = [];
    const appServer = createServer((req, res) => {
      const url = new URL(req.url ?? "/", "http://app.invalid");
      // The browser asks for a favicon too.
      if (url.pathname === "/callback") returns.push(url);
      res.setHeader("content-type", "text/html; charset=utf-8");
      res.end('<!doctype html><html lang="en"><title>Pocket</title><p>Back in Pocket.</p></html>');
    });
    await new Promise<void>((resolve) => appServer.listen(0, "127.0.0.1", resolve));
    cleanup.unshift(() => new Promise((resolve) => appServer.close(resolve)));
    const redirectUri = `http://127.0.0.1:${(appServer.address() as AddressInfo).port}/callback`;

    const registered = await fetch(`${site.origin}/api/v1/apps`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        client_name: "Pocket",
        redirect_uris: redirectUri,
        scopes: "read write",
        website: "https://pocket.example",
      }),
    });
    assert.equal(registered.status, 200);
    const app = (await registered.json()) as { client_id: string; client_secret: string };

    const verifier = randomBytes(32).toString("base64url");
    const challenge = createHash("sha256").update(verifier).digest("base64url");
    const state = randomBytes(8).toString("hex");
    const query = new URLSearchParams({
      client_id: app.client_id,
      response_type: "code",
      redirect_uri: redirectUri,
      scope: "read write",
      state,
      code_challenge: challenge,
      code_challenge_method: "S256",
    });
    const page = await open(await visitor({ bypassCSP: true }), `/oauth/authorize?${query}`);
    await page.getByRole("heading", { name: `Sign in to Site ${LABEL}` }).waitFor();
    assert.match(
      (await page.locator("main").textContent()) ?? "",
      /Pocket wants to use your account/,
    );
    await assertAccessible(page, "oauth sign-in");
    await photograph(page, "oauth-signin");
    await page.getByLabel("Username", { exact: true }).fill("carol");
    await page.getByLabel("Password", { exact: true }).fill(password("carol", LABEL));
    await page.getByRole("button", { name: "Sign in", exact: true }).click();

    await page.getByRole("heading", { name: "Allow Pocket to use your account?" }).waitFor();
    const consent = (await page.locator("main").textContent()) ?? "";
    assert.match(consent, /@carol/);
    assert.match(consent, /pocket\.example/);
    await assertAccessible(page, "oauth consent");
    await photograph(page, "oauth-consent");
    await page.getByRole("button", { name: "Authorise", exact: true }).click();
    await page.waitForURL((url) => url.href.startsWith(redirectUri));
    await page.getByText("Back in Pocket.").waitFor();

    assert.equal(returns.length, 1, "the app was called back once");
    const back = returns[0]!;
    assert.equal(back.pathname, "/callback");
    assert.equal(back.searchParams.get("state"), state);
    const code = back.searchParams.get("code");
    assert.ok(code, `a code in ${back.search}`);

    const exchange = (verifierGiven: string) =>
      fetch(`${site.origin}/oauth/token`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({
          grant_type: "authorization_code",
          code,
          client_id: app.client_id,
          client_secret: app.client_secret,
          redirect_uri: redirectUri,
          code_verifier: verifierGiven,
        }),
      });
    const token = await exchange(verifier);
    const granted = (await token.json()) as { access_token?: string; scope?: string };
    assert.equal(token.status, 200, JSON.stringify(granted));
    assert.equal(granted.scope, "read write");
    const me = await fetch(`${site.origin}/api/v1/accounts/verify_credentials`, {
      headers: { authorization: `Bearer ${granted.access_token}` },
    });
    assert.equal(me.status, 200);
    assert.equal(((await me.json()) as { username: string }).username, "carol");
    // The code works once.
    const replay = await exchange(verifier);
    assert.equal(replay.status, 400, await replay.text());
  });
});

describe("the profile's “View as…” preview", { skip: skip ?? false }, () => {
  /** What a viewer is shown of a profile: post texts (newest first), bio, details, counts. */
  interface Seen {
    posts: string[];
    bio: string;
    fields: string;
    counts: string;
  }

  async function seen(page: Page, scope: string): Promise<Seen> {
    const root = page.locator(scope);
    const text = async (selector: string) =>
      (await root.locator(selector).count()) === 0
        ? ""
        : ((await root.locator(selector).first().textContent()) ?? "").trim();
    return {
      posts: (await root.locator("article .status-content").allTextContents()).map((t) => t.trim()),
      bio: await text(".profile-bio"),
      fields: await text(".profile-fields"),
      counts: await text(".profile-counts"),
    };
  }

  test("shows what an anonymous visitor and another member really see", async () => {
    // dave's circle holds bob; carol is a member outside it who does not follow dave.
    const circle = await api(site, "dave", "POST", "/api/v1/clique/circles", {
      name: "Climbing partners",
      member_ids: [site.ids.bob],
    });
    await api(site, "carol", "POST", `/api/v1/accounts/${site.ids.dave}/unfollow`);
    const posts = {
      public: "Anyone may read this: the crag opens on Saturday",
      followers: "For my followers: new route topo attached",
      clique: "For the Clique: who wants a lift to the crag?",
      circle: "For the climbing partners: rope check on Friday",
    };
    for (const [audience, status] of Object.entries(posts))
      await api(site, "dave", "POST", "/api/v1/statuses", {
        status,
        audience,
        ...(audience === "circle" ? { circle_id: circle.id } : {}),
      });

    // dave writes a bio for the Clique, a public detail and one for followers, in the editor.
    const page = await (await visitor()).newPage();
    await signInWithPassword(page, "dave");
    await page.goto(`${site.origin}/@dave?edit=1`);
    await page.getByLabel("About you").fill("Climber and baker; ask me about sourdough.");
    await page.getByLabel("Who can see your bio").selectOption({ label: "Members of the Clique" });
    await page.getByLabel("Detail 1 name", { exact: true }).fill("Town");
    await page.getByLabel("Detail 1 value", { exact: true }).fill("Uppsala");
    await page.getByLabel("Who can see detail 1", { exact: true }).selectOption("public");
    await page.getByRole("button", { name: "Add a detail" }).click();
    await page.getByLabel("Detail 2 name", { exact: true }).fill("Phone");
    await page.getByLabel("Detail 2 value", { exact: true }).fill("070 555 01 23");
    await page
      .getByLabel("Who can see detail 2", { exact: true })
      .selectOption({ label: "My followers" });
    await page.getByRole("button", { name: "Save profile" }).click();
    await page.getByText("Your profile is saved.").waitFor();
    await page.reload();

    const preview = async (label: string, who: string): Promise<Seen> => {
      await page.getByRole("radio", { name: label }).check();
      await page.getByRole("heading", { name: `This is what ${who} sees` }).waitFor();
      return seen(page, ".profile-preview-frame");
    };
    const real = async (context: BrowserContext): Promise<Seen> => {
      const profile = await open(context, "/@dave");
      const found = await seen(profile, "main");
      await profile.close();
      return found;
    };

    const asAnonymous = await preview("Anyone (not signed in)", "anyone who is not signed in");
    await assertAccessible(page, "profile editor with preview");
    await photograph(page, "profile-edit");
    const anonymous = await real(await visitor());
    assert.deepEqual(asAnonymous, anonymous, "the preview as anyone = what anyone sees");
    assert.deepEqual(anonymous.posts, [posts.public]);
    assert.equal(anonymous.bio, "");
    assert.match(anonymous.fields, /Uppsala/);
    assert.doesNotMatch(anonymous.fields, /070/);

    const asMember = await preview("A Clique member", "a Clique member");
    const carolContext = await visitor();
    await signInWithPassword(await carolContext.newPage(), "carol");
    const member = await real(carolContext);
    assert.deepEqual(asMember, member, "the preview as a member = what carol sees");
    assert.deepEqual(member.posts, [posts.clique, posts.public]);
    assert.match(member.bio, /sourdough/);
    assert.match(member.fields, /Uppsala/);
    assert.doesNotMatch(member.fields, /070/);
  });
});

describe("sessions in Settings", { skip: skip ?? false }, () => {
  test("dave, signed in on two browsers, ends the other one: it is signed out", async () => {
    const laptop = await (await visitor()).newPage();
    const phone = await (await visitor()).newPage();
    await signInWithPassword(laptop, "dave");
    await signInWithPassword(phone, "dave");
    assert.equal(await whoAmI(phone), "dave");

    await laptop.goto(`${site.origin}/settings#sessions`);
    const section = laptop.getByRole("region", { name: "Sessions" });
    await section.getByText("This browser").waitFor();
    // Every other session of dave's goes, the phone's among them.
    const ends = section.getByRole("button", { name: /^End the session on / });
    for (let left = await ends.count(); left > 0; left--) {
      await ends.first().click();
      await section.getByText(/is ended: it is signed out\.$/).waitFor();
      await laptop.waitForFunction(
        (n) =>
          document.querySelectorAll('#sessions button[aria-label^="End the session"]').length === n,
        left - 1,
      );
    }
    await section.getByText("This browser").waitFor();

    await phone.reload();
    assert.equal(await whoAmI(phone), 401, "the phone's session is ended");
    assert.equal(await whoAmI(laptop), "dave", "the laptop stays signed in");
  });
});
