/**
 * The embedded PostgreSQL as a self-hoster meets it: no DATABASE_URL, data in
 * CLIQUE_DATA_DIR, restarts (graceful or `kill -9`) that keep every post, and
 * several Cliques side by side on one machine.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  lastLine,
  type ProcessEnv,
  runCliOk,
  type ServerProcess,
  startServerProcess,
} from "@clique/testing";

const servers: ServerProcess[] = [];
const dirs: string[] = [];

after(async () => {
  // Servers first (they stop their PostgreSQL), then their data.
  for (const server of servers.reverse()) await server.stop().catch(console.error);
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

/** A fresh data directory and an environment without DATABASE_URL. */
async function embeddedEnv(): Promise<{ dataDir: string; env: ProcessEnv }> {
  const dataDir = await mkdtemp(join(tmpdir(), "clique-embedded-"));
  dirs.push(dataDir);
  const env: ProcessEnv = { ...process.env, CLIQUE_DATA_DIR: dataDir };
  delete env.DATABASE_URL;
  return { dataDir, env };
}

async function start(env: ProcessEnv, dataDir: string): Promise<ServerProcess> {
  const server = await startServerProcess({ env, dataDir });
  servers.push(server);
  return server;
}

/** PID in `postmaster.pid`, or undefined when there is none. */
function postmasterPid(dataDir: string): number | undefined {
  const file = join(dataDir, "postgres", "postmaster.pid");
  if (!existsSync(file)) return undefined;
  return Number.parseInt(readFileSync(file, "utf8"), 10);
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // Orphans nobody reaps linger as zombies: dead all the same.
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
}

async function api(server: ServerProcess, token: string, path: string, body?: unknown) {
  const response = await fetch(`${server.url}${path}`, {
    method: body === undefined ? "GET" : "POST",
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function postText(server: ServerProcess, token: string, text: string): Promise<string> {
  const reply = await api(server, token, "/api/v1/statuses", { status: text });
  assert.equal(reply.status, 200, JSON.stringify(reply.body));
  assert.equal(reply.body.content, `<p>${text}</p>`);
  return reply.body.id as string;
}

async function texts(server: ServerProcess, token: string): Promise<string[]> {
  const reply = await api(server, token, "/api/v1/timelines/home?limit=40");
  assert.equal(reply.status, 200, JSON.stringify(reply.body));
  return (reply.body as unknown as { content: string }[]).map((s) => s.content).reverse();
}

describe("one Clique on the embedded database", () => {
  let dataDir = "";
  let env: ProcessEnv;
  let token = "";
  let firstId = "";

  before(async () => {
    ({ dataDir, env } = await embeddedEnv());
  });

  test("first start creates the cluster; the CLI sets up the Clique beside the server", async () => {
    const server = await start(env, dataDir);
    assert.ok(postmasterPid(dataDir), "the server started PostgreSQL under the data dir");
    await runCliOk(["init", "--name", "Sturdy", "--owner", "alice", "--password-stdin"], {
      env,
      stdin: "alice-password-1",
    });
    token = lastLine(await runCliOk(["token", "create", "alice"], { env }));
    firstId = await postText(server, token, "Written before any restart");
  });

  test("a graceful stop stops PostgreSQL too; after a restart the post is there", async () => {
    const [running] = servers.slice(-1);
    const pgPid = postmasterPid(dataDir)!;
    const exit = await running!.stop("SIGTERM");
    assert.deepEqual(exit, { code: 0, signal: null }, running!.output());
    assert.ok(!isRunning(pgPid), "PostgreSQL stopped with the server");
    assert.equal(postmasterPid(dataDir), undefined, "no postmaster.pid left behind");

    const server = await start(env, dataDir);
    const read = await api(server, token, `/api/v1/statuses/${firstId}`);
    assert.equal(read.status, 200, JSON.stringify(read.body));
    assert.equal(read.body.content, "<p>Written before any restart</p>");
    await postText(server, token, "Written after a graceful restart");
  });

  test("SIGINT (Ctrl-C) stops it gracefully as well", async () => {
    const [running] = servers.slice(-1);
    const exit = await running!.stop("SIGINT");
    assert.deepEqual(exit, { code: 0, signal: null }, running!.output());
    assert.equal(postmasterPid(dataDir), undefined);
    await start(env, dataDir);
  });

  test("kill -9 of the server orphans PostgreSQL; the next start takes over cleanly", async () => {
    const [running] = servers.slice(-1);
    const orphan = postmasterPid(dataDir)!;
    await running!.kill9();
    assert.ok(isRunning(orphan), "PostgreSQL outlives a SIGKILLed server");

    const server = await start(env, dataDir);
    assert.ok(!isRunning(orphan), "the orphaned PostgreSQL was stopped");
    assert.notEqual(postmasterPid(dataDir), orphan);
    assert.deepEqual(await texts(server, token), [
      "<p>Written before any restart</p>",
      "<p>Written after a graceful restart</p>",
    ]);
    await postText(server, token, "Written after kill -9 of the server");
  });

  test("kill -9 of server and PostgreSQL leaves a stale postmaster.pid; the next start copes", async () => {
    const [running] = servers.slice(-1);
    const dead = postmasterPid(dataDir)!;
    await running!.kill9({ group: true });
    for (let i = 0; i < 100 && isRunning(dead); i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(!isRunning(dead), "PostgreSQL was killed too");
    assert.equal(postmasterPid(dataDir), dead, "its postmaster.pid is stale");

    const server = await start(env, dataDir);
    assert.deepEqual(await texts(server, token), [
      "<p>Written before any restart</p>",
      "<p>Written after a graceful restart</p>",
      "<p>Written after kill -9 of the server</p>",
    ]);
    // The token, the owner and the settings all survived with the posts.
    const me = await api(server, token, "/api/v1/accounts/verify_credentials");
    assert.equal(me.body.username, "alice");
    const instance = await api(server, token, "/api/v1/instance");
    assert.equal(instance.body.title, "Sturdy");
  });
});

describe("two Cliques side by side", () => {
  test("servers on different data dirs run at once, each with its own data", async () => {
    const first = await embeddedEnv();
    const second = await embeddedEnv();
    const [a, b] = await Promise.all([
      start(first.env, first.dataDir),
      start(second.env, second.dataDir),
    ]);
    assert.notEqual(a.port, b.port);
    assert.notEqual(postmasterPid(first.dataDir), postmasterPid(second.dataDir));

    const setUp = async (env: ProcessEnv, name: string, owner: string) => {
      await runCliOk(["init", "--name", name, "--owner", owner, "--password-stdin"], {
        env,
        stdin: `${owner}-password-1`,
      });
      return lastLine(await runCliOk(["token", "create", owner], { env }));
    };
    const [tokenA, tokenB] = await Promise.all([
      setUp(first.env, "Clique A", "anna"),
      setUp(second.env, "Clique B", "bert"),
    ]);
    await postText(a, tokenA, "Only in A");
    await postText(b, tokenB, "Only in B");

    assert.deepEqual(await texts(a, tokenA), ["<p>Only in A</p>"]);
    assert.deepEqual(await texts(b, tokenB), ["<p>Only in B</p>"]);
    assert.equal((await api(a, tokenB, "/api/v1/accounts/verify_credentials")).status, 401);
    const titles = await Promise.all(
      [a, b].map(
        async (s) =>
          ((await (await fetch(`${s.url}/api/v1/instance`)).json()) as { title: string }).title,
      ),
    );
    assert.deepEqual(titles, ["Clique A", "Clique B"]);

    // Stopping one leaves the other serving.
    assert.equal((await a.stop()).code, 0, a.output());
    assert.deepEqual(await texts(b, tokenB), ["<p>Only in B</p>"]);
    assert.equal((await b.stop()).code, 0, b.output());
  });
});
