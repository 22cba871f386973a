/**
 * A real browser for the web interface's tests: Debian's Chromium driven by
 * playwright-core (never a downloaded browser), axe-core for accessibility,
 * and screenshots kept as test artifacts (`tests/artifacts/screenshots`).
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdir, readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Browser, BrowserContext, Page } from "playwright-core";

/** Where Chromium is: Debian's package, unless CHROMIUM_PATH says otherwise. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/** Where screenshots go. */
export const SCREENSHOTS = fileURLToPath(new URL("../artifacts/screenshots/", import.meta.url));

/** Widths every main screen is photographed at: a laptop and a phone. */
export const WIDTHS = { desktop: { width: 1280, height: 900 }, phone: { width: 390, height: 844 } };

/** Why the browser tests cannot run here, or null. On CI a missing Chromium is a failure, not a skip. */
export function browserMissing(): string | null {
  if (existsSync(CHROMIUM)) return null;
  const why = `Chromium not found at ${CHROMIUM}: install it (apt-get install chromium) or set CHROMIUM_PATH`;
  if (process.env.CI) assert.fail(why);
  return why;
}

/** Starts headless Chromium. */
export async function launchBrowser(): Promise<Browser> {
  const { chromium } = await import("playwright-core");
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox"] });
}

/** A fresh browser profile (its own cookies) at the desktop size. */
export async function newVisitor(browser: Browser): Promise<BrowserContext> {
  const context = await browser.newContext({ viewport: WIDTHS.desktop, locale: "en-GB" });
  const refused: string[] = [];
  refusals.set(context, refused);
  context.on("console", (message) => {
    if (message.type() === "error" && /Content Security Policy/.test(message.text()))
      refused.push(message.text());
  });
  return context;
}

/** What each visitor's pages were refused by the Content-Security-Policy (Chromium says so on the console). */
const refusals = new WeakMap<BrowserContext, string[]>();

let axeSource: string | undefined;

/** One axe-core finding of impact "serious" or "critical". */
export interface Violation {
  id: string;
  impact: string;
  help: string;
  targets: string[];
}

/** Runs axe-core on the page; returns the serious and critical violations. */
export async function seriousViolations(page: Page): Promise<Violation[]> {
  if (!axeSource) {
    const require = createRequire(import.meta.url);
    axeSource = await readFile(require.resolve("axe-core/axe.min.js"), "utf8");
  }
  // Evaluated through the browser's debugging protocol, which the pages'
  // Content-Security-Policy does not govern (a <script> tag would be refused).
  await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (...a: unknown[]) => Promise<unknown> } }).axe;
    const result = (await axe.run(document, { resultTypes: ["violations"] })) as {
      violations: {
        id: string;
        impact: string | null;
        help: string;
        nodes: { target: unknown[] }[];
      }[];
    };
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact ?? "unknown",
      help: v.help,
      targets: v.nodes.slice(0, 5).map((n) => JSON.stringify(n.target)),
    }));
  });
  return violations.filter((v) => v.impact === "serious" || v.impact === "critical");
}

/** Asserts the Content-Security-Policy refused nothing so far and axe-core finds nothing serious on the page. */
export async function assertAccessible(page: Page, screen: string): Promise<void> {
  assert.deepEqual(
    refusals.get(page.context()) ?? [],
    [],
    `${screen}: the Content-Security-Policy refused something the pages needed`,
  );
  const found = await seriousViolations(page);
  assert.deepEqual(
    found,
    [],
    `${screen}: axe-core found serious problems:\n${found.map((v) => `- ${v.id} (${v.impact}): ${v.help} at ${v.targets.join(", ")}`).join("\n")}`,
  );
}

/**
 * Saves the page at both widths (`<name>-desktop.png`, `<name>-phone.png`),
 * checks axe-core at the phone width too, and that nothing is wider than the
 * phone's screen.
 */
export async function photograph(page: Page, name: string): Promise<void> {
  await mkdir(SCREENSHOTS, { recursive: true });
  const before = page.viewportSize();
  for (const [label, size] of Object.entries(WIDTHS)) {
    await page.setViewportSize(size);
    // From the top: a sticky header would otherwise sit where the page was scrolled to.
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: path.join(SCREENSHOTS, `${name}-${label}.png`), fullPage: true });
    if (label === "phone") {
      const overflow = await page.evaluate(
        () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
      );
      assert.ok(overflow <= 1, `${name}: the page is ${overflow}px wider than a 390px phone`);
      // And the smallest phones in use.
      await page.setViewportSize({ width: 360, height: 740 });
      const narrow = await page.evaluate(
        () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
      );
      assert.ok(narrow <= 1, `${name}: the page is ${narrow}px wider than a 360px phone`);
      await page.setViewportSize(size);
      await assertAccessible(page, `${name} (phone)`);
    }
  }
  if (before) await page.setViewportSize(before);
}
