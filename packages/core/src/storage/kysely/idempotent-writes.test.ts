/**
 * Inbox writes are idempotent in the store: the same remote post, follow,
 * like or block written twice — one after the other or at the same moment,
 * as when one activity reaches a member's inbox and the shared inbox at once —
 * is stored once, and the second write says it wrote nothing instead of
 * failing on a unique key.
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
import { newId } from "../../ids.ts";
import type { NewPost } from "../../stores/stores.ts";

let t: TestClique;
let world: World;

before(async () => {
  t = await openTestClique({ maxConnections: 4 });
  world = await seedWorld(t.clique, t.db);
});

after(async () => {
  await t?.drop();
  await stopEmbeddedTestServer();
});

function remotePost(uri: string, mentionIds: string[]): NewPost & { uri: string } {
  return {
    id: newId(),
    authorId: world.ids.frank_remote,
    uri,
    url: null,
    audience: "direct",
    circleId: null,
    inReplyToId: null,
    inReplyToUri: null,
    contentType: "text/plain",
    source: "",
    contentHtml: "<p>once</p>",
    spoilerText: "",
    sensitive: false,
    language: null,
    createdAt: new Date(),
    mentionIds,
    recipientIds: mentionIds,
    hashtags: ["once"],
  };
}

describe("idempotent inbox writes", () => {
  it("stores a remote post once when it arrives twice at the same moment", async () => {
    const uri = `https://remote.example/notes/${newId()}`;
    const bob = world.ids.bob_member;
    const results = await Promise.all(
      [0, 1, 2].map(() =>
        t.stores.transaction((tx) => tx.posts.createRemote(remotePost(uri, [bob]))),
      ),
    );
    assert.deepEqual(
      results.toSorted(),
      [false, false, true],
      "one write wins, the others write nothing",
    );
    const rows = await t.db.selectFrom("posts").select("id").where("uri", "=", uri).execute();
    assert.equal(rows.length, 1);
    const post = await t.stores.posts.getByUri(uri);
    assert.deepEqual(await t.stores.posts.recipientsOf(post!.id), [bob]);
    assert.deepEqual((await t.stores.posts.hashtagsOf([post!.id])).get(post!.id), ["once"]);
    assert.equal(await t.stores.posts.createRemote(remotePost(uri, [])), false, "and later");
  });

  it("stores a follow once, whichever of two writes comes first", async () => {
    const follow = () => ({
      id: newId(),
      followerId: world.ids.frank_remote,
      followeeId: world.ids.dave_moderator,
      state: "pending" as const,
      uri: `https://remote.example/follows/${newId()}`,
      createdAt: new Date(),
    });
    await t.db
      .deleteFrom("follows")
      .where("follower_id", "=", world.ids.frank_remote)
      .where("followee_id", "=", world.ids.dave_moderator)
      .execute();
    const results = await Promise.all([follow(), follow()].map((f) => t.stores.follows.create(f)));
    assert.deepEqual(results.toSorted(), [false, true]);
    assert.equal(await t.stores.follows.create(follow()), false, "and later");
    const stored = await t.stores.follows.listFollowers(world.ids.dave_moderator, "pending");
    assert.equal(stored.filter((f) => f.followerId === world.ids.frank_remote).length, 1);
  });

  it("stores a block and a like once, and says whether it wrote them", async () => {
    const [frank, dave] = [world.ids.frank_remote, world.ids.dave_moderator];
    const blocks = await Promise.all([
      t.stores.blocks.add(frank, dave, "https://remote.example/blocks/1", new Date()),
      t.stores.blocks.add(frank, dave, "https://remote.example/blocks/2", new Date()),
    ]);
    assert.deepEqual(blocks.toSorted(), [false, true]);
    assert.equal(await t.stores.blocks.add(frank, dave, null, new Date()), false);
    await t.stores.blocks.remove(frank, dave);

    const post = await t.clique.createPost(world.members.dave_moderator, {
      source: "like me once",
      audience: "public",
    });
    assert.ok(post.ok);
    const like = () =>
      t.stores.interactions.add({
        id: newId(),
        kind: "like",
        actorId: frank,
        postId: post.value.id,
        uri: `https://remote.example/likes/${newId()}`,
        createdAt: new Date(),
      });
    assert.deepEqual((await Promise.all([like(), like()])).toSorted(), [false, true]);
    assert.equal(
      (await t.stores.interactions.count([post.value.id], "like")).get(post.value.id),
      1,
    );
  });
});
