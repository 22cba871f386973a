/**
 * The published packages as an outside project gets them: `@clique/core` and
 * `@clique/moderation` packed by `scripts/pack-library.mjs` (dist/ built by
 * tsc, the publish-time manifests), installed with npm into a directory under
 * the system's temp dir, far from the repository's node_modules.
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { mkdtemp, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { basename, join, relative } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);
const ROOT = new URL("../../", import.meta.url).pathname;
const require = createRequire(import.meta.url);

/** The packed tarballs (absolute paths). */
export interface PackedLibrary {
  core: string;
  moderation: string;
}

/** Everything the tarballs are made of: a change to any of it packs again. */
function packInputs(): string[] {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (!name.endsWith(".test.ts")) files.push(path);
    }
  };
  for (const pkg of ["core", "moderation"]) {
    walk(join(ROOT, "packages", pkg, "src"));
    for (const name of ["package.json", "tsconfig.build.json", "README.md"]) {
      const path = join(ROOT, "packages", pkg, name);
      if (existsSync(path)) files.push(path);
    }
  }
  for (const name of ["LICENSE", "CHANGELOG.md", "tsconfig.base.json", "scripts/pack-library.mjs"])
    files.push(join(ROOT, name));
  return files.sort();
}

/**
 * Packs core and moderation, once per content: the tarballs are kept in the
 * temp dir under a hash of their sources, so the test files that need them
 * (and reruns) pack once.
 */
export async function packLibrary(): Promise<PackedLibrary> {
  const hash = createHash("sha256");
  for (const file of packInputs()) {
    hash.update(relative(ROOT, file));
    hash.update(readFileSync(file));
  }
  const dir = join(tmpdir(), `clique-packed-${hash.digest("hex").slice(0, 16)}`);
  const manifest = join(dir, "packed.json");
  if (existsSync(manifest)) return JSON.parse(await readFile(manifest, "utf8")) as PackedLibrary;
  const staging = await mkdtemp(join(tmpdir(), "clique-packing-"));
  try {
    const { stdout } = await run(
      process.execPath,
      [join(ROOT, "scripts/pack-library.mjs"), "--out", staging],
      { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 },
    );
    const packed = JSON.parse(stdout.trim().split("\n").at(-1) ?? "{}") as PackedLibrary;
    const result: PackedLibrary = {
      core: join(dir, basename(packed.core)),
      moderation: join(dir, basename(packed.moderation)),
    };
    await writeFile(join(staging, "packed.json"), JSON.stringify(result));
    // Another process may have finished the same pack meanwhile: either copy will do.
    await rename(staging, dir).catch(() => rm(staging, { recursive: true, force: true }));
    await removeStalePacks(dir);
    return result;
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
}

/** Packs of older sources, left by earlier runs: gone after a day. */
async function removeStalePacks(keep: string): Promise<void> {
  const dayAgo = Date.now() - 24 * 60 * 60 * 1000;
  for (const name of readdirSync(tmpdir())) {
    const path = join(tmpdir(), name);
    if (!name.startsWith("clique-packed-") || path === keep) continue;
    const stale = await stat(path).then(
      (s) => s.mtimeMs < dayAgo,
      () => false,
    );
    if (stale) await rm(path, { recursive: true, force: true });
  }
}

/** The version of a package installed in the repository (so that installs come from npm's cache). */
export function repoVersion(name: string): string {
  // Read from the hoisted install: some packages' `exports` hide their package.json.
  const path = join(ROOT, "node_modules", name, "package.json");
  return (JSON.parse(readFileSync(path, "utf8")) as { version: string }).version;
}

/**
 * `npm install`s into `dir` (which has a package.json), preferring npm's
 * cache to the registry. The peers are named with the repository's versions:
 * the host chooses them, and these are the ones the cache holds.
 */
export async function npmInstall(dir: string, specs: readonly string[] = []): Promise<void> {
  try {
    await run(
      "npm",
      ["install", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error", ...specs],
      { cwd: dir, maxBuffer: 16 * 1024 * 1024, env: outsideNpm() },
    );
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    throw new Error(`npm install in ${dir} failed: ${e.stderr ?? e.message}`);
  }
}

/**
 * This process's environment without what a surrounding `npm run` or `npm test`
 * put in it (`npm_config_*`, `npm_package_*`): the install must not think it
 * runs in the repository's workspace.
 */
export function outsideNpm(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env))
    if (!key.toLowerCase().startsWith("npm_") && key !== "INIT_CWD") env[key] = value;
  env.npm_config_update_notifier = "false";
  return env;
}

/** The peers a host installs next to the packages, pinned to the repository's versions. */
export function peerSpecs(): string[] {
  return ["@fedify/fedify", "@fedify/vocab", "kysely", "pg"].map(
    (name) => `${name}@${repoVersion(name)}`,
  );
}

/** The repository's TypeScript compiler (a path to run with `node`). */
export const TSC = require.resolve("typescript/bin/tsc", { paths: [ROOT] });
