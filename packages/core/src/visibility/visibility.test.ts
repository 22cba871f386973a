/**
 * The visibility rules as a table over the fixture world: every viewer × every
 * audience × post and reply, each cell checked through both entry points
 * (`canView` via `getVisiblePost`, and the list filter via the post store),
 * which must agree with the table and so with each other.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  type ActorName,
  openTestClique,
  seedWorld,
  stopEmbeddedTestServer,
  type TestClique,
  type World,
} from "@clique/testing";
import { AUDIENCES, type Audience, type Post } from "../domain/types.ts";
import { type Viewer, visibilityFilter } from "./visibility.ts";

type ViewerName = ActorName | "anonymous";
type ObjectKind = "post" | "reply";

/**
 * Who sees what alice_owner publishes, by audience. The same for posts and replies.
 *
 * - bob_member is a member, in alice's circle `family` and mentioned in the direct posts;
 * - dave_moderator is a member whose role grants no extra sight;
 * - erin_removed is a removed member. She cannot sign in, so no surface should ever
 *   build a member viewer for her; if one does, she still sees no more than anyone:
 *   membership grants (the `clique` audience) need an *active* membership;
 * - carol_remote follows alice (accepted), alice does not follow her back (so no one
 *   is alice's friend); frank_remote only asked to follow (pending);
 * - grace_remote is in alice's circle.
 */
const SEES: Record<ViewerName, readonly Audience[]> = {
  anonymous: ["public", "unlisted"],
  // The author sees all her posts, whatever the audience (new audiences included).
  alice_owner: AUDIENCES,
  bob_member: ["public", "unlisted", "clique", "circle", "direct"],
  dave_moderator: ["public", "unlisted", "clique"],
  erin_removed: ["public", "unlisted"],
  carol_remote: ["public", "unlisted", "followers"],
  frank_remote: ["public", "unlisted"],
  grace_remote: ["public", "unlisted", "circle"],
};
const VIEWERS = Object.keys(SEES) as ViewerName[];
const KINDS: readonly ObjectKind[] = ["post", "reply"];

interface Row {
  viewer: ViewerName;
  object: { kind: ObjectKind; audience: Audience };
  expected: boolean;
}

const TABLE: Row[] = VIEWERS.flatMap((viewer) =>
  KINDS.flatMap((kind) =>
    AUDIENCES.map((audience) => ({
      viewer,
      object: { kind, audience },
      expected: SEES[viewer].includes(audience),
    })),
  ),
);

let t: TestClique;
let world: World;
/** bob_member's public post that the replies answer. */
let parent: Post;
/** alice_owner's objects, by `${kind}/${audience}`. */
const objects = new Map<string, Post>();

function textFor(kind: ObjectKind, audience: Audience): string {
  // Direct objects are addressed to bob_member by mentioning him.
  return audience === "direct" ? `@bob_member ${kind} for direct` : `${kind} for ${audience}`;
}

function objectFor(kind: ObjectKind, audience: Audience): Post {
  const post = objects.get(`${kind}/${audience}`);
  assert.ok(post, `no fixture object ${kind}/${audience}`);
  return post;
}

async function publish(
  author: keyof World["members"],
  audience: Audience,
  source: string,
  inReplyToId: string | null = null,
): Promise<Post> {
  const result = await t.clique.createPost(world.members[author], {
    source,
    audience,
    circleId: audience === "circle" ? world.circles.family : null,
    inReplyToId,
  });
  assert.ok(result.ok, `createPost ${audience}: ${result.ok ? "" : result.reason}`);
  assert.equal(result.value.audience, audience);
  return result.value;
}

/** Whether `viewer` sees `post` through each entry point. */
async function sight(viewer: Viewer, post: Post): Promise<{ one: boolean; list: boolean }> {
  const got = await t.clique.getVisiblePost(viewer, post.id);
  if (got) {
    // The single-object path returns the post itself, not a neighbour or a stale copy.
    assert.equal(got.id, post.id);
    assert.equal(got.source, post.source);
    assert.equal(got.audience, post.audience);
  }
  const listed = await t.stores.posts.list(
    { kind: "author", authorId: post.authorId },
    visibilityFilter(viewer),
    { limit: 100 },
  );
  const inList = listed.find((p) => p.id === post.id);
  if (inList) assert.equal(inList.source, post.source);
  return { one: got !== null, list: inList !== undefined };
}

/** Asserts that everyone in `seeing` sees `post` through both entry points, and no one else does. */
async function assertSeenBy(post: Post, seeing: readonly ViewerName[]): Promise<void> {
  for (const name of VIEWERS) {
    const expected = seeing.includes(name);
    const { one, list } = await sight(world.viewer(name), post);
    assert.deepEqual(
      { one, list },
      { one: expected, list: expected },
      `${name} on ${post.audience} "${post.source}"`,
    );
  }
}

before(async () => {
  t = await openTestClique();
  world = await seedWorld(t.clique, t.db);
  parent = await publish("bob_member", "public", "bob's public post");
  for (const kind of KINDS) {
    for (const audience of AUDIENCES) {
      const post = await publish(
        "alice_owner",
        audience,
        textFor(kind, audience),
        kind === "reply" ? parent.id : null,
      );
      objects.set(`${kind}/${audience}`, post);
    }
  }
});

after(async () => {
  await t?.drop();
  await stopEmbeddedTestServer();
});

describe("visibility table", () => {
  it("covers every viewer × audience × kind", () => {
    assert.equal(TABLE.length, 8 * AUDIENCES.length * 2);
    assert.equal(objects.size, AUDIENCES.length * 2);
    assert.equal(objectFor("reply", "clique").inReplyToId, parent.id);
    assert.equal(objectFor("post", "clique").inReplyToId, null);
    assert.equal(objectFor("post", "circle").circleId, world.circles.family);
  });

  for (const { viewer, object, expected } of TABLE) {
    it(`${viewer} ${expected ? "sees" : "does not see"} a ${object.audience} ${object.kind}`, async () => {
      const post = objectFor(object.kind, object.audience);
      assert.deepEqual(await sight(world.viewer(viewer), post), { one: expected, list: expected });
    });
  }

  for (const viewer of VIEWERS) {
    it(`lists exactly what ${viewer} may see of alice_owner, newest first`, async () => {
      const listed = await t.stores.posts.list(
        { kind: "author", authorId: world.ids.alice_owner },
        visibilityFilter(world.viewer(viewer)),
        { limit: 100 },
      );
      const expected = TABLE.filter((r) => r.viewer === viewer && r.expected)
        .map((r) => objectFor(r.object.kind, r.object.audience).id)
        .sort()
        .reverse();
      assert.deepEqual(
        listed.map((p) => p.id),
        expected,
      );
    });
  }
});

describe("visibility over time", () => {
  it("removing grace_remote from the circle takes away her access at once", async () => {
    const post = await publish("alice_owner", "circle", "family news");
    const alice = world.members.alice_owner;
    await assertSeenBy(post, ["alice_owner", "bob_member", "grace_remote"]);
    try {
      const updated = await t.clique.updateCircle(alice, world.circles.family, {
        memberIds: [world.ids.bob_member],
      });
      assert.ok(updated.ok);
      assert.deepEqual(updated.value.memberIds, [world.ids.bob_member]);
      await assertSeenBy(post, ["alice_owner", "bob_member"]);
    } finally {
      const restored = await t.clique.updateCircle(alice, world.circles.family, {
        memberIds: [world.ids.bob_member, world.ids.grace_remote],
      });
      assert.ok(restored.ok);
    }
    await assertSeenBy(post, ["alice_owner", "bob_member", "grace_remote"]);
  });

  it("a deleted post is invisible to everyone, its author included", async () => {
    for (const audience of AUDIENCES) {
      const post = await publish("alice_owner", audience, textFor("post", audience));
      const deleted = await t.clique.deletePost(world.members.alice_owner, post.id);
      assert.ok(deleted.ok, `delete ${audience}`);
      await assertSeenBy(post, []);
      const stored = await t.stores.posts.getById(post.id);
      assert.ok(stored?.deletedAt, "kept as a tombstone");
    }
  });

  it("a suspended member's posts disappear for everyone, and come back on reinstatement", async () => {
    const bob = world.members.bob_member;
    const publicPost = await publish("bob_member", "public", "bob in public");
    const cliquePost = await publish("bob_member", "clique", "bob to the clique");
    const members: ViewerName[] = ["alice_owner", "bob_member", "dave_moderator"];
    await assertSeenBy(publicPost, VIEWERS);
    await assertSeenBy(cliquePost, members);
    try {
      const suspended = await t.clique.setMemberStatus(bob.id, "suspended");
      assert.ok(suspended.ok);
      await assertSeenBy(publicPost, []);
      await assertSeenBy(cliquePost, []);
      // Replies to his post stay visible on their own: only his own posts are hidden.
      assert.ok(
        await t.clique.getVisiblePost(world.viewer("anonymous"), objectFor("reply", "public").id),
      );
    } finally {
      const reinstated = await t.clique.setMemberStatus(bob.id, "active");
      assert.ok(reinstated.ok);
    }
    await assertSeenBy(publicPost, VIEWERS);
    await assertSeenBy(cliquePost, members);
  });

  it("the moderator's role grants no sight into others' private posts", async () => {
    const post = await publish("bob_member", "direct", "@alice_owner just between us");
    await assertSeenBy(post, ["alice_owner", "bob_member"]);
  });
});
