/**
 * The Kysely stores against real PostgreSQL. The whole suite runs on
 * `createTestDatabase()` (the `DATABASE_URL` server, or embedded when unset) and,
 * when `DATABASE_URL` is set, once more on the embedded server, so CI covers both.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  insertRemoteActor,
  openTestClique,
  stopEmbeddedTestServer,
  type TestClique,
  testBackends,
} from "@clique/testing";
import type { Member, Post } from "../../domain/types.ts";
import { newId } from "../../ids.ts";
import type { NewPost, Stores } from "../../stores/stores.ts";
import { visibilityFilter } from "../../visibility/visibility.ts";

const BACKENDS = testBackends();

after(() => stopEmbeddedTestServer());

const T0 = new Date("2025-01-01T00:00:00Z");
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);

/** PostgreSQL's unique_violation, whatever wraps it. */
function isUniqueViolation(error: unknown): boolean {
  return (error as { code?: string }).code === "23505";
}

for (const backend of BACKENDS) {
  describe(`Kysely stores on ${backend.name}`, () => {
    let t: TestClique;
    let s: Stores;

    before(async () => {
      t = await openTestClique({ embedded: backend.embedded });
      s = t.stores;
    });
    after(() => t?.drop());

    it(`runs on the ${backend.embedded ? "embedded" : "DATABASE_URL"} server`, () => {
      assert.equal(t.backend, backend.embedded ? "embedded" : "DATABASE_URL");
    });

    async function member(username: string, role: Member["role"] = "member"): Promise<Member> {
      return s.members.create({
        id: newId(),
        username,
        displayName: `${username} display`,
        passwordHash: `hash-of-${username}`,
        role,
        inviteId: null,
        createdAt: T0,
      });
    }

    function post(authorId: string, source: string, extra: Partial<NewPost> = {}): NewPost {
      return {
        id: newId(),
        authorId,
        uri: null,
        url: null,
        audience: "public",
        circleId: null,
        inReplyToId: null,
        inReplyToUri: null,
        contentType: "text/plain",
        source,
        contentHtml: `<p>${source}</p>`,
        spoilerText: "",
        sensitive: false,
        language: null,
        createdAt: T0,
        mentionIds: [],
        recipientIds: [],
        hashtags: [],
        ...extra,
      };
    }

    describe("members", () => {
      it("creates a member with its actor, found by id and by username in any case", async () => {
        const m = await member("Mixed_Case");
        assert.equal(m.username, "Mixed_Case");
        assert.equal(m.displayName, "Mixed_Case display");
        assert.equal(m.role, "member");
        assert.equal(m.status, "active");
        assert.deepEqual(m.fields, []);
        assert.equal((await s.members.getById(m.id))?.username, "Mixed_Case");
        assert.equal((await s.members.getByUsername("mixed_case"))?.id, m.id);
        assert.equal((await s.members.getByUsername("MIXED_CASE"))?.id, m.id);
        const actor = await s.actors.getById(m.id);
        assert.equal(actor?.kind, "local");
        assert.equal(actor?.host, null);
        assert.equal(await s.members.getPasswordHash(m.id), "hash-of-Mixed_Case");
      });

      it("refuses a username that differs only in case, and writes nothing for it", async () => {
        await member("unique_name");
        await assert.rejects(member("UNIQUE_Name"), isUniqueViolation);
        const all = await s.members.list();
        assert.equal(all.filter((m) => m.username.toLowerCase() === "unique_name").length, 1);
      });

      it("lets a remote actor share a local member's username", async () => {
        const local = await member("shared_name");
        const remote = await insertRemoteActor(t.db, "shared_name");
        assert.notEqual(remote.id, local.id);
        // Only local members are found by username.
        assert.equal((await s.members.getByUsername("shared_name"))?.id, local.id);
        assert.equal((await s.actors.getByUri(remote.uri ?? ""))?.id, remote.id);
      });

      it("counts active and suspended members as seated, not removed ones", async () => {
        const before = await s.members.countSeated();
        const a = await member("seat_a");
        const b = await member("seat_b");
        const c = await member("seat_c");
        assert.equal(await s.members.countSeated(), before + 3);
        await s.members.setStatus(a.id, "suspended", at(1));
        await s.members.setStatus(b.id, "removed", at(2));
        assert.equal(await s.members.countSeated(), before + 2);
        assert.equal((await s.members.getById(b.id))?.status, "removed");
        const removed = await s.members.list({ status: "removed" });
        assert.deepEqual(
          removed.map((m) => m.username),
          ["seat_b"],
        );
        await s.members.setRole(c.id, "moderator");
        assert.equal((await s.members.getById(c.id))?.role, "moderator");
      });

      it("updates profile fields and the password hash", async () => {
        const m = await member("profiled");
        await s.members.updateProfile(m.id, {
          displayName: "New Name",
          bio: "hello",
          bioHtml: "<p>hello</p>",
          fields: [{ name: "site", value: "https://example.com" }],
          discoverable: true,
        });
        await s.members.setPasswordHash(m.id, "new-hash");
        const got = await s.members.getById(m.id);
        assert.equal(got?.displayName, "New Name");
        assert.equal(got?.bio, "hello");
        assert.equal(got?.bioHtml, "<p>hello</p>");
        assert.deepEqual(got?.fields, [{ name: "site", value: "https://example.com" }]);
        assert.equal(got?.discoverable, true);
        assert.equal(await s.members.getPasswordHash(m.id), "new-hash");
      });
    });

    describe("transactions", () => {
      it("rolls back every write when the function throws", async () => {
        const id = newId();
        await assert.rejects(
          s.transaction(async (tx) => {
            await tx.members.create({
              id,
              username: "rolled_back",
              displayName: "",
              passwordHash: "x",
              role: "member",
              inviteId: null,
              createdAt: T0,
            });
            throw new Error("boom");
          }),
          /boom/,
        );
        assert.equal(await s.members.getById(id), null);
        assert.equal(await s.actors.getById(id), null);
      });
    });

    describe("invites", () => {
      it("finds by code hash, counts uses up to max_uses, revokes, lists newest first", async () => {
        const owner = await member("inviter", "owner");
        const first = newId();
        const second = newId();
        for (const [id, hash] of [
          [first, "hash-1"],
          [second, "hash-2"],
        ] as const) {
          await s.invites.create({
            id,
            codeHash: hash,
            codeHint: "abcd",
            createdBy: owner.id,
            maxUses: 2,
            uses: 0,
            expiresAt: at(3600),
            revokedAt: null,
            createdAt: T0,
          });
        }
        const found = await s.transaction((tx) => tx.invites.getByCodeHashForUpdate("hash-1"));
        assert.equal(found?.id, first);
        assert.equal(found?.maxUses, 2);
        assert.deepEqual(found?.expiresAt, at(3600));
        assert.equal(await s.invites.getByCodeHashForUpdate("no-such-hash"), null);

        await s.invites.incrementUses(first);
        await s.invites.incrementUses(first);
        assert.equal((await s.invites.getById(first))?.uses, 2);
        // The schema itself refuses a use beyond max_uses.
        await assert.rejects(s.invites.incrementUses(first));
        assert.equal((await s.invites.getById(first))?.uses, 2);

        await s.invites.revoke(second, at(10));
        assert.deepEqual((await s.invites.getById(second))?.revokedAt, at(10));
        const listed = (await s.invites.list()).filter((i) => i.createdBy === owner.id);
        assert.deepEqual(
          listed.map((i) => i.id),
          [second, first],
        );
      });
    });

    describe("tokens and sign-in failures", () => {
      it("finds live tokens with their member; revoked ones are gone", async () => {
        const m = await member("token_holder");
        const other = await member("other_holder");
        const ids = [newId(), newId(), newId()];
        for (const [i, id] of ids.entries()) {
          await s.tokens.create({
            id,
            memberId: i < 2 ? m.id : other.id,
            kind: i === 0 ? "session" : "api",
            name: `token ${i}`,
            tokenHash: `token-hash-${i}`,
            createdAt: T0,
            lastUsedAt: null,
          });
        }
        const found = await s.tokens.findActive("token-hash-0");
        assert.equal(found?.token.id, ids[0]);
        assert.equal(found?.token.kind, "session");
        assert.equal(found?.member.username, "token_holder");
        await s.tokens.touch(ids[0]!, at(5));
        assert.deepEqual((await s.tokens.findActive("token-hash-0"))?.token.lastUsedAt, at(5));

        await s.tokens.revoke(ids[0]!, at(6));
        assert.equal(await s.tokens.findActive("token-hash-0"), null);
        assert.deepEqual(
          (await s.tokens.listFor(m.id)).map((x) => x.id),
          [ids[1]],
        );

        assert.equal(await s.tokens.revokeAllFor(m.id, at(7)), 1);
        assert.equal(await s.tokens.revokeAllFor(m.id, at(8)), 0);
        assert.equal(await s.tokens.findActive("token-hash-1"), null);
        // Another member's token is untouched.
        assert.equal((await s.tokens.findActive("token-hash-2"))?.member.id, other.id);
      });

      it("counts failed sign-ins per username and address inside the window, clears and expires them", async () => {
        const A = "192.0.2.1";
        const B = "192.0.2.2";
        await s.loginAttempts.recordFailure("someone", A, at(0));
        await s.loginAttempts.recordFailure("someone", A, at(100));
        await s.loginAttempts.recordFailure("someone", B, at(100));
        await s.loginAttempts.recordFailure("someone_else", A, at(100));
        assert.deepEqual(await s.loginAttempts.countFailuresSince("someone", A, at(0)), {
          pair: 2,
          address: 3,
          username: 3,
        });
        assert.deepEqual(await s.loginAttempts.countFailuresSince("someone", A, at(50)), {
          pair: 1,
          address: 2,
          username: 2,
        });
        assert.deepEqual(await s.loginAttempts.countFailuresSince("nobody", B, at(0)), {
          pair: 0,
          address: 1,
          username: 0,
        });
        // A success forgets that username's failures from that address only.
        await s.loginAttempts.clear("someone", A);
        assert.deepEqual(await s.loginAttempts.countFailuresSince("someone", A, at(0)), {
          pair: 0,
          address: 1,
          username: 1,
        });
        // Expiry is by age and bounded per call.
        await s.loginAttempts.recordFailure("old_1", B, at(-300));
        await s.loginAttempts.recordFailure("old_2", B, at(-200));
        assert.equal(await s.loginAttempts.deleteOlderThan(at(0), 1), 1);
        assert.equal(await s.loginAttempts.deleteOlderThan(at(0), 10), 1);
        assert.equal(await s.loginAttempts.deleteOlderThan(at(0), 10), 0);
        assert.deepEqual(await s.loginAttempts.countFailuresSince("old_2", B, at(-1000)), {
          pair: 0,
          address: 1,
          username: 0,
        });
      });
    });

    describe("follows", () => {
      it("keeps one follow per pair; only accepted ones count", async () => {
        const followee = await member("followee");
        const fan = await insertRemoteActor(t.db, "fan");
        const lurker = await insertRemoteActor(t.db, "lurker");
        const fanFollow = newId();
        await s.follows.create({
          id: fanFollow,
          followerId: fan.id,
          followeeId: followee.id,
          state: "pending",
          uri: "https://remote.example/follows/1",
          createdAt: T0,
        });
        await s.follows.create({
          id: newId(),
          followerId: lurker.id,
          followeeId: followee.id,
          state: "pending",
          uri: null,
          createdAt: T0,
        });
        // A second follow of the pair writes nothing (a repeated Follow may arrive twice at once).
        assert.equal(
          await s.follows.create({
            id: newId(),
            followerId: fan.id,
            followeeId: followee.id,
            state: "accepted",
            uri: null,
            createdAt: T0,
          }),
          false,
        );
        assert.equal(await s.follows.countFollowers(followee.id), 0);
        await s.follows.accept(fanFollow);
        const got = await s.follows.get(fan.id, followee.id);
        assert.equal(got?.state, "accepted");
        assert.equal(got?.uri, "https://remote.example/follows/1");
        assert.equal(await s.follows.countFollowers(followee.id), 1);
        assert.equal(await s.follows.countFollowing(fan.id), 1);
        assert.deepEqual(
          (await s.follows.listFollowers(followee.id, "accepted")).map((f) => f.followerId),
          [fan.id],
        );
        assert.deepEqual(
          (await s.follows.listFollowers(followee.id, "pending")).map((f) => f.followerId),
          [lurker.id],
        );
        await s.follows.delete(fanFollow);
        assert.equal(await s.follows.get(fan.id, followee.id), null);
        assert.equal(await s.follows.countFollowers(followee.id), 0);
      });
    });

    describe("circles", () => {
      it("creates, renames, replaces members and deletes; posts outlive their circle", async () => {
        const owner = await member("circle_owner");
        const a = await member("circle_a");
        const b = await insertRemoteActor(t.db, "circle_b");
        const id = newId();
        await s.circles.create({
          id,
          ownerId: owner.id,
          name: "friends",
          memberIds: [b.id, a.id, a.id],
          createdAt: T0,
        });
        const got = await s.circles.getById(id);
        assert.equal(got?.name, "friends");
        assert.deepEqual(got?.memberIds, [a.id, b.id].sort());
        await s.circles.rename(id, "close friends");
        await s.circles.setMembers(id, [b.id]);
        const listed = await s.circles.listByOwner(owner.id);
        assert.deepEqual(
          listed.map((c) => [c.name, c.memberIds]),
          [["close friends", [b.id]]],
        );

        const p = await s.posts.create(
          post(owner.id, "for the circle", { audience: "circle", circleId: id }),
        );
        await s.circles.delete(id);
        assert.equal(await s.circles.getById(id), null);
        assert.deepEqual(await s.circles.listByOwner(owner.id), []);
        const after = await s.posts.getById(p.id);
        assert.equal(after?.circleId, null);
        assert.equal(after?.audience, "circle");
      });
    });

    describe("posts", () => {
      let author: Member;
      /** Ten public posts, oldest first. */
      let ids: string[];

      before(async () => {
        author = await member("pager");
        ids = [];
        for (let i = 0; i < 10; i++)
          ids.push((await s.posts.create(post(author.id, `post ${i}`))).id);
      });

      const page = (p: { maxId?: string; sinceId?: string; minId?: string; limit: number }) =>
        s.posts
          .list({ kind: "author", authorId: author.id }, visibilityFilter({ kind: "anonymous" }), p)
          .then((posts) => posts.map((x) => x.source));

      it("hands out time-sortable ids", () => {
        assert.deepEqual([...ids].sort(), ids);
      });

      it("lists newest first, limited", async () => {
        assert.deepEqual(await page({ limit: 3 }), ["post 9", "post 8", "post 7"]);
      });

      it("pages back with max_id", async () => {
        assert.deepEqual(await page({ maxId: ids[7], limit: 3 }), ["post 6", "post 5", "post 4"]);
        assert.deepEqual(await page({ maxId: ids[0], limit: 3 }), []);
      });

      it("since_id gives the newest posts above it; min_id the ones right after it", async () => {
        assert.deepEqual(await page({ sinceId: ids[2], limit: 3 }), ["post 9", "post 8", "post 7"]);
        // min_id pages forward from the cursor, still returned newest first.
        assert.deepEqual(await page({ minId: ids[2], limit: 3 }), ["post 5", "post 4", "post 3"]);
        assert.deepEqual(await page({ minId: ids[9], limit: 3 }), []);
      });

      it("combines max_id and since_id into a range", async () => {
        assert.deepEqual(await page({ maxId: ids[6], sinceId: ids[3], limit: 10 }), [
          "post 5",
          "post 4",
        ]);
      });

      it("keeps edits, oldest first, and replaces mentions, recipients and tags", async () => {
        const mentioned = await member("mentioned");
        const p = await s.posts.create(
          post(author.id, "v1 #one", {
            hashtags: ["one"],
            mentionIds: [mentioned.id],
            recipientIds: [mentioned.id],
          }),
        );
        // Stored out of order: the store must order by time, not by insertion.
        await s.posts.addEdit({
          id: newId(),
          postId: p.id,
          source: "v2",
          contentHtml: "<p>v2</p>",
          spoilerText: "",
          sensitive: false,
          createdAt: at(60),
        });
        await s.posts.addEdit({
          id: newId(),
          postId: p.id,
          source: "v1 #one",
          contentHtml: "<p>v1 #one</p>",
          spoilerText: "",
          sensitive: false,
          createdAt: at(0),
        });
        await s.posts.update(p.id, {
          source: "v3 #three",
          contentHtml: "<p>v3 #three</p>",
          spoilerText: "cw",
          sensitive: true,
          language: "en",
          editedAt: at(120),
          mentionIds: [],
          recipientIds: [],
          hashtags: ["three"],
        });
        assert.deepEqual(
          (await s.posts.listEdits(p.id)).map((e) => e.source),
          ["v1 #one", "v2"],
        );
        const got = await s.posts.getById(p.id);
        assert.equal(got?.source, "v3 #three");
        assert.equal(got?.spoilerText, "cw");
        assert.equal(got?.sensitive, true);
        assert.equal(got?.language, "en");
        assert.deepEqual(got?.editedAt, at(120));
        assert.deepEqual((await s.posts.hashtagsOf([p.id])).get(p.id), ["three"]);
        assert.equal((await s.posts.mentionsOf([p.id])).get(p.id), undefined);
        const recipients = await t.db
          .selectFrom("post_recipients")
          .select("actor_id")
          .where("post_id", "=", p.id)
          .execute();
        assert.deepEqual(recipients, []);
      });

      it("markDeleted keeps a tombstone and drops the content, edits and tags", async () => {
        const p = await s.posts.create(
          post(author.id, "secret #tag", { spoilerText: "cw", hashtags: ["tag"] }),
        );
        await s.posts.addEdit({
          id: newId(),
          postId: p.id,
          source: "older secret",
          contentHtml: "<p>older secret</p>",
          spoilerText: "",
          sensitive: false,
          createdAt: T0,
        });
        const own = visibilityFilter({ kind: "member", actorId: author.id, role: author.role });
        const countOf = async () =>
          (await s.posts.statsByAuthor([author.id], own)).get(author.id)?.count ?? 0;
        const countBefore = await countOf();
        await s.posts.markDeleted(p.id, at(30));
        const tomb = await s.posts.getById(p.id);
        assert.deepEqual(tomb?.deletedAt, at(30));
        assert.equal(tomb?.source, "");
        assert.equal(tomb?.contentHtml, "");
        assert.equal(tomb?.spoilerText, "");
        assert.deepEqual(await s.posts.listEdits(p.id), []);
        assert.equal((await s.posts.hashtagsOf([p.id])).get(p.id), undefined);
        assert.equal(await countOf(), countBefore - 1);
        assert.ok(!(await page({ limit: 100 })).includes("secret #tag"));
      });

      it("walks threads up and down, and scopes lists to replies, ids and non-replies", async () => {
        const root = await s.posts.create(post(author.id, "root"));
        const child = await s.posts.create(post(author.id, "child", { inReplyToId: root.id }));
        const grandchild = await s.posts.create(
          post(author.id, "grandchild", { inReplyToId: child.id }),
        );
        assert.deepEqual(await s.posts.ancestorIds(grandchild.id, 10), [child.id, root.id]);
        assert.deepEqual(await s.posts.ancestorIds(grandchild.id, 1), [child.id]);
        assert.deepEqual(await s.posts.descendantIds(root.id, 10), [child.id, grandchild.id]);
        const anyone = visibilityFilter({ kind: "anonymous" });
        const sources = (posts: Post[]) => posts.map((x) => x.source);
        assert.deepEqual(
          sources(
            await s.posts.list({ kind: "replies-to", postId: root.id }, anyone, { limit: 10 }),
          ),
          ["child"],
        );
        assert.deepEqual(
          sources(
            await s.posts.list({ kind: "ids", ids: [root.id, grandchild.id] }, anyone, {
              limit: 10,
            }),
          ),
          ["grandchild", "root"],
        );
        const withoutReplies = sources(
          await s.posts.list(
            { kind: "author", authorId: author.id, excludeReplies: true },
            anyone,
            {
              limit: 100,
            },
          ),
        );
        assert.ok(withoutReplies.includes("root"));
        assert.ok(!withoutReplies.includes("child"));
      });
    });
  });
}
