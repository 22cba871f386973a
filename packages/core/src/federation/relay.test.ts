/**
 * The transactional outbox and its relay, on the real database: an event
 * exists exactly when the change that caused it committed; the relay hands
 * each event to every subscriber and takes it out only after all returned;
 * a failing subscriber makes it try again with back-off, then set it aside.
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import {
  openTestClique,
  seedWorld,
  stopEmbeddedTestServer,
  type TestClique,
  type World,
} from "@clique/testing";
import type { EventSubscriber, FederationEvent, RecordedEvent } from "./events.ts";
import { type RelayPolicy, relayNext } from "./relay.ts";

let t: TestClique;
let world: World;
let now = new Date("2026-01-01T00:00:00Z");

before(async () => {
  t = await openTestClique({ now: () => now });
  world = await seedWorld(t.clique, t.db);
});

after(async () => {
  await t?.drop();
  await stopEmbeddedTestServer();
});

/** A subscriber that keeps what it is handed (and fails while `failing` is set). */
function recorder(name = "recorder") {
  const seen: RecordedEvent[] = [];
  let failing = 0;
  const subscriber: EventSubscriber = {
    name,
    async handle(recorded) {
      if (failing > 0) {
        failing--;
        throw new Error(`${name} is down`);
      }
      seen.push(recorded);
    },
  };
  return {
    subscriber,
    seen,
    failTimes(n: number) {
      failing = n;
    },
  };
}

const FAST: RelayPolicy = { maxAttempts: 3, backoffMs: (n) => n * 1000 };

/** Relays until nothing is due; returns the outcomes. */
async function drain(subscribers: EventSubscriber[], policy = FAST) {
  const outcomes: string[] = [];
  for (;;) {
    const outcome = await relayNext(t.clique.deps, subscribers, policy);
    if (outcome === "idle") return outcomes;
    outcomes.push(outcome);
  }
}

beforeEach(async () => {
  // Events the world's seeding recorded are not this suite's business.
  await t.db.deleteFrom("outbox_events").execute();
});

describe("the transactional outbox", () => {
  it("records an event with its change, and nothing when the transaction rolls back", async () => {
    const alice = world.members.alice_owner;
    const kept = await t.clique.createPost(alice, { source: "kept", audience: "public" });
    assert.ok(kept.ok);
    await assert.rejects(
      t.stores.transaction(async (tx) => {
        await tx.outbox.record({ kind: "actor-updated", actorId: alice.id }, now);
        throw new Error("the change failed after recording");
      }),
      /the change failed/,
    );
    const { subscriber, seen } = recorder();
    assert.deepEqual(await drain([subscriber]), ["relayed"]);
    assert.deepEqual(
      seen.map((r) => r.event.kind),
      ["post-created"],
      "only the committed change's event",
    );
    const created = seen[0]!.event as Extract<FederationEvent, { kind: "post-created" }>;
    assert.equal(created.post.id, kept.value.id);
    assert.ok(created.post.createdAt instanceof Date, "dates come back as dates");
    assert.deepEqual(await t.clique.outbox.counts(), { pending: 0, dead: 0 });
  });

  it("a use case that fails records nothing", async () => {
    const bob = world.members.bob_member;
    const refused = await t.clique.createPost(bob, { source: "" });
    assert.equal(refused.ok, false);
    assert.deepEqual(await t.clique.outbox.counts(), { pending: 0, dead: 0 });
  });

  it("hands every event to every subscriber, in the order they happened", async () => {
    const alice = world.members.alice_owner;
    const post = await t.clique.createPost(alice, { source: "one", audience: "public" });
    assert.ok(post.ok);
    await t.clique.editPost(alice, post.value.id, { source: "two" });
    await t.clique.updateProfile(alice, { displayName: "Alice A." });
    await t.clique.deletePost(alice, post.value.id);
    const [a, b] = [recorder("a"), recorder("b")];
    await drain([a.subscriber, b.subscriber]);
    const kinds = ["post-created", "post-updated", "actor-updated", "post-deleted"];
    assert.deepEqual(
      a.seen.map((r) => r.event.kind),
      kinds,
    );
    assert.deepEqual(
      b.seen.map((r) => r.id),
      a.seen.map((r) => r.id),
      "both got the same events, with the same ids",
    );
  });

  it("tries a failed event again after its back-off, then sets it aside as dead", async () => {
    const alice = world.members.alice_owner;
    await t.clique.updateProfile(alice, { displayName: "Alice B." });
    const healthy = recorder("healthy");
    const flaky = recorder("flaky");
    flaky.failTimes(1);
    assert.deepEqual(await drain([healthy.subscriber, flaky.subscriber]), ["failed"]);
    assert.deepEqual(await t.clique.outbox.counts(), { pending: 1, dead: 0 });
    assert.deepEqual(await drain([healthy.subscriber, flaky.subscriber]), [], "not due yet");
    now = new Date(now.getTime() + 1000);
    assert.deepEqual(await drain([healthy.subscriber, flaky.subscriber]), ["relayed"]);
    assert.equal(flaky.seen.length, 1);
    assert.equal(healthy.seen.length, 2, "at least once: the healthy subscriber got it twice");
    assert.equal(healthy.seen[0]!.id, healthy.seen[1]!.id, "under the same id");

    // Now one that never succeeds: three attempts, then dead, visible, and revivable.
    await t.clique.updateProfile(alice, { displayName: "Alice C." });
    const broken = recorder("broken");
    broken.failTimes(99);
    for (let attempt = 1; attempt <= 3; attempt++) {
      assert.deepEqual(await drain([broken.subscriber]), ["failed"], `attempt ${attempt}`);
      now = new Date(now.getTime() + 10_000);
    }
    assert.deepEqual(await drain([broken.subscriber]), [], "dead events are not tried");
    assert.deepEqual(await t.clique.outbox.counts(), { pending: 0, dead: 1 });
    const [dead] = await t.clique.outbox.listDead();
    assert.ok(dead);
    assert.equal(dead.attempts, 3);
    assert.match(dead.lastError ?? "", /broken: Error: broken is down/);
    assert.equal(await t.clique.outbox.revive(dead.id), true);
    const fixed = recorder("fixed");
    assert.deepEqual(await drain([fixed.subscriber]), ["relayed"]);
    assert.equal(fixed.seen[0]?.event.kind, "actor-updated");
  });

  it("two relays at once never take the same event", async () => {
    const alice = world.members.alice_owner;
    for (let i = 0; i < 20; i++) {
      const made = await t.clique.createPost(alice, { source: `p${i}`, audience: "public" });
      assert.ok(made.ok);
    }
    const seen: string[] = [];
    const slow: EventSubscriber = {
      name: "slow",
      async handle(recorded) {
        seen.push(recorded.id);
        await new Promise((r) => setTimeout(r, 5));
      },
    };
    await Promise.all([drain([slow]), drain([slow]), drain([slow])]);
    assert.equal(seen.length, 20);
    assert.equal(new Set(seen).size, 20, "each event handed over once");
  });

  it("records members' suspension, its end and removal, and profile edits that other servers show", async () => {
    const dave = world.members.dave_moderator;
    await t.clique.updateProfile(dave, { defaultAudience: "followers" });
    await t.clique.updateProfile(dave, { displayName: "Dave" });
    await t.clique.setMemberStatus(dave.id, "suspended");
    await t.clique.setMemberStatus(dave.id, "active");
    await t.clique.setMemberStatus(dave.id, "removed");
    const { subscriber, seen } = recorder();
    await drain([subscriber]);
    assert.deepEqual(
      seen.map((r) => r.event),
      [
        { kind: "actor-updated", actorId: dave.id },
        { kind: "member-suspended", memberId: dave.id },
        { kind: "member-unsuspended", memberId: dave.id },
        { kind: "member-removed", memberId: dave.id },
      ],
      "a default-audience change is private: no Update(Person) for it",
    );
  });
});
