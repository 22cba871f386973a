/**
 * The canary crawl: Clique's promise that per-post and per-profile-part
 * permissions never leak, checked from the outside on every readable surface.
 *
 * One real server process. Alice (the owner) writes one post per audience and
 * gives each profile part its own audience; every one of them carries a
 * unique random token (a canary). Then every GET route of the route list
 * (`packages/server/src/http/routes.ts`: `API_ROUTES` and `FEDERATION_ROUTES`)
 * is visited as every kind of viewer, with every id the test knows in every
 * parameter and every page followed, and each response body is searched for
 * the canaries. Each viewer must find exactly the canaries the rules give it:
 * no more (a leak), no fewer (the crawl would prove nothing).
 *
 * The viewers: anonymous; alice; bob (a member); erin (a removed member: her
 * token gets 401, and she sees what anonymous sees); and five accounts on a
 * fake remote server (a plain `node:http` server, not Fedify) whose signed
 * ActivityPub fetches Clique must judge: `follower` (follows alice),
 * `stranger`, `circler` (in alice's circle "inner"), `blocked` (followed
 * alice, then alice blocked it) and `friend` (follows alice and is followed
 * back). On the client API a remote account is anonymous.
 *
 * The route list is checked against the router by `routes.test.ts`; this test
 * checks that the crawl requested — and got an answer from — every GET route
 * of the list, so a new endpoint cannot escape it.
 */
import assert from "node:assert/strict";
import { randomBytes, randomUUID } from "node:crypto";
import { after, afterEach, before, test } from "node:test";
import {
  type CrawlFetch,
  type CrawlRoute,
  crawl,
  createTestDatabase,
  type FakeRemote,
  lastLine,
  routeKey,
  runCliOk,
  type ServerProcess,
  startFakeRemote,
  startServerProcess,
  stopEmbeddedTestServer,
  type TestDatabase,
  type Visit,
} from "@clique/testing";
import { API_ROUTES, FEDERATION_ROUTES } from "../packages/server/src/http/routes.ts";
import { publishInstanceActor } from "./support/instance-actor.ts";
import {
  deliver,
  eventually,
  fetchAs,
  jsonOrNull,
  type Signer,
} from "./support/mastodon-signing.ts";

const AS = "https://www.w3.org/ns/activitystreams";
const AP = "application/activity+json";
const PASSWORDS = { alice: "alice-password-1", bob: "bob-password-22", erin: "erin-password-3" };

type Json = Record<string, unknown>;
interface Status {
  id: string;
  uri: string;
  audience: string;
  mentions: { id: string }[];
  created_at: string;
  in_reply_to_id: string | null;
  content: string;
}

// ---------------------------------------------------------------- who looks

const REMOTES = ["follower", "stranger", "circler", "blocked", "friend"] as const;
type RemoteName = (typeof REMOTES)[number];
/** Who a channel sees the viewer as, for the rules below. */
type Identity = "anonymous" | "alice" | "bob" | RemoteName | "instance";
/** The identities the client API is crawled as (erin: her revoked token). */
type ApiIdentity = "anonymous" | "alice" | "bob" | "erin";
/**
 * The identities ActivityPub is crawled as: unsigned, signed by a remote
 * account, or signed by the remote server's instance actor (an `Application`,
 * which fetches on behalf of everyone on its host, as Mastodon's does).
 */
type ApIdentity = "anonymous" | RemoteName | "instance";

interface Viewer {
  name: string;
  /** Crawls of the client API whose findings count for this viewer. */
  api: readonly ApiIdentity[];
  /** The crawl of ActivityPub whose findings count for this viewer. */
  ap: ApIdentity;
  /** Who the rules see on each channel. */
  as: { api: Identity; ap: Identity };
}

const VIEWERS: readonly Viewer[] = [
  {
    name: "anonymous",
    api: ["anonymous"],
    ap: "anonymous",
    as: { api: "anonymous", ap: "anonymous" },
  },
  // Local members read through the client API; their ActivityPub fetches are unsigned.
  { name: "alice", api: ["alice"], ap: "anonymous", as: { api: "alice", ap: "anonymous" } },
  { name: "bob", api: ["bob"], ap: "anonymous", as: { api: "bob", ap: "anonymous" } },
  // A removed member: her token is refused (401 everywhere), and she can still look as anyone.
  {
    name: "erin",
    api: ["erin", "anonymous"],
    ap: "anonymous",
    as: { api: "anonymous", ap: "anonymous" },
  },
  // Remote accounts are anonymous on the client API and signed on ActivityPub.
  ...REMOTES.map((r) => ({
    name: r,
    api: ["anonymous"] as const,
    ap: r,
    as: { api: "anonymous" as const, ap: r },
  })),
  {
    name: "instance",
    api: ["anonymous"],
    ap: "instance",
    as: { api: "anonymous", ap: "instance" },
  },
];

// ---------------------------------------------------------------- the rules

/** Relationships of the world. */
const MEMBERS = new Set<Identity>(["alice", "bob"]);
/** Approved followers, by whom they follow. */
const FOLLOWERS: Partial<Record<Author, ReadonlySet<Identity>>> = {
  alice: new Set(["follower", "friend"]),
  friend: new Set(["alice"]),
};
/** Who follows each other (both follows approved), by author. */
const FRIENDS: Partial<Record<Author, ReadonlySet<Identity>>> = { alice: new Set(["friend"]) };
/** Alice's circle "inner". */
const IN_CIRCLE = new Set<Identity>(["circler"]);
/** Blocks, by blocker. */
const BLOCKS: Partial<Record<Author, ReadonlySet<Identity>>> = { alice: new Set(["blocked"]) };

/** Who wrote a canary: a member (erin is removed) or a remote account. */
type Author = "alice" | "bob" | "erin" | RemoteName;

type CanaryAudience =
  | "public"
  | "unlisted"
  | "followers"
  | "friends"
  | "clique"
  | "circle"
  | "direct"
  | "nobody";

/** One canary: a token, where it lives, and who it is for. */
interface Canary {
  /** Row of the printed matrix. */
  label: string;
  token: string;
  /**
   * `post`: a post's content (client API and ActivityPub); `history`: an
   * earlier version of a post (client API history only); `part`: a profile
   * part (client API; the actor document carries public parts only);
   * `follows`: alice's follower and following lists (its "token" is the
   * friend's actor id, looked for on those lists only).
   */
  kind: "post" | "history" | "part" | "follows";
  audience: CanaryAudience;
  author: Author;
  /** Whose followers a `followers` audience means (a reply borrows its parent's); default `author`. */
  owner?: Author;
  /** Who a direct or followers-only post is addressed to by name. */
  recipients?: readonly Identity[];
  /** Profile fields exist in one phase only (four fields at most, six audiences to try). */
  phase?: 1 | 2;
  /** For a post canary: the status that carries it (its date and parent, for the counts). */
  status?: Status;
}

/** Whether `who` may see `canary`, by the rules (visibility.ts, in words). */
function mayRead(who: Identity, canary: Canary): boolean {
  // A removed member's posts and profile are gone with her, for everyone.
  if (canary.author === "erin") return false;
  // A server's instance actor sees what any account on its host may see.
  if (who === "instance") return REMOTES.some((r) => mayRead(r, canary));
  // Authors see their own posts and their whole profile.
  if (who === canary.author) return true;
  if (canary.audience === "nobody") return false;
  if (canary.audience === "public" || canary.audience === "unlisted") return true;
  // Someone the author blocks sees only what is open to everyone.
  if (BLOCKS[canary.author]?.has(who)) return false;
  const owner = canary.owner ?? canary.author;
  // Direct and followers-only posts reach the actors they name.
  const named = (canary.recipients ?? []).includes(who);
  switch (canary.audience) {
    case "followers":
      return (FOLLOWERS[owner]?.has(who) ?? false) || named;
    case "friends":
      return FRIENDS[owner]?.has(who) ?? false;
    case "clique":
      return MEMBERS.has(who);
    case "circle":
      return IN_CIRCLE.has(who);
    case "direct":
      return named;
    default: {
      const unreachable: never = canary.audience;
      throw new Error(`unknown audience ${unreachable}`);
    }
  }
}

function isLocal(author: Author): boolean {
  return author === "alice" || author === "bob" || author === "erin";
}

/** Whether a canary can reach this viewer through a surface that exists, on some channel. */
function expectedFor(viewer: Viewer, canary: Canary): boolean {
  const viaApi = mayRead(viewer.as.api, canary);
  // ActivityPub serves local posts (never Clique-only ones, which no remote may read
  // anyway; remote posts are their own server's to serve) and the public parts of the
  // profile; history and restricted parts are API-only.
  const apServes =
    (canary.kind === "post" && isLocal(canary.author)) ||
    ((canary.kind === "part" || canary.kind === "follows") && canary.audience === "public");
  return viaApi || (apServes && mayRead(viewer.as.ap, canary));
}

// ---------------------------------------------------------------- state

let db: TestDatabase | undefined;
let server: ServerProcess | undefined;
let fake: FakeRemote | undefined;
/** The fake remote server's instance actor (an `Application`) and its key. */
let instanceActor: Signer | undefined;
let someTestFailed = false;
const tokens = { alice: "", bob: "", erin: "" };
const ids: Record<string, string> = {};
const statuses: Status[] = [];
let circleId = "";
let inviteCode = "";
const canaries: Canary[] = [];
/** What each crawl found, by phase and identity. */
const crawls: {
  phase: 1 | 2;
  api: Map<ApiIdentity, Visit[]>;
  ap: Map<ApIdentity, Visit[]>;
  ms: number;
}[] = [];
const timings: Record<string, number> = {};

function clique(): ServerProcess {
  assert.ok(server, "the Clique server is running");
  return server;
}

function remote(): FakeRemote {
  assert.ok(fake, "the fake remote is running");
  return fake;
}

function canary(label: string): string {
  return `canary-${label.replace(/[^a-z0-9]+/gi, "-").toLowerCase()}-${randomBytes(6).toString("hex")}`;
}

function addCanary(c: Omit<Canary, "token"> & { token?: string }): string {
  const token = c.token ?? canary(c.label);
  canaries.push({ ...c, token });
  return token;
}

/** Notes the status that carries a post canary. */
function carriedBy(token: string, status: Status): void {
  const c = canaries.find((x) => x.token === token);
  assert.ok(c, `a canary ${token}`);
  c.status = status;
}

// ---------------------------------------------------------------- HTTP

async function call<T = Json>(
  token: string | null,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: T; text: string }> {
  const response = await fetch(`${clique().url}${path}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: jsonOrNull<T>(text) as T, text };
}

async function ok<T = Json>(token: string, method: string, path: string, body?: unknown) {
  const r = await call<T>(token, method, path, body);
  assert.ok(r.status >= 200 && r.status < 300, `${method} ${path}: ${r.status} ${r.text}`);
  return r.body;
}

/** POSTs an activity signed the way Mastodon signs (draft-cavage, rsa-sha256); expects a 202. */
async function deliverOk(inbox: string, activity: Json, as: Signer): Promise<void> {
  const sent = await deliver(inbox, activity, { as });
  assert.equal(sent.status, 202, `${activity.type} to ${inbox}: ${sent.text}`);
}

/** The client API as one identity. */
function apiFetch(token: string | null): CrawlFetch {
  return async (url) => {
    const response = await fetch(url, {
      headers: token ? { authorization: `Bearer ${token}` } : {},
    });
    return { status: response.status, headers: response.headers, body: await response.text() };
  };
}

/** ActivityPub GETs, signed as a remote account the way Mastodon signs them, or unsigned. */
function apFetch(as: Signer | null): CrawlFetch {
  return async (url) => {
    const { status, headers, text } = await fetchAs(url, as, { accept: AP });
    return { status, headers, body: text };
  };
}

// ---------------------------------------------------------------- the world

before(async () => {
  const started = Date.now();
  fake = await startFakeRemote({ usernames: [...REMOTES] });
  instanceActor = publishInstanceActor(fake);
  db = await createTestDatabase();
  const env = { ...process.env, DATABASE_URL: db.url, CLIQUE_ALLOW_PRIVATE_ADDRESS: "true" };
  await runCliOk(["init", "--name", "Canary", "--owner", "alice", "--password-stdin"], {
    env,
    stdin: PASSWORDS.alice,
  });
  const code = lastLine(await runCliOk(["invite", "create", "--by", "alice"], { env }));
  // The server starts while the CLI finishes setting up, as it may in real life.
  const starting = startServerProcess({ env, databaseUrl: db.url });
  const redeemed = Promise.all(
    (["bob", "erin"] as const).map((name) =>
      runCliOk(["invite", "redeem", code, "--username", name, "--password-stdin"], {
        env,
        stdin: PASSWORDS[name],
      }),
    ),
  );
  const [launched, done] = await Promise.allSettled([starting, redeemed]);
  // Kept even when the set-up failed, so that after() stops it.
  if (launched.status === "fulfilled") server = launched.value;
  for (const outcome of [launched, done]) if (outcome.status === "rejected") throw outcome.reason;
  await Promise.all(
    (["alice", "bob", "erin"] as const).map(async (name) => {
      tokens[name] = lastLine(await runCliOk(["token", "create", name], { env }));
      ids[name] = (
        await ok<{ id: string }>(tokens[name], "GET", "/api/v1/accounts/verify_credentials")
      ).id;
    }),
  );
  const aliceUri = `${clique().origin}/users/alice`;

  // Erin says something and leaves a bio before she is removed: both must go with her.
  await ok(tokens.erin, "PATCH", "/api/v1/accounts/update_credentials", {
    note: `erin's bio ${addCanary({ label: "bio:erin (removed)", kind: "part", audience: "public", author: "erin" })}`,
  });
  const erinPost = await ok<Status>(tokens.erin, "POST", "/api/v1/statuses", {
    status: `erin was here ${addCanary({ label: "post:erin (removed)", kind: "post", audience: "public", author: "erin" })}`,
    visibility: "public",
  });
  statuses.push(erinPost);

  // The remote accounts, as Clique knows them.
  for (const name of REMOTES) {
    const found = await ok<{ accounts: { id: string }[] }>(
      tokens.alice,
      "GET",
      `/api/v2/search?q=${encodeURIComponent(remote().account(name).id)}&resolve=true`,
    );
    assert.equal(found.accounts.length, 1, `${name} resolves`);
    ids[name] = found.accounts[0]!.id;
  }

  // follower, blocked and friend follow alice; she approves them.
  for (const name of ["follower", "blocked", "friend"] as const) {
    const account = remote().account(name);
    await deliverOk(
      `${aliceUri}/inbox`,
      {
        "@context": AS,
        id: `${remote().origin}/${randomUUID()}`,
        type: "Follow",
        actor: account.id,
        object: aliceUri,
      },
      account,
    );
    await eventually(`${name}'s follow request`, async () => {
      const requests = await ok<{ id: string }[]>(tokens.alice, "GET", "/api/v1/follow_requests");
      return requests.some((a) => a.id === ids[name]);
    });
    const r = await ok<{ followed_by: boolean }>(
      tokens.alice,
      "POST",
      `/api/v1/follow_requests/${ids[name]}/authorize`,
    );
    assert.equal(r.followed_by, true, `${name} follows alice`);
  }

  // Alice follows friend back; friend's server accepts, signed, naming the Follow it received.
  const friend = remote().account("friend");
  await ok(tokens.alice, "POST", `/api/v1/accounts/${ids.friend}/follow`);
  const follow = await remote().waitFor(
    (r) =>
      r.inbox &&
      (r.json as Json | undefined)?.type === "Follow" &&
      (r.json as Json).object === friend.id,
    { what: "alice's Follow of friend" },
  );
  await deliverOk(
    `${aliceUri}/inbox`,
    {
      "@context": AS,
      id: `${friend.id}#accepts/${randomUUID()}`,
      type: "Accept",
      actor: friend.id,
      object: { id: (follow.json as Json).id, type: "Follow", actor: aliceUri, object: friend.id },
    },
    friend,
  );
  await eventually("alice's follow of friend to be accepted", async () => {
    const [r] = await ok<{ following: boolean; followed_by: boolean }[]>(
      tokens.alice,
      "GET",
      `/api/v1/accounts/relationships?id[]=${ids.friend}`,
    );
    return r?.following && r.followed_by;
  });

  // Alice blocks `blocked`, which ends its follow.
  const blocked = await ok<{ blocking: boolean; followed_by: boolean }>(
    tokens.alice,
    "POST",
    `/api/v1/accounts/${ids.blocked}/block`,
  );
  assert.deepEqual([blocked.blocking, blocked.followed_by], [true, false]);

  // Her circle "inner" holds circler.
  circleId = (
    await ok<{ id: string }>(tokens.alice, "POST", "/api/v1/clique/circles", {
      name: "inner",
      member_ids: [ids.circler],
    })
  ).id;
  inviteCode = (await ok<{ code: string }>(tokens.alice, "POST", "/api/v1/clique/invites", {}))
    .code;

  // Her profile: a bio for followers, follow lists for the Clique, fields of phase 1.
  await ok(tokens.alice, "PATCH", "/api/v1/accounts/update_credentials", {
    note: `alice's bio ${addCanary({ label: "bio:followers", kind: "part", audience: "followers", author: "alice" })}`,
  });
  addCanary({
    label: "follows:clique",
    token: friend.id,
    kind: "follows",
    audience: "clique",
    author: "alice",
  });
  await setFields(1, ["public", "followers", "friends", "clique"]);

  // One post per audience, then bob's reply to the Clique-only post, and an edit.
  const post = async (audience: CanaryAudience, body: Json, recipients?: Identity[]) => {
    const token = addCanary({
      label: `post:${audience}`,
      kind: "post",
      audience,
      author: "alice",
      ...(recipients ? { recipients } : {}),
    });
    const status = await ok<Status>(tokens.alice, "POST", "/api/v1/statuses", {
      ...body,
      status: `${body.status ?? ""}${audience} post ${token}`,
    });
    assert.equal(status.audience, audience);
    statuses.push(status);
    carriedBy(token, status);
    return status;
  };
  await post("public", { visibility: "public" });
  await post("unlisted", { visibility: "unlisted" });
  const followersPost = await post("followers", { audience: "followers" });
  await post("friends", { audience: "friends" });
  const firstDraft = addCanary({
    label: "history:clique",
    kind: "history",
    audience: "clique",
    author: "alice",
  });
  const cliquePost = await ok<Status>(tokens.alice, "POST", "/api/v1/statuses", {
    audience: "clique",
    status: `clique post, first draft ${firstDraft}`,
  });
  assert.equal(cliquePost.audience, "clique");
  statuses.push(cliquePost);
  const cliqueToken = addCanary({
    label: "post:clique",
    kind: "post",
    audience: "clique",
    author: "alice",
  });
  await ok(tokens.alice, "PUT", `/api/v1/statuses/${cliquePost.id}`, {
    status: `clique post ${cliqueToken}`,
  });
  carriedBy(cliqueToken, cliquePost);
  await post("circle", { audience: "circle", circle_id: circleId });
  const direct = await post("direct", { visibility: "direct", status: "@bob " }, ["bob"]);
  assert.deepEqual(
    direct.mentions.map((m) => m.id),
    [ids.bob],
  );
  const replyToken = addCanary({
    label: "reply:clique (bob)",
    kind: "post",
    audience: "clique",
    author: "bob",
  });
  const reply = await ok<Status>(tokens.bob, "POST", "/api/v1/statuses", {
    in_reply_to_id: cliquePost.id,
    status: `bob answers ${replyToken}`,
  });
  assert.equal(reply.audience, "clique", "a reply to a Clique-only post stays in the Clique");
  statuses.push(reply);
  carriedBy(replyToken, reply);

  await receiveRemotePosts(followersPost);

  // Erin is removed; her token dies with her membership.
  await runCliOk(["member", "set-status", "erin", "removed"], { env });
  assert.equal((await call(tokens.erin, "GET", "/api/v1/accounts/verify_credentials")).status, 401);
  timings.setup = Date.now() - started;

  await crawlEverything(1);
  await setFields(2, ["circle", "nobody"]);
  await crawlEverything(2);
});

/**
 * Posts from the remote accounts, delivered signed to the shared inbox as
 * Mastodon sends them: Clique must keep each to its own audience too.
 */
async function receiveRemotePosts(alicesFollowersPost: Status): Promise<void> {
  const origin = clique().origin;
  const [alice, bob] = [`${origin}/users/alice`, `${origin}/users/bob`];
  const send = async (
    from: RemoteName,
    c: Omit<Canary, "token" | "kind" | "author">,
    note: { to: string[]; cc?: string[]; mention?: string[]; inReplyTo?: string },
  ) => {
    const account = remote().account(from);
    const token = addCanary({ ...c, kind: "post", author: from });
    const id = `${account.id}/statuses/${randomUUID()}`;
    const object = {
      id,
      type: "Note",
      attributedTo: account.id,
      to: note.to,
      cc: note.cc ?? [],
      inReplyTo: note.inReplyTo ?? null,
      published: new Date().toISOString(),
      content: `<p>${from} writes ${token}</p>`,
      tag: (note.mention ?? []).map((href) => ({ type: "Mention", href })),
    };
    remote().publish({ "@context": AS, ...object });
    const create = { "@context": AS, id: `${id}/activity`, type: "Create", actor: account.id };
    await deliverOk(
      `${origin}/inbox`,
      { ...create, to: object.to, cc: object.cc, object },
      account,
    );
    return id;
  };
  // Alice blocks `blocked`: its direct note does not reach her, so it is not kept at all.
  await send(
    "blocked",
    { label: "remote:direct to alice (blocked)", audience: "direct", recipients: [] },
    { to: [alice], mention: [alice] },
  );
  const kept = [
    // Followers-only, from an account alice follows: alice's to read, nobody else's here.
    await send(
      "friend",
      { label: "remote:followers (friend)", audience: "followers" },
      { to: [remote().account("friend").followers] },
    ),
    await send(
      "friend",
      { label: "remote:public (friend)", audience: "public" },
      { to: [`${AS}#Public`], cc: [remote().account("friend").followers] },
    ),
    // A direct message to bob: the owner, who runs the server, must not read it.
    await send(
      "stranger",
      { label: "remote:direct to bob (stranger)", audience: "direct", recipients: ["bob"] },
      { to: [bob], mention: [bob] },
    ),
    // A followers-only reply to alice's followers-only post, naming alice: it takes
    // the parent's audience (alice's followers) and reaches alice, whom it names.
    await send(
      "follower",
      {
        label: "remote:reply to followers post (follower)",
        audience: "followers",
        owner: "alice",
        recipients: ["alice"],
      },
      {
        to: [remote().account("follower").followers],
        cc: [alice],
        mention: [alice],
        inReplyTo: alicesFollowersPost.uri,
      },
    ),
  ];
  // Their ids on Clique, from the timelines of those they reach (the inbox is a queue).
  for (const uri of kept) {
    const status = await eventually(`the remote post ${uri}`, async () => {
      for (const token of [tokens.alice, tokens.bob]) {
        const home = await ok<Status[]>(token, "GET", "/api/v1/timelines/home?limit=40");
        const found = home.find((s) => s.uri === uri);
        if (found) return found;
      }
      const context = await ok<{ descendants: Status[] }>(
        tokens.alice,
        "GET",
        `/api/v1/statuses/${alicesFollowersPost.id}/context`,
      );
      return context.descendants.find((s) => s.uri === uri);
    });
    statuses.push(status);
    const carried = canaries.find((c) => c.kind === "post" && status.content.includes(c.token));
    if (carried) carriedBy(carried.token, status);
  }
}

/** Replaces alice's fields with one per audience, each value a canary of that phase. */
async function setFields(phase: 1 | 2, audiences: readonly CanaryAudience[]): Promise<void> {
  const fields = audiences.map((audience) => ({
    name: `for ${audience}`,
    value: addCanary({
      label: `field:${audience}`,
      kind: "part",
      audience,
      author: "alice",
      phase,
    }),
    audience: audience === "circle" ? { audience, circle_id: circleId } : audience,
  }));
  await ok(tokens.alice, "PATCH", "/api/v1/clique/profile", {
    ...(phase === 1 ? { bio_audience: "followers", follows_audience: "clique" } : {}),
    fields,
  });
}

afterEach((t) => {
  if ((t as { passed?: boolean }).passed === false) someTestFailed = true;
});

after(async () => {
  // The server explains what a status cannot (the crawl makes it log many 404s: keep the end).
  if (someTestFailed && server) console.error(server.output().slice(-20_000));
  const steps: [string, (() => Promise<unknown>) | undefined][] = [
    ["server", server && (() => server!.stop())],
    ["fake remote", fake && (() => fake!.close())],
    ["database", db && (() => db!.drop())],
    ["embedded PostgreSQL", () => stopEmbeddedTestServer()],
  ];
  for (const [name, step] of steps) await step?.().catch((e) => console.error(name, e));
});

// ---------------------------------------------------------------- the crawl

/** Every value the test knows for each kind of parameter. */
function plan(routes: readonly CrawlRoute[], fetchAs: CrawlFetch) {
  const origin = clique().origin;
  const host = new URL(origin).host;
  const locals = ["alice", "bob", "erin"];
  const actorUrls = [
    ...locals.map((u) => `${origin}/users/${u}`),
    ...REMOTES.map((r) => remote().account(r).id),
  ];
  const statusUrls = statuses.map((s) => s.uri);
  const accountIds = [...locals, ...REMOTES].map((n) => ids[n]!);
  return {
    origin: clique().url,
    routes,
    fetch: fetchAs,
    concurrency: 4,
    paramValues(kind: string): readonly string[] {
      switch (kind) {
        case "status":
          return statuses.map((s) => s.id);
        case "account":
          return accountIds;
        case "circle":
          return [circleId];
        case "invite":
          return [inviteCode];
        case "username":
          return locals;
        case "follow-request":
          return REMOTES.map((r) => ids[r]!);
        case "avatar":
          return accountIds.map((id) => `${id}.png`);
        default:
          throw new Error(`the crawl does not know what to put in a "${kind}" parameter`);
      }
    },
    queryValues(kind: string, route: CrawlRoute): readonly string[] {
      switch (kind) {
        case "acct":
          // WebFinger takes `acct:` URIs (and actor URLs); the client API takes handles.
          return route.federation
            ? [...locals.map((u) => `acct:${u}@${host}`), ...actorUrls.slice(0, locals.length)]
            : [
                ...locals,
                ...locals.map((u) => `${u}@${host}`),
                ...REMOTES.map((r) => `${r}@${remote().host}`),
              ];
        case "actor-url":
          return actorUrls;
        case "status-url":
          return statusUrls;
        default:
          throw new Error(`the crawl does not know what to put in a "${kind}" query`);
      }
    },
    extraQueries(route: CrawlRoute): readonly string[] {
      switch (route.path) {
        // Search resolves URLs too: posts' and actors', fetched if need be.
        case "/api/v2/search":
          return [...statusUrls, ...actorUrls].map(
            (u) => `q=${encodeURIComponent(u)}&resolve=true`,
          );
        case "/api/v1/accounts/relationships":
          return [accountIds.map((id) => `id[]=${id}`).join("&")];
        // Small pages, so that pagination is followed for real.
        case "/api/v1/accounts/:id/statuses":
        case "/api/v1/timelines/home":
          return ["limit=2"];
        default:
          return [];
      }
    },
  };
}

async function crawlEverything(phase: 1 | 2): Promise<void> {
  const started = Date.now();
  const apiTokens: Record<ApiIdentity, string | null> = {
    anonymous: null,
    alice: tokens.alice,
    bob: tokens.bob,
    erin: tokens.erin,
  };
  const apIdentities: ApIdentity[] = ["anonymous", ...REMOTES, "instance"];
  const signers: Record<ApIdentity, Signer | null> = {
    anonymous: null,
    instance: instanceActor ?? null,
    ...Object.fromEntries(REMOTES.map((r) => [r, remote().account(r)])),
  } as Record<ApIdentity, Signer | null>;
  const [api, ap] = await Promise.all([
    Promise.all(
      (Object.keys(apiTokens) as ApiIdentity[]).map(
        async (who) => [who, await crawl(plan(API_ROUTES, apiFetch(apiTokens[who])))] as const,
      ),
    ),
    Promise.all(
      apIdentities.map(
        async (who) => [who, await crawl(plan(FEDERATION_ROUTES, apFetch(signers[who])))] as const,
      ),
    ),
  ]);
  crawls.push({ phase, api: new Map(api), ap: new Map(ap), ms: Date.now() - started });
}

/** Alice's follower and following lists, on either channel. */
function isAlicesFollowList(visit: Visit): boolean {
  const path = new URL(visit.url).pathname;
  return [
    `/api/v1/accounts/${ids.alice}/followers`,
    `/api/v1/accounts/${ids.alice}/following`,
    "/users/alice/followers",
    "/users/alice/following",
  ].includes(path);
}

/** The canaries of a phase, each with the surfaces (`API|AP route`) where this viewer found it. */
const findingsMemo = new Map<string, Map<string, Set<string>>>();

function findings(viewer: Viewer, phase: 1 | 2): Map<string, Set<string>> {
  const memo = findingsMemo.get(`${phase} ${viewer.name}`);
  if (memo) return memo;
  const crawled = crawls.find((c) => c.phase === phase);
  assert.ok(crawled, `phase ${phase} was crawled`);
  const visits = [
    ...viewer.api.flatMap((who) => crawled.api.get(who)!.map((v) => ["API", v] as const)),
    ...crawled.ap.get(viewer.ap)!.map((v) => ["AP", v] as const),
  ];
  const found = new Map<string, Set<string>>();
  for (const [channel, visit] of visits) {
    for (const c of canaries) {
      if (c.kind === "follows" && !isAlicesFollowList(visit)) continue;
      if (!visit.body.includes(c.token)) continue;
      const where = found.get(c.label) ?? new Set<string>();
      where.add(`${channel} ${visit.route}`);
      found.set(c.label, where);
    }
  }
  findingsMemo.set(`${phase} ${viewer.name}`, found);
  return found;
}

function inPhase(c: Canary, phase: 1 | 2): boolean {
  return c.phase === undefined || c.phase === phase;
}

// ---------------------------------------------------------------- the proof

test("the crawl requested every GET route of the route list, and each answered", () => {
  const listed = [...API_ROUTES, ...FEDERATION_ROUTES].filter((r) => r.method === "GET");
  for (const { phase, api, ap } of crawls) {
    const visits = [...api.values(), ...ap.values()].flat();
    const requested = new Set(visits.map((v) => v.route));
    const answered = new Set(
      visits.filter((v) => v.status >= 200 && v.status < 300).map((v) => v.route),
    );
    assert.deepEqual(
      listed.map(routeKey).filter((r) => !requested.has(r)),
      [],
      `phase ${phase}: GET routes the crawl never requested`,
    );
    assert.deepEqual(
      listed.map(routeKey).filter((r) => !answered.has(r)),
      [],
      `phase ${phase}: GET routes that never answered 2xx to any viewer (the crawl proves nothing there)`,
    );
    // Pagination was followed on both channels.
    assert.ok(
      api.get("alice")!.some((v) => v.page > 0 && v.route === "GET /api/v1/accounts/:id/statuses"),
      "Link: rel=next was followed",
    );
    assert.ok(
      ap.get("friend")!.some((v) => v.page > 0 && v.route === "GET /users/:username/outbox"),
      "the outbox's first page was followed",
    );
  }
  const counts = crawls.map(
    (c) =>
      `phase ${c.phase}: ${[...c.api.values(), ...c.ap.values()].flat().length} requests in ${c.ms} ms`,
  );
  console.log(`Crawled ${listed.length} GET routes; ${counts.join("; ")}`);
});

test("a removed member's token is refused on every API route", () => {
  for (const { phase, api } of crawls) {
    const visits = api.get("erin")!.filter((v) => v.route.startsWith("GET /api/"));
    assert.ok(visits.length > 0);
    const accepted = visits.filter((v) => v.status !== 401).map((v) => `${v.status} ${v.url}`);
    assert.deepEqual(accepted, [], `phase ${phase}: erin's token must get 401`);
  }
});

test("each viewer finds exactly the canaries the rules give it, on every surface", () => {
  const expected: Record<string, Record<string, boolean>> = {};
  const actual: Record<string, Record<string, boolean>> = {};
  const leaks: string[] = [];
  for (const phase of [1, 2] as const) {
    for (const viewer of VIEWERS) {
      const found = findings(viewer, phase);
      for (const c of canaries.filter((c) => inPhase(c, phase))) {
        const key = `phase ${phase} ${viewer.name}`;
        expected[key] = { ...expected[key], [c.label]: expectedFor(viewer, c) };
        actual[key] = { ...actual[key], [c.label]: found.has(c.label) };
        if (found.has(c.label) && !expectedFor(viewer, c))
          leaks.push(
            `LEAK (phase ${phase}) ${c.label} → ${viewer.name} via ${[...found.get(c.label)!].join(", ")}`,
          );
      }
      // Canaries of the other phase are gone for everyone, their owner included.
      for (const c of canaries.filter((c) => !inPhase(c, phase))) {
        if (found.has(c.label))
          leaks.push(
            `STALE ${c.label} (phase ${c.phase}) → ${viewer.name} in phase ${phase} via ${[...found.get(c.label)!].join(", ")}`,
          );
      }
    }
  }
  printMatrix();
  assert.deepEqual(leaks, [], leaks.join("\n"));
  assert.deepEqual(actual, expected);
});

/** Every JSON object in `value`, depth first. */
function* objectsIn(value: unknown): Generator<Json> {
  if (Array.isArray(value)) for (const item of value) yield* objectsIn(item);
  else if (value && typeof value === "object") {
    yield value as Json;
    for (const item of Object.values(value)) yield* objectsIn(item);
  }
}

test("counts tell each viewer only what it may read: statuses_count, last_status_at, replies_count", () => {
  const alicesPosts = canaries.filter((c) => c.kind === "post" && c.author === "alice");
  assert.ok(
    alicesPosts.every((c) => c.status),
    "every post canary of alice's knows its status",
  );
  const problems: string[] = [];
  /** Routes where an account object for alice was checked, per API identity. */
  const checkedOn = new Map<ApiIdentity, Set<string>>();
  let repliesChecked = 0;
  for (const { phase, api } of crawls) {
    for (const [who, visits] of api) {
      // Erin's token is refused: she reads as anonymous.
      const as: Identity = who === "erin" ? "anonymous" : who;
      const readable = alicesPosts.filter((c) => mayRead(as, c));
      const newest =
        readable
          .map((c) => c.status!.created_at)
          .sort()
          .at(-1) ?? null;
      const expected = {
        statuses_count: readable.length,
        last_status_at: newest === null ? null : newest.slice(0, 10),
      };
      for (const visit of visits) {
        if (visit.status < 200 || visit.status >= 300) continue;
        for (const object of objectsIn(jsonOrNull(visit.body))) {
          // A Mastodon Account (mentions carry an id and acct, but no display name).
          if (object.id === ids.alice && "display_name" in object) {
            const actual = {
              statuses_count: object.statuses_count,
              last_status_at: object.last_status_at,
            };
            if (JSON.stringify(actual) !== JSON.stringify(expected))
              problems.push(
                `phase ${phase} ${who}: ${visit.route} (${visit.url}) shows alice with ${JSON.stringify(actual)}, expected ${JSON.stringify(expected)}`,
              );
            const routes = checkedOn.get(who) ?? new Set<string>();
            routes.add(visit.route);
            checkedOn.set(who, routes);
          }
          // A Mastodon Status of the world: its replies as this viewer may read them.
          const status = statuses.find((x) => x.id === object.id);
          if (status && "visibility" in object) {
            const replies = canaries.filter(
              (c) => c.kind === "post" && c.status?.in_reply_to_id === status.id && mayRead(as, c),
            ).length;
            repliesChecked++;
            if (object.replies_count !== replies)
              problems.push(
                `phase ${phase} ${who}: ${visit.route} (${visit.url}) shows status ${status.id} with replies_count ${String(object.replies_count)}, expected ${replies}`,
              );
          }
        }
      }
    }
  }
  assert.deepEqual(problems.slice(0, 40), [], `${problems.length} wrong counts`);
  // The check saw alice's account on the surfaces that render one, as each viewer.
  const everywhere = [
    "GET /api/v1/accounts/:id",
    "GET /api/v1/accounts/lookup",
    "GET /api/v2/search",
    "GET /api/v1/accounts/:id/statuses",
    "GET /api/v1/statuses/:id",
    "GET /api/v1/statuses/:id/history",
    "GET /api/v1/instance",
    "GET /api/v2/instance",
  ];
  for (const who of ["anonymous", "alice", "bob"] as const) {
    const expected = [
      ...everywhere,
      // Anonymous may read no thread of alice's: her public posts have no replies.
      ...(who === "anonymous"
        ? []
        : ["GET /api/v1/clique/members", "GET /api/v1/statuses/:id/context"]),
      ...(who === "alice" ? ["GET /api/v1/accounts/verify_credentials"] : []),
      ...(who === "bob" ? ["GET /api/v1/timelines/home"] : []),
    ];
    const seen = checkedOn.get(who) ?? new Set();
    assert.deepEqual(
      expected.filter((r) => !seen.has(r)),
      [],
      `${who}: routes where alice's account was never seen`,
    );
  }
  assert.ok(repliesChecked > 0, "statuses of the world were checked");
});

test("deliveries reach the remote server only with what its accounts may see", async () => {
  // Activities go to the shared inbox: the remote server as a whole is the viewer.
  // Local posts its accounts may read must arrive; nothing may that none of them may read.
  const allowed = new Set(canaries.filter((c) => mayRead("instance", c)).map((c) => c.label));
  const due = canaries.filter(
    (c) => c.kind === "post" && isLocal(c.author) && allowed.has(c.label),
  );
  const delivered = () => {
    const bodies = remote()
      .inboxPosts()
      .map((r) => r.body);
    return canaries
      .filter((c) => c.kind !== "follows" && bodies.some((b) => b.includes(c.token)))
      .map((c) => c.label);
  };
  await eventually("the deliveries due", async () =>
    due.every((c) => delivered().includes(c.label)),
  ).catch(() => undefined);
  assert.deepEqual(
    due.map((c) => c.label).filter((label) => !delivered().includes(label)),
    [],
    "posts due to the remote server that never arrived",
  );
  assert.deepEqual(
    delivered().filter((label) => !allowed.has(label)),
    [],
    "LEAK: delivered to a server none of whose accounts may see it",
  );
});

// ---------------------------------------------------------------- the report

function printMatrix(): void {
  const columns = [...VIEWERS.map((v) => v.name), "remote inbox"];
  const bodies = fake
    ? remote()
        .inboxPosts()
        .map((r) => r.body)
    : [];
  const width = Math.max(...canaries.map((c) => c.label.length)) + 2;
  const lines = [
    "Canary crawl: which viewer found which canary (● found, · not found; fields per phase)",
    `${"canary ↓  viewer →".padEnd(width)}${columns.map((c) => c.padEnd(10)).join("")}`,
  ];
  for (const c of canaries) {
    const phase = c.phase ?? 1;
    const cells = VIEWERS.map((v) => (findings(v, phase).has(c.label) ? "●" : "·"));
    const delivered =
      c.kind === "follows" ? "-" : bodies.some((b) => b.includes(c.token)) ? "●" : "·";
    lines.push(
      `${c.label.padEnd(width)}${[...cells, delivered].map((x) => x.padEnd(10)).join("")}`,
    );
  }
  lines.push("", "Surfaces where each canary was found (any viewer, both phases):");
  for (const c of canaries) {
    const where = new Set<string>();
    for (const phase of [1, 2] as const)
      if (inPhase(c, phase))
        for (const v of VIEWERS)
          for (const s of findings(v, phase).get(c.label) ?? []) where.add(s);
    lines.push(`  ${c.label}: ${[...where].sort().join(", ") || "(nowhere)"}`);
  }
  lines.push(
    "",
    `Timings: setup ${timings.setup} ms; ${crawls.map((c) => `crawl phase ${c.phase} ${c.ms} ms`).join("; ")}`,
  );
  console.log(lines.join("\n"));
}
