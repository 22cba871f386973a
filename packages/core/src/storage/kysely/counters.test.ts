/**
 * The counters of migration 020 (issue 13) on real PostgreSQL: after writes of
 * every kind (posts of each audience, replies, likes, boosts, follows, a
 * deletion, a moderator's hiding, a removed follow, a deleted actor), every
 * counter equals a count of the rows; and what `statsByAuthor` shows each
 * viewer of the fixture world equals what `canView`, asked post by post, lets
 * that viewer see.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  insertFollow,
  insertRemoteActor,
  openTestClique,
  seedWorld,
  type TestClique,
  type World,
  type WorldViewerName,
} from "@clique/testing";
import { sql } from "kysely";
import type { Post } from "../../domain/types.ts";
import { newId } from "../../ids.ts";
import { canView, visibilityFilter } from "../../visibility/visibility.ts";
import { backfillCounters } from "./migration-020.ts";
import { toPost } from "./rows.ts";

let t: TestClique;
let world: World;

const VIEWERS: WorldViewerName[] = [
  "anonymous",
  "alice_owner",
  "bob_member",
  "dave_moderator",
  "carol_remote",
  "frank_remote",
  "grace_remote",
  "heidi_blocked",
  "ivan_friend",
  "remote_server",
];

function ok<T>(result: { ok: true; value: T } | { ok: false; reason: string }): T {
  assert.ok(result.ok, result.ok ? "" : result.reason);
  return result.value;
}

before(async () => {
  t = await openTestClique();
  world = await seedWorld(t.clique, t.db);
  const { alice_owner: alice, bob_member: bob, dave_moderator: dave } = world.members;
  const c = t.clique;
  const open = ok(await c.createPost(alice, { source: "open", audience: "public" }));
  ok(await c.createPost(alice, { source: "unlisted", audience: "unlisted" }));
  ok(await c.createPost(alice, { source: "followers", audience: "followers" }));
  const circle = ok(
    await c.createPost(alice, {
      source: "circle",
      audience: "circle",
      circleId: world.circles.family,
    }),
  );
  ok(await c.createPost(alice, { source: "clique", audience: "clique" }));
  ok(await c.createPost(alice, { source: "friends", audience: "friends" }));
  ok(await c.createPost(alice, { source: "@bob_member direct", audience: "direct" }));
  // Replies: one open, one in alice's circle (borrowed), one deleted, one hidden.
  const reply = ok(await c.createPost(bob, { source: "reply", inReplyToId: open.id }));
  ok(await c.createPost(bob, { source: "in her circle", inReplyToId: circle.id }));
  const gone = ok(await c.createPost(dave, { source: "gone", inReplyToId: open.id }));
  ok(await c.deletePost(dave, gone.id));
  const hidden = ok(await c.createPost(dave, { source: "hidden", inReplyToId: open.id }));
  await t.stores.posts.setHidden(hidden.id, new Date());
  // A remote reply and a remote author's own posts.
  await t.stores.posts.createRemote({
    id: newId(),
    authorId: world.ids.carol_remote,
    uri: "https://remote.example/notes/1",
    url: null,
    audience: "public",
    circleId: null,
    inReplyToId: open.id,
    inReplyToUri: null,
    contentType: "text/plain",
    source: "remote reply",
    contentHtml: "<p>remote reply</p>",
    spoilerText: "",
    sensitive: false,
    language: null,
    createdAt: new Date(),
    mentionIds: [],
    recipientIds: [],
    hashtags: [],
  } as Parameters<typeof t.stores.posts.createRemote>[0]);
  ok(await c.likePost(bob, open.id));
  ok(await c.likePost(dave, open.id));
  ok(await c.boostPost(bob, open.id));
  ok(await c.likePost(alice, reply.id));
  ok(await c.unlikePost(dave, open.id));
  // Follows: a new approved one, then one that ends; an actor that goes away with its rows.
  const temp = await insertRemoteActor(t.db, "temporary");
  await insertFollow(t.stores, temp.id, bob.id, "accepted");
  await insertFollow(t.stores, bob.id, temp.id, "accepted");
  const leaving = await insertRemoteActor(t.db, "leaving");
  await insertFollow(t.stores, leaving.id, alice.id, "accepted");
  await t.db.deleteFrom("actors").where("id", "=", leaving.id).execute();
  await t.db.deleteFrom("follows").where("follower_id", "=", bob.id).execute();
});

after(async () => {
  await t?.drop();
});

describe("counters (migration 020)", () => {
  it("equal a count of the rows, for every actor and post", async () => {
    const accounts = await sql<{ id: string; kept: string; counted: string }>`
      select a.id,
        row(c.followers_count, c.following_count, c.statuses_count, c.open_statuses_count,
            c.last_status_at, c.last_open_status_at)::text as kept,
        row(
          (select count(*) from follows f where f.followee_id = a.id and f.state = 'accepted')::int,
          (select count(*) from follows f where f.follower_id = a.id and f.state = 'accepted')::int,
          (select count(*) from posts p where p.author_id = a.id and p.deleted_at is null and p.hidden_at is null)::int,
          (select count(*) from posts p where p.author_id = a.id and p.deleted_at is null and p.hidden_at is null
            and p.audience in ('public', 'unlisted'))::int,
          (select max(p.created_at) from posts p where p.author_id = a.id and p.deleted_at is null and p.hidden_at is null),
          (select max(p.created_at) from posts p where p.author_id = a.id and p.deleted_at is null and p.hidden_at is null
            and p.audience in ('public', 'unlisted'))
        )::text as counted
      from actors a left join account_counters c on c.actor_id = a.id`.execute(t.db);
    assert.ok(accounts.rows.length >= 10);
    for (const r of accounts.rows) assert.equal(r.kept, r.counted, `actor ${r.id}`);
    const posts = await sql<{ id: string; kept: string; counted: string }>`
      select p.id,
        row(c.replies_count, c.likes_count, c.boosts_count)::text as kept,
        row(
          (select count(*) from posts r where r.in_reply_to_id = p.id and r.deleted_at is null and r.hidden_at is null)::int,
          (select count(*) from post_interactions i where i.post_id = p.id and i.kind = 'like')::int,
          (select count(*) from post_interactions i where i.post_id = p.id and i.kind = 'boost')::int
        )::text as counted
      from posts p left join post_counters c on c.post_id = p.id`.execute(t.db);
    for (const r of posts.rows) assert.equal(r.kept, r.counted, `post ${r.id}`);
    // What the writes above left: alice's open post has two replies kept
    // (bob's and carol's), one like and one boost.
    const open = await t.db
      .selectFrom("posts")
      .innerJoin("post_counters", "post_counters.post_id", "posts.id")
      .selectAll("post_counters")
      .where("posts.source", "=", "open")
      .executeTakeFirstOrThrow();
    assert.deepEqual([open.replies_count, open.likes_count, open.boosts_count], [2, 1, 1]);
  });

  it("are what the backfill of existing rows computes", async () => {
    const snapshot = async () => ({
      accounts: await t.db.selectFrom("account_counters").selectAll().orderBy("actor_id").execute(),
      posts: await t.db.selectFrom("post_counters").selectAll().orderBy("post_id").execute(),
    });
    const kept = await snapshot();
    await t.db.deleteFrom("post_counters").execute();
    await t.db.deleteFrom("account_counters").execute();
    await backfillCounters(t.db);
    assert.deepEqual(await snapshot(), kept);
  });

  for (const viewer of VIEWERS) {
    it(`show ${viewer} the posts canView lets them see`, async () => {
      const v = world.viewer(viewer);
      const authors = [world.ids.alice_owner, world.ids.bob_member, world.ids.carol_remote];
      const stats = await t.stores.posts.statsByAuthor(authors, visibilityFilter(v));
      for (const author of authors) {
        const rows = await t.db
          .selectFrom("posts")
          .selectAll()
          .where("author_id", "=", author)
          .execute();
        const seen: Post[] = [];
        for (const post of rows.map(toPost))
          if (await canView(v, post, t.stores.facts)) seen.push(post);
        const last = seen.reduce<Date | null>(
          (max, p) => (max === null || p.createdAt > max ? p.createdAt : max),
          null,
        );
        const got = stats.get(author);
        assert.deepEqual(
          { count: got?.count ?? 0, last: got?.lastPostAt.toISOString() ?? null },
          { count: seen.length, last: last?.toISOString() ?? null },
          `${viewer} on ${author}`,
        );
      }
    });
  }
});
