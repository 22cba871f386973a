/**
 * Reports on a real database: what a member may report (through the
 * visibility module), the queue's state machine with its audit entries, who
 * may work the queue (the permission table; nobody sees reports about
 * themselves), forwarding through core's outbox, and the store's queries.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Member, Post } from "@clique/core";
import {
  openTestClique,
  seedWorld,
  stopEmbeddedTestServer,
  type TestClique,
  type World,
} from "@clique/testing";
import { type Kysely, sql } from "kysely";
import {
  createModeration,
  type Moderation,
  type ModerationDatabase,
  type Report,
} from "../index.ts";
import { migrateModeration } from "../storage/migrations.ts";
import { KyselyReportStore } from "../storage/report.store.kysely.ts";

let t: TestClique;
let world: World;
let moderation: Moderation;
let db: Kysely<ModerationDatabase>;
let alice: Member;
let bob: Member;
let dave: Member;
let erin: Member;
const posts: Record<string, Post> = {};

function value<T>(result: { ok: true; value: T } | { ok: false; reason: string }): T {
  assert.ok(result.ok, `expected success, got ${result.ok ? "" : result.reason}`);
  return result.value;
}

function reason(result: { ok: boolean; reason?: string }): string | undefined {
  return result.ok ? undefined : result.reason;
}

before(async () => {
  t = await openTestClique({ maxConnections: 4 });
  world = await seedWorld(t.clique, t.db);
  db = t.db as unknown as Kysely<ModerationDatabase>;
  await migrateModeration(db);
  moderation = createModeration({ db });
  moderation.attach(t.clique);
  ({
    alice_owner: alice,
    bob_member: bob,
    dave_moderator: dave,
    erin_removed: erin,
  } = world.members);
  const post = async (author: Member, name: string, audience: Post["audience"], extra = {}) => {
    const created = await t.clique.createPost(author, {
      source: `${name} post`,
      audience,
      ...extra,
    });
    posts[name] = value(created);
  };
  await post(alice, "public", "public");
  await post(alice, "clique", "clique");
  await post(alice, "family", "circle", { circleId: world.circles.family });
  // A direct post naming nobody: alice alone sees it.
  await post(alice, "direct", "direct");
  await post(dave, "dave", "public");
});

after(async () => {
  await t?.drop();
  await stopEmbeddedTestServer();
});

describe("filing a report", () => {
  it("takes posts the member can see, of the account reported, and keeps what they saw", async () => {
    const report = value(
      await moderation.reports.file(bob, {
        accountId: alice.id,
        statusIds: [posts.public!.id, posts.clique!.id, posts.family!.id, posts.public!.id],
        comment: "three of alice's posts",
        category: "violation",
        forward: true,
      }),
    );
    assert.deepEqual(
      report.posts.map((p) => [p.postId, p.contentHtml, p.uri]),
      ["public", "clique", "family"].map((n) => [
        posts[n]!.id,
        posts[n]!.contentHtml,
        `https://clique.test/users/alice_owner/statuses/${posts[n]!.id}`,
      ]),
    );
    assert.equal(report.targetAccountUri, "https://clique.test/users/alice_owner");
    assert.deepEqual(report.reporter, { kind: "member", memberId: bob.id });
    assert.equal(report.category, "violation");
    assert.equal(report.state, "open");
    // A local account has no other server to forward to.
    assert.equal(report.forwardRequested, false);
    const stored = await new KyselyReportStore(db).getById(report.id);
    assert.deepEqual(stored, report);
  });

  it("answers not found for a post the member cannot see, or of someone else", async () => {
    for (const statusIds of [[posts.direct!.id], [posts.public!.id, posts.dave!.id], ["nope"]]) {
      const result = await moderation.reports.file(bob, { accountId: alice.id, statusIds });
      assert.equal(reason(result), "not_found", JSON.stringify(statusIds));
    }
    // Alice herself sees her direct post: she could report... but not herself.
    assert.equal(
      reason(await moderation.reports.file(alice, { accountId: alice.id })),
      "cannot_report_self",
    );
  });

  it("refuses removed members, unknown accounts and overlong comments", async () => {
    assert.equal(reason(await moderation.reports.file(bob, { accountId: erin.id })), "not_found");
    assert.equal(
      reason(
        await moderation.reports.file(bob, { accountId: "00000000-0000-7000-8000-000000000000" }),
      ),
      "not_found",
    );
    assert.equal(
      reason(await moderation.reports.file(bob, { accountId: dave.id, comment: "x".repeat(1001) })),
      "comment_too_long",
    );
  });

  it("records a wish to forward only for an account elsewhere", async () => {
    const report = value(
      await moderation.reports.file(bob, {
        accountId: world.ids.carol_remote,
        forward: true,
        category: "spam",
      }),
    );
    assert.equal(report.forwardRequested, true);
    assert.equal(report.targetAccountUri, "https://remote.example/users/carol_remote");
  });
});

describe("the queue", () => {
  let report: Report;

  before(async () => {
    report = value(
      await moderation.reports.file(bob, { accountId: world.ids.frank_remote, comment: "frank" }),
    );
  });

  it("goes open → assigned → resolved → reopened → dismissed, each step in the audit log", async () => {
    const assigned = value(await moderation.reports.step(dave, report.id, "assign"));
    assert.equal(assigned.assigneeId, dave.id);
    const resolved = value(
      await moderation.reports.step(dave, report.id, "resolve", "Warned frank's server"),
    );
    assert.deepEqual(
      [resolved.state, resolved.actionTaken, resolved.actionTakenById, resolved.assigneeId],
      ["resolved", "Warned frank's server", dave.id, dave.id],
    );
    assert.ok(resolved.actionTakenAt);
    // A closed report takes no second resolution, dismissal or assignment.
    for (const step of ["resolve", "dismiss", "assign", "unassign"] as const)
      assert.equal(
        reason(await moderation.reports.step(dave, report.id, step, "again")),
        "report_closed",
        step,
      );
    const reopened = value(await moderation.reports.step(alice, report.id, "reopen"));
    assert.deepEqual(
      [reopened.state, reopened.actionTaken, reopened.actionTakenAt, reopened.actionTakenById],
      ["open", null, null, null],
    );
    assert.equal(reason(await moderation.reports.step(alice, report.id, "reopen")), "report_open");
    const unassigned = value(await moderation.reports.step(alice, report.id, "unassign"));
    assert.equal(unassigned.assigneeId, null);
    const dismissed = value(
      await moderation.reports.step(alice, report.id, "dismiss", "Not against our rules"),
    );
    assert.deepEqual(
      [dismissed.state, dismissed.actionTaken],
      ["dismissed", "Not against our rules"],
    );

    const log = await moderation.audit.list({ about: { kind: "report", id: report.id } });
    assert.deepEqual(
      log.map((e) => [e.action, e.actorId, e.reason, e.details.from, e.details.to]),
      [
        ["report.dismiss", alice.id, "Not against our rules", "open", "dismissed"],
        ["report.unassign", alice.id, "", "open", "open"],
        ["report.reopen", alice.id, "", "resolved", "open"],
        ["report.resolve", dave.id, "Warned frank's server", "open", "resolved"],
        ["report.assign", dave.id, "", "open", "open"],
      ],
    );
    assert.ok(log.every((e) => e.details.target_account_id === world.ids.frank_remote));
  });

  it("lets two moderators resolve at once only once", async () => {
    const contested = value(
      await moderation.reports.file(bob, { accountId: world.ids.grace_remote }),
    );
    const outcomes = await Promise.all([
      moderation.reports.step(dave, contested.id, "resolve", "dave's action"),
      moderation.reports.step(alice, contested.id, "resolve", "alice's action"),
    ]);
    assert.deepEqual(outcomes.map((o) => o.ok).sort(), [false, true]);
    assert.equal(outcomes.find((o) => !o.ok && o.reason === "report_closed")?.ok, false);
    const log = await moderation.audit.list({ about: { kind: "report", id: contested.id } });
    assert.equal(log.length, 1, "one resolution in the audit log");
    const stored = value(await moderation.reports.get(alice, contested.id));
    assert.equal(stored.actionTaken, log[0]!.reason);
  });

  it("is for moderators and up; nobody sees or handles a report about themselves", async () => {
    assert.equal(reason(await moderation.reports.list(bob, { limit: 40 })), "not_allowed");
    assert.equal(reason(await moderation.reports.get(bob, report.id)), "not_allowed");
    assert.equal(reason(await moderation.reports.step(bob, report.id, "assign")), "not_allowed");
    assert.equal(reason(await moderation.reports.forward(bob, report.id)), "not_allowed");

    const aboutDave = value(
      await moderation.reports.file(bob, { accountId: dave.id, comment: "about dave" }),
    );
    const davesQueue = value(await moderation.reports.list(dave, { limit: 200 }));
    assert.ok(!davesQueue.some((r) => r.id === aboutDave.id), "dave's queue leaves it out");
    assert.equal(reason(await moderation.reports.get(dave, aboutDave.id)), "not_found");
    assert.equal(reason(await moderation.reports.step(dave, aboutDave.id, "dismiss")), "not_found");
    const alicesQueue = value(await moderation.reports.list(alice, { limit: 200 }));
    assert.ok(
      alicesQueue.some((r) => r.id === aboutDave.id),
      "alice's queue has it",
    );
    // The console sees everything.
    assert.ok(value(await moderation.reports.get(null, aboutDave.id)));
  });

  it("records the console as the operator", async () => {
    const r = value(await moderation.reports.file(bob, { accountId: world.ids.ivan_friend }));
    value(await moderation.reports.step(null, r.id, "resolve", "Done at the console"));
    const [entry] = await moderation.audit.list({ about: { kind: "report", id: r.id } });
    assert.deepEqual(
      [entry?.actorId, entry?.reason, entry?.details.via],
      [null, "Done at the console", "cli"],
    );
  });

  it("shows a member the reports they filed, and no one else's", async () => {
    const own = await moderation.reports.listOwn(bob, { limit: 200 });
    assert.ok(own.length >= 5);
    assert.ok(own.every((r) => r.reporter.kind === "member" && r.reporter.memberId === bob.id));
    assert.equal((await moderation.reports.getOwn(bob, report.id))?.state, "dismissed");
    assert.equal(await moderation.reports.getOwn(dave, report.id), null);
    assert.deepEqual(await moderation.reports.listOwn(dave, { limit: 200 }), []);
  });
});

describe("forwarding", () => {
  it("records one anonymous report-forwarded event with the audit entry, once", async () => {
    const carolPost = `https://remote.example/users/carol_remote/statuses/1`;
    const postId = crypto.randomUUID();
    await t.stores.posts.createRemote({
      id: postId,
      authorId: world.ids.carol_remote,
      uri: carolPost,
      url: null,
      audience: "public",
      circleId: null,
      audienceOwnerId: null,
      inReplyToId: null,
      inReplyToUri: null,
      contentType: "text/plain",
      source: "",
      contentHtml: "<p>carol's spam</p>",
      spoilerText: "",
      sensitive: false,
      language: null,
      createdAt: new Date(),
      mentionIds: [],
      recipientIds: [],
      hashtags: [],
    });
    const report = value(
      await moderation.reports.file(bob, {
        accountId: world.ids.carol_remote,
        statusIds: [postId],
        comment: "bob_member says: spam",
        forward: true,
      }),
    );
    const local = value(await moderation.reports.file(bob, { accountId: alice.id }));
    assert.equal(reason(await moderation.reports.forward(dave, local.id)), "not_remote");

    const forwarded = value(await moderation.reports.forward(dave, report.id));
    assert.equal(forwarded.forwardedById, dave.id);
    assert.ok(forwarded.forwardedAt);
    assert.equal(reason(await moderation.reports.forward(alice, report.id)), "already_forwarded");

    const events = await sql<{ event: Record<string, unknown> }>`
      select event from outbox_events where kind = 'report-forwarded'`.execute(db);
    assert.equal(events.rows.length, 1);
    const event = events.rows[0]!.event;
    assert.deepEqual(event, {
      kind: "report-forwarded",
      targetActorId: world.ids.carol_remote,
      postUris: [carolPost],
      comment: null,
    });
    const text = JSON.stringify(event);
    for (const who of [bob.id, "bob_member", dave.id, report.id])
      assert.ok(!text.includes(who), `the event does not name ${who}`);

    const [entry] = await moderation.audit.list({ about: { kind: "report", id: report.id } });
    assert.deepEqual(
      [entry?.action, entry?.actorId, entry?.details.to, entry?.details.with_comment],
      ["report.forward", dave.id, "remote.example", false],
    );
  });

  it("sends the comment only when the moderator chooses", async () => {
    const report = value(
      await moderation.reports.file(bob, {
        accountId: world.ids.heidi_blocked,
        comment: "heidi spams",
      }),
    );
    value(await moderation.reports.forward(dave, report.id, { includeComment: true }));
    const events = await sql<{ event: { targetActorId: string; comment: string | null } }>`
      select event from outbox_events where kind = 'report-forwarded'`.execute(db);
    const heidi = events.rows.find((r) => r.event.targetActorId === world.ids.heidi_blocked);
    assert.equal(heidi?.event.comment, "heidi spams");
  });
});

describe("the store", () => {
  it("files one report per incoming Flag and pages like Mastodon", async () => {
    const store = new KyselyReportStore(db);
    const base = (i: number): Report => ({
      id: `0190a000-0000-7000-8000-00000000000${i}`,
      targetAccountId: erin.id,
      targetAccountUri: "https://clique.test/users/erin_removed",
      posts: [],
      comment: `flag ${i}`,
      category: "other",
      reporter: {
        kind: "remote",
        actorUri: "https://Remote.Example/actor",
        host: "Remote.Example",
        actorId: null,
      },
      forwardRequested: false,
      flagUri: `https://remote.example/flags/${i}`,
      state: i === 3 ? "resolved" : "open",
      assigneeId: null,
      actionTaken: null,
      actionTakenAt: null,
      actionTakenById: null,
      forwardedAt: null,
      forwardedById: null,
      createdAt: new Date("2026-01-01T00:00:00Z"),
      updatedAt: new Date("2026-01-01T00:00:00Z"),
    });
    for (const i of [1, 2, 3, 4]) assert.equal(await store.create(base(i)), true);
    assert.equal(await store.create({ ...base(1), id: crypto.randomUUID() }), false, "same Flag");
    const [one] = await store.list({ targetAccountId: erin.id, maxId: base(2).id, limit: 5 });
    assert.equal(one?.id, base(1).id);
    assert.deepEqual(one?.reporter, {
      kind: "remote",
      actorUri: "https://Remote.Example/actor",
      host: "remote.example",
      actorId: null,
    });
    const ids = async (q: Partial<Parameters<typeof store.list>[0]>) =>
      (await store.list({ targetAccountId: erin.id, limit: 2, ...q })).map((r) => r.comment);
    assert.deepEqual(await ids({ maxId: base(4).id }), ["flag 3", "flag 2"]);
    assert.deepEqual(await ids({ minId: base(1).id }), ["flag 3", "flag 2"]);
    assert.deepEqual(await ids({ sinceId: base(2).id, limit: 10 }), ["flag 4", "flag 3"]);
    assert.deepEqual(await ids({ closed: true, limit: 10 }), ["flag 3"]);
    assert.deepEqual(await ids({ state: "open", maxId: base(3).id, limit: 10 }), [
      "flag 2",
      "flag 1",
    ]);
  });
});
