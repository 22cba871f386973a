/**
 * Notifications of every type through core's use cases, on the fixture world
 * and a real database: who is told of what, never of their own action, never
 * from someone blocked or muted, once per like, and never about a post they
 * may not see (then or since).
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
import type { Member, Notification, Post } from "../domain/types.ts";
import { recordNotification } from "./notifications.ts";

let t: TestClique;
let world: World;
let alice: Member;
let bob: Member;
let dave: Member;

before(async () => {
  t = await openTestClique();
  world = await seedWorld(t.clique, t.db);
  ({ alice_owner: alice, bob_member: bob, dave_moderator: dave } = world.members);
});

after(async () => {
  await t?.drop();
  await stopEmbeddedTestServer();
});

async function publish(
  author: Member,
  source: string,
  audience: Post["audience"] = "public",
  circleId: string | null = null,
) {
  const result = await t.clique.createPost(author, { source, audience, circleId });
  assert.ok(result.ok, result.ok ? "" : result.reason);
  return result.value;
}

/** A member's notifications (as listed) about one post, or of one type from one account. */
async function told(member: Member, match: Partial<Notification>): Promise<Notification[]> {
  const { items } = await t.clique.listNotifications(member, { limit: 80 });
  return items.filter((n) =>
    Object.entries(match).every(([k, v]) => n[k as keyof Notification] === v),
  );
}

describe("notifications", () => {
  it("tells the author of a like, once per like, and never of their own", async () => {
    const post = await publish(alice, "a post to like");
    assert.ok((await t.clique.likePost(bob, post.id)).ok);
    assert.ok((await t.clique.likePost(bob, post.id)).ok);
    // Taken back and given again: still one.
    assert.ok((await t.clique.unlikePost(bob, post.id)).ok);
    assert.ok((await t.clique.likePost(bob, post.id)).ok);
    const likes = await told(alice, { type: "favourite", postId: post.id });
    assert.equal(likes.length, 1);
    assert.equal(likes[0]!.accountId, bob.id);
    assert.ok((await t.clique.likePost(alice, post.id)).ok);
    assert.equal((await told(alice, { type: "favourite", postId: post.id })).length, 1);
  });

  it("tells a mentioned member, only when they may see the post", async () => {
    const open = await publish(bob, "hello @dave_moderator");
    assert.equal((await told(dave, { type: "mention", postId: open.id })).length, 1);
    // alice's circle holds bob (and grace elsewhere), not dave.
    const circled = await publish(
      alice,
      "family only, @dave_moderator and @bob_member",
      "circle",
      world.circles.family,
    );
    const daveSees = await t.clique.getVisiblePost(world.viewer("dave_moderator"), circled.id);
    assert.equal(
      (await told(dave, { type: "mention", postId: circled.id })).length,
      daveSees ? 1 : 0,
      "dave is told exactly when he may see it",
    );
    assert.equal((await told(bob, { type: "mention", postId: circled.id })).length, 1);
  });

  it("hides a notification about a post the member may no longer see", async () => {
    const circle = await t.clique.createCircle(alice, { name: "for now", memberIds: [dave.id] });
    assert.ok(circle.ok);
    const post = await publish(alice, "just for @dave_moderator", "circle", circle.value.id);
    assert.equal((await told(dave, { type: "mention", postId: post.id })).length, 1);
    const id = (await told(dave, { type: "mention", postId: post.id }))[0]!.id;
    assert.ok((await t.clique.updateCircle(alice, circle.value.id, { memberIds: [] })).ok);
    assert.equal((await told(dave, { type: "mention", postId: post.id })).length, 0);
    assert.equal(await t.clique.getNotification(dave, id), null);
  });

  it("tells a member of a follow, and of a request when they approve followers", async () => {
    await t.clique.updateProfile(bob, { manuallyApprovesFollowers: false });
    const followed = await t.clique.followAccount(dave, bob.id);
    assert.ok(followed.ok);
    assert.equal(followed.value.state, "accepted");
    assert.equal((await told(bob, { type: "follow", accountId: dave.id })).length, 1);
    await t.clique.updateProfile(bob, { manuallyApprovesFollowers: true });
    const bobNow = (await t.clique.getMember(bob.id))!;
    assert.ok((await t.clique.followAccount(alice, bobNow.id)).ok);
    assert.equal((await told(bobNow, { type: "follow_request", accountId: alice.id })).length, 1);
  });

  it("tells those who liked a post that it was edited", async () => {
    const post = await publish(alice, "first words");
    assert.ok((await t.clique.likePost(dave, post.id)).ok);
    assert.ok((await t.clique.editPost(alice, post.id, { source: "second words" })).ok);
    assert.equal((await told(dave, { type: "update", postId: post.id })).length, 1);
    // The author is not told of her own edit.
    assert.equal((await told(alice, { type: "update", postId: post.id })).length, 0);
  });

  it("tells nothing from a muted account, and hides what came from one blocked since", async () => {
    const post = await publish(dave, "dave's post");
    assert.ok((await t.clique.muteAccount(dave, alice.id)).ok);
    assert.ok((await t.clique.likePost(alice, post.id)).ok);
    assert.equal((await told(dave, { type: "favourite", postId: post.id })).length, 0);
    assert.ok((await t.clique.unmuteAccount(dave, alice.id)).ok);

    const other = await publish(dave, "another of dave's");
    assert.ok((await t.clique.likePost(bob, other.id)).ok);
    assert.equal((await told(dave, { type: "favourite", postId: other.id })).length, 1);
    assert.ok((await t.clique.blockAccount(dave, bob.id)).ok);
    assert.equal((await told(dave, { type: "favourite", postId: other.id })).length, 0);
  });

  it("filters by type and account, dismisses and clears", async () => {
    const post = await publish(alice, "filter me @bob_member");
    assert.ok((await t.clique.likePost(bob, post.id)).ok);
    assert.ok((await t.clique.likePost(dave, post.id)).ok);
    const only = await t.clique.listNotifications(alice, { limit: 80 }, { types: ["favourite"] });
    assert.ok(only.items.length >= 2);
    assert.ok(only.items.every((n) => n.type === "favourite"));
    const without = await t.clique.listNotifications(
      alice,
      { limit: 80 },
      { excludeTypes: ["favourite"] },
    );
    assert.ok(without.items.every((n) => n.type !== "favourite"));
    const fromDave = await t.clique.listNotifications(alice, { limit: 80 }, { accountId: dave.id });
    assert.ok(fromDave.items.length >= 1);
    assert.ok(fromDave.items.every((n) => n.accountId === dave.id));
    const first = only.items[0]!;
    assert.equal(await t.clique.dismissNotification(alice, first.id), true);
    assert.equal(await t.clique.getNotification(alice, first.id), null);
    // Nobody dismisses another's.
    const bobs = (await t.clique.listNotifications(bob, { limit: 1 })).items[0]!;
    assert.equal(await t.clique.dismissNotification(alice, bobs.id), false);
    await t.clique.clearNotifications(alice);
    assert.equal((await t.clique.listNotifications(alice, { limit: 80 })).items.length, 0);
    assert.ok((await t.clique.listNotifications(bob, { limit: 80 })).items.length > 0);
  });

  it("recordNotification tells only active local members", async () => {
    const post = await publish(alice, "for a remote");
    const written = await t.stores.transaction((tx) =>
      recordNotification(tx, {
        recipientId: world.ids.carol_remote,
        type: "favourite",
        accountId: alice.id,
        postId: post.id,
        now: new Date(),
      }),
    );
    assert.equal(written, null);
  });
});
