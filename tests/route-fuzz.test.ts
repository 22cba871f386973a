/**
 * No input produces a 500. Every route in `http/routes.ts` (the list the
 * canary crawl also walks) gets hostile values in each path parameter, each
 * known query parameter and each body field, one at a time, plus whole-body
 * junk; bodies go as JSON, urlencoded and multipart; callers are anonymous and
 * a signed-in member (ActivityPub GETs also signed by a remote actor). No
 * answer may be a 5xx, every error must be JSON with `error` and `code`, the
 * server must log no error, and afterwards it must still post, read and sign in.
 *
 * A route missing from `ROUTE_TABLE` fails the test: whoever adds a route says
 * what a valid request to it looks like, and the fuzzing follows.
 *
 * While fixing what it finds: FUZZ_ONLY=regex narrows the run to some routes
 * (`FUZZ_ONLY='POST /api/v1/statuses$'`), FUZZ_COSTS=1 prints each route's
 * request count and time.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import {
  createTestDatabase,
  type FakeRemote,
  lastLine,
  runCliOk,
  type ServerProcess,
  startFakeRemote,
  startServerProcess,
  stopEmbeddedTestServer,
  type TestDatabase,
} from "@clique/testing";
import { ROUTES, type RouteSpec } from "../packages/server/src/http/routes.ts";
import { deliver, eventually, fetchAs } from "./support/mastodon-signing.ts";
import { multipart, type Part, solidImage, uploadReady } from "./support/media.ts";

const PASSWORDS = {
  alice: "alice-password-1",
  bob: "bob-password-22",
  carol: "carol-password-3",
};
/** Requests in flight at once: the machine has two cores, and the server one process. */
const CONCURRENCY = 4;
/** An address the fuzzing never signs in from, so its throttling cannot lock the final check out. */
const CLEAN_ADDRESS = "203.0.113.77";

// ------------------------------------------------------------------ the world

interface Fixtures {
  alice: string;
  bob: string;
  carol: string;
  status: string;
  doomedStatus: string;
  circle: string;
  doomedCircle: string;
  invite: string;
  doomedInvite: string;
  inviteCode: string;
  username: string;
  avatarFile: string;
  host: string;
  /** Alice's processed upload: its id, a file key, and the grant of the URL she was handed. */
  media: string;
  mediaFile: string;
  mediaFor: string;
  mediaSig: string;
  /** A remote photo's file at the media proxy. */
  proxiedFile: string;
  /** mallory (the fake remote's account) as this server knows her, and her post with the photo. */
  mallory: string;
  malloryStatus: string;
  /** bob's report about mallory and her post (alice, the owner, handles it). */
  report: string;
  /** A decision about a server nobody here knows (Mastodon's admin domain blocks). */
  domainBlock: string;
  /** Members moderated by the fuzz: dora is suspended, warned and given roles; ed is removed. */
  dora: string;
  ed: string;
  /** bob's post, removed by a moderator. */
  removableStatus: string;
  /** The `@alice` of profile pages, and a hashtag. */
  atUsername: string;
  hashtag: string;
}

let db: TestDatabase | undefined;
let server: ServerProcess | undefined;
let remote: FakeRemote | undefined;
let mediaDir: string | undefined;
/** A small valid PNG: the file of every upload probe that is not about the file. */
let png: Buffer;
const tokens = { alice: "", bob: "", carol: "" };
let f: Fixtures;

before(async () => {
  remote = await startFakeRemote({ usernames: ["mallory"] });
  db = await createTestDatabase();
  mediaDir = await mkdtemp(path.join(tmpdir(), "clique-fuzz-media-"));
  png = await solidImage(16, 12, [200, 40, 40]);
  const env = {
    ...process.env,
    DATABASE_URL: db.url,
    CLIQUE_MEDIA_DIR: mediaDir,
    CLIQUE_DB_POOL: "4",
    CLIQUE_ALLOW_PRIVATE_ADDRESS: "true",
    // The final sign-in says it comes from CLEAN_ADDRESS (X-Forwarded-For, trusted from loopback).
    CLIQUE_TRUSTED_PROXIES: "127.0.0.1",
  };
  const starting = startServerProcess({ env, databaseUrl: db.url });
  const setUp = (async () => {
    await runCliOk(["init", "--name", "Fuzz", "--owner", "alice", "--password-stdin"], {
      env,
      stdin: PASSWORDS.alice,
    });
    tokens.alice = lastLine(await runCliOk(["token", "create", "alice"], { env }));
  })();
  const [started, done] = await Promise.allSettled([starting, setUp]);
  if (started.status === "fulfilled") server = started.value;
  for (const outcome of [started, done]) if (outcome.status === "rejected") throw outcome.reason;

  const ok = async (
    method: string,
    path: string,
    body: unknown,
    headers: Record<string, string> = { authorization: `Bearer ${tokens.alice}` },
  ) => {
    const response = await fetch(`${server!.url}${path}`, {
      method,
      headers: { ...headers, "content-type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const json = (await response.json()) as Record<string, unknown>;
    assert.ok(response.ok, `${method} ${path}: ${response.status} ${JSON.stringify(json)}`);
    return { json, headers: response.headers };
  };
  // Bob and Carol join through the API, as people do, and make a token in their session.
  const join = async (name: "bob" | "carol") => {
    const invite = await ok("POST", "/api/v1/clique/invites", { max_uses: 1 });
    const joined = await ok(
      "POST",
      "/api/v1/clique/invites/redeem",
      { code: invite.json.code, username: name, password: PASSWORDS[name] },
      {},
    );
    const cookie = /clique_session=[^;]+/.exec(joined.headers.get("set-cookie") ?? "")?.[0] ?? "";
    const made = await ok(
      "POST",
      "/api/v1/clique/tokens",
      { name: "fuzz" },
      {
        cookie,
        origin: server!.origin,
      },
    );
    tokens[name] = made.json.access_token as string;
  };
  await Promise.all([join("bob"), join("carol")]);
  // Dora and Ed join too; moderation acts on them (they need no tokens).
  for (const name of ["dora", "ed"]) {
    const invite = await ok("POST", "/api/v1/clique/invites", { max_uses: 1 });
    await ok(
      "POST",
      "/api/v1/clique/invites/redeem",
      { code: invite.json.code, username: name, password: `${name}-password-44` },
      {},
    );
  }
  const id = async (name: string) =>
    (await ok("GET", `/api/v1/accounts/lookup?acct=${name}`, undefined)).json.id as string;
  const [alice, bob, carol, dora, ed] = await Promise.all(
    ["alice", "bob", "carol", "dora", "ed"].map(id),
  );
  const post = (status: string) =>
    ok("POST", "/api/v1/statuses", { status, visibility: "public" }).then(
      (r) => r.json.id as string,
    );
  const circle = (name: string) =>
    ok("POST", "/api/v1/clique/circles", { name, member_ids: [bob] }).then(
      (r) => r.json.id as string,
    );
  const invite = () =>
    ok("POST", "/api/v1/clique/invites", { max_uses: 3, expires_in: 86400 }).then((r) => r.json);
  const [status, doomedStatus, circleId, doomedCircle, kept, doomed, photo] = await Promise.all([
    post("The post everyone fuzzes"),
    post("The post that gets deleted"),
    circle("Fuzzers"),
    circle("Doomed"),
    invite(),
    invite(),
    uploadReady(server!.url, tokens.alice, png),
  ]);
  // Unattached, so only alice sees it: her URL carries a grant naming her.
  const handed = new URL(photo.url!);
  assert.ok(handed.searchParams.get("sig"), `a grant in ${photo.url}`);
  // A public post of mallory's with a photo, naming alice: its file is at the proxy.
  const mallory = remote!.account("mallory");
  remote!.serveFile("/files/photo.png", { body: png, type: "image/png" });
  const aliceUri = `${server!.origin}/users/alice`;
  const noteId = `${mallory.id}/statuses/with-a-photo`;
  const note = {
    id: noteId,
    type: "Note",
    attributedTo: mallory.id,
    to: ["https://www.w3.org/ns/activitystreams#Public"],
    cc: [aliceUri],
    tag: [{ type: "Mention", href: aliceUri }],
    content: "<p>a photo for @alice</p>",
    published: new Date().toISOString(),
    attachment: [
      { type: "Document", mediaType: "image/png", url: `${remote!.origin}/files/photo.png` },
    ],
  };
  const delivered = await deliver(
    `${server!.url}/inbox`,
    {
      "@context": "https://www.w3.org/ns/activitystreams",
      id: `${noteId}/activity`,
      type: "Create",
      actor: mallory.id,
      to: note.to,
      cc: note.cc,
      object: note,
    },
    { as: mallory },
  );
  assert.equal(delivered.status, 202, delivered.text);
  const remoteStatus = await eventually("mallory's post in alice's home", async () => {
    const home = await ok("GET", "/api/v1/timelines/home?limit=40", undefined);
    return (
      home.json as unknown as {
        id: string;
        uri: string;
        account: { id: string };
        media_attachments: { url: string }[];
      }[]
    ).find((s) => s.uri === noteId);
  });
  const proxied = new URL(remoteStatus.media_attachments[0]?.url ?? "http://x/none");
  assert.match(proxied.pathname, /^\/media\/proxy\//, "mallory's photo is at the proxy");
  // Bob asks to follow Alice (members approve followers by default): a follow request.
  await ok("POST", `/api/v1/accounts/${alice}/follow`, undefined, {
    authorization: `Bearer ${tokens.bob}`,
  });
  // Bob reports mallory's post: the report every report route works on.
  const report = await ok(
    "POST",
    "/api/v1/reports",
    { account_id: remoteStatus.account.id, status_ids: [remoteStatus.id], comment: "spam" },
    { authorization: `Bearer ${tokens.bob}` },
  );
  // A server alice decided about (a note only: nothing changes), for the admin domain blocks.
  const domainBlock = await ok("POST", "/api/v1/admin/domain_blocks", {
    domain: "fuzz-fixture.example",
    severity: "noop",
  });
  f = {
    alice: alice!,
    bob: bob!,
    carol: carol!,
    status,
    doomedStatus,
    circle: circleId,
    doomedCircle,
    invite: kept.id as string,
    doomedInvite: doomed.id as string,
    inviteCode: kept.code as string,
    username: "alice",
    atUsername: "@alice",
    hashtag: "fuzz",
    avatarFile: `${alice}.png`,
    host: new URL(server!.origin).host,
    media: photo.id,
    mediaFile: handed.pathname.split("/").at(-1)!,
    mediaFor: handed.searchParams.get("for")!,
    mediaSig: handed.searchParams.get("sig")!,
    proxiedFile: proxied.pathname.split("/").at(-1)!,
    mallory: remoteStatus.account.id,
    malloryStatus: remoteStatus.id,
    report: report.json.id as string,
    domainBlock: domainBlock.json.id as string,
    dora: dora!,
    ed: ed!,
    removableStatus: (
      await ok(
        "POST",
        "/api/v1/statuses",
        { status: "bob's post a moderator removes", visibility: "public" },
        { authorization: `Bearer ${tokens.bob}` },
      )
    ).json.id as string,
  };
});

after(async () => {
  await server?.stop();
  await remote?.close();
  await db?.drop();
  if (mediaDir) await rm(mediaDir, { recursive: true, force: true });
  await stopEmbeddedTestServer();
});

// ------------------------------------------------------------------ the table

/** What a valid request to a route looks like; hostile values replace one part at a time. */
interface RouteCase {
  /** Fixture for each `:param` of the path. */
  params?: Record<string, keyof Fixtures>;
  /** Known query parameters, with valid values. */
  query?: Record<string, unknown>;
  /** A valid body: each field is replaced by each hostile value in turn. */
  body?: Record<string, unknown>;
  /** Known body fields left out of the base body (each is added with hostile values). */
  extraFields?: readonly string[];
  /** Which member is "the member" here (default alice, the owner). */
  as?: keyof typeof tokens;
  /** The route revokes the caller's token: each member request gets a new one. */
  spendsToken?: boolean;
  /** Run after every other route (it deletes or changes a fixture). */
  last?: boolean;
  /** An upload: every multipart probe carries a valid image as `file`, and hostile uploads follow. */
  upload?: boolean;
}

const page = { max_id: "", since_id: "", min_id: "", limit: "20" };
const AUDIENCE_REF = { audience: "circle", circle_id: "" };

/** A well-formed id of no device and no group (e2ee routes, issue 15). */
const E2EE_NO_ID = "0190a5d2-7c3e-7000-8000-000000000e2e";

/** Routes that are HTML pages for browsers (their errors are pages too): routes.ts says which. */
const HTML_PAGES = new Set(
  ROUTES.filter((r) => r.web || r.html).map((r) => `${r.method} ${r.path}`),
);

/** Every route, by `METHOD /path`. A new route fails the coverage test until it is added here. */
const ROUTE_TABLE: Record<string, (f: Fixtures) => RouteCase> = {
  "GET /": () => ({}),
  "GET /health": () => ({}),
  "GET /invite/:code": () => ({ params: { code: "inviteCode" } }),
  // The web interface's pages (issue 12): the page, whatever the query says.
  "GET /_next/*": () => ({}),
  "GET /icon.svg": () => ({}),
  "GET /setup": () => ({ query: { token: "" } }),
  "GET /signin": () => ({ query: { return_to: "/home", error: "" } }),
  "GET /home": () => ({}),
  "GET /clique": () => ({}),
  "GET /compose": () => ({ query: { in_reply_to: "" } }),
  "GET /notifications": () => ({}),
  "GET /circles": () => ({}),
  "GET /people": () => ({ query: { tab: "" } }),
  "GET /members": () => ({}),
  "GET /moderation": () => ({}),
  "GET /settings": () => ({}),
  "GET /chats": () => ({}),
  "GET /chats/devices": () => ({}),
  "GET /chats/safety/:id": () => ({ params: { id: "bob" } }),
  "GET /chats/:id": () => ({ params: { id: "status" } }),
  "GET /static/avatar.png": () => ({}),
  "GET /static/header.png": () => ({}),
  "GET /avatars/:file": () => ({ params: { file: "avatarFile" } }),
  "GET /media/:file": (f) => ({
    params: { file: "mediaFile" },
    query: { for: f.mediaFor, sig: f.mediaSig },
  }),
  "GET /media/proxy/:file": () => ({ params: { file: "proxiedFile" } }),
  "POST /api/v2/media": () => ({
    body: { description: "A red square", focus: "0.25,-0.5" },
    upload: true,
  }),
  "POST /api/v1/media": () => ({
    body: { description: "A red square", focus: "0.25,-0.5" },
    upload: true,
  }),
  "GET /api/v1/media/:id": () => ({ params: { id: "media" } }),
  "PUT /api/v1/media/:id": () => ({
    params: { id: "media" },
    body: { description: "Still a red square", focus: "-1,1" },
  }),
  "GET /api/v1/instance": () => ({}),
  "GET /api/v2/instance": () => ({}),
  "GET /api/v2/search": (f) => ({
    query: { q: `alice@${f.host}`, resolve: "true", type: "accounts", limit: "5" },
  }),
  "GET /api/v1/accounts/verify_credentials": () => ({}),
  "PATCH /api/v1/accounts/update_credentials": () => ({
    body: {
      display_name: "Alice Fuzz",
      note: "Hello",
      locked: true,
      discoverable: false,
      fields_attributes: [{ name: "Site", value: "https://example.com" }],
      source: { privacy: "public" },
    },
  }),
  "DELETE /api/v1/profile/avatar": () => ({}),
  "DELETE /api/v1/profile/header": () => ({}),
  "GET /api/v1/accounts/lookup": () => ({ query: { acct: "alice" } }),
  "GET /api/v1/accounts/relationships": (f) => ({ query: { id: [f.bob, f.carol] } }),
  "GET /api/v1/accounts/:id": () => ({ params: { id: "bob" } }),
  "GET /api/v1/accounts/:id/statuses": () => ({
    params: { id: "alice" },
    query: {
      ...page,
      exclude_replies: "true",
      only_media: "false",
      pinned: "false",
      exclude_reblogs: "true",
      tagged: "x",
    },
  }),
  "GET /api/v1/accounts/:id/followers": () => ({ params: { id: "alice" } }),
  "GET /api/v1/accounts/:id/following": () => ({ params: { id: "alice" } }),
  "POST /api/v1/accounts/:id/follow": () => ({
    params: { id: "carol" },
    body: { reblogs: true, notify: false },
  }),
  "POST /api/v1/accounts/:id/unfollow": () => ({ params: { id: "carol" } }),
  "POST /api/v1/accounts/:id/remove_from_followers": () => ({ params: { id: "carol" } }),
  "POST /api/v1/accounts/:id/block": () => ({ params: { id: "carol" } }),
  "POST /api/v1/accounts/:id/unblock": () => ({ params: { id: "carol" } }),
  "POST /api/v1/accounts/:id/mute": () => ({
    params: { id: "carol" },
    body: { notifications: true, duration: 0 },
  }),
  "POST /api/v1/accounts/:id/unmute": () => ({ params: { id: "carol" } }),
  "GET /api/v1/blocks": () => ({ query: page }),
  "GET /api/v1/mutes": () => ({ query: page }),
  "GET /api/v1/follow_requests": () => ({ query: page }),
  "POST /api/v1/follow_requests/:id/authorize": () => ({ params: { id: "bob" } }),
  "POST /api/v1/follow_requests/:id/reject": () => ({ params: { id: "bob" }, last: true }),
  "POST /api/v1/statuses": (f) => ({
    body: {
      status: "Fuzzed post",
      spoiler_text: "cw",
      sensitive: false,
      language: "en",
      in_reply_to_id: f.status,
      visibility: "public",
      media_ids: [],
      poll: null,
      audience: "public",
      circle_id: f.circle,
      content_type: "text/plain",
      interaction_policy: {
        reply: "public",
        like: "followers",
        boost: { ...AUDIENCE_REF, circle_id: f.circle },
      },
      confirm_wider_audience: false,
    },
  }),
  "GET /api/v1/statuses/:id": () => ({ params: { id: "status" } }),
  "PUT /api/v1/statuses/:id": () => ({
    params: { id: "status" },
    body: {
      status: "The post everyone fuzzes",
      spoiler_text: "",
      sensitive: false,
      language: "en",
      media_ids: [],
    },
  }),
  "DELETE /api/v1/statuses/:id": () => ({ params: { id: "doomedStatus" }, last: true }),
  "GET /api/v1/statuses/:id/context": () => ({ params: { id: "status" } }),
  "GET /api/v1/statuses/:id/history": () => ({ params: { id: "status" } }),
  "GET /api/v1/statuses/:id/source": () => ({ params: { id: "status" } }),
  "POST /api/v1/statuses/:id/favourite": () => ({ params: { id: "status" } }),
  "POST /api/v1/statuses/:id/unfavourite": () => ({ params: { id: "status" } }),
  "POST /api/v1/statuses/:id/reblog": () => ({
    params: { id: "status" },
    body: { visibility: "public" },
  }),
  "POST /api/v1/statuses/:id/unreblog": () => ({ params: { id: "status" } }),
  // Bookmarks, pins, who liked or boosted, the member's lists (issue 11).
  "POST /api/v1/statuses/:id/bookmark": () => ({ params: { id: "status" } }),
  "POST /api/v1/statuses/:id/unbookmark": () => ({ params: { id: "status" } }),
  "POST /api/v1/statuses/:id/pin": () => ({ params: { id: "status" } }),
  "POST /api/v1/statuses/:id/unpin": () => ({ params: { id: "status" } }),
  "GET /api/v1/statuses/:id/favourited_by": () => ({ params: { id: "status" }, query: page }),
  "GET /api/v1/statuses/:id/reblogged_by": () => ({ params: { id: "status" }, query: page }),
  "GET /api/v1/bookmarks": () => ({ query: page }),
  "GET /api/v1/favourites": () => ({ query: page }),
  "GET /api/v1/timelines/home": () => ({ query: page }),
  "GET /api/v1/clique": () => ({}),
  "PATCH /api/v1/clique": () => ({
    body: {
      name: "Fuzz",
      description: "A fuzzed Clique",
      member_cap: 50,
      members_can_invite: true,
      member_list_audience: "clique",
    },
  }),
  "PATCH /api/v1/clique/profile": (f) => ({
    body: {
      bio_audience: "public",
      follows_audience: { ...AUDIENCE_REF, circle_id: f.circle },
      fields: [{ name: "Site", value: "https://example.com", audience: "followers" }],
    },
  }),
  // Bob is the one signed in with (and so throttled for) every hostile attempt; the
  // final check signs Alice in from another address.
  "POST /api/v1/clique/sessions": () => ({
    body: { username: "bob", password: PASSWORDS.bob },
  }),
  "DELETE /api/v1/clique/sessions/current": () => ({ spendsToken: true }),
  // The settings screen's sessions: alice signs in with tokens only, so any id is someone else's.
  "GET /api/v1/clique/sessions": () => ({}),
  "DELETE /api/v1/clique/sessions/:id": () => ({ params: { id: "invite" } }),
  // First-run setup (the fuzzed Clique is set up: every attempt is refused) and invite previews.
  "GET /api/v1/clique/setup": () => ({}),
  "POST /api/v1/clique/setup": () => ({
    body: {
      token: "not-a-setup-token",
      name: "Fuzz",
      description: "",
      member_cap: 10,
      username: "mallory",
      display_name: "Mallory",
      password: "mallory-password",
    },
  }),
  "GET /api/v1/clique/invites/preview": (f) => ({ query: { code: f.inviteCode } }),
  "POST /api/v1/clique/tokens": () => ({ body: { name: "fuzz" } }),
  // OAuth apps (issue 11).
  "POST /api/v1/apps": () => ({
    body: {
      client_name: "Fuzz",
      redirect_uris: "http://127.0.0.1:9/cb",
      scopes: "read write",
      website: "https://fuzz.example",
    },
  }),
  "GET /api/v1/apps/verify_credentials": () => ({}),
  "GET /oauth/authorize": () => ({
    query: {
      response_type: "code",
      client_id: "fuzz-client",
      redirect_uri: "http://127.0.0.1:9/cb",
      scope: "read",
      state: "s",
      code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
      code_challenge_method: "S256",
      force_login: "true",
      lang: "en",
    },
  }),
  "POST /oauth/authorize": () => ({
    body: {
      response_type: "code",
      client_id: "fuzz-client",
      redirect_uri: "http://127.0.0.1:9/cb",
      scope: "read",
      step: "sign_in",
      csrf_token: "x",
      username: "bob",
      password: PASSWORDS.bob,
      decision: "authorize",
    },
  }),
  "POST /oauth/token": () => ({
    body: {
      grant_type: "authorization_code",
      code: "fuzz-code-fuzz-code-fuzz-code",
      client_id: "fuzz-client",
      client_secret: "fuzz-secret",
      redirect_uri: "http://127.0.0.1:9/cb",
      code_verifier: "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
      scope: "read",
    },
  }),
  "POST /oauth/revoke": () => ({
    body: { client_id: "fuzz-client", client_secret: "fuzz-secret", token: "fuzz-token" },
  }),
  "GET /.well-known/oauth-authorization-server": () => ({}),
  "GET /.well-known/clique-security": () => ({}),
  "GET /.well-known/clique-web-bundle": () => ({}),
  "GET /api/v1/clique/apps": () => ({}),
  "DELETE /api/v1/clique/apps/:id": () => ({ params: { id: "status" } }),
  // End-to-end encrypted chats (issue 15): ids of no device or group, bodies of the right shape.
  "POST /api/v1/e2ee/devices": () => ({
    body: { name: "fuzz phone", signature_key: "A".repeat(43) + "=" },
    extraFields: ["ciphersuite"],
  }),
  "GET /api/v1/e2ee/devices": () => ({}),
  "DELETE /api/v1/e2ee/devices/:id": () => ({ params: { id: "status" } }),
  "POST /api/v1/e2ee/devices/:id/key_packages": () => ({
    params: { id: "status" },
    body: { key_packages: ["AAEC"] },
    extraFields: ["last_resort"],
  }),
  "POST /api/v1/e2ee/key_packages/claim": (f) => ({
    body: { device_id: E2EE_NO_ID, member_ids: [f.bob] },
  }),
  "GET /api/v1/e2ee/directory": () => ({ query: { from: "1", limit: "20" } }),
  "POST /api/v1/e2ee/groups": () => ({ body: { device_id: E2EE_NO_ID } }),
  "POST /api/v1/e2ee/groups/:id/commits": () => ({
    params: { id: "status" },
    body: { device_id: E2EE_NO_ID, epoch: 0, commit: "AAEC" },
    extraFields: ["welcome", "add_device_ids", "remove_device_ids"],
  }),
  "POST /api/v1/e2ee/groups/:id/messages": () => ({
    params: { id: "status" },
    body: { device_id: E2EE_NO_ID, epoch: 0, message: "AAEC" },
  }),
  "GET /api/v1/e2ee/messages": () => ({
    query: { device_id: E2EE_NO_ID, after: "0", limit: "20" },
  }),
  "POST /api/v1/e2ee/blobs": () => ({
    body: { device_id: E2EE_NO_ID, group_id: E2EE_NO_ID, blob: "AAEC" },
    extraFields: ["expires_at"],
  }),
  "GET /api/v1/e2ee/blobs/:id": () => ({
    params: { id: "status" },
    query: { device_id: E2EE_NO_ID },
  }),
  "POST /api/v1/e2ee/reports": () => ({
    body: {
      device_id: E2EE_NO_ID,
      group_id: E2EE_NO_ID,
      sender_member_id: E2EE_NO_ID,
      text: "a disclosed message",
    },
    extraFields: ["sender_device_id", "comment"],
  }),
  // Single sign-on: not configured here, so /auth/oidc/* answer a 404 of their own.
  "GET /api/v1/clique/oidc": () => ({}),
  "GET /api/v1/clique/oidc/identities": () => ({}),
  "DELETE /api/v1/clique/oidc/identities/:id": () => ({
    params: { id: "status" },
    body: { password: "not-the-password" },
  }),
  "GET /auth/oidc/start": (f) => ({
    query: { intent: "signup", invite: f.inviteCode, return_to: "/home" },
  }),
  "GET /auth/oidc/callback": () => ({
    query: { code: "c", state: "s", iss: "https://idp.example" },
  }),
  // Carol's password: a hostile new password that happens to be valid changes only hers.
  "POST /api/v1/clique/password": () => ({
    as: "carol",
    body: {
      current_password: PASSWORDS.carol,
      new_password: PASSWORDS.carol,
      keep_other_sessions: true,
    },
    last: true,
  }),
  "GET /api/v1/clique/invites": () => ({}),
  "POST /api/v1/clique/invites": () => ({ body: { max_uses: 2, expires_in: 3600 } }),
  "DELETE /api/v1/clique/invites/:id": () => ({ params: { id: "doomedInvite" }, last: true }),
  "POST /api/v1/clique/invites/redeem": (f) => ({
    body: {
      code: f.inviteCode,
      username: "newcomer",
      password: "newcomer-password",
      display_name: "New",
    },
    extraFields: ["oidc"],
  }),
  "GET /api/v1/clique/members": () => ({}),
  "GET /api/v1/clique/export": () => ({}),
  "GET /api/v1/clique/profile/preview": () => ({ query: { as: "follower" } }),
  "PATCH /api/v1/clique/members/:id": () => ({
    params: { id: "bob" },
    body: { status: "active" },
    extraFields: ["role", "reason", "delete_content"],
  }),
  // Carol's wrong password: no request of the fuzz makes her leave.
  "POST /api/v1/clique/leave": () => ({
    as: "carol",
    body: { password: "not-carols-password" },
    last: true,
  }),
  "POST /api/v1/clique/moderation/posts/:id/remove": () => ({
    params: { id: "removableStatus" },
    body: { reason: "Fuzzed away" },
    last: true,
  }),
  "POST /api/v1/clique/moderation/posts/:id/hide": () => ({
    params: { id: "malloryStatus" },
    body: { reason: "Fuzzed" },
  }),
  "POST /api/v1/clique/moderation/posts/:id/unhide": () => ({
    params: { id: "malloryStatus" },
    body: { reason: "Fuzzed" },
  }),
  "POST /api/v1/clique/moderation/members/:id/remove": () => ({
    params: { id: "ed" },
    body: { reason: "Fuzzed away", delete_content: true },
    last: true,
  }),
  "POST /api/v1/clique/moderation/members/:id/suspend": () => ({
    params: { id: "dora" },
    body: { reason: "Fuzzed", until: new Date(Date.now() + 86_400_000).toISOString() },
  }),
  "POST /api/v1/clique/moderation/members/:id/unsuspend": () => ({
    params: { id: "dora" },
    body: { reason: "Fuzzed" },
  }),
  "POST /api/v1/clique/moderation/members/:id/warn": () => ({
    params: { id: "dora" },
    body: { reason: "Fuzzed" },
  }),
  "POST /api/v1/clique/moderation/members/:id/role": () => ({
    params: { id: "dora" },
    body: { role: "moderator", reason: "Fuzzed" },
  }),
  "GET /api/v1/clique/moderation/audit": (f) => ({
    query: { max_id: "", member_id: f.dora, limit: "20" },
  }),
  "GET /api/v1/admin/accounts": () => ({
    query: {
      ...page,
      local: "true",
      active: "true",
      suspended: "false",
      staff: "false",
      username: "do",
      display_name: "",
      by_domain: "",
    },
  }),
  "GET /api/v1/admin/accounts/:id": () => ({ params: { id: "dora" } }),
  "POST /api/v1/admin/accounts/:id/action": () => ({
    params: { id: "dora" },
    body: { type: "none", text: "Fuzzed warning" },
    extraFields: ["report_id", "warning_preset_id", "send_email_notification"],
  }),
  "POST /api/v1/admin/accounts/:id/unsuspend": () => ({ params: { id: "dora" } }),
  "POST /api/v1/admin/accounts/:id/enable": () => ({ params: { id: "dora" } }),
  "GET /api/v1/notifications": () => ({
    query: { ...page, types: ["moderation_warning"], exclude_types: ["mention"] },
  }),
  // Notifications, streaming, timelines, start-up endpoints, pages (issue 11). Ids
  // of kinds the fuzz keeps no fixture of (notifications, announcements,
  // conversations) take a post's id: a well-formed id of nothing of that kind.
  "GET /api/v1/notifications/unread_count": () => ({ query: { limit: "100" } }),
  "GET /api/v1/notifications/:id": () => ({ params: { id: "status" } }),
  "POST /api/v1/notifications/:id/dismiss": () => ({ params: { id: "status" } }),
  "POST /api/v1/notifications/clear": () => ({ last: true }),
  "GET /api/v1/streaming/health": () => ({}),
  "GET /api/v1/timelines/public": () => ({
    query: { ...page, local: "true", remote: "false", only_media: "false" },
  }),
  "GET /api/v1/timelines/tag/:hashtag": () => ({
    params: { hashtag: "hashtag" },
    query: { ...page, local: "true", only_media: "false" },
  }),
  "GET /api/v1/preferences": () => ({}),
  "GET /api/v1/custom_emojis": () => ({}),
  "GET /api/v1/filters": () => ({}),
  "GET /api/v2/filters": () => ({}),
  "GET /api/v1/lists": () => ({}),
  "GET /api/v1/followed_tags": () => ({ query: page }),
  "GET /api/v1/featured_tags": () => ({}),
  "GET /api/v1/domain_blocks": () => ({ query: page }),
  "GET /api/v1/trends": () => ({ query: { limit: "10" } }),
  "GET /api/v1/trends/tags": () => ({ query: { limit: "10" } }),
  "GET /api/v1/trends/statuses": () => ({ query: { limit: "10" } }),
  "GET /api/v1/trends/links": () => ({ query: { limit: "10" } }),
  "GET /api/v1/suggestions": () => ({ query: { limit: "10" } }),
  "GET /api/v2/suggestions": () => ({ query: { limit: "10" } }),
  "GET /api/v1/instance/rules": () => ({}),
  "GET /api/v1/instance/peers": () => ({}),
  "GET /api/v1/instance/activity": () => ({}),
  "GET /api/v1/accounts/familiar_followers": (f) => ({ query: { id: [f.bob] } }),
  "GET /api/v1/markers": () => ({ query: { timeline: ["home", "notifications"] } }),
  "POST /api/v1/markers": (f) => ({
    body: { home: { last_read_id: f.status }, notifications: { last_read_id: f.status } },
  }),
  "GET /api/v1/announcements": () => ({ query: { with_dismissed: "true" } }),
  "POST /api/v1/announcements/:id/dismiss": () => ({ params: { id: "status" } }),
  "POST /api/v1/clique/announcements": () => ({
    body: { text: "A fuzzed announcement", all_day: false },
    extraFields: ["starts_at", "ends_at"],
  }),
  "PATCH /api/v1/clique/announcements/:id": () => ({
    params: { id: "status" },
    body: { text: "Fuzzed again", all_day: true },
  }),
  "DELETE /api/v1/clique/announcements/:id": () => ({ params: { id: "status" } }),
  "GET /api/v1/conversations": () => ({ query: page }),
  "POST /api/v1/conversations/:id/read": () => ({ params: { id: "status" } }),
  "DELETE /api/v1/conversations/:id": () => ({ params: { id: "status" } }),
  "GET /:username{@[A-Za-z0-9_]+}": () => ({ params: { username: "atUsername" } }),
  "GET /:username{@[A-Za-z0-9_]+}/:id": () => ({
    params: { username: "atUsername", id: "status" },
  }),
  "GET /authorize_interaction": (f) => ({
    query: { uri: `acct:alice@${f.host}` },
  }),
  "GET /tags/:hashtag": () => ({ params: { hashtag: "hashtag" } }),
  "GET /api/v1/clique/circles": () => ({}),
  "POST /api/v1/clique/circles": (f) => ({ body: { name: "Fuzzed", member_ids: [f.bob] } }),
  "GET /api/v1/clique/circles/:id": () => ({ params: { id: "circle" } }),
  "PATCH /api/v1/clique/circles/:id": (f) => ({
    params: { id: "circle" },
    body: { name: "Fuzzers", member_ids: [f.bob] },
  }),
  "DELETE /api/v1/clique/circles/:id": () => ({ params: { id: "doomedCircle" }, last: true }),
  "POST /api/v1/reports": (f) => ({
    as: "bob",
    body: {
      account_id: f.mallory,
      status_ids: [f.malloryStatus],
      comment: "Fuzzed report",
      category: "spam",
      forward: true,
      forward_to_domains: [],
      rule_ids: [],
    },
  }),
  "GET /api/v1/admin/reports": (f) => ({
    query: {
      ...page,
      resolved: "false",
      account_id: f.bob,
      target_account_id: f.mallory,
      state: "open",
    },
  }),
  "GET /api/v1/admin/reports/:id": () => ({ params: { id: "report" } }),
  "POST /api/v1/admin/reports/:id/assign_to_self": () => ({ params: { id: "report" } }),
  "POST /api/v1/admin/reports/:id/unassign": () => ({ params: { id: "report" } }),
  "POST /api/v1/admin/reports/:id/resolve": () => ({
    params: { id: "report" },
    body: { action_taken_comment: "Fuzzed away" },
  }),
  "POST /api/v1/admin/reports/:id/reopen": () => ({ params: { id: "report" } }),
  "GET /api/v1/clique/reports": () => ({ as: "bob", query: { ...page, state: "open" } }),
  "GET /api/v1/clique/reports/:id": () => ({ as: "bob", params: { id: "report" } }),
  "POST /api/v1/clique/reports/:id/dismiss": () => ({
    params: { id: "report" },
    body: { reason: "Fuzzed" },
  }),
  "POST /api/v1/clique/reports/:id/forward": () => ({
    params: { id: "report" },
    body: { include_comment: true },
  }),
  "GET /api/v1/clique/domains": () => ({}),
  "POST /api/v1/clique/domains": () => ({
    body: {
      domain: "fuzz-blocked.example",
      severity: "block",
      reason: "Fuzzed",
      public_comment: "Fuzzed in public",
    },
  }),
  "DELETE /api/v1/clique/domains": () => ({
    query: { domain: "fuzz-blocked.example", reason: "Fuzzed" },
  }),
  "GET /api/v1/clique/moderation/remote_accounts": () => ({}),
  // mallory is suspended and silenced, then both are lifted: after every other route, in that
  // order (her post and photo, which other routes use, go with the suspension).
  "POST /api/v1/clique/moderation/remote_accounts/:id/suspend": () => ({
    params: { id: "mallory" },
    body: { reason: "Fuzzed" },
    last: true,
  }),
  "POST /api/v1/clique/moderation/remote_accounts/:id/silence": () => ({
    params: { id: "mallory" },
    body: { reason: "Fuzzed" },
    last: true,
  }),
  "POST /api/v1/clique/moderation/remote_accounts/:id/unsuspend": () => ({
    params: { id: "mallory" },
    body: { reason: "Fuzzed" },
    last: true,
  }),
  "POST /api/v1/clique/moderation/remote_accounts/:id/unsilence": () => ({
    params: { id: "mallory" },
    body: { reason: "Fuzzed" },
    last: true,
  }),
  "POST /api/v1/clique/moderation/remote_accounts/:id/reject_follows": () => ({
    params: { id: "mallory" },
    body: { reason: "Fuzzed" },
  }),
  "GET /api/v1/admin/domain_blocks": () => ({ query: { limit: "20" } }),
  "GET /api/v1/admin/domain_blocks/:id": () => ({ params: { id: "domainBlock" } }),
  "POST /api/v1/admin/domain_blocks": () => ({
    body: {
      domain: "fuzz-mastodon.example",
      severity: "silence",
      reject_media: false,
      reject_reports: false,
      private_comment: "Fuzzed",
      public_comment: "Fuzzed in public",
      obfuscate: false,
    },
  }),
  "PUT /api/v1/admin/domain_blocks/:id": () => ({
    params: { id: "domainBlock" },
    body: {
      severity: "noop",
      reject_media: false,
      reject_reports: false,
      private_comment: "Fuzzed",
      public_comment: "Fuzzed in public",
      obfuscate: false,
    },
  }),
  "DELETE /api/v1/admin/domain_blocks/:id": () => ({ params: { id: "domainBlock" }, last: true }),
  "GET /.well-known/webfinger": (f) => ({
    query: { resource: `acct:alice@${f.host}`, rel: "self" },
  }),
  "GET /.well-known/nodeinfo": () => ({}),
  "GET /nodeinfo/2.1": () => ({}),
  "GET /users/:username": () => ({ params: { username: "username" } }),
  "GET /users/:username/outbox": () => ({
    params: { username: "username" },
    query: { cursor: "" },
  }),
  "GET /users/:username/followers": () => ({
    params: { username: "username" },
    query: { cursor: "" },
  }),
  "GET /users/:username/following": () => ({
    params: { username: "username" },
    query: { cursor: "" },
  }),
  "GET /users/:username/featured": () => ({ params: { username: "username" } }),
  "GET /users/:username/statuses/:id": () => ({
    params: { username: "username", id: "status" },
  }),
  "POST /users/:username/inbox": () => ({ params: { username: "username" }, body: activity() }),
  "POST /inbox": () => ({ body: activity() }),
};

/** An inbox POST's body: a Create(Note) from the fake remote (unsigned here: 401). */
function activity(): Record<string, unknown> {
  const actor = remote!.account("mallory").id;
  return {
    "@context": "https://www.w3.org/ns/activitystreams",
    id: `${actor}/activities/1`,
    type: "Create",
    actor,
    to: ["https://www.w3.org/ns/activitystreams#Public"],
    object: {
      id: `${actor}/notes/1`,
      type: "Note",
      attributedTo: actor,
      content: "<p>hi</p>",
      to: ["https://www.w3.org/ns/activitystreams#Public"],
    },
  };
}

// ------------------------------------------------------------------ hostile values

/** A JSON text put in a body as is (things a JS object cannot hold, such as an own `__proto__`). */
class Raw {
  readonly json: string;
  constructor(json: string) {
    this.json = json;
  }
}

const LONG = "x".repeat(100_000);
/** Path and query values go in the request line, which Node caps at 16 KiB (431 beyond, before any app). */
const LONG_IN_URL = "x".repeat(8_000);
const DEEP_JSON = `${"[".repeat(5_000)}${"]".repeat(5_000)}`;

/**
 * Hostile values for a body field, with the encodings each goes in: JSON carries
 * them all; forms carry text, lists and nesting (numbers and booleans arrive as
 * text there, which the strings cover); multipart gets a smaller set.
 */
const HOSTILE_VALUES: readonly { value: unknown; forms?: true; multipart?: true }[] = [
  { value: "a\u0000b", forms: true, multipart: true },
  { value: "\ud800", forms: true, multipart: true },
  { value: "x\udfffy" },
  { value: LONG, forms: true, multipart: true },
  { value: "not-a-uuid", forms: true },
  { value: "00000000-0000-0000-0000-000000000000", forms: true },
  { value: "-1", forms: true },
  { value: "99999999999999999999999999", forms: true },
  { value: -1 },
  { value: 2 ** 53 + 2 },
  { value: 1e308 },
  { value: 0.5 },
  { value: true },
  { value: null },
  { value: "" },
  { value: ["a", "b"], forms: true, multipart: true },
  { value: [{ a: 1 }], forms: true },
  { value: { a: { b: { c: { d: { e: "f" } } } } }, forms: true },
  { value: new Raw('{"__proto__": {"x": 1}}'), forms: true, multipart: true },
  { value: new Raw('{"constructor": {"prototype": {"x": 1}}}'), forms: true },
  { value: new Raw(DEEP_JSON) },
];

/** Hostile path parameters, already URL-encoded. */
const HOSTILE_PATH: readonly string[] = [
  "%00",
  "a%00b",
  "%ED%A0%80", // a lone surrogate's bytes: not UTF-8
  "%C0%80", // an overlong NUL
  LONG_IN_URL,
  "not-a-uuid",
  "00000000-0000-0000-0000-000000000000",
  "00000000-0000-7000-8000-00000000000g",
  "-1",
  "99999999999999999999",
  "__proto__",
  "constructor",
  "%25",
  "%zz",
  "%2F",
  encodeURIComponent("' OR 1=1 --"),
  encodeURIComponent("😀"),
];

/** Hostile `key=value` pairs for a query parameter `k`, already URL-encoded. */
function hostileQuery(k: string): string[] {
  return [
    `${k}=%00`,
    `${k}=a%00b`,
    `${k}=%ED%A0%80`,
    `${k}=${LONG_IN_URL}`,
    `${k}=not-a-uuid`,
    `${k}=00000000-0000-0000-0000-000000000000`,
    `${k}=-1`,
    `${k}=99999999999999999999`,
    `${k}=%zz`,
    `${k}[]=a&${k}[]=b`,
    `${k}=a&${k}=b`,
    `${k}[a][b]=c`,
    `${k}[__proto__][x]=1`,
    `${k}[constructor][prototype][x]=1`,
    `${k}[99999]=1`,
    `${k}[a][b][c][d][e][f][g][h]=1`,
  ];
}

/** Query strings that are hostile whatever the route. */
const HOSTILE_QUERIES: readonly string[] = [
  "__proto__[x]=1",
  "__proto__=1",
  "constructor[prototype][x]=1",
  "prototype[x]=1",
  "%00=1",
  "[]=1&[x]=2&=3&&&",
  Array.from({ length: 1500 }, (_, i) => `p${i}=1`).join("&"),
];

/** Whole bodies that are junk, whatever the route: [content type, body]. */
const JUNK_BODIES: readonly [string, string][] = [
  ["application/json", "[]"],
  ["application/json", '"a string"'],
  ["application/json", "42"],
  ["application/json", "null"],
  ["application/json", "{"],
  ["application/json", "\u0000"],
  ["application/json", DEEP_JSON],
  ["application/json", `${'{"a":'.repeat(2_000)}1${"}".repeat(2_000)}`],
  ["application/json", '{"__proto__": {"then": 1, "x": 1}}'],
  ["application/json", '{"constructor": {"prototype": {"x": 1}}}'],
  ["application/json", '{"a": "\\ud800"}'],
  ["application/json; charset=utf-16", '{"a": 1}'],
  ["text/plain", "junk"],
  ["application/x-www-form-urlencoded", "%"],
  ["application/x-www-form-urlencoded", "a[=1&[]=2&=3&&&]=4"],
  ["application/x-www-form-urlencoded", "__proto__[then]=1&a=1"],
  ["application/x-www-form-urlencoded", "a[b][c][d][e][f][g][h][i]=1"],
  ["application/x-www-form-urlencoded", "a[600]=1"],
  ["application/x-www-form-urlencoded", Array.from({ length: 1200 }, () => "a[]=1").join("&")],
  ["multipart/form-data", "junk"],
  ["multipart/form-data; boundary=xyz", "--xyz\r\nnot a part\r\n--xyz--"],
];

/** A JPEG's first bytes and the ZIP signature: files that lie about what they are. */
const JPEG_START = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46]);
const ZIP_START = Buffer.from("PK\u0003\u0004\u0014\u0000\u0000\u0000\u0008\u0000", "latin1");

/**
 * Hostile uploads, as whole multipart bodies: bad files (empty, junk, a lie
 * about their type, script-carrying SVG, a ZIP), hostile part headers and
 * file names, and broken or excessive multipart framing.
 */
function hostileUploads(): [string, ReturnType<typeof multipart>][] {
  const file = (body: string | Uint8Array, extra: Partial<Part> = {}): Part => ({
    name: "file",
    filename: "photo.png",
    contentType: "image/png",
    body,
    ...extra,
  });
  const svg =
    '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script><rect width="10" height="10"/></svg>';
  const cases: [string, Part[], { boundary?: string; close?: boolean }?][] = [
    ["an empty file", [file("")]],
    ["junk bytes", [file(Buffer.from("this is not an image at all"))]],
    ["a JPEG's first bytes only", [file(JPEG_START)]],
    ["a ZIP named .png", [file(Buffer.concat([ZIP_START, Buffer.alloc(64)]))]],
    ["an SVG with a script", [file(svg, { filename: "x.svg", contentType: "image/svg+xml" })]],
    ["HTML as image/png", [file("<html><script>alert(1)</script></html>")]],
    ["a file name with a path", [file(png, { filename: "../../../etc/passwd" })]],
    ["a file name with NUL", [file(png, { filename: "a\u0000b.png" })]],
    ["a file name of 8000 characters", [file(png, { filename: "x".repeat(8000) })]],
    ["a file name with a lone surrogate", [file(png, { filename: "\ud800.png" })]],
    ["a part Content-Type of junk", [file(png, { contentType: "%%%/;;;=" })]],
    ["a part header of 20000 bytes", [file(png, { headers: [`X-Junk: ${"y".repeat(20_000)}`] })]],
    [
      "Content-Transfer-Encoding: base64",
      [file(png.toString("base64"), { headers: ["Content-Transfer-Encoding: base64"] })],
    ],
    ["two files", [file(png), file(png)]],
    ["the file in another field", [file(png, { name: "files[]" })]],
    ["a file field without a file name", [{ name: "file", body: png }]],
    ["a description after the file", [file(png), { name: "description", body: "late" }]],
    ["a description with NUL", [{ name: "description", body: "a\u0000b" }, file(png)]],
    ["a description key __proto__", [{ name: "__proto__", body: "x" }, file(png)]],
    ["a description of 100000 characters", [{ name: "description", body: LONG }, file(png)]],
    ...["NaN,NaN", "1e400,0", "2,2", "-0,-0", ",", "0.5", "0.1,0.2,0.3"].map(
      (focus): [string, Part[]] => [`focus ${focus}`, [{ name: "focus", body: focus }, file(png)]],
    ),
    [
      "40 fields before the file",
      [...Array.from({ length: 40 }, (_, i) => ({ name: `f${i}`, body: "x" })), file(png)],
    ],
    ["no closing boundary", [file(png)], { close: false }],
    ["a boundary of 200 characters", [file(png)], { boundary: "b".repeat(200) }],
    ["no parts at all", []],
  ];
  const bodies = cases.map(
    ([what, parts, options]) =>
      [what, multipart(parts, options)] as [string, ReturnType<typeof multipart>],
  );
  const valid = multipart([file(png)]);
  return [
    ...bodies,
    ["no boundary in the Content-Type", { type: "multipart/form-data", body: valid.body }],
    [
      "another boundary in the Content-Type",
      { type: "multipart/form-data; boundary=elsewhere", body: valid.body },
    ],
    ["multipart/mixed", { type: valid.type.replace("form-data", "mixed"), body: valid.body }],
    ["the body cut in half", { type: valid.type, body: valid.body.subarray(0, 120) }],
  ];
}

// ------------------------------------------------------------------ encodings

/** URL-encodes text, a lone surrogate as its (invalid UTF-8) WTF-8 bytes, as a broken client would. */
function encode(text: string): string {
  let out = "";
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    if (code >= 0xd800 && code <= 0xdfff)
      out +=
        `%${(0xe0 | (code >> 12)).toString(16)}%${(0x80 | ((code >> 6) & 0x3f)).toString(16)}%${(0x80 | (code & 0x3f)).toString(16)}`.toUpperCase();
    else out += encodeURIComponent(ch);
  }
  return out;
}

/** A value as Mastodon-style form pairs: `key[]`, `key[0][name]`, `key[a]`. */
function formPairs(key: string, value: unknown): [string, string][] {
  if (value instanceof Raw) return formPairs(key, JSON.parse(value.json) as unknown);
  if (value === null || value === undefined) return [[key, ""]];
  if (Array.isArray(value)) {
    if (value.length === 0) return [[`${key}[]`, ""]];
    return value.flatMap((v, i) =>
      typeof v === "object" && v !== null ? formPairs(`${key}[${i}]`, v) : formPairs(`${key}[]`, v),
    );
  }
  if (typeof value === "object") {
    const entries = Object.keys(value);
    if (entries.length === 0) return [[`${key}[]`, ""]];
    return entries.flatMap((k) => formPairs(`${key}[${k}]`, (value as Record<string, unknown>)[k]));
  }
  return [[key, String(value)]];
}

/** A body as JSON, with `Raw` values inlined. */
function toJson(body: Record<string, unknown>): string {
  const raws: string[] = [];
  const text = JSON.stringify(body, (_key, value: unknown) => {
    if (value instanceof Raw) {
      raws.push(value.json);
      return `\u0001RAW${raws.length - 1}\u0001`;
    }
    return value;
  });
  return text.replace(/"\\u0001RAW(\d+)\\u0001"/g, (_m, i: string) => raws[Number(i)]!);
}

type Encoding = "json" | "urlencoded" | "multipart";

function encodeBody(
  body: Record<string, unknown>,
  encoding: Encoding,
  withFile = false,
): { type?: string; body: BodyInit } {
  if (encoding === "json") return { type: "application/json", body: toJson(body) };
  const pairs = Object.entries(body).flatMap(([k, v]) => formPairs(k, v));
  if (encoding === "urlencoded")
    return {
      type: "application/x-www-form-urlencoded",
      body: pairs.map(([k, v]) => `${encode(k)}=${encode(v)}`).join("&"),
    };
  const form = new FormData();
  for (const [k, v] of pairs) form.append(k, v);
  // An upload's fields are fuzzed beside a valid file, so that the fields are what is read.
  if (withFile)
    form.append("file", new File([new Uint8Array(png)], "square.png", { type: "image/png" }));
  return { body: form };
}

// ------------------------------------------------------------------ requests

type Caller = "anonymous" | "member" | "remote";

interface Probe {
  route: string;
  what: string;
  caller: Caller;
  method: string;
  path: string;
  contentType?: string;
  body?: BodyInit;
  headers?: Record<string, string>;
}

interface Finding {
  route: string;
  why: string;
  what: string;
  caller: Caller;
  status: number;
  body: string;
}

let requestCount = 0;
const findings: Finding[] = [];
const statusCounts = new Map<number, number>();

async function send(probe: Probe, spec: RouteCase): Promise<void> {
  try {
    await sendOnce(probe, spec);
  } catch (error) {
    // No answer at all (the connection dropped): as bad as a 500.
    findings.push({
      route: probe.route,
      why: "no answer",
      what: probe.what,
      caller: probe.caller,
      status: 0,
      body: String((error as { cause?: unknown }).cause ?? error),
    });
  }
}

async function sendOnce(probe: Probe, spec: RouteCase): Promise<void> {
  const url = `${server!.url}${probe.path}`;
  let status: number;
  let text: string;
  let type: string | null = null;
  requestCount++;
  if (probe.caller === "remote") {
    const reply = await fetchAs(url, remote!.account("mallory"));
    ({ status, text } = reply);
    type = reply.headers.get("content-type");
  } else {
    const headers: Record<string, string> = { ...probe.headers };
    if (probe.contentType) headers["content-type"] = probe.contentType;
    if (probe.caller === "member") {
      headers.authorization = `Bearer ${spec.spendsToken ? await spareToken() : tokens[spec.as ?? "alice"]}`;
    }
    if (probe.route.startsWith("GET /users") || probe.route.startsWith("GET /nodeinfo"))
      headers.accept = "application/activity+json";
    const response = await fetch(url, {
      method: probe.method,
      headers,
      ...(probe.body !== undefined ? { body: probe.body } : {}),
    });
    status = response.status;
    type = response.headers.get("content-type");
    text = await response.text();
  }
  statusCounts.set(status, (statusCounts.get(status) ?? 0) + 1);
  const finding = (why: string) =>
    findings.push({
      route: probe.route,
      why,
      what: probe.what,
      caller: probe.caller,
      status,
      body: text.slice(0, 300),
    });
  if (status >= 500) return void finding("a 5xx");
  if (status < 400) return;
  // Node answers an oversized request line itself, before any app: nothing to read there.
  if (status === 431) return;
  // The pages people open in a browser answer their own errors as pages (what the
  // edge refuses before them is JSON, as everywhere); the rest, in JSON.
  if (HTML_PAGES.has(probe.route) && type?.startsWith("text/html")) return;
  if (!type?.includes("json")) return void finding(`an error that is not JSON (${type})`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return void finding("an error body that does not parse");
  }
  const { error, code } = (json ?? {}) as { error?: unknown; code?: unknown };
  if (typeof error !== "string" || typeof code !== "string")
    finding("an error without `error` and `code`");
}

async function spareToken(): Promise<string> {
  const response = await fetch(`${server!.url}/api/v1/clique/tokens`, {
    method: "POST",
    headers: { authorization: `Bearer ${tokens.alice}`, "content-type": "application/json" },
    body: JSON.stringify({ name: "spare" }),
  });
  const made = (await response.json()) as { access_token?: string };
  // A server that cannot make one any more is what the other assertions report.
  return made.access_token ?? "no-spare-token";
}

/** Runs thunks with at most CONCURRENCY in flight. */
async function pool(jobs: (() => Promise<void>)[]): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(CONCURRENCY, jobs.length) }, async () => {
      while (next < jobs.length) await jobs[next++]!();
    }),
  );
}

function fillPath(route: RouteSpec, spec: RouteCase, override?: [string, string]): string {
  // A parameter may carry a pattern (`:username{@[A-Za-z0-9_]+}`): it goes too.
  return route.path.replace(/:([A-Za-z_]+)(\{[^}]*\})?/g, (_m, name: string) => {
    if (override && override[0] === name) return override[1];
    const fixture = spec.params?.[name];
    assert.ok(fixture, `${route.method} ${route.path}: no fixture for :${name}`);
    // The router matches `/@alice` as written, not `/%40alice`.
    return encodeURIComponent(f[fixture]).replace(/^%40/, "@");
  });
}

function queryString(query: Record<string, unknown>, without?: string): string {
  return Object.entries(query)
    .filter(([k]) => k !== without)
    .flatMap(([k, v]) => formPairs(k, v))
    .map(([k, v]) => `${encode(k)}=${encode(v)}`)
    .join("&");
}

/** Every probe for one route. */
function probesFor(route: RouteSpec, spec: RouteCase, membersOnly: boolean): Probe[] {
  const key = `${route.method} ${route.path}`;
  const probes: Probe[] = [];
  // A bearer token means nothing to ActivityPub routes; a signature does (inbox POSTs
  // are signed in a test of their own).
  const callers: Caller[] = !route.federation
    ? ["anonymous", "member"]
    : route.method === "GET"
      ? ["anonymous", "remote"]
      : ["anonymous"];
  const hasBody = route.method !== "GET" && route.method !== "DELETE";
  const baseQuery = queryString(spec.query ?? {});
  const withQuery = (path: string, q: string) => (q === "" ? path : `${path}?${q}`);
  const base = fillPath(route, spec);
  const baseBody = spec.body ?? {};

  for (const caller of callers) {
    const add = (what: string, p: Omit<Probe, "route" | "caller" | "method" | "what">) =>
      probes.push({ route: key, what, caller, method: route.method, ...p });
    const bodyless = caller === "remote";
    // A route for members turns anonymous callers away before reading anything but the
    // path and query, which the edge checks for every route alike: a few probes are enough.
    if (caller === "anonymous" && membersOnly) {
      for (const junk of HOSTILE_QUERIES) add(`?${junk.slice(0, 60)}`, { path: `${base}?${junk}` });
      continue;
    }
    // The valid request itself.
    for (const encoding of ["json", "urlencoded", "multipart"] as const) {
      if (!hasBody && encoding !== "json") continue;
      const encoded = hasBody ? encodeBody(baseBody, encoding, spec.upload) : undefined;
      add(`valid request (${encoding})`, {
        path: withQuery(base, baseQuery),
        ...(encoded && !bodyless ? { contentType: encoded.type, body: encoded.body } : {}),
      });
    }
    const validBody = hasBody && !bodyless ? encodeBody(baseBody, "json") : undefined;
    const withValidBody = validBody ? { contentType: validBody.type, body: validBody.body } : {};
    // Path parameters.
    for (const name of Object.keys(spec.params ?? {})) {
      for (const value of HOSTILE_PATH) {
        add(`:${name} = ${value.slice(0, 40)}`, {
          path: withQuery(fillPath(route, spec, [name, value]), baseQuery),
          ...withValidBody,
        });
      }
    }
    // Query parameters, known ones one at a time, then route-independent junk.
    for (const name of Object.keys(spec.query ?? {})) {
      const rest = queryString(spec.query ?? {}, name);
      for (const pair of hostileQuery(name)) {
        add(`?${pair.slice(0, 60)}`, {
          path: `${base}?${rest === "" ? pair : `${rest}&${pair}`}`,
          ...withValidBody,
        });
      }
    }
    for (const junk of HOSTILE_QUERIES) {
      add(`?${junk.slice(0, 60)}`, {
        path: `${base}?${baseQuery === "" ? junk : `${baseQuery}&${junk}`}`,
        ...withValidBody,
      });
    }
    if (!hasBody || bodyless) continue;
    // Body fields, one at a time, in every encoding (ActivityPub inboxes read JSON only).
    const fields = [...Object.keys(baseBody), ...(spec.extraFields ?? []), "unknown_field"];
    const encodings: Encoding[] = route.federation ? ["json"] : ["json", "urlencoded", "multipart"];
    for (const field of fields) {
      for (const { value, forms, multipart } of HOSTILE_VALUES) {
        for (const encoding of encodings) {
          if (encoding === "urlencoded" && !forms) continue;
          if (encoding === "multipart" && !multipart) continue;
          const encoded = encodeBody({ ...baseBody, [field]: value }, encoding, spec.upload);
          const shown = value instanceof Raw ? value.json : JSON.stringify(value);
          add(`${encoding} ${field} = ${String(shown).slice(0, 40)}`, {
            path: withQuery(base, baseQuery),
            contentType: encoded.type,
            body: encoded.body,
          });
        }
      }
    }
    // Whole bodies of junk.
    for (const [type, body] of JUNK_BODIES) {
      add(`junk ${type}: ${body.slice(0, 30)}`, {
        path: withQuery(base, baseQuery),
        contentType: type,
        body,
      });
    }
    // A file where text goes, with a hostile file name.
    const form = new FormData();
    for (const [k, v] of Object.entries(baseBody).flatMap(([k, v]) => formPairs(k, v)))
      form.append(k, v);
    form.append(Object.keys(baseBody)[0] ?? "file", new File(["x"], "a\u0000b.png"));
    add("multipart with a file", { path: withQuery(base, baseQuery), body: form });
    // Uploads: hostile files and hand-written multipart bodies.
    if (spec.upload)
      for (const [what, upload] of hostileUploads())
        add(`upload: ${what}`, {
          path: withQuery(base, baseQuery),
          contentType: upload.type,
          body: upload.body,
        });
  }
  // Hostile credentials, anonymous otherwise.
  const credentials: Record<string, string>[] = [
    { authorization: "Bearer %00" },
    { authorization: `Bearer ${"x".repeat(8_000)}` },
    { authorization: "Bearer a b c" },
    { authorization: "Basic Og==" },
    { cookie: "clique_session=%E0%A4%A" },
    { cookie: `clique_session=${"%00".repeat(10)}` },
  ];
  for (const headers of credentials) {
    probes.push({
      route: key,
      what: `credentials ${JSON.stringify(headers).slice(0, 40)}`,
      caller: "anonymous",
      method: route.method,
      path: withQuery(base, baseQuery),
      headers: { ...headers, origin: server!.origin },
    });
  }
  return probes;
}

// ------------------------------------------------------------------ the log

/**
 * Error lines a hostile inbox POST is expected to leave: Fedify logs a bad
 * signature or an unreadable activity at error level, and so does Clique's
 * inbox error handler (inbound content is the inbox's business, not this test's).
 */
const EXPECTED_INBOX_ERRORS = [
  / ERR fedify·federation·inbox Failed to verify the request's HTTP Signatures\./,
  / ERR fedify·federation·inbox Failed to parse (activity|JSON)/,
  / ERR fedify·federation·inbox Missing actor\./,
  / ERR clique·federation·inbox Inbox handler failed: (TypeError|JsonLdError|SyntaxError|\w*ContextReferenceError)/,
  // The same JSON-LD errors as Node prints them once the web interface (Next) runs in the process.
  / ERR clique·federation·inbox Inbox handler failed: Error \[(jsonld\.\w+|\w*ContextReferenceError|TypeError|SyntaxError)\]/,
];

/** The error lines of the server's output that nobody expected. */
function unexpectedErrors(output: string): string[] {
  return output
    .split("\n")
    .filter((line) => / ERR /.test(line) && !EXPECTED_INBOX_ERRORS.some((re) => re.test(line)));
}

// ------------------------------------------------------------------ the tests

test("every route in routes.ts has an entry in the fuzz table, and only those", () => {
  const listed = ROUTES.map((r) => `${r.method} ${r.path}`);
  assert.deepEqual(
    listed.filter((k) => !(k in ROUTE_TABLE)),
    [],
    "routes with no entry in ROUTE_TABLE: say what a valid request looks like",
  );
  assert.deepEqual(
    Object.keys(ROUTE_TABLE).filter((k) => !listed.includes(k)),
    [],
    "ROUTE_TABLE entries for routes that do not exist",
  );
});

test("no hostile input to any route is answered with a 5xx or a non-JSON error", async (t) => {
  const started = Date.now();
  const errLines = new Set<string>();
  const errsByRoute: string[] = [];
  const collectErrors = (route: string) => {
    for (const line of unexpectedErrors(server!.output())) {
      if (!errLines.has(line)) {
        errLines.add(line);
        errsByRoute.push(`${route}: ${line.slice(0, 300)}`);
      }
    }
  };
  // FUZZ_ONLY=regex narrows the run to some routes while fixing what it found.
  const only = new RegExp(process.env.FUZZ_ONLY ?? "");
  const routes = ROUTES.filter(
    (r) => `${r.method} ${r.path}` in ROUTE_TABLE && only.test(`${r.method} ${r.path}`),
  );
  const ordered = [
    ...routes.filter((r) => !ROUTE_TABLE[`${r.method} ${r.path}`]!(f).last),
    ...routes.filter((r) => ROUTE_TABLE[`${r.method} ${r.path}`]!(f).last),
  ];
  const costs: [string, number, number][] = [];
  for (const route of ordered) {
    const spec = ROUTE_TABLE[`${route.method} ${route.path}`]!(f);
    const routeStarted = Date.now();
    // Does the route turn anonymous callers away at the door?
    const door = await fetch(`${server!.url}${fillPath(route, spec)}`, {
      method: route.method,
      ...(route.method === "GET" || route.method === "DELETE"
        ? {}
        : { headers: { "content-type": "application/json" }, body: toJson(spec.body ?? {}) }),
    });
    await door.body?.cancel();
    const probes = probesFor(route, spec, !route.federation && door.status === 401);
    await pool(probes.map((probe) => () => send(probe, spec)));
    costs.push([`${route.method} ${route.path}`, probes.length, Date.now() - routeStarted]);
    collectErrors(`${route.method} ${route.path}`);
  }
  if (process.env.FUZZ_COSTS)
    for (const [route, n, ms] of costs.sort((a, b) => b[2] - a[2]))
      t.diagnostic(`${route}: ${n} requests, ${ms} ms`);
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  t.diagnostic(`${requestCount} requests in ${seconds} s`);
  t.diagnostic(
    `statuses: ${[...statusCounts]
      .sort(([a], [b]) => a - b)
      .map(([s, n]) => `${s}×${n}`)
      .join(" ")}`,
  );
  // One line per route, status and kind of failure, with an example and how many like it.
  const groups = new Map<string, { example: Finding; count: number }>();
  for (const finding of findings) {
    const key = `${finding.route} → ${finding.status} ${finding.why}`;
    const group = groups.get(key) ?? { example: finding, count: 0 };
    group.count++;
    groups.set(key, group);
  }
  const summary = [...groups].map(
    ([key, { example, count }]) =>
      `${key} ×${count}, e.g. ${example.caller} ${example.what}: ${example.body.slice(0, 160)}`,
  );
  const logged = errsByRoute.slice(0, 40);
  assert.deepEqual(
    { badAnswers: summary, loggedErrors: logged, loggedErrorCount: errsByRoute.length },
    { badAnswers: [], loggedErrors: [], loggedErrorCount: 0 },
    `${findings.length} bad answers:\n${summary.join("\n")}\nlogged (first 40):\n${logged.join("\n")}`,
  );
});

test("validly signed hostile activities are never answered with a 5xx", async () => {
  const mallory = remote!.account("mallory");
  const base = activity();
  const note = base.object as Record<string, unknown>;
  const hostile: unknown[] = [
    { ...base, object: { ...note, content: "a\u0000b" } },
    { ...base, object: { ...note, content: "\ud800", summary: "\udfff" } },
    { ...base, object: { ...note, content: LONG } },
    { ...base, object: { ...note, id: `${mallory.id}/notes/%00`, inReplyTo: "not-a-url" } },
    { ...base, object: 42 },
    { ...base, object: [note, note] },
    { ...base, to: { a: { b: 1 } }, cc: 5 },
    { ...base, type: "Follow", object: `${server!.origin}/users/alice%00` },
    { ...base, type: "Follow", object: { id: ["a", "b"] } },
    { ...base, type: "Like", object: `${server!.origin}/users/alice/statuses/not-a-uuid` },
    { ...base, type: "Announce", object: `${server!.origin}/users/alice/statuses/${f.status}x` },
    { ...base, type: "Undo", object: { type: "Follow", object: null } },
    { ...base, type: "Delete", object: { id: null } },
    { ...base, type: "Accept", object: { type: "Follow", id: LONG.slice(0, 5000) } },
    { ...base, type: "Update", object: { ...note, name: "\u0000" } },
    {
      ...base,
      type: "Flag",
      object: [`${server!.origin}/users/alice`, 42, { id: null }],
      content: { a: 1 },
    },
    {
      ...base,
      type: "Flag",
      object: `${server!.origin}/users/alice/statuses/${f.status}%00`,
      content: LONG,
    },
    JSON.parse(
      `{"@context": "https://www.w3.org/ns/activitystreams", "type": "Create", "actor": "${mallory.id}", "__proto__": {"x": 1}, "object": {"constructor": {"prototype": {"x": 1}}}}`,
    ),
  ];
  const answers: string[] = [];
  for (const inbox of [`${server!.url}/users/alice/inbox`, `${server!.url}/inbox`]) {
    for (const [i, body] of hostile.entries()) {
      const reply = await deliver(
        inbox,
        { ...(body as object), id: `${mallory.id}/activities/h${i}-${inbox.length}` },
        { as: mallory },
      );
      requestCount++;
      if (reply.status >= 500) answers.push(`${inbox} #${i}: ${reply.status} ${reply.text}`);
    }
  }
  assert.deepEqual(answers, []);
});

test("afterwards the same process still posts, reads and signs in", async () => {
  const headers = { authorization: `Bearer ${tokens.alice}`, "content-type": "application/json" };
  const posted = await fetch(`${server!.url}/api/v1/statuses`, {
    method: "POST",
    headers,
    body: JSON.stringify({ status: "Survived the fuzz", visibility: "public" }),
  });
  const status = (await posted.json()) as { id: string; content: string; visibility: string };
  assert.equal(posted.status, 200, JSON.stringify(status));
  assert.equal(status.content, "<p>Survived the fuzz</p>");
  assert.equal(status.visibility, "public");

  const read = await fetch(`${server!.url}/api/v1/statuses/${status.id}`, { headers });
  assert.equal(read.status, 200);
  assert.equal(((await read.json()) as { content: string }).content, status.content);
  const home = await fetch(`${server!.url}/api/v1/timelines/home`, { headers });
  assert.match(await home.text(), /Survived the fuzz/);

  const signIn = await fetch(`${server!.url}/api/v1/clique/sessions`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-forwarded-for": CLEAN_ADDRESS },
    body: JSON.stringify({ username: "alice", password: PASSWORDS.alice }),
  });
  const session = (await signIn.json()) as { account?: { username: string } };
  assert.equal(signIn.status, 200, JSON.stringify(session));
  assert.equal(session.account?.username, "alice");

  const outbox = await fetch(`${server!.url}/users/alice/outbox?cursor=`, {
    headers: { accept: "application/activity+json" },
  });
  assert.equal(outbox.status, 200);
  assert.match(await outbox.text(), /Survived the fuzz/);
  assert.deepEqual(unexpectedErrors(server!.output()), [], "the server logged no error");
  assert.equal(server!.exitStatus(), null, "the server is still running");
});
