/**
 * Live updates (Mastodon's streaming API) across processes: two server
 * processes of one Clique on one database — A (role `all`) and B (role
 * `web`). Posts are written through A; WebSockets are connected to B. Every
 * event passes the visibility module for its subscriber: a circle post
 * reaches the circle's members and nobody else.
 */
import assert from "node:assert/strict";
import { request as httpRequest } from "node:http";
import { after, before, describe, it } from "node:test";
import { type ServerProcess, startServerProcess, stopEmbeddedTestServer } from "@clique/testing";
import { api, type Cleanup, runCleanup, type Site, startSite } from "./support/sites.ts";

const cleanup: Cleanup = [];
let site: Site;
/** Process B: the same Clique, another process. */
let b: ServerProcess;
let circleId: string;

before(async () => {
  site = await startSite({ label: "stream", owner: "alice", members: ["bob", "carol"], cleanup });
  b = await startServerProcess({
    env: { ...site.env, CLIQUE_ROLE: "web" },
    databaseUrl: site.db.url,
    dataDir: site.env.CLIQUE_DATA_DIR!,
    origin: site.origin,
  });
  cleanup.unshift(() => b.stop());
  circleId = (
    await api(site, "alice", "POST", "/api/v1/clique/circles", {
      name: "inner",
      member_ids: [site.ids.bob],
    })
  ).id;
  // bob follows alice: her posts belong on his `user` stream.
  const follow = await api<{ id: string; following: boolean; requested: boolean }>(
    site,
    "bob",
    "POST",
    `/api/v1/accounts/${site.ids.alice}/follow`,
  );
  if (follow.requested)
    await api(site, "alice", "POST", `/api/v1/follow_requests/${site.ids.bob}/authorize`);
});

after(async () => {
  await runCleanup(cleanup);
  await stopEmbeddedTestServer();
});

interface StreamEvent {
  stream: string[];
  event: string;
  payload: string;
}

/** A WebSocket on process B, collecting its events. */
class Listener {
  readonly events: StreamEvent[] = [];
  readonly socket: WebSocket;

  private constructor(socket: WebSocket) {
    this.socket = socket;
    socket.addEventListener("message", (m) => {
      const data = JSON.parse(String(m.data)) as StreamEvent;
      if (data.event) this.events.push(data);
    });
  }

  static async open(token: string, query: string, protocols?: string): Promise<Listener> {
    const url = `${b.url.replace("http", "ws")}/api/v1/streaming?${query}`;
    const socket = protocols ? new WebSocket(url, protocols) : new WebSocket(url);
    await new Promise<void>((resolve, reject) => {
      socket.addEventListener("open", () => resolve());
      socket.addEventListener("error", () => reject(new Error(`could not open ${query}`)));
    });
    void token;
    return new Listener(socket);
  }

  subscribe(stream: string, tag?: string): void {
    this.socket.send(JSON.stringify({ type: "subscribe", stream, ...(tag ? { tag } : {}) }));
  }

  /** Waits for an event matching `match`. */
  async next(what: string, match: (e: StreamEvent) => boolean): Promise<StreamEvent> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const found = this.events.find(match);
      if (found) return found;
      if (Date.now() > deadline)
        assert.fail(
          `no ${what}; got ${JSON.stringify(this.events.map((e) => e.event))}\n${b.output().slice(-3000)}`,
        );
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  close(): void {
    this.socket.close();
  }
}

const hasStatus = (id: string) => (e: StreamEvent) =>
  e.event === "update" && (JSON.parse(e.payload) as { id: string }).id === id;

/** An upgrade request's HTTP status (a refused one never becomes a WebSocket). */
function upgradeStatus(url: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, {
      headers: {
        Connection: "Upgrade",
        Upgrade: "websocket",
        "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Key": Buffer.from("0123456789abcdef").toString("base64"),
        ...headers,
      },
    });
    req.on("response", (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("upgrade", (res, socket) => {
      socket.destroy();
      resolve(res.statusCode ?? 101);
    });
    req.on("error", reject);
    req.end();
  });
}

describe("streaming across processes", () => {
  it("answers the health check", async () => {
    const response = await fetch(`${b.url}/api/v1/streaming/health`);
    assert.equal(response.status, 200);
    assert.equal(await response.text(), "OK");
  });

  it("refuses a bad token and accepts a good one in each place Mastodon takes it", async () => {
    const base = `${b.url}/api/v1/streaming`;
    assert.equal(
      await upgradeStatus(`${base}?stream=user&access_token=not-a-real-token-at-all`),
      401,
    );
    assert.equal(await upgradeStatus(`${base}?stream=user`), 401);
    assert.equal(
      await upgradeStatus(`${base}?stream=user`, {
        Authorization: "Bearer not-a-real-token-at-all",
      }),
      401,
    );
    assert.equal(
      await upgradeStatus(`${base}?stream=nonsense&access_token=${site.tokens.bob}`),
      400,
    );
    assert.equal(await upgradeStatus(`${base}?stream=user&access_token=${site.tokens.bob}`), 101);
    assert.equal(
      await upgradeStatus(`${base}?stream=user`, { Authorization: `Bearer ${site.tokens.bob}` }),
      101,
    );
    assert.equal(
      await upgradeStatus(`${base}?stream=user`, { "Sec-WebSocket-Protocol": site.tokens.bob! }),
      101,
    );
  });

  it("streams a post written through A to sockets on B, each only what its member may see", async () => {
    const bobUser = await Listener.open(
      site.tokens.bob!,
      `stream=user&access_token=${site.tokens.bob}`,
    );
    const bobLocal = await Listener.open(
      site.tokens.bob!,
      `stream=public:local&access_token=${site.tokens.bob}`,
    );
    // carol subscribes by message, through the Sec-WebSocket-Protocol token.
    const carol = await Listener.open(site.tokens.carol!, "", site.tokens.carol!);
    carol.subscribe("public:local");
    carol.subscribe("hashtag", "secrets");
    await new Promise((r) => setTimeout(r, 300));
    try {
      const circled = await api(site, "alice", "POST", "/api/v1/statuses", {
        status: "only for the inner circle #secrets",
        visibility: "direct",
        audience: "circle",
        circle_id: circleId,
      });
      const open = await api(site, "alice", "POST", "/api/v1/statuses", {
        status: "hello everyone #secrets",
        visibility: "public",
      });
      // bob is in the circle and follows alice: both reach his streams.
      const onUser = await bobUser.next("circle post on bob's user stream", hasStatus(circled.id));
      assert.deepEqual(onUser.stream, ["user"]);
      const status = JSON.parse(onUser.payload) as { content: string; account: { id: string } };
      assert.match(status.content, /inner circle/);
      assert.equal(status.account.id, site.ids.alice);
      await bobLocal.next("circle post on bob's public:local", hasStatus(circled.id));
      await bobUser.next("public post on bob's user stream", hasStatus(open.id));
      // carol gets the public post on both her streams, and never the circle post.
      await carol.next("public post on carol's public:local", hasStatus(open.id));
      const tagged = await carol.next(
        "public post on carol's hashtag stream",
        (e) => hasStatus(open.id)(e) && e.stream[0] === "hashtag",
      );
      assert.deepEqual(tagged.stream, ["hashtag", "secrets"]);
      await new Promise((r) => setTimeout(r, 500));
      const leaked = carol.events.filter(
        (e) => e.payload.includes(circled.id) || e.payload.includes("inner circle"),
      );
      assert.deepEqual(leaked, [], "the circle post never reached carol");

      // A deletion reaches those who could see the post, as its id.
      await api(site, "alice", "DELETE", `/api/v1/statuses/${circled.id}`);
      const deleted = await bobUser.next("delete", (e) => e.event === "delete");
      assert.equal(deleted.payload, circled.id);
      await api(site, "alice", "DELETE", `/api/v1/statuses/${open.id}`);
      await carol.next(
        "delete of the public post",
        (e) => e.event === "delete" && e.payload === open.id,
      );
      assert.ok(!carol.events.some((e) => e.event === "delete" && e.payload === circled.id));
    } finally {
      bobUser.close();
      bobLocal.close();
      carol.close();
    }
  });

  it("streams notifications on user:notification, and edits as status.update", async () => {
    const alice = await Listener.open(
      site.tokens.alice!,
      `stream=user:notification&access_token=${site.tokens.alice}`,
    );
    const bobUser = await Listener.open(
      site.tokens.bob!,
      `stream=user&access_token=${site.tokens.bob}`,
    );
    await new Promise((r) => setTimeout(r, 300));
    try {
      const post = await api(site, "alice", "POST", "/api/v1/statuses", {
        status: "like this",
        visibility: "public",
      });
      await api(site, "bob", "POST", `/api/v1/statuses/${post.id}/favourite`);
      const event = await alice.next("favourite notification", (e) => e.event === "notification");
      assert.deepEqual(event.stream, ["user:notification"]);
      const n = JSON.parse(event.payload) as {
        type: string;
        account: { id: string };
        status: { id: string };
      };
      assert.equal(n.type, "favourite");
      assert.equal(n.account.id, site.ids.bob);
      assert.equal(n.status.id, post.id);
      // user:notification carries no posts.
      assert.ok(!alice.events.some((e) => e.event === "update"));

      await api(site, "alice", "PUT", `/api/v1/statuses/${post.id}`, {
        status: "like this, edited",
      });
      const edited = await bobUser.next(
        "status.update",
        (e) =>
          e.event === "status.update" && (JSON.parse(e.payload) as { id: string }).id === post.id,
      );
      assert.match((JSON.parse(edited.payload) as { content: string }).content, /edited/);
      // bob liked it: he is told of the edit on his user stream.
      const told = await bobUser.next("update notification", (e) => e.event === "notification");
      assert.equal((JSON.parse(told.payload) as { type: string }).type, "update");
    } finally {
      alice.close();
      bobUser.close();
    }
  });
});
