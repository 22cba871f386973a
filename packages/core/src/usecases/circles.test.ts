/**
 * Circles: removing someone recalls every post of the circle from them, however
 * old, and only those (the events the outbox relay hands to its subscribers;
 * the publisher would turn them into `Delete`s).
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
import { OPEN_INTERACTIONS } from "../domain/types.ts";
import type { FederationEvent } from "../federation/events.ts";
import { relayNext } from "../federation/relay.ts";
import { newId } from "../ids.ts";

let t: TestClique;
let world: World;
const events: FederationEvent[] = [];

before(async () => {
  t = await openTestClique();
  world = await seedWorld(t.clique, t.db);
});

/** Hands every recorded event to a subscriber that keeps them. */
async function drainOutbox(): Promise<void> {
  const recorder = {
    name: "recorder",
    handle: async ({ event }: { event: FederationEvent }) => {
      events.push(event);
    },
  };
  while ((await relayNext(t.clique.deps, [recorder])) !== "idle");
}

after(async () => {
  await t?.drop();
  await stopEmbeddedTestServer();
});

describe("circle recall", () => {
  it("recalls every post of the circle, however many newer posts its owner wrote since", async () => {
    const alice = world.members.alice_owner;
    const bob = world.members.bob_member;
    const family = world.circles.family;
    const publish = async (who: typeof alice, input: Parameters<typeof t.clique.createPost>[1]) => {
      const result = await t.clique.createPost(who, input);
      assert.ok(result.ok, result.ok ? "" : result.reason);
      return result.value;
    };
    const old = await publish(alice, {
      source: "old family news",
      audience: "circle",
      circleId: family,
    });
    const answer = await publish(bob, { source: "bob answers", inReplyToId: old.id });
    assert.equal(answer.circleId, family);
    // 1 200 newer posts of alice's, written straight to the table in one statement.
    await t.db
      .insertInto("posts")
      .values(
        Array.from({ length: 1200 }, (_, i) => ({
          id: newId(),
          author_id: alice.id,
          uri: null,
          url: null,
          audience: "clique" as const,
          circle_id: null,
          in_reply_to_id: null,
          in_reply_to_uri: null,
          content_type: "text/plain" as const,
          source: `filler ${i}`,
          content_html: `<p>filler ${i}</p>`,
          spoiler_text: "",
          sensitive: false,
          language: null,
          created_at: new Date(),
          audience_owner_id: null,
          interaction_policy: JSON.stringify(OPEN_INTERACTIONS),
        })),
      )
      .execute();
    const other = await publish(alice, { source: "not for the family", audience: "followers" });
    await drainOutbox();
    events.length = 0;

    const grace = world.ids.grace_remote;
    const updated = await t.clique.updateCircle(alice, family, { memberIds: [bob.id] });
    assert.ok(updated.ok);
    await drainOutbox();
    const recalled = events.filter((e) => e.kind === "post-recalled");
    assert.deepEqual(
      recalled.map((e) => e.post.id).sort(),
      [old.id, answer.id].sort(),
      "the circle's post and the reply in it, and nothing else",
    );
    for (const e of recalled) assert.deepEqual(e.actorIds, [grace]);
    assert.ok(!recalled.some((e) => e.post.id === other.id));
  });
});
