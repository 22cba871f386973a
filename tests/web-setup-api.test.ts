/**
 * What the web UI needs around signing in: first-run setup from the web
 * (the one-time link a new server logs), an invite's landing page (preview,
 * then joining with a display name), and the settings screen's list of
 * one's own sessions. Real server processes and a real database.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  createTestDatabase,
  type ServerProcess,
  startServerProcess,
  stopEmbeddedTestServer,
  type TestDatabase,
} from "@clique/testing";
import pg from "pg";

const ALICE_PASSWORD = "alice-password-1";
const SETUP_LINE = /Set up this Clique at (\S+)\/setup\?token=([A-Za-z0-9_-]+)/;

let db: TestDatabase | undefined;
let server: ServerProcess | undefined;
/** The setup token of the server's first start, replaced by the second. */
let staleToken = "";
/** The setup token the running server logged. */
let setupToken = "";

/** Waits for the setup link in a server's log; returns its token. */
async function loggedSetupToken(process: ServerProcess): Promise<string> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const match = SETUP_LINE.exec(process.output());
    if (match) {
      assert.equal(match[1], process.origin, "the link is on the public origin");
      return match[2]!;
    }
    if (Date.now() > deadline) throw new Error(`no setup link logged:\n${process.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

before(async () => {
  db = await createTestDatabase();
  const env = { ...process.env, DATABASE_URL: db.url };
  // Each start replaces the token of the one before.
  const first = await startServerProcess({ env, databaseUrl: db.url });
  try {
    staleToken = await loggedSetupToken(first);
    assert.match(first.output(), /npx clique init/, "the CLI's way is still shown");
  } finally {
    await first.stop();
  }
  server = await startServerProcess({ env, databaseUrl: db.url });
  setupToken = await loggedSetupToken(server);
  assert.notEqual(setupToken, staleToken);
});

after(async () => {
  await server?.stop();
  await db?.drop();
  await stopEmbeddedTestServer();
});

type Body = Record<string, unknown>;
type Reply = { status: number; body: Body; cookie: string | null };

async function call(
  path: string,
  options: {
    method?: string;
    body?: unknown;
    token?: string;
    cookie?: string;
    userAgent?: string;
  } = {},
): Promise<Reply> {
  const response = await fetch(`${server!.url}${path}`, {
    method: options.method ?? (options.body === undefined ? "GET" : "POST"),
    headers: {
      "user-agent": options.userAgent ?? "web-setup-test",
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
    body: (await response.json()) as Body,
    cookie: cookie ?? null,
  };
}

function assertError(reply: Reply, status: number, code: string, message?: RegExp): void {
  assert.equal(reply.status, status, JSON.stringify(reply.body));
  assert.equal(reply.body.code, code, JSON.stringify(reply.body));
  if (message) assert.match(String(reply.body.error), message);
}

/** Whose credential this is, or the status when it does not work. */
async function whoIs(cookie: string): Promise<string | number> {
  const reply = await call("/api/v1/accounts/verify_credentials", { cookie });
  return reply.status === 200 ? String(reply.body.username) : reply.status;
}

const setup = (fields: Body) =>
  call("/api/v1/clique/setup", {
    body: { name: "Web Clique", username: "alice", password: ALICE_PASSWORD, ...fields },
  });

/** Alice's session from setup, once it happened. */
let aliceCookie = "";

describe("first-run setup from the web", () => {
  test("is needed before, refuses wrong tokens, creates the owner and signs them in", async () => {
    assert.deepEqual((await call("/api/v1/clique/setup")).body, { needed: true });
    // The Clique itself does not exist yet.
    assertError(await call("/api/v1/clique"), 503, "not_initialized");

    assertError(await setup({ token: "not-the-token" }), 403, "invalid_setup_token", /setup link/);
    assertError(
      await setup({ token: staleToken }),
      403,
      "invalid_setup_token",
      /printed when it last started/,
    );
    // A refusal of the Clique's own rules leaves the token usable.
    assertError(await setup({ token: setupToken, password: "short" }), 422, "password_too_short");
    assertError(await setup({ token: setupToken, name: "  " }), 422, "invalid_name");
    assertError(await setup({ token: setupToken, extra: 1 }), 422, "invalid_input");
    assert.deepEqual((await call("/api/v1/clique/setup")).body, { needed: true });

    const done = await setup({
      token: setupToken,
      description: "Made in a browser",
      member_cap: 3,
      display_name: "Alice A.",
    });
    assert.equal(done.status, 201, JSON.stringify(done.body));
    assert.equal(done.body.username, "alice");
    assert.equal(done.body.display_name, "Alice A.");
    assert.ok(done.cookie, "a session cookie is set");
    aliceCookie = done.cookie;
    assert.equal(await whoIs(aliceCookie), "alice");

    const clique = await call("/api/v1/clique");
    assert.equal(clique.body.name, "Web Clique");
    assert.equal(clique.body.description, "Made in a browser");
    assert.equal(clique.body.member_cap, 3);
    assert.equal(clique.body.members, 1);
    // Alice owns it: she may change its settings.
    const patched = await call("/api/v1/clique", {
      method: "PATCH",
      cookie: aliceCookie,
      body: { description: "Made in a browser." },
    });
    assert.equal(patched.status, 200, JSON.stringify(patched.body));
  });

  test("is not needed afterwards, and a second setup is refused", async () => {
    assert.deepEqual((await call("/api/v1/clique/setup")).body, { needed: false });
    assertError(
      await setup({ token: setupToken, username: "mallory" }),
      409,
      "already_initialized",
      /already set up/,
    );
    assertError(await setup({ token: "guess", username: "mallory" }), 409, "already_initialized");
    const signIn = await call("/api/v1/clique/sessions", {
      body: { username: "mallory", password: ALICE_PASSWORD },
    });
    assert.equal(signIn.status, 401, "no second owner was made");
  });
});

/** Creates an invite as Alice; returns its id and code. */
async function invite(body: Body = {}): Promise<{ id: string; code: string }> {
  const created = await call("/api/v1/clique/invites", { cookie: aliceCookie, body });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  return { id: String(created.body.id), code: String(created.body.code) };
}

const preview = (code: string) =>
  call(`/api/v1/clique/invites/preview?code=${encodeURIComponent(code)}`);

describe("invite previews and joining", () => {
  test("a valid invite shows the Clique, the inviter and the seats left", async () => {
    const { code } = await invite({ max_uses: 5 });
    const shown = await preview(code);
    assert.equal(shown.status, 200, JSON.stringify(shown.body));
    assert.deepEqual(shown.body.clique, {
      name: "Web Clique",
      description: "Made in a browser.",
      member_cap: 3,
      members: 1,
    });
    assert.equal(shown.body.seats_left, 2);
    assert.equal(shown.body.status, "valid");
    const inviter = shown.body.inviter as Body;
    assert.equal(inviter.username, "alice");
    assert.equal(inviter.display_name, "Alice A.");
    assert.equal(typeof inviter.avatar, "string", "a Mastodon account");
  });

  test("an unknown code is not found and shows nothing of the Clique", async () => {
    const unknown = await preview("no-such-invite-code");
    assertError(unknown, 404, "not_found");
    assert.equal(unknown.body.clique, undefined);
    assertError(await call("/api/v1/clique/invites/preview"), 422, "invalid_input");
  });

  test("joining with a display name; a used-up invite says so", async () => {
    const { code } = await invite({ max_uses: 1 });
    const tooLong = await call("/api/v1/clique/invites/redeem", {
      body: { code, username: "bob", password: "bob-password-22", display_name: "B".repeat(31) },
    });
    assertError(tooLong, 422, "invalid_input");

    const joined = await call("/api/v1/clique/invites/redeem", {
      body: { code, username: "bob", password: "bob-password-22", display_name: "Bobby B." },
    });
    assert.equal(joined.status, 201, JSON.stringify(joined.body));
    const account = joined.body.account as Body;
    assert.equal(account.username, "bob");
    assert.equal(account.display_name, "Bobby B.");
    assert.ok(joined.cookie);
    assert.equal(await whoIs(joined.cookie), "bob");

    const used = await preview(code);
    assert.equal(used.status, 200, JSON.stringify(used.body));
    assert.equal(used.body.status, "used_up");
    assert.equal((used.body.clique as Body).members, 2);
    assert.equal(used.body.seats_left, 1);
  });

  test("a revoked invite, and an expired one", async () => {
    const revoked = await invite();
    const deleted = await call(`/api/v1/clique/invites/${revoked.id}`, {
      method: "DELETE",
      cookie: aliceCookie,
    });
    assert.equal(deleted.status, 200, JSON.stringify(deleted.body));
    assert.equal((await preview(revoked.code)).body.status, "revoked");

    const expired = await invite({ expires_in: 3600 });
    assert.equal((await preview(expired.code)).body.status, "valid");
    // An hour is too long to wait: move its expiry into the past.
    const client = new pg.Client({ connectionString: db!.url });
    await client.connect();
    try {
      await client.query(
        "update invites set expires_at = now() - interval '1 minute' where id = $1",
        [expired.id],
      );
    } finally {
      await client.end();
    }
    assert.equal((await preview(expired.code)).body.status, "expired");
    // Redeeming decides the same way.
    const redeem = await call("/api/v1/clique/invites/redeem", {
      body: { code: expired.code, username: "dave", password: "dave-password-1" },
    });
    assertError(redeem, 422, "invite_expired");
  });

  test("a full Clique", async () => {
    const { code } = await invite();
    const joined = await call("/api/v1/clique/invites/redeem", {
      body: { code, username: "carol", password: "carol-password-3" },
    });
    assert.equal(joined.status, 201, JSON.stringify(joined.body));
    const full = await preview(code);
    assert.equal(full.body.status, "full");
    assert.equal(full.body.seats_left, 0);
    assert.deepEqual(full.body.clique, {
      name: "Web Clique",
      description: "Made in a browser.",
      member_cap: 3,
      members: 3,
    });
    const refused = await call("/api/v1/clique/invites/redeem", {
      body: { code, username: "dave", password: "dave-password-1" },
    });
    assertError(refused, 409, "clique_full");
  });
});

describe("one's own sessions", () => {
  type Session = {
    id: string;
    created_at: string;
    last_used_at: string | null;
    user_agent: string | null;
    current: boolean;
  };

  async function sessions(cookie: string): Promise<Session[]> {
    const reply = await call("/api/v1/clique/sessions", { cookie });
    assert.equal(reply.status, 200, JSON.stringify(reply.body));
    return reply.body as unknown as Session[];
  }

  test("lists the member's sessions, marks the current one, and revokes one", async () => {
    const laptop = await call("/api/v1/clique/sessions", {
      body: { username: "alice", password: ALICE_PASSWORD },
      userAgent: "Laptop/1.0 (Firefox)",
    });
    assert.equal(laptop.status, 200, JSON.stringify(laptop.body));
    const laptopCookie = laptop.cookie!;
    // An API token is not a session.
    const token = await call("/api/v1/clique/tokens", {
      cookie: aliceCookie,
      body: { name: "script" },
    });
    assert.equal(token.status, 201, JSON.stringify(token.body));

    const listed = await sessions(laptopCookie);
    assert.equal(listed.length, 2, JSON.stringify(listed));
    const [newest, setupSession] = listed as [Session, Session];
    assert.equal(newest.user_agent, "Laptop/1.0 (Firefox)");
    assert.equal(newest.current, true);
    assert.equal(setupSession.user_agent, "web-setup-test", "setup signed in this browser");
    assert.equal(setupSession.current, false);
    assert.ok(setupSession.last_used_at, "the setup session was used");
    assert.ok(Date.parse(newest.created_at) >= Date.parse(setupSession.created_at));

    // From the other session, the other one is current.
    const fromSetup = await sessions(aliceCookie);
    assert.deepEqual(
      fromSetup.map((s) => [s.id, s.current]),
      [
        [newest.id, false],
        [setupSession.id, true],
      ],
    );

    // Someone else cannot end Alice's session, nor see it.
    const bob = await call("/api/v1/clique/sessions", {
      body: { username: "bob", password: "bob-password-22" },
    });
    const bobs = await sessions(bob.cookie!);
    assert.ok(bobs.every((s) => s.id !== newest.id && s.id !== setupSession.id));
    assertError(
      await call(`/api/v1/clique/sessions/${newest.id}`, { method: "DELETE", cookie: bob.cookie! }),
      404,
      "not_found",
    );
    assert.equal(await whoIs(laptopCookie), "alice");

    // Alice ends the laptop's session from the other one.
    const revoked = await call(`/api/v1/clique/sessions/${newest.id}`, {
      method: "DELETE",
      cookie: aliceCookie,
    });
    assert.equal(revoked.status, 200, JSON.stringify(revoked.body));
    assert.equal(await whoIs(laptopCookie), 401, "the revoked cookie no longer signs in");
    assert.equal(await whoIs(aliceCookie), "alice");
    assert.deepEqual(
      (await sessions(aliceCookie)).map((s) => s.id),
      [setupSession.id],
    );
    assertError(
      await call(`/api/v1/clique/sessions/${newest.id}`, { method: "DELETE", cookie: aliceCookie }),
      404,
      "not_found",
    );
  });

  test("needs a signed-in member", async () => {
    assertError(await call("/api/v1/clique/sessions"), 401, "unauthorized");
  });
});
