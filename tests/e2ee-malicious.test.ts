/**
 * End-to-end encrypted chats against a malicious server (issue 15, part 2).
 * The devices talk to a small loopback HTTP proxy standing in front of the
 * real server; the proxy does what a server that wants to read or split the
 * chats could do with what it holds (ciphertexts, KeyPackages, the fan-out
 * and the directory): it hands two Commits of one epoch to different
 * devices, slips a device key of its own into a KeyPackage claim, appends a
 * device to a member, and delivers old messages again. Each time the honest
 * devices raise an alert (`ForkAlarm`, `DevicesChanged`, `Replay`) instead
 * of carrying on silently.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { type Alert, ChatDevice, DeliveryApi } from "@clique/client";
import { lastLine, stopEmbeddedTestServer } from "@clique/testing";
import { type Cleanup, cliOk, runCleanup, type Site, startSite } from "./support/sites.ts";

const cleanup: Cleanup = [];
let site: Site;

/** JSON of the e2ee API, shaped by each hook. */
// biome-ignore lint/suspicious/noExplicitAny: the proxy edits whatever the server answered
type Json = any;

/** One request through the proxy, and a way to ask the real server. */
interface Call {
  method: string;
  path: string;
  search: URLSearchParams;
  body: Json;
  forward(): Promise<{ status: number; json: Json }>;
}
/** What the malicious server does to a call; `null`: passes it through. */
let tamper: ((call: Call) => Promise<{ status: number; json: Json }> | null) | null = null;
let proxyOrigin: string;

/** A delivery as the server's JSON carries it. */
interface Delivery {
  cursor: number;
  group_id: string;
  kind: string;
  epoch: number;
  sender_device_id: string;
  body: string;
}

/** Base64 of the first bytes of an epoch check ("CQEC"). */
const EPOCH_CHECK_B64 = "Q1FFQz";

const devices: Record<string, ChatDevice> = {};

async function addDevice(member: string, label: string) {
  const token = lastLine(await cliOk(site, ["token", "create", member]));
  devices[label] = await ChatDevice.register(
    new DeliveryApi({ origin: proxyOrigin, token }),
    label,
  );
  await devices[label].publishKeyPackages(4);
}

const alertsOf = (device: ChatDevice, kind: Alert["kind"], from = 0) =>
  device.alerts.slice(from).filter((a) => a.kind === kind);

const texts = (device: ChatDevice, groupId: string) =>
  device.history.filter((m) => m.groupId === groupId).map((m) => m.text);

before(async () => {
  site = await startSite({
    label: "e2ee-malicious",
    owner: "alice",
    members: ["bob", "carol"],
    cleanup,
  });
  const proxy = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks);
    const url = new URL(req.url ?? "/", "http://proxy.invalid");
    const forward = async () => {
      const response = await fetch(`${site.origin}${req.url}`, {
        method: req.method,
        headers: {
          accept: "application/json",
          authorization: req.headers.authorization ?? "",
          ...(raw.length > 0 ? { "content-type": "application/json" } : {}),
        },
        ...(raw.length > 0 ? { body: raw } : {}),
      });
      const text = await response.text();
      return { status: response.status, json: text ? JSON.parse(text) : {} };
    };
    const call: Call = {
      method: req.method ?? "GET",
      path: url.pathname,
      search: url.searchParams,
      body: raw.length > 0 ? JSON.parse(raw.toString()) : undefined,
      forward,
    };
    try {
      const answer = (tamper && (await tamper(call))) ?? (await forward());
      res
        .writeHead(answer.status, { "content-type": "application/json" })
        .end(JSON.stringify(answer.json));
    } catch (error) {
      res.writeHead(502).end(JSON.stringify({ error: String(error) }));
    }
  });
  await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  cleanup.unshift(() => new Promise((resolve) => proxy.close(resolve)));
  proxyOrigin = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  for (const [member, label] of [
    ["alice", "alice-phone"],
    ["alice", "alice-laptop"],
    ["bob", "bob-phone"],
    ["bob", "bob-laptop"],
    ["carol", "carol-phone"],
  ] as const)
    await addDevice(member, label);
});

after(async () => {
  await runCleanup(cleanup);
  await stopEmbeddedTestServer();
});

describe("(c) two Commits accepted in one epoch", () => {
  it("the devices compare epoch authenticators through the group, and both sides of the fork raise a ForkAlarm", async () => {
    const four = ["alice-phone", "alice-laptop", "bob-phone", "bob-laptop"];
    const group = await devices["alice-phone"]!.createChat([site.ids.bob!]);
    for (const label of four) await devices[label]!.sync();
    await devices["bob-phone"]!.updateKeys(group);
    // Twice: the first sync follows the Commit and sends epoch checks, the second hears them.
    for (let round = 0; round < 2; round++) for (const label of four) await devices[label]!.sync();
    for (const label of four)
      assert.deepEqual(alertsOf(devices[label]!, "ForkAlarm"), [], `${label}: an honest server`);
    const marks = Object.fromEntries(four.map((l) => [l, devices[l]!.alerts.length]));
    const epoch = devices["alice-phone"]!.epochOf(group);

    // The malicious server: the Commit that loses the race is answered 200 as well, and the
    // loser's member's other devices get the loser's Commit in place of the winner's.
    const race: { loser?: { deviceId: string; commit: string } } = {};
    const memberOf = (deviceId: string) =>
      four.find((l) => devices[l]!.deviceId === deviceId)?.split("-")[0];
    tamper = (call) => {
      if (call.method === "POST" && call.path === `/api/v1/e2ee/groups/${group}/commits`)
        return (async () => {
          const answer = await call.forward();
          if (answer.status !== 409 || race.loser) return answer;
          race.loser = { deviceId: call.body.device_id, commit: call.body.commit };
          return { status: 200, json: { epoch: call.body.epoch + 1 } };
        })();
      const fooled = race.loser;
      if (call.method !== "GET" || call.path !== "/api/v1/e2ee/messages" || !fooled) return null;
      const reader = call.search.get("device_id") ?? "";
      if (memberOf(reader) !== memberOf(fooled.deviceId)) return null;
      return (async () => {
        const answer = await call.forward();
        const messages = (answer.json.messages as Delivery[]).flatMap((m) => {
          if (m.group_id !== group || m.kind !== "commit" || m.epoch !== epoch) return [m];
          // The loser never hears of the winner; its other devices follow the loser.
          if (reader === fooled.deviceId) return [];
          return [{ ...m, body: fooled.commit, sender_device_id: fooled.deviceId }];
        });
        return { status: 200, json: { ...answer.json, messages } };
      })();
    };
    try {
      await Promise.all([
        devices["alice-laptop"]!.updateKeys(group),
        devices["bob-phone"]!.updateKeys(group),
      ]);
      assert.ok(race.loser, "one of the two Commits lost the race at the real server");
      for (let round = 0; round < 2; round++)
        for (const label of four) await devices[label]!.sync();
    } finally {
      tamper = null;
    }
    // Every device moved to "the" next epoch, but not all to the same one.
    for (const label of four) assert.equal(devices[label]!.epochOf(group), epoch + 1, label);
    for (const label of four) {
      const alarms = alertsOf(devices[label]!, "ForkAlarm", marks[label]);
      assert.ok(
        alarms.some((a) => a.groupId === group && a.epoch === epoch + 1),
        `${label} raised a ForkAlarm: ${JSON.stringify(devices[label]!.alerts.slice(marks[label]))}`,
      );
    }
  });
});

describe("(a) an extra device key for a member", () => {
  it("a KeyPackage the directory does not list is refused", async () => {
    const fake = randomUUID();
    // The server's own device for bob: a key it holds, a device id the directory lacks.
    const planted = ChatDevice.restore(new DeliveryApi({ origin: proxyOrigin, token: "none" }), {
      ...devices["carol-phone"]!.export(),
      memberId: site.ids.bob!,
      deviceId: fake,
      keyPackages: [],
      groups: {},
    });
    let fakePackage: string | undefined;
    const addedDevices: string[] = [];
    tamper = (call) => {
      if (call.path === `/api/v1/e2ee/devices/${fake}/key_packages`) {
        fakePackage = call.body.key_packages[0];
        return Promise.resolve({ status: 200, json: { waiting: 1 } });
      }
      if (call.path === "/api/v1/e2ee/key_packages/claim" && fakePackage)
        return (async () => {
          const answer = await call.forward();
          answer.json.key_packages.push({
            member_id: site.ids.bob,
            device_id: fake,
            key_package: fakePackage,
          });
          return answer;
        })();
      if (call.path.endsWith("/commits")) addedDevices.push(...(call.body.add_device_ids ?? []));
      return null;
    };
    try {
      await planted.publishKeyPackages(1);
      assert.ok(fakePackage, "the proxy kept the planted KeyPackage");
      const alice = devices["alice-phone"]!;
      await alice.createChat([site.ids.bob!]);
      assert.ok(
        alice.warnings.some((w) => w.includes(`Refused a KeyPackage for device ${fake}`)),
        alice.warnings.join("\n"),
      );
      assert.ok(!addedDevices.includes(fake), "the planted device is not in the chat");
      assert.deepEqual(
        [...addedDevices].sort(),
        ["alice-laptop", "bob-phone", "bob-laptop"].map((l) => devices[l]!.deviceId).sort(),
        "bob's real devices are",
      );
    } finally {
      tamper = null;
    }
  });

  it("a device the server appends to the directory raises DevicesChanged, and the safety number changes", async () => {
    const alice = devices["alice-phone"]!;
    const bob = devices["bob-phone"]!;
    const before = await alice.safetyNumber(site.ids.bob!);
    assert.match(before.digits, /^(\d{5} ){11}\d{5}$/);
    assert.deepEqual(await bob.safetyNumber(site.ids.alice!), before, "both sides see one number");
    assert.ok(before.qr.startsWith("clique-safety:1:"));
    const marks = { alice: alice.alerts.length, bob: bob.alerts.length };

    // The server mints a token for bob and registers a device with a key it holds: the
    // directory, append-only and hash-chained, has to show it.
    const token = lastLine(await cliOk(site, ["token", "create", "bob"]));
    await ChatDevice.register(new DeliveryApi({ origin: proxyOrigin, token }), "planted");

    const after = await alice.safetyNumber(site.ids.bob!);
    assert.notEqual(after.digits, before.digits);
    assert.deepEqual(await bob.safetyNumber(site.ids.alice!), after);
    const changed = alertsOf(alice, "DevicesChanged", marks.alice);
    assert.deepEqual(
      changed.map((a) => a.memberId),
      [site.ids.bob],
      "alice is told bob's devices changed",
    );
    assert.match(changed[0]!.message, /1 added, 0 removed/);
    assert.deepEqual(
      alertsOf(bob, "DevicesChanged", marks.bob).map((a) => a.memberId),
      [site.ids.bob],
      "bob is told a device was added to his own account",
    );
  });
});

describe("(d) replayed messages", () => {
  it("the same ciphertext delivered again, in its epoch or a later one, is dropped with a Replay alert", async () => {
    const alice = devices["alice-phone"]!;
    const carol = devices["carol-phone"]!;
    const group = await alice.createChat([site.ids.carol!]);
    await carol.sync();
    await alice.send(group, "only once, please");

    const kept: Delivery[] = [];
    const isCarols = (call: Call) =>
      call.path === "/api/v1/e2ee/messages" && call.search.get("device_id") === carol.deviceId;
    /** The malicious server keeps a copy of everything carol fetches in the chat. */
    const record = () => {
      tamper = (call) => {
        if (!isCarols(call)) return null;
        return (async () => {
          const answer = await call.forward();
          kept.push(...(answer.json.messages as Delivery[]).filter((m) => m.group_id === group));
          return answer;
        })();
      };
    };
    /** Carol's next fetch gets these again, after what is really there. */
    const replay = (again: Delivery[]) => {
      let done = false;
      tamper = (call) => {
        if (done || !isCarols(call)) return null;
        done = true;
        return (async () => {
          const answer = await call.forward();
          const real = answer.json.messages as Delivery[];
          const last = real.at(-1)?.cursor ?? Number(call.search.get("after"));
          const messages = [...real, ...again.map((m) => ({ ...m, cursor: last }))];
          return { status: 200, json: { messages, cursor: last } };
        })();
      };
    };

    record();
    assert.deepEqual(
      (await carol.sync()).map((m) => m.text),
      ["only once, please"],
    );
    const original = kept.find(
      (m) => m.kind === "application" && !m.body.startsWith(EPOCH_CHECK_B64),
    );
    assert.ok(original, "carol got the message");

    const mark = carol.alerts.length;
    replay([original]);
    assert.deepEqual(await carol.sync(), []);
    assert.deepEqual(
      alertsOf(carol, "Replay", mark).map((a) => [a.groupId, a.epoch]),
      [[group, original.epoch]],
    );

    // The group moves on; the old message and the old Commit come round again.
    await alice.updateKeys(group);
    await alice.send(group, "a new epoch");
    record();
    assert.deepEqual(
      (await carol.sync()).map((m) => m.text),
      ["a new epoch"],
    );
    assert.equal(carol.epochOf(group), original.epoch + 1);
    const oldCommit = kept.find((m) => m.kind === "commit" && m.epoch === original.epoch);
    assert.ok(oldCommit, "carol got the Commit");
    replay([original, oldCommit]);
    try {
      assert.deepEqual(await carol.sync(), []);
    } finally {
      tamper = null;
    }
    assert.deepEqual(
      alertsOf(carol, "Replay", mark).map((a) => a.epoch),
      [original.epoch, original.epoch, original.epoch],
      JSON.stringify(carol.alerts.slice(mark)),
    );
    assert.deepEqual(
      texts(carol, group),
      ["only once, please", "a new epoch"],
      "nothing shown twice",
    );
    assert.deepEqual(alertsOf(carol, "ForkAlarm"), [], "a replay is not a fork");
  });
});

describe("/.well-known/clique-security", () => {
  it("declares the policy and the directory's head (to members), and a device checks it against what it verified", async () => {
    const anonymous = await fetch(`${site.origin}/.well-known/clique-security`);
    assert.equal(anonymous.status, 200);
    const open = (await anonymous.json()) as Json;
    assert.deepEqual(open.ciphersuites, ["MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519"]);
    assert.equal(open.retention_days, 30);
    assert.equal(open.key_directory.head, null, "the head is for members");

    const alice = devices["alice-phone"]!;
    assert.deepEqual(await alice.checkPolicy(), [], "an honest server's policy matches");
    const policy = await new DeliveryApi({
      origin: site.origin,
      token: lastLine(await cliOk(site, ["token", "create", "alice"])),
    }).securityPolicy();
    assert.deepEqual(
      policy.key_directory.head,
      alice.head(),
      "the declared head is the verified one",
    );

    // The malicious server declares another head (say, of a history it shows others), then
    // another ciphersuite.
    const lie = (edit: (policy: Json) => void) => {
      tamper = (call) =>
        call.path !== "/.well-known/clique-security"
          ? null
          : (async () => {
              const answer = await call.forward();
              edit(answer.json);
              return answer;
            })();
    };
    try {
      lie((p) => {
        p.key_directory.head.hash = "0".repeat(64);
      });
      const headLie = await alice.checkPolicy();
      assert.deepEqual(
        headLie.map((a) => a.kind),
        ["PolicyMismatch"],
      );
      assert.match(headLie[0]!.message, /not on the directory this device verified/);
      lie((p) => {
        p.ciphersuites = ["MLS_256_DHKEMP384_AES256GCM_SHA384_P384"];
      });
      const suiteLie = await alice.checkPolicy();
      assert.match(suiteLie.map((a) => a.message).join(), /does not list the ciphersuite/);
      assert.equal(alertsOf(alice, "PolicyMismatch").length, 2);
    } finally {
      tamper = null;
    }
  });
});
