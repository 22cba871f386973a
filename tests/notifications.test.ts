/**
 * Notifications through the API with real servers: two Cliques over TLS. A
 * follow and a like from the second Clique notify the member on the first;
 * mentions, likes and reports at home notify whom they should; the list
 * filters by type and account, pages with a `Link` header, and one
 * notification can be read, dismissed, or all cleared.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
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
  request,
  runCleanup,
  type Site,
  startSite,
} from "./support/sites.ts";

interface Note {
  id: string;
  type: string;
  account: { id: string; acct: string };
  status?: { id: string; content: string };
  report?: { id: string; comment: string };
}

const cleanup: Cleanup = [];
let certs: TestCertificates;
let A: Site;
let B: Site;

before(async () => {
  certs = await createTestCertificates();
  cleanup.unshift(() => certs.remove());
  const tls = { certs, fetch: trustingFetch(certs.ca) as typeof fetch };
  [A, B] = await Promise.all([
    startSite({ label: "a", owner: "alice", members: ["amy", "moe"], cleanup, tls }),
    startSite({ label: "b", owner: "bob", members: [], cleanup, tls }),
  ]);
  await api(A, "alice", "POST", `/api/v1/clique/moderation/members/${A.ids.moe}/role`, {
    role: "moderator",
  });
  await api(A, "amy", "PATCH", "/api/v1/accounts/update_credentials", { locked: false });
});

after(async () => {
  await runCleanup(cleanup);
  await stopEmbeddedTestServer();
});

const notes = (site: Site, user: string, query = "") =>
  api<Note[]>(site, user, "GET", `/api/v1/notifications${query}`);

describe("notifications", () => {
  it("a follow and a like from another Clique notify the member", async () => {
    const found = await api<{ accounts: Json[] }>(
      B,
      "bob",
      "GET",
      `/api/v2/search?q=${encodeURIComponent(`amy@${A.host}`)}&resolve=true&type=accounts`,
    );
    const amyOnB = found.accounts[0]!.id;
    await api(B, "bob", "POST", `/api/v1/accounts/${amyOnB}/follow`);
    const follow = await eventually("amy told of bob's follow", async () =>
      (await notes(A, "amy")).find((n) => n.type === "follow"),
    );
    assert.equal(follow.account.acct, `bob@${B.host}`);
    // B takes amy's posts once her Accept has arrived.
    await eventually("bob's follow accepted on B", async () => {
      const [r] = await api<{ following: boolean }[]>(
        B,
        "bob",
        "GET",
        `/api/v1/accounts/relationships?id[]=${amyOnB}`,
      );
      return r?.following;
    });

    const post = await api<{ id: string; uri: string }>(A, "amy", "POST", "/api/v1/statuses", {
      status: "a post from A",
      visibility: "public",
    });
    // bob follows amy: her post reaches his home timeline on B.
    const onB = await eventually("bob's server has amy's post", async () =>
      (await api<{ id: string; uri: string }[]>(B, "bob", "GET", "/api/v1/timelines/home")).find(
        (s) => s.uri === post.uri,
      ),
    );
    await api(B, "bob", "POST", `/api/v1/statuses/${onB.id}/favourite`);
    const liked = await eventually("amy told of bob's like", async () =>
      (await notes(A, "amy")).find((n) => n.type === "favourite"),
    );
    assert.equal(liked.account.acct, `bob@${B.host}`);
    assert.equal(liked.status?.id, post.id);
    assert.match(liked.status?.content ?? "", /a post from A/);
  });

  it("mentions and likes at home; types[], exclude_types[], account_id and pages", async () => {
    const own = await api<{ id: string }>(A, "amy", "POST", "/api/v1/statuses", {
      status: "amy's own",
      visibility: "public",
    });
    await api(A, "alice", "POST", `/api/v1/statuses/${own.id}/favourite`);
    const mention = await api<{ id: string }>(A, "alice", "POST", "/api/v1/statuses", {
      status: "hello @amy",
      visibility: "public",
    });
    // Her own like tells her nothing.
    await api(A, "amy", "POST", `/api/v1/statuses/${own.id}/favourite`);
    const all = await notes(A, "amy");
    const mentioned = all.find((n) => n.type === "mention");
    assert.equal(mentioned?.status?.id, mention.id);
    assert.equal(mentioned?.account.id, A.ids.alice);
    assert.equal(
      all.filter((n) => n.type === "favourite" && n.status?.id === own.id).length,
      1,
      "one like from alice, none from amy herself",
    );

    // A boost (issue 11's boosts) tells the author too, with the post.
    await api(A, "alice", "POST", `/api/v1/statuses/${own.id}/reblog`);
    const boosted = (await notes(A, "amy", "?types[]=reblog"))[0];
    assert.equal(boosted?.status?.id, own.id);
    assert.equal(boosted?.account.id, A.ids.alice);

    const favourites = await notes(A, "amy", "?types[]=favourite");
    assert.ok(favourites.length >= 2);
    assert.ok(favourites.every((n) => n.type === "favourite"));
    const others = await notes(A, "amy", "?exclude_types[]=favourite&exclude_types[]=follow");
    assert.ok(others.length >= 1);
    assert.ok(others.every((n) => n.type !== "favourite" && n.type !== "follow"));
    const fromAlice = await notes(A, "amy", `?account_id=${A.ids.alice}`);
    assert.ok(fromAlice.length >= 2);
    assert.ok(fromAlice.every((n) => n.account.id === A.ids.alice));

    const first = await request<Note[]>(A, "amy", "GET", "/api/v1/notifications?limit=1");
    assert.equal(first.body.length, 1);
    const link = await A.fetch(`${A.origin}/api/v1/notifications?limit=1`, {
      headers: { authorization: `Bearer ${A.tokens.amy}` },
    });
    const nextUrl = /<([^>]+)>; rel="next"/.exec(link.headers.get("link") ?? "")?.[1];
    assert.ok(nextUrl, "a Link header names the next page");
    const second = await A.fetch(nextUrl, { headers: { authorization: `Bearer ${A.tokens.amy}` } });
    const page2 = (await second.json()) as Note[];
    assert.equal(page2.length, 1);
    assert.notEqual(page2[0]!.id, first.body[0]!.id);
  });

  it("a report tells the moderators (not the reporter), with the report", async () => {
    const report = await api<{ id: string }>(A, "amy", "POST", "/api/v1/reports", {
      account_id: A.ids.alice,
      comment: "a report to be told about",
    });
    const moe = (await notes(A, "moe", "?types[]=admin.report"))[0];
    assert.equal(moe?.report?.id, report.id);
    assert.equal(moe?.account.id, A.ids.amy);
    // alice is the one reported: she is not told; amy filed it.
    assert.equal((await notes(A, "alice", "?types[]=admin.report")).length, 0);
    assert.equal((await notes(A, "amy", "?types[]=admin.report")).length, 0);
  });

  it("one notification can be read and dismissed; clear empties the list", async () => {
    const [one] = await notes(A, "amy", "?limit=1");
    assert.ok(one);
    const read = await api<Note>(A, "amy", "GET", `/api/v1/notifications/${one.id}`);
    assert.equal(read.id, one.id);
    assert.equal(read.type, one.type);
    // Not anyone else's to read or dismiss.
    assert.equal((await request(A, "moe", "GET", `/api/v1/notifications/${one.id}`)).status, 404);
    assert.equal(
      (await request(A, "moe", "POST", `/api/v1/notifications/${one.id}/dismiss`)).status,
      404,
    );
    await api(A, "amy", "POST", `/api/v1/notifications/${one.id}/dismiss`);
    assert.equal((await request(A, "amy", "GET", `/api/v1/notifications/${one.id}`)).status, 404);
    const count = await api<{ count: number }>(
      A,
      "amy",
      "GET",
      "/api/v1/notifications/unread_count",
    );
    assert.ok(count.count >= 1);
    await api(A, "amy", "POST", "/api/v1/notifications/clear");
    assert.deepEqual(await notes(A, "amy"), []);
    assert.equal(
      (await api<{ count: number }>(A, "amy", "GET", "/api/v1/notifications/unread_count")).count,
      0,
    );
    assert.ok((await notes(A, "moe")).length >= 1, "moe's are his own");
  });
});
