/**
 * The Clique's own timeline and tag timelines, through a real server process:
 * `GET /api/v1/timelines/public` (with and without `local=true`) shows a
 * member every member's post they may see — Clique-only posts, circles and
 * direct posts they are in, never a circle they are not in; anonymous
 * visitors get 401 until an admin lets them see the public posts; tag
 * timelines go through the same rules; pages carry Mastodon's `Link` header.
 *
 * One site: olive (owner), ada (admin), bob and carl (members). Olive's
 * circle "inner" holds bob, not carl.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, afterEach, before, describe, test } from "node:test";
import { stopEmbeddedTestServer } from "@clique/testing";
import {
  api,
  type Cleanup,
  cliOk,
  type Json,
  request,
  runCleanup,
  type Site,
  startSite,
} from "./support/sites.ts";

type Status = Json & { content: string; audience: string; account: Json };

const cleanup: Cleanup = [];
let S: Site;
let failed = false;
const tokens: Record<string, string> = {};

const token = (label: string) => `${label}-${randomBytes(5).toString("hex")}`;

async function post(user: string, body: Record<string, unknown>): Promise<Status> {
  return api<Status>(S, user, "POST", "/api/v1/statuses", body);
}

/** Every status text on a timeline, following `Link: rel="next"` to the end. */
async function readAll(user: string | null, path: string): Promise<string> {
  let url: string | null = `${S.origin}${path}`;
  let text = "";
  for (let pages = 0; url && pages < 50; pages++) {
    const response: Response = await S.fetch(url, { headers: headersOf(user) });
    const body = await response.text();
    assert.equal(response.status, 200, `${url} as ${user}: ${body}`);
    text += body;
    const next = /<([^>]+)>;\s*rel="next"/.exec(response.headers.get("link") ?? "");
    url = (JSON.parse(body) as unknown[]).length > 0 && next ? next[1]! : null;
  }
  return text;
}

function headersOf(user: string | null): Record<string, string> {
  return user ? { authorization: `Bearer ${S.tokens[user]}` } : {};
}

before(async () => {
  S = await startSite({
    label: "timelines",
    owner: "olive",
    members: ["ada", "bob", "carl"],
    cleanup,
  });
  await cliOk(S, ["member", "role", "ada", "admin", "--reason", "helps olive"]);
});

afterEach((t) => {
  if ("passed" in t && !t.passed) failed = true;
});

after(async () => {
  if (failed && S) console.error(`--- server ---\n${S.server.output().slice(-20_000)}`);
  await runCleanup(cleanup);
  await stopEmbeddedTestServer();
});

describe("the Clique's timeline", () => {
  let circleId = "";
  before(async () => {
    circleId = (
      await api(S, "olive", "POST", "/api/v1/clique/circles", {
        name: "inner",
        member_ids: [S.ids.bob],
      })
    ).id;
    tokens.public = token("public");
    tokens.unlisted = token("unlisted");
    tokens.clique = token("clique");
    tokens.circle = token("circle");
    tokens.direct = token("direct");
    tokens.followers = token("followers");
    await post("olive", { status: `open ${tokens.public} #Gardening`, visibility: "public" });
    await post("olive", { status: `quiet ${tokens.unlisted}`, visibility: "unlisted" });
    await post("olive", { status: `for us ${tokens.clique} #gardening`, audience: "clique" });
    await post("olive", {
      status: `inner ${tokens.circle} #gardening`,
      audience: "circle",
      circle_id: circleId,
    });
    await post("olive", { status: `@bob just you ${tokens.direct}`, visibility: "direct" });
    await post("olive", { status: `followers ${tokens.followers}`, audience: "followers" });
  });

  test("a member sees Clique-only posts and the circles and direct posts they are in", async () => {
    for (const path of ["/api/v1/timelines/public?local=true", "/api/v1/timelines/public"]) {
      const bob = await readAll("bob", path);
      assert.ok(bob.includes(tokens.public!), `${path}: public`);
      assert.ok(bob.includes(tokens.clique!), `${path}: clique`);
      assert.ok(bob.includes(tokens.circle!), `${path}: bob is in the circle`);
      assert.ok(bob.includes(tokens.direct!), `${path}: addressed to bob`);
      assert.ok(!bob.includes(tokens.unlisted!), `${path}: unlisted stays off timelines`);
      assert.ok(!bob.includes(tokens.followers!), `${path}: bob does not follow olive`);
      const carl = await readAll("carl", path);
      assert.ok(carl.includes(tokens.public!));
      assert.ok(carl.includes(tokens.clique!));
      assert.ok(!carl.includes(tokens.circle!), `${path}: carl is not in the circle`);
      assert.ok(!carl.includes(tokens.direct!), `${path}: not addressed to carl`);
    }
    const parsed = await api<Status[]>(S, "bob", "GET", "/api/v1/timelines/public?local=true");
    const clique = parsed.find((s) => s.content.includes(tokens.clique!));
    assert.equal(clique?.audience, "clique");
    assert.equal(clique?.visibility, "private");
    // `remote=true` (the federated-only timeline): a Clique shows none.
    assert.deepEqual(await api(S, "bob", "GET", "/api/v1/timelines/public?remote=true"), []);
  });

  test("anonymous visitors get 401 until an admin opens the public posts", async () => {
    const refused = await request(S, null, "GET", "/api/v1/timelines/public?local=true");
    assert.equal(refused.status, 401);
    assert.match(refused.text, /requires an authenticated user/);
    assert.equal((await request(S, null, "GET", "/api/v1/timelines/tag/gardening")).status, 401);
    // A plain member may not change the setting.
    const denied = await request(S, "bob", "PATCH", "/api/v1/clique", {
      public_timeline_anonymous: true,
    });
    assert.equal(denied.status, 403);
    await api(S, "ada", "PATCH", "/api/v1/clique", { public_timeline_anonymous: true });
    const settings = await api<Json & { public_timeline_anonymous: boolean }>(
      S,
      "bob",
      "GET",
      "/api/v1/clique",
    );
    assert.equal(settings.public_timeline_anonymous, true);
    const anonymous = await readAll(null, "/api/v1/timelines/public?local=true");
    assert.ok(anonymous.includes(tokens.public!));
    for (const hidden of ["unlisted", "clique", "circle", "direct", "followers"])
      assert.ok(!anonymous.includes(tokens[hidden]!), `anonymous must not see ${hidden}`);
    const tag = await readAll(null, "/api/v1/timelines/tag/gardening");
    assert.ok(tag.includes(tokens.public!));
    assert.ok(!tag.includes(tokens.clique!) && !tag.includes(tokens.circle!));
    await api(S, "ada", "PATCH", "/api/v1/clique", { public_timeline_anonymous: false });
    assert.equal(
      (await request(S, null, "GET", "/api/v1/timelines/public?local=true")).status,
      401,
    );
  });

  test("the tag timeline: the tag in any case, through the visibility rules; any/all/none", async () => {
    const bob = await readAll("bob", "/api/v1/timelines/tag/GARDENING");
    assert.ok(bob.includes(tokens.public!) && bob.includes(tokens.clique!));
    assert.ok(bob.includes(tokens.circle!));
    assert.ok(!bob.includes(tokens.direct!), "the direct post has no tag");
    const carl = await readAll("carl", "/api/v1/timelines/tag/gardening");
    assert.ok(carl.includes(tokens.clique!) && !carl.includes(tokens.circle!));
    const statuses = await api<(Status & { tags: { name: string; url: string }[] })[]>(
      S,
      "bob",
      "GET",
      "/api/v1/timelines/tag/gardening",
    );
    assert.ok(statuses.every((s) => s.tags.some((t) => t.name === "gardening")));
    // Another tag, and the narrowing parameters.
    const both = token("both");
    await post("bob", { status: `${both} #gardening #compost`, audience: "clique" });
    const all = await readAll("carl", "/api/v1/timelines/tag/gardening?all[]=compost");
    assert.ok(all.includes(both) && !all.includes(tokens.clique!));
    const none = await readAll("carl", "/api/v1/timelines/tag/gardening?none[]=compost");
    assert.ok(!none.includes(both) && none.includes(tokens.clique!));
    const any = await readAll("carl", "/api/v1/timelines/tag/nothing?any[]=compost");
    assert.ok(any.includes(both) && !any.includes(tokens.clique!));
    assert.deepEqual(await api(S, "carl", "GET", "/api/v1/timelines/tag/nosuchtag"), []);
  });

  test("pages: Link headers with max_id and min_id, no post twice", async () => {
    const mine: string[] = [];
    for (let i = 0; i < 5; i++)
      mine.push((await post("carl", { status: `page ${i}`, audience: "clique" })).id);
    const seen: string[] = [];
    let url = `${S.origin}/api/v1/timelines/public?local=true&limit=2`;
    let link = "";
    for (let i = 0; i < 30; i++) {
      const response = await S.fetch(url, { headers: headersOf("bob") });
      const page = (await response.json()) as Status[];
      if (page.length === 0) break;
      assert.ok(page.length <= 2);
      seen.push(...page.map((s) => s.id));
      link = response.headers.get("link") ?? "";
      assert.match(link, /rel="next"/);
      assert.match(link, /rel="prev"/);
      assert.match(link, /local=true/);
      const next = /<([^>]+)>;\s*rel="next"/.exec(link);
      assert.ok(next);
      assert.match(next[1]!, /max_id=/);
      url = next[1]!.replace(/^https?:\/\/[^/]+/, S.origin);
    }
    assert.equal(new Set(seen).size, seen.length, "no post twice");
    for (const id of mine) assert.ok(seen.includes(id));
    // Newest first.
    assert.deepEqual([...seen].sort().reverse(), seen);
    // min_id: the page just after a post.
    const after = await api<Status[]>(
      S,
      "bob",
      "GET",
      `/api/v1/timelines/public?local=true&limit=2&min_id=${mine[1]}`,
    );
    assert.deepEqual(
      after.map((s) => s.id),
      [mine[3], mine[2]],
    );
    // only_media: none of these carry media.
    assert.deepEqual(
      await api(S, "bob", "GET", "/api/v1/timelines/public?local=true&only_media=true"),
      [],
    );
  });
});
