/**
 * The permission table, asserted through the API of a real server: every
 * role × every action of the table (allowed or refused, and why), acting on
 * every rank and on oneself, the last owner (API and CLI), ownership handed
 * over, and a removed member's token and session refused on the very next
 * request.
 *
 * The actors: olive (owner), ada (admin), mo (moderator), mel (member). Each
 * check that acts on a member acts on a fresh one, joined through the API
 * and given its role by olive, so that a refusal proves the refusal and a
 * success changes nobody else.
 */
import assert from "node:assert/strict";
import { after, afterEach, before, describe, test } from "node:test";
import { type FakeRemote, startFakeRemote, stopEmbeddedTestServer } from "@clique/testing";
import { deliver } from "./support/mastodon-signing.ts";
import {
  type Answer,
  api,
  type Cleanup,
  cli,
  cliOk,
  eventually,
  type Json,
  password,
  request,
  runCleanup,
  type Site,
  startSite,
} from "./support/sites.ts";

type Role = "owner" | "admin" | "moderator" | "member";
const ROLES: readonly Role[] = ["owner", "admin", "moderator", "member"];
const ACTOR: Record<Role, string> = {
  owner: "olive",
  admin: "ada",
  moderator: "mo",
  member: "mel",
};

const cleanup: Cleanup = [];
let S: Site;
let remote: FakeRemote;
let inviteCode = "";
let failed = false;
let joined = 0;

/** What an answer says: `ok` for a 2xx, else the status and the table's reason. */
function verdict(r: Answer): string {
  if (r.status >= 200 && r.status < 300) return "ok";
  const code = (r.body as { code?: string } | null)?.code ?? "?";
  return `${r.status} ${code}`;
}

const EXPECT: Record<string, string> = {
  ok: "ok",
  not_allowed: "403 not_allowed",
  outranked: "403 outranked",
  self: "403 self",
  last_owner: "403 last_owner",
};

/** A fresh member, joined through the API, with a token and (by olive) a role. */
async function fresh(role: Role): Promise<{ id: string; token: string; username: string }> {
  const username = `t${++joined}_${role}`;
  const redeemed = await S.fetch(`${S.origin}/api/v1/clique/invites/redeem`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ code: inviteCode, username, password: password(username, "s") }),
  });
  assert.equal(redeemed.status, 201, await redeemed.clone().text());
  const id = ((await redeemed.json()) as { account: { id: string } }).account.id;
  const cookie = /clique_session=[^;]+/.exec(redeemed.headers.get("set-cookie") ?? "")?.[0] ?? "";
  const made = await S.fetch(`${S.origin}/api/v1/clique/tokens`, {
    method: "POST",
    headers: { "content-type": "application/json", cookie, origin: S.origin },
    body: JSON.stringify({ name: "test" }),
  });
  const token = ((await made.json()) as { access_token: string }).access_token;
  S.tokens[username] = token;
  S.ids[username] = id;
  if (role !== "member")
    await api(S, "olive", "POST", `/api/v1/clique/moderation/members/${id}/role`, { role });
  return { id, token, username };
}

/** A public post of `user`'s; its id. */
async function postOf(user: string, text = "a post"): Promise<string> {
  return (await api(S, user, "POST", "/api/v1/statuses", { status: text, visibility: "public" }))
    .id;
}

before(async () => {
  remote = await startFakeRemote({ usernames: ["rhea"] });
  cleanup.unshift(() => remote.close());
  S = await startSite({
    label: "s",
    owner: "olive",
    members: ["ada", "mo", "mel"],
    cleanup,
    cap: 500,
  });
  // Roles given at the console, as an operator would.
  await cliOk(S, ["member", "role", "ada", "admin", "--reason", "runs the place with olive"]);
  await cliOk(S, ["member", "role", "mo", "moderator"]);
  const invite = await api<Json & { code: string }>(S, "olive", "POST", "/api/v1/clique/invites", {
    max_uses: 1000,
    expires_in: 86400,
  });
  inviteCode = invite.code;
});

afterEach((t) => {
  if ("passed" in t && !t.passed) failed = true;
});

after(async () => {
  if (failed && S) console.error(`--- server ---\n${S.server.output()}`);
  await runCleanup(cleanup);
  await stopEmbeddedTestServer();
});

describe("the last owner, and ownership handed over", () => {
  test("the last owner can be neither demoted, suspended nor removed, nor leave: API and CLI", async () => {
    const me = S.ids.olive!;
    const moderation = `/api/v1/clique/moderation/members/${me}`;
    assert.equal(
      verdict(await request(S, "olive", "POST", `${moderation}/role`, { role: "admin" })),
      "403 last_owner",
    );
    // On oneself the table says "self" first; the server (the CLI) is bound by the last owner.
    assert.equal(
      verdict(await request(S, "olive", "POST", `${moderation}/suspend`, { reason: "x" })),
      "403 self",
    );
    assert.equal(
      verdict(
        await request(S, "olive", "POST", "/api/v1/clique/leave", {
          password: password("olive", "s"),
        }),
      ),
      "403 last_owner",
    );
    for (const args of [
      ["member", "suspend", "olive", "--reason", "x"],
      ["member", "remove", "olive", "--reason", "x"],
      ["member", "role", "olive", "admin"],
      ["member", "set-status", "olive", "suspended"],
    ]) {
      const r = await cli(S, args);
      assert.notEqual(r.code, 0, args.join(" "));
      assert.match(r.stderr, /last owner cannot be suspended, removed or demoted/, args.join(" "));
    }
    const me2 = await api<Json & { clique_role: string }>(
      S,
      "olive",
      "GET",
      "/api/v1/accounts/verify_credentials",
    );
    assert.equal(me2.clique_role, "owner");
  });

  test("ownership is handed over: make someone owner, then step down; and back", async () => {
    const heir = await fresh("member");
    const role = (id: string, r: Role, as: string) =>
      request(S, as, "POST", `/api/v1/clique/moderation/members/${id}/role`, { role: r });
    assert.equal(verdict(await role(heir.id, "owner", "olive")), "ok");
    assert.equal(verdict(await role(S.ids.olive!, "admin", "olive")), "ok");
    // Now the heir is the last owner, and olive an admin who cannot take it back.
    assert.equal(verdict(await role(S.ids.olive!, "owner", "olive")), "403 self");
    assert.equal(verdict(await role(heir.id, "member", heir.username)), "403 last_owner");
    assert.equal(verdict(await role(S.ids.olive!, "owner", heir.username)), "ok");
    assert.equal(verdict(await role(heir.id, "member", heir.username)), "ok");
    const members = await api<(Json & { role: string })[]>(
      S,
      "olive",
      "GET",
      "/api/v1/clique/members",
    );
    assert.deepEqual(
      members.filter((m) => m.role === "owner").map((m) => m.id),
      [S.ids.olive],
    );
  });
});

/** By actor role (rows), on a target of each role (columns: owner, admin, moderator, member). */
const ON_OTHERS: Record<Role, readonly string[]> = {
  owner: ["ok", "ok", "ok", "ok"],
  admin: ["outranked", "outranked", "ok", "ok"],
  moderator: ["outranked", "outranked", "outranked", "ok"],
  member: ["not_allowed", "not_allowed", "not_allowed", "not_allowed"],
};

/** Each action on a member, as the API takes it. */
const MEMBER_ACTIONS: Record<
  string,
  (target: { id: string; username: string }, as: string) => Promise<Answer>
> = {
  "member.suspend": (t, as) =>
    request(S, as, "POST", `/api/v1/clique/moderation/members/${t.id}/suspend`, { reason: "test" }),
  "member.remove": (t, as) =>
    request(S, as, "POST", `/api/v1/clique/moderation/members/${t.id}/remove`, { reason: "test" }),
  "member.warn": (t, as) =>
    request(S, as, "POST", `/api/v1/clique/moderation/members/${t.id}/warn`, { reason: "test" }),
  "post.remove": async (t, as) =>
    request(S, as, "POST", `/api/v1/clique/moderation/posts/${await postOf(t.username)}/remove`, {
      reason: "test",
    }),
};

describe("acting on members: every role on every rank, and on oneself", () => {
  for (const [action, act] of Object.entries(MEMBER_ACTIONS)) {
    test(action, async () => {
      const got: Record<Role, string[]> = { owner: [], admin: [], moderator: [], member: [] };
      for (const role of ROLES)
        for (const targetRole of ROLES)
          got[role].push(verdict(await act(await fresh(targetRole), ACTOR[role])));
      assert.deepEqual(
        got,
        Object.fromEntries(ROLES.map((r) => [r, ON_OTHERS[r].map((e) => EXPECT[e])])),
      );
      // Nobody does it to themselves (a member is refused before that is asked).
      const self = [];
      for (const role of ROLES) {
        const me = await fresh(role);
        self.push(verdict(await act(me, me.username)));
      }
      assert.deepEqual(self, ["403 self", "403 self", "403 self", "403 not_allowed"]);
    });
  }

  test("member.role: owners give any role; admins roles below theirs to those below them", async () => {
    const cases: [Role, Role, Role, string][] = [
      ["owner", "owner", "moderator", "ok"],
      ["owner", "admin", "member", "ok"],
      ["owner", "member", "owner", "ok"],
      ["admin", "owner", "member", "outranked"],
      ["admin", "admin", "member", "outranked"],
      ["admin", "moderator", "member", "ok"],
      ["admin", "member", "moderator", "ok"],
      ["admin", "member", "admin", "outranked"],
      ["admin", "member", "owner", "outranked"],
      ["moderator", "member", "moderator", "not_allowed"],
      ["moderator", "member", "member", "not_allowed"],
      ["member", "member", "moderator", "not_allowed"],
    ];
    const got = [];
    for (const [by, from, to] of cases) {
      const target = await fresh(from);
      const r = await request(
        S,
        ACTOR[by],
        "POST",
        `/api/v1/clique/moderation/members/${target.id}/role`,
        {
          role: to,
        },
      );
      got.push(`${by} makes a ${from} ${to}: ${verdict(r)}`);
    }
    assert.deepEqual(
      got,
      cases.map(([by, from, to, e]) => `${by} makes a ${from} ${to}: ${EXPECT[e]}`),
    );
    // Nobody but an owner changes their own role.
    const admin = await fresh("admin");
    const r = await request(
      S,
      admin.username,
      "POST",
      `/api/v1/clique/moderation/members/${admin.id}/role`,
      {
        role: "member",
      },
    );
    assert.equal(verdict(r), "403 self");
  });

  test("the older PATCH /members/:id asks the same table", async () => {
    const admin = await fresh("admin");
    const member = await fresh("member");
    const patch = (id: string, as: string, body: unknown) =>
      request(S, as, "PATCH", `/api/v1/clique/members/${id}`, body);
    assert.equal(verdict(await patch(admin.id, "mo", { status: "suspended" })), "403 outranked");
    assert.equal(
      verdict(await patch(member.id, "mel", { status: "suspended" })),
      "403 not_allowed",
    );
    assert.equal(verdict(await patch(member.id, "mo", { status: "suspended", reason: "r" })), "ok");
    assert.equal(verdict(await patch(member.id, "mo", { status: "active" })), "ok");
    assert.equal(verdict(await patch(member.id, "ada", { role: "moderator" })), "ok");
    assert.equal(verdict(await patch(member.id, "mo", { role: "member" })), "403 not_allowed");
  });
});

/** The actions that are about no member: each as a request that the table alone decides. */
describe("every role × the actions that are about no member", () => {
  /** owner, admin, moderator, member. */
  const table: [
    string,
    readonly boolean[],
    (as: string) => Promise<Answer>,
    (r: Answer) => boolean,
  ][] = [
    [
      "post.hide",
      [true, true, true, false],
      async (as) => {
        const r = await request(
          S,
          as,
          "POST",
          `/api/v1/clique/moderation/posts/${remotePostId}/hide`,
          {},
        );
        // Shown again, for the next role.
        if (r.status === 200)
          await api(
            S,
            "olive",
            "POST",
            `/api/v1/clique/moderation/posts/${remotePostId}/unhide`,
            {},
          );
        return r;
      },
      (r) => r.status === 200,
    ],
    [
      "member.list_all",
      [true, true, true, false],
      (as) => request(S, as, "GET", "/api/v1/admin/accounts"),
      (r) => r.status === 200,
    ],
    [
      "audit.read",
      [true, true, true, false],
      // Everyone may ask; only staff are shown what concerns others (olive's role changes).
      (as) => request(S, as, "GET", `/api/v1/clique/moderation/audit?limit=200`),
      (r) =>
        (r.body as unknown as { subject: { id?: string } }[]).some(
          (e) => e.subject.id === S.ids.ada,
        ),
    ],
    [
      "settings.update",
      [true, true, false, false],
      (as) => request(S, as, "PATCH", "/api/v1/clique", { description: `by ${as}` }),
      (r) => r.status === 200,
    ],
    [
      "invite.create",
      [true, true, false, false],
      (as) => request(S, as, "POST", "/api/v1/clique/invites", { max_uses: 1 }),
      (r) => r.status === 201,
    ],
    [
      "invite.revoke_any",
      [true, true, false, false],
      async (as) => {
        const invite = await api(S, "olive", "POST", "/api/v1/clique/invites", { max_uses: 1 });
        return request(S, as, "DELETE", `/api/v1/clique/invites/${invite.id}`);
      },
      (r) => r.status === 200,
    ],
    [
      "report.handle",
      [true, true, true, false],
      (as) => request(S, as, "GET", "/api/v1/admin/reports"),
      (r) => r.status === 200,
    ],
    [
      "report.forward",
      // The table is asked before the report is looked for: a report nobody filed is 404 to those it lets.
      [true, true, true, false],
      (as) =>
        request(
          S,
          as,
          "POST",
          "/api/v1/clique/reports/00000000-0000-7000-8000-000000000000/forward",
          {},
        ),
      (r) => r.status === 404,
    ],
    [
      "domain.block",
      [true, true, false, false],
      (as) => request(S, as, "GET", "/api/v1/clique/domains"),
      (r) => r.status === 200,
    ],
    [
      "remote.moderate",
      [true, true, true, false],
      (as) => request(S, as, "GET", "/api/v1/clique/moderation/remote_accounts"),
      (r) => r.status === 200,
    ],
  ];

  let remotePostId = "";
  before(async () => {
    // A post from elsewhere, naming olive: stored, and in her home.
    const rhea = remote.account("rhea");
    const noteId = `${rhea.id}/statuses/1`;
    const note = {
      id: noteId,
      type: "Note",
      attributedTo: rhea.id,
      to: ["https://www.w3.org/ns/activitystreams#Public"],
      cc: [`${S.origin}/users/olive`],
      tag: [{ type: "Mention", href: `${S.origin}/users/olive` }],
      content: "<p>a post from elsewhere for @olive</p>",
      published: new Date().toISOString(),
    };
    const sent = await deliver(
      `${S.server.url}/inbox`,
      {
        "@context": "https://www.w3.org/ns/activitystreams",
        id: `${noteId}/activity`,
        type: "Create",
        actor: rhea.id,
        to: note.to,
        cc: note.cc,
        object: note,
      },
      { as: rhea },
    );
    assert.equal(sent.status, 202, sent.text);
    // Inbound activities are handled by the inbox queue: stored a moment later.
    const stored = await eventually("the remote post stored, in olive's home", async () => {
      const homeOf = await api<(Json & { uri: string })[]>(
        S,
        "olive",
        "GET",
        "/api/v1/timelines/home?limit=40",
      );
      return homeOf.find((s) => s.uri === noteId);
    });
    remotePostId = stored.id;
  });

  for (const [action, allowed, act, isAllowed] of table) {
    test(action, async () => {
      const got = [];
      for (const role of ROLES) {
        const r = await act(ACTOR[role]);
        // A refusal is a 403 (or, for what everyone may read, a narrower answer).
        if (!isAllowed(r))
          assert.ok(r.status === 403 || r.status === 200, `${role}: ${r.status} ${r.text}`);
        got.push(isAllowed(r));
      }
      assert.deepEqual(got, [...allowed], `owner, admin, moderator, member may ${action}`);
    });
  }

  test("a hidden remote post is gone for everyone, then back", async () => {
    await api(S, "mo", "POST", `/api/v1/clique/moderation/posts/${remotePostId}/hide`, {
      reason: "off-topic",
    });
    for (const who of ["olive", "mel", null])
      assert.equal((await request(S, who, "GET", `/api/v1/statuses/${remotePostId}`)).status, 404);
    const homeOf = await api<Json[]>(S, "olive", "GET", "/api/v1/timelines/home?limit=40");
    assert.ok(!homeOf.some((s) => s.id === remotePostId));
    await api(S, "mo", "POST", `/api/v1/clique/moderation/posts/${remotePostId}/unhide`, {});
    assert.equal((await request(S, "mel", "GET", `/api/v1/statuses/${remotePostId}`)).status, 200);
  });
});

describe("a removed member", () => {
  test("their token and session are refused on the very next request, whatever it is", async () => {
    const gone = await fresh("member");
    // A session too: signed in through the API.
    const signIn = await S.fetch(`${S.origin}/api/v1/clique/sessions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username: gone.username, password: password(gone.username, "s") }),
    });
    const cookie = /clique_session=[^;]+/.exec(signIn.headers.get("set-cookie") ?? "")?.[0] ?? "";
    assert.ok(cookie);
    const asSession = (path: string) =>
      S.fetch(`${S.origin}${path}`, { headers: { cookie } }).then((r) => r.status);
    assert.equal(
      (await request(S, gone.username, "GET", "/api/v1/accounts/verify_credentials")).status,
      200,
    );
    assert.equal(await asSession("/api/v1/accounts/verify_credentials"), 200);
    // Removed; the next request with each is refused (nothing of the authentication is cached).
    await api(S, "mo", "POST", `/api/v1/clique/moderation/members/${gone.id}/remove`, {
      reason: "test",
      delete_content: true,
    });
    assert.equal(
      (await request(S, gone.username, "GET", "/api/v1/accounts/verify_credentials")).status,
      401,
    );
    assert.equal(
      (await request(S, gone.username, "POST", "/api/v1/statuses", { status: "still here?" }))
        .status,
      401,
    );
    assert.equal(await asSession("/api/v1/accounts/verify_credentials"), 401);
    // And they are gone from the member list and the admin API.
    assert.equal(
      (await request(S, "olive", "GET", `/api/v1/admin/accounts/${gone.id}`)).status,
      404,
    );
  });

  test("a suspended member is refused too, and told why once the suspension is lifted", async () => {
    const sus = await fresh("member");
    await api(S, "mo", "POST", `/api/v1/clique/moderation/members/${sus.id}/suspend`, {
      reason: "cool off",
    });
    assert.equal((await request(S, sus.username, "GET", "/api/v1/notifications")).status, 401);
    const admin = await api<Json & { suspended: boolean }>(
      S,
      "olive",
      "GET",
      `/api/v1/admin/accounts/${sus.id}`,
    );
    assert.equal(admin.suspended, true);
    // Mastodon's admin API lifts it; the member signs in again with a new token.
    await api(S, "olive", "POST", `/api/v1/admin/accounts/${sus.id}/unsuspend`);
    const signIn = await api<Json & { access_token?: string }>(
      S,
      null,
      "POST",
      "/api/v1/clique/sessions",
      {
        username: sus.username,
        password: password(sus.username, "s"),
      },
    );
    assert.ok(signIn);
    const newToken = lastToken(await cliOk(S, ["token", "create", sus.username]));
    S.tokens[sus.username] = newToken;
    const notes = await api<
      (Json & { type: string; moderation_warning: { action: string; text: string } })[]
    >(S, sus.username, "GET", "/api/v1/notifications");
    assert.deepEqual(
      notes.map((n) => [n.type, n.moderation_warning.action, n.moderation_warning.text]),
      [["moderation_warning", "suspend", "cool off"]],
    );
    // Mastodon's warning action: `none`, with a text.
    await api(S, "mo", "POST", `/api/v1/admin/accounts/${sus.id}/action`, {
      type: "none",
      text: "Be kind",
    });
    const again = await api<(Json & { moderation_warning: { action: string; text: string } })[]>(
      S,
      sus.username,
      "GET",
      "/api/v1/notifications",
    );
    assert.deepEqual(
      [again[0]?.moderation_warning.action, again[0]?.moderation_warning.text],
      ["none", "Be kind"],
    );
    const silence = await request(S, "mo", "POST", `/api/v1/admin/accounts/${sus.id}/action`, {
      type: "silence",
    });
    assert.equal(verdict(silence), "422 unsupported_action");
  });
});

function lastToken(output: string): string {
  return output.trim().split("\n").pop() ?? "";
}
