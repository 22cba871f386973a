/**
 * Signing in, throttling, and the lifecycle of sessions and API tokens
 * (`sign-in.ts`, `authenticate.ts`, and the revocation in `set-member-status.ts`).
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
import { MAX_FAILED_SIGN_INS } from "./sign-in.ts";

let t: TestClique;
let world: World;
/** Offset of the Clique's clock from real time, moved by the throttling tests. */
let clock = 0;

before(async () => {
  t = await openTestClique({ now: () => new Date(Date.now() + clock) });
  world = await seedWorld(t.clique, t.db);
});

after(async () => {
  await t?.drop();
  await stopEmbeddedTestServer();
});

const IP = "192.0.2.7";

function signIn(username: string, password: string, kind: "session" | "api" = "session") {
  return t.clique.signIn({ username, password, ip: IP, kind });
}

/** Signs in and returns the token, failing the test otherwise. */
async function tokenFor(name: keyof World["members"], kind: "session" | "api" = "session") {
  const result = await signIn(name, world.passwords[name], kind);
  assert.ok(result.ok, result.ok ? "" : result.reason);
  assert.equal(result.value.member.id, world.ids[name]);
  return result.value.token;
}

describe("signIn", () => {
  it("opens a session with the right password, in any case of the username", async () => {
    const result = await signIn("ALICE_Owner", world.passwords.alice_owner);
    assert.ok(result.ok);
    assert.equal(result.value.member.username, "alice_owner");
    assert.equal(result.value.member.role, "owner");
    assert.ok(result.value.token.length >= 32);
    const auth = await t.clique.authenticate(result.value.token);
    assert.equal(auth?.member.id, world.ids.alice_owner);
    assert.equal(auth?.token.kind, "session");
  });

  it("refuses a wrong password and an unknown user with the same reason", async () => {
    const wrong = await signIn("alice_owner", "not-alice-password");
    const unknown = await signIn("nobody_here", "whatever-password");
    assert.deepEqual(wrong, {
      ok: false,
      reason: "invalid_credentials",
      detail: "Wrong username or password.",
    });
    assert.deepEqual(unknown, wrong);
  });

  it(`refuses the attempt after ${MAX_FAILED_SIGN_INS} failures, even with the right password`, async () => {
    assert.equal(MAX_FAILED_SIGN_INS, 5);
    const password = world.passwords.dave_moderator;
    for (let i = 0; i < MAX_FAILED_SIGN_INS; i++) {
      // The throttle counts per username, whatever its case.
      const name = i % 2 === 0 ? "dave_moderator" : "DAVE_MODERATOR";
      const result = await signIn(name, `wrong-password-${i}`);
      assert.equal(result.ok ? "ok" : result.reason, "invalid_credentials", `attempt ${i + 1}`);
    }
    const sixth = await signIn("dave_moderator", password);
    assert.equal(sixth.ok ? "ok" : sixth.reason, "too_many_attempts");
    // Other users are not affected.
    assert.ok((await signIn("bob_member", world.passwords.bob_member)).ok);
    // Fifteen minutes later the window has passed.
    clock = 15 * 60 * 1000 + 1000;
    try {
      const later = await signIn("dave_moderator", password);
      assert.ok(later.ok, later.ok ? "" : later.reason);
    } finally {
      clock = 0;
    }
  });

  it("checks no more than the allowed guesses when they arrive all at once", async () => {
    const joined = await t.clique.redeemInvite({
      code: world.invite.code,
      username: "target_member",
      password: "target-member-password",
    });
    assert.ok(joined.ok);
    // 20 wrong guesses in parallel: each must count against the others, or a
    // brute force simply runs its guesses concurrently.
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => signIn("target_member", `parallel-guess-${i}`)),
    );
    const checked = results.filter((r) => !r.ok && r.reason === "invalid_credentials").length;
    const throttled = results.filter((r) => !r.ok && r.reason === "too_many_attempts").length;
    assert.equal(checked + throttled, 20);
    assert.ok(checked <= MAX_FAILED_SIGN_INS, `${checked} guesses were checked`);
  });

  it("clears the failures on a successful sign-in", async () => {
    const password = world.passwords.bob_member;
    for (let i = 0; i < MAX_FAILED_SIGN_INS - 1; i++) await signIn("bob_member", "wrong-password");
    assert.ok((await signIn("bob_member", password)).ok);
    for (let i = 0; i < MAX_FAILED_SIGN_INS - 1; i++) await signIn("bob_member", "wrong-password");
    assert.ok((await signIn("bob_member", password)).ok, "earlier failures no longer count");
  });

  it("refuses a removed member, and does not reveal it to a wrong password", async () => {
    const right = await signIn("erin_removed", world.passwords.erin_removed);
    assert.equal(right.ok ? "ok" : right.reason, "account_disabled");
    const wrong = await signIn("erin_removed", "wrong-password");
    assert.equal(wrong.ok ? "ok" : wrong.reason, "invalid_credentials");
  });
});

describe("tokens", () => {
  it("authenticate while live, by kind when asked, and record their use", async () => {
    const session = await tokenFor("alice_owner", "session");
    const api = await tokenFor("alice_owner", "api");
    assert.equal((await t.clique.authenticate(api, "api"))?.token.kind, "api");
    assert.equal(await t.clique.authenticate(session, "api"), null);
    assert.equal(
      (await t.clique.authenticate(session, "session"))?.member.id,
      world.ids.alice_owner,
    );
    const tokens = await t.stores.tokens.listFor(world.ids.alice_owner);
    const used = tokens.filter((x) => x.lastUsedAt !== null).length;
    assert.ok(used >= 2, "authenticating records the use");
  });

  it("refuses unknown, malformed and revoked tokens", async () => {
    assert.equal(await t.clique.authenticate("x".repeat(43)), null);
    assert.equal(await t.clique.authenticate("short"), null);
    assert.equal(await t.clique.authenticate("y".repeat(500)), null);
    const token = await tokenFor("bob_member");
    const other = await tokenFor("bob_member");
    assert.equal(await t.clique.revokeToken(token), true);
    assert.equal(await t.clique.authenticate(token), null);
    assert.equal(await t.clique.revokeToken(token), false, "already revoked");
    // Signing out one session leaves the others.
    assert.equal((await t.clique.authenticate(other))?.member.id, world.ids.bob_member);
  });

  it("are all revoked when the member is suspended, and stay revoked on reinstatement", async () => {
    const bob = world.members.bob_member;
    const session = await tokenFor("bob_member", "session");
    const api = await tokenFor("bob_member", "api");
    const alice = await tokenFor("alice_owner");
    assert.ok((await t.stores.tokens.listFor(bob.id)).length >= 2);

    const suspended = await t.clique.setMemberStatus(bob.id, "suspended");
    assert.ok(suspended.ok);
    assert.equal(suspended.value.status, "suspended");
    assert.equal(await t.clique.authenticate(session), null);
    assert.equal(await t.clique.authenticate(api), null);
    assert.deepEqual(await t.stores.tokens.listFor(bob.id), []);
    const refused = await signIn("bob_member", world.passwords.bob_member);
    assert.equal(refused.ok ? "ok" : refused.reason, "account_disabled");
    // Someone else's session is untouched.
    assert.equal((await t.clique.authenticate(alice))?.member.id, world.ids.alice_owner);

    const reinstated = await t.clique.setMemberStatus(bob.id, "active");
    assert.ok(reinstated.ok);
    assert.equal(await t.clique.authenticate(session), null);
    assert.equal(await t.clique.authenticate(api), null);
    const fresh = await tokenFor("bob_member");
    assert.equal((await t.clique.authenticate(fresh))?.member.status, "active");
  });

  it("of a member suspended behind the use case's back still do not authenticate", async () => {
    const token = await tokenFor("dave_moderator");
    // Revocation missed (a direct status write): authentication checks the status itself.
    await t.stores.members.setStatus(world.ids.dave_moderator, "suspended", new Date());
    try {
      assert.equal(await t.clique.authenticate(token), null);
    } finally {
      await t.stores.members.setStatus(world.ids.dave_moderator, "active", new Date());
    }
    assert.equal((await t.clique.authenticate(token))?.member.id, world.ids.dave_moderator);
  });

  it("the owner cannot be suspended, so the owner's sessions survive the attempt", async () => {
    const token = await tokenFor("alice_owner");
    const result = await t.clique.setMemberStatus(world.ids.alice_owner, "suspended");
    assert.equal(result.ok ? "ok" : result.reason, "owner_protected");
    assert.equal((await t.clique.authenticate(token))?.member.id, world.ids.alice_owner);
  });
});
