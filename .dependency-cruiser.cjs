/**
 * Package boundaries (STYLE.md, "Dependency direction"), checked by `npm run lint`:
 *
 *   web → nothing of ours (HTTP API only) server → core, moderation
 *   client → nothing of ours (HTTP API only)
 *   moderation → core                    core → nothing of ours
 *   testing → core (it starts the server as a process, never imports it)
 *
 * Unit tests (`*.test.ts`) may also use the test rig, `packages/testing`.
 * `tests/` (whole-system tests) may import anything.
 *
 * Workspace packages are imported by name (`@clique/core`) and resolve through the
 * node_modules symlink and their `exports` to `packages/<name>/src/...`, so every rule
 * below is written on real paths and also catches relative imports across packages.
 */

/** Paths of one or more of our packages, as a regular expression. */
const pkg = (...names) => `^packages/(${names.join("|")})/`;
const TEST_FILE = "\\.test\\.ts$";

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "core-imports-nothing-of-ours",
      comment:
        "packages/core is the reusable heart: it must not depend on moderation, server, testing, web or tests.",
      severity: "error",
      from: { path: pkg("core"), pathNot: TEST_FILE },
      to: { path: [pkg("moderation", "server", "testing", "web"), "^tests/"] },
    },
    {
      name: "core-tests-only-use-the-rig",
      comment: "Core's unit tests may use packages/testing, and nothing else of ours.",
      severity: "error",
      from: { path: `${pkg("core")}.*${TEST_FILE}` },
      to: { path: [pkg("moderation", "server", "web"), "^tests/"] },
    },
    {
      name: "moderation-only-uses-core",
      comment: "packages/moderation may depend on core only (and its tests on packages/testing).",
      severity: "error",
      from: { path: pkg("moderation"), pathNot: TEST_FILE },
      to: { path: [pkg("server", "testing", "web"), "^tests/"] },
    },
    {
      name: "moderation-tests-only-use-core-and-the-rig",
      severity: "error",
      from: { path: `${pkg("moderation")}.*${TEST_FILE}` },
      to: { path: [pkg("server", "web"), "^tests/"] },
    },
    {
      name: "server-uses-core-and-moderation",
      comment:
        "packages/server may depend on core and moderation; packages/testing only from *.test.ts.",
      severity: "error",
      from: { path: pkg("server"), pathNot: TEST_FILE },
      to: { path: [pkg("testing", "web"), "^tests/"] },
    },
    {
      name: "server-tests-stay-out-of-web-and-tests",
      severity: "error",
      from: { path: `${pkg("server")}.*${TEST_FILE}` },
      to: { path: [pkg("web"), "^tests/"] },
    },
    {
      name: "only-tests-and-web-import-server",
      comment:
        "Nothing but tests/ and packages/web may import packages/server (the test rig spawns it as a process).",
      severity: "error",
      from: { path: pkg("core", "moderation", "testing") },
      to: { path: pkg("server") },
    },
    {
      name: "testing-only-uses-core",
      comment:
        "packages/testing may depend on core only; it starts servers as processes, never imports them.",
      severity: "error",
      from: { path: pkg("testing") },
      to: { path: [pkg("moderation", "server", "web"), "^tests/"] },
    },
    {
      name: "web-reads-through-the-http-api",
      comment:
        "packages/web imports nothing of ours: every page reads and writes through the server's HTTP API, so the visibility module decides what it shows (docs/adr/0004).",
      severity: "error",
      from: { path: pkg("web") },
      to: { path: [pkg("core", "moderation", "testing", "server"), "^tests/"] },
    },
    {
      name: "client-speaks-http-only",
      comment:
        "packages/client (end-to-end encrypted chats, issue 15) imports nothing of ours: it talks to the server over HTTP and checks what it is told, in browsers and in Node.",
      severity: "error",
      from: { path: pkg("client") },
      to: { path: [pkg("core", "moderation", "testing", "server", "web"), "^tests/"] },
    },
    {
      name: "no-circular",
      comment: "Circular imports make load order matter and blur who depends on whom.",
      severity: "error",
      from: {},
      to: { circular: true },
    },
    {
      name: "not-to-unresolvable",
      comment:
        "An import that does not resolve would slip past every rule above; fix the import or the resolver options.",
      severity: "error",
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: ["(^|/)node_modules/", "(^|/)\\.clique/", "(^|/)dist/", "(^|/)\\.next"] },
    // Type-only imports count: they couple packages just the same.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: {
      exportsFields: ["exports"],
      conditionNames: ["import", "require", "node", "default", "types"],
      extensions: [".ts", ".tsx", ".mts", ".js", ".mjs", ".cjs", ".json", ".d.ts"],
      mainFields: ["module", "main", "types", "typings"],
    },
    cache: false,
    reporterOptions: { text: { highlightFocused: true } },
  },
};
