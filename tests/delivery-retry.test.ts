/**
 * A delivery that fails is tried again, with exponential back-off, and one
 * that fails every try is a dead letter the operator can see and send again —
 * on BullMQ's PostgreSQL back end and on Redis.
 *
 * Two fake remote servers follow alice, each on its own host (Fedify keeps its
 * failure counts per host):
 * - `flo`'s server answers 500 to the first three deliveries of a post (signed
 *   as Misskey checks them), then 202;
 * - `dee`'s server is down: it answers 500 to every inbox POST until the test
 *   mends it.
 *
 * `CLIQUE_DELIVERY_ATTEMPTS=6`: more tries than the five failures after which
 * Fedify's circuit breaker would hold a host's deliveries (see engine.ts), so
 * the default of 10 is what is tested. `CLIQUE_RETRY_BASE_MS=200`: waits of
 * 200, 400, 800... ms.
 */
import assert from "node:assert/strict";
import { after, afterEach, before, describe, test } from "node:test";
import {
  type FakeRemote,
  type RecordedRequest,
  startFakeRemote,
  stopEmbeddedTestServer,
} from "@clique/testing";
import { backends, DeliveryClique, signedByClique } from "./support/delivery.ts";
import { eventually, idOf, typeOf } from "./support/mastodon-signing.ts";

const ATTEMPTS = 6;
const BASE_MS = 200;

type Json = Record<string, unknown>;

/** One request of a delivery: when it came, with what, and what it was answered. */
interface Try {
  at: number;
  activityId: string;
  objectId: string | undefined;
  status: number;
}

function isCreate(request: RecordedRequest): boolean {
  return typeOf(request.json) === "Create";
}

function tryOf(request: RecordedRequest, status: number): Try {
  const json = request.json as Json;
  return { at: Date.now(), activityId: String(json.id), objectId: idOf(json.object), status };
}

after(() => stopEmbeddedTestServer());

for (const backend of backends()) {
  describe(`failed deliveries, BullMQ on ${backend.name}`, { skip: backend.skip }, () => {
    let clique: DeliveryClique | undefined;
    let flaky: FakeRemote | undefined;
    let down: FakeRemote | undefined;
    /** Verified (draft-signed) deliveries of a Create to flo's server. */
    const flakyTries: Try[] = [];
    /** RFC 9421 knocks flo's server refused, as Misskey does. */
    let flakyRfc9421 = 0;
    /** Every inbox POST of a Create to dee's server. */
    const downTries: Try[] = [];
    let downBroken = false;
    let someTestFailed = false;

    before(async () => {
      flaky = await startFakeRemote({
        usernames: ["flo"],
        inboxStatus: async (request) => {
          if (!(await signedByClique(request, clique?.origin ?? ""))) {
            if (isCreate(request)) flakyRfc9421++;
            return 401;
          }
          if (!isCreate(request)) return 202;
          const status = flakyTries.length < 3 ? 500 : 202;
          flakyTries.push(tryOf(request, status));
          return status;
        },
      });
      down = await startFakeRemote({
        usernames: ["dee"],
        inboxStatus: async (request) => {
          // A server that is down fails everything, signed or not.
          const status = downBroken ? 500 : 202;
          if (isCreate(request)) downTries.push(tryOf(request, status));
          return status;
        },
      });
      clique = await DeliveryClique.start({
        backend,
        env: {
          CLIQUE_DELIVERY_ATTEMPTS: String(ATTEMPTS),
          CLIQUE_RETRY_BASE_MS: String(BASE_MS),
        },
      });
      await clique.followedBy(flaky.account("flo"), flaky);
      await clique.followedBy(down.account("dee"), down);
      downBroken = true;
    });

    afterEach((t) => {
      if ((t as { passed?: boolean }).passed === false) someTestFailed = true;
    });

    after(async () => {
      if (someTestFailed && clique) console.error(clique.output().slice(-30_000));
      await clique?.stop().catch((e: unknown) => console.error("stopping the Clique:", e));
      await flaky?.close();
      await down?.close();
    });

    let post: { uri: string } | undefined;

    test("500 three times, then 202: the activity arrives on the 4th try, after back-off", async (t) => {
      post = await clique!.post("retry marker-retry");
      const arrived = await eventually(
        "the Create to arrive at flo's server",
        async () => flakyTries.find((x) => x.status === 202),
        30_000,
      );
      assert.equal(arrived.objectId, post.uri, "the post itself");
      // Nothing more comes once it arrived (a late duplicate would show here).
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      assert.deepEqual(
        flakyTries.map((x) => x.status),
        [500, 500, 500, 202],
        "three failures, then the 4th try arrives, and no other",
      );
      assert.deepEqual(
        new Set(flakyTries.map((x) => x.activityId)),
        new Set([`${post.uri}/activity`]),
        "the same activity id on every try",
      );
      const gaps = flakyTries.slice(1).map((x, i) => x.at - flakyTries[i]!.at);
      gaps.forEach((gap, i) => {
        // BullMQ waits at least BASE_MS · 2^i before try i + 2 (a lower bound only).
        assert.ok(gap >= BASE_MS * 2 ** i, `wait before try ${i + 2}: ${gap} ms`);
      });
      t.diagnostic(
        `flo: tries ${flakyTries.map((x) => x.status).join(", ")}; waits ${gaps.join(", ")} ms; RFC 9421 knocks refused: ${flakyRfc9421}`,
      );
    });

    test("a server that is down leaves a dead letter, which `clique queue retry` sends again", async (t) => {
      assert.ok(post, "the post of the first test");
      const inbox = down!.sharedInbox;
      // The CLI is its own process, reading the same database (and Redis).
      const status = await eventually(
        "a dead letter in `clique queue status`",
        async () => {
          const out = await clique!.cli(["queue", "status"]);
          return out.includes(inbox) ? out : null;
        },
        60_000,
      );
      t.diagnostic(`clique queue status:\n${status}`);
      assert.match(
        status,
        new RegExp(`^Job engine: BullMQ on ${backend.name === "redis" ? "Redis" : "PostgreSQL"}`),
      );
      assert.match(status, /^outbox +0 waiting, 0 running, 0 delayed, 1 dead$/m);
      const line = status.split("\n").find((l) => l.includes(inbox));
      assert.ok(line);
      const [, id] = /^(outbox:\S+) /.exec(line) ?? [];
      assert.ok(id, `a dead letter id: ${line}`);
      assert.ok(line.includes(`deliver Create to ${inbox};`), line);
      assert.ok(line.includes(`; ${ATTEMPTS} attempts;`), line);
      assert.match(line, /500/, "the reason: the server's answer");
      const tries = new Set(downTries.map((x) => x.activityId));
      assert.deepEqual(tries, new Set([`${post.uri}/activity`]), "one activity, tried again");
      assert.ok(downTries.every((x) => x.status === 500));
      t.diagnostic(`dee: ${downTries.length} requests over ${ATTEMPTS} tries, all 500`);

      // Mended, and sent again by hand.
      downBroken = false;
      const before = downTries.length;
      assert.equal(
        (await clique!.cli(["queue", "retry", id])).trim(),
        `${id} is back in its queue.`,
      );
      const arrived = await eventually("the Create to arrive at dee's server", async () =>
        downTries.slice(before).find((x) => x.status === 202),
      );
      assert.equal(arrived.activityId, `${post.uri}/activity`);
      assert.equal(arrived.objectId, post.uri);
      const after = await clique!.cli(["queue", "status"]);
      assert.match(after, /^outbox +0 waiting, 0 running, 0 delayed, 0 dead$/m);
      assert.match(after, /^No dead letters\.$/m);
      const again = await clique!.cli(["queue", "retry", id]).catch((e: Error) => e.message);
      assert.match(again, new RegExp(`No dead letter ${id}`), "gone once sent");
    });
  });
}
