/**
 * Real Clique servers for whole-system tests: each its own process and
 * database, optionally behind a TLS-terminating proxy on
 * `https://localhost:PORT` (Fedify resolves `acct:` handles over https only),
 * set up through the CLI as an operator would, with members who joined by
 * invite and hold API tokens. Nothing of the server is imported.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import {
  createTestDatabase,
  lastLine,
  runCli,
  runCliOk,
  type ServerProcess,
  startServerProcess,
  startTlsProxy,
  type TestCertificates,
  type TestDatabase,
} from "@clique/testing";

/** A server's answer: status, parsed JSON (or the text), and the text. */
export interface Answer<T = Json> {
  status: number;
  body: T;
  text: string;
}

export type Json = Record<string, unknown> & { id: string };

/** One Clique: its process, origin, database, environment (for the CLI), tokens and ids. */
export interface Site {
  label: string;
  /** Its public origin: the TLS proxy's, or the process's own. */
  origin: string;
  /** `host:port` of the origin: the host part of handles. */
  host: string;
  server: ServerProcess;
  db: TestDatabase;
  /** The environment the server runs with; the CLI uses the same. */
  env: Record<string, string | undefined>;
  tokens: Record<string, string>;
  /** Account ids of its members, by username. */
  ids: Record<string, string>;
  /** `fetch` as the test process should use it (trusting the test CA when behind TLS). */
  fetch: typeof fetch;
}

/** Everything to stop, newest first. */
export type Cleanup = (() => Promise<unknown>)[];

export const password = (name: string, label: string) => `password-of-${name}-${label}`;

/**
 * Starts a Clique: `clique init` with `owner`, members joining with one
 * invite, an API token each, then the server (`CLIQUE_DB_POOL=4`).
 */
export async function startSite(options: {
  label: string;
  owner: string;
  members: readonly string[];
  cleanup: Cleanup;
  /** Behind a TLS proxy with these certificates; plain http on loopback without. */
  tls?: { certs: TestCertificates; fetch: typeof fetch };
  cap?: number;
  env?: Record<string, string>;
}): Promise<Site> {
  const { label, owner, members, cleanup } = options;
  const db = await createTestDatabase();
  cleanup.unshift(() => db.drop());
  const dataDir = await mkdtemp(join(tmpdir(), `clique-${label}-`));
  cleanup.unshift(() => rm(dataDir, { recursive: true, force: true }));
  const proxy = options.tls
    ? await startTlsProxy({ cert: options.tls.certs.cert, key: options.tls.certs.key })
    : null;
  if (proxy) cleanup.unshift(() => proxy.close());
  const env: Record<string, string | undefined> = {
    ...process.env,
    DATABASE_URL: db.url,
    CLIQUE_DATA_DIR: dataDir,
    CLIQUE_DB_POOL: "4",
    CLIQUE_ALLOW_PRIVATE_ADDRESS: "true",
    ...(proxy
      ? { CLIQUE_ORIGIN: proxy.origin, NODE_EXTRA_CA_CERTS: options.tls!.certs.caPath }
      : {}),
    ...options.env,
  };
  await runCliOk(
    [
      "init",
      "--name",
      `Site ${label}`,
      "--owner",
      owner,
      "--password-stdin",
      ...(options.cap ? ["--cap", String(options.cap)] : []),
    ],
    { env, stdin: password(owner, label) },
  );
  const code = lastLine(await runCliOk(["invite", "create", "--by", owner], { env }));
  // One at a time: the machine has two cores, and each join hashes a password.
  for (const name of members)
    await runCliOk(["invite", "redeem", code, "--username", name, "--password-stdin"], {
      env,
      stdin: password(name, label),
    });
  const server = await startServerProcess({
    env,
    databaseUrl: db.url,
    dataDir,
    ...(proxy ? { origin: proxy.origin } : {}),
  });
  cleanup.unshift(() => server.stop());
  if (proxy) proxy.upstream = server.url;
  env.CLIQUE_ORIGIN = server.origin;
  const site: Site = {
    label,
    origin: server.origin,
    host: new URL(server.origin).host,
    server,
    db,
    env,
    tokens: {},
    ids: {},
    fetch: options.tls?.fetch ?? fetch,
  };
  for (const name of [owner, ...members]) {
    site.tokens[name] = lastLine(await runCliOk(["token", "create", name], { env }));
    site.ids[name] = (await api(site, name, "GET", "/api/v1/accounts/verify_credentials")).id;
  }
  return site;
}

/** A request as `user` (a member's token; `null`: anonymous). */
export async function request<T = Json>(
  site: Site,
  user: string | null,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Answer<T>> {
  const response = await site.fetch(`${site.origin}${path}`, {
    method,
    headers: {
      accept: "application/json",
      ...(user ? { authorization: `Bearer ${site.tokens[user]}` } : {}),
      ...(body !== undefined ? { "content-type": "application/json" } : {}),
      ...headers,
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Not JSON: the text is kept for the assertion message.
  }
  return { status: response.status, body: parsed as T, text };
}

/** A call that must succeed (2xx); its JSON. */
export async function api<T = Json>(
  site: Site,
  user: string | null,
  method: string,
  path: string,
  body?: unknown,
): Promise<T> {
  const r = await request<T>(site, user, method, path, body);
  assert.ok(
    r.status >= 200 && r.status < 300,
    `${method} ${site.label}${path} as ${user}: ${r.status} ${r.text}`,
  );
  return r.body;
}

/** Polls `probe` until it returns something truthy (no timing is asserted: only a limit). */
export async function eventually<T>(
  what: string,
  probe: () => Promise<T>,
  timeoutMs = 30_000,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    last = await probe();
    if (last) return last as NonNullable<T>;
    if (Date.now() > deadline)
      assert.fail(`Timed out after ${timeoutMs} ms waiting for ${what} (last: ${String(last)})`);
    await sleep(200);
  }
}

/** Runs the CLI against a site; its result (for refusals). */
export function cli(site: Site, args: readonly string[]) {
  return runCli(args, { env: site.env });
}

/** Runs the CLI against a site; its output, or a throw with everything it printed. */
export function cliOk(site: Site, args: readonly string[]) {
  return runCliOk(args, { env: site.env });
}

/** Runs every clean-up step, logging failures. */
export async function runCleanup(cleanup: Cleanup): Promise<void> {
  for (const step of cleanup)
    await step().catch((error: unknown) => console.error("clean-up failed:", error));
}
