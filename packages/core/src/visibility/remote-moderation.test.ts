/**
 * Remote moderation's visibility rules as a table over the fixture world:
 * viewer × the standing of a post's author (its server blocked or limited,
 * itself suspended or silenced, or nothing decided) → sees it or not, each
 * cell through both entry points (`canView` via `getVisiblePost`, and the
 * list filter via the post store), which must agree with the table.
 *
 * Beside the world's own (alice_owner and her fellow members, remote.example's
 * carol_remote and its instance actor), the world gains authors elsewhere:
 *
 * - olga on ok.example, where nothing was decided;
 * - lena on limited.example (limited): alice follows her; a direct post of
 *   hers names bob;
 * - boris on sub.blocked.example (blocked.example is blocked: subdomains too);
 *   his post arrives after the block (whatever arrives late stays hidden);
 * - sam on remote.example, silenced: alice follows him; a direct post names bob;
 * - sue on remote.example, suspended (her post, too, arrives after).
 *
 * Then everything is lifted and every viewer sees what the audiences alone say.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  insertFollow,
  insertRemoteActor,
  openTestClique,
  REMOTE_HOST,
  seedWorld,
  stopEmbeddedTestServer,
  type TestClique,
  type World,
} from "@clique/testing";
import type { Actor, Audience, Post } from "../domain/types.ts";
import { newId } from "../ids.ts";
import { type Viewer, visibilityFilter } from "./visibility.ts";

type PostName =
  | "alice_public"
  | "olga_public"
  | "lena_public"
  | "lena_direct_bob"
  | "boris_public"
  | "sam_public"
  | "sam_direct_bob"
  | "sue_public";

type ViewerName =
  | "anonymous"
  | "alice_owner"
  | "bob_member"
  | "dave_moderator"
  | "carol_remote"
  | "remote_server"
  | "boris_blocked"
  | "sue_suspended"
  | "blocked_server"
  | "blocked_subdomain_server";

const POSTS: readonly PostName[] = [
  "alice_public",
  "olga_public",
  "lena_public",
  "lena_direct_bob",
  "boris_public",
  "sam_public",
  "sam_direct_bob",
  "sue_public",
];

/** Who sees what while the decisions stand. */
const SEES: Record<ViewerName, readonly PostName[]> = {
  // Nothing limited reaches anyone who is not a member.
  anonymous: ["alice_public", "olga_public"],
  // alice follows lena and sam: their public posts reach her; what names bob does not.
  alice_owner: ["alice_public", "olga_public", "lena_public", "sam_public"],
  // bob follows neither; what they addressed to him still reaches him.
  bob_member: ["alice_public", "olga_public", "lena_direct_bob", "sam_direct_bob"],
  dave_moderator: ["alice_public", "olga_public"],
  carol_remote: ["alice_public", "olga_public"],
  remote_server: ["alice_public", "olga_public"],
  // Shut out: not even alice's public post.
  boris_blocked: [],
  sue_suspended: [],
  blocked_server: [],
  blocked_subdomain_server: [],
};

/** Who sees what once every decision is lifted: the audiences alone. */
const SEES_AFTER: Record<ViewerName, readonly PostName[]> = {
  anonymous: [
    "alice_public",
    "olga_public",
    "lena_public",
    "boris_public",
    "sam_public",
    "sue_public",
  ],
  alice_owner: [
    "alice_public",
    "olga_public",
    "lena_public",
    "boris_public",
    "sam_public",
    "sue_public",
  ],
  bob_member: POSTS,
  dave_moderator: [
    "alice_public",
    "olga_public",
    "lena_public",
    "boris_public",
    "sam_public",
    "sue_public",
  ],
  carol_remote: [
    "alice_public",
    "olga_public",
    "lena_public",
    "boris_public",
    "sam_public",
    "sue_public",
  ],
  remote_server: [
    "alice_public",
    "olga_public",
    "lena_public",
    "boris_public",
    "sam_public",
    "sue_public",
  ],
  boris_blocked: [
    "alice_public",
    "olga_public",
    "lena_public",
    "boris_public",
    "sam_public",
    "sue_public",
  ],
  sue_suspended: [
    "alice_public",
    "olga_public",
    "lena_public",
    "boris_public",
    "sam_public",
    "sue_public",
  ],
  blocked_server: [
    "alice_public",
    "olga_public",
    "lena_public",
    "boris_public",
    "sam_public",
    "sue_public",
  ],
  blocked_subdomain_server: [
    "alice_public",
    "olga_public",
    "lena_public",
    "boris_public",
    "sam_public",
    "sue_public",
  ],
};

const VIEWERS = Object.keys(SEES) as ViewerName[];

let t: TestClique;
let world: World;
const authors = {} as Record<"olga" | "lena" | "boris" | "sam" | "sue", Actor>;
const posts = {} as Record<PostName, Post>;

function viewer(name: ViewerName): Viewer {
  switch (name) {
    case "boris_blocked":
      return { kind: "remote", actorId: authors.boris.id };
    case "sue_suspended":
      return { kind: "remote", actorId: authors.sue.id };
    case "blocked_server":
      return { kind: "server", host: "blocked.example" };
    case "blocked_subdomain_server":
      return { kind: "server", host: "sub.blocked.example" };
    default:
      return world.viewer(name);
  }
}

/** A post as it arrives from elsewhere (stored as the inbox stores it). */
async function remotePost(
  author: Actor,
  audience: Audience,
  text: string,
  recipientIds: readonly string[] = [],
): Promise<Post> {
  const id = newId();
  const created = await t.stores.posts.createRemote({
    id,
    authorId: author.id,
    uri: `${author.uri}/statuses/${id}`,
    url: null,
    audience,
    circleId: null,
    inReplyToId: null,
    inReplyToUri: null,
    contentType: "text/plain",
    source: "",
    contentHtml: `<p>${text}</p>`,
    spoilerText: "",
    sensitive: false,
    language: null,
    createdAt: new Date(),
    mentionIds: [...recipientIds],
    recipientIds,
    hashtags: [],
  });
  assert.ok(created);
  const post = await t.stores.posts.getById(id);
  assert.ok(post);
  return post;
}

/** Whether the viewer sees the post through each entry point. */
async function sight(v: Viewer, post: Post): Promise<{ one: boolean; list: boolean }> {
  const one = await t.clique.getVisiblePost(v, post.id);
  if (one) assert.equal(one.contentHtml, post.contentHtml);
  const listed = await t.stores.posts.list({ kind: "ids", ids: [post.id] }, visibilityFilter(v), {
    limit: 10,
  });
  return { one: one !== null, list: listed.some((p) => p.id === post.id) };
}

async function assertTable(table: Record<ViewerName, readonly PostName[]>): Promise<string[]> {
  const wrong: string[] = [];
  for (const name of VIEWERS) {
    for (const postName of POSTS) {
      const expected = table[name].includes(postName);
      const { one, list } = await sight(viewer(name), posts[postName]);
      if (one !== expected || list !== expected)
        wrong.push(`${name} × ${postName}: expected ${expected}, canView ${one}, list ${list}`);
    }
  }
  return wrong;
}

before(async () => {
  t = await openTestClique();
  world = await seedWorld(t.clique, t.db);
  authors.olga = await insertRemoteActor(t.db, "olga", "ok.example");
  authors.lena = await insertRemoteActor(t.db, "lena", "limited.example");
  authors.sam = await insertRemoteActor(t.db, "sam", REMOTE_HOST);
  authors.sue = await insertRemoteActor(t.db, "sue", REMOTE_HOST);
  const alice = world.members.alice_owner;
  const bob = world.members.bob_member;
  await insertFollow(t.stores, alice.id, authors.lena.id, "accepted");
  await insertFollow(t.stores, alice.id, authors.sam.id, "accepted");

  const rm = t.clique.remoteModeration;
  const decided = [
    await rm.blockDomain({
      domain: "limited.example",
      severity: "limit",
      reason: "t",
      by: alice.id,
    }),
    await rm.blockDomain({
      domain: "Blocked.Example",
      severity: "block",
      reason: "t",
      by: alice.id,
    }),
    await rm.sanctionAccount(authors.sam.id, "silence", "t", alice.id),
    await rm.sanctionAccount(authors.sue.id, "suspend", "t", alice.id),
  ];
  for (const d of decided) assert.ok(d.ok, JSON.stringify(d));
  // After the block: an account of its subdomain, and its post, arrive late.
  authors.boris = await insertRemoteActor(t.db, "boris", "sub.blocked.example");

  const published = await t.clique.createPost(alice, {
    source: "alice's public post",
    audience: "public",
    circleId: null,
    inReplyToId: null,
  });
  assert.ok(published.ok);
  posts.alice_public = published.value;
  posts.olga_public = await remotePost(authors.olga, "public", "olga");
  posts.lena_public = await remotePost(authors.lena, "public", "lena");
  posts.lena_direct_bob = await remotePost(authors.lena, "direct", "lena to bob", [bob.id]);
  posts.boris_public = await remotePost(authors.boris, "public", "boris");
  posts.sam_public = await remotePost(authors.sam, "public", "sam");
  posts.sam_direct_bob = await remotePost(authors.sam, "direct", "sam to bob", [bob.id]);
  posts.sue_public = await remotePost(authors.sue, "public", "sue");
});

after(async () => {
  await t?.drop();
  await stopEmbeddedTestServer();
});

describe("remote moderation in the visibility rules", () => {
  it("covers every viewer × every author's standing", () => {
    assert.equal(VIEWERS.length * POSTS.length, 80);
  });

  it("while the decisions stand: blocked and suspended shut out both ways, limited and silenced reach followers and recipients", async () => {
    assert.deepEqual(await assertTable(SEES), []);
  });

  it("a block covers subdomains; a limit changes nothing for a server's own view of alice's public post", async () => {
    // The table says it; these are the cells the rules are about, spelled out.
    assert.equal((await sight(viewer("blocked_subdomain_server"), posts.alice_public)).one, false);
    assert.equal((await sight(viewer("boris_blocked"), posts.alice_public)).one, false);
    assert.equal(
      (await sight({ kind: "server", host: "limited.example" }, posts.alice_public)).one,
      true,
    );
  });

  it("once every decision is lifted, the audiences alone decide", async () => {
    const rm = t.clique.remoteModeration;
    assert.equal((await rm.unblockDomain("limited.example"))?.severity, "limit");
    assert.equal((await rm.unblockDomain("blocked.example"))?.severity, "block");
    for (const [who, kind] of [
      [authors.sam, "silence"],
      [authors.sue, "suspend"],
    ] as const) {
      const lifted = await rm.liftSanction(who.id, kind);
      assert.ok(lifted.ok && lifted.value.lifted);
    }
    assert.deepEqual(await assertTable(SEES_AFTER), []);
  });
});
