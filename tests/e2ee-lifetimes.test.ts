/**
 * End-to-end encrypted chats (issue 15), part 3: how long things live.
 * alice and bob have two devices each. A chat's disappearing-message timer
 * travels inside the ciphertext; once a timed message's time is up it is
 * gone from every device's history and exported state, and its row is gone
 * from the server (even for a device that never fetched it). A member who
 * clears a chat clears it on all of their own devices; the other member's
 * devices keep theirs. A photo is encrypted on the device, stored as an opaque
 * blob only the chat's devices fetch, verified and decrypted by recipients; its
 * bytes are nowhere in the database. A member reports a message by disclosing
 * it, and the moderator sees a report that says it is a disclosure.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { ApiError, AttachmentMismatch, ChatDevice, DeliveryApi } from "@clique/client";
import { lastLine, stopEmbeddedTestServer } from "@clique/testing";
import pg from "pg";
import { api, type Cleanup, cliOk, runCleanup, type Site, startSite } from "./support/sites.ts";

const cleanup: Cleanup = [];
let site: Site;
let db: pg.Client;

const CANARY_TIMED = "canary-timed-a41c07 this disappears in two seconds";
const KEPT = "sent before the timer: stays";
const AFTER_TIMER_OFF = "sent after the timer was turned off: stays";

const devices: Record<string, ChatDevice> = {};
const ALL = ["alice-phone", "alice-laptop", "bob-phone", "bob-laptop"] as const;
const dev = (label: (typeof ALL)[number]) => devices[label]!;

const textsIn = (device: ChatDevice, groupId: string) =>
  device.history.filter((m) => m.groupId === groupId).map((m) => m.text);

before(async () => {
  // The owner moderates and is in no chat.
  site = await startSite({ label: "e2ee-life", owner: "olga", members: ["alice", "bob"], cleanup });
  db = new pg.Client({ connectionString: site.db.url });
  await db.connect();
  cleanup.unshift(() => db.end());
  for (const label of ALL) {
    const member = label.split("-")[0]!;
    const token = lastLine(await cliOk(site, ["token", "create", member]));
    devices[label] = await ChatDevice.register(
      new DeliveryApi({ origin: site.origin, token }),
      label,
    );
    await devices[label].publishKeyPackages(3);
  }
});

after(async () => {
  await runCleanup(cleanup);
  await stopEmbeddedTestServer();
});

let chat: string;

/** Rows of `e2ee_blobs` that carry an expiry. */
async function timedBlobs(): Promise<number> {
  const { rows } = await db.query<{ n: string }>(
    "select count(*) as n from e2ee_blobs where expires_at is not null",
  );
  return Number(rows[0]!.n);
}

/** Rows of `e2ee_messages` that carry an expiry. */
async function timedRows(): Promise<number> {
  const { rows } = await db.query<{ n: string }>(
    "select count(*) as n from e2ee_messages where expires_at is not null",
  );
  return Number(rows[0]!.n);
}

describe("disappearing messages", () => {
  it("a 2-second timer: afterwards nothing on the devices, nothing on the server", async () => {
    chat = await dev("alice-phone").createChat([site.ids.bob!]);
    for (const label of ALL) await dev(label).sync();
    await dev("alice-phone").send(chat, KEPT);

    await dev("alice-phone").setTimer(chat, 2);
    for (const label of ["alice-laptop", "bob-phone", "bob-laptop"] as const) {
      await dev(label).sync();
      assert.equal(dev(label).timerOf(chat), 2, `${label} knows the chat's timer`);
    }
    // bob's laptop goes quiet: the timed message (and a timed photo) waits for it on the server.
    await dev("alice-phone").send(chat, CANARY_TIMED);
    await dev("alice-phone").sendAttachment(chat, new Uint8Array(64).fill(7), {
      mediaType: "image/png",
      caption: "timed photo",
    });
    for (const label of ["alice-laptop", "bob-phone"] as const) {
      await dev(label).sync();
      const got = dev(label).history.find((m) => m.text === CANARY_TIMED);
      assert.ok(got?.expiresAt, `${label} received the timed message with its expiry`);
      assert.ok(JSON.stringify(dev(label).export()).includes(CANARY_TIMED));
    }
    assert.ok(textsIn(dev("alice-phone"), chat).includes(CANARY_TIMED));
    assert.equal(await timedRows(), 2, "the server holds the timed ciphertexts for bob's laptop");
    assert.equal(await timedBlobs(), 1, "and the timed photo");
    const { rows } = await db.query<{ left: number }>(
      `select extract(epoch from expires_at - created_at)::float as left
       from e2ee_messages where expires_at is not null`,
    );
    assert.ok(
      rows[0]!.left > 0 && rows[0]!.left <= 3,
      `expires_at follows the timer: ${rows[0]!.left}`,
    );

    // The time runs out (the timer's two seconds, and some).
    const expiry = Date.parse(
      dev("alice-phone").history.find((m) => m.text === CANARY_TIMED)!.expiresAt!,
    );
    await sleep(Math.max(0, expiry - Date.now()) + 500);

    for (const label of ["alice-phone", "alice-laptop", "bob-phone"] as const) {
      const exported = JSON.stringify(dev(label).export());
      assert.ok(!exported.includes(CANARY_TIMED), `${label}'s exported state has no trace of it`);
      assert.ok(!textsIn(dev(label), chat).includes(CANARY_TIMED), `${label}'s history`);
      assert.ok(textsIn(dev(label), chat).includes(KEPT), `${label} keeps the untimed message`);
    }
    // Any fetch purges: the row is gone before bob's laptop ever fetched it.
    await dev("alice-laptop").sync();
    assert.equal(await timedRows(), 0, "the timed ciphertexts are gone from the server");
    assert.equal(await timedBlobs(), 0, "the timed photo's blob is gone from the server");
    const { rows: deliveries } = await db.query(
      "select 1 from e2ee_deliveries d left join e2ee_messages m on m.id = d.message_id where m.id is null",
    );
    assert.equal(deliveries.length, 0);

    const late = await dev("bob-laptop").sync();
    assert.ok(!late.some((m) => m.text === CANARY_TIMED), "bob's laptop never sees it");
    assert.ok(!late.some((m) => m.attachment), "nor the timed photo");
    assert.ok(!JSON.stringify(dev("bob-laptop").export()).includes(CANARY_TIMED));
    assert.ok(textsIn(dev("bob-laptop"), chat).includes(KEPT));

    // Turned off: messages stay again.
    await dev("bob-laptop").setTimer(chat, 0);
    for (const label of ALL) await dev(label).sync();
    for (const label of ALL) assert.equal(dev(label).timerOf(chat), 0, label);
    await dev("bob-laptop").send(chat, AFTER_TIMER_OFF);
    await dev("alice-phone").sync();
    const untimed = dev("alice-phone").history.find((m) => m.text === AFTER_TIMER_OFF);
    assert.ok(untimed && untimed.expiresAt === undefined);
    assert.equal(await timedRows(), 0);
  });

  it("a timer out of range is refused on the device", async () => {
    await assert.rejects(() => dev("alice-phone").setTimer(chat, -1), RangeError);
    await assert.rejects(() => dev("alice-phone").setTimer(chat, 1.5), RangeError);
  });
});

describe("clear chat", () => {
  it("clears the chat on all of the member's devices; the other member's devices keep theirs", async () => {
    for (const label of ALL) await dev(label).sync();
    const bobBefore = textsIn(dev("bob-phone"), chat);
    assert.deepEqual(bobBefore, [KEPT, AFTER_TIMER_OFF]);
    assert.deepEqual(textsIn(dev("alice-phone"), chat), [KEPT, AFTER_TIMER_OFF]);

    await dev("alice-laptop").clearChat(chat);
    assert.deepEqual(textsIn(dev("alice-laptop"), chat), [], "cleared where it was asked");
    await dev("alice-phone").sync();
    assert.deepEqual(textsIn(dev("alice-phone"), chat), [], "cleared on alice's other device");
    assert.ok(!JSON.stringify(dev("alice-phone").export()).includes(KEPT));
    for (const label of ["bob-phone", "bob-laptop"] as const) {
      await dev(label).sync();
      assert.deepEqual(textsIn(dev(label), chat), bobBefore, `${label} keeps its history`);
    }

    // The chat goes on: what is sent after the clear arrives as usual.
    await dev("bob-phone").send(chat, "after the clear");
    for (const label of ["alice-phone", "alice-laptop"] as const) {
      await dev(label).sync();
      assert.deepEqual(textsIn(dev(label), chat), ["after the clear"], label);
    }
    for (const label of ALL) assert.deepEqual(dev(label).warnings, [], label);
  });
});

/** A photo's bytes: a canary pattern that must never reach the server in the clear. */
const PHOTO_CANARY = "canary-photo-d93b61e2:";
const photo = new Uint8Array(Buffer.from(PHOTO_CANARY.repeat(3000)));

describe("encrypted attachments", () => {
  it("a photo round-trips between devices; the server keeps only ciphertext", async () => {
    const sent = await dev("alice-phone").sendAttachment(chat, photo, {
      mediaType: "image/png",
      caption: "our photo",
    });
    for (const label of ["bob-phone", "bob-laptop", "alice-laptop"] as const) {
      const got = (await dev(label).sync()).find((m) => m.text === "our photo");
      assert.ok(got?.attachment, `${label} received the photo's message`);
      assert.equal(got.attachment.sha256, sent.sha256);
      assert.deepEqual(await dev(label).downloadAttachment(got), photo, `${label} decrypts it`);
    }
    const { rows: blobs } = await db.query<{ size: number }>(
      "select octet_length(body) as size from e2ee_blobs where id = $1",
      [sent.blobId],
    );
    assert.deepEqual(blobs, [{ size: photo.byteLength + 16 }], "the blob is the ciphertext");

    // The canary is in no table, as bytes or as base64 (three alignments).
    const needles = [Buffer.from(PHOTO_CANARY)];
    for (let shift = 0; shift < 3; shift++) {
      const b64 = Buffer.from(PHOTO_CANARY.repeat(3).slice(shift)).toString("base64");
      needles.push(Buffer.from(b64.slice(4, 24)));
    }
    const { rows: columns } = await db.query<{ table_name: string; column_name: string }>(
      `select table_name, column_name from information_schema.columns
       where table_schema = 'public' and data_type in ('text', 'bytea', 'jsonb', 'json', 'character varying', 'ARRAY')`,
    );
    const found: string[] = [];
    let searchedBlobs = 0;
    for (const { table_name, column_name } of columns) {
      const { rows } = await db.query(`select "${column_name}" as v from "${table_name}"`);
      for (const { v } of rows) {
        if (v === null) continue;
        if (table_name === "e2ee_blobs" && column_name === "body") searchedBlobs++;
        const haystack = Buffer.isBuffer(v)
          ? v
          : Buffer.from(typeof v === "string" ? v : JSON.stringify(v));
        if (needles.some((n) => haystack.includes(n))) found.push(`${table_name}.${column_name}`);
      }
    }
    assert.deepEqual(found, [], "the photo's bytes were found in the database");
    assert.ok(searchedBlobs > 0, "blobs were there to search");
    assert.ok(!site.server.output().includes(PHOTO_CANARY), "nor in the server's log");

    // Only a device of the chat fetches the blob.
    const modApi = new DeliveryApi({ origin: site.origin, token: site.tokens.olga! });
    const modDevice = await ChatDevice.register(modApi, "olga-phone");
    const refused = await modApi.fetchBlob(sent.blobId, modDevice.deviceId).catch((e) => e);
    assert.ok(refused instanceof ApiError && refused.status === 404, String(refused));

    // A blob the server changed is refused by the recipient (hash check), not shown.
    await db.query(
      "update e2ee_blobs set body = set_byte(body, 40, get_byte(body, 40) # 1) where id = $1",
      [sent.blobId],
    );
    const message = dev("bob-phone").history.find((m) => m.attachment?.blobId === sent.blobId)!;
    await assert.rejects(() => dev("bob-phone").downloadAttachment(message), AttachmentMismatch);
  });
});

describe("reporting by disclosure", () => {
  it("a member discloses a message to the moderators, and the report says so", async () => {
    const REPORTED = "a message bob finds abusive 5e0c";
    await dev("alice-laptop").send(chat, REPORTED);
    const message = (await dev("bob-phone").sync()).find((m) => m.text === REPORTED)!;
    assert.equal(message.senderMemberId, site.ids.alice);
    const reportId = await dev("bob-phone").reportMessage(message, "please look");

    const report = (await api(site, "olga", "GET", `/api/v1/admin/reports/${reportId}`)) as {
      comment: string;
      target_account: { id: string };
      account: { id: string };
    };
    assert.equal(report.target_account.id, site.ids.alice, "the report is about the sender");
    assert.equal(report.account.id, site.ids.bob, "filed by the reporter");
    assert.match(report.comment, /^Disclosed by the reporter from an end-to-end encrypted chat/);
    assert.ok(report.comment.includes(`Chat ${chat}`));
    assert.ok(report.comment.includes(`"${REPORTED}"`));
    assert.ok(report.comment.includes("Reporter's comment: please look"));

    // Only from a device that sits in the chat.
    const modApi = new DeliveryApi({ origin: site.origin, token: site.tokens.olga! });
    const outsider = await ChatDevice.register(modApi, "olga-laptop");
    const refused = await outsider.reportMessage(message).catch((e) => e);
    assert.ok(refused instanceof ApiError && refused.status === 404, String(refused));
  });
});
