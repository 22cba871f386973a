/**
 * No N+1 in rendering (issue 13): a page of statuses by many authors and a
 * page of followers cost the same number of database queries whatever their
 * length. On a real database (the fixture world), counting every query the
 * stores run with a Kysely plugin; the pages go through the API's own render
 * functions in a Hono app.
 *
 * Every author has a bio for followers only and a field for the Clique, so
 * that their profiles need the visibility rules, and a post that bob (the
 * viewer) liked; every follower follows alice.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type Clique, createClique, type Member, type Post } from "@clique/core";
import { createKyselyStores } from "@clique/core/kysely";
import {
  insertFollow,
  insertRemoteActor,
  openTestClique,
  seedWorld,
  TEST_ORIGIN,
  type TestClique,
  WORLD_MEMBER_CAP,
  type World,
} from "@clique/testing";
import { Hono } from "hono";
import type { KyselyPlugin } from "kysely";
import type { AppEnv, AppServices } from "../../http/env.ts";
import { renderAccounts, renderFeed } from "./render.ts";

const AUTHORS = 20;
const FOLLOWERS = 40;

/** Counts the queries run through the Kysely it is plugged into. */
class QueryCounter implements KyselyPlugin {
  count = 0;
  transformQuery: KyselyPlugin["transformQuery"] = (args) => args.node;
  transformResult: KyselyPlugin["transformResult"] = async (args) => {
    this.count++;
    return args.result;
  };
}

let t: TestClique;
let world: World;
let counted: Clique;
const counter = new QueryCounter();
const posts: Post[] = [];
const authors: Member[] = [];
const followerIds: string[] = [];
let app: Hono<AppEnv>;

before(async () => {
  t = await openTestClique();
  world = await seedWorld(t.clique, t.db);
  const bob = world.members.bob_member;
  for (let i = 0; i < AUTHORS; i++) {
    const username = `author${String(i).padStart(2, "0")}`;
    const joined = await t.clique.redeemInvite({
      code: world.invite.code,
      username,
      password: `${username}-password`,
    });
    assert.ok(joined.ok, `redeemInvite: ${joined.ok ? "" : joined.reason}`);
    const profiled = await t.clique.updateProfile(joined.value, {
      bio: `The bio of ${username}.`,
      bioAudience: { audience: "followers" },
      fields: [{ name: "Where", value: `${username}'s town`, audience: "clique" }],
    });
    assert.ok(profiled.ok, `updateProfile: ${profiled.ok ? "" : profiled.reason}`);
    authors.push(profiled.value);
    const post = await t.clique.createPost(profiled.value, {
      source: `Post number ${i} by ${username}`,
      audience: "public",
    });
    assert.ok(post.ok, `createPost: ${post.ok ? "" : post.reason}`);
    posts.push(post.value);
    const liked = await t.clique.likePost(bob, post.value.id);
    assert.ok(liked.ok, `likePost: ${liked.ok ? "" : liked.reason}`);
  }
  for (let i = 0; i < FOLLOWERS; i++) {
    const actor = await insertRemoteActor(t.db, `follower${i}`);
    await insertFollow(t.stores, actor.id, world.ids.alice_owner, "accepted");
    followerIds.push(actor.id);
  }
  // The same Clique over the same database, every query counted.
  counted = createClique({
    stores: createKyselyStores(t.db.withPlugin(counter)),
    config: { origin: TEST_ORIGIN, defaultMemberCap: WORLD_MEMBER_CAP },
  });
  const services = { clique: counted, config: { origin: TEST_ORIGIN } } as unknown as AppServices;
  app = new Hono<AppEnv>();
  app.use(async (c, next) => {
    c.set("services", services);
    c.set("viewer", world.viewer("bob_member"));
    c.set("member", bob);
    c.set("authKind", "api");
    await next();
  });
  // Newest first, as a feed is.
  app.get("/statuses", async (c) => {
    const n = Number(c.req.query("n"));
    const page = posts.slice(-n).reverse();
    return c.json(
      await renderFeed(
        c,
        page.map((post) => ({ id: post.id, post, boost: null })),
      ),
    );
  });
  app.get("/followers", async (c) =>
    c.json(await renderAccounts(c, followerIds.slice(0, Number(c.req.query("n"))))),
  );
});

after(async () => {
  await t?.drop();
});

/** The page at `path` and the number of queries rendering it ran. */
async function queriesFor<T>(path: string): Promise<{ body: T; queries: number }> {
  const before = counter.count;
  const response = await app.request(path);
  assert.equal(response.status, 200, await response.clone().text());
  const body = (await response.json()) as T;
  return { body, queries: counter.count - before };
}

interface Status {
  content: string;
  favourites_count: number;
  favourited: boolean;
  replies_count: number;
  account: { username: string; note: string; fields: { name: string }[]; statuses_count: number };
}
interface Account {
  acct: string;
  following_count: number;
  followers_count: number;
}

describe("rendering a page costs the same number of queries whatever its length", () => {
  it(`statuses: 2 authors and ${AUTHORS} authors`, async () => {
    const small = await queriesFor<Status[]>("/statuses?n=2");
    const large = await queriesFor<Status[]>(`/statuses?n=${AUTHORS}`);
    assert.equal(large.body.length, AUTHORS);
    assert.equal(new Set(large.body.map((s) => s.account.username)).size, AUTHORS);
    for (const status of large.body) {
      const username = status.account.username;
      assert.match(status.content, new RegExp(`by ${username}`));
      assert.equal(status.favourites_count, 1);
      assert.equal(status.favourited, true);
      assert.equal(status.replies_count, 0);
      assert.equal(status.account.statuses_count, 1);
      // bob is in the Clique (the field) but follows nobody (the bio).
      assert.equal(status.account.note, "");
      assert.deepEqual(
        status.account.fields.map((f) => f.name),
        ["Where"],
      );
    }
    console.log(`statuses: ${small.queries} queries for 2, ${large.queries} for ${AUTHORS}`);
    assert.equal(large.queries, small.queries);
  });

  it(`followers: 4 accounts and ${FOLLOWERS}`, async () => {
    const small = await queriesFor<Account[]>("/followers?n=4");
    const large = await queriesFor<Account[]>(`/followers?n=${FOLLOWERS}`);
    assert.deepEqual(
      large.body.map((a) => a.acct),
      Array.from({ length: FOLLOWERS }, (_, i) => `follower${i}@remote.example`),
    );
    for (const account of large.body) assert.equal(account.following_count, 1);
    console.log(`followers: ${small.queries} queries for 4, ${large.queries} for ${FOLLOWERS}`);
    assert.equal(large.queries, small.queries);
  });

  it(`member accounts: 2 and ${AUTHORS}, each profile judged`, async () => {
    const ids = authors.map((a) => a.id);
    const render = async (n: number) => {
      const before = counter.count;
      const sub = new Hono<AppEnv>();
      sub.use(async (c, next) => {
        c.set("services", { clique: counted, config: { origin: TEST_ORIGIN } } as AppServices);
        c.set("viewer", world.viewer("bob_member"));
        c.set("authKind", "api");
        await next();
      });
      sub.get("/", async (c) => c.json(await renderAccounts(c, ids.slice(0, n))));
      const body = (await (await sub.request("/")).json()) as Status["account"][];
      return { body, queries: counter.count - before };
    };
    const small = await render(2);
    const large = await render(AUTHORS);
    assert.equal(large.body.length, AUTHORS);
    for (const account of large.body) {
      assert.equal(account.statuses_count, 1);
      assert.deepEqual(
        account.fields.map((f) => f.name),
        ["Where"],
      );
    }
    console.log(`member accounts: ${small.queries} queries for 2, ${large.queries} for ${AUTHORS}`);
    assert.equal(large.queries, small.queries);
  });
});
