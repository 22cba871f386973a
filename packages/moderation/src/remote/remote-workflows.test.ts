/**
 * Remote moderation's workflows: the permission table is asked before
 * anything happens (a refusal changes and logs nothing), core enforces what
 * was decided, and every decision taken is in the audit log with who, what
 * and why — the operator at the console as `actorId: null`, `via: "cli"`.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Member } from "@clique/core";
import {
  insertRemoteActor,
  openTestClique,
  seedWorld,
  stopEmbeddedTestServer,
  type TestClique,
  type World,
} from "@clique/testing";
import type { Kysely } from "kysely";
import { createModeration, type Moderation } from "../index.ts";
import { migrateModeration } from "../storage/migrations.ts";
import type { ModerationDatabase } from "../storage/schema.ts";

let t: TestClique;
let world: World;
let moderation: Moderation;

before(async () => {
  t = await openTestClique();
  await migrateModeration(t.db as unknown as Kysely<ModerationDatabase>);
  world = await seedWorld(t.clique, t.db);
  moderation = createModeration({ db: t.db as unknown as Kysely<ModerationDatabase> });
  moderation.attach(t.clique);
});

after(async () => {
  await t?.drop();
  await stopEmbeddedTestServer();
});

async function entries(action: string) {
  return (await moderation.audit.list({ limit: 200 })).filter((e) => e.action === action);
}

describe("remote moderation's workflows", () => {
  it("a server is blocked by admins and owners only; a refusal changes and logs nothing", async () => {
    const asMember = async (m: Member) =>
      moderation.remote.decideDomain(m, { domain: "spam.example", severity: "block", reason: "r" });
    for (const who of ["bob_member", "dave_moderator"] as const) {
      const refused = await asMember(world.members[who]);
      assert.deepEqual(refused, { ok: false, reason: "not_allowed" }, who);
    }
    assert.deepEqual(await t.clique.remoteModeration.listDomainBlocks(), []);
    assert.deepEqual(await entries("domain.block"), []);

    const alice = world.members.alice_owner;
    const blocked = await asMember(alice);
    assert.ok(blocked.ok);
    const [entry] = await entries("domain.block");
    assert.equal(entry?.actorId, alice.id);
    assert.deepEqual(entry?.subject, { kind: "domain", host: "spam.example" });
    assert.equal(entry?.reason, "r");
    assert.equal(entry?.details.severity, "block");
  });

  it("the operator at the console is logged as such; lifting nothing is not found and not logged", async () => {
    const limited = await moderation.remote.decideDomain(null, {
      domain: "Loud.Example",
      severity: "limit",
      reason: "  too loud\u0000 ",
    });
    assert.ok(limited.ok);
    const [entry] = await entries("domain.limit");
    assert.equal(entry?.actorId, null);
    assert.equal(entry?.details.via, "cli");
    assert.equal(entry?.reason, "too loud", "a reason is stored clean");
    assert.deepEqual(await moderation.remote.liftDomain(null, "never.example"), {
      ok: false,
      reason: "not_found",
    });
    assert.deepEqual(await entries("domain.unblock"), []);
    const lifted = await moderation.remote.liftDomain(
      world.members.alice_owner,
      "loud.example",
      "calm",
    );
    assert.ok(lifted.ok);
    assert.equal((await entries("domain.unblock"))[0]?.reason, "calm");
  });

  it("moderators suspend and silence remote accounts; members may not; each step is logged", async () => {
    const troll = await insertRemoteActor(t.db, "troll", "elsewhere.example");
    const dave = world.members.dave_moderator;
    assert.deepEqual(
      await moderation.remote.suspendAccount(world.members.bob_member, troll.id, "x"),
      {
        ok: false,
        reason: "not_allowed",
      },
    );
    const suspended = await moderation.remote.suspendAccount(dave, troll.id, "abuse");
    assert.ok(suspended.ok);
    const silenced = await moderation.remote.silenceAccount(dave, troll.id, "noise");
    assert.ok(silenced.ok);
    const listed = await moderation.remote.listSanctioned(dave);
    assert.ok(listed.ok);
    assert.deepEqual(listed.value.map((s) => s.kind).sort(), ["silence", "suspend"]);
    const lifted = await moderation.remote.unsuspendAccount(dave, troll.id);
    assert.ok(lifted.ok && lifted.value.lifted);
    const member = await moderation.remote.silenceAccount(dave, world.members.bob_member.id, "x");
    assert.deepEqual(member, { ok: false, reason: "not_remote" });

    const log = (
      await moderation.audit.list({ limit: 50, about: { kind: "account", id: troll.id } })
    )
      .map((e) => [e.action, e.actorId, e.reason])
      .reverse();
    assert.deepEqual(log, [
      ["remote.suspend", dave.id, "abuse"],
      ["remote.silence", dave.id, "noise"],
      ["remote.unsuspend", dave.id, ""],
    ]);
  });
});
