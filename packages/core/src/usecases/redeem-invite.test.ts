/**
 * Joining with an invite: the member cap under real concurrency (parallel
 * transactions on separate pooled connections), every way an invite can be
 * refused, and that a refused redemption writes nothing.
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
import { createClique } from "../clique.ts";
import type { Stores } from "../stores/stores.ts";

let t: TestClique;
let world: World;
/** The Clique's clock: real time unless a test moves it. */
let clock = 0;

before(async () => {
  t = await openTestClique({ now: () => new Date(Date.now() + clock) });
  world = await seedWorld(t.clique, t.db);
});

after(async () => {
  await t?.drop();
  await stopEmbeddedTestServer();
});

const PASSWORD = "a-good-long-password";

async function newInvite(input: { maxUses?: number | null; expiresInSeconds?: number | null }) {
  const created = await t.clique.createInvite(world.members.alice_owner, {
    maxUses: input.maxUses ?? null,
    expiresInSeconds: input.expiresInSeconds ?? null,
  });
  assert.ok(created.ok);
  return created.value;
}

/** Everything a redemption writes, to check that a refused one wrote nothing. */
async function snapshot() {
  const count = async (table: "actors" | "members" | "actor_keys") =>
    Number(
      (
        await t.db
          .selectFrom(table)
          .select((eb) => eb.fn.countAll<string>().as("n"))
          .executeTakeFirstOrThrow()
      ).n,
    );
  const invites = await t.db.selectFrom("invites").select(["id", "uses"]).orderBy("id").execute();
  return {
    actors: await count("actors"),
    members: await count("members"),
    keys: await count("actor_keys"),
    seated: await t.clique.countSeated(),
    invites,
  };
}

/** Runs `redeem`, expects it refused for `reason`, and checks that nothing was written. */
async function assertRefused(
  reason: string,
  redeem: () => Promise<{ ok: boolean; reason?: string }>,
  username?: string,
) {
  const before = await snapshot();
  const result = await redeem();
  assert.deepEqual({ ok: result.ok, reason: result.reason }, { ok: false, reason });
  assert.deepEqual(await snapshot(), before, `${reason} left writes behind`);
  if (username) {
    const actors = await t.db
      .selectFrom("actors")
      .select("id")
      .where("username", "=", username)
      .execute();
    assert.deepEqual(actors, [], `${reason} left an actor named ${username}`);
  }
}

describe("redeemInvite", () => {
  it("joins with a valid invite: a member with keys, the invite's use counted", async () => {
    const { invite, code } = await newInvite({ maxUses: 3 });
    const result = await t.clique.redeemInvite({
      code: `  ${code} `,
      username: "Newcomer",
      password: PASSWORD,
      displayName: "  New Comer ",
    });
    assert.ok(result.ok, result.ok ? "" : result.reason);
    assert.equal(result.value.username, "Newcomer");
    assert.equal(result.value.displayName, "New Comer");
    assert.equal(result.value.role, "member");
    assert.equal(result.value.status, "active");
    assert.equal((await t.stores.invites.getById(invite.id))?.uses, 1);
    assert.ok((await t.stores.keys.get(result.value.id)).length > 0, "actor keys saved");
    const signIn = await t.clique.signIn({
      username: "newcomer",
      password: PASSWORD,
      ip: "192.0.2.1",
      kind: "session",
    });
    assert.ok(signIn.ok);
    assert.equal(signIn.value.member.id, result.value.id);
  });

  it("joins with a proven identity instead of a password; the identity joins once", async () => {
    const { code } = await newInvite({ maxUses: null });
    const identity = { issuer: "https://idp.example", subject: "sub-1", email: "x@idp.example" };
    const result = await t.clique.redeemInvite({ code, username: "sso_joiner", identity });
    assert.ok(result.ok, result.ok ? "" : result.reason);
    const linked = await t.clique.listIdentities(result.value);
    assert.deepEqual(
      linked.map((i) => [i.issuer, i.subject, i.email]),
      [["https://idp.example", "sub-1", "x@idp.example"]],
    );
    const viaIdentity = await t.clique.signInWithIdentity(identity);
    assert.ok(viaIdentity.ok);
    assert.equal(viaIdentity.value.member.id, result.value.id);
    // No password opens the account: not the empty one, not a guess.
    for (const password of ["", PASSWORD]) {
      const refused = await t.clique.signIn({
        username: "sso_joiner",
        password,
        ip: "192.0.2.9",
        kind: "session",
      });
      assert.equal(refused.ok, false);
    }
    await assertRefused(
      "identity_taken",
      () => t.clique.redeemInvite({ code, username: "sso_again", identity }),
      "sso_again",
    );
    await assertRefused(
      "invalid_input",
      () => t.clique.redeemInvite({ code, username: "sso_both", identity, password: PASSWORD }),
      "sso_both",
    );
    await assertRefused(
      "password_too_short",
      () => t.clique.redeemInvite({ code, username: "sso_neither" }),
      "sso_neither",
    );
  });

  it("refuses an unknown code", async () => {
    await assertRefused(
      "invalid_invite",
      () =>
        t.clique.redeemInvite({ code: "no-such-code", username: "ghost_one", password: PASSWORD }),
      "ghost_one",
    );
  });

  it("refuses a bad code or a taken username before the slow part (it opens no transaction)", async () => {
    // Anyone may call this: hashing a password and making a key pair for every made-up
    // code would let anyone keep the server's CPU busy.
    const { code } = await newInvite({ maxUses: null });
    let transactions = 0;
    const counting: Stores = {
      ...t.stores,
      transaction: (fn) => {
        transactions++;
        return t.stores.transaction(fn);
      },
    };
    const clique = createClique({ stores: counting, config: t.clique.config });
    const started = Date.now();
    for (let i = 0; i < 10; i++) {
      const bad = await clique.redeemInvite({
        code: `made-up-${i}`,
        username: `nobody_${i}`,
        password: PASSWORD,
      });
      assert.deepEqual(bad, {
        ok: false,
        reason: "invalid_invite",
        detail: "This invite code is not valid.",
      });
    }
    const taken = await clique.redeemInvite({ code, username: "BOB_MEMBER", password: PASSWORD });
    assert.equal(taken.ok ? "joined" : taken.reason, "username_taken");
    assert.equal(transactions, 0, "no redemption got as far as its transaction");
    assert.ok(Date.now() - started < 2_000, `${Date.now() - started} ms for 11 refusals`);
  });

  it("refuses an expired invite", async () => {
    const { code } = await newInvite({ expiresInSeconds: 60 });
    clock = 61_000;
    try {
      await assertRefused(
        "invite_expired",
        () => t.clique.redeemInvite({ code, username: "too_late", password: PASSWORD }),
        "too_late",
      );
    } finally {
      clock = 0;
    }
  });

  it("refuses a revoked invite", async () => {
    const { invite, code } = await newInvite({});
    const revoked = await t.clique.revokeInvite(world.members.alice_owner, invite.id);
    assert.ok(revoked.ok);
    await assertRefused(
      "invite_revoked",
      () => t.clique.redeemInvite({ code, username: "revoked_guest", password: PASSWORD }),
      "revoked_guest",
    );
  });

  it("refuses an invite whose uses are exhausted", async () => {
    const { invite, code } = await newInvite({ maxUses: 1 });
    const first = await t.clique.redeemInvite({ code, username: "first_in", password: PASSWORD });
    assert.ok(first.ok);
    await assertRefused(
      "invite_exhausted",
      () => t.clique.redeemInvite({ code, username: "second_in", password: PASSWORD }),
      "second_in",
    );
    assert.equal((await t.stores.invites.getById(invite.id))?.uses, 1);
  });

  it("refuses invalid and reserved usernames", async () => {
    const cases: [string, string][] = [
      ["", "invalid_username"],
      ["has space", "invalid_username"],
      ["dash-ed", "invalid_username"],
      ["émile", "invalid_username"],
      ["a".repeat(31), "invalid_username"],
      ["admin", "reserved_username"],
      ["Admin", "reserved_username"],
      ["WELL_KNOWN", "reserved_username"],
    ];
    for (const [username, reason] of cases) {
      await assertRefused(reason, () =>
        t.clique.redeemInvite({ code: world.invite.code, username, password: PASSWORD }),
      );
    }
    await assertRefused("password_too_short", () =>
      t.clique.redeemInvite({ code: world.invite.code, username: "shortpw", password: "short" }),
    );
  });

  it("refuses a taken username in any case, removed members' names included", async () => {
    for (const username of ["BOB_MEMBER", "Bob_Member", "erin_REMOVED"]) {
      await assertRefused("username_taken", () =>
        t.clique.redeemInvite({ code: world.invite.code, username, password: PASSWORD }),
      );
    }
  });

  it("rolls back the member when a later write of the redemption fails", async () => {
    // The last write (counting the invite's use) fails: the member and actor
    // written before it in the same transaction must not survive.
    const failing: Stores = {
      ...t.stores,
      transaction: (fn) =>
        t.stores.transaction((tx) =>
          fn({
            ...tx,
            invites: Object.assign(Object.create(tx.invites), {
              incrementUses: async () => {
                throw new Error("injected failure");
              },
            }),
          }),
        ),
    };
    const clique = createClique({ stores: failing, config: t.clique.config });
    const before = await snapshot();
    await assert.rejects(
      clique.redeemInvite({
        code: world.invite.code,
        username: "half_written",
        password: PASSWORD,
      }),
      /injected failure/,
    );
    assert.deepEqual(await snapshot(), before);
    assert.equal(await t.stores.members.getByUsername("half_written"), null);
  });

  /**
   * Fires `runs` redemptions at once for `free` free seats. Every transaction is held
   * until all have been asked for, so they really run together: 10 on the pool's
   * connections, the rest queued behind them.
   */
  async function rush(prefix: string, codes: (i: number) => string, runs = 20, free = 5) {
    const cap = (await t.clique.countSeated()) + free;
    await t.clique.updateSettings({ memberCap: cap });
    let arrived = 0;
    let inFlight = 0;
    let maxInFlight = 0;
    let release!: () => void;
    const allArrived = new Promise<void>((resolve) => {
      release = resolve;
    });
    // Only a safety net: every redemption here is valid and reaches its transaction.
    const timeout = setTimeout(() => release(), 120_000);
    const concurrent: Stores = {
      ...t.stores,
      transaction: async (fn) => {
        if (++arrived === runs) release();
        await allArrived;
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        try {
          return await t.stores.transaction(fn);
        } finally {
          inFlight--;
        }
      },
    };
    const clique = createClique({ stores: concurrent, config: t.clique.config });
    try {
      const results = await Promise.all(
        Array.from({ length: runs }, (_, i) =>
          clique.redeemInvite({ code: codes(i), username: `${prefix}_${i}`, password: PASSWORD }),
        ),
      );
      assert.equal(arrived, runs);
      assert.equal(maxInFlight, runs, "all redemptions were in flight together");

      const joined = results.flatMap((r) => (r.ok ? [r.value.username] : []));
      const refused = results.flatMap((r) => (r.ok ? [] : [r.reason]));
      assert.equal(joined.length, free);
      assert.deepEqual(refused, Array(runs - free).fill("clique_full"));
      assert.deepEqual(
        results.find((r) => !r.ok),
        { ok: false, reason: "clique_full", detail: `This Clique is full (${cap} members).` },
      );
      assert.equal(await t.clique.countSeated(), cap);
      // Only the winners left rows behind.
      const rows = await t.db
        .selectFrom("actors")
        .select("username")
        .where("username", "like", `${prefix}\\_%`)
        .execute();
      assert.deepEqual(rows.map((r) => r.username).sort(), [...joined].sort());

      // Full is full: one more, alone, is refused too.
      await assertRefused(
        "clique_full",
        () =>
          t.clique.redeemInvite({
            code: world.invite.code,
            username: "one_more",
            password: PASSWORD,
          }),
        "one_more",
      );
    } finally {
      clearTimeout(timeout);
      await t.clique.updateSettings({ memberCap: world.settings.memberCap });
    }
  }

  it("never exceeds the cap: 20 concurrent redemptions of one invite for 5 free seats", async () => {
    const { invite, code } = await newInvite({ maxUses: null });
    await rush("rush", () => code);
    assert.equal((await t.stores.invites.getById(invite.id))?.uses, 5);
  });

  it("never exceeds the cap when each concurrent redemption has its own invite", async () => {
    // No shared invite row to queue on: only the Clique's own lock keeps the count.
    const invites: Awaited<ReturnType<typeof newInvite>>[] = [];
    for (let i = 0; i < 10; i++) invites.push(await newInvite({ maxUses: 1 }));
    await rush("own", (i) => invites[i]?.code ?? "", 10, 3);
    const uses = await Promise.all(invites.map((x) => t.stores.invites.getById(x.invite.id)));
    assert.equal(
      uses.reduce((sum, x) => sum + (x?.uses ?? 0), 0),
      3,
    );
  });
});
