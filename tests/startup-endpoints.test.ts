/**
 * What Mastodon apps (Elk, Phanpy, Tusky, Ivory) call at start-up, called
 * with a real Mastodon client library (`masto`) against a real server
 * process: the v2 instance and its configuration, preferences, custom emoji,
 * filters, markers, lists, announcements, conversations, followed tags and
 * trends. Then the links that must resolve: `/@username` and
 * `/@username/:id` as HTML pages (through the visibility rules) and as
 * ActivityPub for clients asking for it, WebFinger's profile page, a status's
 * `url`, and remote follow (`/authorize_interaction`).
 *
 * One site: olive (owner), ada (admin), bob, carl and dee (members).
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, afterEach, before, describe, test } from "node:test";
import { stopEmbeddedTestServer } from "@clique/testing";
import { createRestAPIClient, MastoHttpError, type mastodon } from "masto";
import {
  api,
  type Cleanup,
  cliOk,
  type Json,
  password,
  request,
  runCleanup,
  type Site,
  startSite,
} from "./support/sites.ts";

const AP = "application/activity+json";

const cleanup: Cleanup = [];
let S: Site;
let failed = false;
const clients: Record<string, mastodon.rest.Client> = {};

const token = (label: string) => `${label}-${randomBytes(5).toString("hex")}`;

/** A GET of a page as the browser would (no token), with optional headers. */
async function get(path: string, headers: Record<string, string> = {}) {
  const response = await S.fetch(`${S.origin}${path}`, { headers, redirect: "follow" });
  return {
    status: response.status,
    type: response.headers.get("content-type") ?? "",
    text: await response.text(),
    url: response.url,
  };
}

before(async () => {
  S = await startSite({
    label: "startup",
    owner: "olive",
    members: ["ada", "bob", "carl", "dee"],
    cleanup,
  });
  await cliOk(S, ["member", "role", "ada", "admin", "--reason", "helps olive"]);
  for (const name of ["olive", "ada", "bob", "carl", "dee"])
    clients[name] = createRestAPIClient({ url: S.origin, accessToken: S.tokens[name]! });
});

afterEach((t) => {
  if ("passed" in t && !t.passed) failed = true;
});

after(async () => {
  if (failed && S) console.error(`--- server ---\n${S.server.output().slice(-20_000)}`);
  await runCleanup(cleanup);
  await stopEmbeddedTestServer();
});

describe("what apps call at start-up", () => {
  test("the v2 instance: limits, media, streaming, registrations, contact", async () => {
    const instance = await clients.bob!.v2.instance.fetch();
    assert.equal(instance.domain, S.host);
    assert.equal(instance.configuration.statuses.maxCharacters, 5000);
    assert.equal(instance.configuration.statuses.maxMediaAttachments, 8);
    assert.equal(instance.configuration.statuses.charactersReservedPerUrl, 23);
    const media = instance.configuration.mediaAttachments;
    for (const type of ["image/jpeg", "image/png", "image/webp", "video/mp4"])
      assert.ok(media.supportedMimeTypes.includes(type), type);
    assert.ok(media.imageSizeLimit > 0 && media.videoSizeLimit > 0 && media.imageMatrixLimit > 0);
    assert.equal(instance.configuration.polls.maxOptions, 0);
    assert.equal(instance.configuration.accounts.maxFeaturedTags, 0);
    assert.equal(instance.configuration.urls.streaming, S.origin.replace(/^http/, "ws"));
    assert.equal(instance.configuration.vapid.publicKey, "");
    assert.equal(instance.configuration.translation.enabled, false);
    assert.equal(instance.registrations.enabled, false);
    assert.equal(instance.registrations.approvalRequired, true);
    assert.equal(instance.contact.account?.username, "olive");
  });

  test("preferences follow the member's default audience", async () => {
    const prefs = await clients.bob!.v1.preferences.fetch();
    const me = await clients.bob!.v1.accounts.verifyCredentials();
    // A new member posts to the Clique by default: Mastodon's nearest is `private`.
    assert.equal(prefs["posting:default:visibility"], me.source.privacy);
    assert.equal(prefs["posting:default:sensitive"], false);
    assert.equal(prefs["posting:default:language"], null);
    assert.equal(prefs["reading:expand:media"], "default");
    assert.equal(prefs["reading:expand:spoilers"], false);
    await api(S, "carl", "PATCH", "/api/v1/accounts/update_credentials", {
      source: { privacy: "public" },
    });
    const carl = await clients.carl!.v1.preferences.fetch();
    assert.equal(carl["posting:default:visibility"], "public");
    // Anonymous callers are refused, as on Mastodon.
    assert.equal((await request(S, null, "GET", "/api/v1/preferences")).status, 401);
  });

  test("empty lists in the right shapes: emoji, filters, lists, followed tags, trends, suggestions", async () => {
    assert.deepEqual(await clients.bob!.v1.customEmojis.list(), []);
    assert.deepEqual(await clients.bob!.v2.filters.list(), []);
    assert.deepEqual(await clients.bob!.v1.filters.list(), []);
    assert.deepEqual(await clients.bob!.v1.lists.list(), []);
    assert.deepEqual(await clients.bob!.v1.followedTags.list(), []);
    assert.deepEqual(await clients.bob!.v1.trends.tags.list(), []);
    assert.deepEqual(await clients.bob!.v1.trends.statuses.list(), []);
    assert.deepEqual(await clients.bob!.v1.trends.links.list(), []);
    assert.deepEqual(await clients.bob!.v2.suggestions.list(), []);
    assert.deepEqual(await clients.bob!.v1.featuredTags.list(), []);
    assert.deepEqual(await clients.bob!.v1.domainBlocks.list(), []);
    // The Clique's contacts with other servers are nobody's business.
    assert.deepEqual(await api(S, null, "GET", "/api/v1/instance/peers"), []);
    assert.deepEqual(await api(S, null, "GET", "/api/v1/instance/activity"), []);
    assert.deepEqual(await api(S, null, "GET", "/api/v1/instance/rules"), []);
    // (masto 8 sends a bare array as `0=…`: asked by hand, as Mastodon documents it.)
    const familiar = await api(
      S,
      "bob",
      "GET",
      `/api/v1/accounts/familiar_followers?id[]=${S.ids.carl}&id[]=${S.ids.dee}`,
    );
    assert.deepEqual(familiar, [
      { id: S.ids.carl, accounts: [] },
      { id: S.ids.dee, accounts: [] },
    ]);
  });

  test("markers: saved per member, read back with versions", async () => {
    assert.deepEqual(await clients.bob!.v1.markers.fetch({ timeline: ["home"] }), {});
    const saved = await clients.bob!.v1.markers.create({
      home: { lastReadId: "0190a000-0000-7000-8000-000000000001" },
      notifications: { lastReadId: "0190a000-0000-7000-8000-000000000002" },
    });
    assert.equal(saved.home?.lastReadId, "0190a000-0000-7000-8000-000000000001");
    assert.equal(saved.home?.version, 1);
    await clients.bob!.v1.markers.create({
      home: { lastReadId: "0190a000-0000-7000-8000-000000000003" },
    });
    const read = await clients.bob!.v1.markers.fetch({ timeline: ["home", "notifications"] });
    assert.equal(read.home?.lastReadId, "0190a000-0000-7000-8000-000000000003");
    assert.equal(read.home?.version, 2);
    assert.equal(read.notifications?.lastReadId, "0190a000-0000-7000-8000-000000000002");
    assert.equal(read.notifications?.version, 1);
    assert.ok(!Number.isNaN(Date.parse(read.home!.updatedAt)));
    // Only one timeline when one is asked for; nobody else's.
    assert.deepEqual(
      Object.keys(await clients.bob!.v1.markers.fetch({ timeline: ["notifications"] })),
      ["notifications"],
    );
    assert.deepEqual(
      await clients.carl!.v1.markers.fetch({ timeline: ["home", "notifications"] }),
      {},
    );
  });

  test("announcements: an admin writes, members read and dismiss", async () => {
    const text = `Picnic on Sunday <b>${token("announce")}</b>`;
    // A member may not write one.
    const refused = await request(S, "bob", "POST", "/api/v1/clique/announcements", { text });
    assert.equal(refused.status, 403);
    const created = await api<Json & { content: string }>(
      S,
      "ada",
      "POST",
      "/api/v1/clique/announcements",
      { text },
    );
    assert.ok(!created.content.includes("<b>"), "the text is escaped");
    assert.ok(created.content.startsWith("<p>Picnic on Sunday"));
    const list = await clients.bob!.v1.announcements.list();
    const mine = list.find((a) => a.id === created.id);
    assert.ok(mine, "bob reads it");
    // (masto's Announcement type leaves out Mastodon's `read`.)
    assert.equal((mine as unknown as { read: boolean }).read, false);
    assert.ok(mine.content.includes(text.split("<b>")[1]!.split("</b>")[0]!));
    assert.deepEqual(mine.reactions, []);
    await clients.bob!.v1.announcements.$select(created.id).dismiss();
    // Dismissed: gone from the default list, `read: true` with `with_dismissed`.
    assert.ok(!(await clients.bob!.v1.announcements.list()).some((a) => a.id === created.id));
    const all = await api<(Json & { read: boolean })[]>(
      S,
      "bob",
      "GET",
      "/api/v1/announcements?with_dismissed=true",
    );
    assert.equal(all.find((a) => a.id === created.id)?.read, true);
    // Carl has not dismissed it.
    const carls = (await clients.carl!.v1.announcements.list()).find((a) => a.id === created.id);
    assert.equal((carls as unknown as { read: boolean } | undefined)?.read, false);
    // Edited, then deleted by an admin.
    const edited = await api<Json & { content: string }>(
      S,
      "olive",
      "PATCH",
      `/api/v1/clique/announcements/${created.id}`,
      { text: "Picnic moved to Monday" },
    );
    assert.match(edited.content, /Monday/);
    await api(S, "ada", "DELETE", `/api/v1/clique/announcements/${created.id}`);
    assert.ok(!(await clients.carl!.v1.announcements.list()).some((a) => a.id === created.id));
  });

  test("conversations: a direct post between two members, for both, never for a third", async () => {
    const secret = token("direct");
    const status = await clients.bob!.v1.statuses.create({
      status: `@carl ${secret}`,
      visibility: "direct",
    });
    const forCarl = await clients.carl!.v1.conversations.list();
    const carlSees = forCarl.find((c) => c.lastStatus?.id === status.id);
    assert.ok(carlSees, "carl has the conversation");
    assert.deepEqual(
      carlSees.accounts.map((a) => a.username),
      ["bob"],
    );
    assert.equal(carlSees.unread, true);
    assert.ok(carlSees.lastStatus?.content.includes(secret));
    const bobSees = (await clients.bob!.v1.conversations.list()).find(
      (c) => c.lastStatus?.id === status.id,
    );
    assert.ok(bobSees);
    assert.deepEqual(
      bobSees.accounts.map((a) => a.username),
      ["carl"],
    );
    assert.equal(bobSees.unread, false, "one's own post is not unread");
    assert.equal(bobSees.id, carlSees.id);
    // Dee is in neither.
    const dee = await api(S, "dee", "GET", "/api/v1/conversations");
    assert.ok(!JSON.stringify(dee).includes(secret));
    // A reply lands in the same conversation.
    const reply = await clients.carl!.v1.statuses.create({
      status: `@bob got it ${token("reply")}`,
      visibility: "direct",
      inReplyToId: status.id,
    });
    const again = (await clients.bob!.v1.conversations.list()).find((c) => c.id === bobSees.id);
    assert.equal(again?.lastStatus?.id, reply.id);
    assert.equal(again?.unread, true);
    // Read, then hidden for bob only.
    const read = await clients.bob!.v1.conversations.$select(bobSees.id).read();
    assert.equal(read.unread, false);
    assert.equal(
      (await clients.bob!.v1.conversations.list()).find((c) => c.id === bobSees.id)?.unread,
      false,
    );
    await clients.bob!.v1.conversations.$select(bobSees.id).remove();
    assert.ok(!(await clients.bob!.v1.conversations.list()).some((c) => c.id === bobSees.id));
    assert.ok((await clients.carl!.v1.conversations.list()).some((c) => c.id === bobSees.id));
    // Dee cannot read or hide a conversation she is not in.
    await assert.rejects(
      clients.dee!.v1.conversations.$select(bobSees.id).read(),
      (e: unknown) => e instanceof MastoHttpError && e.statusCode === 404,
    );
    // A new post brings it back for bob.
    await clients.carl!.v1.statuses.create({ status: "@bob one more", visibility: "direct" });
    assert.ok((await clients.bob!.v1.conversations.list()).some((c) => c.id === bobSees.id));
  });
});

describe("links that resolve", () => {
  let circlePost = "";
  let publicPost = "";
  const tokens: Record<string, string> = {
    bio: token("bio"),
    public: token("public"),
    circle: token("circle"),
  };
  before(async () => {
    await api(S, "olive", "PATCH", "/api/v1/accounts/update_credentials", {
      display_name: "Olive <Owner>",
      note: `Keeps bees ${tokens.bio}`,
    });
    const circle = await api(S, "olive", "POST", "/api/v1/clique/circles", {
      name: "bees",
      member_ids: [S.ids.bob],
    });
    publicPost = (
      await api(S, "olive", "POST", "/api/v1/statuses", {
        status: `hello <script>alert(1)</script> ${tokens.public}`,
        visibility: "public",
      })
    ).id;
    circlePost = (
      await api(S, "olive", "POST", "/api/v1/statuses", {
        status: `inner ${tokens.circle}`,
        audience: "circle",
        circle_id: circle.id,
      })
    ).id;
  });

  test("/@username: an HTML page with what an anonymous viewer may see", async () => {
    const page = await get("/@olive");
    assert.equal(page.status, 200);
    assert.match(page.type, /text\/html/);
    // The display name, escaped (as an entity in the HTML, as \u003c in the page's inline data).
    assert.match(page.text, /Olive (&#60;|&lt;)Owner(&#62;|&gt;)/, "the display name, escaped");
    assert.ok(!page.text.includes("<Owner>"));
    assert.ok(page.text.includes(tokens.bio!));
    assert.ok(page.text.includes(tokens.public!));
    assert.ok(!page.text.includes("<script>alert(1)</script>"), "post text is escaped");
    assert.ok(!page.text.includes(tokens.circle!), "a circle post is not shown to anonymous");
    assert.match(
      page.text,
      new RegExp(
        `<link rel="alternate" type="application/activity\\+json" href="${S.origin}/users/olive"/?>`,
      ),
    );
    assert.equal((await get("/@nobody")).status, 404);
    // A member in the circle sees it (a bearer token here, a session cookie in a browser).
    const bob = await get("/@olive", { authorization: `Bearer ${S.tokens.bob}` });
    assert.ok(bob.text.includes(tokens.circle!));
    const carl = await get("/@olive", { authorization: `Bearer ${S.tokens.carl}` });
    assert.ok(!carl.text.includes(tokens.circle!));
  });

  test("/@username/:id: the post if visible, else a 404 page", async () => {
    const page = await get(`/@olive/${publicPost}`);
    assert.equal(page.status, 200);
    assert.ok(page.text.includes(tokens.public!));
    assert.ok(page.text.includes(`href="${S.origin}/users/olive/statuses/${publicPost}"`));
    const hidden = await get(`/@olive/${circlePost}`);
    assert.equal(hidden.status, 404);
    assert.ok(!hidden.text.includes(tokens.circle!));
    assert.equal((await get(`/@bob/${publicPost}`)).status, 404, "not bob's post");
    const bob = await get(`/@olive/${circlePost}`, { authorization: `Bearer ${S.tokens.bob}` });
    assert.equal(bob.status, 200);
    assert.ok(bob.text.includes(tokens.circle!));
    assert.equal(
      (await get(`/@olive/${circlePost}`, { authorization: `Bearer ${S.tokens.carl}` })).status,
      404,
    );
  });

  test("the same URLs asked for as ActivityPub give the actor and the object", async () => {
    const actor = await get("/@olive", { accept: AP });
    assert.equal(actor.status, 200);
    const person = JSON.parse(actor.text) as Json & { url: string; type: string };
    assert.equal(person.id, `${S.origin}/users/olive`);
    assert.equal(person.type, "Person");
    assert.equal(person.url, `${S.origin}/@olive`);
    const note = await get(`/@olive/${publicPost}`, {
      accept: 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"',
    });
    assert.equal(note.status, 200);
    const object = JSON.parse(note.text) as Json & { url: string; content: string };
    assert.equal(object.id, `${S.origin}/users/olive/statuses/${publicPost}`);
    assert.equal(object.url, `${S.origin}/@olive/${publicPost}`);
    assert.ok(object.content.includes(tokens.public!));
    // A circle post stays out of an unsigned fetch.
    const hidden = await get(`/@olive/${circlePost}`, { accept: AP });
    assert.ok(hidden.status >= 400);
    assert.ok(!hidden.text.includes(tokens.circle!));
  });

  test("WebFinger's profile page, a status's and an account's url", async () => {
    const finger = await get(
      `/.well-known/webfinger?resource=${encodeURIComponent(`acct:olive@${S.host}`)}`,
    );
    const links = (JSON.parse(finger.text) as { links: { rel: string; href?: string }[] }).links;
    const profile = links.find((l) => l.rel === "http://webfinger.net/rel/profile-page");
    assert.equal(profile?.href, `${S.origin}/@olive`);
    const status = await clients.olive!.v1.statuses.$select(publicPost).fetch();
    assert.equal(status.url, `${S.origin}/@olive/${publicPost}`);
    assert.equal(status.account.url, `${S.origin}/@olive`);
    const page = await get(new URL(status.url!).pathname);
    assert.equal(page.status, 200);
    assert.ok(page.text.includes(tokens.public!));
  });

  test("a hashtag's page: the posts with it the viewer may see", async () => {
    const tagged = token("tagged");
    await api(S, "olive", "POST", "/api/v1/statuses", {
      status: `for the hive ${tagged} #Honey`,
      audience: "clique",
    });
    const status = (
      await api<(Json & { tags: { url: string }[] })[]>(
        S,
        "bob",
        "GET",
        "/api/v1/timelines/tag/honey",
      )
    )[0]!;
    assert.equal(status.tags[0]?.url, `${S.origin}/tags/honey`);
    const bob = await get("/tags/honey", { authorization: `Bearer ${S.tokens.bob}` });
    assert.equal(bob.status, 200);
    assert.ok(bob.text.includes(tagged));
    // Anonymous visitors: not while the Clique keeps its timelines to members.
    const anonymous = await get("/tags/honey");
    assert.equal(anonymous.status, 401);
    assert.ok(!anonymous.text.includes(tagged));
  });

  test("a browser signed in by cookie: the pages show what the member may see, the follow button works", async () => {
    const signIn = await S.fetch(`${S.origin}/api/v1/clique/sessions`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: S.origin },
      body: JSON.stringify({ username: "bob", password: password("bob", S.label) }),
    });
    assert.equal(signIn.status, 200, await signIn.text());
    const cookie = (signIn.headers.get("set-cookie") ?? "").split(";")[0]!;
    assert.match(cookie, /^clique_session=/);
    const profile = await get("/@olive", { cookie });
    assert.ok(profile.text.includes(tokens.circle!), "bob is in the circle");
    assert.equal((await get(`/@olive/${circlePost}`, { cookie })).status, 200);
    const follow = await get(
      `/authorize_interaction?uri=${encodeURIComponent(`${S.origin}/@olive`)}`,
      { cookie },
    );
    const action = /<form method="post" action="([^"]+)">/.exec(follow.text)?.[1];
    assert.equal(action, `/api/v1/accounts/${S.ids.olive}/follow`);
    // The form posts from the Clique's own pages (the browser sends its Origin).
    const posted = await S.fetch(`${S.origin}${action}`, {
      method: "POST",
      headers: { cookie, origin: S.origin, "content-type": "application/x-www-form-urlencoded" },
      body: "",
    });
    assert.equal(posted.status, 200, await posted.text());
    const [relationship] = await api<(Json & { following: boolean; requested: boolean })[]>(
      S,
      "bob",
      "GET",
      `/api/v1/accounts/relationships?id[]=${S.ids.olive}`,
    );
    // Members' accounts are locked by default: the follow waits for olive's approval.
    assert.equal(relationship?.requested, true);
    // From another site, the same form is refused (CSRF).
    const forged = await S.fetch(`${S.origin}${action}`, {
      method: "POST",
      headers: {
        cookie,
        origin: "https://evil.example",
        "content-type": "application/x-www-form-urlencoded",
      },
      body: "",
    });
    assert.equal(forged.status, 403);
  });

  test("remote follow: authorize_interaction shows the account and a follow button", async () => {
    const anonymous = await get(
      `/authorize_interaction?uri=${encodeURIComponent(`${S.origin}/users/olive`)}`,
    );
    assert.equal(anonymous.status, 200);
    assert.match(anonymous.text, /Sign in/);
    const bob = await get(
      `/authorize_interaction?uri=${encodeURIComponent(`acct:olive@${S.host}`)}`,
      { authorization: `Bearer ${S.tokens.bob}` },
    );
    assert.equal(bob.status, 200);
    assert.ok(bob.text.includes(`action="/api/v1/accounts/${S.ids.olive}/follow"`));
    assert.ok(bob.text.includes("Olive &#60;Owner&#62;"));
  });
});
