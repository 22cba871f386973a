/**
 * End-to-end encrypted chats (issue 15), first part: the client library
 * (`@clique/client`, MLS with ts-mls) against a real server process and
 * PostgreSQL. alice and bob have two devices each, carol one. A one-to-one
 * and a group chat reach every device, one of them after being offline; two
 * Commits raced in one epoch end with exactly one accepted and the other
 * retried; the canary texts are nowhere in the database or the server's log;
 * the key directory verifies, and a tampered or rewritten one is caught.
 */
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import {
  ApiError,
  ChatDevice,
  DeliveryApi,
  type DeviceExport,
  DirectoryAlarm,
  entryHash,
  GENESIS_HASH,
  verifyDirectory,
} from "@clique/client";
import { lastLine, stopEmbeddedTestServer } from "@clique/testing";
import pg from "pg";
import {
  api,
  type Cleanup,
  cliOk,
  eventually,
  request,
  runCleanup,
  type Site,
  startSite,
} from "./support/sites.ts";

const cleanup: Cleanup = [];
let site: Site;
let db: pg.Client;

/** Texts that must never reach the server in the clear. */
const CANARY_DIRECT = "canary-direct-7f3a9c1e lunch at noon?";
const CANARY_GROUP = "canary-group-b81d44e0 the surprise is on friday";
const CANARY_OFFLINE = "canary-offline-5c2e8a17 read this when you are back";
const CANARY_AFTER_REMOVAL = "canary-after-removal-3e9b0d52 carol must not read this";
const CANARIES = [CANARY_DIRECT, CANARY_GROUP, CANARY_OFFLINE, CANARY_AFTER_REMOVAL];

/** Every request a device made to a Commit route, with its answer's status. */
const commitAnswers: { device: string; status: number; epoch?: number }[] = [];

/** A device's API: a token of its own (a device is bound to the token that registered it). */
async function apiFor(member: string, label: string): Promise<DeliveryApi> {
  const token = lastLine(await cliOk(site, ["token", "create", member]));
  return new DeliveryApi({
    origin: site.origin,
    token,
    fetch: async (input, init) => {
      const response = await fetch(input, init);
      if (String(input).includes("/commits")) {
        const body = (await response.clone().json()) as { epoch?: number };
        commitAnswers.push({ device: label, status: response.status, epoch: body.epoch });
      }
      return response;
    },
  });
}

const devices: Record<string, ChatDevice> = {};
const apis: Record<string, DeliveryApi> = {};

async function addDevice(member: string, label: string) {
  apis[label] = await apiFor(member, label);
  devices[label] = await ChatDevice.register(apis[label], label);
  await devices[label].publishKeyPackages(4);
}

/** Texts a device holds for a group, as received or sent. */
const textsIn = (device: ChatDevice, groupId: string) =>
  device.history.filter((m) => m.groupId === groupId).map((m) => m.text);

before(async () => {
  site = await startSite({ label: "e2ee", owner: "alice", members: ["bob", "carol"], cleanup });
  db = new pg.Client({ connectionString: site.db.url });
  await db.connect();
  cleanup.unshift(() => db.end());
  // One at a time: each registration verifies the directory as it stands.
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

let direct: string;
let group: string;

describe("chats", () => {
  it("a one-to-one chat reaches both members' devices, and an offline device catches up", async () => {
    direct = await devices["alice-phone"]!.createChat([site.ids.bob!]);
    for (const label of ["alice-laptop", "bob-phone", "bob-laptop"]) await devices[label]!.sync();
    for (const label of ["alice-phone", "alice-laptop", "bob-phone", "bob-laptop"])
      assert.deepEqual(devices[label]!.groupIds(), [direct], `${label} is in the chat`);
    assert.equal(devices["carol-phone"]!.groupIds().length, 0, "carol is not in it");

    // bob's laptop goes offline: only its exported state is kept (as JSON, as a disk would).
    const saved = JSON.parse(JSON.stringify(devices["bob-laptop"]!.export())) as DeviceExport;
    delete devices["bob-laptop"];

    await devices["alice-phone"]!.send(direct, CANARY_DIRECT);
    const atBobPhone = await devices["bob-phone"]!.sync();
    assert.deepEqual(
      atBobPhone.map((m) => [m.text, m.senderMemberId]),
      [[CANARY_DIRECT, site.ids.alice]],
    );
    await devices["bob-phone"]!.send(direct, CANARY_OFFLINE);
    const atAliceLaptop = await devices["alice-laptop"]!.sync();
    assert.deepEqual(
      atAliceLaptop.map((m) => m.text),
      [CANARY_DIRECT, CANARY_OFFLINE],
    );
    assert.deepEqual(
      (await devices["carol-phone"]!.sync()).map((m) => m.text),
      [],
      "nothing for carol",
    );

    // Back online: the restored laptop gets what it missed, in order.
    devices["bob-laptop"] = ChatDevice.restore(apis["bob-laptop"]!, saved);
    const caughtUp = await devices["bob-laptop"].sync();
    assert.deepEqual(
      caughtUp.map((m) => [m.text, m.senderDeviceId]),
      [
        [CANARY_DIRECT, devices["alice-phone"]!.deviceId],
        [CANARY_OFFLINE, devices["bob-phone"]!.deviceId],
      ],
    );
    await devices["alice-phone"]!.sync();
    for (const d of Object.values(devices)) assert.deepEqual(d.warnings, [], d.name);
  });

  it("a group chat of three members reaches all five devices", async () => {
    group = await devices["bob-phone"]!.createChat([site.ids.alice!, site.ids.carol!]);
    for (const d of Object.values(devices)) await d.sync();
    await devices["carol-phone"]!.send(group, CANARY_GROUP);
    for (const label of ["alice-phone", "alice-laptop", "bob-phone", "bob-laptop"]) {
      const got = await devices[label]!.sync();
      assert.deepEqual(
        got.map((m) => [m.groupId, m.text, m.senderMemberId]),
        [[group, CANARY_GROUP, site.ids.carol]],
        label,
      );
    }
    for (const d of Object.values(devices))
      assert.equal(d.epochOf(group), 1, `${d.name} is at the group's first epoch`);
  });

  it("two Commits in one epoch: exactly one is accepted, the other device retries on top of it", async () => {
    commitAnswers.length = 0;
    const before = devices["alice-laptop"]!.epochOf(group);
    await Promise.all([
      devices["alice-laptop"]!.updateKeys(group),
      devices["carol-phone"]!.updateKeys(group),
    ]);
    const statuses = commitAnswers.map((a) => a.status).sort();
    assert.deepEqual(statuses, [200, 200, 409], JSON.stringify(commitAnswers));
    const refused = commitAnswers.find((a) => a.status === 409)!;
    assert.equal(refused.epoch, before + 1, "the refusal names the epoch the winner made");
    for (const d of Object.values(devices)) await d.sync();
    for (const d of Object.values(devices))
      assert.equal(d.epochOf(group), before + 2, `${d.name} followed both Commits`);

    // The group did not fork: a message after the race reaches everyone.
    await devices["alice-laptop"]!.send(group, "after the race");
    for (const label of ["alice-phone", "bob-phone", "bob-laptop", "carol-phone"])
      assert.deepEqual(
        (await devices[label]!.sync()).map((m) => m.text),
        ["after the race"],
        label,
      );
  });

  it("live: a device listening on the streaming socket gets a message without asking", async () => {
    const heard: string[] = [];
    const errors: unknown[] = [];
    const live = await devices["carol-phone"]!.live(
      (messages) => heard.push(...messages.map((m) => m.text)),
      (error) => errors.push(error),
    );
    try {
      await devices["bob-laptop"]!.send(group, "live from bob's laptop");
      await eventually("carol's phone to hear bob", async () => heard.length > 0);
      assert.deepEqual(heard, ["live from bob's laptop"]);
      assert.deepEqual(errors, []);
    } finally {
      live.close();
    }
    for (const label of ["alice-phone", "alice-laptop", "bob-phone"])
      assert.deepEqual(
        (await devices[label]!.sync()).map((m) => m.text),
        ["live from bob's laptop"],
        label,
      );
  });

  it("a Commit or a message of a past epoch is refused with the current epoch", async () => {
    const device = devices["bob-phone"]!;
    const epoch = device.epochOf(group);
    const junk = new Uint8Array([0, 1, 2]);
    await assert.rejects(
      apis["bob-phone"]!.commit(group, {
        deviceId: device.deviceId,
        epoch: epoch - 1,
        commit: junk,
      }),
      (error: unknown) => {
        assert.ok(error instanceof ApiError);
        assert.deepEqual([error.status, error.code, error.epoch], [409, "epoch_conflict", epoch]);
        return true;
      },
    );
    await assert.rejects(
      apis["bob-phone"]!.send(group, device.deviceId, epoch - 1, junk),
      (error: unknown) => {
        assert.ok(error instanceof ApiError);
        assert.deepEqual([error.status, error.code, error.epoch], [409, "epoch_conflict", epoch]);
        return true;
      },
    );
    // A device acts only with the token that registered it; anonymous requests are refused.
    const otherToken = await apiFor("bob", "bob-other-token");
    await assert.rejects(otherToken.send(group, device.deviceId, epoch, junk), /^ApiError: 404/);
    const anonymous = await request(site, null, "POST", `/api/v1/e2ee/groups/${group}/messages`, {
      device_id: device.deviceId,
      epoch,
      message: "AAEC",
    });
    assert.equal(anonymous.status, 401);
    // Carol's device is not in the one-to-one chat: as far as she can tell, it does not exist.
    await assert.rejects(
      apis["carol-phone"]!.send(direct, devices["carol-phone"]!.deviceId, 1, junk),
      /^ApiError: 404/,
    );
  });
});

describe("membership follows the Clique", () => {
  it("a removed member's device cannot read what is sent after the removal, even handed the ciphertexts", async () => {
    const carol = devices["carol-phone"]!;
    await api(site, "alice", "POST", `/api/v1/clique/moderation/members/${site.ids.carol}/remove`, {
      reason: "left the group",
    });
    // The server removes her devices (the directory says so) and stops serving them.
    await eventually("carol's device to leave the directory", async () =>
      (await apis["alice-phone"]!.directory(1)).some(
        (e) => e.action === "remove" && e.device_id === carol.deviceId,
      ),
    );
    await assert.rejects(carol.sync(), /^ApiError: 401/);

    // bob's next message first commits the Remove of her leaf, then is sent.
    const before = devices["bob-phone"]!.epochOf(group);
    await devices["bob-phone"]!.send(group, CANARY_AFTER_REMOVAL);
    assert.equal(devices["bob-phone"]!.epochOf(group), before + 1);
    const { rows } = await db.query<{ kind: string; epoch: string; body: Buffer }>(
      `select kind, epoch, body from e2ee_messages where group_id = $1 and epoch >= $2 order by id`,
      [group, before],
    );
    // (Epoch checks, `CQEC…`, travel as application messages too: they are left out here.)
    assert.deepEqual(
      rows
        .filter((r) => !r.body.subarray(0, 4).equals(Buffer.from("CQEC")))
        .map((r) => [r.kind, Number(r.epoch)]),
      [
        ["commit", before],
        ["application", before + 1],
      ],
    );

    // A server that still hands carol's device everything (here: a stand-in on loopback).
    const start = carol.export().cursor;
    const stolen = rows.map((r, i) => ({
      cursor: start + i + 1,
      group_id: group,
      kind: r.kind,
      epoch: Number(r.epoch),
      sender_device_id: devices["bob-phone"]!.deviceId,
      body: r.body.toString("base64"),
      created_at: new Date().toISOString(),
    }));
    const rogue = createServer(async (req, res) => {
      const url = new URL(req.url ?? "/", "http://rogue.invalid");
      let body: unknown = {};
      if (url.pathname === "/api/v1/e2ee/messages")
        body =
          Number(url.searchParams.get("after")) > start
            ? { messages: [], cursor: start + stolen.length }
            : { messages: stolen, cursor: start + stolen.length };
      else if (url.pathname === "/api/v1/e2ee/directory")
        body = {
          entries: await apis["alice-phone"]!.directory(Number(url.searchParams.get("from"))),
        };
      else if (url.pathname.endsWith("/key_packages")) body = { waiting: 5 };
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(body));
    });
    await new Promise<void>((resolve) => rogue.listen(0, "127.0.0.1", resolve));
    cleanup.unshift(() => new Promise((resolve) => rogue.close(resolve)));
    const port = (rogue.address() as AddressInfo).port;
    const stranded = ChatDevice.restore(
      new DeliveryApi({ origin: `http://127.0.0.1:${port}`, token: "any" }),
      carol.export(),
    );
    assert.deepEqual(await stranded.sync(), []);
    assert.ok(!stranded.history.some((m) => m.text === CANARY_AFTER_REMOVAL));
    assert.ok(stranded.warnings.length > 0, "her device could not process the Commit");

    // Everyone else reads it.
    for (const label of ["alice-phone", "alice-laptop", "bob-laptop"])
      assert.deepEqual(
        (await devices[label]!.sync()).map((m) => m.text),
        [CANARY_AFTER_REMOVAL],
        label,
      );
    delete devices["carol-phone"];
  });
});

describe("what the server keeps", () => {
  it("no canary text is in any table of the database, nor in the server's log", async () => {
    // Every device has fetched everything (the last fetch acknowledged it): one more
    // message waits in the mailboxes so that ciphertexts are there to search too.
    await devices["alice-phone"]!.send(direct, "still encrypted");
    const { rows: columns } = await db.query<{ table_name: string; column_name: string }>(
      `select table_name, column_name from information_schema.columns
       where table_schema = 'public' and data_type in ('text', 'bytea', 'jsonb', 'json', 'character varying', 'ARRAY')`,
    );
    assert.ok(columns.some((c) => c.table_name === "e2ee_messages" && c.column_name === "body"));
    const needles = CANARIES.flatMap((c) => [
      Buffer.from(c),
      Buffer.from(Buffer.from(c).toString("base64")),
    ]);
    let searched = 0;
    let ciphertexts = 0;
    const found: string[] = [];
    // The search can fail: a device's name, stored in the clear, is found by the same code.
    const control = Buffer.from("alice-phone");
    const controlFound: string[] = [];
    for (const { table_name, column_name } of columns) {
      const { rows } = await db.query(`select "${column_name}" as v from "${table_name}"`);
      for (const row of rows) {
        searched++;
        const value: unknown = row.v;
        if (value === null) continue;
        const haystack = Buffer.isBuffer(value)
          ? value
          : Buffer.from(typeof value === "string" ? value : JSON.stringify(value));
        if (needles.some((n) => haystack.includes(n))) found.push(`${table_name}.${column_name}`);
        if (haystack.includes(control)) controlFound.push(`${table_name}.${column_name}`);
        if (table_name === "e2ee_messages" && column_name === "body") ciphertexts++;
      }
    }
    assert.deepEqual(found, [], "canary text found in the database");
    assert.ok(ciphertexts > 0, "ciphertexts were there to search");
    assert.ok(searched > 100, `searched ${searched} values`);
    assert.deepEqual(controlFound, ["e2ee_devices.name"]);

    const log = site.server.output();
    for (const needle of needles)
      assert.ok(!log.includes(needle.toString()), "canary text found in the server's log");
    // And the devices did read them.
    assert.ok(textsIn(devices["bob-laptop"]!, direct).includes(CANARY_DIRECT));
    assert.ok(textsIn(devices["alice-phone"]!, group).includes(CANARY_GROUP));
  });

  it("a message is deleted once every device fetched it", async () => {
    for (const d of Object.values(devices)) await d.sync();
    // Each device's next fetch acknowledges what it got.
    for (const d of Object.values(devices)) await d.sync();
    const { rows } = await db.query(`select count(*)::int as n from e2ee_messages`);
    assert.equal(rows[0].n, 0);
  });
});

describe("the key directory", () => {
  it("verifies as one chain from the first entry, and each device's head is on it", async () => {
    const entries = await apis["bob-phone"]!.directory(1);
    assert.deepEqual(
      entries.map((e) => e.action),
      ["add", "add", "add", "add", "add", "remove"],
      "five devices added, carol's removed with her",
    );
    assert.equal(entries[0]!.prev_hash, GENESIS_HASH);
    const head = await verifyDirectory(null, entries);
    assert.equal(head.seq, 6);
    for (const d of Object.values(devices)) {
      const seen = await d.syncDirectory();
      assert.deepEqual(seen, head, d.name);
    }
  });

  it("a tampered entry is detected by a client verifying the chain", async () => {
    const original = await db.query(`select signature_key from e2ee_directory where seq = 3`);
    // The server swaps bob's phone key for one it holds.
    await db.query(`update e2ee_directory set signature_key = $1 where seq = 3`, [
      Buffer.alloc(32, 7),
    ]);
    const fresh = await apiFor("bob", "bob-tablet");
    await assert.rejects(ChatDevice.register(fresh, "bob-tablet"), (error: unknown) => {
      assert.ok(error instanceof DirectoryAlarm, String(error));
      assert.match(error.message, /Entry 3 of the key directory does not match its hash/);
      return true;
    });
    await db.query(`update e2ee_directory set signature_key = $1 where seq = 3`, [
      original.rows[0].signature_key,
    ]);
  });

  it("a rewritten history (every hash recomputed) is detected by a client that remembers its head", async () => {
    const device = devices["alice-phone"]!;
    const remembered = device.head()!;
    const entries = await apis["alice-phone"]!.directory(1);
    // The server rewrites entry 2 (alice's laptop key) and recomputes the chain after it.
    let prev = GENESIS_HASH;
    for (const entry of entries) {
      const rewritten = {
        ...entry,
        signature_key:
          entry.seq === 2 ? Buffer.alloc(32, 9).toString("base64") : entry.signature_key,
        prev_hash: prev,
      };
      const hash = await entryHash(rewritten);
      await db.query(
        `update e2ee_directory set signature_key = $1, prev_hash = $2, hash = $3 where seq = $4`,
        [
          Buffer.from(rewritten.signature_key, "base64"),
          Buffer.from(prev, "hex"),
          Buffer.from(hash, "hex"),
          entry.seq,
        ],
      );
      prev = hash;
    }
    // A newcomer cannot tell (the chain is whole), but this device remembers its head.
    await verifyDirectory(null, await apis["alice-phone"]!.directory(1));
    await assert.rejects(device.syncDirectory(), (error: unknown) => {
      assert.ok(error instanceof DirectoryAlarm, String(error));
      assert.match(error.message, /rewritten/);
      return true;
    });
    assert.equal(device.head()!.hash, remembered.hash, "the remembered head is kept");
    assert.ok(device.warnings.some((w) => w.includes("rewritten")));
  });
});
