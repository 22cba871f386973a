#!/usr/bin/env node
/**
 * Packs the publishable packages (`@clique/core`, `@clique/moderation`) as
 * npm would publish them: builds `dist/` with tsc (`tsc -b`, incremental), then
 * stages each package in a temporary directory with a manifest whose exports
 * point at `dist/` (the workspace's own manifests keep pointing at `src/*.ts`,
 * ADR 0001 and 0005), and runs `npm pack` there.
 *
 *   node scripts/pack-library.mjs [--out DIR] [--no-build]
 *
 * Prints one JSON line: `{ "core": "/abs/clique-core-0.1.0.tgz", "moderation": ... }`.
 * Default DIR: `.packed/` at the repository root (git-ignored).
 */
import { execFileSync } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";

const root = resolve(import.meta.dirname, "..");
const { values } = parseArgs({
  options: {
    out: { type: "string", default: join(root, ".packed") },
    "no-build": { type: "boolean", default: false },
  },
});
const out = resolve(values.out);

/** What the host application chooses (one Fedify, one Kysely, one pg in its tree). */
const PEERS = ["@fedify/fedify", "@fedify/vocab", "kysely", "pg"];
/** Peer ranges where the workspace pins an exact version. */
const PEER_RANGES = { "@fedify/fedify": "^2.3.6", "@fedify/vocab": "^2.3.6" };

const PACKAGES = [
  {
    key: "core",
    dir: "packages/core",
    exports: { ".": "index", "./kysely": "storage/kysely/index" },
  },
  { key: "moderation", dir: "packages/moderation", exports: { ".": "index" } },
];

if (!values["no-build"]) {
  // Builds core, then moderation against core's declarations (a project reference).
  const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
  execFileSync(process.execPath, [tsc, "-b", "packages/moderation/tsconfig.build.json"], {
    cwd: root,
    stdio: "inherit",
  });
}

const versions = Object.fromEntries(
  PACKAGES.map((p) => [p.key, readJson(join(root, p.dir, "package.json")).version]),
);
mkdirSync(out, { recursive: true });
const result = {};
for (const pkg of PACKAGES) {
  const source = join(root, pkg.dir);
  const dist = join(source, "dist");
  for (const file of Object.values(pkg.exports))
    for (const ext of [".js", ".d.ts"])
      if (!existsSync(join(dist, file + ext)))
        throw new Error(`${pkg.dir}/dist/${file}${ext} is missing: build first`);
  const stage = mkdtempSync(join(tmpdir(), `clique-stage-${pkg.key}-`));
  try {
    cpSync(dist, join(stage, "dist"), {
      recursive: true,
      filter: (path) => !path.endsWith(".tsbuildinfo"),
    });
    cpSync(join(root, "LICENSE"), join(stage, "LICENSE"));
    cpSync(join(root, "CHANGELOG.md"), join(stage, "CHANGELOG.md"));
    if (existsSync(join(source, "README.md")))
      cpSync(join(source, "README.md"), join(stage, "README.md"));
    const manifest = publishedManifest(readJson(join(source, "package.json")), pkg);
    writeFileSync(join(stage, "package.json"), `${JSON.stringify(manifest, null, 2)}\n`);
    const packed = JSON.parse(
      execFileSync("npm", ["pack", "--json", "--pack-destination", out], {
        cwd: stage,
        encoding: "utf8",
        stdio: ["ignore", "pipe", "inherit"],
      }),
    );
    result[pkg.key] = join(out, packed[0].filename);
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}
console.log(JSON.stringify(result));

/** The manifest as published: exports at `dist/`, the host's choices as peers, nothing private. */
function publishedManifest(workspace, pkg) {
  const dependencies = {};
  const peerDependencies = {};
  for (const [name, range] of Object.entries(workspace.dependencies ?? {})) {
    if (name.startsWith("@clique/")) {
      // Moderation works on the host's Clique: the same core, chosen by the host.
      peerDependencies[name] = `^${versions[name.slice("@clique/".length)]}`;
    } else if (PEERS.includes(name)) {
      peerDependencies[name] = PEER_RANGES[name] ?? range;
    } else {
      dependencies[name] = range;
    }
  }
  const exports = {};
  for (const [subpath, file] of Object.entries(pkg.exports)) {
    exports[subpath] = { types: `./dist/${file}.d.ts`, import: `./dist/${file}.js` };
  }
  return {
    name: workspace.name,
    version: workspace.version,
    description: workspace.description,
    license: "MIT",
    type: "module",
    engines: { node: ">=22" },
    sideEffects: false,
    exports,
    files: ["dist", "CHANGELOG.md"],
    dependencies,
    peerDependencies,
  };
}

function readJson(path) {
  return JSON.parse(readFileSync(path, "utf8"));
}
