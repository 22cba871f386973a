/**
 * Sign-in throttling against a real server, from real client addresses.
 * Linux routes all of 127/8 to the loopback interface, so a request made
 * from 127.0.0.2 and one from 127.0.0.3 reach the server from two different
 * addresses, as an attacker and a member would.
 */
import assert from "node:assert/strict";
import { request } from "node:http";
import { after, before, describe, test } from "node:test";
import {
  createTestDatabase,
  lastLine,
  type ProcessEnv,
  runCliOk,
  type ServerProcess,
  startServerProcess,
  stopEmbeddedTestServer,
  type TestDatabase,
} from "@clique/testing";

const PASSWORDS = {
  alice: "alice-password-1",
  bob: "bob-password-22",
  carol: "carol-password-3",
  dave: "dave-password-44",
  erin: "erin-password-55",
};
/** The limits the server promises (core's sign-in throttle). */
const PER_PAIR = 5;
const PER_USERNAME = 50;

let db: TestDatabase | undefined;
let env: ProcessEnv;
const servers: ServerProcess[] = [];

before(async () => {
  db = await createTestDatabase();
  env = { ...process.env, DATABASE_URL: db.url };
  delete env.CLIQUE_TRUSTED_PROXIES;
  servers.push(await startServerProcess({ env, databaseUrl: db.url }));
  await runCliOk(["init", "--name", "Throttle", "--owner", "alice", "--password-stdin"], {
    env,
    stdin: PASSWORDS.alice,
  });
  const code = lastLine(await runCliOk(["invite", "create", "--by", "alice"], { env }));
  for (const name of ["bob", "carol", "dave", "erin"] as const)
    await runCliOk(["invite", "redeem", code, "--username", name, "--password-stdin"], {
      env,
      stdin: PASSWORDS[name],
    });
});

after(async () => {
  for (const server of servers) await server.stop();
  await db?.drop();
  await stopEmbeddedTestServer();
});

interface Reply {
  status: number;
  body: { error?: string; code?: string; account?: { username?: string } };
  cookie: string | null;
}

/** Signs in to `server` from the local address `from`, with extra headers. */
function signIn(
  server: ServerProcess,
  from: string,
  username: string,
  password: string,
  headers: Record<string, string> = {},
): Promise<Reply> {
  const payload = JSON.stringify({ username, password });
  return new Promise((resolve, reject) => {
    const req = request(
      `${server.url}/api/v1/clique/sessions`,
      {
        method: "POST",
        localAddress: from,
        agent: false,
        headers: {
          "content-type": "application/json",
          "content-length": Buffer.byteLength(payload),
          ...headers,
        },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          text += chunk;
        });
        res.on("end", () => {
          const cookie = res.headers["set-cookie"]?.find((c) => c.startsWith("clique_session="));
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(text), cookie: cookie ?? null });
        });
      },
    );
    req.on("error", reject);
    req.end(payload);
  });
}

function assertWrong(reply: Reply, what: string) {
  assert.equal(reply.status, 401, `${what}: ${JSON.stringify(reply.body)}`);
  assert.equal(reply.body.code, "invalid_credentials", what);
  assert.equal(reply.cookie, null, what);
}

function assertThrottled(reply: Reply, what: string) {
  assert.equal(reply.status, 429, `${what}: ${JSON.stringify(reply.body)}`);
  assert.equal(reply.body.code, "too_many_attempts", what);
  assert.match(reply.body.error ?? "", /Try again in 15 minutes/, what);
  assert.equal(reply.cookie, null, what);
}

function assertSignedIn(reply: Reply, username: string, what: string) {
  assert.equal(reply.status, 200, `${what}: ${JSON.stringify(reply.body)}`);
  assert.equal(reply.body.account?.username, username, what);
  assert.ok(reply.cookie, `${what}: a session cookie`);
}

describe("throttling by client address", () => {
  test("an attacker's address exhausts its attempts; the member, from another address, still signs in", async () => {
    const [server] = servers;
    const attacker = "127.0.0.2";
    for (let i = 0; i < PER_PAIR; i++)
      assertWrong(await signIn(server!, attacker, "bob", `guess-${i}-guess`), `guess ${i + 1}`);
    // The attacker is stopped, even with the right password, in any letter case,
    // and whatever X-Forwarded-For it claims (nobody is a trusted proxy here).
    assertThrottled(await signIn(server!, attacker, "bob", PASSWORDS.bob), "right password");
    assertThrottled(await signIn(server!, attacker, "BOB", "guess-again"), "other case");
    assertThrottled(
      await signIn(server!, attacker, "bob", "guess-again", { "x-forwarded-for": "192.0.2.99" }),
      "spoofed X-Forwarded-For",
    );
    // The member, from their own address, is not locked out.
    assertSignedIn(await signIn(server!, "127.0.0.3", "bob", PASSWORDS.bob), "bob", "member");
    // And the member's success does not lift the attacker's throttle.
    assertThrottled(await signIn(server!, attacker, "bob", "guess-again"), "still stopped");
  });

  test("X-Forwarded-For from an untrusted peer is ignored", async () => {
    const [server] = servers;
    const peer = "127.0.0.5";
    // A fresh claimed address on every guess does not make fresh attempts.
    for (let i = 0; i < PER_PAIR; i++) {
      const claim = { "x-forwarded-for": `198.51.100.${i + 1}` };
      assertWrong(await signIn(server!, peer, "carol", `guess-${i}-guess`, claim), `guess ${i}`);
    }
    assertThrottled(
      await signIn(server!, peer, "carol", "guess-again", { "x-forwarded-for": "198.51.100.50" }),
      "new claimed address",
    );
    // Claiming the throttled peer's address does not throttle someone else either.
    assertSignedIn(
      await signIn(server!, "127.0.0.6", "carol", PASSWORDS.carol, { "x-forwarded-for": peer }),
      "carol",
      "member claiming the attacker's address",
    );
  });

  test("X-Forwarded-For is honoured from a configured trusted proxy", async () => {
    // A second server on the same database, behind a "proxy" at 127.0.0.4.
    const behindProxy = await startServerProcess({
      env: { ...env, CLIQUE_TRUSTED_PROXIES: "127.0.0.4, 10.0.0.0/8" },
      databaseUrl: db!.url,
    });
    servers.push(behindProxy);
    const proxy = "127.0.0.4";
    const attacker = { "x-forwarded-for": "203.0.113.7" };
    for (let i = 0; i < PER_PAIR; i++)
      assertWrong(
        await signIn(behindProxy, proxy, "erin", `guess-${i}-guess`, attacker),
        `guess ${i}`,
      );
    assertThrottled(await signIn(behindProxy, proxy, "erin", "guess", attacker), "attacker");
    // Through the same proxy, the member is someone else: not throttled.
    assertSignedIn(
      await signIn(behindProxy, proxy, "erin", PASSWORDS.erin, {
        "x-forwarded-for": "1.2.3.4, 203.0.113.8",
      }),
      "erin",
      "member via the proxy",
    );
    // Only the proxy is believed: the same header from another peer is not.
    assertSignedIn(
      await signIn(behindProxy, "127.0.0.7", "erin", PASSWORDS.erin, attacker),
      "erin",
      "a peer that is no proxy, claiming the attacker's address",
    );
  });
});

describe("the per-username ceiling", () => {
  test(`stops a guess spread over many addresses after ${PER_USERNAME} failures`, async () => {
    const [server] = servers;
    const addresses = PER_USERNAME / PER_PAIR;
    // Each address stays under its own limits.
    for (let a = 0; a < addresses; a++) {
      const from = `127.0.1.${a + 1}`;
      const replies = await Promise.all(
        Array.from({ length: PER_PAIR }, (_, i) =>
          signIn(server!, from, "dave", `g-${a}-${i}-guess`),
        ),
      );
      for (const reply of replies) assertWrong(reply, `from ${from}`);
    }
    // Now dave's username is closed for the window, from any address.
    assertThrottled(await signIn(server!, "127.0.1.200", "dave", "another-guess"), "fresh address");
    assertThrottled(
      await signIn(server!, "127.0.1.201", "dave", PASSWORDS.dave),
      "even the right password",
    );
    // Other members are not affected, from those same addresses.
    assertSignedIn(await signIn(server!, "127.0.1.1", "alice", PASSWORDS.alice), "alice", "alice");
  });
});
