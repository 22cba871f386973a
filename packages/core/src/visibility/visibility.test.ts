/**
 * The visibility rules as tables over the fixture world, every viewer in each:
 *
 * - posts: every audience × post and reply, each cell checked through both
 *   entry points (`canView` via `getVisiblePost`, and the list filter via the
 *   post store), which must agree with the table and so with each other;
 * - profile fields: every part audience, through `canSeePart` and `viewProfile`;
 * - interactions: reply, like and boost under one interaction policy, through
 *   `mayInteract`.
 *
 * The observed matrices are printed at the end, for the record.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  insertFollow,
  insertRemoteActor,
  openTestClique,
  REMOTE_SERVER,
  seedWorld,
  stopEmbeddedTestServer,
  type TestClique,
  type World,
  type WorldViewerName,
} from "@clique/testing";
import {
  AUDIENCES,
  type Audience,
  type AudienceRef,
  type InteractionPolicy,
  type Member,
  PART_AUDIENCES,
  type PartAudience,
  type Post,
  type ProfileField,
} from "../domain/types.ts";
import { addressingFor } from "../federation/wire.ts";
import {
  canSeePart,
  canSeeParts,
  mayInteract,
  type Viewer,
  visibilityFilter,
} from "./visibility.ts";

type ViewerName = WorldViewerName;
type ObjectKind = "post" | "reply";
type InteractionKind = keyof InteractionPolicy;

/**
 * Who sees what alice_owner publishes, by audience. The same for posts and replies.
 *
 * - bob_member is a member, in alice's circle `family` and mentioned in the direct posts;
 * - dave_moderator is a member whose role grants no extra sight;
 * - erin_removed is a removed member. She cannot sign in, so no surface should ever
 *   build a member viewer for her; if one does, she still sees no more than anyone:
 *   membership grants (the `clique` audience) need an *active* membership;
 * - carol_remote follows alice (accepted), alice does not follow her back;
 *   frank_remote only asked to follow (pending);
 * - grace_remote is in alice's circle;
 * - heidi_blocked follows alice (accepted) but alice blocks her: the block leaves
 *   her only what is open to everyone;
 * - ivan_friend and alice follow each other (both accepted): he is her only friend;
 * - remote_server is the instance actor of remote.example, where carol, frank,
 *   grace, heidi and ivan live: it sees what any of them may see (followers
 *   through carol and ivan, friends through ivan, circle through grace), and
 *   nothing addressed to local members only (clique, direct to bob).
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
  heidi_blocked: ["public", "unlisted"],
  ivan_friend: ["public", "unlisted", "followers", "friends"],
  [REMOTE_SERVER]: ["public", "unlisted", "followers", "friends", "circle"],
};
const VIEWERS = Object.keys(SEES) as ViewerName[];
const KINDS: readonly ObjectKind[] = ["post", "reply"];

/**
 * Who sees a field of alice_owner's profile, by the field's audience. A part is
 * judged like a post of alice's to that audience (the last test of the post
 * table checks the two tables agree), except that `public` is everyone,
 * blocked or not, `nobody` is alice alone, and no part has recipients.
 */
const SEES_PART: Record<ViewerName, readonly PartAudience[]> = {
  anonymous: ["public"],
  alice_owner: PART_AUDIENCES,
  bob_member: ["public", "clique", "circle"],
  dave_moderator: ["public", "clique"],
  erin_removed: ["public"],
  carol_remote: ["public", "followers"],
  frank_remote: ["public"],
  grace_remote: ["public", "circle"],
  heidi_blocked: ["public"],
  ivan_friend: ["public", "followers", "friends"],
  [REMOTE_SERVER]: ["public", "followers", "friends", "circle"],
};
/** At most four fields per profile: the part audiences are set in two batches. */
const FIELD_BATCHES: readonly (readonly PartAudience[])[] = [
  ["public", "followers", "friends", "clique"],
  ["circle", "nobody"],
];

/** The policy of the interaction rows, on a public post of alice's. */
const POLICY_AUDIENCES: Record<InteractionKind, PartAudience> = {
  reply: "followers",
  like: "clique",
  boost: "nobody",
};
const INTERACTIONS = Object.keys(POLICY_AUDIENCES) as InteractionKind[];

/**
 * What was observed, cell by cell, for the printed matrices: `${table}|${viewer}|${column}`
 * to every answer the entry points gave.
 */
const observed = new Map<string, boolean[]>();

function observe(table: string, viewer: ViewerName, column: string, ...answers: boolean[]): void {
  const key = `${table}|${viewer}|${column}`;
  observed.set(key, [...(observed.get(key) ?? []), ...answers]);
}

/** A viewer × column table of what was observed: Y all said yes, . all said no, ! they disagreed. */
function matrix(table: string, columns: readonly string[]): string {
  const width = Math.max(...VIEWERS.map((v) => v.length));
  const cell = (viewer: ViewerName, column: string) => {
    const answers = observed.get(`${table}|${viewer}|${column}`) ?? [];
    if (answers.length === 0) return "?";
    if (answers.every((a) => a)) return "Y";
    return answers.some((a) => a) ? "!" : ".";
  };
  const lines = [
    `${table} (Y sees, . does not, ! entry points disagree, ? not run)`,
    `${"".padEnd(width)}  ${columns.join("  ")}`,
    ...VIEWERS.map((viewer) =>
      `${viewer.padEnd(width)}  ${columns.map((c) => cell(viewer, c).padEnd(c.length)).join("  ")}`.trimEnd(),
    ),
  ];
  return lines.join("\n");
}

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
  console.log(
    [
      matrix("posts and replies of alice_owner", AUDIENCES),
      matrix("profile fields of alice_owner", PART_AUDIENCES),
      matrix(
        "interactions with alice_owner's public post",
        INTERACTIONS.map((k) => `${k}=${POLICY_AUDIENCES[k]}`),
      ),
    ].join("\n\n"),
  );
  await t?.drop();
  await stopEmbeddedTestServer();
});

describe("visibility table", () => {
  it("covers every viewer × audience × kind", () => {
    assert.equal(VIEWERS.length, 11);
    assert.equal(TABLE.length, VIEWERS.length * AUDIENCES.length * 2);
    assert.equal(objects.size, AUDIENCES.length * 2);
    assert.equal(objectFor("reply", "clique").inReplyToId, parent.id);
    assert.equal(objectFor("post", "clique").inReplyToId, null);
    assert.equal(objectFor("post", "circle").circleId, world.circles.family);
  });

  it("leaves heidi_blocked her approved follow, so only the block rule hides followers posts", async () => {
    const [heidi, alice] = [world.ids.heidi_blocked, world.ids.alice_owner];
    assert.equal(await t.stores.facts.isApprovedFollower({ actorId: heidi }, alice), true);
    assert.equal(await t.stores.facts.blocks(alice, heidi), true);
    const ivan = world.ids.ivan_friend;
    assert.equal(await t.stores.facts.isFriend({ actorId: ivan }, alice), true);
    assert.equal(await t.stores.facts.isFriend({ actorId: world.ids.carol_remote }, alice), false);
  });

  for (const { viewer, object, expected } of TABLE) {
    it(`${viewer} ${expected ? "sees" : "does not see"} a ${object.audience} ${object.kind}`, async () => {
      const post = objectFor(object.kind, object.audience);
      const { one, list } = await sight(world.viewer(viewer), post);
      observe("posts and replies of alice_owner", viewer, object.audience, one, list);
      assert.deepEqual({ one, list }, { one: expected, list: expected });
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

  it("judges a profile part like a post to the same audience", () => {
    for (const viewer of VIEWERS) {
      for (const audience of ["followers", "friends", "clique", "circle"] as const) {
        assert.equal(
          SEES_PART[viewer].includes(audience),
          SEES[viewer].includes(audience),
          `${viewer} on ${audience}`,
        );
      }
      assert.equal(SEES_PART[viewer].includes("public"), true, `${viewer} on public`);
      assert.equal(SEES_PART[viewer].includes("nobody"), viewer === "alice_owner");
    }
  });
});

function fieldFor(audience: PartAudience): ProfileField {
  return {
    name: `for ${audience}`,
    value: `alice's ${audience} secret`,
    audience,
    circleId: audience === "circle" ? world.circles.family : null,
  };
}

for (const batch of FIELD_BATCHES) {
  describe(`profile fields: ${batch.join(", ")}`, () => {
    /** alice_owner as she is with this batch's fields. */
    let alice: Member;

    before(async () => {
      const updated = await t.clique.updateProfile(world.members.alice_owner, {
        fields: batch.map(fieldFor),
      });
      assert.ok(updated.ok, `updateProfile: ${updated.ok ? "" : updated.reason}`);
      alice = updated.value;
      assert.deepEqual(
        alice.fields.map((f) => [f.name, f.value, f.audience, f.circleId]),
        batch.map((a) => {
          const f = fieldFor(a);
          return [f.name, f.value, f.audience, f.circleId];
        }),
      );
    });

    after(async () => {
      const cleared = await t.clique.updateProfile(world.members.alice_owner, { fields: [] });
      assert.ok(cleared.ok);
    });

    for (const viewer of VIEWERS) {
      it(`${viewer} sees exactly the fields meant for them`, async () => {
        const profile = await t.clique.viewProfile(world.viewer(viewer), alice);
        assert.deepEqual(
          profile.fields.map((f) => f.name),
          batch.filter((a) => SEES_PART[viewer].includes(a)).map((a) => fieldFor(a).name),
        );
      });

      for (const audience of batch) {
        const expected = SEES_PART[viewer].includes(audience);
        it(`${viewer} ${expected ? "sees" : "does not see"} a ${audience} profile field`, async () => {
          const field = fieldFor(audience);
          const part = await canSeePart(
            world.viewer(viewer),
            alice.id,
            { audience, circleId: field.circleId ?? null },
            t.stores.facts,
          );
          const profile = await t.clique.viewProfile(world.viewer(viewer), alice);
          const shown = profile.fields.find((f) => f.name === field.name);
          // What is shown is the field itself, value and all.
          if (shown) assert.equal(shown.value, field.value);
          // The batched entry point (a page of authors, issue 13): the list filter over the part.
          const [batched = false] = await canSeeParts(
            world.viewer(viewer),
            [{ ownerId: alice.id, ref: { audience, circleId: field.circleId ?? null } }],
            t.stores.facts,
          );
          const page = (await t.clique.viewProfiles(world.viewer(viewer), [alice])).get(alice.id);
          const onPage = page?.fields.some((f) => f.name === field.name) ?? false;
          observe(
            "profile fields of alice_owner",
            viewer,
            audience,
            part,
            shown !== undefined,
            batched,
            onPage,
          );
          assert.deepEqual(
            { part, profile: shown !== undefined, batched, onPage },
            { part: expected, profile: expected, batched: expected, onPage: expected },
          );
        });
      }
    }
  });
}

describe("interaction policy", () => {
  /** alice_owner's public post: replies from followers, likes from the Clique, boosts from nobody. */
  let post: Post;

  before(async () => {
    const policy = Object.fromEntries(
      INTERACTIONS.map((k) => [k, { audience: POLICY_AUDIENCES[k] }]),
    ) as unknown as InteractionPolicy;
    const result = await t.clique.createPost(world.members.alice_owner, {
      source: "a public post with a narrow policy",
      audience: "public",
      interactionPolicy: policy,
    });
    assert.ok(result.ok, `createPost: ${result.ok ? "" : result.reason}`);
    post = result.value;
    assert.deepEqual((await t.stores.posts.getById(post.id))?.interactionPolicy, {
      reply: { audience: "followers" },
      like: { audience: "clique" },
      boost: { audience: "nobody" },
    });
  });

  for (const viewer of VIEWERS) {
    for (const kind of INTERACTIONS) {
      // One must see the post to interact with it, and be in the policy's audience.
      const expected =
        SEES[viewer].includes("public") && SEES_PART[viewer].includes(POLICY_AUDIENCES[kind]);
      it(`${viewer} ${expected ? "may" : "may not"} ${kind} (${kind}=${POLICY_AUDIENCES[kind]})`, async () => {
        const may = await mayInteract(world.viewer(viewer), post, kind, t.stores.facts);
        observe(
          "interactions with alice_owner's public post",
          viewer,
          `${kind}=${POLICY_AUDIENCES[kind]}`,
          may,
        );
        assert.equal(may, expected);
      });
    }
  }
});

describe("interaction and blocks", () => {
  it("someone the author blocks may read an open post but not interact, even under an open policy", async () => {
    const result = await t.clique.createPost(world.members.alice_owner, {
      source: "a public post anyone may answer",
      audience: "public",
    });
    assert.ok(result.ok);
    const post = result.value;
    for (const kind of INTERACTIONS) {
      for (const [viewer, expected] of [
        ["heidi_blocked", false],
        ["frank_remote", true],
        [REMOTE_SERVER, true],
      ] as const) {
        const may = await mayInteract(world.viewer(viewer), post, kind, t.stores.facts);
        assert.equal(may, expected, `${viewer} ${kind}`);
      }
    }
    assert.deepEqual(await sight(world.viewer("heidi_blocked"), post), { one: true, list: true });
  });
});

describe("visibility over time", () => {
  it("removing grace_remote from the circle takes away her access at once", async () => {
    const post = await publish("alice_owner", "circle", "family news");
    const alice = world.members.alice_owner;
    // remote.example's server sees it through grace, and only through her.
    await assertSeenBy(post, ["alice_owner", "bob_member", "grace_remote", REMOTE_SERVER]);
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
    await assertSeenBy(post, ["alice_owner", "bob_member", "grace_remote", REMOTE_SERVER]);
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

describe("blocks", () => {
  /** Asserts that `viewer` sees exactly alice's fixture objects of these audiences, through both entry points. */
  async function assertSeesOnly(
    viewer: Viewer,
    label: string,
    audiences: readonly Audience[],
  ): Promise<void> {
    for (const [key, post] of objects) {
      const expected = audiences.includes(post.audience);
      assert.deepEqual(
        await sight(viewer, post),
        { one: expected, list: expected },
        `${label} on ${key}`,
      );
    }
  }

  it("blockAccount ends a friendship: the actor and her server keep only open posts", async () => {
    const alice = world.members.alice_owner;
    const judy = await insertRemoteActor(t.db, "judy_friend", "judy.example");
    await insertFollow(t.stores, judy.id, alice.id, "accepted");
    await insertFollow(t.stores, alice.id, judy.id, "accepted");
    const asJudy: Viewer = { kind: "remote", actorId: judy.id };
    const asHerServer: Viewer = { kind: "server", host: "judy.example" };
    await assertSeesOnly(asJudy, "judy", ["public", "unlisted", "followers", "friends"]);
    await assertSeesOnly(asHerServer, "judy.example", [
      "public",
      "unlisted",
      "followers",
      "friends",
    ]);

    const blocked = await t.clique.blockAccount(alice, judy.id);
    assert.ok(blocked.ok);
    assert.equal(await t.stores.follows.get(judy.id, alice.id), null);
    assert.equal(await t.stores.follows.get(alice.id, judy.id), null);
    await assertSeesOnly(asJudy, "judy", ["public", "unlisted"]);
    await assertSeesOnly(asHerServer, "judy.example", ["public", "unlisted"]);
  });

  it("a server does not see through an actor the author blocks", async () => {
    // A block leaves circles as they are: kim stays in `exes`, and is the only
    // one there on her host.
    const alice = world.members.alice_owner;
    const kim = await insertRemoteActor(t.db, "kim_circle", "kim.example");
    const exes = await t.clique.createCircle(alice, { name: "exes", memberIds: [kim.id] });
    assert.ok(exes.ok);
    const created = await t.clique.createPost(alice, {
      source: "for the exes",
      audience: "circle",
      circleId: exes.value.id,
    });
    assert.ok(created.ok);
    const post = created.value;
    const asKim: Viewer = { kind: "remote", actorId: kim.id };
    const asHerServer: Viewer = { kind: "server", host: "kim.example" };
    assert.deepEqual(await sight(asKim, post), { one: true, list: true });
    assert.deepEqual(await sight(asHerServer, post), { one: true, list: true });

    const blocked = await t.clique.blockAccount(alice, kim.id);
    assert.ok(blocked.ok);
    assert.deepEqual((await t.stores.circles.getById(exes.value.id))?.memberIds, [kim.id]);
    assert.deepEqual(await sight(asKim, post), { one: false, list: false }, "kim");
    assert.deepEqual(await sight(asHerServer, post), { one: false, list: false }, "kim.example");
    // Nor is the post sent to her (outbound addressing follows the same rule).
    const addressing = await addressingFor(t.clique.deps, post, alice);
    assert.ok(addressing);
    assert.deepEqual(addressing.to, []);
    assert.deepEqual(addressing.recipients, []);
    // Nor is her server shown profile parts meant for that circle.
    const ref: AudienceRef = { audience: "circle", circleId: exes.value.id };
    assert.equal(await canSeePart(asKim, alice.id, ref, t.stores.facts), false, "kim");
    assert.equal(
      await canSeePart(asHerServer, alice.id, ref, t.stores.facts),
      false,
      "kim.example",
    );
  });
});
