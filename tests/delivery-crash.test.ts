/**
 * Nothing accepted is lost (issue 8, "Kill -9 at every step"): a real Clique
 * process, a fake remote server on loopback whose account follows alice, and
 * the process SIGKILLed at each step between alice's post and its delivery:
 *
 * (a) right after the commit: the post is made through a `--role web` process
 *     (which never relays), killed with the event still in the outbox;
 * (b) after the relay handed the event to the publisher, which queued the
 *     delivery, and before the event left the outbox (`CLIQUE_TEST_CRASH_AT`);
 * (c) while the delivery job runs: the receiver holds the request open.
 *
 * After a restart on the same database the receiver must get the post: once,
 * or more than once under one activity id (which receivers deduplicate by;
 * Fedify's inbox does). Which one is exact for each step: (a) once, since
 * nothing was queued before the crash; (b) twice, the job queued before the
 * crash and the one the event, handed over again, queues; (c) twice, since the
 * receiver read the request whose answer never reached the dead sender.
 *
 * Then shutdown: SIGTERM during a delivery shorter than `CLIQUE_SHUTDOWN_MS`
 * waits for it and marks it done (once); a longer one is cut off, not marked
 * done, and delivered again after a restart (twice, under one id).
 *
 * All of it on BullMQ's PostgreSQL back end and on Redis (`REDIS_URL`). Every
 * process of a run shares one public origin — a TCP relay on a fixed port in
 * front of whichever process is up, as a reverse proxy would be — so actor and
 * activity ids, keys and the Redis key prefix survive restarts.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, afterEach, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import {
  createTestDatabase,
  type FakeAccount,
  type FakeRemote,
  lastLine,
  type ProcessEnv,
  type RecordedRequest,
  runCliOk,
  type ServerExit,
  type ServerProcess,
  startFakeRemote,
  startServerProcess,
  stopEmbeddedTestServer,
  type TestDatabase,
} from "@clique/testing";
import {
  deliver,
  eventually,
  idOf,
  typeOf,
  verifyAsMisskeyWould,
} from "./support/mastodon-signing.ts";
import { deleteRedisKeys, type StableOrigin, startStableOrigin } from "./support/restarts.ts";

const AS = "https://www.w3.org/ns/activitystreams";
/** Generous: a dead worker's job waits out its lock (LOCK_MS) before it is taken up again. */
const WAIT_MS = 30_000;
/** Short, so a dead worker's job is taken up again quickly. */
const LOCK_MS = 2_000;
/**
 * After the queues are empty, how long to keep listening before concluding that
 * nothing more arrives: longer than a lock, so a job wrongly left running would
 * have been taken up again by then (the empty queues already say none was).
 */
const QUIET_MS = LOCK_MS + 1_500;

/** A back end's whole matrix takes well under a minute; a hung step must not hang the run. */
const SUITE_TIMEOUT_MS = 240_000;

type Json = Record<string, unknown>;
type Backend = "postgres" | "redis";

/** An inbox POST the fake remote read in full, before answering it. */
interface Arrival {
  activityId: string;
  type: string | undefined;
  objectId: string | undefined;
  content: string;
  verified: boolean;
}

/** A delivery the receiver keeps open until the test lets it answer. */
class Hold {
  readonly marker: string;
  /** Resolves when the held request has arrived. */
  readonly arrived: Promise<void>;
  taken = false;
  #arrive = () => {};
  #answer: (() => void) | null = null;

  constructor(marker: string) {
    this.marker = marker;
    this.arrived = new Promise((resolve) => {
      this.#arrive = resolve;
    });
  }

  /** The receiver holds a request here until `release()`. */
  take(): Promise<void> {
    this.taken = true;
    return new Promise((resolve) => {
      this.#answer = () => {
        this.#answer = null;
        resolve();
      };
      this.#arrive();
    });
  }

  /** Whether the held request still waits for its answer. */
  get pending(): boolean {
    return this.#answer !== null;
  }

  release(): void {
    this.#answer?.();
  }
}

interface Status {
  id: string;
  uri: string;
  content: string;
}

/** A remote account following alice, her posts, and the processes that come and go. */
class World {
  readonly backend: Backend;
  db: TestDatabase | undefined;
  origin: StableOrigin | undefined;
  remote: FakeRemote | undefined;
  server: ServerProcess | undefined;
  /** Every process started, for the log when something fails. */
  readonly processes: { label: string; process: ServerProcess }[] = [];
  readonly arrivals: Arrival[] = [];
  readonly holds: Hold[] = [];
  token = "";

  constructor(backend: Backend) {
    this.backend = backend;
  }

  get aliceUri(): string {
    return `${this.publicOrigin}/users/alice`;
  }

  get publicOrigin(): string {
    assert.ok(this.origin, "the stable origin is up");
    return this.origin.origin;
  }

  get fake(): FakeRemote {
    assert.ok(this.remote, "the fake remote is up");
    return this.remote;
  }

  get follower(): FakeAccount {
    return this.fake.account("rem");
  }

  /** The environment of every process; `extra` adds to it for one. */
  env(extra: ProcessEnv = {}): ProcessEnv {
    assert.ok(this.db, "the database exists");
    return {
      ...process.env,
      DATABASE_URL: this.db.url,
      CLIQUE_ORIGIN: this.publicOrigin,
      CLIQUE_ALLOW_PRIVATE_ADDRESS: "true",
      // Others run tests against the same PostgreSQL.
      CLIQUE_DB_POOL: "4",
      CLIQUE_JOB_LOCK_MS: String(LOCK_MS),
      CLIQUE_RETRY_BASE_MS: "200",
      // The PostgreSQL back end is the one used without REDIS_URL.
      REDIS_URL: this.backend === "redis" ? process.env.REDIS_URL : undefined,
      LOG_LEVEL: undefined,
      CLIQUE_ROLE: undefined,
      CLIQUE_SHUTDOWN_MS: undefined,
      CLIQUE_TEST_CRASH_AT: undefined,
      ...extra,
    };
  }

  async start(label: string, extra: ProcessEnv = {}): Promise<ServerProcess> {
    assert.ok(!this.server || this.server.exitStatus(), "the previous process has ended");
    const server = await startServerProcess({
      env: this.env(extra),
      databaseUrl: this.db!.url,
      origin: this.publicOrigin,
    });
    this.origin!.point(server.port);
    this.server = server;
    this.processes.push({ label, process: server });
    return server;
  }

  async stopCurrent(): Promise<void> {
    const exit = await this.current.stop();
    assert.deepEqual(exit, { code: 0, signal: null });
  }

  /** The current process, which must be running. */
  get current(): ServerProcess {
    assert.ok(this.server && !this.server.exitStatus(), "a Clique process is running");
    return this.server;
  }

  async api<T = Json>(path: string, body?: unknown): Promise<T> {
    const response = await fetch(`${this.current.url}${path}`, {
      method: body === undefined ? "GET" : "POST",
      headers: {
        authorization: `Bearer ${this.token}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    assert.ok(response.ok, `${path}: ${response.status} ${text}`);
    return JSON.parse(text) as T;
  }

  post(marker: string): Promise<Status> {
    return this.api<Status>("/api/v1/statuses", {
      status: `crash proof ${marker}`,
      visibility: "public",
    });
  }

  /** Alice's post with `marker`, looked up (when the answer to its POST was lost). */
  async find(marker: string): Promise<Status> {
    const alice = await this.api<{ id: string }>("/api/v1/accounts/verify_credentials");
    const posts = await this.api<Status[]>(`/api/v1/accounts/${alice.id}/statuses`);
    const found = posts.find((p) => p.content.includes(marker));
    assert.ok(found, `alice's post ${marker} was committed`);
    return found;
  }

  /** Holds the first delivery whose body names `marker` until released. */
  hold(marker: string): Hold {
    const hold = new Hold(marker);
    this.holds.push(hold);
    return hold;
  }

  /** The fake remote's answer to an inbox POST: verify, record, maybe hold, then 202. */
  readonly inboxStatus = async (request: RecordedRequest): Promise<number> => {
    const json = (request.json ?? {}) as Json;
    const { verified } = await verifyAsMisskeyWould(request, { keyIdPrefix: `${this.aliceUri}#` });
    const object = json.object as Json | undefined;
    this.arrivals.push({
      activityId: String(json.id),
      type: typeOf(json),
      objectId: idOf(object),
      content: typeof object?.content === "string" ? object.content : "",
      verified,
    });
    // Only the first delivery is held; those after it are answered at once.
    await this.holds.find((h) => !h.taken && request.body.includes(h.marker))?.take();
    return verified ? 202 : 401;
  };

  /** The deliveries of `status`'s Create that arrived so far. */
  creates(status: Status): Arrival[] {
    return this.arrivals.filter((a) => a.type === "Create" && a.objectId === status.uri);
  }

  waitForCreates(status: Status, count: number): Promise<Arrival[]> {
    return eventually(
      `${count} deliveries of ${status.uri}`,
      async () => {
        const found = this.creates(status);
        return found.length >= count ? found : null;
      },
      WAIT_MS,
    );
  }

  /** `clique queue status`, as an operator sees it. */
  queueStatus(): Promise<string> {
    return runCliOk(["queue", "status"], { env: this.env() });
  }

  /** Waits until `clique queue status` shows the outbox events and the deliveries given. */
  async untilQueues(what: string, events: string, deliveries: string): Promise<string> {
    let last = "";
    return eventually(
      what,
      async () => {
        last = await this.queueStatus();
        const matches =
          new RegExp(`outbox events\\s+${events}\n`).test(last) &&
          new RegExp(`outbox\\s+${deliveries}\n`).test(last) &&
          ["inbox", "fanout"].every((q) =>
            new RegExp(`${q}\\s+0 waiting, 0 running, 0 delayed, 0 dead`).test(last),
          );
        return matches ? last : null;
      },
      WAIT_MS,
    ).catch((error: unknown) => {
      throw new Error(`${String(error)}; last status:\n${last}`);
    });
  }

  /** Waits until no event or job is left: nothing waits, runs or is due again, nothing is dead. */
  drained(): Promise<string> {
    return this.untilQueues(
      "the outbox and the queues to be empty",
      "0 waiting, 0 dead",
      "0 waiting, 0 running, 0 delayed, 0 dead",
    );
  }

  /**
   * The deliveries of `status` once the outbox and the queues are empty (so
   * nothing is left that could send it again; `quiet` also listens a while
   * longer): each verifiably signed by alice, each with the post's text, all
   * under one activity id.
   */
  async settled(status: Status, marker: string, quiet = false): Promise<Arrival[]> {
    await this.drained();
    if (quiet) await sleep(QUIET_MS);
    const found = this.creates(status);
    assert.ok(found.length >= 1, `the Create of ${status.uri} arrived`);
    for (const arrival of found) {
      assert.equal(arrival.verified, true, "signed by alice, verifiably");
      assert.match(arrival.content, new RegExp(`crash proof ${marker}`), "the post's text");
    }
    assert.deepEqual(
      [...new Set(found.map((a) => a.activityId))],
      [`${status.uri}/activity`],
      "one activity id, however often it arrived",
    );
    return found;
  }

  /** Error lines a process logged (`12:00:00.000 ERR category message`, LogTape's console sink). */
  errors(server: ServerProcess): string[] {
    return server
      .output()
      .split("\n")
      .filter((line) => /^\S+ (ERR|FTL) /.test(line));
  }

  async waitForExit(server: ServerProcess): Promise<ServerExit> {
    return eventually("the process to end", async () => server.exitStatus(), WAIT_MS);
  }
}

/** The whole matrix on one back end; skipped, saying why, if that back end is not available. */
function crashMatrix(backend: Backend, skip: string | false): void {
  const name = `kill -9 and SIGTERM on BullMQ's ${backend === "redis" ? "Redis" : "PostgreSQL"} back end`;
  // One step after the other (each leaves the process the next one starts from), and never stuck.
  describe(name, { concurrency: 1, timeout: SUITE_TIMEOUT_MS }, () => {
    const world = new World(backend);
    let someTestFailed = false;

    before(async () => {
      if (skip) return;
      world.origin = await startStableOrigin();
      world.remote = await startFakeRemote({ usernames: ["rem"], inboxStatus: world.inboxStatus });
      world.db = await createTestDatabase();
      const env = world.env();
      await runCliOk(["init", "--name", "Crash", "--owner", "alice", "--password-stdin"], {
        env,
        stdin: "alice-password-1",
      });
      world.token = lastLine(await runCliOk(["token", "create", "alice"], { env }));
      await world.start("setup");
      // rem follows alice, who approves; the Accept reaching rem shows delivery works.
      const rem = world.follower;
      const found = await world.api<{ accounts: { id: string }[] }>(
        `/api/v2/search?q=${encodeURIComponent(rem.id)}&resolve=true`,
      );
      const remId = found.accounts[0]?.id;
      assert.ok(remId, "rem resolves");
      const sent = await deliver(
        `${world.publicOrigin}/inbox`,
        {
          "@context": AS,
          id: `${world.fake.origin}/${randomUUID()}`,
          type: "Follow",
          actor: rem.id,
          object: world.aliceUri,
        },
        { as: rem },
      );
      assert.equal(sent.status, 202, sent.text);
      await eventually("rem's follow request", async () =>
        (await world.api<{ id: string }[]>("/api/v1/follow_requests")).some((a) => a.id === remId),
      );
      await world.api(`/api/v1/follow_requests/${remId}/authorize`, {});
      await eventually("the Accept at rem's server", async () =>
        world.arrivals.find((a) => a.type === "Accept" && a.verified),
      );
    });

    afterEach((t) => {
      if ((t as { passed?: boolean }).passed === false) someTestFailed = true;
    });

    after(async () => {
      if (someTestFailed) {
        for (const { label, process } of world.processes)
          console.error(`--- ${label} (pid ${process.pid}):\n${process.output().slice(-8_000)}`);
      }
      for (const hold of world.holds) hold.release();
      const steps: [string, (() => Promise<unknown>) | undefined][] = [
        // Those still running (the others were killed, or killed themselves).
        ...world.processes
          .filter(({ process }) => process.exitStatus() === null)
          .map(
            ({ label, process }) =>
              [label, () => process.stop()] as [string, () => Promise<unknown>],
          ),
        ["fake remote", world.remote && (() => world.remote!.close())],
        ["stable origin", world.origin && (() => world.origin!.close())],
        [
          "Redis keys",
          backend === "redis" && world.origin
            ? () =>
                deleteRedisKeys(
                  process.env.REDIS_URL!,
                  `clique:${new URL(world.publicOrigin).host}`,
                )
            : undefined,
        ],
        ["database", world.db && (() => world.db!.drop())],
      ];
      for (const [name, step] of steps) await step?.().catch((e) => console.error(name, e));
    });

    test("(a) killed right after the commit: delivered exactly once after a restart", {
      skip,
    }, async () => {
      await world.stopCurrent();
      const web = await world.start("(a) web", { CLIQUE_ROLE: "web" });
      const status = await world.post("marker-a");
      // Committed, and still in the outbox: a web process never relays.
      assert.match(await world.queueStatus(), /outbox events\s+1 waiting, 0 dead/);
      await web.kill9();
      assert.deepEqual(world.creates(status), [], "nothing sent before the restart");

      const all = await world.start("(a) restart");
      await world.waitForCreates(status, 1);
      // Exactly once: the web process never queued anything; the one relay
      // that took the event queued one delivery.
      assert.equal((await world.settled(status, "marker-a")).length, 1);
      assert.deepEqual(world.errors(all), [], "a restart after a crash logs no error");
    });

    test("(b) killed while the activity is in the outbox: delivered after a restart, under one id", {
      skip,
    }, async () => {
      await world.stopCurrent();
      const crashing = await world.start("(b) crashing", {
        CLIQUE_TEST_CRASH_AT: "relay-handed-over",
      });
      // The process may die before it answers: the post is committed either way.
      const posted = await world.post("marker-b").catch(() => null);
      const exit = await world.waitForExit(crashing);
      assert.equal(exit.signal, "SIGKILL", "it killed itself after the hand-over");
      // The event is still in the outbox, and its delivery was queued (or taken
      // by the worker, which died with it) but not sent.
      const between = await world.queueStatus();
      assert.match(between, /outbox events\s+1 waiting, 0 dead/);
      assert.match(between, /outbox\s+(1 waiting, 0 running|0 waiting, 1 running), 0 delayed/);
      assert.deepEqual(
        world.arrivals.filter((a) => a.content.includes("marker-b")),
        [],
        "nothing was sent before the crash",
      );

      const all = await world.start("(b) restart");
      const status = posted ?? (await world.find("marker-b"));
      const found = await world.settled(status, "marker-b");
      // Twice, under one id: the delivery job queued before the crash survives
      // it, and the event, still in the outbox, is handed over again and queues
      // a second one. The receiver deduplicates by activity id.
      assert.equal(found.length, 2, "the job queued before the crash and the one queued again");
      assert.deepEqual(world.errors(all), [], "a restart after a crash logs no error");
    });

    test("(c) killed while the delivery runs: delivered again after a restart, under one id", {
      skip,
    }, async () => {
      const running = world.current;
      const hold = world.hold("marker-c");
      const status = await world.post("marker-c");
      await hold.arrived;
      // Only the delivery is in flight: the event has left the outbox (the relay
      // commits that after queueing, so the job may start first; a crash before
      // the commit is case (b)).
      await world.untilQueues(
        "the event out of the outbox and its delivery running",
        "0 waiting, 0 dead",
        "0 waiting, 1 running, 0 delayed, 0 dead",
      );
      await running.kill9();

      const all = await world.start("(c) restart");
      // The job the dead process held is taken up again once its lock expires.
      await world.waitForCreates(status, 2);
      hold.release();
      const found = await world.settled(status, "marker-c");
      // Twice, under one id: the receiver read the first request in full, but
      // its answer never reached the dead sender, so the job was not done.
      assert.equal(found.length, 2, "the cut-off delivery and the one after the restart");
      assert.deepEqual(world.errors(all), [], "a restart after a crash logs no error");
    });

    test("SIGTERM during a delivery shorter than CLIQUE_SHUTDOWN_MS: it completes, the process exits 0, nothing is sent again", {
      skip,
    }, async () => {
      const running = world.current; // CLIQUE_SHUTDOWN_MS is 10 s by default.
      const hold = world.hold("marker-s1");
      const status = await world.post("marker-s1");
      await hold.arrived;
      const stopped = running.stop("SIGTERM");
      // The process waits for the delivery it is running...
      await sleep(500);
      assert.equal(running.exitStatus(), null, "still draining while the delivery is held");
      hold.release();
      // ...then exits on its own, cleanly.
      assert.deepEqual(await stopped, { code: 0, signal: null });
      assert.deepEqual(world.errors(running), [], "a drained shutdown logs no error");

      await world.start("(s1) restart");
      // Done and gone: nothing waits or runs after the restart, nothing arrives again.
      const found = await world.settled(status, "marker-s1", true);
      assert.equal(found.length, 1, "delivered once");
    });

    test("SIGTERM during a delivery longer than CLIQUE_SHUTDOWN_MS: the process exits, the delivery is made after a restart", {
      skip,
    }, async () => {
      await world.stopCurrent();
      const running = await world.start("(s2) short drain", { CLIQUE_SHUTDOWN_MS: "1000" });
      const hold = world.hold("marker-s2");
      const status = await world.post("marker-s2");
      await hold.arrived;
      const exit = await running.stop("SIGTERM");
      // It did not wait for the delivery (still held), nor for the rig's SIGKILL.
      assert.deepEqual(exit, { code: 0, signal: null }, "exited on its own");
      assert.equal(hold.pending, true, "the delivery is still held");
      assert.deepEqual(world.errors(running), [], "a shutdown that cuts a job off logs no error");

      const all = await world.start("(s2) restart");
      // Not marked done: after its lock expires, the job runs again.
      await world.waitForCreates(status, 2);
      hold.release();
      const found = await world.settled(status, "marker-s2");
      assert.equal(found.length, 2, "the cut-off delivery and the one after the restart");
      assert.deepEqual(world.errors(all), [], "taking up a cut-off job logs no error");
    });
  });
}

// The back ends share nothing (each has its database, origin and receiver): run them side by side.
describe("delivery across crashes and shutdowns", { concurrency: 2 }, () => {
  after(() => stopEmbeddedTestServer());
  crashMatrix("postgres", false);
  crashMatrix(
    "redis",
    process.env.REDIS_URL ? false : "REDIS_URL is not set: the Redis back end is not tested",
  );
});
