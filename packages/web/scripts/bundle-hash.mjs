#!/usr/bin/env node
/**
 * The web client's bundle hash (issue 15): one SHA-256 over every file a
 * browser can load from a build of the web interface (`<dist>/static/**`,
 * served at `/_next/static/…`), so that a member or an auditor can compare
 * what a server serves with a build of a release's sources.
 *
 * The canonical form: for each file, sorted by its URL path (code-unit order),
 * the line `<sha256 hex>  <path>\n` (the format of `sha256sum`); the bundle
 * hash is the SHA-256 of those lines. `scripts/build.mjs` writes the manifest
 * `<dist>/clique-bundle.json` after each build; the server publishes it at
 * `/.well-known/clique-web-bundle` and its hash in `/.well-known/clique-security`.
 *
 *     node scripts/bundle-hash.mjs [dist]        the hash of a build on disk (default: CLIQUE_WEB_DIST or .next)
 *     node scripts/bundle-hash.mjs --verify URL  fetches URL's manifest and every file it lists, and
 *                                                says whether the served bytes give the published hash
 *                                                (exit code 1 if not); with a dist too, also compares
 *                                                the served hash with that local build's
 */
import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";

const WEB_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
/** The manifest's name inside a build's directory. */
export const BUNDLE_MANIFEST = "clique-bundle.json";
/** Where the server publishes the manifest. */
export const BUNDLE_MANIFEST_PATH = "/.well-known/clique-web-bundle";
/** Where Next serves `<dist>/static`. */
const STATIC_PREFIX = "/_next/static/";

const sha256 = (bytes) => createHash("sha256").update(bytes).digest("hex");
const byPath = (a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);

/** The bundle hash of `files` (`{ path, sha256 }`), in the canonical form above. */
export function bundleHash(files) {
  const hash = createHash("sha256");
  for (const file of [...files].sort(byPath)) hash.update(`${file.sha256}  ${file.path}\n`);
  return hash.digest("hex");
}

async function* walk(dir) {
  const entries = await readdir(dir, { withFileTypes: true });
  for (const entry of entries) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(full);
    else if (entry.isFile()) yield full;
  }
}

/** The manifest of the build in `distDir`: every file under `static/`, by the path it is served at. */
export async function bundleManifest(distDir) {
  const staticDir = path.join(distDir, "static");
  const files = [];
  for await (const file of walk(staticDir)) {
    const bytes = await readFile(file);
    const relative = path.relative(staticDir, file).split(path.sep).join("/");
    files.push({ path: `${STATIC_PREFIX}${relative}`, sha256: sha256(bytes), size: bytes.length });
  }
  files.sort(byPath);
  const buildId = (await readFile(path.join(distDir, "BUILD_ID"), "utf8")).trim();
  return {
    version: 1,
    build_id: buildId,
    algorithm: "sha256",
    files,
    bundle_sha256: bundleHash(files),
  };
}

/**
 * Fetches `origin`'s published manifest and every file it lists; the hash of
 * the bytes served, and every file whose bytes differ from the manifest's.
 */
export async function verifyServed(origin) {
  const response = await fetch(new URL(BUNDLE_MANIFEST_PATH, origin));
  if (!response.ok) throw new Error(`${BUNDLE_MANIFEST_PATH} answered ${response.status}`);
  const manifest = await response.json();
  if (manifest.version !== 1 || !Array.isArray(manifest.files))
    throw new Error("the manifest is not a version 1 Clique bundle manifest");
  const served = [];
  const mismatched = [];
  for (const file of manifest.files) {
    if (typeof file.path !== "string" || !file.path.startsWith(STATIC_PREFIX))
      throw new Error(
        `the manifest lists ${JSON.stringify(file.path)}, not a ${STATIC_PREFIX} path`,
      );
    const answer = await fetch(new URL(file.path, origin));
    const bytes = answer.ok ? Buffer.from(await answer.arrayBuffer()) : Buffer.alloc(0);
    const entry = { path: file.path, sha256: answer.ok ? sha256(bytes) : `HTTP ${answer.status}` };
    served.push(entry);
    if (entry.sha256 !== file.sha256) mismatched.push(file.path);
  }
  const listed = new Set(served.map((f) => f.path));
  const complete = listed.size === served.length;
  return { manifest, servedHash: bundleHash(served), mismatched, complete };
}

async function main(args) {
  const verify = args.indexOf("--verify");
  const origin = verify >= 0 ? args[verify + 1] : undefined;
  if (verify >= 0 && !origin) throw new Error("--verify takes the server's origin (https://…)");
  const rest = args.filter((_, i) => verify < 0 || (i !== verify && i !== verify + 1));
  const dist = rest[0] ?? path.join(WEB_DIR, process.env.CLIQUE_WEB_DIST ?? ".next");

  if (!origin) {
    const manifest = await bundleManifest(path.resolve(dist));
    console.log(
      `${manifest.bundle_sha256}  (${manifest.files.length} files, build ${manifest.build_id})`,
    );
    return 0;
  }

  const { manifest, servedHash, mismatched, complete } = await verifyServed(origin);
  console.log(
    `published: ${manifest.bundle_sha256}  (${manifest.files.length} files, build ${manifest.build_id})`,
  );
  console.log(`served:    ${servedHash}`);
  let ok = complete && mismatched.length === 0 && servedHash === manifest.bundle_sha256;
  for (const file of mismatched) console.log(`  differs: ${file}`);
  if (!complete) console.log("  the manifest lists a path twice");
  if (rest[0]) {
    const local = await bundleManifest(path.resolve(dist));
    console.log(`local:     ${local.bundle_sha256}  (${dist})`);
    if (local.bundle_sha256 !== servedHash) ok = false;
  }
  console.log(ok ? "OK: the served files give the published hash." : "MISMATCH");
  return ok ? 0 : 1;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error) => {
      console.error(`bundle-hash: ${error.message}`);
      process.exit(2);
    },
  );
}
