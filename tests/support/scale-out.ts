/**
 * One Clique run as several processes, the way it is run across machines
 * (`docs/scaling.md`): `--role web` processes behind a load balancer,
 * `--role worker` processes, one PostgreSQL database and, when `REDIS_URL` is
 * set, one Redis; and remote servers whose inboxes count what they receive,
 * verify every signature and tell which process sent each delivery.
 *
 * Used by `tests/scale-out.test.ts` and by `tests/support/scale-out-figures.ts`
 * (deliveries per second with one and with two workers).
 *
 * Not a test file: its name does not end in `.test.ts`.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server } from "node:http";
import { connect, createServer as createTcpServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import {
  createTestDatabase,
  type FakeAccount,
  type FakeRemote,
  lastLine,
  type ProcessEnv,
  runCliOk,
  type ServerProcess,
  startFakeRemote,
  startServerProcess,
  type TestDatabase,
} from "@clique/testing";
import {
  type HeadersLike,
  parseRequestSignature,
  verifyDraftSignature,
  verifyRFC3230DigestHeader,
} from "@misskey-dev/node-http-message-signatures";
import { connectionOwner, readRequestBody } from "./connections.ts";
import { deliver, typeOf } from "./mastodon-signing.ts";
import { deleteRedisKeys } from "./restarts.ts";

type Json = Record<string, unknown>;

// ---------------------------------------------------------------- the load balancer

/** A TCP load balancer on loopback: each new connection goes to the next target, in turn. */
export interface Balancer {
  /** `http://127.0.0.1:PORT`: the Clique's public origin. */
  origin: string;
  /** The ports connections are spread over (the web processes'). */
  targets: number[];
  close(): Promise<void>;
}

/**
 * Starts a round-robin TCP balancer, as a load balancer in front of web
 * processes would be (no stickiness: a WebSocket is one connection, so it
 * stays on the process it reached).
 */
export async function startBalancer(): Promise<Balancer> {
  const sockets = new Set<Socket>();
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  };
  let next = 0;
  const balancer: Balancer = {
    origin: "",
    targets: [],
    close() {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
  const server = createTcpServer((client) => {
    track(client);
    const { targets } = balancer;
    if (targets.length === 0) {
      client.destroy();
      return;
    }
    const upstream = connect(targets[next++ % targets.length]!, "127.0.0.1");
    track(upstream);
    for (const [a, b] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      a.on("error", () => b.destroy());
      a.once("close", () => b.destroy());
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const address = server.address();
  assert.ok(address && typeof address === "object");
  balancer.origin = `http://127.0.0.1:${address.port}`;
  return balancer;
}

// ---------------------------------------------------------------- the Clique

/** Where the job engine keeps its jobs in this run: Redis when `REDIS_URL` is set, else PostgreSQL. */
export function jobBackend(): "redis" | "postgres" {
  return process.env.REDIS_URL ? "redis" : "postgres";
}

/** How to start a {@link ScaleOutClique}. */
export interface ScaleOutOptions {
  webs: number;
  workers: number;
  /** Settings for every process. */
  env?: ProcessEnv;
}

/** A Clique of several processes on one database (and one Redis), alice its owner. */
export class ScaleOutClique {
  readonly db: TestDatabase;
  readonly balancer: Balancer;
  readonly webs: ServerProcess[];
  readonly workers: ServerProcess[];
  /** The environment every process runs with; the CLI uses it too. */
  readonly env: ProcessEnv;
  /** alice's API token. */
  readonly token: string;
  readonly dataDir: string;

  private constructor(fields: {
    db: TestDatabase;
    balancer: Balancer;
    webs: ServerProcess[];
    workers: ServerProcess[];
    env: ProcessEnv;
    token: string;
    dataDir: string;
  }) {
    this.db = fields.db;
    this.balancer = fields.balancer;
    this.webs = fields.webs;
    this.workers = fields.workers;
    this.env = fields.env;
    this.token = fields.token;
    this.dataDir = fields.dataDir;
  }

  /**
   * A fresh database (on `DATABASE_URL`'s server, or the rig's embedded
   * PostgreSQL), `clique init` with alice, then the processes: every one with
   * the balancer's origin as its public origin (one Clique: one set of ids,
   * keys and Redis prefix) and one media directory (one machine here; an
   * object store across machines).
   */
  static async start(options: ScaleOutOptions): Promise<ScaleOutClique> {
    const db = await createTestDatabase();
    const balancer = await startBalancer();
    const dataDir = await mkdtemp(join(tmpdir(), "clique-scale-out-"));
    const started: ServerProcess[] = [];
    try {
      const env: ProcessEnv = {
        ...process.env,
        ...options.env,
        DATABASE_URL: db.url,
        CLIQUE_DATA_DIR: dataDir,
        CLIQUE_ORIGIN: balancer.origin,
        CLIQUE_ALLOW_PRIVATE_ADDRESS: "true",
        // Several processes, and other tests, share one PostgreSQL.
        CLIQUE_DB_POOL: "4",
        CLIQUE_ROLE: undefined,
      };
      await runCliOk(["init", "--name", "Scale-out", "--owner", "alice", "--password-stdin"], {
        env,
        stdin: "alice-password-1",
      });
      const start = (role: "web" | "worker") =>
        startServerProcess({ env: { ...env, CLIQUE_ROLE: role }, origin: balancer.origin }).then(
          (p) => {
            started.push(p);
            return p;
          },
        );
      const [webs, workers] = await Promise.all([
        Promise.all(Array.from({ length: options.webs }, () => start("web"))),
        Promise.all(Array.from({ length: options.workers }, () => start("worker"))),
      ]);
      balancer.targets = webs.map((w) => w.port);
      const token = lastLine(await runCliOk(["token", "create", "alice"], { env }));
      return new ScaleOutClique({ db, balancer, webs, workers, env, token, dataDir });
    } catch (error) {
      for (const server of started) await server.stop().catch(() => {});
      await balancer.close();
      await db.drop().catch(() => {});
      await rm(dataDir, { recursive: true, force: true });
      throw error;
    }
  }

  get origin(): string {
    return this.balancer.origin;
  }

  get aliceUri(): string {
    return `${this.origin}/users/alice`;
  }

  /** Calls the client API as alice through one web process (`via`); a failure throws with the answer. */
  async api<T = Json>(
    via: ServerProcess,
    path: string,
    init: { method?: string; body?: unknown } = {},
  ): Promise<T> {
    const response = await fetch(`${via.url}${path}`, {
      method: init.method ?? "GET",
      headers: {
        authorization: `Bearer ${this.token}`,
        ...(init.body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    });
    const text = await response.text();
    assert.ok(response.ok, `${init.method ?? "GET"} ${path}: ${response.status} ${text}`);
    return JSON.parse(text) as T;
  }

  /** `clique ...args` on this Clique, as its own process; its standard output. */
  cli(args: readonly string[]): Promise<string> {
    return runCliOk(args, { env: this.env });
  }

  /** What every process printed (the end of it), for a failing test's report. */
  output(limit = 6_000): string {
    return [
      ...this.webs.map((p, i) => [`web ${i + 1}`, p] as const),
      ...this.workers.map((p, i) => [`worker ${i + 1}`, p] as const),
    ]
      .map(([name, p]) => `----- ${name} (pid ${p.pid})\n${p.output().slice(-limit)}`)
      .join("\n");
  }

  /** Stops every process, the balancer, drops the database and this Clique's Redis keys. */
  async stop(): Promise<void> {
    await Promise.all(
      [...this.workers, ...this.webs].map((server) =>
        server.stop().catch((e: unknown) => console.error("stopping a server:", e)),
      ),
    );
    await this.balancer.close();
    const redisUrl = this.env.REDIS_URL;
    if (redisUrl) await deleteRedisKeys(redisUrl, `clique:${new URL(this.origin).host}`);
    await this.db.drop();
    await rm(this.dataDir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------- remote servers and their inboxes

/** One verified delivery. */
export interface Arrival {
  /** The inbox's path: `/inbox` (shared) or `/users/NAME/inbox`. */
  inbox: string;
  activityId: string;
  type: string | undefined;
  /** The sending process (of the pids asked about), or `null` when /proc cannot tell. */
  sender: number | null;
  at: number;
}

/** A remote server: accounts (actor documents, keys) on a fake remote, inboxes on a counting server. */
export interface CountingRemote {
  remote: FakeRemote;
  /** `http://127.0.0.1:PORT` of the inboxes (another host than the actors'). */
  inboxOrigin: string;
  accounts: FakeAccount[];
  /** Whether its accounts name a shared inbox (one delivery per activity for the server) or only their own. */
  shared: boolean;
  /** Every verified delivery, oldest first. */
  arrivals: Arrival[];
  /** Inbox POSTs refused (not signed by the Clique, or not verifiable). */
  refused: number;
  /** How long the inbox takes before answering, from now on. */
  handlingMs: number;
  /** Requests from process `pid` that this server is reading or answering now. */
  inFlightFrom(pid: number): number;
  close(): Promise<void>;
}

/**
 * Checks an inbox POST as Misskey does (a draft signature over the required
 * headers, the body's digest, the key from its owner's actor document), with
 * the keys kept once fetched, as a real server keeps them. RFC 9421 knocks are
 * refused (Fedify then signs again with a draft signature).
 */
function verifier(origin: string) {
  const keys = new Map<string, Promise<string>>();
  const keyOf = (keyId: string) => {
    let pem = keys.get(keyId);
    if (!pem) {
      pem = (async () => {
        const response = await fetch(keyId.replace(/#.*$/, ""), {
          headers: { accept: "application/activity+json" },
        });
        const actor = (await response.json()) as { publicKey?: Json | Json[] };
        const list = Array.isArray(actor.publicKey) ? actor.publicKey : [actor.publicKey];
        const key = list.find((k) => k?.id === keyId);
        if (typeof key?.publicKeyPem !== "string") throw new Error(`no key ${keyId}`);
        return key.publicKeyPem;
      })();
      pem.catch(() => keys.delete(keyId));
      keys.set(keyId, pem);
    }
    return pem;
  };
  return async (request: IncomingMessage, body: string): Promise<boolean> => {
    if (request.headers["signature-input"] || !request.headers.signature) return false;
    const like = {
      url: request.url ?? "/",
      method: request.method ?? "POST",
      headers: request.headers as HeadersLike,
    };
    try {
      const parsed = parseRequestSignature(like, {
        requiredComponents: { draft: ["(request-target)", "host", "date", "digest"] },
      });
      if (parsed.version !== "draft") return false;
      if (!parsed.value.keyId.startsWith(`${origin}/users/`)) return false;
      if (!(await verifyRFC3230DigestHeader(like, body, true))) return false;
      return await verifyDraftSignature(parsed.value, await keyOf(parsed.value.keyId));
    } catch {
      return false;
    }
  };
}

/**
 * Starts a remote server with `usernames`: actor documents from a fake remote,
 * inboxes on a counting server of its own. With `shared`, the accounts name a
 * shared inbox; without, only their own inboxes.
 */
export async function startCountingRemote(options: {
  usernames: readonly string[];
  shared: boolean;
  /** The Clique's origin: only its signatures are accepted. */
  origin: () => string;
  /** The processes a delivery may come from. */
  pids: () => number[];
  handlingMs?: number;
}): Promise<CountingRemote> {
  const remote = await startFakeRemote({ usernames: options.usernames });
  const owners = new WeakMap<Socket, number | null>();
  const inFlight = new Map<number | null, number>();
  let verify: ReturnType<typeof verifier> | null = null;
  const counting: CountingRemote = {
    remote,
    inboxOrigin: "",
    accounts: options.usernames.map((u) => remote.account(u)),
    shared: options.shared,
    arrivals: [],
    refused: 0,
    handlingMs: options.handlingMs ?? 0,
    inFlightFrom: (pid) => inFlight.get(pid) ?? 0,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await remote.close();
    },
  };
  const server: Server = createServer((request, response) => {
    void (async () => {
      // Whose connection this is: asked while it is surely open.
      if (!owners.has(request.socket))
        owners.set(request.socket, connectionOwner(request.socket, options.pids()));
      const sender = owners.get(request.socket) ?? null;
      inFlight.set(sender, (inFlight.get(sender) ?? 0) + 1);
      try {
        const body = await readRequestBody(request);
        verify ??= verifier(options.origin());
        const verified = request.method === "POST" && (await verify(request, body));
        if (verified) {
          // Read in full and verified: it arrived, whether or not the sender lives to see the answer.
          const json = JSON.parse(body) as Json;
          counting.arrivals.push({
            inbox: new URL(request.url ?? "/", "http://x").pathname,
            activityId: typeof json.id === "string" ? json.id : "",
            type: typeOf(json),
            sender,
            at: Date.now(),
          });
        } else {
          counting.refused++;
        }
        if (counting.handlingMs > 0) await sleep(counting.handlingMs);
        response.writeHead(verified ? 202 : 401).end();
      } finally {
        inFlight.set(sender, (inFlight.get(sender) ?? 1) - 1);
      }
    })().catch((error: unknown) => {
      if (!response.headersSent) response.writeHead(500);
      response.end(String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  assert.ok(address && typeof address === "object");
  counting.inboxOrigin = `http://127.0.0.1:${address.port}`;
  for (const account of counting.accounts) {
    remote.update(account.username, {
      properties: {
        inbox: `${counting.inboxOrigin}/users/${account.username}/inbox`,
        // Without a shared inbox, each follower is a delivery of its own.
        endpoints: options.shared ? { sharedInbox: `${counting.inboxOrigin}/inbox` } : undefined,
      },
    });
  }
  return counting;
}

/** The inboxes an activity to every follower on `remote` must reach: the shared one, or each account's. */
export function inboxesOf(remote: CountingRemote): string[] {
  return remote.shared ? ["/inbox"] : remote.accounts.map((a) => `/users/${a.username}/inbox`);
}

/** `who` follows alice with a signed `Follow` sent to the Clique's shared inbox (alice does not approve by hand). */
export async function follow(clique: ScaleOutClique, who: FakeAccount): Promise<void> {
  const sent = await deliver(
    `${clique.origin}/inbox`,
    {
      "@context": "https://www.w3.org/ns/activitystreams",
      id: `${new URL(who.id).origin}/follows/${who.username}`,
      type: "Follow",
      actor: who.id,
      object: clique.aliceUri,
    },
    { as: who },
  );
  assert.equal(sent.status, 202, `Follow from ${who.username}: ${sent.text}`);
}
