/**
 * A Clique for the delivery tests (`delivery-retry`, `delivery-isolation`,
 * `delivery-workers`): a fresh database, the job engine on PostgreSQL or on
 * Redis, and one `clique start` process (role `all`) or one web process and
 * several worker processes sharing the work. Alice is its owner; remote
 * accounts follow her with signed `Follow`s, and she approves them.
 *
 * Not a test file: its name does not end in `.test.ts`.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import {
  createTestDatabase,
  type FakeAccount,
  type FakeRemote,
  lastLine,
  type ProcessEnv,
  type RecordedRequest,
  runCliOk,
  type ServerProcess,
  startServerProcess,
  type TestDatabase,
} from "@clique/testing";
import { Redis } from "ioredis";
import { deliver, eventually, typeOf, verifyAsMisskeyWould } from "./mastodon-signing.ts";

const AS = "https://www.w3.org/ns/activitystreams";

type Json = Record<string, unknown>;

/** Where the job engine keeps its jobs, and whether this machine can test it. */
export interface Backend {
  name: "postgres" | "redis";
  /** What the processes' environment says about it. */
  env: ProcessEnv;
  /** Why the back end is not tested here, or `false`. */
  skip: string | false;
}

/** The back ends a delivery test runs on: PostgreSQL always, Redis when `REDIS_URL` is set. */
export function backends(): Backend[] {
  const redis = process.env.REDIS_URL;
  return [
    // CI exports REDIS_URL for every test: the PostgreSQL variant must unset it.
    { name: "postgres", env: { REDIS_URL: undefined }, skip: false },
    {
      name: "redis",
      env: { REDIS_URL: redis },
      skip: redis ? false : "REDIS_URL is unset: BullMQ on Redis is not tested on this machine",
    },
  ];
}

/** What a `Status` of the client API says about a post. */
export interface Status {
  id: string;
  uri: string;
  content: string;
}

/** How to start a {@link DeliveryClique}. */
export interface DeliveryCliqueOptions {
  backend: Backend;
  /** Settings for every process (`CLIQUE_RETRY_BASE_MS`...). */
  env?: ProcessEnv;
  /** Worker processes beside one web process; 0 (default): one process of role `all`. */
  workers?: number;
}

/**
 * Whether a fake remote should accept an inbox POST: signed by the Clique as
 * Misskey checks it (draft signatures only; an RFC 9421 knock gets 401, and
 * Fedify knocks again with a draft signature).
 */
export async function signedByClique(request: RecordedRequest, origin: string): Promise<boolean> {
  const verdict = await verifyAsMisskeyWould(request, { keyIdPrefix: `${origin}/users/` });
  return verdict.verified;
}

/** A running Clique: its processes, its database, and alice's API. */
export class DeliveryClique {
  readonly db: TestDatabase;
  /** The process that serves HTTP (role `all` or `web`). */
  readonly web: ServerProcess;
  /** Worker processes (role `worker`); empty for a single `all` process. */
  readonly workers: ServerProcess[];
  /** The environment of every process, for CLI commands on the same Clique. */
  readonly env: ProcessEnv;
  readonly token: string;
  readonly backend: Backend;

  private constructor(fields: {
    db: TestDatabase;
    web: ServerProcess;
    workers: ServerProcess[];
    env: ProcessEnv;
    token: string;
    backend: Backend;
  }) {
    this.db = fields.db;
    this.web = fields.web;
    this.workers = fields.workers;
    this.env = fields.env;
    this.token = fields.token;
    this.backend = fields.backend;
  }

  /** Creates the database, `clique init`s it with alice as owner, and starts the processes. */
  static async start(options: DeliveryCliqueOptions): Promise<DeliveryClique> {
    const db = await createTestDatabase();
    const started: ServerProcess[] = [];
    try {
      const base: ProcessEnv = {
        ...process.env,
        ...options.backend.env,
        ...options.env,
        DATABASE_URL: db.url,
        CLIQUE_ALLOW_PRIVATE_ADDRESS: "true",
        // Others run tests on the same PostgreSQL (100 connections).
        CLIQUE_DB_POOL: "4",
        CLIQUE_ROLE: undefined,
      };
      await runCliOk(["init", "--name", "Deliveries", "--owner", "alice", "--password-stdin"], {
        env: base,
        stdin: "alice-password-1",
      });
      const workers = options.workers ?? 0;
      const web = await startServerProcess({
        env: { ...base, CLIQUE_ROLE: workers > 0 ? "web" : "all" },
      });
      started.push(web);
      // Every process is the same Clique: one public origin (ids, keys, the Redis prefix).
      const env: ProcessEnv = { ...base, CLIQUE_ORIGIN: web.origin };
      for (let i = 0; i < workers; i++) {
        started.push(
          await startServerProcess({
            env: { ...env, CLIQUE_ROLE: "worker" },
            origin: web.origin,
          }),
        );
      }
      const token = lastLine(await runCliOk(["token", "create", "alice"], { env }));
      return new DeliveryClique({
        db,
        web,
        workers: started.slice(1),
        env,
        token,
        backend: options.backend,
      });
    } catch (error) {
      for (const server of started) await server.stop().catch(() => {});
      await db.drop().catch(() => {});
      throw error;
    }
  }

  get origin(): string {
    return this.web.origin;
  }

  get aliceUri(): string {
    return `${this.origin}/users/alice`;
  }

  /** Calls the client API as alice; a failure throws with the answer. */
  async api<T = Json>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
    const response = await fetch(`${this.web.url}${path}`, {
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

  /** Alice posts to everyone. */
  post(text: string): Promise<Status> {
    return this.api<Status>("/api/v1/statuses", {
      method: "POST",
      body: { status: text, visibility: "public" },
    });
  }

  /** Delivers a signed activity to the Clique's shared inbox and expects 202. */
  async deliver(activity: Json, as: FakeAccount): Promise<void> {
    const sent = await deliver(`${this.origin}/inbox`, activity, { as });
    assert.equal(sent.status, 202, `${String(activity.type)} from ${as.username}: ${sent.text}`);
  }

  /** Alice's pending follow requests (the Clique's view of inbound `Follow`s). */
  followRequests(): Promise<{ id: string; acct: string }[]> {
    return this.api<{ id: string; acct: string }[]>("/api/v1/follow_requests");
  }

  /**
   * `who` sends a signed `Follow` of alice, alice approves it, and `remote`
   * receives the `Accept` (or `accepted` resolves, for an inbox of the test's own).
   */
  async followedBy(
    who: FakeAccount,
    remote: FakeRemote | { accepted: () => Promise<unknown> },
  ): Promise<void> {
    await this.deliver(
      {
        "@context": AS,
        id: `${new URL(who.id).origin}/follows/${randomUUID()}`,
        type: "Follow",
        actor: who.id,
        object: this.aliceUri,
      },
      who,
    );
    const request = await eventually(`${who.username}'s follow request`, async () =>
      (await this.followRequests()).find((r) => r.acct.startsWith(`${who.username}@`)),
    );
    await this.api(`/api/v1/follow_requests/${request.id}/authorize`, { method: "POST" });
    if ("accepted" in remote) {
      await remote.accepted();
      return;
    }
    await remote.waitFor(
      (r) => r.inbox && r.status === 202 && typeOf(r.json) === "Accept" && r.body.includes(who.id),
      { what: `the Accept of ${who.username}'s Follow` },
    );
  }

  /** `clique ...args` on this Clique, as its own process; its standard output. */
  cli(args: readonly string[]): Promise<string> {
    return runCliOk(args, { env: this.env });
  }

  /** What every process printed, for a failing test's report. */
  output(): string {
    return [this.web, ...this.workers]
      .map((p, i) => `----- ${i === 0 ? "web" : `worker ${i}`} (pid ${p.pid})\n${p.output()}`)
      .join("\n");
  }

  /** Stops the processes, drops the database and, on Redis, removes this Clique's keys. */
  async stop(): Promise<void> {
    for (const server of [...this.workers, this.web]) {
      await server.stop().catch((e: unknown) => console.error("stopping a server:", e));
    }
    const redisUrl = this.backend.env.REDIS_URL;
    if (redisUrl) {
      // The engine's prefix (compose.ts): `clique:HOST`; dead letters would stay a month.
      const redis = new Redis(redisUrl);
      try {
        const prefix = `clique:${new URL(this.origin).host}:`;
        let cursor = "0";
        do {
          const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 500);
          if (keys.length > 0) await redis.del(...keys);
          cursor = next;
        } while (cursor !== "0");
      } finally {
        redis.disconnect();
      }
    }
    await this.db.drop();
  }
}
