/**
 * The web client's integrity (issue 15), against a real server process that
 * serves a real build of the web interface:
 *
 * - every script and stylesheet a page names (signed out, signed in, and a
 *   page that is not found) carries `integrity` (Next's subresource
 *   integrity, completed by the server: packages/server/src/http/web-integrity.ts),
 *   whose value is the SHA-256 of the bytes the server serves for it; each is
 *   a file of the published bundle manifest, with those bytes;
 * - the bundle hash recomputed here from the bytes served equals the
 *   manifest's (`/.well-known/clique-web-bundle`), the one
 *   `/.well-known/clique-security` names, and the one of the build on disk;
 * - `npm run web:bundle-hash -- --verify <origin>` says OK for this server
 *   and MISMATCH (exit code 1) behind a proxy that changes one byte of one file.
 *
 * Skipped, with the reason, when the web interface is not built
 * (`npm run build`, or `CLIQUE_WEB_DIST` naming a build).
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { createServer, get, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";
import { stopEmbeddedTestServer } from "@clique/testing";
import { type Cleanup, password, runCleanup, type Site, startSite } from "./support/sites.ts";

const WEB_DIR = fileURLToPath(new URL("../packages/web/", import.meta.url));
const DIST = path.join(WEB_DIR, process.env.CLIQUE_WEB_DIST ?? ".next");
const BUNDLE_SCRIPT = path.join(WEB_DIR, "scripts", "bundle-hash.mjs");
const skip = existsSync(path.join(DIST, "BUILD_ID"))
  ? false
  : `the web interface is not built in ${DIST} (run npm run build)`;

interface Manifest {
  version: number;
  build_id: string;
  algorithm: string;
  files: { path: string; sha256: string; size: number }[];
  bundle_sha256: string;
}

const cleanup: Cleanup = [];
let site: Site;
let cookie: string;
let manifest: Manifest;
/** The bytes the server serves for each path, fetched once. */
const served = new Map<string, Buffer>();

const hex = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");
const base64 = (bytes: Buffer) => createHash("sha256").update(bytes).digest("base64");

/** The canonical bundle hash: SHA-256 over `<sha256>  <path>\n`, sorted by path (code units). */
function bundleHash(files: readonly { path: string; sha256: string }[]): string {
  const lines = [...files]
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
    .map((f) => `${f.sha256}  ${f.path}\n`)
    .join("");
  return createHash("sha256").update(lines).digest("hex");
}

async function fetchBytes(pathname: string): Promise<Buffer> {
  const cached = served.get(pathname);
  if (cached) return cached;
  const response = await fetch(`${site.origin}${pathname}`);
  assert.equal(response.status, 200, `GET ${pathname}`);
  const bytes = Buffer.from(await response.arrayBuffer());
  served.set(pathname, bytes);
  return bytes;
}

/** A subresource a page names: a script, a preloaded script or a stylesheet. */
interface Subresource {
  tag: string;
  src: string;
  integrity: string | undefined;
}

function attribute(tag: string, name: string): string | undefined {
  return new RegExp(`\\s${name}="([^"]*)"`, "i").exec(tag)?.[1]?.replaceAll("&amp;", "&");
}

/** Every `<script src>`, stylesheet `<link>` and script preload of an HTML page. */
function subresources(html: string): Subresource[] {
  const found: Subresource[] = [];
  for (const [tag] of html.matchAll(/<script\b[^>]*>/gi)) {
    const src = attribute(tag, "src");
    if (src) found.push({ tag, src, integrity: attribute(tag, "integrity") });
  }
  for (const [tag] of html.matchAll(/<link\b[^>]*>/gi)) {
    const rel = attribute(tag, "rel");
    const as = attribute(tag, "as");
    const href = attribute(tag, "href");
    if (!href) continue;
    if (rel === "stylesheet" || (rel === "preload" && as === "script") || rel === "modulepreload")
      found.push({ tag, src: href, integrity: attribute(tag, "integrity") });
  }
  return found;
}

async function page(pathname: string, withCookie: boolean, status = 200): Promise<string> {
  const response = await fetch(`${site.origin}${pathname}`, {
    headers: { accept: "text/html", ...(withCookie ? { cookie } : {}) },
  });
  const html = await response.text();
  assert.equal(response.status, status, `GET ${pathname}: ${html.slice(0, 300)}`);
  assert.match(response.headers.get("content-type") ?? "", /text\/html/);
  return html;
}

/** Runs scripts/bundle-hash.mjs; its exit code and output. */
function bundleScript(args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BUNDLE_SCRIPT, ...args], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.once("error", reject);
    child.once("exit", (code) => resolve({ code, output }));
  });
}

describe("the web client's integrity", { skip }, () => {
  before(async () => {
    site = await startSite({ label: "integrity", owner: "alice", members: ["bob"], cleanup });
    const signIn = await fetch(`${site.origin}/api/v1/clique/sessions`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: site.origin },
      body: JSON.stringify({ username: "bob", password: password("bob", "integrity") }),
    });
    assert.equal(signIn.status, 200, await signIn.text());
    cookie = /clique_session=[^;]+/.exec(signIn.headers.get("set-cookie") ?? "")?.[0] ?? "";
    assert.ok(cookie, "the sign-in set a session cookie");
    const answer = await fetch(`${site.origin}/.well-known/clique-web-bundle`);
    assert.equal(answer.status, 200);
    assert.match(answer.headers.get("content-type") ?? "", /application\/json/);
    manifest = (await answer.json()) as Manifest;
  });

  after(async () => {
    await runCleanup(cleanup);
    await stopEmbeddedTestServer();
  });

  test("the served manifest is the build's, and its files are what the server serves", async () => {
    assert.equal(manifest.version, 1);
    assert.equal(manifest.algorithm, "sha256");
    assert.equal(manifest.build_id, (await readFile(path.join(DIST, "BUILD_ID"), "utf8")).trim());
    const onDisk = JSON.parse(
      await readFile(path.join(DIST, "clique-bundle.json"), "utf8"),
    ) as Manifest;
    assert.deepEqual(manifest, onDisk);
    assert.ok(
      manifest.files.some((f) => f.path.endsWith(".js")) &&
        manifest.files.some((f) => f.path.endsWith(".css")),
      "the manifest lists the build's scripts and stylesheets",
    );

    const recomputed: { path: string; sha256: string }[] = [];
    for (const file of manifest.files) {
      assert.match(file.path, /^\/_next\/static\//);
      const bytes = await fetchBytes(file.path);
      assert.equal(bytes.length, file.size, `size of ${file.path}`);
      assert.equal(hex(bytes), file.sha256, `sha256 of ${file.path}`);
      recomputed.push({ path: file.path, sha256: hex(bytes) });
    }
    assert.equal(bundleHash(recomputed), manifest.bundle_sha256);

    const policy = (await (
      await fetch(`${site.origin}/.well-known/clique-security`)
    ).json()) as Record<string, unknown>;
    assert.deepEqual(policy.web_client, {
      bundle_sha256: manifest.bundle_sha256,
      build_id: manifest.build_id,
      manifest: "/.well-known/clique-web-bundle",
      integrity: "sha256",
    });
  });

  for (const [pathname, signedIn, status] of [
    ["/signin", false, 200],
    ["/", false, 200],
    ["/home", true, 200],
    ["/members", true, 200],
    ["/@alice", true, 200],
    ["/@nobody", false, 404],
  ] as const) {
    test(`${pathname} (${signedIn ? "signed in" : "signed out"}): every script and stylesheet carries the integrity of the bytes served, and is a file of the manifest`, async () => {
      const html = await page(pathname, signedIn, status);
      const found = subresources(html);
      const listed = new Map(manifest.files.map((f) => [f.path, f.sha256]));
      assert.ok(
        found.some((r) => /\/turbopack-[^/]*\.js$/.test(r.src)) &&
          // Next's not-found page has no stylesheet of its own.
          (status === 404 ||
            found.some((r) => r.tag.startsWith("<link") && r.src.endsWith(".css"))),
        `${pathname} names the runtime script and a stylesheet: ${found.map((r) => r.src)}`,
      );
      for (const resource of found) {
        const url = new URL(resource.src, site.origin);
        assert.equal(url.origin, site.origin, `${resource.tag}: same origin`);
        assert.ok(listed.has(url.pathname), `${resource.tag}: a file of the bundle manifest`);
        const bytes = await fetchBytes(url.pathname);
        assert.equal(hex(bytes), listed.get(url.pathname), `${url.pathname}: the manifest's bytes`);
        assert.equal(resource.integrity, `sha256-${base64(bytes)}`, `integrity of ${resource.tag}`);
      }
    });
  }

  test("a page sent gzipped carries the same integrity attributes, compressed once", async () => {
    // node:http, not fetch: fetch would decompress the body.
    const { headers, body } = await new Promise<{ headers: IncomingHttpHeaders; body: Buffer }>(
      (resolve, reject) => {
        get(
          `${site.origin}/signin`,
          { headers: { accept: "text/html", "accept-encoding": "gzip" } },
          (response) => {
            const chunks: Buffer[] = [];
            response.on("data", (chunk: Buffer) => chunks.push(chunk));
            response.on("end", () =>
              resolve({ headers: response.headers, body: Buffer.concat(chunks) }),
            );
            response.on("error", reject);
          },
        ).on("error", reject);
      },
    );
    assert.equal(headers["content-encoding"], "gzip");
    const html = gunzipSync(body).toString("utf8");
    assert.match(html, /^<!DOCTYPE html>/i, "the body is gzip of the HTML, compressed once");
    const named = (text: string) => subresources(text).map((r) => `${r.src} ${r.integrity}`);
    assert.ok(subresources(html).every((r) => r.integrity?.startsWith("sha256-")));
    assert.deepEqual(named(html), named(await page("/signin", false)));
  });

  test("bundle-hash.mjs --verify: OK for the server, MISMATCH behind a proxy that changes one file", async () => {
    const ok = await bundleScript(["--verify", site.origin, DIST]);
    assert.equal(ok.code, 0, ok.output);
    assert.match(ok.output, new RegExp(`published: ${manifest.bundle_sha256}`));
    assert.match(ok.output, /^OK: /m);

    // A real HTTP server in front of the site that flips one byte of one script.
    const target = manifest.files.find((f) => f.path.endsWith(".js"));
    assert.ok(target);
    const proxy: Server = createServer(async (request, response) => {
      const upstream = await fetch(`${site.origin}${request.url}`);
      const body = Buffer.from(await upstream.arrayBuffer());
      if (request.url === target.path) body[0] = (body[0] ?? 0) ^ 1;
      response.writeHead(upstream.status, {
        "content-type": upstream.headers.get("content-type") ?? "application/octet-stream",
      });
      response.end(body);
    });
    await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
    cleanup.unshift(() => new Promise((resolve) => proxy.close(resolve)));
    const port = (proxy.address() as AddressInfo).port;
    const tampered = await bundleScript(["--verify", `http://127.0.0.1:${port}`]);
    assert.equal(tampered.code, 1, tampered.output);
    assert.match(tampered.output, new RegExp(`differs: ${target.path.replaceAll(".", "\\.")}`));
    assert.match(tampered.output, /^MISMATCH$/m);
  });
});
