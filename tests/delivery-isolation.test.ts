/**
 * One slow server holds up only its own deliveries: while it keeps Clique's
 * request open (30 s, as a struggling server would), another server gets the
 * same post and an incoming activity is processed — on BullMQ's PostgreSQL
 * back end and on Redis.
 *
 * Two fake remote servers follow alice: `sam`'s, which from the test's start
 * holds every inbox POST for 30 s before answering 202, and `fay`'s, which
 * answers at once. `ivy`, on fay's server, follows alice while sam's server
 * still holds the post. The held requests are let go when the test ends.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, afterEach, before, describe, test } from "node:test";
import {
  type FakeRemote,
  type RecordedRequest,
  startFakeRemote,
  stopEmbeddedTestServer,
} from "@clique/testing";
import { backends, DeliveryClique, type Status, signedByClique } from "./support/delivery.ts";
import { eventually, idOf, typeOf } from "./support/mastodon-signing.ts";

const AS = "https://www.w3.org/ns/activitystreams";
const HOLD_MS = 30_000;
/** "A few seconds": what a delivery or an inbox job takes when nothing holds it up. */
const FEW_SECONDS = 5_000;
/** Deliveries one worker process makes at once (`CLIQUE_DELIVERY_CONCURRENCY`; default 16). */
const SLOTS = 4;
/** Posts in a burst: twice the slots. */
const BURST = 2 * SLOTS;

type Json = Record<string, unknown>;

function createOf(request: RecordedRequest, post: Status): boolean {
  return (
    request.inbox &&
    typeOf(request.json) === "Create" &&
    idOf((request.json as Json).object) === post.uri
  );
}

after(() => stopEmbeddedTestServer());

for (const backend of backends()) {
  describe(`a slow server, BullMQ on ${backend.name}`, { skip: backend.skip }, () => {
    let clique: DeliveryClique | undefined;
    let slow: FakeRemote | undefined;
    let fast: FakeRemote | undefined;
    let holding = false;
    /** Requests the slow server holds now: resolving one answers it. */
    const held = new Set<() => void>();
    /** Create deliveries the slow server has received, and how many it has answered. */
    const slowCreates: { at: number; answeredAt: number | null }[] = [];
    let someTestFailed = false;

    before(async () => {
      slow = await startFakeRemote({
        usernames: ["sam"],
        inboxStatus: async (request) => {
          if (!(await signedByClique(request, clique?.origin ?? ""))) return 401;
          if (!holding) return 202;
          const record = { at: Date.now(), answeredAt: null as number | null };
          if (typeOf(request.json) === "Create") slowCreates.push(record);
          await new Promise<void>((resolve) => {
            const release = () => {
              clearTimeout(timer);
              held.delete(release);
              resolve();
            };
            const timer = setTimeout(release, HOLD_MS);
            held.add(release);
          });
          record.answeredAt = Date.now();
          return 202;
        },
      });
      fast = await startFakeRemote({
        usernames: ["fay", "ivy"],
        inboxStatus: async (request) =>
          (await signedByClique(request, clique?.origin ?? "")) ? 202 : 401,
      });
      clique = await DeliveryClique.start({
        backend,
        env: { CLIQUE_DELIVERY_CONCURRENCY: String(SLOTS) },
      });
      await clique.followedBy(slow.account("sam"), slow);
      await clique.followedBy(fast.account("fay"), fast);
      holding = true;
    });

    afterEach((t) => {
      if ((t as { passed?: boolean }).passed === false) someTestFailed = true;
    });

    after(async () => {
      // Let the held requests go, so nothing waits out the 30 s.
      holding = false;
      for (const release of [...held]) release();
      if (someTestFailed && clique) console.error(clique.output().slice(-30_000));
      await clique?.stop().catch((e: unknown) => console.error("stopping the Clique:", e));
      await slow?.close();
      await fast?.close();
    });

    test("the fast server gets the post while the slow one still holds it", async (t) => {
      const posted = Date.now();
      const post = await clique!.post("isolation marker-slow");
      // Sam's server has the delivery and keeps it.
      await eventually("sam's server to receive the Create", async () => slowCreates.length > 0);
      const toFay = await fast!.waitFor((r) => createOf(r, post), {
        timeoutMs: FEW_SECONDS,
        what: "the Create at fay's server within a few seconds",
      });
      const fastAt = Date.now() - posted;
      assert.equal(toFay.status, 202);
      assert.match(String(((toFay.json as Json).object as Json).content), /marker-slow/);
      assert.equal(held.size, 1, "sam's server still holds its request");
      assert.equal(slowCreates[0]!.answeredAt, null, "and has not answered it");
      assert.equal(
        slow!.requests.filter((r) => createOf(r, post)).length,
        0,
        "sam's server has answered no Create yet",
      );
      t.diagnostic(
        `fay got the post ${fastAt} ms after it was posted; sam's request held for ${Date.now() - slowCreates[0]!.at} ms so far`,
      );
    });

    test("an incoming Follow is processed while the slow server still holds its request", async (t) => {
      assert.equal(held.size, 1, "sam's server holds the delivery of the first test");
      const ivy = fast!.account("ivy");
      const sent = Date.now();
      await clique!.deliver(
        {
          "@context": AS,
          id: `${fast!.origin}/follows/${randomUUID()}`,
          type: "Follow",
          actor: ivy.id,
          object: clique!.aliceUri,
        },
        ivy,
      );
      const request = await eventually(
        "ivy's follow request, within a few seconds",
        async () => (await clique!.followRequests()).find((r) => r.acct.startsWith("ivy@")),
        FEW_SECONDS,
      );
      const processedAt = Date.now() - sent;
      assert.equal(request.acct, `ivy@${fast!.host}`);
      assert.equal(held.size, 1, "sam's server still holds its request");
      assert.equal(slowCreates[0]!.answeredAt, null);
      t.diagnostic(
        `ivy's Follow showed in alice's follow requests ${processedAt} ms after it was delivered; sam's request held for ${Date.now() - slowCreates[0]!.at} ms so far`,
      );
    });

    test("a burst of posts: what the slow server holds does not take every delivery slot", async (t) => {
      assert.equal(held.size, 1, "sam's server holds the delivery of the first test");
      const posts: Status[] = [];
      for (let i = 0; i < BURST; i++) posts.push(await clique!.post(`burst marker-${i}`));
      const posted = Date.now();
      const arrivals: number[] = [];
      for (const post of posts) {
        await fast!.waitFor((r) => createOf(r, post), {
          timeoutMs: FEW_SECONDS,
          what: `the Create of "${post.content}" at fay's server within a few seconds`,
        });
        arrivals.push(Date.now() - posted);
      }
      assert.equal(slowCreates[0]!.answeredAt, null, "sam's server still holds the first post");
      assert.deepEqual(
        slow!.requests.filter((r) => posts.some((p) => createOf(r, p))),
        [],
        "and has answered none of the burst",
      );
      t.diagnostic(
        `${BURST} posts, ${SLOTS} delivery slots: fay had all ${BURST} within ${Math.max(...arrivals)} ms of the last; sam's server holds ${held.size} request(s) and has received ${slowCreates.length} Create(s) so far`,
      );
    });
  });
}
