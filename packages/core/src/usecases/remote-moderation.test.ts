/**
 * Remote moderation in core: which hosts a block covers (the TypeScript rule
 * and its SQL twin, held to one table), what a block, a limit, a suspension
 * and a silence do to what is stored, and the cache the hot paths ask.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  insertFollow,
  insertRemoteActor,
  openTestClique,
  seedWorld,
  stopEmbeddedTestServer,
  type TestClique,
  type World,
} from "@clique/testing";
import { sql } from "kysely";
import { domainCovers, normalizeDomain } from "../domain/remote-moderation.ts";
import type { Actor } from "../domain/types.ts";
import { createRemoteStanding, STANDING_TTL_MS } from "../federation/remote-standing.ts";
import { newId } from "../ids.ts";
import type { RemoteModerationSnapshot, RemoteModerationStore } from "../stores/stores.ts";

let t: TestClique;
let world: World;

before(async () => {
  t = await openTestClique();
  world = await seedWorld(t.clique, t.db);
});

after(async () => {
  await t?.drop();
  await stopEmbeddedTestServer();
});

/** [what a moderator typed, the domain stored (`null`: refused)] */
const NORMALIZED: readonly [string, string | null][] = [
  ["Example.COM", "example.com"],
  ["https://example.com/@someone", "example.com"],
  ["example.com.", "example.com"],
  ["*.example.com", "example.com"],
  ["example.com:8443", "example.com:8443"],
  ["example.com:443", "example.com:443"],
  ["münchen.example", "xn--mnchen-3ya.example"],
  ["127.0.0.1:4000", "127.0.0.1:4000"],
  ["[::1]:8080", "[::1]:8080"],
  ["", null],
  ["exa mple.com", null],
  ["someone@example.com", null],
  ["example.com/path", null],
  ["a..example.com", null],
  ["a\u0000b.example", null],
  ["\ud800.example", null],
];

/** [block's domain, host, covered] */
const COVERS: readonly [string, string, boolean][] = [
  ["example.com", "example.com", true],
  ["example.com", "EXAMPLE.com", true],
  ["example.com", "a.example.com", true],
  ["example.com", "b.a.example.com", true],
  ["example.com", "example.com:8443", true],
  ["example.com", "a.example.com:8443", true],
  ["example.com", "badexample.com", false],
  ["example.com", "example.com.evil.org", false],
  ["example.com", "com", false],
  ["example.com:8443", "example.com:8443", true],
  ["example.com:8443", "a.example.com:8443", true],
  ["example.com:8443", "example.com", false],
  ["example.com:8443", "example.com:443", false],
  ["example.com:8443", "example.com:84430", false],
  ["127.0.0.1:4000", "127.0.0.1:4000", true],
  ["127.0.0.1:4000", "127.0.0.1:4001", false],
  ["127.0.0.1", "127.0.0.1:4001", true],
  ["[::1]:8080", "[::1]:8080", true],
  ["[::1]", "[::1]:8080", true],
];

describe("which hosts a domain block covers", () => {
  it("normalizes what a moderator types", () => {
    assert.deepEqual(
      NORMALIZED.map(([input]) => [input, normalizeDomain(input)]),
      NORMALIZED,
    );
  });

  it("the rule in TypeScript and in SQL agree with the table: a domain and its subdomains, on any port unless it names one", async () => {
    const observed: [string, string, boolean, boolean][] = [];
    for (const [domain, host] of COVERS) {
      const { rows } = await sql<{ covered: boolean }>`
        select clique_domain_covers(${domain}, ${host}) as covered`.execute(t.db);
      observed.push([domain, host, domainCovers(domain, host), rows[0]!.covered]);
    }
    assert.deepEqual(
      observed,
      COVERS.map(([d, h, expected]) => [d, h, expected, expected]),
    );
  });
});

/** A remote post of `author`'s with one attachment, and a like of alice's first post by them. */
async function seedContent(
  author: Actor,
  alicePostId: string,
): Promise<{ postId: string; key: string }> {
  const postId = newId();
  const key = `${newId()}.png`;
  await t.stores.posts.createRemote({
    id: postId,
    authorId: author.id,
    uri: `${author.uri}/statuses/${postId}`,
    url: null,
    audience: "public",
    circleId: null,
    inReplyToId: null,
    inReplyToUri: null,
    contentType: "text/plain",
    source: "",
    contentHtml: "<p>spam</p>",
    spoilerText: "",
    sensitive: false,
    language: null,
    createdAt: new Date(),
    mentionIds: [],
    recipientIds: [],
    hashtags: [],
  });
  await t.stores.media.create({
    id: newId(),
    ownerId: author.id,
    postId,
    position: 0,
    kind: "image",
    state: "ready",
    description: "",
    focus: { x: 0, y: 0 },
    width: 10,
    height: 10,
    duration: null,
    blurhash: null,
    display: { key, mediaType: "image/png", width: 10, height: 10, size: 0 },
    small: null,
    remoteUrl: `${author.uri}/files/a.png`,
    remoteMediaType: "image/png",
    error: null,
    createdAt: new Date(),
  });
  await t.stores.interactions.add({
    id: newId(),
    kind: "like",
    actorId: author.id,
    postId: alicePostId,
    uri: `${author.uri}/likes/${postId}`,
    createdAt: new Date(),
  });
  return { postId, key };
}

async function count(query: ReturnType<typeof sql<{ n: string }>>): Promise<number> {
  return Number((await query.execute(t.db)).rows[0]!.n);
}

async function mediaDeletedKeys(): Promise<string[]> {
  const rows = await sql<{ event: { keys: string[] } }>`
    select event from outbox_events where kind = 'media-deleted'`.execute(t.db);
  return rows.rows.flatMap((r) => r.event.keys);
}

async function severityOf(actorId: string): Promise<string | null> {
  const { rows } = await sql<{ s: string | null }>`
    select domain_severity as s from actors where id = ${actorId}`.execute(t.db);
  return rows[0]!.s;
}

describe("what the decisions do to what is stored", () => {
  let alicePost: string;

  before(async () => {
    const posted = await t.clique.createPost(world.members.alice_owner, {
      source: "alice's post the spammers like",
      audience: "public",
      circleId: null,
      inReplyToId: null,
    });
    assert.ok(posted.ok);
    alicePost = posted.value.id;
  });

  it("a block purges a server's posts, media, likes and follows both ways, keeps its accounts, and sends the files to be deleted", async () => {
    const spammer = await insertRemoteActor(t.db, "spammer", "spam.example");
    const sub = await insertRemoteActor(t.db, "subspammer", "eu.spam.example:8443");
    const bystander = await insertRemoteActor(t.db, "bystander", "notspam.example");
    const alice = world.members.alice_owner;
    const bob = world.members.bob_member;
    await insertFollow(t.stores, spammer.id, alice.id, "accepted");
    await insertFollow(t.stores, alice.id, spammer.id, "accepted");
    await insertFollow(t.stores, sub.id, bob.id, "pending");
    await insertFollow(t.stores, bystander.id, alice.id, "accepted");
    const spam = await seedContent(spammer, alicePost);
    const subSpam = await seedContent(sub, alicePost);
    const kept = await seedContent(bystander, alicePost);
    const ids = [spammer.id, sub.id];

    const blocked = await t.clique.remoteModeration.blockDomain({
      domain: "SPAM.example",
      severity: "block",
      reason: "spam wave",
      by: alice.id,
    });
    assert.ok(blocked.ok, JSON.stringify(blocked));
    assert.equal(blocked.value.block.domain, "spam.example");
    assert.equal(blocked.value.previous, null);
    assert.deepEqual(blocked.value.purged, {
      accounts: 2,
      files: 2,
      posts: 2,
      follows: 3,
      interactions: 2,
    });

    assert.equal(
      await count(sql`select count(*) as n from posts where author_id in (${sql.join(ids)})`),
      0,
    );
    assert.equal(
      await count(sql`select count(*) as n from media where owner_id in (${sql.join(ids)})`),
      0,
    );
    assert.equal(
      await count(
        sql`select count(*) as n from post_interactions where actor_id in (${sql.join(ids)})`,
      ),
      0,
    );
    assert.equal(
      await count(
        sql`select count(*) as n from follows where follower_id in (${sql.join(ids)}) or followee_id in (${sql.join(ids)})`,
      ),
      0,
    );
    // The accounts stay, marked by their server's standing; the bystander keeps everything.
    assert.equal(
      await count(sql`select count(*) as n from actors where id in (${sql.join(ids)})`),
      2,
    );
    assert.deepEqual([await severityOf(spammer.id), await severityOf(sub.id)], ["block", "block"]);
    assert.equal(await severityOf(bystander.id), null);
    assert.ok(await t.stores.posts.getById(kept.postId));
    assert.ok(await t.stores.follows.get(bystander.id, alice.id));
    // The media worker is told to delete both files (and only those).
    const keys = await mediaDeletedKeys();
    assert.ok(keys.includes(spam.key) && keys.includes(subSpam.key), keys.join());
    assert.ok(!keys.includes(kept.key));

    // An account of the server stored later is blocked from the start; lifting the block frees them all.
    const late = await insertRemoteActor(t.db, "late", "new.spam.example");
    assert.equal(await severityOf(late.id), "block");
    const lifted = await t.clique.remoteModeration.unblockDomain("spam.example");
    assert.equal(lifted?.reason, "spam wave");
    assert.deepEqual(
      [await severityOf(spammer.id), await severityOf(sub.id), await severityOf(late.id)],
      [null, null, null],
    );
    // What was purged stays gone.
    assert.equal(await t.stores.posts.getById(spam.postId), null);
  });

  it("a limit purges nothing and can be made a block, which purges then", async () => {
    const loud = await insertRemoteActor(t.db, "loud", "loud.example");
    const content = await seedContent(loud, alicePost);
    await insertFollow(t.stores, world.members.bob_member.id, loud.id, "accepted");
    const limited = await t.clique.remoteModeration.blockDomain({
      domain: "loud.example",
      severity: "limit",
      reason: "too loud",
      by: null,
    });
    assert.ok(limited.ok);
    assert.equal(limited.value.purged.posts, 0);
    assert.equal(await severityOf(loud.id), "limit");
    assert.ok(await t.stores.posts.getById(content.postId));
    assert.ok(await t.stores.follows.get(world.members.bob_member.id, loud.id));

    const blocked = await t.clique.remoteModeration.blockDomain({
      domain: "loud.example",
      severity: "block",
      reason: "worse",
      by: null,
    });
    assert.ok(blocked.ok);
    assert.equal(blocked.value.previous?.severity, "limit");
    assert.equal(blocked.value.block.id, limited.value.block.id, "the same decision, changed");
    assert.equal(blocked.value.purged.posts, 1);
    assert.equal(await severityOf(loud.id), "block");
    assert.equal(await t.stores.posts.getById(content.postId), null);
    await t.clique.remoteModeration.unblockDomain("loud.example");
  });

  it("refuses what is not a host, and this Clique's own host", async () => {
    const rm = t.clique.remoteModeration;
    const bad = await rm.blockDomain({
      domain: "not a host",
      severity: "block",
      reason: "",
      by: null,
    });
    assert.deepEqual(bad, { ok: false, reason: "invalid_domain" });
    const own = await rm.blockDomain({
      domain: "clique.test",
      severity: "block",
      reason: "",
      by: null,
    });
    assert.equal(own.ok ? "" : own.reason, "own_domain");
    const parent = await rm.blockDomain({
      domain: "test",
      severity: "limit",
      reason: "",
      by: null,
    });
    assert.equal(parent.ok ? "" : parent.reason, "own_domain", "a parent domain covers us too");
    assert.deepEqual(await rm.listDomainBlocks(), []);
  });

  it("a suspension purges one account and ends its follows; a silence purges nothing; both lift", async () => {
    const rm = t.clique.remoteModeration;
    const troll = await insertRemoteActor(t.db, "troll", "big.example");
    const neighbour = await insertRemoteActor(t.db, "neighbour", "big.example");
    const content = await seedContent(troll, alicePost);
    const theirs = await seedContent(neighbour, alicePost);
    await insertFollow(t.stores, troll.id, world.members.alice_owner.id, "accepted");

    const silenced = await rm.sanctionAccount(troll.id, "silence", "noisy", null);
    assert.ok(silenced.ok);
    assert.equal(silenced.value.purged, null);
    assert.ok(await t.stores.posts.getById(content.postId));

    const suspended = await rm.sanctionAccount(
      troll.id,
      "suspend",
      "abusive",
      world.members.dave_moderator.id,
    );
    assert.ok(suspended.ok);
    assert.equal(suspended.value.added, true);
    assert.equal(suspended.value.purged?.posts, 1);
    assert.equal(suspended.value.purged?.follows, 1);
    assert.equal(await t.stores.posts.getById(content.postId), null);
    assert.ok(await t.stores.posts.getById(theirs.postId), "only the one account");
    const again = await rm.sanctionAccount(troll.id, "suspend", "abusive", null);
    assert.ok(again.ok && !again.value.added);
    assert.deepEqual((await rm.sanctionsOf(troll.id)).map((s) => [s.kind, s.reason]).sort(), [
      ["silence", "noisy"],
      ["suspend", "abusive"],
    ]);

    const members = await rm.sanctionAccount(world.members.bob_member.id, "suspend", "", null);
    assert.deepEqual(members, { ok: false, reason: "not_remote" });
    assert.deepEqual(await rm.sanctionAccount(newId(), "silence", "", null), {
      ok: false,
      reason: "not_found",
    });

    for (const kind of ["suspend", "silence"] as const) {
      const lifted = await rm.liftSanction(troll.id, kind);
      assert.ok(lifted.ok && lifted.value.lifted);
    }
    assert.deepEqual(await rm.sanctionsOf(troll.id), []);
    const twice = await rm.liftSanction(troll.id, "suspend");
    assert.ok(twice.ok && !twice.value.lifted);
  });

  it("rejecting an account's pending follows removes them and sends a Reject for each", async () => {
    const eager = await insertRemoteActor(t.db, "eager", "eager.example");
    await insertFollow(t.stores, eager.id, world.members.alice_owner.id, "pending");
    await insertFollow(t.stores, eager.id, world.members.bob_member.id, "pending");
    await insertFollow(t.stores, eager.id, world.members.dave_moderator.id, "accepted");
    const result = await t.clique.remoteModeration.rejectPendingFollows(eager.id);
    assert.ok(result.ok);
    assert.equal(result.value.rejected, 2);
    assert.deepEqual((await t.stores.follows.listFollowing(eager.id, "pending")).length, 0);
    assert.ok(
      await t.stores.follows.get(eager.id, world.members.dave_moderator.id),
      "approved follows stay",
    );
    const { rows } = await sql<{ event: { follow: { followerId: string; followeeId: string } } }>`
      select event from outbox_events where kind = 'follow-rejected'`.execute(t.db);
    const rejected = rows
      .map((r) => r.event.follow)
      .filter((f) => f.followerId === eager.id)
      .map((f) => f.followeeId)
      .sort();
    assert.deepEqual(rejected, [world.members.alice_owner.id, world.members.bob_member.id].sort());
  });
});

describe("the standing cache of the hot paths", () => {
  /** A store whose snapshot is whatever the test says, counting reads. */
  function fakeStore(snapshot: () => RemoteModerationSnapshot) {
    let reads = 0;
    const store = {
      snapshot: async () => {
        reads++;
        return snapshot();
      },
    } as unknown as RemoteModerationStore;
    return { store, reads: () => reads };
  }

  it("reads the decisions once, forgets them on invalidate, and at the latest after its TTL", async () => {
    let decisions: RemoteModerationSnapshot = { domains: [], sanctions: [] };
    let now = 1_000_000;
    const { store, reads } = fakeStore(() => decisions);
    const standing = createRemoteStanding(
      () => store,
      () => now,
    );
    assert.equal(await standing.ofHost("spam.example"), "ok");
    assert.equal(await standing.ofHost("a.spam.example"), "ok");
    assert.equal(reads(), 1, "one read for many questions");

    decisions = {
      domains: [
        { domain: "spam.example", severity: "block" },
        { domain: "loud.example", severity: "limit" },
        { domain: "quiet.example", severity: "noop" },
      ],
      sanctions: [
        { actorId: "a1", uri: "https://ok.example/users/troll", kind: "suspend" },
        { actorId: "a2", uri: "https://ok.example/users/noisy", kind: "silence" },
      ],
    };
    assert.equal(await standing.ofHost("a.spam.example"), "ok", "not yet heard of");
    standing.invalidate();
    assert.equal(await standing.ofHost("a.spam.example:8443"), "blocked");
    assert.equal(await standing.ofHost("loud.example"), "limited");
    assert.equal(await standing.ofHost("quiet.example"), "ok", "a noop does nothing");
    assert.equal(await standing.ofHost(null), "ok");
    assert.equal(await standing.ofActor({ uri: "https://ok.example/users/troll" }), "blocked");
    assert.equal(await standing.ofActor({ id: "a2" }), "limited");
    assert.equal(
      await standing.ofActor({ id: "a2", host: "spam.example" }),
      "blocked",
      "the worse of the two",
    );
    assert.equal(await standing.ofActor({ uri: "https://loud.example/users/x" }), "limited");
    assert.equal(reads(), 2);

    decisions = { domains: [], sanctions: [] };
    now += STANDING_TTL_MS - 1;
    assert.equal(await standing.ofHost("spam.example"), "blocked", "still within the TTL");
    now += 2;
    assert.equal(await standing.ofHost("spam.example"), "ok", "read again after the TTL");
    assert.equal(reads(), 3);
  });

  it("hears of a decision taken through another Clique on the same database once invalidated", async () => {
    const other = (await import("../clique.ts")).createClique({
      stores: t.stores,
      config: t.clique.config,
    });
    const standing = t.clique.remoteModeration.standing;
    assert.equal(await standing.ofHost("elsewhere.example"), "ok");
    const blocked = await other.remoteModeration.blockDomain({
      domain: "elsewhere.example",
      severity: "block",
      reason: "",
      by: null,
    });
    assert.ok(blocked.ok);
    // This Clique's own cache still holds the old answer until told (the server's listener tells it).
    assert.equal(await standing.ofHost("elsewhere.example"), "ok");
    standing.invalidate();
    assert.equal(await standing.ofHost("elsewhere.example"), "blocked");
    await other.remoteModeration.unblockDomain("elsewhere.example");
  });
});
