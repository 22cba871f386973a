/**
 * The web interface in a real browser (Debian's Chromium through
 * playwright-core) against a real server process on a fresh database, the
 * story of issue 12 from the first minute:
 *
 * the owner sets the Clique up from the link the server printed → invites →
 * new members join through the invite page → one posts a photo with alt text
 * to a circle → a member in the circle sees it arrive live; a member outside
 * it, an anonymous visitor, and the photo's own URL answer not found → a member
 * reports it, a moderator removes it → it is gone for everyone.
 *
 * Every screen is checked with axe-core (no serious or critical finding) at a
 * laptop's and a phone's width, and photographed into
 * `tests/artifacts/screenshots`. The first-load JavaScript of the main pages
 * is printed (no size is asserted).
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { gzipSync } from "node:zlib";
import {
  createTestDatabase,
  type ServerProcess,
  startServerProcess,
  stopEmbeddedTestServer,
  type TestDatabase,
} from "@clique/testing";
import type { Browser, BrowserContext, Page } from "playwright-core";
import sharp from "sharp";
import {
  assertAccessible,
  browserMissing,
  launchBrowser,
  newVisitor,
  photograph,
} from "./support/browser.ts";
import { eventually } from "./support/sites.ts";

const skip = browserMissing();
const CLIQUE = "The Lindqvists";
const PEOPLE = {
  alice: { name: "Alice Lindqvist", password: "alice-has-a-long-password" },
  dana: { name: "Dana Lindqvist", password: "dana-has-a-long-password" },
  erik: { name: "Erik Berg", password: "erik-has-a-long-password" },
  finn: { name: "Finn Holm", password: "finn-has-a-long-password" },
} as const;
type Person = keyof typeof PEOPLE;

let db: TestDatabase;
let dataDir: string;
let server: ServerProcess;
let origin: string;
let browser: Browser;
const visitors = new Map<Person | "anonymous", BrowserContext>();
/** What the story made, for the later steps. */
const made: { invite?: string; postId?: string; photoUrl?: string; postText?: string } = {};

before(async () => {
  if (skip) return;
  db = await createTestDatabase();
  dataDir = await mkdtemp(path.join(tmpdir(), "clique-web-ui-"));
  server = await startServerProcess({
    env: { ...process.env, CLIQUE_DB_POOL: "6", CLIQUE_ALLOW_PRIVATE_ADDRESS: "true" },
    databaseUrl: db.url,
    dataDir,
  });
  origin = server.origin;
  browser = await launchBrowser();
});

after(async () => {
  for (const context of visitors.values()) await context.close().catch(() => {});
  await browser?.close();
  await server?.stop();
  await db?.drop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
  await stopEmbeddedTestServer();
});

/** The browser profile of a person (their own cookies), made on first use. */
async function visitor(who: Person | "anonymous"): Promise<BrowserContext> {
  let context = visitors.get(who);
  if (!context) {
    context = await newVisitor(browser);
    visitors.set(who, context);
  }
  return context;
}

/** A new tab for a person, at `path`. */
async function open(who: Person | "anonymous", where: string): Promise<Page> {
  const page = await (await visitor(who)).newPage();
  page.on("dialog", (dialog) => void dialog.accept("Not for this Clique"));
  await page.goto(`${origin}${where}`);
  return page;
}

/** A small landscape (sky, sun, two hills) in a tint, drawn by sharp: something worth a screenshot. */
function scene(tint: readonly [number, number, number]): Promise<Buffer> {
  const [r, g, b] = tint;
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="800" height="600">
    <defs><linearGradient id="sky" x1="0" y1="0" x2="0" y2="1">
      <stop offset="0" stop-color="rgb(${r},${g},${b})"/><stop offset="1" stop-color="#fbe9d0"/>
    </linearGradient></defs>
    <rect width="800" height="600" fill="url(#sky)"/>
    <circle cx="600" cy="170" r="70" fill="#fff6c9"/>
    <path d="M0 430 Q 220 300 430 420 T 800 390 V600 H0Z" fill="rgb(${r >> 1},${g >> 1},${b >> 1})"/>
    <path d="M0 500 Q 300 420 560 500 T 800 480 V600 H0Z" fill="rgb(${r >> 2},${g >> 2},${b >> 2})"/>
  </svg>`;
  return sharp(Buffer.from(svg)).png().toBuffer();
}

/**
 * Posts as `who` through the API with their browser's session (the way the
 * compose page does, with the page's Origin), with one photo per colour.
 */
async function postAs(
  who: Person,
  text: string,
  audience: string,
  photos: readonly (readonly [number, number, number])[],
): Promise<string> {
  const request = (await visitor(who)).request;
  const headers = { origin };
  const mediaIds: string[] = [];
  for (const [i, rgb] of photos.entries()) {
    const upload = await request.post(`${origin}/api/v2/media`, {
      headers,
      multipart: {
        file: { name: `photo-${i}.png`, mimeType: "image/png", buffer: await scene(rgb) },
        description: `A ${["green", "golden", "blue", "red"][i % 4]} afternoon`,
      },
    });
    assert.ok(upload.ok(), `upload: ${upload.status()} ${await upload.text()}`);
    const id = ((await upload.json()) as { id: string }).id;
    await eventually(`photo ${id} to be processed`, async () => {
      const media = await request.get(`${origin}/api/v1/media/${id}`, { headers });
      return media.status() === 200 && ((await media.json()) as { url: string | null }).url;
    });
    mediaIds.push(id);
  }
  const status = await request.post(`${origin}/api/v1/statuses`, {
    headers,
    data: { status: text, audience, media_ids: mediaIds },
  });
  assert.ok(status.ok(), `post: ${status.status()} ${await status.text()}`);
  return ((await status.json()) as { id: string }).id;
}

/** The page's visible text. */
async function textOf(page: Page): Promise<string> {
  return (await page.locator("main").textContent()) ?? "";
}

describe("the web interface, from first run to moderation", { skip: skip ?? false }, () => {
  test("the owner sets up the Clique from the link the server printed", async () => {
    const match = /\/setup\?token=([A-Za-z0-9_-]+)/.exec(server.output());
    assert.ok(match, `the server printed no setup link:\n${server.output().slice(-2_000)}`);
    // Without the token the page says where to find it, and creates nothing.
    const bare = await open("anonymous", "/setup");
    assert.match(await textOf(bare), /log|printed/i);
    await bare.close();

    const page = await open("alice", `/setup?token=${match[1]}`);
    await assertAccessible(page, "setup");
    await photograph(page, "setup");
    await page.getByLabel("Clique name", { exact: true }).fill(CLIQUE);
    await page.getByLabel("Username", { exact: true }).fill("alice");
    await page.getByLabel("Display name", { exact: true }).fill(PEOPLE.alice.name);
    await page.getByLabel("Password", { exact: true }).fill(PEOPLE.alice.password);
    await page.getByLabel("Password again", { exact: true }).fill(PEOPLE.alice.password);
    await page.getByRole("button", { name: "Create the Clique" }).click();
    await page.waitForURL(`${origin}/home`);
    assert.match((await page.locator("header").textContent()) ?? "", new RegExp(CLIQUE));
    await page.close();
  });

  test("the owner makes an invite; three people join through its page", async () => {
    const page = await open("alice", "/members");
    await assertAccessible(page, "members");
    await page.getByLabel(/^How many people can join with it/).fill("3");
    await page.getByRole("button", { name: "Create invite" }).click();
    const link = page.getByLabel("New invite link");
    await link.waitFor();
    const invite = /\/invite\/[A-Za-z0-9_-]+$/.exec(await link.inputValue())?.[0];
    assert.ok(invite, "the new invite's link is shown");
    made.invite = invite;
    await photograph(page, "members");
    await page.close();

    for (const who of ["dana", "erik", "finn"] as const) {
      const join = await open(who, invite);
      const text = await textOf(join);
      assert.ok(text.includes(CLIQUE), `the landing page names the Clique: ${text}`);
      assert.ok(text.includes(PEOPLE.alice.name), "and who invited");
      assert.match(text, /\d+ seats? left/);
      if (who === "dana") {
        await assertAccessible(join, "invite landing");
        await photograph(join, "invite");
      }
      await join.getByLabel("Username", { exact: true }).fill(who);
      await join.getByLabel("Display name", { exact: true }).fill(PEOPLE[who].name);
      await join.getByLabel("Password", { exact: true }).fill(PEOPLE[who].password);
      await join.getByLabel("Password again", { exact: true }).fill(PEOPLE[who].password);
      await join.getByRole("button", { name: "Join", exact: true }).click();
      await join.waitForURL(`${origin}/home`);
      await join.close();
    }
  });

  test("dana posts a photo with alt text to a circle: erik sees it live, finn and strangers never", async () => {
    // A circle with erik in it.
    const circles = await open("dana", "/circles");
    await circles.getByLabel("Name of the new circle").fill("Close family");
    await circles
      .getByRole("group", { name: "Who is in it" })
      .getByLabel(new RegExp(PEOPLE.erik.name))
      .check();
    await circles.getByRole("button", { name: "Create circle" }).click();
    const circle = circles.getByRole("region", { name: "Close family" });
    await circle.getByText(PEOPLE.erik.name).first().waitFor();
    await assertAccessible(circles, "circles");
    await photograph(circles, "circles");
    await circles.close();

    // erik is on his home feed, live.
    const erikHome = await open("erik", "/home");
    await erikHome.getByText(/^Live/).waitFor();

    const compose = await open("dana", "/compose");
    made.postText = `Grandma's garden in bloom ${Date.now()}`;
    await compose.getByLabel("What do you want to share?").fill(made.postText);
    await compose.getByLabel("Add photos or a video").setInputFiles({
      name: "garden.png",
      mimeType: "image/png",
      buffer: await scene([40, 160, 60]),
    });
    await compose
      .getByLabel("Describe this photo for people who can't see it")
      .fill("Red tulips by the old stone wall");
    await compose.getByText("Ready").first().waitFor({ timeout: 60_000 });
    await compose.getByRole("radio", { name: "A circle", exact: true }).check();
    await compose.getByLabel("Which circle?").selectOption({ label: "Close family (1 person)" });
    // Before sending, the page says in plain words who will see it.
    const summary = (await compose.locator("#compose-audience-summary").textContent()) ?? "";
    assert.match(summary, /Close family/);
    await assertAccessible(compose, "compose");
    await photograph(compose, "compose");
    await compose.getByRole("button", { name: "Post", exact: true }).click();
    await compose.waitForURL(/\/@dana\/[0-9a-f-]{36}$/);
    made.postId = compose.url().split("/").pop()!;
    await compose.close();

    // Live, without a reload.
    const arrived = erikHome.locator("article").filter({ hasText: made.postText });
    await arrived.waitFor({ timeout: 30_000 });
    const photo = arrived.getByRole("img", { name: "Red tulips by the old stone wall" });
    await photo.waitFor();
    made.photoUrl = new URL((await photo.getAttribute("src"))!, origin).href;
    const served = await (await visitor("erik")).request.get(made.photoUrl);
    assert.equal(served.status(), 200, "erik gets the photo");
    await photograph(erikHome, "home-live");
    await erikHome.close();

    // finn is a member, not in the circle.
    const finnHome = await open("finn", "/home");
    assert.ok(!(await textOf(finnHome)).includes(made.postText));
    const finnProfile = await open("finn", "/@dana");
    assert.ok(!(await textOf(finnProfile)).includes(made.postText));
    const finnPost = await open("finn", `/@dana/${made.postId}`);
    assert.match(await textOf(finnPost), /not found/i);
    assert.equal(
      (await (await visitor("finn")).request.get(made.photoUrl)).status(),
      404,
      "the photo's URL is not found for finn",
    );

    // An anonymous visitor.
    const anonymous = await (await visitor("anonymous")).request.get(
      `${origin}/@dana/${made.postId}`,
    );
    assert.equal(anonymous.status(), 404);
    assert.ok(!(await anonymous.text()).includes(made.postText));
    const anonymousProfile = await open("anonymous", "/@dana");
    assert.ok(!(await textOf(anonymousProfile)).includes(made.postText));
    assert.equal((await (await visitor("anonymous")).request.get(made.photoUrl)).status(), 404);
  });

  test("erik reports the post; a moderator removes it; it is gone for everyone", async () => {
    assert.ok(made.postId && made.photoUrl && made.postText);
    const post = await open("erik", `/@dana/${made.postId}`);
    await post.getByRole("button", { name: "Report", exact: true }).first().click();
    await post.getByLabel("What is wrong with this post?").fill("This should not be here");
    await post.getByRole("button", { name: "Send report" }).click();
    await post.getByText("Thank you: the moderators will look at it.").waitFor();
    await post.close();

    const queue = await open("alice", "/moderation");
    await queue.getByText("This should not be here").first().waitFor();
    await assertAccessible(queue, "moderation");
    await photograph(queue, "moderation");
    const report = queue.locator("li.report-card").filter({ hasText: "This should not be here" });
    await report.getByLabel(/^Reason/).fill("Shared outside the family by mistake");
    await report.getByRole("button", { name: "Remove post" }).click();
    await report.getByText("The post was removed.").waitFor();
    await queue.close();

    await eventually("the post to be gone for erik", async () => {
      const home = await open("erik", "/home");
      const gone = !(await textOf(home)).includes(made.postText!);
      await home.close();
      return gone;
    });
    const page = await (await visitor("erik")).request.get(`${origin}/@dana/${made.postId}`);
    assert.equal(page.status(), 404);
    assert.equal((await (await visitor("erik")).request.get(made.photoUrl)).status(), 404);
    const danaPost = await (await visitor("dana")).request.get(`${origin}/@dana/${made.postId}`);
    assert.equal(danaPost.status(), 404, "gone for its author too");
  });

  test("every main screen passes axe-core and fits a phone", async () => {
    // Something to look at: photos on dana's profile, posts in the feeds.
    await postAs("dana", "Sunday lunch at the lake house. Who brings dessert?", "clique", []);
    const garden = await postAs("dana", "The garden this summer", "public", [
      [46, 125, 50],
      [230, 180, 40],
      [40, 90, 170],
      [190, 60, 50],
    ]);
    await postAs("erik", "Back from the mountains: photos soon!", "clique", []);
    const screens: [Person | "anonymous", string, string][] = [
      ["anonymous", "/", "landing"],
      ["anonymous", "/signin", "signin"],
      ["dana", "/home", "home"],
      ["dana", "/clique", "clique"],
      ["dana", "/@dana", "profile"],
      ["dana", "/@dana?tab=photos", "profile-photos"],
      ["dana", "/people", "people"],
      ["dana", "/notifications", "notifications"],
      ["dana", "/settings", "settings"],
      ["anonymous", "/@dana", "profile-anonymous"],
      ["anonymous", `/@dana/${garden}`, "post-anonymous"],
      ["dana", `/@dana/${garden}`, "post"],
      ["dana", "/@dana?edit=1", "profile-editor"],
    ];
    for (const [who, where, name] of screens) {
      const page = await open(who, where);
      await assertAccessible(page, name);
      await photograph(page, name);
      await page.close();
    }
  });

  test("without JavaScript the pages still show their content (server-rendered first paint)", async () => {
    for (const [who, where, expected] of [
      ["anonymous", "/@dana", "The garden this summer"],
      ["dana", "/home", "Back from the mountains"],
      ["erik", "/clique", "Sunday lunch at the lake house"],
    ] as const) {
      const cookies = who === "anonymous" ? [] : await (await visitor(who)).cookies();
      const context = await browser.newContext({ javaScriptEnabled: false });
      await context.addCookies(cookies);
      const page = await context.newPage();
      await page.goto(`${origin}${where}`);
      assert.ok((await textOf(page)).includes(expected), `${where} as ${who} without JavaScript`);
      await context.close();
    }
  });

  test("pages carry a Content-Security-Policy whose fresh nonce is on every script", async () => {
    const nonces = new Set<string>();
    for (const where of ["/signin", "/@dana", "/"]) {
      const response = await fetch(`${origin}${where}`);
      assert.equal(response.status, 200, where);
      const policy = response.headers.get("content-security-policy") ?? "";
      const nonce = /'nonce-([A-Za-z0-9+/=]+)'/.exec(policy)?.[1];
      assert.ok(nonce, `${where}: a nonce in ${policy}`);
      assert.match(policy, /frame-ancestors 'none'/);
      assert.doesNotMatch(policy, /script-src[^;]*'unsafe-inline'/);
      nonces.add(nonce);
      const scripts = (await response.text()).match(/<script\b[^>]*>/g) ?? [];
      assert.ok(scripts.length > 0, `${where} has scripts`);
      for (const tag of scripts) assert.ok(tag.includes(`nonce="${nonce}"`), `${where}: ${tag}`);
    }
    assert.equal(nonces.size, 3, "a new nonce for each page");
  });

  test("first-load JavaScript of the main pages (printed, not asserted)", async () => {
    const rows: string[] = [];
    for (const [who, where] of [
      ["anonymous", "/@dana"],
      ["dana", "/@dana"],
      ["dana", "/home"],
      ["dana", "/compose"],
    ] as const) {
      const page = await (await visitor(who)).newPage();
      const scripts: Buffer[] = [];
      const elsewhere: string[] = [];
      page.on("request", (request) => {
        if (!request.url().startsWith(origin) && !request.url().startsWith("data:"))
          elsewhere.push(request.url());
      });
      page.on("response", async (response) => {
        if (response.request().resourceType() === "script")
          scripts.push(await response.body().catch(() => Buffer.alloc(0)));
      });
      await page.goto(`${origin}${where}`, { waitUntil: "networkidle" });
      assert.deepEqual(
        elsewhere,
        [],
        `${where} loads nothing from another site (no CDN, no fonts)`,
      );
      const raw = scripts.reduce((n, b) => n + b.length, 0);
      const gzipped = scripts.reduce((n, b) => n + gzipSync(b).length, 0);
      rows.push(
        `${where.padEnd(10)} as ${who.padEnd(9)} ${String(scripts.length).padStart(2)} scripts, ${(raw / 1024).toFixed(0).padStart(4)} KiB, ${(gzipped / 1024).toFixed(0).padStart(4)} KiB gzipped`,
      );
      await page.close();
    }
    console.log(`first-load JavaScript:\n${rows.join("\n")}`);
    assert.equal(rows.length, 4);
  });
});
