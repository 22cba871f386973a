/**
 * Moderating members and their content through core's use cases, on the
 * fixture world and a real database: removing and hiding posts, suspending
 * (with an end date), removing, giving roles (ownership handed over, the last
 * owner kept, even when two owners step down at once), leaving, and what
 * each records (events, the member's notification).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  insertFollow,
  openTestClique,
  seedWorld,
  stopEmbeddedTestServer,
  type TestClique,
  type World,
} from "@clique/testing";
import type { Member, Post } from "../domain/types.ts";
import { newId } from "../ids.ts";
import { ANONYMOUS, type Viewer } from "../visibility/visibility.ts";

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

const outcome = (r: { ok: boolean; reason?: string }) => (r.ok ? "ok" : r.reason);

async function publish(author: Member, source: string, audience: Post["audience"] = "public") {
  const result = await t.clique.createPost(author, { source, audience });
  assert.ok(result.ok, result.ok ? "" : result.reason);
  return result.value;
}

/** A new member of the world (tests that change standing or roles keep to their own). */
async function join(username: string): Promise<Member> {
  const joined = await t.clique.redeemInvite({
    code: world.invite.code,
    username,
    password: `password-of-${username}`,
  });
  assert.ok(joined.ok, joined.ok ? "" : joined.reason);
  return joined.value;
}

function viewer(m: Member): Viewer {
  return { kind: "member", actorId: m.id, role: m.role };
}

/** Kinds of the events recorded about an id (a post's or a member's), oldest first. */
async function eventsAbout(id: string): Promise<string[]> {
  const rows = await t.db
    .selectFrom("outbox_events")
    .select(["kind", "event"])
    .orderBy("created_at")
    .orderBy("id")
    .execute();
  return rows.filter((r) => JSON.stringify(r.event).includes(id)).map((r) => r.kind);
}

async function warningsOf(m: Member) {
  const page = await t.clique.listNotifications(m, { limit: 40 });
  return page.items.map((n) => ({ type: n.type, ...n.data }));
}

describe("removePost", () => {
  it("deletes the post everywhere, records the Delete, and tells its author why", async () => {
    const post = await publish(bob, "something against the rules");
    const removed = await t.clique.removePost(dave, post.id, "Spam, again");
    assert.equal(outcome(removed), "ok");
    const stored = await t.stores.posts.getById(post.id);
    assert.ok(stored?.deletedAt, "a tombstone");
    assert.equal(stored?.contentHtml, "", "its content is gone");
    for (const v of [viewer(alice), viewer(bob), ANONYMOUS])
      assert.equal(await t.clique.getVisiblePost(v, post.id), null);
    assert.deepEqual(await eventsAbout(post.id), ["post-created", "post-deleted"]);
    assert.deepEqual(await warningsOf(bob), [
      {
        type: "moderation_warning",
        action: "delete_statuses",
        text: "Spam, again",
        statusIds: [post.id],
      },
    ]);
    // Gone is gone: a second removal finds nothing.
    assert.equal(outcome(await t.clique.removePost(dave, post.id, "again")), "not_found");
  });

  it("asks the table: rank over the author, never one's own, members never", async () => {
    const byAlice = await publish(alice, "the owner's post");
    const byDave = await publish(dave, "the moderator's post");
    const byBob = await publish(bob, "a member's post");
    assert.equal(outcome(await t.clique.removePost(dave, byAlice.id, "no")), "outranked");
    assert.equal(outcome(await t.clique.removePost(dave, byDave.id, "no")), "self");
    assert.equal(outcome(await t.clique.removePost(bob, byDave.id, "no")), "not_allowed");
    // The server (the CLI) reaches everyone's.
    assert.equal(outcome(await t.clique.removePost(null, byAlice.id, "console")), "ok");
    assert.ok(await t.clique.getVisiblePost(viewer(bob), byBob.id), "the others are untouched");
    assert.ok(await t.clique.getVisiblePost(viewer(dave), byDave.id));
  });

  it("removes only this Clique's posts; a remote one is hidden instead", async () => {
    const remote = await remotePost("a remote post");
    assert.equal(outcome(await t.clique.removePost(dave, remote.id, "no")), "not_local");
    assert.equal(outcome(await t.clique.removePost(dave, newId(), "no")), "not_found");
    assert.equal(outcome(await t.clique.removePost(dave, "not-an-id", "no")), "not_found");
  });
});

/** A public post of carol_remote, as federation would store it. */
async function remotePost(text: string): Promise<Post> {
  const id = newId();
  return t.stores.posts.create({
    id,
    authorId: world.ids.carol_remote,
    uri: `https://remote.example/notes/${id}`,
    url: null,
    audience: "public",
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
    mentionIds: [],
    recipientIds: [],
    hashtags: [],
  });
}

describe("hidePost", () => {
  it("hides a remote post from every viewer and every list, and shows it again", async () => {
    const post = await remotePost("hide me");
    const seenBy = async (v: Viewer) => (await t.clique.getVisiblePost(v, post.id)) !== null;
    const inHome = async (m: Member) =>
      (await t.clique.listHomeFeed(m, { limit: 40 })).some((p) => p.id === post.id);
    // alice follows nobody on remote.example but carol follows her: the post reaches her home
    // only by following; make her follow carol for the list check.
    await insertFollow(t.stores, alice.id, world.ids.carol_remote, "accepted");
    assert.deepEqual(
      [await seenBy(viewer(alice)), await seenBy(ANONYMOUS), await inHome(alice)],
      [true, true, true],
    );
    assert.equal(outcome(await t.clique.hidePost(dave, post.id)), "ok");
    assert.ok((await t.stores.posts.getById(post.id))?.hiddenAt, "hidden_at is set");
    assert.deepEqual(
      [await seenBy(viewer(alice)), await seenBy(ANONYMOUS), await inHome(alice)],
      [false, false, false],
    );
    assert.equal(outcome(await t.clique.hidePost(dave, post.id)), "ok", "idempotent");
    assert.equal(outcome(await t.clique.unhidePost(dave, post.id)), "ok");
    assert.deepEqual([await seenBy(viewer(alice)), await inHome(alice)], [true, true]);
  });

  it("is for remote posts, and for those the table lets", async () => {
    const local = await publish(bob, "local");
    assert.equal(outcome(await t.clique.hidePost(dave, local.id)), "not_remote");
    const remote = await remotePost("x");
    assert.equal(outcome(await t.clique.hidePost(bob, remote.id)), "not_allowed");
  });
});

describe("suspendMember and unsuspendMember", () => {
  it("suspend until a date: tokens end, posts hidden, told why; lifted only once the date has come", async () => {
    const sam = await join("sam_suspended");
    const token = await t.clique.issueToken(sam, "api", "test");
    const post = await publish(sam, "before the suspension");
    const until = new Date(Date.now() + 3_600_000);
    const suspended = await t.clique.suspendMember(dave, sam.id, { until, reason: "Cool off" });
    assert.equal(outcome(suspended), "ok");
    assert.equal(await t.clique.authenticate(token), null, "the token ends at once");
    const stored = await t.stores.members.getById(sam.id);
    assert.deepEqual(
      [stored?.status, stored?.suspendedUntil?.toISOString()],
      ["suspended", until.toISOString()],
    );
    assert.equal(await t.clique.getVisiblePost(viewer(alice), post.id), null, "hidden meanwhile");
    // Not ended yet: the worker's call changes nothing.
    assert.equal(
      outcome(await t.clique.unsuspendMember(null, sam.id, { endedBy: new Date() })),
      "not_suspended",
    );
    assert.ok(!(await t.clique.endedSuspensions()).some((m) => m.id === sam.id));
    assert.equal((await t.clique.nextSuspensionEnd())?.toISOString(), until.toISOString());
    const lifted = await t.clique.unsuspendMember(null, sam.id, {
      endedBy: new Date(until.getTime() + 1),
    });
    assert.equal(outcome(lifted), "ok");
    assert.ok(await t.clique.getVisiblePost(viewer(alice), post.id), "back");
    assert.deepEqual(
      (await eventsAbout(sam.id)).filter((k) => k.startsWith("member-")),
      ["member-suspended", "member-unsuspended"],
    );
    const [warning] = await warningsOf(sam);
    assert.deepEqual(warning, {
      type: "moderation_warning",
      action: "suspend",
      text: "Cool off",
      statusIds: [],
      until: until.toISOString(),
    });
  });

  it("asks the table, and refuses a suspension that ends in the past", async () => {
    assert.equal(
      outcome(await t.clique.suspendMember(dave, alice.id, { until: null, reason: "" })),
      "outranked",
    );
    assert.equal(
      outcome(await t.clique.suspendMember(bob, dave.id, { until: null, reason: "" })),
      "not_allowed",
    );
    assert.equal(
      outcome(await t.clique.suspendMember(null, alice.id, { until: null, reason: "" })),
      "last_owner",
    );
    assert.equal(
      outcome(
        await t.clique.suspendMember(dave, bob.id, {
          until: new Date(Date.now() - 1000),
          reason: "",
        }),
      ),
      "invalid_until",
    );
    assert.equal(outcome(await t.clique.unsuspendMember(dave, bob.id)), "not_suspended");
  });
});

describe("removeMember", () => {
  it("frees the seat, ends tokens, keeps posts hidden (or deletes them), records member-removed", async () => {
    const kept = await join("kim_kept");
    const gone = await join("gil_gone");
    const keptPost = await publish(kept, "kept hidden");
    const gonePost = await publish(gone, "deleted");
    const token = await t.clique.issueToken(kept, "api", "test");
    const seated = await t.clique.countSeated();
    assert.equal(
      outcome(await t.clique.removeMember(dave, kept.id, { deleteContent: false })),
      "ok",
    );
    assert.equal(
      outcome(await t.clique.removeMember(dave, gone.id, { deleteContent: true })),
      "ok",
    );
    assert.equal(await t.clique.countSeated(), seated - 2, "two seats freed");
    assert.equal(await t.clique.authenticate(token), null);
    const [k, g] = await Promise.all([
      t.stores.posts.getById(keptPost.id),
      t.stores.posts.getById(gonePost.id),
    ]);
    assert.deepEqual([k?.deletedAt, k?.contentHtml], [null, "<p>kept hidden</p>"]);
    assert.ok(g?.deletedAt);
    assert.equal(await t.clique.getVisiblePost(viewer(alice), keptPost.id), null);
    assert.ok((await eventsAbout(kept.id)).includes("member-removed"));
    // Removed is removed.
    assert.equal(
      outcome(await t.clique.removeMember(dave, kept.id, { deleteContent: false })),
      "not_found",
    );
  });

  it("asks the table", async () => {
    assert.equal(
      outcome(await t.clique.removeMember(dave, alice.id, { deleteContent: false })),
      "outranked",
    );
    assert.equal(
      outcome(await t.clique.removeMember(dave, dave.id, { deleteContent: false })),
      "self",
    );
    assert.equal(
      outcome(await t.clique.removeMember(bob, dave.id, { deleteContent: false })),
      "not_allowed",
    );
  });
});

describe("setMemberRole", () => {
  it("hands ownership over in two steps and keeps the last owner, even when both step down at once", async () => {
    const olga = await join("olga_owner");
    const pia = await join("pia_owner");
    const made = await t.clique.setMemberRole(alice, olga.id, "owner");
    assert.equal(outcome(made), "ok");
    assert.equal(outcome(await t.clique.setMemberRole(alice, pia.id, "owner")), "ok");
    // Three owners; alice steps down, then olga and pia both try at once: one must stay.
    assert.equal(outcome(await t.clique.setMemberRole(alice, alice.id, "member")), "ok");
    const olgaNow = (await t.stores.members.getById(olga.id))!;
    const piaNow = (await t.stores.members.getById(pia.id))!;
    const both = await Promise.all([
      t.clique.setMemberRole(olgaNow, olga.id, "member"),
      t.clique.setMemberRole(piaNow, pia.id, "member"),
    ]);
    assert.deepEqual(both.map(outcome).sort(), ["last_owner", "ok"]);
    assert.equal(await t.stores.members.countActiveOwners(), 1);
    // The remaining owner gives ownership back to alice, so the world is as it was.
    const owner = (await t.clique.listMembers("active")).find((m) => m.role === "owner")!;
    assert.equal(outcome(await t.clique.setMemberRole(owner, alice.id, "owner")), "ok");
    alice = (await t.stores.members.getById(alice.id))!;
    assert.equal(outcome(await t.clique.setMemberRole(alice, owner.id, "member")), "ok");
  });

  it("an admin gives roles below their own to members below them; acting uses the role as it is now", async () => {
    const ada = await join("ada_admin");
    assert.equal(outcome(await t.clique.setMemberRole(alice, ada.id, "admin")), "ok");
    const adaNow = (await t.stores.members.getById(ada.id))!;
    const mo = await join("mo_member");
    assert.equal(outcome(await t.clique.setMemberRole(adaNow, mo.id, "moderator")), "ok");
    assert.equal(outcome(await t.clique.setMemberRole(adaNow, mo.id, "admin")), "outranked");
    assert.equal(outcome(await t.clique.setMemberRole(adaNow, alice.id, "member")), "outranked");
    assert.equal(outcome(await t.clique.setMemberRole(dave, mo.id, "member")), "not_allowed");
    // Demoted meanwhile: the stale object she acts with does not carry her old role.
    assert.equal(outcome(await t.clique.setMemberRole(alice, ada.id, "member")), "ok");
    assert.equal(outcome(await t.clique.setMemberRole(adaNow, mo.id, "member")), "not_allowed");
  });
});

describe("leaveClique", () => {
  it("needs the password, deletes the posts, ends the membership; the last owner stays", async () => {
    const lea = await join("lea_leaving");
    const post = await publish(lea, "bye");
    const wrong = await t.clique.leaveClique(lea, { password: "not it", ip: "192.0.2.9" });
    assert.equal(outcome(wrong), "wrong_password");
    const left = await t.clique.leaveClique(lea, {
      password: "password-of-lea_leaving",
      ip: "192.0.2.9",
    });
    assert.equal(outcome(left), "ok");
    assert.equal((await t.stores.members.getById(lea.id))?.status, "removed");
    assert.ok((await t.stores.posts.getById(post.id))?.deletedAt);
    const aliceLeaves = await t.clique.leaveClique(alice, {
      password: world.passwords.alice_owner,
      ip: "192.0.2.9",
    });
    assert.equal(outcome(aliceLeaves), "last_owner");
  });
});
