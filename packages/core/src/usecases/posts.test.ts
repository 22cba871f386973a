/**
 * Posts through their use cases: creating, editing (with history), deleting,
 * replying, circles, the home feed, mentions and the stored rendering.
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
import type { Audience, Member, Post } from "../domain/types.ts";
import { newId } from "../ids.ts";
import type { CreatePostInput } from "./create-post.ts";

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

/** Creates a post that must succeed. */
async function publish(author: Member, input: CreatePostInput): Promise<Post> {
  const result = await t.clique.createPost(author, input);
  assert.ok(result.ok, result.ok ? "" : `createPost: ${result.reason}`);
  return result.value;
}

async function problem(author: Member, input: CreatePostInput): Promise<string> {
  const result = await t.clique.createPost(author, input);
  return result.ok ? `ok (${result.value.audience})` : result.reason;
}

/** A post by one of the world's remote actors, as federation would store it. */
function remotePost(
  author: "carol_remote" | "frank_remote",
  source: string,
  audience: Audience,
  recipientIds: string[] = [],
): Promise<Post> {
  const id = newId();
  return t.stores.posts.create({
    id,
    authorId: world.ids[author],
    uri: `https://remote.example/notes/${id}`,
    url: null,
    audience,
    circleId: null,
    inReplyToId: null,
    inReplyToUri: null,
    contentType: "text/plain",
    source: "",
    contentHtml: `<p>${source}</p>`,
    spoilerText: "",
    sensitive: false,
    language: null,
    createdAt: new Date(),
    mentionIds: recipientIds,
    recipientIds,
    hashtags: [],
  });
}

async function recipientsOf(postId: string): Promise<string[]> {
  const rows = await t.db
    .selectFrom("post_recipients")
    .select("actor_id")
    .where("post_id", "=", postId)
    .execute();
  return rows.map((r) => r.actor_id).sort();
}

describe("createPost", () => {
  it("stores the source verbatim and plain text as escaped HTML", async () => {
    const source = "Hello <b>world</b> & #Friends\n\n**not bold**\nline two";
    const post = await publish(alice, { source });
    assert.equal(post.contentType, "text/plain");
    // A new Clique's members post to the Clique unless they choose otherwise.
    assert.equal(alice.defaultAudience, "clique");
    assert.equal(post.audience, "clique");
    const stored = await t.stores.posts.getById(post.id);
    assert.equal(stored?.source, source);
    assert.equal(
      stored?.contentHtml,
      "<p>Hello &lt;b&gt;world&lt;/b&gt; &amp; " +
        '<a href="https://clique.test/tags/friends" class="mention hashtag" rel="tag nofollow noopener noreferrer" target="_blank">#<span>Friends</span></a></p>' +
        "<p>**not bold**<br />line two</p>",
    );
    assert.deepEqual((await t.stores.posts.hashtagsOf([post.id])).get(post.id), ["friends"]);
  });

  it("renders Markdown and stores it sanitized", async () => {
    const source =
      "Some **bold** and `code`\n\n<script>alert(1)</script> [click](javascript:alert(1)) " +
      '<img src=x onerror="alert(1)">';
    const post = await publish(alice, { source, contentType: "text/markdown" });
    const html = (await t.stores.posts.getById(post.id))?.contentHtml ?? "";
    assert.equal(post.contentType, "text/markdown");
    assert.match(html, /<p>Some <strong>bold<\/strong> and <code>code<\/code><\/p>/);
    // Raw HTML is shown as text, the javascript: link loses its target.
    assert.doesNotMatch(html, /<script|<img|<a\s|\shref=|javascript:/i);
    assert.match(html, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
    assert.match(html, /<span>click<\/span>/);
  });

  it("refuses empty and over-long posts", async () => {
    assert.equal(await problem(alice, { source: "  \n " }), "empty_post");
    assert.equal(await problem(alice, { source: "x".repeat(5001) }), "post_too_long");
    assert.equal(
      await problem(alice, { source: "ok", spoilerText: "y".repeat(501) }),
      "spoiler_too_long",
    );
  });

  it("a content warning makes the post sensitive", async () => {
    const post = await publish(alice, { source: "spoilers", spoilerText: "  film ending " });
    assert.equal(post.spoilerText, "film ending");
    assert.equal(post.sensitive, true);
  });
});

describe("circles as audience", () => {
  it("needs a circle, and one of your own", async () => {
    assert.equal(await problem(bob, { source: "x", audience: "circle" }), "circle_required");
    const aliceCircle = world.circles.family;
    assert.equal(
      await problem(bob, { source: "x", audience: "circle", circleId: aliceCircle }),
      "circle_not_found",
    );
    assert.equal(
      await problem(bob, { source: "x", audience: "circle", circleId: newId() }),
      "circle_not_found",
    );
    assert.equal(
      await problem(bob, { source: "x", audience: "circle", circleId: "not-a-uuid" }),
      "circle_not_found",
    );
    const own = await t.clique.createCircle(bob, { name: "bob's", memberIds: [dave.id] });
    assert.ok(own.ok);
    const post = await publish(bob, {
      source: "to my circle",
      audience: "circle",
      circleId: own.value.id,
    });
    assert.equal(post.circleId, own.value.id);
    assert.ok(await t.clique.getVisiblePost(world.viewer("dave_moderator"), post.id));
    assert.equal(await t.clique.getVisiblePost(world.viewer("alice_owner"), post.id), null);
  });

  it("drops a circle given with another audience", async () => {
    const post = await publish(alice, {
      source: "x",
      audience: "clique",
      circleId: world.circles.family,
    });
    assert.equal(post.audience, "clique");
    assert.equal(post.circleId, null);
  });
});

describe("replies", () => {
  it("cannot answer a post you cannot see, a missing one or a deleted one", async () => {
    const followersOnly = await publish(alice, { source: "followers only", audience: "followers" });
    assert.equal(
      await problem(bob, { source: "re", inReplyToId: followersOnly.id }),
      "reply_target_not_found",
    );
    assert.equal(
      await problem(bob, { source: "re", inReplyToId: newId() }),
      "reply_target_not_found",
    );
    assert.equal(await problem(bob, { source: "re", inReplyToId: "12" }), "reply_target_not_found");
    const gone = await publish(alice, { source: "soon gone" });
    assert.ok((await t.clique.deletePost(alice, gone.id)).ok);
    assert.equal(
      await problem(bob, { source: "re", inReplyToId: gone.id }),
      "reply_target_not_found",
    );
  });

  it("to a clique post stays in the clique unless the author chooses otherwise", async () => {
    const parent = await publish(alice, { source: "clique only", audience: "clique" });
    const reply = await publish(bob, { source: "agreed", inReplyToId: parent.id });
    assert.equal(reply.audience, "clique");
    assert.equal(reply.inReplyToId, parent.id);
    assert.equal(await t.clique.getVisiblePost(world.viewer("anonymous"), reply.id), null);
    // Reaching further than the parent needs the author's confirmation.
    const unconfirmed = { source: "out loud", inReplyToId: parent.id, audience: "public" } as const;
    assert.equal(await problem(bob, unconfirmed), "audience_wider_than_parent");
    const loud = await publish(bob, { ...unconfirmed, widerReply: "allow" });
    assert.equal(loud.audience, "public");
  });

  it("to a circle post stays in that circle, which the replier may use", async () => {
    const parent = await publish(alice, {
      source: "family only",
      audience: "circle",
      circleId: world.circles.family,
    });
    const reply = await publish(bob, { source: "hi family", inReplyToId: parent.id });
    assert.equal(reply.audience, "circle");
    assert.equal(reply.circleId, world.circles.family);
    assert.ok(await t.clique.getVisiblePost(world.viewer("grace_remote"), reply.id));
    assert.equal(await t.clique.getVisiblePost(world.viewer("dave_moderator"), reply.id), null);
    // dave is not in the circle: for him the parent does not exist.
    assert.equal(
      await problem(dave, { source: "me too", inReplyToId: parent.id }),
      "reply_target_not_found",
    );
  });
});

describe("replies from Mastodon clients and the audience owner", () => {
  it("a Mastodon client's followers-only reply to someone else's followers-only post takes that audience", async () => {
    // bob follows alice, so he sees her followers-only post.
    await t.clique.followAccount(bob, alice.id);
    await t.clique.authorizeFollowRequest(alice, bob.id);
    const parent = await publish(alice, { source: "for my followers", audience: "followers" });
    // Mastodon's `visibility: private` means the replier's own followers: wider than alice's.
    const refused = await t.clique.createPost(bob, {
      source: "re",
      audience: "followers",
      inReplyToId: parent.id,
    });
    assert.equal(refused.ok ? "ok" : refused.reason, "audience_wider_than_parent");
    assert.equal(
      refused.ok ? "" : refused.detail,
      "Your reply (your followers) would reach people who cannot see the post it answers (@alice_owner's followers). Choose the same audience, or confirm.",
    );
    const reply = await publish(bob, {
      source: "re from a phone app",
      audience: "followers",
      inReplyToId: parent.id,
      widerReply: "narrow",
    });
    assert.equal(reply.audience, "followers");
    assert.equal(reply.audienceOwnerId, alice.id, "it borrowed alice's followers");
    // Exactly those who may see alice's post see the reply: alice, her followers, bob.
    for (const [name, sees] of [
      ["alice_owner", true],
      ["bob_member", true],
      ["carol_remote", true],
      ["ivan_friend", true],
      ["dave_moderator", false],
      ["frank_remote", false],
      ["heidi_blocked", false],
      ["anonymous", false],
    ] as const) {
      const seen = await t.clique.getVisiblePost(world.viewer(name), reply.id);
      assert.equal(seen !== null, sees, `${name} on the borrowed reply`);
    }
    await t.clique.unfollowAccount(bob, alice.id);
  });

  it("narrows a Mastodon client's public reply to a circle post to that circle", async () => {
    const parent = await publish(alice, {
      source: "family news",
      audience: "circle",
      circleId: world.circles.family,
    });
    const reply = await publish(bob, {
      source: "congrats",
      audience: "public",
      inReplyToId: parent.id,
      widerReply: "narrow",
    });
    assert.deepEqual([reply.audience, reply.circleId], ["circle", world.circles.family]);
    assert.equal(await t.clique.getVisiblePost(world.viewer("anonymous"), reply.id), null);
  });

  it("the owner of a circle sees the replies in it, though she is not in her own circle", async () => {
    const parent = await publish(alice, {
      source: "family dinner?",
      audience: "circle",
      circleId: world.circles.family,
    });
    const reply = await publish(bob, { source: "yes!", inReplyToId: parent.id });
    assert.equal(reply.audience, "circle");
    assert.ok(await t.clique.getVisiblePost(world.viewer("alice_owner"), reply.id));
    assert.ok(await t.clique.getVisiblePost(world.viewer("grace_remote"), reply.id));
    assert.equal(await t.clique.getVisiblePost(world.viewer("dave_moderator"), reply.id), null);
    // And in lists, through the same rule compiled to SQL.
    const context = await t.clique.getContext(world.viewer("alice_owner"), parent.id);
    assert.deepEqual(
      context?.descendants.map((p) => p.id),
      [reply.id],
    );
  });

  it("a reply that borrows a direct conversation reaches its people and its author", async () => {
    const parent = await publish(alice, { source: "@bob_member a secret", audience: "direct" });
    const reply = await publish(bob, {
      source: "noted",
      audience: "followers",
      inReplyToId: parent.id,
      widerReply: "narrow",
    });
    assert.equal(reply.audience, "direct");
    assert.deepEqual(await recipientsOf(reply.id), [alice.id].sort());
    assert.ok(await t.clique.getVisiblePost(world.viewer("alice_owner"), reply.id));
    assert.equal(await t.clique.getVisiblePost(world.viewer("carol_remote"), reply.id), null);
  });
});

describe("default audience", () => {
  it("is the member's choice, the Clique until they make one", async () => {
    assert.equal(dave.defaultAudience, "clique");
    assert.equal((await publish(dave, { source: "hello club" })).audience, "clique");
    const changed = await t.clique.updateProfile(dave, { defaultAudience: "followers" });
    assert.ok(changed.ok);
    assert.equal(changed.value.defaultAudience, "followers");
    assert.equal((await publish(changed.value, { source: "to followers" })).audience, "followers");
    // A chosen audience still wins, and a reply still follows its parent.
    assert.equal(
      (await publish(changed.value, { source: "open", audience: "public" })).audience,
      "public",
    );
    assert.ok((await t.clique.updateProfile(dave, { defaultAudience: "clique" })).ok);
  });
});

describe("editPost", () => {
  it("keeps every version, oldest first, ending with the current one", async () => {
    const post = await publish(alice, {
      source: "version one",
      contentType: "text/markdown",
      audience: "public",
    });
    const v2 = await t.clique.editPost(alice, post.id, { source: "version **two**" });
    assert.ok(v2.ok);
    assert.equal(v2.value.contentHtml, "<p>version <strong>two</strong></p>", "stays Markdown");
    const v3 = await t.clique.editPost(alice, post.id, {
      source: "version three",
      spoilerText: "cw",
    });
    assert.ok(v3.ok);
    assert.ok(v3.value.editedAt);
    assert.equal(v3.value.sensitive, true);
    const history = await t.clique.getPostHistory(world.viewer("anonymous"), post.id);
    assert.deepEqual(
      history?.map((h) => [h.source, h.spoilerText]),
      [
        ["version one", ""],
        ["version **two**", ""],
        ["version three", "cw"],
      ],
    );
    const times = history?.map((h) => h.createdAt.getTime()) ?? [];
    assert.deepEqual(
      [...times].sort((a, b) => a - b),
      times,
    );
    assert.equal(history?.at(-1)?.createdAt.getTime(), v3.value.editedAt?.getTime());
  });

  it("is for the author only, and only of posts they can see", async () => {
    const post = await publish(alice, { source: "mine" });
    const byBob = await t.clique.editPost(bob, post.id, { source: "hijacked" });
    assert.equal(byBob.ok ? "ok" : byBob.reason, "not_author");
    const hidden = await publish(alice, { source: "hidden", audience: "followers" });
    const blind = await t.clique.editPost(bob, hidden.id, { source: "hijacked" });
    assert.equal(blind.ok ? "ok" : blind.reason, "not_found");
    assert.equal((await t.stores.posts.getById(post.id))?.source, "mine");
  });

  it("does not take a direct post away from someone it was addressed to", async () => {
    const post = await publish(alice, {
      source: "@bob_member @dave_moderator psst",
      audience: "direct",
    });
    assert.deepEqual(await recipientsOf(post.id), [bob.id, dave.id].sort());
    const edited = await t.clique.editPost(alice, post.id, {
      source: "@bob_member psst (typo fixed)",
    });
    assert.ok(edited.ok);
    // dave saw it; an edit must not silently take it away from him.
    assert.deepEqual(await recipientsOf(post.id), [bob.id, dave.id].sort());
    assert.deepEqual((await t.stores.posts.mentionsOf([post.id])).get(post.id), [bob.id]);
    assert.ok(await t.clique.getVisiblePost(world.viewer("dave_moderator"), post.id));
    assert.ok(await t.clique.getVisiblePost(world.viewer("bob_member"), post.id));
  });
});

describe("deletePost", () => {
  it("lets the author delete; the post is then gone, content included", async () => {
    const post = await publish(alice, { source: "regrettable #oops", spoilerText: "cw" });
    const deleted = await t.clique.deletePost(alice, post.id);
    assert.ok(deleted.ok);
    assert.equal(deleted.value.source, "regrettable #oops", "returned as it was, for redraft");
    assert.equal(await t.clique.getVisiblePost(world.viewer("alice_owner"), post.id), null);
    assert.equal(await t.clique.getPostHistory(world.viewer("alice_owner"), post.id), null);
    const tomb = await t.stores.posts.getById(post.id);
    assert.deepEqual([tomb?.source, tomb?.contentHtml, tomb?.spoilerText], ["", "", ""]);
    const again = await t.clique.deletePost(alice, post.id);
    assert.equal(again.ok ? "ok" : again.reason, "not_found");
  });

  it("lets moderators delete members' posts, not plain members", async () => {
    const bobs = await publish(bob, { source: "rule-breaking" });
    const alices = await publish(alice, { source: "fine" });
    const byBob = await t.clique.deletePost(bob, alices.id);
    assert.equal(byBob.ok ? "ok" : byBob.reason, "not_allowed");
    assert.ok((await t.clique.deletePost(dave, bobs.id)).ok);
    assert.equal(await t.clique.getVisiblePost(world.viewer("bob_member"), bobs.id), null);
    // What a moderator cannot see, they cannot delete either.
    const hidden = await publish(alice, { source: "followers only", audience: "followers" });
    const blind = await t.clique.deletePost(dave, hidden.id);
    assert.equal(blind.ok ? "ok" : blind.reason, "not_found");
  });
});

describe("mentions", () => {
  it("resolve only to local, active members", async () => {
    const post = await publish(alice, {
      source:
        "@bob_member @erin_removed @nobody_at_all @carol_remote @DAVE_MODERATOR@clique.test @alice_owner hi",
      audience: "direct",
    });
    const mentioned = (await t.stores.posts.mentionsOf([post.id])).get(post.id) ?? [];
    assert.deepEqual([...mentioned].sort(), [alice.id, bob.id, dave.id].sort());
    // Everyone mentioned but the author is addressed.
    assert.deepEqual(await recipientsOf(post.id), [bob.id, dave.id].sort());
    const html = post.contentHtml;
    assert.match(html, /<a href="https:\/\/clique\.test\/@bob_member" class="u-url mention"/);
    assert.match(html, /<a href="https:\/\/clique\.test\/@dave_moderator" class="u-url mention"/);
    // Unresolved mentions stay text: a removed member, no one, and a bare name
    // that only a remote actor has (a bare mention means a local member).
    for (const name of ["erin_removed", "nobody_at_all", "carol_remote"]) {
      assert.ok(html.includes(` @${name} `), `@${name} stays text`);
      assert.doesNotMatch(html, new RegExp(`/@${name}"`));
    }
    assert.equal(await t.clique.getVisiblePost(world.viewer("carol_remote"), post.id), null);
  });
});

describe("listHomeFeed", () => {
  it("holds members' posts, followed accounts and what is addressed to you, newest first", async () => {
    const start = newId();
    await t.stores.follows.create({
      id: newId(),
      followerId: bob.id,
      followeeId: world.ids.carol_remote,
      state: "accepted",
      uri: null,
      createdAt: new Date(),
    });
    const made: Record<string, Post> = {};
    const add = async (name: string, post: Promise<Post>) => {
      made[name] = await post;
    };
    await add("alice public", publish(alice, { source: "alice public" }));
    await add(
      "alice followers",
      publish(alice, { source: "alice followers", audience: "followers" }),
    );
    await add("alice clique", publish(alice, { source: "alice clique", audience: "clique" }));
    await add("dave unlisted", publish(dave, { source: "dave unlisted", audience: "unlisted" }));
    await add(
      "alice to dave",
      publish(alice, { source: "@dave_moderator hi", audience: "direct" }),
    );
    await add("carol public", remotePost("carol_remote", "carol public", "public"));
    await add("carol followers", remotePost("carol_remote", "carol followers", "followers"));
    await add("frank public", remotePost("frank_remote", "frank public", "public"));
    await add("frank to bob", remotePost("frank_remote", "frank to bob", "direct", [bob.id]));
    await add("bob public", publish(bob, { source: "bob public" }));
    const expected = [
      "bob public",
      "frank to bob",
      "carol followers",
      "carol public",
      "dave unlisted",
      "alice clique",
      "alice public",
    ];
    const nameOf = new Map(Object.entries(made).map(([name, p]) => [p.id, name]));
    const names = (posts: Post[]) => posts.map((p) => nameOf.get(p.id) ?? `stranger ${p.id}`);

    assert.deepEqual(
      names(await t.clique.listHomeFeed(bob, { sinceId: start, limit: 40 })),
      expected,
    );

    // Paging back with max_id walks the same feed in pages.
    const pages: string[][] = [];
    let maxId: string | undefined;
    for (;;) {
      const page = await t.clique.listHomeFeed(bob, { sinceId: start, maxId, limit: 3 });
      if (page.length === 0) break;
      pages.push(names(page));
      maxId = page.at(-1)?.id;
    }
    assert.deepEqual(pages, [expected.slice(0, 3), expected.slice(3, 6), expected.slice(6)]);
    // min_id pages forward from a cursor: the posts right after it, newest first.
    const forward = await t.clique.listHomeFeed(bob, { minId: made["alice public"]?.id, limit: 2 });
    assert.deepEqual(names(forward), ["dave unlisted", "alice clique"]);
  });
});
