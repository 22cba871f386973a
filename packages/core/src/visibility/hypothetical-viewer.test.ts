/**
 * The hypothetical viewers of "view as" previews, as tables over the fixture
 * world: each one must see exactly what the real viewer it describes sees,
 * through both entry points (`canView` via `getVisiblePost`, and the list
 * filter via the post store), for posts, replies and profile parts.
 *
 * - a follower of alice_owner: like carol_remote (an approved follower, not a
 *   member, in no circle, not mentioned, not followed back);
 * - a member: like dave_moderator (a member in none of alice's circles, named
 *   on no post, not following her);
 * - a member who follows alice: Clique posts and followers posts;
 * - a follower of someone else: like anonymous, for alice's posts;
 * - nobody: like anonymous.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  openTestClique,
  seedWorld,
  stopEmbeddedTestServer,
  type TestClique,
  type World,
  type WorldViewerName,
} from "@clique/testing";
import {
  AUDIENCES,
  type Audience,
  PART_AUDIENCES,
  type PartAudience,
  type Post,
} from "../domain/types.ts";
import {
  canSeeMemberList,
  canSeePart,
  hypotheticalViewer,
  type Viewer,
  visibilityFilter,
} from "./visibility.ts";

type Name = "follower" | "member" | "member_follower" | "follower_of_other" | "nobody";

/** What each hypothetical viewer sees of alice_owner's posts, and the real viewer it must match. */
const TABLE: Record<
  Name,
  { sees: readonly Audience[]; parts: readonly PartAudience[]; like: WorldViewerName | null }
> = {
  follower: {
    sees: ["public", "unlisted", "followers"],
    parts: ["public", "followers"],
    like: "carol_remote",
  },
  member: {
    sees: ["public", "unlisted", "clique"],
    parts: ["public", "clique"],
    like: "dave_moderator",
  },
  member_follower: {
    sees: ["public", "unlisted", "followers", "clique"],
    parts: ["public", "followers", "clique"],
    like: null,
  },
  follower_of_other: { sees: ["public", "unlisted"], parts: ["public"], like: "anonymous" },
  nobody: { sees: ["public", "unlisted"], parts: ["public"], like: "anonymous" },
};
const NAMES = Object.keys(TABLE) as Name[];

let t: TestClique;
let world: World;
/** alice_owner's posts and replies, by `${kind}/${audience}`. */
const objects = new Map<string, Post>();

function viewerFor(name: Name): Viewer {
  const alice = world.ids.alice_owner;
  switch (name) {
    case "follower":
      return hypotheticalViewer({ follows: [alice] });
    case "member":
      return hypotheticalViewer({ member: true });
    case "member_follower":
      return hypotheticalViewer({ follows: [alice], member: true });
    case "follower_of_other":
      return hypotheticalViewer({ follows: [world.ids.bob_member] });
    case "nobody":
      return hypotheticalViewer({});
  }
}

async function sight(viewer: Viewer, post: Post): Promise<{ one: boolean; list: boolean }> {
  const got = await t.clique.getVisiblePost(viewer, post.id);
  const listed = await t.stores.posts.list(
    { kind: "author", authorId: post.authorId },
    visibilityFilter(viewer),
    { limit: 100 },
  );
  return { one: got?.id === post.id, list: listed.some((p) => p.id === post.id) };
}

before(async () => {
  t = await openTestClique();
  world = await seedWorld(t.clique, t.db);
  const parent = await t.clique.createPost(world.members.bob_member, {
    source: "bob's public post",
    audience: "public",
  });
  assert.ok(parent.ok);
  for (const kind of ["post", "reply"] as const) {
    for (const audience of AUDIENCES) {
      const result = await t.clique.createPost(world.members.alice_owner, {
        source: audience === "direct" ? `@bob_member ${kind} direct` : `${kind} for ${audience}`,
        audience,
        circleId: audience === "circle" ? world.circles.family : null,
        inReplyToId: kind === "reply" ? parent.value.id : null,
      });
      assert.ok(result.ok, `createPost ${kind} ${audience}`);
      objects.set(`${kind}/${audience}`, result.value);
    }
  }
});

after(async () => {
  await t?.drop();
  await stopEmbeddedTestServer();
});

describe("hypothetical viewers", () => {
  for (const name of NAMES) {
    for (const kind of ["post", "reply"] as const) {
      for (const audience of AUDIENCES) {
        const expected = TABLE[name].sees.includes(audience);
        it(`${name} ${expected ? "sees" : "does not see"} a ${audience} ${kind}`, async () => {
          const post = objects.get(`${kind}/${audience}`)!;
          assert.deepEqual(await sight(viewerFor(name), post), { one: expected, list: expected });
          // The real viewer it describes agrees, through both entry points.
          const real = TABLE[name].like;
          if (real !== null)
            assert.deepEqual(
              await sight(world.viewer(real), post),
              { one: expected, list: expected },
              `${real} on ${kind}/${audience}`,
            );
        });
      }
    }

    it(`${name} lists what the real viewer it describes lists, newest first`, async () => {
      const author = { kind: "author" as const, authorId: world.ids.alice_owner };
      const listed = await t.stores.posts.list(author, visibilityFilter(viewerFor(name)), {
        limit: 100,
      });
      const expected = [...objects.values()]
        .filter((p) => TABLE[name].sees.includes(p.audience))
        .map((p) => p.id)
        .sort()
        .reverse();
      assert.deepEqual(
        listed.map((p) => p.id),
        expected,
      );
      const real = TABLE[name].like;
      if (real !== null) {
        const realList = await t.stores.posts.list(author, visibilityFilter(world.viewer(real)), {
          limit: 100,
        });
        assert.deepEqual(
          listed.map((p) => p.id),
          realList.map((p) => p.id),
        );
      }
    });

    for (const audience of PART_AUDIENCES) {
      const expected = TABLE[name].parts.includes(audience);
      it(`${name} ${expected ? "sees" : "does not see"} a profile part for ${audience}`, async () => {
        const ref = {
          audience,
          circleId: audience === "circle" ? world.circles.family : null,
        };
        const seen = await canSeePart(viewerFor(name), world.ids.alice_owner, ref, t.stores.facts);
        assert.equal(seen, expected);
      });
    }
  }

  it("shows the Clique's member list to a hypothetical member only", () => {
    assert.equal(canSeeMemberList(viewerFor("member"), "clique"), true);
    assert.equal(canSeeMemberList(viewerFor("follower"), "clique"), false);
    assert.equal(canSeeMemberList(viewerFor("member"), "staff"), false);
  });
});
