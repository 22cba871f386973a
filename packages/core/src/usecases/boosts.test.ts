/**
 * Boosts, bookmarks, favourites lists, pins and who liked or boosted, through
 * their use cases over the fixture world (real PostgreSQL): every list passes
 * the visibility module when it is read.
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
import type { Member, Post } from "../domain/types.ts";
import type { CreatePostInput } from "./create-post.ts";
import { MAX_PINS } from "./pin-post.ts";

let t: TestClique;
let world: World;
let alice: Member;
let bob: Member;
let dave: Member;

before(async () => {
  t = await openTestClique();
  world = await seedWorld(t.clique, t.db);
  ({ alice_owner: alice, bob_member: bob, dave_moderator: dave } = world.members);
  // dave follows bob: bob's boosts reach dave's home feed.
  assert.ok((await t.clique.followAccount(dave, bob.id)).ok);
  // Members approve their followers by default.
  if ((await t.stores.follows.get(dave.id, bob.id))?.state === "pending")
    assert.ok((await t.clique.authorizeFollowRequest(bob, dave.id)).ok);
});

after(async () => {
  await t?.drop();
  await stopEmbeddedTestServer();
});

async function publish(author: Member, input: Partial<CreatePostInput> & { source: string }) {
  const result = await t.clique.createPost(author, { circleId: null, ...input } as CreatePostInput);
  assert.ok(result.ok, result.ok ? "" : `createPost: ${result.reason}`);
  return result.value;
}

const page = (limit = 20) => ({ limit });

async function outboxKinds(): Promise<string[]> {
  const rows = await t.db.selectFrom("outbox_events").select("event").orderBy("id").execute();
  return rows.map((r) => (typeof r.event === "string" ? JSON.parse(r.event) : r.event).kind);
}

async function homeOf(member: Member) {
  return t.clique.listHomeEntries(member, page(40));
}

describe("boosts", () => {
  let open: Post;

  before(async () => {
    open = await publish(alice, { source: "open to all", audience: "public" });
  });

  it("boosts a public post once, records an Announce event and tells the author", async () => {
    const first = await t.clique.boostPost(bob, open.id);
    assert.ok(first.ok);
    assert.equal(first.value.post.id, open.id);
    assert.equal(first.value.boost.audience, "public");
    const again = await t.clique.boostPost(bob, open.id);
    assert.ok(again.ok);
    assert.equal(again.value.boost.id, first.value.boost.id, "a repeated boost is the same boost");
    const extras = await t.clique.postExtras([open], world.viewer("bob_member"));
    assert.equal(extras.boosts.get(open.id), 1);
    assert.ok(extras.boostedByViewer.has(open.id));
    assert.equal((await outboxKinds()).filter((k) => k === "boosted").length, 1);
    const notes = await t.db
      .selectFrom("notifications")
      .selectAll()
      .where("recipient_id", "=", alice.id)
      .where("type", "=", "reblog")
      .execute();
    assert.equal(notes.length, 1);
    assert.equal(notes[0]!.account_id, bob.id);
    assert.equal(notes[0]!.post_id, open.id);
  });

  it("shows the boost in a follower's home feed as its own entry", async () => {
    const boost = await t.stores.interactions.getBoost(bob.id, open.id);
    const entry = (await homeOf(dave)).find((e) => e.boost?.id === boost!.id);
    assert.ok(entry, "dave sees bob's boost");
    assert.equal(entry.post.id, open.id);
    assert.equal(entry.boost!.actorId, bob.id);
    // The booster sees their own boost; someone who follows nobody sees none.
    assert.ok((await homeOf(bob)).some((e) => e.boost?.id === boost!.id));
    assert.ok(!(await homeOf(alice)).some((e) => e.boost !== null));
  });

  it("refuses posts that are not open to everyone (422) and hides invisible ones (404)", async () => {
    const circle = await publish(alice, {
      source: "family only",
      audience: "circle",
      circleId: world.circles.family,
    });
    const clique = await publish(alice, { source: "clique only", audience: "clique" });
    const followers = await publish(alice, { source: "followers", audience: "followers" });
    for (const post of [circle, clique]) {
      const r = await t.clique.boostPost(bob, post.id);
      assert.ok(!r.ok);
      assert.equal(r.reason, "not_boostable", `${post.audience} cannot be boosted`);
    }
    // dave is not in the family circle: the post does not exist for him.
    const hidden = await t.clique.boostPost(dave, circle.id);
    assert.ok(!hidden.ok);
    assert.equal(hidden.reason, "not_found");
    // Not a follower of alice either.
    const notFollower = await t.clique.boostPost(dave, followers.id);
    assert.ok(!notFollower.ok);
    assert.equal(notFollower.reason, "not_found");
  });

  it("keeps the author's boost policy", async () => {
    const closed = await publish(alice, {
      source: "no boosts please",
      audience: "public",
      interactionPolicy: {
        reply: { audience: "public" },
        like: { audience: "public" },
        boost: { audience: "nobody" },
      },
    });
    const r = await t.clique.boostPost(bob, closed.id);
    assert.ok(!r.ok);
    assert.equal(r.reason, "not_allowed");
  });

  it("boosts to followers only when asked", async () => {
    const other = await publish(alice, { source: "for followers' eyes", audience: "unlisted" });
    const r = await t.clique.boostPost(bob, other.id, { audience: "followers" });
    assert.ok(r.ok);
    assert.equal(r.value.boost.audience, "followers");
    // Listed in reblogged_by to the booster alone.
    const toBob = await t.clique.listPostInteractors(
      world.viewer("bob_member"),
      other.id,
      "boost",
      page(),
    );
    assert.deepEqual(
      toBob?.map((a) => a.actorId),
      [bob.id],
    );
    const toAlice = await t.clique.listPostInteractors(
      world.viewer("alice_owner"),
      other.id,
      "boost",
      page(),
    );
    assert.deepEqual(toAlice, []);
  });

  it("drops the boost from feeds when its post is deleted", async () => {
    const doomed = await publish(alice, { source: "soon gone", audience: "public" });
    assert.ok((await t.clique.boostPost(bob, doomed.id)).ok);
    assert.ok((await homeOf(dave)).some((e) => e.post.id === doomed.id && e.boost));
    assert.ok((await t.clique.deletePost(alice, doomed.id)).ok);
    assert.ok(!(await homeOf(dave)).some((e) => e.post.id === doomed.id));
  });

  it("unboosts: the boost leaves feeds, counts and records an Undo event", async () => {
    const r = await t.clique.unboostPost(bob, open.id);
    assert.ok(r.ok);
    assert.equal(await t.stores.interactions.getBoost(bob.id, open.id), null);
    assert.ok(!(await homeOf(dave)).some((e) => e.post.id === open.id && e.boost));
    const extras = await t.clique.postExtras([open], world.viewer("bob_member"));
    assert.equal(extras.boosts.get(open.id) ?? 0, 0);
    assert.ok((await outboxKinds()).includes("unboosted"));
    // Again: nothing to undo, no second event.
    const before = (await outboxKinds()).filter((k) => k === "unboosted").length;
    assert.ok((await t.clique.unboostPost(bob, open.id)).ok);
    assert.equal((await outboxKinds()).filter((k) => k === "unboosted").length, before);
  });

  it("pages the home feed across posts and boosts by id", async () => {
    const a = await publish(bob, { source: "home one", audience: "public" });
    const b = await publish(alice, { source: "home two", audience: "public" });
    assert.ok((await t.clique.boostPost(bob, b.id)).ok);
    const boost = await t.stores.interactions.getBoost(bob.id, b.id);
    const first = await t.clique.listHomeEntries(dave, { limit: 2 });
    assert.deepEqual(
      first.map((e) => e.id),
      [boost!.id, b.id],
    );
    const next = await t.clique.listHomeEntries(dave, { limit: 1, maxId: b.id });
    assert.deepEqual(
      next.map((e) => e.id),
      [a.id],
    );
    const prev = await t.clique.listHomeEntries(dave, { limit: 5, minId: a.id });
    assert.deepEqual(
      prev.map((e) => e.id),
      [boost!.id, b.id],
    );
  });
});

describe("bookmarks and favourites", () => {
  it("lists them newest first, and forgets posts the member may no longer see", async () => {
    const circle = await publish(alice, {
      source: "family secret",
      audience: "circle",
      circleId: world.circles.family,
    });
    const open = await publish(alice, { source: "open bookmark", audience: "public" });
    for (const post of [circle, open]) {
      assert.ok((await t.clique.bookmarkPost(bob, post.id)).ok);
      assert.ok((await t.clique.likePost(bob, post.id)).ok);
    }
    // Idempotent.
    assert.ok((await t.clique.bookmarkPost(bob, open.id)).ok);
    let marks = await t.clique.listBookmarks(bob, page());
    assert.deepEqual(
      marks.map((e) => e.post.id),
      [open.id, circle.id],
    );
    let likes = await t.clique.listFavourites(bob, page());
    assert.deepEqual(
      likes.slice(0, 2).map((e) => e.post.id),
      [open.id, circle.id],
    );
    const extras = await t.clique.postExtras([open, circle], world.viewer("bob_member"));
    assert.ok(extras.bookmarkedByViewer.has(open.id) && extras.bookmarkedByViewer.has(circle.id));
    // Others do not see bob's bookmarks.
    const daveExtras = await t.clique.postExtras([open], world.viewer("dave_moderator"));
    assert.ok(!daveExtras.bookmarkedByViewer.has(open.id));
    // A post nobody may see cannot be bookmarked.
    const r = await t.clique.bookmarkPost(dave, circle.id);
    assert.ok(!r.ok);
    assert.equal(r.reason, "not_found");

    // bob leaves the family circle: the circle post leaves both lists.
    assert.ok(
      (
        await t.clique.updateCircle(alice, world.circles.family, {
          memberIds: [world.ids.grace_remote],
        })
      ).ok,
    );
    marks = await t.clique.listBookmarks(bob, page());
    assert.deepEqual(
      marks.map((e) => e.post.id),
      [open.id],
    );
    likes = await t.clique.listFavourites(bob, page());
    assert.ok(!likes.some((e) => e.post.id === circle.id));
    // Back in the circle: listed again (the bookmark itself was kept).
    assert.ok(
      (
        await t.clique.updateCircle(alice, world.circles.family, {
          memberIds: [bob.id, world.ids.grace_remote],
        })
      ).ok,
    );
    assert.equal((await t.clique.listBookmarks(bob, page())).length, 2);

    assert.ok((await t.clique.unbookmarkPost(bob, open.id)).ok);
    marks = await t.clique.listBookmarks(bob, page());
    assert.deepEqual(
      marks.map((e) => e.post.id),
      [circle.id],
    );
    // Pages go by the bookmark's id.
    const older = await t.clique.listBookmarks(bob, { limit: 5, maxId: marks[0]!.id });
    assert.deepEqual(older, []);
  });
});

describe("pins", () => {
  it("pins one's own posts, up to the limit, and lists them per viewer", async () => {
    const circle = await publish(alice, {
      source: "pinned for family",
      audience: "circle",
      circleId: world.circles.family,
    });
    const publicOnes: Post[] = [];
    for (let i = 0; i < MAX_PINS - 1; i++)
      publicOnes.push(await publish(alice, { source: `pinned ${i}`, audience: "public" }));
    for (const post of [circle, ...publicOnes])
      assert.ok((await t.clique.pinPost(alice, post.id)).ok);
    // Again: already pinned, no error.
    assert.ok((await t.clique.pinPost(alice, circle.id)).ok);
    const extra = await publish(alice, { source: "one too many", audience: "public" });
    const full = await t.clique.pinPost(alice, extra.id);
    assert.ok(!full.ok);
    assert.equal(full.reason, "pin_limit");

    const bobs = await publish(bob, { source: "bob's own", audience: "public" });
    const notOwn = await t.clique.pinPost(alice, bobs.id);
    assert.ok(!notOwn.ok);
    assert.equal(notOwn.reason, "pin_not_own");
    const direct = await publish(bob, { source: "hi @alice_owner", audience: "direct" });
    const noDirect = await t.clique.pinPost(bob, direct.id);
    assert.ok(!noDirect.ok);
    assert.equal(noDirect.reason, "pin_direct");

    // Anonymous sees the public pins; bob (in the circle) all of them; dave not the circle one.
    const anon = await t.clique.listPinned(world.viewer("anonymous"), alice.id);
    assert.equal(anon.length, MAX_PINS - 1);
    assert.ok(!anon.some((p) => p.id === circle.id));
    const toBob = await t.clique.listPinned(world.viewer("bob_member"), alice.id);
    assert.equal(toBob.length, MAX_PINS);
    const toDave = await t.clique.listPinned(world.viewer("dave_moderator"), alice.id);
    assert.ok(!toDave.some((p) => p.id === circle.id));

    const extras = await t.clique.postExtras([circle, bobs], world.viewer("alice_owner"));
    assert.ok(extras.pinnedByViewer.has(circle.id));
    // `pinned` is about the viewer's own posts.
    const bobExtras = await t.clique.postExtras([circle], world.viewer("bob_member"));
    assert.ok(!bobExtras.pinnedByViewer.has(circle.id));

    // Unpinning frees a place; a deleted pinned post frees one too.
    assert.ok((await t.clique.unpinPost(alice, publicOnes[0]!.id)).ok);
    assert.ok((await t.clique.pinPost(alice, extra.id)).ok);
    assert.ok((await t.clique.deletePost(alice, extra.id)).ok);
    assert.ok((await t.clique.pinPost(alice, publicOnes[0]!.id)).ok);
    // Pins send an Update of the actor (servers re-read `featured`).
    assert.ok((await outboxKinds()).includes("actor-updated"));
  });
});

describe("favourited_by and reblogged_by", () => {
  it("lists only for visible posts and only accounts the viewer may see", async () => {
    const open = await publish(alice, { source: "like me", audience: "public" });
    assert.ok((await t.clique.likePost(bob, open.id)).ok);
    assert.ok((await t.clique.likePost(dave, open.id)).ok);
    let likers = await t.clique.listPostInteractors(
      world.viewer("anonymous"),
      open.id,
      "like",
      page(),
    );
    assert.deepEqual(
      likers?.map((l) => l.actorId),
      [dave.id, bob.id],
    );
    // Someone the viewer blocks is left out.
    assert.ok((await t.clique.blockAccount(alice, dave.id)).ok);
    likers = await t.clique.listPostInteractors(
      world.viewer("alice_owner"),
      open.id,
      "like",
      page(),
    );
    assert.deepEqual(
      likers?.map((l) => l.actorId),
      [bob.id],
    );
    assert.ok((await t.clique.unblockAccount(alice, dave.id)).ok);
    // A suspended member is left out for everyone.
    assert.ok((await t.clique.suspendMember(null, dave.id, { until: null, reason: "test" })).ok);
    likers = await t.clique.listPostInteractors(world.viewer("anonymous"), open.id, "like", page());
    assert.deepEqual(
      likers?.map((l) => l.actorId),
      [bob.id],
    );
    assert.ok((await t.clique.unsuspendMember(null, dave.id)).ok);

    // A post the viewer may not see: not found (null), whatever its likes.
    const circle = await publish(alice, {
      source: "family likes",
      audience: "circle",
      circleId: world.circles.family,
    });
    assert.ok((await t.clique.likePost(bob, circle.id)).ok);
    for (const kind of ["like", "boost"] as const) {
      assert.equal(
        await t.clique.listPostInteractors(world.viewer("anonymous"), circle.id, kind, page()),
        null,
      );
      assert.equal(
        await t.clique.listPostInteractors(world.viewer("dave_moderator"), circle.id, kind, page()),
        null,
      );
    }
    const toBob = await t.clique.listPostInteractors(
      world.viewer("bob_member"),
      circle.id,
      "like",
      page(),
    );
    assert.deepEqual(
      toBob?.map((l) => l.actorId),
      [bob.id],
    );
  });
});
