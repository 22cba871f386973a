/**
 * An app that embeds a Clique: its own HTTP server (Hono on Node), its own
 * PostgreSQL, and `@clique/core` installed from npm (here: from the packed
 * tarballs). It serves WebFinger and the actors through Clique's Fedify
 * federation, a small JSON API of its own, and runs the outbox relay that
 * sends what its members do to other servers.
 *
 *   DATABASE_URL=postgres://... PORT=3000 npm start
 *
 * Environment: DATABASE_URL (required), PORT (default 3000), ORIGIN (default
 * http://127.0.0.1:PORT), ALLOW_PRIVATE_ADDRESS=true to federate with servers
 * on loopback (local trials and tests only).
 */
import {
  type Actor,
  ANONYMOUS,
  type Clique,
  createClique,
  type Member,
  type Post,
} from "@clique/core";
import { createKyselyStores, migrateToLatest, openDatabase } from "@clique/core/kysely";
import { MemoryKvStore } from "@fedify/fedify";
import { serve } from "@hono/node-server";
import { getConnInfo } from "@hono/node-server/conninfo";
import { configure, getConsoleSink } from "@logtape/logtape";
import { Hono } from "hono";

const databaseUrl = process.env.DATABASE_URL;
if (!databaseUrl) throw new Error("Set DATABASE_URL to a PostgreSQL database");
const port = Number(process.env.PORT ?? 3000);
const origin = process.env.ORIGIN ?? `http://127.0.0.1:${port}`;

// Clique and Fedify log through LogTape: show what went wrong (LOG_LEVEL=debug for more).
await configure({
  sinks: { console: getConsoleSink() },
  loggers: [
    { category: ["logtape", "meta"], sinks: [] },
    {
      category: [],
      sinks: ["console"],
      lowestLevel: process.env.LOG_LEVEL === "debug" ? "debug" : "warning",
    },
  ],
});

// 1. Storage: Clique's tables in our PostgreSQL, migrated at start.
const db = openDatabase(databaseUrl);
await migrateToLatest(db);

// 2. The Clique. A production host would pass a persistent KV store and a
//    queue (e.g. @fedify/postgres or @fedify/redis); memory is enough here.
const clique: Clique = createClique({
  stores: createKyselyStores(db),
  config: { origin, defaultMemberCap: 20 },
  federation: {
    kv: new MemoryKvStore(),
    allowPrivateAddress: process.env.ALLOW_PRIVATE_ADDRESS === "true",
    version: "0.1.0",
  },
});
const federation = clique.federation;
if (!federation) throw new Error("unreachable: federation options were given");

// 3. The outbox relay: hands what members did (a post, a follow) to the
//    federation, after it committed. The Clique server wakes it with NOTIFY;
//    polling is enough for an example.
let running = true;
const relay = (async () => {
  while (running) {
    try {
      if ((await clique.relayNext()) === "idle") await new Promise((r) => setTimeout(r, 200));
    } catch (error) {
      console.error("relay:", error);
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
})();

// 4. HTTP: our API under /api, everything else goes to Fedify (WebFinger,
//    NodeInfo, actors, inboxes, objects, collections).
type Env = { Variables: { member: Member } };
const app = new Hono<Env>();

/** A post as this app's API shows it. */
async function toJson(post: Post) {
  const [author] = await clique.getActors([post.authorId]);
  return {
    id: post.id,
    uri: post.uri ?? `${origin}/users/${author?.username}/statuses/${post.id}`,
    author: author ? handleOf(author) : null,
    audience: post.audience,
    contentHtml: post.contentHtml,
    createdAt: post.createdAt.toISOString(),
  };
}

function handleOf(actor: Actor): string {
  return `${actor.username}@${actor.host ?? new URL(origin).host}`;
}

app.get("/api/health", (c) => c.json({ ok: true }));

/** First run: names the Clique and creates its owner; answers with an API token. */
app.post("/api/setup", async (c) => {
  const body = await c.req.json<{ name?: string; username?: string; password?: string }>();
  const result = await clique.initClique({
    name: String(body.name ?? ""),
    ownerUsername: String(body.username ?? ""),
    ownerPassword: String(body.password ?? ""),
  });
  if (!result.ok) return c.json({ error: result.reason }, 422);
  const token = await clique.issueToken(result.value.owner, "api", "embed-hono");
  return c.json({ username: result.value.owner.username, token }, 201);
});

/** Signs in with a password (throttled by core per username and address). */
app.post("/api/sessions", async (c) => {
  const body = await c.req.json<{ username?: string; password?: string }>();
  const result = await clique.signIn({
    username: String(body.username ?? ""),
    password: String(body.password ?? ""),
    ip: getConnInfo(c).remote.address ?? "unknown",
    kind: "api",
    name: "embed-hono",
  });
  if (!result.ok) return c.json({ error: result.reason }, 401);
  return c.json({ token: result.value.token }, 201);
});

// Everything below needs a member's token.
app.use("/api/me/*", async (c, next) => {
  const secret = c.req.header("authorization")?.replace(/^Bearer /, "") ?? "";
  const found = await clique.authenticate(secret, "api");
  if (!found) return c.json({ error: "unauthorized" }, 401);
  c.set("member", found.member);
  await next();
});

/** Posts: `{ text, audience? }` (audience: public, followers, clique...). */
app.post("/api/me/posts", async (c) => {
  const body = await c.req.json<{ text?: string; audience?: "public" | "followers" | "clique" }>();
  const result = await clique.createPost(c.get("member"), {
    source: String(body.text ?? ""),
    ...(body.audience ? { audience: body.audience } : {}),
  });
  if (!result.ok) return c.json({ error: result.reason }, 422);
  return c.json(await toJson(result.value), 201);
});

/**
 * Follows an account on another server by its actor URL (`acct:` handles
 * need https, which a loopback trial does not have).
 */
app.post("/api/me/follows", async (c) => {
  const body = await c.req.json<{ actor?: string }>();
  const actor = await clique.resolveUri(String(body.actor ?? ""));
  if (!actor) return c.json({ error: "not_found" }, 404);
  const result = await clique.followAccount(c.get("member"), actor.id);
  if (!result.ok) return c.json({ error: result.reason }, 422);
  return c.json({ account: handleOf(actor), state: result.value.state }, 201);
});

/** Where a follow stands: `?actor=URL`. */
app.get("/api/me/follows", async (c) => {
  const actor = await clique.resolveUri(c.req.query("actor") ?? "");
  if (!actor) return c.json({ error: "not_found" }, 404);
  const relationship = await clique.relationship(c.get("member"), actor.id);
  return c.json({ account: handleOf(actor), ...relationship });
});

/** Who asked to follow the member (members approve followers by default). */
app.get("/api/me/follow-requests", async (c) => {
  const requests = await clique.listFollowRequests(c.get("member"));
  const actors = await clique.getActors(requests.map((f) => f.followerId));
  return c.json(actors.map((actor) => ({ id: actor.id, account: handleOf(actor) })));
});

/** Approves a follow request: the follower's server gets an `Accept`. */
app.post("/api/me/follow-requests/:id/authorize", async (c) => {
  const result = await clique.authorizeFollowRequest(c.get("member"), c.req.param("id"));
  if (!result.ok) return c.json({ error: result.reason }, 404);
  return c.json({ state: result.value.state });
});

/** The member's home feed: their own posts and those of whom they follow, as they may see them. */
app.get("/api/me/home", async (c) => {
  const posts = await clique.listHomeFeed(c.get("member"), { limit: 20 });
  return c.json(await Promise.all(posts.map(toJson)));
});

/** What anyone may see of a member's posts (the visibility module decides). */
app.get("/api/accounts/:username/posts", async (c) => {
  const member = await clique.getMemberByUsername(c.req.param("username"));
  if (!member) return c.json({ error: "not_found" }, 404);
  const posts = await clique.listAccountPosts(ANONYMOUS, member.id, { limit: 20 });
  return c.json(await Promise.all(posts.map(toJson)));
});

app.all("/api/*", (c) => c.json({ error: "not_found" }, 404));

// Fedify answers its own paths and content types; anything else is a 404 or 406.
app.all("*", (c) => federation.fetch(c.req.raw, { contextData: undefined }));

const server = serve({ fetch: app.fetch, port, hostname: "127.0.0.1" }, (info) => {
  console.log(`embed-hono listening on ${origin} (port ${info.port})`);
});

async function shutdown() {
  running = false;
  server.close();
  await relay;
  await db.destroy();
  process.exit(0);
}
process.once("SIGTERM", shutdown);
process.once("SIGINT", shutdown);
