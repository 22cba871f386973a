/**
 * The example app (examples/embed-hono) as someone outside the monorepo runs
 * it (issue 14): copied to the temp dir, installed with npm from the packed
 * `@clique/core` tarball (no workspace links), type-checked with `strict`,
 * started with its own HTTP server and database. Its member follows a member
 * of a real Clique server process (by actor URL: `acct:` lookups need https)
 * and receives that member's posts, public and followers-only.
 */
import assert from "node:assert/strict";
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, afterEach, before, test } from "node:test";
import { promisify } from "node:util";
import { createTestDatabase, freePort, type TestDatabase } from "@clique/testing";
import { npmInstall, outsideNpm, packLibrary, repoVersion, TSC } from "./support/library.ts";
import { api, type Cleanup, eventually, type Site, startSite } from "./support/sites.ts";

const run = promisify(execFile);
const EXAMPLE = new URL("../examples/embed-hono/", import.meta.url).pathname;

const cleanup: Cleanup = [];
let real: Site;
let app: { origin: string; process: ChildProcess; output: () => string; token: string };

/** A call to the example's API as its member. */
async function example<T>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${app.origin}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${app.token}`,
      ...(body !== undefined ? { "content-type": "application/json" } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  assert.ok(response.ok, `${method} example${path}: ${response.status} ${text}`);
  return JSON.parse(text) as T;
}

/** Copies the example out of the repository and installs it from the tarballs. */
async function installExample(): Promise<string> {
  const packed = await packLibrary();
  const dir = await mkdtemp(join(tmpdir(), "clique-embed-hono-"));
  cleanup.push(() => rm(dir, { recursive: true, force: true }));
  await cp(EXAMPLE, dir, {
    recursive: true,
    filter: (path) => !/node_modules|package-lock\.json/.test(path),
  });
  const manifest = JSON.parse(await readFile(join(dir, "package.json"), "utf8")) as {
    dependencies: Record<string, string>;
  };
  // The example names the tarballs relative to the repository; here they are elsewhere.
  assert.match(manifest.dependencies["@clique/core"] ?? "", /^file:.*clique-core-.*\.tgz$/);
  manifest.dependencies["@clique/core"] = `file:${packed.core}`;
  // The host's choices, as the repository has them (and npm's cache holds them).
  for (const name of Object.keys(manifest.dependencies))
    if (!name.startsWith("@clique/")) manifest.dependencies[name] = repoVersion(name);
  await writeFile(join(dir, "package.json"), JSON.stringify(manifest, null, 2));
  await npmInstall(dir);
  return dir;
}

async function startExample(dir: string, databaseUrl: string) {
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, ["--disable-warning=ExperimentalWarning", "server.ts"], {
    cwd: dir,
    env: {
      ...outsideNpm(),
      DATABASE_URL: databaseUrl,
      PORT: String(port),
      ALLOW_PRIVATE_ADDRESS: "true",
      NODE_OPTIONS: "",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise((resolve) => child.once("exit", resolve));
  cleanup.unshift(async () => {
    if (child.exitCode === null) child.kill("SIGTERM");
    await exited;
  });
  await eventually(
    `the example to answer on ${origin}`,
    async () => {
      if (child.exitCode !== null) assert.fail(`the example exited:\n${output}`);
      return fetch(`${origin}/api/health`).then(
        (r) => r.ok,
        () => false,
      );
    },
    60_000,
  );
  return { origin, process: child, output: () => output };
}

before(async () => {
  let database: TestDatabase;
  let dir: string;
  [dir, database, real] = await Promise.all([
    installExample(),
    createTestDatabase(),
    startSite({ label: "real", owner: "bob", members: [], cleanup }),
  ]);
  cleanup.push(() => database.drop());
  // The example is the host's code, in TypeScript: it type-checks against the packed declarations.
  try {
    await run(process.execPath, [TSC, "-p", "tsconfig.json"], { cwd: dir, env: outsideNpm() });
  } catch (error) {
    const e = error as { stdout?: string; message: string };
    assert.fail(`tsc failed in the example:\n${e.stdout || e.message}`);
  }
  const started = await startExample(dir, database.url);
  const setup = await fetch(`${started.origin}/api/setup`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name: "Embedded", username: "ada", password: "a long passphrase" }),
  });
  assert.equal(setup.status, 201, await setup.clone().text());
  app = { ...started, token: ((await setup.json()) as { token: string }).token };
});

let failed = false;
afterEach((t) => {
  if ("passed" in t && !t.passed) failed = true;
});

after(async () => {
  // The two processes' logs explain a post that never came.
  if (failed || !app) {
    if (app) console.error(`example output:\n${app.output()}`);
    if (real) console.error(`real server output:\n${real.server.output()}`);
  }
  for (const step of cleanup) await step().catch((error: unknown) => console.error(error));
});

test("the example serves WebFinger and its member's actor through Fedify", async () => {
  const host = new URL(app.origin).host;
  const finger = await fetch(`${app.origin}/.well-known/webfinger?resource=acct:ada@${host}`);
  assert.equal(finger.status, 200);
  const jrd = (await finger.json()) as { subject: string; links: { rel: string; href: string }[] };
  assert.equal(jrd.subject, `acct:ada@${host}`);
  assert.equal(jrd.links.find((l) => l.rel === "self")?.href, `${app.origin}/users/ada`);
  const actor = await fetch(`${app.origin}/users/ada`, {
    headers: { accept: "application/activity+json" },
  });
  assert.equal(actor.status, 200);
  const person = (await actor.json()) as { type: string; preferredUsername: string; inbox: string };
  assert.equal(person.type, "Person");
  assert.equal(person.preferredUsername, "ada");
  assert.equal(person.inbox, `${app.origin}/users/ada/inbox`);
});

test("the example's member follows a member of a real Clique server and receives posts", async () => {
  const bob = `${real.origin}/users/bob`;
  const follow = await example<{ account: string; state: string }>("POST", "/api/me/follows", {
    actor: bob,
  });
  assert.equal(follow.account, `bob@${real.host}`);
  assert.equal(follow.state, "pending");
  // Members approve their followers: bob does, on the real server, and the Accept comes back.
  const adaAcct = `ada@${new URL(app.origin).host}`;
  const request = await eventually("ada's follow request to reach the real server", async () => {
    const requests = await api<{ id: string; acct: string }[]>(
      real,
      "bob",
      "GET",
      "/api/v1/follow_requests",
    );
    return requests.find((r) => r.acct === adaAcct);
  });
  await api(real, "bob", "POST", `/api/v1/follow_requests/${request.id}/authorize`);
  await eventually("the real server's Accept to reach the example", async () => {
    const r = await example<{ following: boolean }>(
      "GET",
      `/api/me/follows?actor=${encodeURIComponent(bob)}`,
    );
    return r.following;
  });
  const followers = await api<{ acct: string }[]>(
    real,
    "bob",
    "GET",
    `/api/v1/accounts/${real.ids.bob}/followers`,
  );
  assert.deepEqual(
    followers.map((f) => f.acct),
    [adaAcct],
  );

  const word = randomBytes(6).toString("hex");
  await api(real, "bob", "POST", "/api/v1/statuses", {
    status: `Open to all ${word}`,
    visibility: "public",
  });
  await api(real, "bob", "POST", "/api/v1/statuses", {
    status: `For followers ${word}`,
    visibility: "private",
  });
  const home = await eventually("both posts to reach the example", async () => {
    const feed = await example<{ author: string; audience: string; contentHtml: string }[]>(
      "GET",
      "/api/me/home",
    );
    return feed.filter((p) => p.contentHtml.includes(word)).length === 2 ? feed : null;
  });
  const received = home
    .filter((p) => p.contentHtml.includes(word))
    .map((p) => ({ author: p.author, audience: p.audience, text: p.contentHtml }))
    .sort((a, b) => a.audience.localeCompare(b.audience));
  assert.deepEqual(
    received.map((p) => [p.author, p.audience]),
    [
      [`bob@${real.host}`, "followers"],
      [`bob@${real.host}`, "public"],
    ],
  );
  assert.match(received[0]?.text ?? "", new RegExp(`For followers ${word}`));
  assert.match(received[1]?.text ?? "", new RegExp(`Open to all ${word}`));
});

test("a member of the real server follows the example's member and receives her post", async () => {
  const found = await api<{ accounts: { id: string; acct: string }[] }>(
    real,
    "bob",
    "GET",
    `/api/v2/search?q=${encodeURIComponent(`${app.origin}/users/ada`)}&resolve=true&type=accounts`,
  );
  const ada = found.accounts[0];
  assert.equal(ada?.acct, `ada@${new URL(app.origin).host}`, JSON.stringify(found));
  await api(real, "bob", "POST", `/api/v1/accounts/${ada.id}/follow`);
  // Ada approves bob in the example's own API.
  const request = await eventually("bob's follow request to reach the example", async () => {
    const requests = await example<{ id: string; account: string }[]>(
      "GET",
      "/api/me/follow-requests",
    );
    return requests.find((r) => r.account === `bob@${real.host}`);
  });
  await example("POST", `/api/me/follow-requests/${request.id}/authorize`);
  await eventually("the example's Accept to reach the real server", async () => {
    const [r] = await api<{ following: boolean }[]>(
      real,
      "bob",
      "GET",
      `/api/v1/accounts/relationships?id[]=${ada.id}`,
    );
    return r?.following;
  });
  const word = randomBytes(6).toString("hex");
  const post = await example<{ uri: string; audience: string }>("POST", "/api/me/posts", {
    text: `From the embedded app ${word}`,
    audience: "followers",
  });
  assert.equal(post.audience, "followers");
  const status = await eventually("the example's post to reach bob's home timeline", async () => {
    const timeline = await api<{ uri: string; content: string; visibility: string }[]>(
      real,
      "bob",
      "GET",
      "/api/v1/timelines/home",
    );
    return timeline.find((s) => s.content.includes(word));
  });
  assert.equal(status.uri, post.uri);
  assert.equal(status.visibility, "private");
  assert.match(status.content, new RegExp(`From the embedded app ${word}`));
});
