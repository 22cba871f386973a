/**
 * OAuth apps in core: registration, codes that work once and expire, tokens
 * with scopes, app tokens, revocation by the app and by the member
 * (`register-app.ts`, `authorize-app.ts`, `manage-apps.ts`).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  openTestClique,
  seedWorld,
  stopEmbeddedTestServer,
  type TestClique,
  type World,
} from "@clique/testing";
import { type OAuthApp, OOB_REDIRECT_URI } from "../domain/oauth.ts";

let t: TestClique;
let world: World;
let clock = 0;

before(async () => {
  t = await openTestClique({ now: () => new Date(Date.now() + clock) });
  world = await seedWorld(t.clique, t.db);
});

after(async () => {
  await t?.drop();
  await stopEmbeddedTestServer();
});

async function register(scopes = "read write"): Promise<{ app: OAuthApp; secret: string }> {
  const result = await t.clique.registerApp({
    name: "App",
    redirectUris: `https://app.example/cb\n${OOB_REDIRECT_URI}`,
    scopes,
  });
  assert.ok(result.ok);
  return { app: result.value.app, secret: result.value.clientSecret };
}

describe("registerApp", () => {
  it("keeps the secret hashed and finds the app by id and secret", async () => {
    const { app, secret } = await register();
    assert.deepEqual(app.redirectUris, ["https://app.example/cb", OOB_REDIRECT_URI]);
    assert.deepEqual(app.scopes, ["read", "write"]);
    assert.equal((await t.clique.findClientApp(app.clientId, secret))?.id, app.id);
    assert.equal((await t.clique.findClientApp(app.clientId, null))?.id, app.id);
    assert.equal(await t.clique.findClientApp(app.clientId, `${secret}x`), null);
    assert.equal(await t.clique.findClientApp("a\u0000b", null), null);
    const row = await t.db
      .selectFrom("oauth_apps")
      .selectAll()
      .where("id", "=", app.id)
      .executeTakeFirstOrThrow();
    assert.notEqual(row.client_secret_hash, secret);
  });

  it("refuses unknown scopes and unusable redirect URIs", async () => {
    const bad = [
      { name: "x", redirectUris: "https://a.example/cb", scopes: "read everything" },
      { name: "x", redirectUris: "javascript:alert(1)" },
      { name: "x", redirectUris: "https://a.example/cb#frag" },
      { name: "x", redirectUris: [] },
      { name: "x", redirectUris: "https://a.example/cb", website: "ftp://a.example" },
    ];
    for (const input of bad)
      assert.equal((await t.clique.registerApp(input)).ok, false, JSON.stringify(input));
  });
});

describe("authorization codes", () => {
  it("work once, even when two redemptions race", async () => {
    const { app } = await register();
    const member = world.members.bob_member;
    const { code } = await t.clique.grantAuthorizationCode(member, {
      app,
      redirectUri: "https://app.example/cb",
      scopes: ["read"],
      codeChallenge: null,
      codeChallengeMethod: null,
    });
    const found = await t.clique.findAuthorizationCode(code);
    assert.ok(found);
    assert.equal(found.member.id, member.id);
    assert.equal(found.app.id, app.id);
    const wins = await Promise.all([
      t.clique.useAuthorizationCode(found.code.id),
      t.clique.useAuthorizationCode(found.code.id),
      t.clique.useAuthorizationCode(found.code.id),
    ]);
    assert.deepEqual(wins.filter(Boolean).length, 1);
    assert.equal(await t.clique.findAuthorizationCode(code), null, "a used code is gone");
  });

  it("expire after ten minutes", async () => {
    const { app } = await register();
    const { code } = await t.clique.grantAuthorizationCode(world.members.bob_member, {
      app,
      redirectUri: OOB_REDIRECT_URI,
      scopes: ["read"],
      codeChallenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
      codeChallengeMethod: "S256",
    });
    assert.equal((await t.clique.findAuthorizationCode(code))?.code.codeChallengeMethod, "S256");
    clock += 11 * 60_000;
    try {
      assert.equal(await t.clique.findAuthorizationCode(code), null);
    } finally {
      clock -= 11 * 60_000;
    }
  });
});

describe("tokens of apps", () => {
  it("carry their scopes and app; the member lists and revokes the app", async () => {
    const { app } = await register();
    const member = world.members.alice_owner;
    const issued = await t.clique.issueAppToken({ app, member, scopes: ["read"] });
    const who = await t.clique.authenticateBearer(issued.token);
    assert.equal(who?.kind, "member");
    assert.deepEqual(who?.token.scopes, ["read"]);
    assert.equal(who?.app?.id, app.id);
    const listed = await t.clique.listAuthorizedApps(member);
    assert.deepEqual(
      listed.filter((a) => a.app.id === app.id).map((a) => a.scopes),
      [["read"]],
    );
    const revoked = await t.clique.revokeAuthorizedApp(member, app.id);
    assert.ok(revoked.ok && revoked.value.revoked === 1);
    assert.equal(await t.clique.authenticateBearer(issued.token), null);
    assert.equal((await t.clique.revokeAuthorizedApp(member, app.id)).ok, false);
  });

  it("an app's own token speaks for no member, and only its app revokes it", async () => {
    const { app } = await register();
    const other = await register();
    const issued = await t.clique.issueAppToken({ app, member: null, scopes: ["read"] });
    const who = await t.clique.authenticateBearer(issued.token);
    assert.equal(who?.kind, "app");
    assert.equal(who?.app.id, app.id);
    assert.equal(await t.clique.revokeAppToken(other.app, issued.token), "not_owner");
    assert.ok(await t.clique.authenticateBearer(issued.token));
    assert.equal(await t.clique.revokeAppToken(app, issued.token), "revoked");
    assert.equal(await t.clique.authenticateBearer(issued.token), null);
  });

  it("personal tokens may do what a session may, unless made with fewer scopes", async () => {
    const member = world.members.bob_member;
    const full = await t.clique.issueToken(member, "api", "full");
    assert.deepEqual((await t.clique.authenticateBearer(full))?.token.scopes, [
      "read",
      "write",
      "follow",
      "push",
      "admin:read",
      "admin:write",
      "clique:chats",
    ]);
    const narrow = await t.clique.issueToken(member, "api", "narrow", ["read:statuses"]);
    assert.deepEqual((await t.clique.authenticateBearer(narrow))?.token.scopes, ["read:statuses"]);
  });
});
