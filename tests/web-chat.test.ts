/**
 * Encrypted chats in the browser (issue 15): two members, each in a Chromium
 * profile of their own, chat through the web interface — each browser a chat
 * device of its own, with its MLS state in IndexedDB — live, and compare
 * safety numbers. The server in between is a real `clique start` process.
 *
 * Also checked: the verification status the chat screens show (the key
 * directory, the security policy, the published bundle hash), the device list,
 * a second tab of the same browser leaving the device to the first, and that
 * the texts typed never reach the server's tables in the clear. Every screen
 * goes through axe-core and the Content-Security-Policy check, and is
 * photographed.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { stopEmbeddedTestServer } from "@clique/testing";
import pg from "pg";
import type { Browser, BrowserContext, Page } from "playwright-core";
import sharp from "sharp";
import {
  assertAccessible,
  browserMissing,
  launchBrowser,
  newVisitor,
  photograph,
} from "./support/browser.ts";
import { type Cleanup, password, runCleanup, type Site, startSite } from "./support/sites.ts";

const skip = browserMissing();
const LABEL = "webchat";
const cleanup: Cleanup = [];
let site: Site;
let browser: Browser;
const contexts: Record<string, BrowserContext> = {};
const pages: Record<string, Page> = {};
/** Uncaught errors in the pages' own scripts: there must be none. */
const crashes: string[] = [];

/** Texts typed into the chat: they must never reach the server in the clear. */
const CANARY_ADA = "canary-web-4d1f9b70 meet at the boathouse";
const CANARY_BOB = "canary-web-a83c5e12 bringing the oars";
const CANARY_CAPTION = "canary-web-6be07d35 the new oars";
const CANARY_LATER = "canary-web-0e94d2c8 the laptop reads this";
/** Ada and Bob's safety number before Ada's second device. */
let safetyBefore: string | undefined;
/** The photo sent: its bytes must not reach the server either. */
let photoBytes: Buffer | undefined;

before(async () => {
  if (skip) return;
  site = await startSite({ label: LABEL, owner: "ada", members: ["bob", "cy"], cleanup });
  browser = await launchBrowser();
  cleanup.unshift(() => browser.close());
  for (const who of ["ada", "bob"]) {
    contexts[who] = await newVisitor(browser);
    pages[who] = await contexts[who].newPage();
    pages[who].on("dialog", (dialog) => void dialog.accept());
    pages[who].on("pageerror", (error) => crashes.push(`${who}: ${error.message}`));
    await signIn(pages[who], who);
  }
});

after(async () => {
  await runCleanup(cleanup);
  await stopEmbeddedTestServer();
});

async function signIn(page: Page, who: string): Promise<void> {
  await page.goto(`${site.origin}/signin`);
  await page.getByLabel("Username", { exact: true }).fill(who);
  await page.getByLabel("Password", { exact: true }).fill(password(who, LABEL));
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await page.waitForURL(`${site.origin}/home`);
}

/** Opens the chat list and waits for this browser's chat device to be ready. */
async function openChats(page: Page): Promise<void> {
  await page.goto(`${site.origin}/chats`);
  await page.getByRole("heading", { name: "New chat" }).waitFor({ timeout: 30_000 });
}

describe("encrypted chats in the browser", { skip: skip ?? false }, () => {
  let chatUrl = "";

  test("each browser becomes a chat device, and the chat list says what it verified", async () => {
    // Bob first: Ada can only start a chat with someone who has a device.
    await openChats(pages.bob!);
    await openChats(pages.ada!);
    const ada = pages.ada!;
    const status = ada.locator("[data-check]");
    assert.match(
      (await ada.locator('[data-check="directory"]').textContent()) ?? "",
      /Key directory: verified\. This browser checked all \d+ entries/,
    );
    assert.match(
      (await ada.locator('[data-check="policy"]').textContent()) ?? "",
      /Security policy: matches\./,
    );
    assert.equal(await status.count(), 3);
    assert.equal(await ada.locator("[data-alert]").count(), 0, "no alert on an honest server");
    // The bundle hash shown is the one the server publishes.
    const policy = (await (await fetch(`${site.origin}/.well-known/clique-security`)).json()) as {
      web_client?: { bundle_sha256: string } | null;
    };
    const bundle = (await ada.locator('[data-check="bundle"]').textContent()) ?? "";
    if (policy.web_client) assert.ok(bundle.includes(policy.web_client.bundle_sha256), bundle);
    // Cy never opened chats: she cannot be picked yet.
    assert.ok(await ada.getByRole("checkbox", { name: /^cy\b/ }).isDisabled());
    assert.ok(await ada.getByRole("checkbox", { name: /^bob\b/ }).isEnabled());
    await assertAccessible(ada, "chat list");
    await photograph(ada, "chats-list");
  });

  test("Ada starts a chat with Bob; each message arrives live on the other's screen", async () => {
    const ada = pages.ada!;
    const bob = pages.bob!;
    await ada.getByRole("checkbox", { name: /^bob\b/ }).check();
    await ada.getByRole("button", { name: "Start chat", exact: true }).click();
    await ada.waitForURL(/\/chats\/[^/]+$/);
    chatUrl = ada.url();
    await ada.getByRole("heading", { name: "bob", exact: true }).waitFor();
    await ada.getByLabel("Message", { exact: true }).fill(CANARY_ADA);
    await ada.getByRole("button", { name: "Send", exact: true }).click();
    await ada.getByRole("log").getByText(CANARY_ADA).waitFor();

    // Bob's list, open since before the chat existed, shows it with one unread message.
    const entry = bob
      .getByRole("list", { name: "Your chats" })
      .getByRole("link", { name: /^ada/ })
      .filter({ hasText: "1 unread" });
    await entry.waitFor({ timeout: 20_000 });
    await entry.click();
    await bob.waitForURL(chatUrl);
    await bob.getByRole("log").getByText(CANARY_ADA).waitFor({ timeout: 20_000 });
    await bob.getByLabel("Message", { exact: true }).fill(CANARY_BOB);
    await bob.getByRole("button", { name: "Send", exact: true }).click();

    // Ada has not reloaded: Bob's answer comes over the stream.
    await ada.getByRole("log").getByText(CANARY_BOB).waitFor({ timeout: 20_000 });
    const texts = await ada.locator(".chat-message-text").allTextContents();
    assert.deepEqual(texts, [CANARY_ADA, CANARY_BOB]);
    assert.match(
      (await ada.locator(".chat-message").nth(1).textContent()) ?? "",
      /^bob/,
      "the answer is Bob's",
    );
    await assertAccessible(ada, "conversation");
    await photograph(ada, "chats-conversation");

    // After a reload the chat is still there: the device and its history live in IndexedDB.
    await bob.reload();
    await bob.getByRole("log").getByText(CANARY_BOB).waitFor({ timeout: 20_000 });
  });

  test("a photo is encrypted in one browser and opened in the other", async () => {
    const ada = pages.ada!;
    const bob = pages.bob!;
    const photo = await sharp({
      create: { width: 64, height: 48, channels: 3, background: { r: 200, g: 90, b: 20 } },
    })
      .png()
      .toBuffer();
    await ada.getByLabel("Photo (optional)").setInputFiles({
      name: "oars.png",
      mimeType: "image/png",
      buffer: photo,
    });
    await ada.getByLabel("Message", { exact: true }).fill(CANARY_CAPTION);
    await ada.getByRole("button", { name: "Send", exact: true }).click();
    await ada.getByRole("log").getByText(CANARY_CAPTION).waitFor({ timeout: 20_000 });

    await bob.getByRole("log").getByText(CANARY_CAPTION).waitFor({ timeout: 20_000 });
    await bob.getByRole("button", { name: /^Show photo/ }).click();
    const shown = bob.getByRole("img", { name: CANARY_CAPTION });
    await shown.waitFor({ timeout: 20_000 });
    // Decrypted in the page into the very picture Ada chose.
    const size = await shown.evaluate((img: HTMLImageElement) => [
      img.naturalWidth,
      img.naturalHeight,
    ]);
    assert.deepEqual(size, [64, 48]);
    photoBytes = photo;
  });

  test("both see the same safety number, and Ada marks Bob verified", async () => {
    const numbers: Record<string, string> = {};
    const qrs: Record<string, string> = {};
    for (const [who, other] of [
      ["ada", "bob"],
      ["bob", "ada"],
    ] as const) {
      const page = pages[who]!;
      await page.goto(chatUrl);
      await page.getByRole("link", { name: "Compare safety number" }).click();
      await page.waitForURL(`${site.origin}/chats/safety/${site.ids[other]}`);
      const digits = page.locator("[data-safety-number]");
      await digits.waitFor({ timeout: 20_000 });
      numbers[who] = (await digits.getAttribute("data-safety-number")) ?? "";
      qrs[who] =
        (await page
          .getByRole("img", { name: /QR code of the safety number/ })
          .getAttribute("src")) ?? "";
      assert.equal(await page.locator('[data-verified="no"]').count(), 1);
    }
    assert.match(numbers.ada!, /^(\d{5} ){11}\d{5}$/, "sixty digits in twelve groups");
    assert.equal(numbers.ada, numbers.bob, "Ada and Bob compare the same number");
    assert.ok(qrs.ada!.startsWith("data:image/svg+xml"), "a QR code is drawn");
    assert.equal(qrs.ada, qrs.bob, "and the same QR code");
    safetyBefore = numbers.ada;

    const ada = pages.ada!;
    await ada.goto(`${site.origin}/chats/safety/${site.ids.bob}`);
    await ada.getByRole("button", { name: /mark as verified/ }).click();
    await ada.locator('[data-verified="yes"]').waitFor();
    await assertAccessible(ada, "safety number");
    await photograph(ada, "chats-safety-number");
    // Remembered on this browser.
    await ada.reload();
    await ada.locator('[data-verified="yes"]').waitFor({ timeout: 20_000 });
  });

  test("the device list shows this browser; a second tab leaves the device to the first", async () => {
    const ada = pages.ada!;
    await ada.goto(`${site.origin}/chats/devices`);
    const list = ada.getByRole("list", { name: "Chat devices" });
    await list.waitFor({ timeout: 20_000 });
    assert.equal(await list.getByRole("listitem").count(), 1);
    assert.match((await list.textContent()) ?? "", /Chrome on Linux\s*This browser/);
    assert.doesNotMatch((await list.textContent()) ?? "", /not in the verified key directory/);
    await assertAccessible(ada, "chat devices");
    await photograph(ada, "chats-devices");

    const second = await contexts.ada!.newPage();
    await second.goto(`${site.origin}/chats`);
    await second.getByText("Your chats are open in another tab").waitFor({ timeout: 20_000 });
    // Once the first tab leaves, the second takes over.
    await ada.goto(`${site.origin}/home`);
    await second.getByRole("heading", { name: "New chat" }).waitFor({ timeout: 20_000 });
    await second.close();
  });

  test("Ada's second browser joins her chat once her first adds it, and Bob is warned", async () => {
    const ada = pages.ada!;
    const bob = pages.bob!;
    // Ada signs in on another computer: a second device of hers.
    contexts.ada2 = await newVisitor(browser);
    const laptop = await contexts.ada2.newPage();
    laptop.on("pageerror", (error) => crashes.push(`ada2: ${error.message}`));
    laptop.on("dialog", (dialog) => void dialog.accept());
    await signIn(laptop, "ada");
    await openChats(laptop);
    assert.match(
      (await laptop.locator("main").textContent()) ?? "",
      /No chats yet/,
      "a new device is in none of the earlier chats",
    );
    await laptop.goto(`${site.origin}/chats/devices`);
    const own = laptop.getByRole("listitem").filter({ hasText: "This browser" });
    await own.waitFor({ timeout: 20_000 });
    const laptopKey = (await own.locator("code").textContent()) ?? "";
    assert.match(laptopKey, /^[0-9a-f]{4}( [0-9a-f]{4}){3}$/);

    // Her first browser lists it with the same key, not in the chat yet; she adds it.
    await ada.goto(`${site.origin}/chats`);
    await ada.getByText("One of your devices is not in your earlier chats yet").waitFor({
      timeout: 20_000,
    });
    await ada.goto(`${site.origin}/chats/devices`);
    const entry = ada.getByRole("listitem").filter({ hasText: laptopKey });
    await entry.waitFor({ timeout: 20_000 });
    assert.equal(
      await entry.locator("[data-missing-chats]").getAttribute("data-missing-chats"),
      "1",
    );
    await entry.getByRole("button", { name: "Add to my chats" }).click();
    await ada.getByText("is in 1 more chat").waitFor({ timeout: 20_000 });

    // The laptop's list gets the chat over the stream; what Bob writes now reaches it.
    await laptop.goto(`${site.origin}/chats`);
    const chat = laptop
      .getByRole("list", { name: "Your chats" })
      .getByRole("link", { name: /^bob/ });
    await chat.waitFor({ timeout: 20_000 });
    await chat.click();
    await bob.goto(chatUrl);
    await bob.getByLabel("Message", { exact: true }).fill(CANARY_LATER);
    await bob.getByRole("button", { name: "Send", exact: true }).click();
    await laptop.getByRole("log").getByText(CANARY_LATER).waitFor({ timeout: 20_000 });
    await ada.goto(chatUrl);
    await ada.getByRole("log").getByText(CANARY_LATER).waitFor({ timeout: 20_000 });

    // Ada's devices changed: Bob's browser says so, and their safety number is a new one.
    await bob.goto(`${site.origin}/chats`);
    await bob.locator('[data-alert="DevicesChanged"]').first().waitFor({ timeout: 20_000 });
    await bob.goto(`${site.origin}/chats/safety/${site.ids.ada}`);
    const now = bob.locator("[data-safety-number]");
    await now.waitFor({ timeout: 20_000 });
    assert.notEqual(await now.getAttribute("data-safety-number"), safetyBefore);
    // Ada had marked Bob verified with the old number: her page says it changed.
    await ada.goto(`${site.origin}/chats/safety/${site.ids.bob}`);
    await ada.locator('[data-verified="changed"]').waitFor({ timeout: 20_000 });
    await assertAccessible(ada, "safety number changed");
    await laptop.close();
  });

  test("the server's tables never held the typed texts", async () => {
    const db = new pg.Client({ connectionString: site.db.url });
    await db.connect();
    try {
      const tables = await db.query<{ table_name: string }>(
        "select table_name from information_schema.tables where table_schema = 'public' and table_name like 'e2ee%'",
      );
      assert.ok(tables.rows.length >= 4, "the e2ee tables exist");
      for (const { table_name } of tables.rows) {
        const rows = await db.query(`select * from ${table_name}`);
        // Byte columns as their bytes (JSON.stringify would give Buffer's own JSON first).
        const text = JSON.stringify(
          rows.rows,
          function (this: Record<string, unknown>, key, value) {
            const raw = this[key];
            return Buffer.isBuffer(raw) ? raw.toString("latin1") : value;
          },
        );
        for (const canary of [CANARY_ADA, CANARY_BOB, CANARY_CAPTION, CANARY_LATER])
          assert.ok(!text.includes(canary), `${table_name} holds "${canary}" in the clear`);
        if (photoBytes)
          assert.ok(!text.includes(photoBytes.toString("latin1")), `${table_name} holds the photo`);
      }
    } finally {
      await db.end();
    }
    assert.deepEqual(crashes, [], "no uncaught error in the pages");
  });
});
