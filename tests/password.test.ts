/**
 * Changing a password: a member through the API (other sessions and tokens
 * end, the current one stays), an operator with `clique password reset`
 * (every session and token ends). Real server, real CLI processes.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  createTestDatabase,
  lastLine,
  type ProcessEnv,
  runCli,
  runCliOk,
  type ServerProcess,
  startServerProcess,
  stopEmbeddedTestServer,
  type TestDatabase,
} from "@clique/testing";

const ALICE_PASSWORD = "alice-password-1";
const BOB_PASSWORD = "bob-password-22";
const CAROL_PASSWORD = "carol-password-3";

let db: TestDatabase | undefined;
let server: ServerProcess | undefined;
let env: ProcessEnv;

before(async () => {
  db = await createTestDatabase();
  env = { ...process.env, DATABASE_URL: db.url };
  server = await startServerProcess({ env, databaseUrl: db.url });
  await runCliOk(["init", "--name", "Passwords", "--owner", "alice", "--password-stdin"], {
    env,
    stdin: ALICE_PASSWORD,
  });
  const code = lastLine(await runCliOk(["invite", "create", "--by", "alice"], { env }));
  for (const [name, password] of [
    ["bob", BOB_PASSWORD],
    ["carol", CAROL_PASSWORD],
  ])
    await runCliOk(["invite", "redeem", code!, "--username", name!, "--password-stdin"], {
      env,
      stdin: password,
    });
});

after(async () => {
  await server?.stop();
  await db?.drop();
  await stopEmbeddedTestServer();
});

type Reply = { status: number; body: Record<string, unknown> };

async function call(
  path: string,
  options: { method?: string; body?: unknown; token?: string; cookie?: string } = {},
): Promise<Reply & { cookie: string | null }> {
  const response = await fetch(`${server!.url}${path}`, {
    method: options.method ?? (options.body === undefined ? "GET" : "POST"),
    headers: {
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      // A cookie session's writes must come from the Clique's own origin.
      ...(options.cookie ? { cookie: options.cookie, origin: server!.origin } : {}),
      ...(options.body !== undefined ? { "content-type": "application/json" } : {}),
    },
    ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
  });
  const cookie = /clique_session=[^;]+/.exec(response.headers.get("set-cookie") ?? "")?.[0];
  return {
    status: response.status,
    body: (await response.json()) as Record<string, unknown>,
    cookie: cookie ?? null,
  };
}

/** Signs in; returns the session cookie. */
async function session(username: string, password: string): Promise<string> {
  const reply = await call("/api/v1/clique/sessions", { body: { username, password } });
  assert.equal(reply.status, 200, JSON.stringify(reply.body));
  assert.ok(reply.cookie);
  return reply.cookie;
}

/** Whose credential this is, or the status when it does not work. */
async function whoIs(credential: { token?: string; cookie?: string }): Promise<string | number> {
  const reply = await call("/api/v1/accounts/verify_credentials", credential);
  return reply.status === 200 ? String(reply.body.username) : reply.status;
}

async function signInStatus(username: string, password: string): Promise<number> {
  return (await call("/api/v1/clique/sessions", { body: { username, password } })).status;
}

describe("POST /api/v1/clique/password", () => {
  test("changes the password, ends the member's other sessions and tokens, keeps the current one", async () => {
    const current = lastLine(await runCliOk(["token", "create", "bob", "--name", "this"], { env }));
    const otherToken = lastLine(await runCliOk(["token", "create", "bob"], { env }));
    const otherSession = await session("bob", BOB_PASSWORD);
    const alice = lastLine(await runCliOk(["token", "create", "alice"], { env }));

    const changed = await call("/api/v1/clique/password", {
      token: current,
      body: { current_password: BOB_PASSWORD, new_password: "bob-new-password-1" },
    });
    assert.equal(changed.status, 200, JSON.stringify(changed.body));
    assert.deepEqual(changed.body, { ok: true, revoked_sessions: 2 });

    assert.equal(await whoIs({ token: current }), "bob", "the current token stays");
    assert.equal(await whoIs({ token: otherToken }), 401, "another token ended");
    assert.equal(await whoIs({ cookie: otherSession }), 401, "another session ended");
    assert.equal(await whoIs({ token: alice }), "alice", "someone else's token is untouched");
    assert.equal(await signInStatus("bob", BOB_PASSWORD), 401, "the old password");
    assert.equal(await signInStatus("bob", "bob-new-password-1"), 200, "the new password");
  });

  test("from a cookie session, keeps that session; keep_other_sessions keeps the rest", async () => {
    const current = await session("carol", CAROL_PASSWORD);
    const other = await session("carol", CAROL_PASSWORD);
    const changed = await call("/api/v1/clique/password", {
      cookie: current,
      body: {
        current_password: CAROL_PASSWORD,
        new_password: "carol-new-password",
        keep_other_sessions: true,
      },
    });
    assert.deepEqual(changed.body, { ok: true, revoked_sessions: 0 });
    assert.equal(await whoIs({ cookie: current }), "carol");
    assert.equal(await whoIs({ cookie: other }), "carol", "kept on request");

    const again = await call("/api/v1/clique/password", {
      cookie: current,
      body: { current_password: "carol-new-password", new_password: "carol-third-password" },
    });
    assert.deepEqual(again.body, { ok: true, revoked_sessions: 1 });
    assert.equal(await whoIs({ cookie: current }), "carol");
    assert.equal(await whoIs({ cookie: other }), 401);
  });

  test("refuses a wrong current password, a weak new one, strangers and unknown fields", async () => {
    const token = lastLine(await runCliOk(["token", "create", "alice"], { env }));
    const attempt = (body: unknown, credential: { token?: string } = { token }) =>
      call("/api/v1/clique/password", { ...credential, body });
    const wrong = await attempt({
      current_password: "not-it-at-all",
      new_password: "x".repeat(12),
    });
    assert.equal(wrong.status, 422);
    assert.deepEqual(wrong.body, {
      error: "The current password is not right.",
      code: "wrong_password",
    });
    const weak = await attempt({ current_password: ALICE_PASSWORD, new_password: "short" });
    assert.equal(weak.status, 422);
    assert.equal(weak.body.code, "password_too_short");
    const stranger = await attempt(
      { current_password: ALICE_PASSWORD, new_password: "x".repeat(12) },
      {},
    );
    assert.equal(stranger.status, 401);
    const extra = await attempt({
      current_password: ALICE_PASSWORD,
      new_password: "x".repeat(12),
      username: "bob",
    });
    assert.equal(extra.status, 422);
    // None of it changed anything.
    assert.equal(await signInStatus("alice", ALICE_PASSWORD), 200);
    assert.equal(await whoIs({ token }), "alice");
  });
});

describe("clique password reset", () => {
  test("with --password-stdin sets the password and ends every session and token", async () => {
    const token = lastLine(await runCliOk(["token", "create", "alice"], { env }));
    const cookie = await session("alice", ALICE_PASSWORD);
    const stdout = await runCliOk(["password", "reset", "alice", "--password-stdin"], {
      env,
      stdin: "alice-reset-password\n",
    });
    assert.match(
      stdout,
      /^Password of @alice reset; [2-9]\d* session\(s\) and token\(s\) ended\.$/m,
    );
    assert.doesNotMatch(stdout, /alice-reset-password/, "a chosen password is not echoed");
    assert.equal(await whoIs({ token }), 401);
    assert.equal(await whoIs({ cookie }), 401);
    assert.equal(await signInStatus("alice", ALICE_PASSWORD), 401);
    assert.equal(await signInStatus("alice", "alice-reset-password"), 200);
  });

  test("without --password-stdin generates one and prints it alone on the last line", async () => {
    const result = await runCli(["password", "reset", "BOB"], { env });
    assert.equal(result.code, 0, result.stderr);
    const generated = lastLine(result.stdout);
    assert.match(generated, /^[A-Za-z0-9_-]{20,}$/);
    assert.match(
      result.stdout,
      /Generated password for @bob \(it stays valid until changed\) — change it with `npx clique password reset bob --password-stdin` or POST \/api\/v1\/clique\/password:\n/,
    );
    assert.equal(await signInStatus("bob", "bob-new-password-1"), 401);
    assert.equal(await signInStatus("bob", generated), 200);
  });

  test("refuses unknown members and weak passwords, changing nothing", async () => {
    const unknown = await runCli(["password", "reset", "nobody"], { env });
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /^error: no member named nobody$/m);
    const weak = await runCli(["password", "reset", "carol", "--password-stdin"], {
      env,
      stdin: "short",
    });
    assert.equal(weak.code, 1);
    assert.match(weak.stderr, /Passwords need at least 10 characters/);
    assert.equal(weak.stdout, "");
    assert.equal(await signInStatus("carol", "carol-third-password"), 200);
  });
});
