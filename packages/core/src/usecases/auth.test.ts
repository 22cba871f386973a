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
import {
  MAX_FAILED_SIGN_INS,
  MAX_FAILED_SIGN_INS_PER_ADDRESS,
  MAX_FAILED_SIGN_INS_PER_USERNAME,
} from "./sign-in.ts";

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

function signIn(username: string, password: string, kind: "session" | "api" = "session", ip = IP) {
  return t.clique.signIn({ username, password, ip, kind });
}

/** How the attempt went: "ok" or the reason. */
function outcome(result: { ok: true } | { ok: false; reason: string }): string {
  return result.ok ? "ok" : result.reason;
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

  it(`refuses an address after ${MAX_FAILED_SIGN_INS} failures for a username, even with the right password, and only that address`, async () => {
    assert.equal(MAX_FAILED_SIGN_INS, 5);
    const attacker = "198.51.100.10";
    const password = world.passwords.dave_moderator;
    for (let i = 0; i < MAX_FAILED_SIGN_INS; i++) {
      // The throttle counts per username, whatever its case.
      const name = i % 2 === 0 ? "dave_moderator" : "DAVE_MODERATOR";
      const result = await signIn(name, `wrong-password-${i}`, "session", attacker);
      assert.equal(outcome(result), "invalid_credentials", `attempt ${i + 1}`);
    }
    const sixth = await signIn("dave_moderator", password, "session", attacker);
    assert.equal(outcome(sixth), "too_many_attempts");
    // Other users are not affected, even from that address.
    assert.equal(
      outcome(await signIn("bob_member", world.passwords.bob_member, "session", attacker)),
      "ok",
    );
    // Nor is the member, from anywhere else.
    assert.equal(
      outcome(await signIn("dave_moderator", password, "session", "198.51.100.11")),
      "ok",
    );
    // Fifteen minutes later the window has passed.
    clock = 15 * 60 * 1000 + 1000;
    try {
      assert.equal(outcome(await signIn("dave_moderator", password, "session", attacker)), "ok");
    } finally {
      clock = 0;
    }
  });

  it(`refuses an address after ${MAX_FAILED_SIGN_INS_PER_ADDRESS} failures over any usernames`, async () => {
    const sprayer = "198.51.100.20";
    for (let i = 0; i < MAX_FAILED_SIGN_INS_PER_ADDRESS; i++) {
      const result = await signIn(`sprayed_${i}`, "wrong-password", "session", sprayer);
      assert.equal(outcome(result), "invalid_credentials", `attempt ${i + 1}`);
    }
    const next = await signIn("bob_member", world.passwords.bob_member, "session", sprayer);
    assert.equal(outcome(next), "too_many_attempts");
    assert.equal(
      outcome(await signIn("bob_member", world.passwords.bob_member, "session", "198.51.100.21")),
      "ok",
    );
  });

  it(`stops guesses spread over many addresses at ${MAX_FAILED_SIGN_INS_PER_USERNAME} for one username`, async () => {
    assert.ok(MAX_FAILED_SIGN_INS_PER_USERNAME >= 10 * MAX_FAILED_SIGN_INS);
    const target = await t.clique.redeemInvite({
      code: world.invite.code,
      username: "spread_target",
      password: "spread-target-password",
    });
    assert.ok(target.ok);
    const addresses = MAX_FAILED_SIGN_INS_PER_USERNAME / MAX_FAILED_SIGN_INS;
    for (let a = 0; a < addresses; a++) {
      const results = [];
      for (let i = 0; i < MAX_FAILED_SIGN_INS; i++)
        results.push(outcome(await signIn("spread_target", "guess", "session", `203.0.113.${a}`)));
      assert.deepEqual(new Set(results), new Set(["invalid_credentials"]), `address ${a}`);
    }
    // A fresh address, even with the right password, waits out the window.
    const fresh = await signIn(
      "spread_target",
      "spread-target-password",
      "session",
      "203.0.113.200",
    );
    assert.equal(outcome(fresh), "too_many_attempts");
    clock = 15 * 60 * 1000 + 1000;
    try {
      const later = await signIn(
        "spread_target",
        "spread-target-password",
        "session",
        "203.0.113.200",
      );
      assert.equal(outcome(later), "ok");
    } finally {
      clock = 0;
    }
  });

  it("deletes failures once they are older than the window", async () => {
    const count = () =>
      t.db
        .selectFrom("login_failures")
        .select((eb) => eb.fn.countAll<string>().as("n"))
        .where("ip", "=", "198.51.100.30")
        .executeTakeFirstOrThrow()
        .then((r) => Number(r.n));
    await signIn("expiring_name", "wrong-password", "session", "198.51.100.30");
    assert.equal(await count(), 1);
    clock = 15 * 60 * 1000 + 1000;
    try {
      // Any later failure sweeps expired rows (a bounded batch at a time).
      for (let i = 0; i < 5; i++)
        await signIn(`sweeper_${i}`, "wrong-password", "session", "198.51.100.31");
      assert.equal(await count(), 0);
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
      Array.from({ length: 20 }, (_, i) =>
        signIn("target_member", `parallel-guess-${i}`, "session", "198.51.100.40"),
      ),
    );
    const checked = results.filter((r) => !r.ok && r.reason === "invalid_credentials").length;
    const throttled = results.filter((r) => !r.ok && r.reason === "too_many_attempts").length;
    assert.equal(checked + throttled, 20);
    assert.ok(checked <= MAX_FAILED_SIGN_INS, `${checked} guesses were checked`);
  });

  it("clears the failures on a successful sign-in", async () => {
    const password = world.passwords.bob_member;
    const at = "198.51.100.50";
    const wrong = () => signIn("bob_member", "wrong-password", "session", at);
    for (let i = 0; i < MAX_FAILED_SIGN_INS - 1; i++) await wrong();
    assert.ok((await signIn("bob_member", password, "session", at)).ok);
    for (let i = 0; i < MAX_FAILED_SIGN_INS - 1; i++) await wrong();
    assert.ok(
      (await signIn("bob_member", password, "session", at)).ok,
      "earlier failures no longer count",
    );
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

  it("the last owner cannot be suspended, so the owner's sessions survive the attempt", async () => {
    const token = await tokenFor("alice_owner");
    const result = await t.clique.setMemberStatus(world.ids.alice_owner, "suspended");
    assert.equal(result.ok ? "ok" : result.reason, "last_owner");
    assert.equal((await t.clique.authenticate(token))?.member.id, world.ids.alice_owner);
  });
});

describe("passwords", () => {
  /** A new member of the fixture world, so that other tests' members keep their passwords. */
  async function newMember(username: string, password: string) {
    const joined = await t.clique.redeemInvite({ code: world.invite.code, username, password });
    assert.ok(joined.ok, joined.ok ? "" : joined.reason);
    return joined.value;
  }

  it("a member changes theirs: the old one stops working, other tokens end, the current one stays", async () => {
    const member = await newMember("changer", "changer-old-password");
    const signInAs = (password: string, ip = "198.51.100.60") =>
      t.clique.signIn({ username: "changer", password, ip, kind: "session" });
    const current = await signInAs("changer-old-password");
    const other = await signInAs("changer-old-password");
    assert.ok(current.ok && other.ok);
    const currentAuth = await t.clique.authenticate(current.value.token);
    assert.ok(currentAuth);

    const changed = await t.clique.changePassword(member, {
      currentPassword: "changer-old-password",
      newPassword: "changer-new-password",
      ip: IP,
      currentTokenId: currentAuth.token.id,
    });
    assert.deepEqual(changed, { ok: true, value: { revoked: 1 } });
    assert.equal((await t.clique.authenticate(current.value.token))?.member.id, member.id);
    assert.equal(await t.clique.authenticate(other.value.token), null);
    assert.equal(outcome(await signInAs("changer-old-password")), "invalid_credentials");
    assert.equal(outcome(await signInAs("changer-new-password")), "ok");
  });

  it("keeps other sessions when asked, and refuses a wrong current password or a weak new one", async () => {
    const member = await newMember("keeper", "keeper-old-password");
    const other = await t.clique.signIn({
      username: "keeper",
      password: "keeper-old-password",
      ip: IP,
      kind: "api",
    });
    assert.ok(other.ok);
    const change = (currentPassword: string, newPassword: string, ip = "198.51.100.70") =>
      t.clique.changePassword(member, {
        currentPassword,
        newPassword,
        ip,
        currentTokenId: null,
        keepOtherSessions: true,
      });
    assert.equal(outcome(await change("keeper-old-password", "short")), "password_too_short");
    assert.equal(
      outcome(await change("not-the-password", "keeper-new-password")),
      "wrong_password",
    );
    assert.deepEqual(await change("keeper-old-password", "keeper-new-password"), {
      ok: true,
      value: { revoked: 0 },
    });
    assert.equal((await t.clique.authenticate(other.value.token))?.member.id, member.id);
    // Wrong current passwords are guesses: throttled like sign-ins.
    for (let i = 0; i < MAX_FAILED_SIGN_INS; i++)
      assert.equal(
        outcome(await change(`guess-${i}-guess`, "keeper-other-password", "198.51.100.71")),
        "wrong_password",
      );
    assert.equal(
      outcome(await change("keeper-new-password", "keeper-other-password", "198.51.100.71")),
      "too_many_attempts",
    );
  });

  it("an operator resets one: every session and token of the member ends", async () => {
    const member = await newMember("forgetful", "forgetful-password");
    const session = await t.clique.signIn({
      username: "forgetful",
      password: "forgetful-password",
      ip: IP,
      kind: "session",
    });
    assert.ok(session.ok);
    const api = await t.clique.issueToken(member, "api", "phone");
    const reset = await t.clique.resetPassword(member.id, "forgetful-new-password");
    assert.ok(reset.ok);
    assert.equal(reset.value.revoked, 2);
    assert.equal(await t.clique.authenticate(session.value.token), null);
    assert.equal(await t.clique.authenticate(api), null);
    const old = await t.clique.signIn({
      username: "forgetful",
      password: "forgetful-password",
      ip: IP,
      kind: "session",
    });
    assert.equal(outcome(old), "invalid_credentials");
    assert.equal(outcome(await t.clique.resetPassword(member.id, "short")), "password_too_short");
    assert.equal(
      outcome(
        await t.clique.resetPassword("00000000-0000-7000-8000-000000000000", "long-enough-pw"),
      ),
      "not_found",
    );
  });
});
