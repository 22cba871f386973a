/**
 * Several worker processes share the deliveries of one Clique without ever
 * sending the same activity twice at once — on BullMQ's PostgreSQL back end
 * and on Redis.
 *
 * One web process (`CLIQUE_ROLE=web`: it serves the API and records) and two
 * worker processes (`CLIQUE_ROLE=worker`: the outbox relay and the queues'
 * workers) on one database (and one Redis). `wes`, on a fake remote server,
 * follows alice; his inbox is a receiver of this test's own that takes 100 ms
 * per request and records, per activity id, how many requests came, how many
 * were in flight at once, and which process sent each (the TCP connection's
 * owner, read from /proc). Alice then posts 40 times; then 8 times more while
 * the receiver takes 5 s per request, over twice the job lock
 * (`CLIQUE_JOB_LOCK_MS=2000`): a worker that stopped renewing its lock would
 * see another take the job up and send it again meanwhile.
 */
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { after, afterEach, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { type FakeRemote, startFakeRemote, stopEmbeddedTestServer } from "@clique/testing";
import { connectionOwner, readRequestBody } from "./support/connections.ts";
import { backends, DeliveryClique, type Status, signedByClique } from "./support/delivery.ts";
import { eventually, idOf, typeOf } from "./support/mastodon-signing.ts";

const POSTS = 40;
/** Posts sent at once. */
const LANES = 4;
/** How long the receiver takes per request, at first. */
const HANDLING_MS = 100;
/** The job lock of every process. */
const LOCK_MS = 2_000;
/** Posts while the receiver takes longer than the lock, and how long. */
const LONG_POSTS = 8;
const LONG_HANDLING_MS = 5_000;

type Json = Record<string, unknown>;

/** What the receiver saw of one activity. */
interface Seen {
  type: string | undefined;
  objectId: string | undefined;
  /** Requests carrying it, signed or not (Fedify knocks with RFC 9421, then a draft signature). */
  requests: number;
  /** Requests that were verified and answered 202: deliveries. */
  delivered: number;
  inFlight: number;
  maxInFlight: number;
  /** The processes that delivered it (`unknown`: /proc could not tell). */
  senders: (number | "unknown")[];
}

/** An inbox that takes its time and keeps count. */
interface Receiver {
  url: string;
  seen: Map<string, Seen>;
  /** Most requests in flight at once, whatever their activity. */
  maxInFlight: number;
  /** How long it takes per request from now on. */
  handlingMs: number;
  close(): Promise<void>;
}

async function startReceiver(origin: () => string, pids: () => number[]): Promise<Receiver> {
  const seen = new Map<string, Seen>();
  const owners = new WeakMap<Socket, number | null>();
  let inFlight = 0;
  const receiver: Receiver = {
    url: "",
    seen,
    maxInFlight: 0,
    handlingMs: HANDLING_MS,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  const server: Server = createServer((request, response) => {
    void (async () => {
      // Whose connection this is: asked while it is surely open.
      if (!owners.has(request.socket))
        owners.set(request.socket, connectionOwner(request.socket, pids()));
      const body = await readRequestBody(request);
      let json: Json = {};
      try {
        json = JSON.parse(body) as Json;
      } catch {
        // Counted under "" below.
      }
      const id = typeof json.id === "string" ? json.id : "";
      const entry = seen.get(id) ?? {
        type: typeOf(json),
        objectId: idOf(json.object),
        requests: 0,
        delivered: 0,
        inFlight: 0,
        maxInFlight: 0,
        senders: [],
      };
      seen.set(id, entry);
      entry.requests++;
      entry.inFlight++;
      entry.maxInFlight = Math.max(entry.maxInFlight, entry.inFlight);
      inFlight++;
      receiver.maxInFlight = Math.max(receiver.maxInFlight, inFlight);
      try {
        const verified = await signedByClique(
          {
            method: request.method ?? "POST",
            path: request.url ?? "/",
            headers: request.headers,
            body,
            json,
            status: 0,
            inbox: true,
          },
          origin(),
        );
        await sleep(receiver.handlingMs);
        if (verified) {
          entry.delivered++;
          entry.senders.push(owners.get(request.socket) ?? "unknown");
        }
        response.writeHead(verified ? 202 : 401).end();
      } finally {
        entry.inFlight--;
        inFlight--;
      }
    })().catch((error: unknown) => {
      response.writeHead(500).end(String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/inbox`;
  return receiver;
}

after(() => stopEmbeddedTestServer());

for (const backend of backends()) {
  describe(`two workers and a web process, BullMQ on ${backend.name}`, {
    skip: backend.skip,
  }, () => {
    let clique: DeliveryClique | undefined;
    let remote: FakeRemote | undefined;
    let receiver: Receiver | undefined;
    let someTestFailed = false;

    before(async () => {
      receiver = await startReceiver(
        () => clique?.origin ?? "",
        () => (clique ? [clique.web, ...clique.workers].map((p) => p.pid) : []),
      );
      remote = await startFakeRemote({ usernames: ["wes"] });
      // wes's inbox, and his server's shared inbox, are the receiver.
      remote.update("wes", {
        properties: { inbox: receiver.url, endpoints: { sharedInbox: receiver.url } },
      });
      clique = await DeliveryClique.start({
        backend,
        workers: 2,
        env: { CLIQUE_JOB_LOCK_MS: String(LOCK_MS) },
      });
      const wes = remote.account("wes");
      await clique.followedBy(wes, {
        accepted: () =>
          eventually("the Accept of wes's Follow", async () =>
            [...receiver!.seen.values()].some((s) => s.type === "Accept" && s.delivered === 1),
          ),
      });
    });

    afterEach((t) => {
      if ((t as { passed?: boolean }).passed === false) someTestFailed = true;
    });

    after(async () => {
      if (someTestFailed && clique) console.error(clique.output().slice(-40_000));
      await clique?.stop().catch((e: unknown) => console.error("stopping the Clique:", e));
      await remote?.close();
      await receiver?.close();
    });

    /** Alice posts `count` times, `LANES` at a time, so the relays and workers compete for rows and jobs. */
    async function postMany(count: number, marker: string): Promise<Status[]> {
      const posts: Status[] = new Array(count);
      await Promise.all(
        Array.from({ length: LANES }, async (_, lane) => {
          for (let i = lane; i < count; i += LANES)
            posts[i] = await clique!.post(`workers ${marker}-${i}`);
        }),
      );
      return posts;
    }

    function createOf(post: Status): Seen | undefined {
      return receiver!.seen.get(`${post.uri}/activity`);
    }

    /** Waits for every post's Create, then a while for anything sent twice; checks each came once, alone. */
    async function deliveredOnce(posts: readonly Status[], settleMs: number): Promise<void> {
      await eventually(
        `all ${posts.length} Creates to arrive`,
        async () => posts.every((p) => (createOf(p)?.delivered ?? 0) >= 1),
        60_000,
      );
      await sleep(settleMs);
      for (const [i, post] of posts.entries()) {
        const seen = createOf(post);
        assert.ok(seen, `post ${i}`);
        assert.equal(seen.type, "Create");
        assert.equal(seen.objectId, post.uri);
        assert.equal(seen.maxInFlight, 1, `post ${i}: never two requests at once`);
        assert.equal(seen.delivered, 1, `post ${i}: delivered exactly once`);
      }
    }

    /** Deliveries of these posts' Creates by sending process. */
    function senders(posts: readonly Status[]): Record<string, number> {
      const byPid: Record<string, number> = {};
      for (const post of posts)
        for (const pid of createOf(post)!.senders) byPid[pid] = (byPid[pid] ?? 0) + 1;
      return byPid;
    }

    test(`${POSTS} posts: each delivered once, never twice at once, by both workers`, async (t) => {
      const web = clique!.web.pid;
      const workerPids = clique!.workers.map((w) => w.pid);
      const started = Date.now();
      const posts = await postMany(POSTS, "marker");
      await deliveredOnce(posts, 2_000);
      const took = Date.now() - started - 2_000;
      const unexpected = [...receiver!.seen.entries()].filter(
        ([id, s]) => s.type !== "Accept" && !posts.some((p) => id === `${p.uri}/activity`),
      );
      assert.deepEqual(unexpected, [], "nothing but the Accept and the Creates");

      const byPid = senders(posts);
      if (byPid.unknown === undefined) {
        assert.equal(byPid[web], undefined, "the web process delivers nothing");
        for (const pid of workerPids)
          assert.ok(
            (byPid[pid] ?? 0) > 0,
            `worker ${pid} delivered some: ${JSON.stringify(byPid)}`,
          );
      } else {
        t.diagnostic("/proc could not tell which process sent what: not checked");
      }

      // The CLI, as its own process, sees nothing left and nothing dead.
      const status = await clique!.cli(["queue", "status"]);
      assert.match(status, /^outbox events +0 waiting, 0 dead$/m);
      assert.match(status, /^outbox +0 waiting, 0 running, 0 delayed, 0 dead$/m);
      assert.match(status, /^No dead letters\.$/m);

      const requests = posts.reduce((n, p) => n + createOf(p)!.requests, 0);
      t.diagnostic(
        `${POSTS} Creates arrived ${took} ms after the first post; ${requests} requests in all; at most ${receiver!.maxInFlight} in flight at once; Creates delivered by process ${JSON.stringify(byPid)} (web ${web}, workers ${workerPids.join(", ")})`,
      );
    });

    test(`deliveries that outlast the job lock (${LONG_HANDLING_MS} ms, lock ${LOCK_MS} ms) are still sent once`, async (t) => {
      receiver!.handlingMs = LONG_HANDLING_MS;
      receiver!.maxInFlight = 0;
      const started = Date.now();
      const posts = await postMany(LONG_POSTS, "long");
      // Another worker would take up a job whose lock expired within a stalled-check interval (1 s).
      await deliveredOnce(posts, 2 * LOCK_MS);
      t.diagnostic(
        `${LONG_POSTS} Creates, ${LONG_HANDLING_MS} ms each, all arrived within ${Date.now() - started - 2 * LOCK_MS} ms; at most ${receiver!.maxInFlight} in flight at once; by process ${JSON.stringify(senders(posts))}`,
      );
    });
  });
}
