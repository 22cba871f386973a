/**
 * The `clique` command line as an operator uses it: real processes, real
 * exit codes, output read the way scripts read it (codes and tokens alone on
 * the last line). Also against the embedded database while the server runs.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import {
  createTestDatabase,
  freePort,
  lastLine,
  type ProcessEnv,
  runCli,
  runCliOk,
  type ServerProcess,
  startServerProcess,
  stopEmbeddedTestServer,
  type TestDatabase,
} from "@clique/testing";

const ORIGIN = "https://cli.clique.test";
/** The monorepo's root, where the default data directory lives. */
const REPO_ROOT = fileURLToPath(new URL("..", import.meta.url)).replace(/\/$/, "");
const ALICE_PASSWORD = "alice-password-1";

const cleanups: (() => Promise<unknown>)[] = [];

after(async () => {
  // Last registered, first cleaned: servers stop before their databases go.
  for (const cleanup of cleanups.reverse()) await cleanup().catch(console.error);
  await stopEmbeddedTestServer();
});

async function startServer(options: Parameters<typeof startServerProcess>[0]) {
  const server = await startServerProcess(options);
  cleanups.push(() => server.stop());
  return server;
}

async function signIn(server: ServerProcess, username: string, password: string) {
  const response = await fetch(`${server.url}/api/v1/clique/sessions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username, password }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function whoIs(server: ServerProcess, token: string) {
  const response = await fetch(`${server.url}/api/v1/accounts/verify_credentials`, {
    headers: { authorization: `Bearer ${token}` },
  });
  const body = (await response.json()) as { username?: string };
  return { status: response.status, username: body.username };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Asserts a refusal: non-zero exit, the reason on stderr, nothing half-said on stdout. */
function assertRefused(result: { code: number | null; stderr: string }, message: RegExp) {
  assert.equal(result.code, 1, `exit code; stderr: ${result.stderr}`);
  assert.match(result.stderr, message);
  assert.match(result.stderr, /^error: /m);
}

describe("with DATABASE_URL set (a fresh test database)", () => {
  let db: TestDatabase;
  let env: ProcessEnv;
  let server: ServerProcess;
  let code = "";

  before(async () => {
    db = await createTestDatabase();
    cleanups.push(() => db.drop());
    env = { ...process.env, DATABASE_URL: db.url, CLIQUE_ORIGIN: ORIGIN };
    // The default data directory (unused with DATABASE_URL, and never written to here).
    delete env.CLIQUE_DATA_DIR;
    // Running from the start: the CLI is used beside a live server, before and after init.
    server = await startServer({ env, databaseUrl: db.url });
  });

  test("init with --password-stdin creates the Clique and its owner", async () => {
    const result = await runCli(
      ["init", "--name", "Tea Club", "--owner", "alice", "--cap", "3", "--password-stdin"],
      { env, stdin: `${ALICE_PASSWORD}\n` },
    );
    assert.equal(result.code, 0, result.stderr);
    // Which data it uses comes first, and never with a password.
    const database = new URL(db.url);
    assert.equal(
      result.stdout.split("\n")[0],
      `Using data directory ${REPO_ROOT}/.clique; database ${database.host}${database.pathname} from DATABASE_URL.`,
    );
    assert.match(result.stdout, /Created "Tea Club" \(cap 3\) at https:\/\/cli\.clique\.test/);
    assert.match(result.stdout, /Owner: @alice/);
    assert.doesNotMatch(result.stdout, /password/i, "no password printed when one was given");
  });

  test("a second init is refused and changes nothing", async () => {
    const result = await runCli(["init", "--name", "Coffee Club", "--owner", "mallory"], { env });
    assertRefused(result, /already (initiali[sz]ed|set up)/i);
    assert.doesNotMatch(result.stdout, /One-time password/);
    const members = await runCliOk(["member", "list"], { env });
    assert.doesNotMatch(members, /mallory/);
  });

  test("invite create prints the URL, then the code alone on the last line", async () => {
    const stdout = await runCliOk(["invite", "create", "--by", "alice", "--max-uses", "1"], {
      env,
    });
    const lines = stdout.trimEnd().split("\n");
    assert.equal(lines.length, 3, stdout);
    assert.match(lines[0]!, /^Invite [0-9a-f-]{36}: 1 use\(s\), expires \d{4}-\d\d-\d\dT/);
    code = lastLine(stdout);
    assert.ok(stdout.endsWith(`\n${code}\n`), "alone on the last line");
    assert.match(code, /^[A-Za-z0-9_-]{16,}$/);
    const url = new URL(lines[1]!);
    assert.equal(url.origin, ORIGIN);
    assert.ok(lines[1]!.includes(code), "the URL carries the code");

    const listed = await runCliOk(["invite", "list"], { env });
    assert.match(listed, new RegExp(`${code.slice(0, 4)}…\\s+active\\s+uses 0/1`));
  });

  test("invite create refuses unknown members and bad options", async () => {
    assertRefused(await runCli(["invite", "create", "--by", "nobody"], { env }), /no member/);
    const badDuration = await runCli(
      ["invite", "create", "--by", "alice", "--expires-in", "soon"],
      { env },
    );
    assert.notEqual(badDuration.code, 0);
    assert.match(badDuration.stderr, /duration like 30m/);
    const tooShort = await runCli(["invite", "create", "--by", "alice", "--expires-in", "10s"], {
      env,
    });
    assertRefused(tooShort, /between one minute and one year/);
  });

  test("redeem rejects an invalid username, a bad code, then accepts", async () => {
    const refusals: [string, string, string, RegExp][] = [
      [
        code,
        "no spaces!",
        "bob-password-22",
        /Usernames are 1 to 30 letters, digits or underscores/,
      ],
      [code, "admin", "bob-password-22", /That username is reserved/],
      [code, "bob", "short", /Passwords need at least 10 characters/],
      ["not-a-real-code", "bob", "bob-password-22", /This invite code is not valid/],
    ];
    // Independent refusals run side by side: each is a whole Node process.
    const results = await Promise.all(
      refusals.map(([c, username, stdin]) =>
        runCli(["invite", "redeem", c, "--username", username, "--password-stdin"], {
          env,
          stdin,
        }),
      ),
    );
    refusals.forEach(([, username, , message], i) => {
      assertRefused(results[i]!, message);
      assert.doesNotMatch(results[i]!.stdout, /Welcome/, username);
    });

    const ok = await runCli(["invite", "redeem", code, "--username", "bob", "--password-stdin"], {
      env,
      stdin: "bob-password-22\n",
    });
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /Welcome, @bob!/);
  });

  test("a used-up invite is refused", async () => {
    const result = await runCli(
      ["invite", "redeem", code, "--username", "carol", "--password-stdin"],
      { env, stdin: "carol-password-3" },
    );
    assertRefused(result, /used up/);
    const listed = await runCliOk(["invite", "list"], { env });
    assert.match(listed, /uses 1\/1/);
  });

  test("a revoked invite is refused", async () => {
    const created = await runCliOk(["invite", "create", "--by", "alice"], { env });
    const id = /^Invite ([0-9a-f-]{36})/.exec(created)![1]!;
    assert.match(await runCliOk(["invite", "revoke", id, "--by", "alice"], { env }), /Revoked/);
    const result = await runCli(
      ["invite", "redeem", lastLine(created), "--username", "carol", "--password-stdin"],
      { env, stdin: "carol-password-3" },
    );
    assertRefused(result, /revoked/);
    assertRefused(
      await runCli(["invite", "revoke", "not-an-id", "--by", "alice"], { env }),
      /not found/,
    );
  });

  test("member list shows members, roles and seats", async () => {
    const stdout = await runCliOk(["member", "list"], { env });
    assert.match(stdout, /^alice\s+owner\s+active\s+joined \d{4}-\d\d-\d\d$/m);
    assert.match(stdout, /^bob\s+member\s+active\s+joined \d{4}-\d\d-\d\d$/m);
    assert.match(lastLine(stdout), /^2 of 3 seats taken\.$/);
  });

  test("token create prints a token alone on the last line that works against the server", async () => {
    const stdout = await runCliOk(["token", "create", "bob", "--name", "my app"], { env });
    const token = lastLine(stdout);
    assert.match(token, /^[A-Za-z0-9_-]{32,}$/);
    assert.ok(stdout.endsWith(`\n${token}\n`), "alone on the last line");
    assert.deepEqual(await whoIs(server, token), { status: 200, username: "bob" });
    assert.equal((await whoIs(server, `${token}x`)).status, 401);

    assertRefused(await runCli(["token", "create", "nobody"], { env }), /no member named nobody/);

    // The password given on stdin at init is the owner's password.
    assert.equal((await signIn(server, "alice", ALICE_PASSWORD)).status, 200);
    assert.equal((await signIn(server, "alice", `${ALICE_PASSWORD}\n`)).status, 401);
  });

  test("set-status suspends a member: no new tokens, old ones end for good", async () => {
    const token = lastLine(await runCliOk(["token", "create", "bob"], { env }));
    assert.equal((await whoIs(server, token)).status, 200);
    assert.match(
      await runCliOk(["member", "set-status", "bob", "suspended"], { env }),
      /@bob is now suspended/,
    );
    assert.match(await runCliOk(["member", "list"], { env }), /^bob\s+member\s+suspended/m);
    assertRefused(await runCli(["token", "create", "bob"], { env }), /suspended/);
    assert.equal((await whoIs(server, token)).status, 401);
    assertRefused(
      await runCli(["member", "set-status", "bob", "sleeping"], { env }),
      /status must/,
    );
    assertRefused(
      await runCli(["member", "set-status", "alice", "suspended"], { env }),
      /owner cannot be suspended/,
    );
    // Reinstated: suspension ended the old tokens for good; new ones work.
    await runCliOk(["member", "set-status", "bob", "active"], { env });
    assert.equal((await whoIs(server, token)).status, 401);
    const fresh = lastLine(await runCliOk(["token", "create", "bob"], { env }));
    assert.deepEqual(await whoIs(server, fresh), { status: 200, username: "bob" });
  });

  test("run from a subdirectory, the CLI uses the project root's data directory and says so", async () => {
    const subdirectory = join(REPO_ROOT, "packages", "server", "src");
    // A second init changes nothing (it is refused), but says where it looked first.
    const result = await runCli(["init", "--name", "Second", "--owner", "mallory"], {
      env,
      cwd: subdirectory,
    });
    assertRefused(result, /already (initiali[sz]ed|set up)/i);
    assert.match(
      result.stdout,
      new RegExp(`^Using data directory ${escapeRegExp(REPO_ROOT)}/\\.clique; database `, "m"),
    );
    assert.ok(!existsSync(join(subdirectory, ".clique")), "nothing made in the subdirectory");
  });

  test("a second start on the same port says Clique is already running, without a stack", async () => {
    const second: ProcessEnv = { ...env, PORT: String(server.port) };
    // HOST unset: the default is loopback, where the first server listens.
    delete second.HOST;
    const result = await runCli(["start"], { env: second });
    assert.equal(result.code, 1, result.stderr);
    assert.equal(
      result.stderr.trim(),
      `error: Clique is already running on http://127.0.0.1:${server.port}. Stop it first, or set PORT to run another one.`,
    );
    // The first one is still there.
    assert.equal((await fetch(`${server.url}/health`)).status, 200);
  });

  test("a start on a port another program holds says so", async () => {
    const port = await freePort();
    const squatter = createServer((_req, res) => {
      res.writeHead(404, { "content-type": "text/plain" }).end("not here");
    });
    await new Promise<void>((resolve) => squatter.listen(port, "127.0.0.1", resolve));
    try {
      const result = await runCli(["start"], {
        env: { ...env, PORT: String(port), HOST: "127.0.0.1" },
      });
      assert.equal(result.code, 1, result.stderr);
      assert.equal(
        result.stderr.trim(),
        `error: Port ${port} on 127.0.0.1 is taken by another program (not a Clique). Stop it, or set PORT to use another port.`,
      );
    } finally {
      await new Promise((resolve) => squatter.close(resolve));
    }
  });

  test("migrate reports an up-to-date schema", async () => {
    assert.match(await runCliOk(["migrate"], { env }), /up to date/);
  });
});

describe("help and usage", () => {
  const commands = [
    [],
    ["start"],
    ["migrate"],
    ["init"],
    ["invite"],
    ["invite", "create"],
    ["invite", "list"],
    ["invite", "revoke"],
    ["invite", "redeem"],
    ["token"],
    ["token", "create"],
    ["member"],
    ["member", "list"],
    ["member", "set-status"],
    ["password"],
    ["password", "reset"],
  ];

  test("--help of every command exits 0 and describes it", async () => {
    // No database is needed (or touched) to ask for help.
    const env = { ...process.env, DATABASE_URL: "postgres://nobody@127.0.0.1:1/none" };
    // A few at a time: fourteen Node processes at once starve a small CI machine.
    const results: { args: string[]; result: Awaited<ReturnType<typeof runCli>> }[] = [];
    for (let i = 0; i < commands.length; i += 4) {
      const batch = commands.slice(i, i + 4);
      results.push(
        ...(await Promise.all(
          batch.map(async (args) => ({ args, result: await runCli([...args, "--help"], { env }) })),
        )),
      );
    }
    for (const { args, result } of results) {
      const name = ["clique", ...args].join(" ");
      assert.equal(result.code, 0, `${name} --help: ${result.stderr}`);
      assert.ok(result.stdout.startsWith(`Usage: ${name}`), `${name} --help:\n${result.stdout}`);
      assert.equal(result.stderr, "");
    }
    const top = results[0]!.result.stdout;
    assert.match(top, /DATABASE_URL/, "the environment is documented");
    assert.match(top, /HOST .*\(default: 127\.0\.0\.1\)/);
    assert.match(top, /CLIQUE_TRUSTED_PROXIES .*\(default: \(none\)\)/);
  });

  test("unknown commands and options exit non-zero", async () => {
    const env = { ...process.env, DATABASE_URL: "postgres://nobody@127.0.0.1:1/none" };
    const cases: [string[], RegExp][] = [
      [["frobnicate"], /unknown command 'frobnicate'/],
      [["invite", "frobnicate"], /unknown command 'frobnicate'/],
      [["member", "list", "--frobnicate"], /unknown option '--frobnicate'/],
      [["init", "--name", "No owner"], /required option '--owner <username>' not specified/],
    ];
    const results = await Promise.all(cases.map(([args]) => runCli(args, { env })));
    cases.forEach(([args, message], i) => {
      const result = results[i]!;
      assert.notEqual(result.code, 0, `clique ${args.join(" ")}`);
      assert.match(result.stderr, message);
      assert.equal(result.stdout, "", "usage errors go to stderr");
    });
  });

  test("a bad environment is reported by name", async () => {
    const env = { ...process.env, DATABASE_URL: "mysql://nope", CLIQUE_MEMBER_CAP: "many" };
    const result = await runCli(["member", "list"], { env });
    assertRefused(result, /DATABASE_URL/);
    assert.match(result.stderr, /CLIQUE_MEMBER_CAP/);
  });
});

describe("with the embedded database, beside a running server", () => {
  let dataDir = "";
  let env: ProcessEnv;

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "clique-cli-"));
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    env = { ...process.env, CLIQUE_DATA_DIR: dataDir, CLIQUE_ORIGIN: ORIGIN };
    delete env.DATABASE_URL;
  });

  test("every command joins the server's PostgreSQL while it runs", async () => {
    const server = await startServer({ env, dataDir });
    const postmasterPid = join(dataDir, "postgres", "postmaster.pid");
    assert.ok(existsSync(postmasterPid), "the server runs the embedded PostgreSQL");

    const init = await runCli(["init", "--name", "Embedded", "--owner", "alice"], { env });
    assert.equal(init.code, 0, init.stderr);
    assert.match(
      init.stdout,
      new RegExp(
        `^Using data directory ${escapeRegExp(dataDir)}, with its embedded PostgreSQL\\.$`,
        "m",
      ),
    );
    // No password given: one is generated and printed alone on the last line,
    // saying truthfully that it lasts until changed, and how to change it.
    const lines = init.stdout.trimEnd().split("\n");
    assert.equal(
      lines.at(-2),
      "Generated password for @alice (it stays valid until changed) — change it with `npx clique password reset alice --password-stdin` or POST /api/v1/clique/password:",
    );
    const password = lastLine(init.stdout);
    assert.match(password, /^[A-Za-z0-9_-]{16,}$/);
    assert.doesNotMatch(init.stdout, /one-time/i);
    assert.equal((await signIn(server, "alice", password)).status, 200);
    assert.equal((await signIn(server, "alice", `${password}x`)).status, 401);

    const code = lastLine(await runCliOk(["invite", "create", "--by", "alice"], { env }));
    await runCliOk(["invite", "redeem", code, "--username", "bob", "--password-stdin"], {
      env,
      stdin: "bob-password-22",
    });
    const token = lastLine(await runCliOk(["token", "create", "bob"], { env }));
    assert.deepEqual(await whoIs(server, token), { status: 200, username: "bob" });
    const members = await runCliOk(["member", "list"], { env });
    assert.match(members, /^alice\s+owner/m);
    assert.match(members, /^bob\s+member/m);

    // The CLI left the server's database running.
    const health = await fetch(`${server.url}/health`);
    assert.equal(health.status, 200);
    const instance = (await (await fetch(`${server.url}/api/v1/instance`)).json()) as {
      title: string;
      stats: { user_count: number };
    };
    assert.equal(instance.title, "Embedded");
    assert.equal(instance.stats.user_count, 2);

    const exit = await server.stop();
    assert.equal(exit.code, 0, server.output());
    assert.ok(!existsSync(postmasterPid), "the server stopped its PostgreSQL");
  });

  test("with the server stopped, the CLI runs PostgreSQL itself and stops it after", async () => {
    const members = await runCliOk(["member", "list"], { env });
    assert.match(members, /^bob\s+member\s+active/m);
    assert.match(lastLine(members), /^2 of 50 seats taken\.$/);
    assert.ok(
      !existsSync(join(dataDir, "postgres", "postmaster.pid")),
      "no PostgreSQL left running",
    );
  });
});
