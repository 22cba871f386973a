/**
 * Counts through the visibility module: for every viewer of the fixture
 * world, an account's post count, its last post date and a post's reply count
 * (the list filter, in SQL) must agree with `canView` (the single-object rules)
 * post by post. A count that included one post more would tell that viewer
 * that the author wrote something it may not read.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  openTestClique,
  REMOTE_SERVER,
  seedWorld,
  stopEmbeddedTestServer,
  type TestClique,
  type World,
  type WorldViewerName,
} from "@clique/testing";
import type { Audience, Member, Post } from "../domain/types.ts";
import { canView } from "../visibility/visibility.ts";
import type { CreatePostInput } from "./create-post.ts";

let t: TestClique;
let world: World;
let alice: Member;
let bob: Member;
let dave: Member;
/** alice's posts, one per audience. */
const posts: Post[] = [];
let open: Post;
const replies: Post[] = [];

const VIEWERS: readonly WorldViewerName[] = [
  "anonymous",
  "alice_owner",
  "bob_member",
  "dave_moderator",
  "erin_removed",
  "carol_remote",
  "frank_remote",
  "grace_remote",
  "heidi_blocked",
  "ivan_friend",
  REMOTE_SERVER,
];

async function publish(author: Member, input: CreatePostInput): Promise<Post> {
  const result = await t.clique.createPost(author, input);
  assert.ok(result.ok, result.ok ? "" : `createPost: ${result.reason}`);
  return result.value;
}

before(async () => {
  t = await openTestClique();
  world = await seedWorld(t.clique, t.db);
  ({ alice_owner: alice, bob_member: bob, dave_moderator: dave } = world.members);
  const audiences: Audience[] = ["public", "unlisted", "followers", "friends", "clique"];
  for (const audience of audiences)
    posts.push(await publish(alice, { source: `for ${audience}`, audience }));
  posts.push(
    await publish(alice, {
      source: "for the family",
      audience: "circle",
      circleId: world.circles.family,
    }),
  );
  posts.push(await publish(alice, { source: "@dave_moderator just you", audience: "direct" }));
  open = posts[0]!;
  replies.push(
    await publish(bob, { source: "for the Clique", audience: "clique", inReplyToId: open.id }),
    await publish(dave, {
      source: "@alice_owner between us",
      audience: "direct",
      inReplyToId: open.id,
    }),
    await publish(bob, { source: "for everyone", audience: "public", inReplyToId: open.id }),
  );
});

after(async () => {
  await t?.drop();
  await stopEmbeddedTestServer();
});

async function visible(name: WorldViewerName, among: readonly Post[]): Promise<Post[]> {
  const seen: Post[] = [];
  for (const post of among)
    if (await canView(world.viewer(name), post, t.stores.facts)) seen.push(post);
  return seen;
}

describe("account and post counts follow the viewer", () => {
  for (const name of VIEWERS) {
    it(`${name}: alice's post count and last post date count only what canView lets through`, async () => {
      const seen = await visible(name, posts);
      const stats = await t.clique.accountStats(world.viewer(name), [alice.id, bob.id]);
      const newest = seen
        .map((p) => p.createdAt.getTime())
        .sort((a, b) => a - b)
        .at(-1);
      assert.deepEqual(
        { posts: stats.get(alice.id)?.posts, lastPostAt: stats.get(alice.id)?.lastPostAt },
        { posts: seen.length, lastPostAt: newest === undefined ? null : new Date(newest) },
      );
      // Several accounts in one call: bob's are his replies, judged the same way.
      const bobs = await visible(
        name,
        replies.filter((r) => r.authorId === bob.id),
      );
      assert.equal(stats.get(bob.id)?.posts, bobs.length);
    });

    it(`${name}: replies_count of alice's public post counts only readable replies`, async () => {
      const seen = await visible(name, replies);
      const extras = await t.clique.postExtras([open], world.viewer(name));
      assert.equal(extras.replies.get(open.id) ?? 0, seen.length);
      assert.equal(extras.authorStats.get(alice.id)?.posts, (await visible(name, posts)).length);
    });
  }

  it("pins a few rows, so that the table above cannot agree on nothing", async () => {
    const count = async (name: WorldViewerName) =>
      (await t.clique.accountStats(world.viewer(name), [alice.id])).get(alice.id)?.posts;
    assert.equal(await count("anonymous"), 2, "public and unlisted");
    assert.equal(await count("carol_remote"), 3, "and followers-only, as a follower");
    assert.equal(await count("bob_member"), 4, "and the Clique's and the family circle's");
    assert.equal(await count("alice_owner"), 7, "all of her own");
    const none = await t.clique.accountStats(world.viewer("anonymous"), [dave.id]);
    assert.deepEqual(none.get(dave.id), { followers: 0, following: 0, posts: 0, lastPostAt: null });
    const replyCount = async (name: WorldViewerName) =>
      (await t.clique.postExtras([open], world.viewer(name))).replies.get(open.id) ?? 0;
    assert.equal(await replyCount("anonymous"), 1);
    assert.equal(await replyCount("bob_member"), 2);
    assert.equal(await replyCount("alice_owner"), 3);
  });

  it("follower counts come in the same batch", async () => {
    const stats = await t.clique.accountStats(world.viewer("anonymous"), [
      alice.id,
      world.ids.ivan_friend,
    ]);
    // carol, heidi and ivan follow alice (frank's request is pending); alice follows ivan.
    assert.deepEqual([stats.get(alice.id)?.followers, stats.get(alice.id)?.following], [3, 1]);
    assert.deepEqual(
      [stats.get(world.ids.ivan_friend)?.followers, stats.get(world.ids.ivan_friend)?.following],
      [1, 1],
    );
  });
});
