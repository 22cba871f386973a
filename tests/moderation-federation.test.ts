/**
 * Moderation reaches the fediverse: two real Clique processes, each with its
 * own database, each behind a TLS proxy on `https://localhost:PORT`, talking
 * ActivityPub with real HTTP signatures. Everything goes through their public
 * APIs, ActivityPub endpoints and CLIs.
 *
 * A: alice (owner), moe (moderator), amy, sue, zed and kit (members).
 * B: bob (owner), who follows amy, sue, zed and kit.
 *
 * - a post of amy's removed by moe disappears from bob's home on B, its id
 *   answers 410 Gone with a Tombstone, amy is told why, and the audit log says so;
 * - sue, suspended until a moment from now, becomes unavailable on B (her
 *   account says `suspended`, her post leaves bob's home), and is back once
 *   the worker lifts the suspension;
 * - zed, removed, and kit, who leaves, are gone on B (Delete of the actor,
 *   signed with their own keys), their actors answer 410 on A, and zed's
 *   token is refused on the very next request.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, afterEach, before, describe, test } from "node:test";
import {
  createTestCertificates,
  stopEmbeddedTestServer,
  type TestCertificates,
  trustingFetch,
} from "@clique/testing";
import {
  api,
  type Cleanup,
  eventually,
  type Json,
  password,
  request,
  runCleanup,
  type Site,
  startSite,
} from "./support/sites.ts";

const AP = "application/activity+json";

type Status = Json & { content: string; uri: string; account: Json & { acct: string } };

const cleanup: Cleanup = [];
let certs: TestCertificates;
let A: Site;
let B: Site;
let failed = false;
/** Each of A's members as B knows them. */
const onB: Record<string, string> = {};

function token(label: string): string {
  return `${label}-${randomBytes(6).toString("hex")}`;
}

async function home(user: string): Promise<Status[]> {
  return api<Status[]>(B, user, "GET", "/api/v1/timelines/home?limit=40");
}

async function inBobsHome(text: string): Promise<boolean> {
  return (await home("bob")).some((s) => s.content.includes(text));
}

/** amy's (or another's) post, delivered to bob's home on B. */
async function postSeenByBob(user: string, text: string): Promise<{ onA: Status; onB: Status }> {
  const onA = await api<Status>(A, user, "POST", "/api/v1/statuses", {
    status: text,
    visibility: "public",
  });
  const seen = await eventually(`${user}'s post in bob's home on B`, async () =>
    (await home("bob")).find((s) => s.content.includes(text)),
  );
  assert.equal(seen.uri, onA.uri);
  assert.equal(seen.account.acct, `${user}@${A.host}`);
  return { onA, onB: seen };
}

async function getActor(
  username: string,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await A.fetch(`${A.origin}/users/${username}`, { headers: { accept: AP } });
  const text = await response.text();
  return {
    status: response.status,
    json: text ? (JSON.parse(text) as Record<string, unknown>) : {},
  };
}

before(async () => {
  certs = await createTestCertificates();
  cleanup.unshift(() => certs.remove());
  const tls = { certs, fetch: trustingFetch(certs.ca) as typeof fetch };
  [A, B] = await Promise.all([
    startSite({
      label: "a",
      owner: "alice",
      members: ["moe", "amy", "sue", "zed", "kit"],
      cleanup,
      tls,
    }),
    startSite({ label: "b", owner: "bob", members: [], cleanup, tls }),
  ]);
  await api(A, "alice", "POST", `/api/v1/clique/moderation/members/${A.ids.moe}/role`, {
    role: "moderator",
  });
  // A's members take followers without approval; bob follows each of them from B.
  for (const user of ["amy", "sue", "zed", "kit"]) {
    await api(A, user, "PATCH", "/api/v1/accounts/update_credentials", { locked: false });
    const found = await api<{ accounts: Json[] }>(
      B,
      "bob",
      "GET",
      `/api/v2/search?q=${encodeURIComponent(`${user}@${A.host}`)}&resolve=true&type=accounts`,
    );
    assert.equal(found.accounts.length, 1, `bob finds ${user}`);
    onB[user] = found.accounts[0]!.id;
    await api(B, "bob", "POST", `/api/v1/accounts/${onB[user]}/follow`);
    await eventually(`bob following ${user}`, async () => {
      const [r] = await api<(Json & { following: boolean })[]>(
        B,
        "bob",
        "GET",
        `/api/v1/accounts/relationships?id[]=${onB[user]}`,
      );
      return r?.following;
    });
  }
});

afterEach((t) => {
  if ("passed" in t && !t.passed) failed = true;
});

after(async () => {
  if (failed)
    for (const site of [A, B])
      if (site) console.error(`--- server ${site.label} ---\n${site.server.output()}`);
  await runCleanup(cleanup);
  await stopEmbeddedTestServer();
});

describe("moderation across two Cliques", () => {
  test("a post removed by a moderator is gone from the follower's home on B, and answers 410", async () => {
    const text = token("rule-breaking");
    const { onA, onB: seen } = await postSeenByBob("amy", `amy says ${text}`);
    const kept = token("kept");
    await postSeenByBob("amy", `amy also says ${kept}`);

    const removed = await request(
      A,
      "moe",
      "POST",
      `/api/v1/clique/moderation/posts/${onA.id}/remove`,
      {
        reason: "Personal attacks are not OK here",
      },
    );
    assert.equal(removed.status, 200, removed.text);

    await eventually(
      "the removed post to leave bob's home on B",
      async () => !(await inBobsHome(text)),
    );
    assert.ok(await inBobsHome(kept), "amy's other post stays");
    assert.equal((await request(B, "bob", "GET", `/api/v1/statuses/${seen.id}`)).status, 404);
    // Its object answers 410 Gone with a Tombstone, to anyone who fetches it again.
    const refetch = await A.fetch(onA.uri, { headers: { accept: AP } });
    assert.equal(refetch.status, 410);
    const tomb = (await refetch.json()) as Record<string, unknown>;
    assert.equal(tomb.type, "Tombstone");
    assert.equal(tomb.id, onA.uri);
    // It was a Note (Fedify compacts the type as `as:Note`).
    assert.match(String(tomb.formerType), /^(as:)?Note$/);
    // B asked to look it up again finds nothing.
    const search = await api<{ statuses: Json[] }>(
      B,
      "bob",
      "GET",
      `/api/v2/search?q=${encodeURIComponent(onA.uri)}&resolve=true`,
    );
    assert.deepEqual(search.statuses, []);
    // On A it is gone too, and amy was told what and why.
    assert.equal((await request(A, "amy", "GET", `/api/v1/statuses/${onA.id}`)).status, 404);
    const notifications = await api<
      (Json & { type: string; moderation_warning?: Record<string, unknown> })[]
    >(A, "amy", "GET", "/api/v1/notifications");
    const warning = notifications.find((n) => n.type === "moderation_warning");
    assert.deepEqual(
      {
        action: warning?.moderation_warning?.action,
        text: warning?.moderation_warning?.text,
        status_ids: warning?.moderation_warning?.status_ids,
      },
      { action: "delete_statuses", text: "Personal attacks are not OK here", status_ids: [onA.id] },
    );
    // The audit log: for moderators, and for amy (about her own post).
    for (const who of ["alice", "amy"]) {
      const audit = await api<(Json & { action: string; actor_id: string; reason: string })[]>(
        A,
        who,
        "GET",
        "/api/v1/clique/moderation/audit",
      );
      const entry = audit.find((e) => e.action === "post.remove");
      assert.deepEqual(
        [entry?.actor_id, entry?.reason],
        [A.ids.moe, "Personal attacks are not OK here"],
        `${who} sees the removal in the audit log`,
      );
    }
  });

  test("a suspended member is unavailable on B, then back once the suspension ends", async () => {
    const text = token("sue");
    await postSeenByBob("sue", `sue says ${text}`);
    const until = new Date(Date.now() + 12_000).toISOString();
    const suspended = await request(
      A,
      "moe",
      "POST",
      `/api/v1/clique/moderation/members/${A.ids.sue}/suspend`,
      {
        reason: "A week off",
        until,
      },
    );
    assert.equal(suspended.status, 200, suspended.text);
    // A's actor document says so.
    const actor = await getActor("sue");
    assert.deepEqual([actor.status, actor.json.suspended, actor.json.summary], [200, true, ""]);
    // B hears of it: the account is suspended there, and its post leaves bob's home.
    await eventually("sue suspended on B", async () => {
      const account = await api<Json & { suspended?: boolean }>(
        B,
        "bob",
        "GET",
        `/api/v1/accounts/${onB.sue}`,
      );
      return account.suspended === true;
    });
    await eventually("sue's post to leave bob's home on B", async () => !(await inBobsHome(text)));
    // The worker lifts the suspension when it ends; B is told, and all is back.
    await eventually(
      "sue's suspension to end on A",
      async () => (await getActor("sue")).json.suspended === undefined,
      45_000,
    );
    await eventually("sue available again on B", async () => {
      const account = await api<Json & { suspended?: boolean }>(
        B,
        "bob",
        "GET",
        `/api/v1/accounts/${onB.sue}`,
      );
      return account.suspended === undefined;
    });
    await eventually("sue's post back in bob's home on B", () => inBobsHome(text));
    const audit = await api<(Json & { action: string; via: string; actor_id: string | null })[]>(
      A,
      "alice",
      "GET",
      `/api/v1/clique/moderation/audit?member_id=${A.ids.sue}`,
    );
    assert.deepEqual(
      audit.map((e) => [e.action, e.actor_id === null ? e.via : "member"]),
      [
        ["member.unsuspend", "worker"],
        ["member.suspend", "member"],
      ],
    );
  });

  test("a removed member and one who left are gone on B; the removed one's token dies at once", async () => {
    const zedText = token("zed");
    const kitText = token("kit");
    await postSeenByBob("zed", `zed says ${zedText}`);
    await postSeenByBob("kit", `kit says ${kitText}`);
    const removed = await request(
      A,
      "moe",
      "POST",
      `/api/v1/clique/moderation/members/${A.ids.zed}/remove`,
      {
        reason: "Spam account",
      },
    );
    assert.equal(removed.status, 200, removed.text);
    // The very next request with zed's token is refused.
    assert.equal(
      (await request(A, "zed", "GET", "/api/v1/accounts/verify_credentials")).status,
      401,
    );
    const left = await request(A, "kit", "POST", "/api/v1/clique/leave", {
      password: password("kit", "a"),
    });
    assert.equal(left.status, 200, left.text);
    assert.equal(
      (await request(A, "kit", "GET", "/api/v1/accounts/verify_credentials")).status,
      401,
    );
    for (const user of ["zed", "kit"]) {
      const actor = await getActor(user);
      assert.deepEqual(
        [actor.status, actor.json.type],
        [410, "Tombstone"],
        `${user} answers 410 on A`,
      );
    }
    // B received the Delete of each actor and forgot them, their posts with them.
    for (const user of ["zed", "kit"])
      await eventually(`${user} gone on B`, async () => {
        const r = await request(B, "bob", "GET", `/api/v1/accounts/${onB[user]}`);
        return r.status === 404;
      });
    assert.ok(!(await inBobsHome(zedText)));
    assert.ok(!(await inBobsHome(kitText)));
    // Their seats are free on A.
    const clique = await api<Json & { members: number }>(A, "alice", "GET", "/api/v1/clique");
    assert.equal(clique.members, 4, "alice, moe, amy and sue hold seats");
  });
});
