#!/usr/bin/env node
/**
 * Builds the web interface with `next build`, or, with `--if-stale`, only when
 * its sources changed since the last build (`npm start` runs it that way).
 *
 * The build's fingerprint is a hash of every source file, the lockfile entries
 * that matter (Next's and React's versions) and this script; it is written to
 * `.next/clique-build-id` after a successful build. A lock directory keeps two
 * processes (two servers started at once, or turbo and a server) from building
 * at the same time: the second waits, then finds the build fresh.
 *
 * After a build it writes `<dist>/clique-bundle.json`, the hash of every file
 * a browser can load from it (scripts/bundle-hash.mjs), and prints the hash.
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdir, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { BUNDLE_MANIFEST, bundleManifest } from "./bundle-hash.mjs";

const WEB_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const OUT_DIR = path.join(WEB_DIR, process.env.CLIQUE_WEB_DIST ?? ".next");
const STAMP = path.join(OUT_DIR, "clique-build-id");
const LOCK = `${OUT_DIR}-build.lock`;
/** A lock older than this was left by a build that died. */
const STALE_LOCK_MS = 15 * 60_000;
// ../client/src: @clique/client's sources, which the pages import.
const SOURCES = ["app", "components", "lib", "public", "scripts", "../client/src"];
const FILES = ["package.json", "next.config.ts", "tsconfig.json"];

async function* walk(dir) {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return;
  }
  entries.sort((a, b) => a.name.localeCompare(b.name));
  for (const entry of entries) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(full);
    else if (entry.isFile()) yield full;
  }
}

/** The fingerprint of everything the build reads. */
export async function sourceFingerprint() {
  const hash = createHash("sha256");
  const files = [];
  for (const dir of SOURCES)
    for await (const file of walk(path.join(WEB_DIR, dir))) files.push(file);
  for (const file of FILES) files.push(path.join(WEB_DIR, file));
  for (const file of files) {
    hash.update(path.relative(WEB_DIR, file));
    hash.update("\0");
    hash.update(await readFile(file).catch(() => Buffer.alloc(0)));
    hash.update("\0");
  }
  const require = createRequire(path.join(WEB_DIR, "package.json"));
  for (const name of ["next", "react", "react-dom"]) {
    hash.update(`${name}@${require(`${name}/package.json`).version}\0`);
  }
  return hash.digest("hex");
}

async function builtFingerprint() {
  return (await readFile(STAMP, "utf8").catch(() => "")).trim();
}

async function takeLock() {
  for (;;) {
    try {
      await mkdir(LOCK);
      return;
    } catch (error) {
      if (error.code !== "EEXIST") throw error;
      const since = await stat(LOCK).then(
        (s) => Date.now() - s.mtimeMs,
        () => 0,
      );
      if (since > STALE_LOCK_MS) {
        await rm(LOCK, { recursive: true, force: true });
        continue;
      }
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
  }
}

/**
 * Runs `next build`. The build id is the sources' fingerprint rather than
 * Next's random one, so that web processes on several machines that build the
 * same sources serve the same build (docs/scaling.md).
 */
function runNextBuild(fingerprint) {
  const require = createRequire(path.join(WEB_DIR, "package.json"));
  const bin = path.join(path.dirname(require.resolve("next/package.json")), "dist/bin/next");
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, "build"], {
      cwd: WEB_DIR,
      stdio: ["ignore", "inherit", "inherit"],
      env: {
        ...process.env,
        NEXT_TELEMETRY_DISABLED: "1",
        CLIQUE_BUILD_ID: fingerprint.slice(0, 20),
      },
    });
    child.once("error", reject);
    child.once("exit", (code) =>
      code === 0 ? resolve() : reject(new Error(`next build exited with ${code}`)),
    );
  });
}

async function main() {
  const ifStale = process.argv.includes("--if-stale");
  const wanted = await sourceFingerprint();
  if (ifStale && (await builtFingerprint()) === wanted) return;
  await takeLock();
  try {
    // Someone else may have built it while this process waited.
    if (ifStale && (await builtFingerprint()) === wanted) return;
    console.log("Building the web interface (next build); this takes a minute the first time…");
    const started = Date.now();
    await rm(STAMP, { force: true });
    await runNextBuild(wanted);
    const manifest = await bundleManifest(OUT_DIR);
    await writeFile(path.join(OUT_DIR, BUNDLE_MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
    await writeFile(STAMP, `${wanted}\n`);
    console.log(`Web interface built in ${Math.round((Date.now() - started) / 1000)} s.`);
    console.log(
      `Web bundle sha256 ${manifest.bundle_sha256} (${manifest.files.length} files; ${path.relative(WEB_DIR, OUT_DIR)}/${BUNDLE_MANIFEST}).`,
    );
  } finally {
    await rm(LOCK, { recursive: true, force: true });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error) => {
    console.error(`Could not build the web interface: ${error.message}`);
    process.exit(1);
  });
}
