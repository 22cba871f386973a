/**
 * The member and content workflows: core's use case decides (the permission
 * table) and changes, then the audit log says who, what and why — a refusal
 * changes and logs nothing; the operator at the console is `actorId: null`,
 * `via: "cli"`; a member's own view of the log holds what concerns them. And
 * the suspension worker lifts a suspension when its end date comes.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import type { Member } from "@clique/core";
import {
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
let alice: Member;
let bob: Member;
let dave: Member;

before(async () => {
  t = await openTestClique();
  await migrateModeration(t.db as unknown as Kysely<ModerationDatabase>);
  world = await seedWorld(t.clique, t.db);
  moderation = createModeration({ db: t.db as unknown as Kysely<ModerationDatabase> });
  moderation.attach(t.clique);
  ({ alice_owner: alice, bob_member: bob, dave_moderator: dave } = world.members);
});

after(async () => {
  await moderation?.suspensions.stop();
  await t?.drop();
  await stopEmbeddedTestServer();
});

async function entries(action: string) {
  return (await moderation.audit.list({ limit: 200 })).filter((e) => e.action === action);
}

async function publish(author: Member, source: string) {
  const result = await t.clique.createPost(author, { source, audience: "public" });
  assert.ok(result.ok);
  return result.value;
}

async function join(username: string): Promise<Member> {
  const joined = await t.clique.redeemInvite({
    code: world.invite.code,
    username,
    password: `password-of-${username}`,
  });
  assert.ok(joined.ok);
  return joined.value;
}

describe("member and content workflows", () => {
  it("a removal is logged with who, what and why; a refusal changes and logs nothing", async () => {
    const post = await publish(bob, "not OK");
    const refused = await moderation.members.removePost(bob, post.id, "no");
    assert.deepEqual(refused, { ok: false, reason: "not_allowed" });
    assert.deepEqual(await entries("post.remove"), []);
    assert.ok(await t.clique.getVisiblePost({ kind: "anonymous" }, post.id));

    const removed = await moderation.members.removePost(dave, post.id, "  Name-calling \u0000 ");
    assert.ok(removed.ok);
    const [entry] = await entries("post.remove");
    assert.deepEqual(
      [entry?.actorId, entry?.subject, entry?.reason, entry?.details],
      [dave.id, { kind: "post", id: post.id }, "Name-calling", { member_id: bob.id }],
    );
  });

  it("the operator at the console is logged as the server, via the CLI", async () => {
    const sam = await join("sam_console");
    const suspended = await moderation.members.suspendMember(null, sam.id, {
      reason: "Console",
      until: null,
    });
    assert.ok(suspended.ok);
    const [entry] = (await entries("member.suspend")).filter((e) => e.subject.kind === "member");
    assert.deepEqual(
      [entry?.actorId, entry?.details.via, entry?.details.until, entry?.reason],
      [null, "cli", null, "Console"],
    );
    const role = await moderation.members.setRole(alice, sam.id, "moderator", "helps out");
    assert.ok(role.ok);
    const [given] = await entries("member.role");
    assert.deepEqual(given?.details, {
      username: "sam_console",
      role: "moderator",
      previous: "member",
    });
  });

  it("a member's own view of the log: their account and their posts, nobody else's", async () => {
    const mine = await moderation.audit.list({ limit: 200, concerning: bob.id });
    assert.deepEqual(
      mine.map((e) => e.action),
      ["post.remove"],
    );
    const warned = await moderation.members.warn(dave, bob.id, "Be kind");
    assert.ok(warned.ok);
    const again = await moderation.audit.list({ limit: 200, concerning: bob.id });
    assert.deepEqual(
      again.map((e) => e.action),
      ["member.warn", "post.remove"],
    );
  });
});

describe("the suspension worker", () => {
  it("lifts a suspension when its end date comes, logged as the worker's", async () => {
    const tess = await join("tess_timed");
    moderation.suspensions.start();
    const until = new Date(Date.now() + 1_500);
    const suspended = await moderation.members.suspendMember(dave, tess.id, {
      reason: "A short break",
      until,
    });
    assert.ok(suspended.ok);
    // Woken by the event, as the relay would hand it over.
    await moderation.suspensions.subscriber.handle({
      id: "00000000-0000-7000-8000-000000000001",
      event: { kind: "member-suspended", memberId: tess.id },
      recordedAt: new Date(),
    });
    assert.equal((await t.stores.members.getById(tess.id))?.status, "suspended");
    const deadline = Date.now() + 20_000;
    while ((await t.stores.members.getById(tess.id))?.status !== "active") {
      assert.ok(Date.now() < deadline, "the suspension was lifted");
      await sleep(100);
    }
    // The entry is written just after the lift commits: wait for it too.
    let lifted = (await entries("member.unsuspend")).find(
      (e) => e.subject.kind === "member" && e.subject.id === tess.id,
    );
    while (lifted === undefined) {
      assert.ok(Date.now() < deadline, "the lift was logged");
      await sleep(100);
      lifted = (await entries("member.unsuspend")).find(
        (e) => e.subject.kind === "member" && e.subject.id === tess.id,
      );
    }
    assert.deepEqual(
      [lifted?.actorId, lifted?.details.via, lifted?.details.until],
      [null, "worker", until.toISOString()],
    );
    assert.ok((await t.stores.members.getById(tess.id))!.suspendedUntil === null);
  });
});
