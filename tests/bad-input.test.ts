/**
 * What the server does with bad, hostile or unlucky requests: clear errors
 * with the right status, and nothing half-written behind them.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  createTestDatabase,
  lastLine,
  runCliOk,
  type ServerProcess,
  startServerProcess,
  stopEmbeddedTestServer,
  type TestDatabase,
} from "@clique/testing";
import { sendReadingEarlyAnswer } from "./support/early-answer.ts";

const BODY_LIMIT = 4096;
const ALICE_PASSWORD = "alice-password-1";
const BOB_PASSWORD = "bob-password-22";

let db: TestDatabase | undefined;
let server: ServerProcess | undefined;
let aliceToken = "";

before(async () => {
  db = await createTestDatabase();
  const env = { ...process.env, DATABASE_URL: db.url, CLIQUE_BODY_LIMIT: String(BODY_LIMIT) };
  const starting = startServerProcess({ env, databaseUrl: db.url });
  const setUp = (async () => {
    await runCliOk(["init", "--name", "Bad Input", "--owner", "alice", "--password-stdin"], {
      env,
      stdin: ALICE_PASSWORD,
    });
    const code = lastLine(await runCliOk(["invite", "create", "--by", "alice"], { env }));
    await Promise.all([
      runCliOk(["invite", "redeem", code, "--username", "bob", "--password-stdin"], {
        env,
        stdin: BOB_PASSWORD,
      }),
      runCliOk(["token", "create", "alice"], { env }).then((out) => {
        aliceToken = lastLine(out);
      }),
    ]);
  })();
  const [started, done] = await Promise.allSettled([starting, setUp]);
  // Kept even when the set-up failed, so that after() stops it.
  if (started.status === "fulfilled") server = started.value;
  for (const outcome of [started, done]) if (outcome.status === "rejected") throw outcome.reason;
});

after(async () => {
  // Server-side errors explain failures that the client only sees as a 500.
  if (server && / ERR clique/.test(server.output())) console.error(server.output());
  await server?.stop();
  await db?.drop();
  await stopEmbeddedTestServer();
});

type Reply = { status: number; body: Record<string, unknown>; headers: Headers };

interface Call {
  method?: string;
  /** JSON-encoded unless a string or a FormData (sent as is). */
  body?: unknown;
  token?: string | null;
  headers?: Record<string, string>;
}

/** One request; the body must be JSON whatever the outcome. */
async function call(path: string, options: Call = {}): Promise<Reply> {
  const token = options.token === undefined ? aliceToken : options.token;
  const form = options.body instanceof FormData;
  const headers: Record<string, string> = {
    ...(token ? { authorization: `Bearer ${token}` } : {}),
    // fetch sets a FormData's multipart content type, with its boundary.
    ...(options.body !== undefined && !form ? { "content-type": "application/json" } : {}),
    ...options.headers,
  };
  const payload =
    typeof options.body === "string" || form ? options.body : JSON.stringify(options.body);
  const response = await fetch(`${server!.url}${path}`, {
    method: options.method ?? (options.body !== undefined ? "POST" : "GET"),
    headers,
    ...(options.body !== undefined ? { body: payload as BodyInit } : {}),
  });
  const raw = await response.text();
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(raw) as Record<string, unknown>;
  } catch {
    assert.fail(`${response.status} ${path} did not answer JSON: ${raw.slice(0, 200)}`);
  }
  return { status: response.status, body, headers: response.headers };
}

/** Asserts an error reply: status, machine code, and words a person can act on. */
function assertError(reply: Reply, status: number, code: string, message?: RegExp): void {
  assert.equal(reply.status, status, JSON.stringify(reply.body));
  assert.equal(reply.body.code, code, JSON.stringify(reply.body));
  assert.equal(typeof reply.body.error, "string");
  if (message) assert.match(reply.body.error as string, message);
}

async function homeTexts(): Promise<string[]> {
  const reply = await call("/api/v1/timelines/home?limit=40");
  assert.equal(reply.status, 200);
  return (reply.body as unknown as { content: string }[]).map((s) => s.content);
}

async function seats(): Promise<{ members: number; usernames: string[] }> {
  const clique = await call("/api/v1/clique");
  const members = await call("/api/v1/clique/members");
  assert.equal(members.status, 200);
  const usernames = (members.body as unknown as { username: string }[])
    .map((m) => m.username)
    .sort();
  return { members: clique.body.members as number, usernames };
}

async function createInvite(body: Record<string, unknown> = {}) {
  const reply = await call("/api/v1/clique/invites", { body });
  assert.equal(reply.status, 201, JSON.stringify(reply.body));
  return reply.body as { id: string; code: string; uses: number };
}

async function redeem(body: Record<string, unknown>) {
  return call("/api/v1/clique/invites/redeem", { body, token: null });
}

describe("request bodies", () => {
  test("a body over the limit is refused with 413 and a JSON error", async () => {
    const big = { status: `too big ${"x".repeat(BODY_LIMIT * 2)}` };
    assertError(await call("/api/v1/statuses", { body: big }), 413, "payload_too_large", /4096/);
    assert.ok(!(await homeTexts()).some((c) => c.includes("too big")), "nothing was posted");
  });

  test("a streamed body over the limit (no Content-Length) is refused too", async () => {
    // Read with node:http: the 413 comes while the client still writes (support/early-answer.ts).
    const answer = await sendReadingEarlyAnswer(new URL("/api/v1/statuses", server!.url), {
      method: "POST",
      headers: { authorization: `Bearer ${aliceToken}`, "content-type": "text/plain" },
      body: Array.from({ length: 8 }, () => "x".repeat(1024)),
    });
    assert.equal(answer.status, 413);
    assert.equal((JSON.parse(answer.body) as { code: string }).code, "payload_too_large");
  });

  test("invalid JSON is a 422 that says so", async () => {
    for (const path of ["/api/v1/statuses", "/api/v1/clique/circles"]) {
      assertError(
        await call(path, { body: '{"status": "half' }),
        422,
        "invalid_input",
        /not valid JSON/,
      );
    }
    assertError(
      await call("/api/v1/statuses", { body: '["an", "array"]' }),
      422,
      "invalid_input",
      /JSON object/,
    );
  });

  test("an unsupported content type is a 422, not a guess", async () => {
    const reply = await call("/api/v1/statuses", {
      body: "status=hello",
      headers: { "content-type": "text/csv" },
    });
    assertError(reply, 422, "invalid_input", /JSON|form/);
  });

  test("Clique's own endpoints name an unknown field", async () => {
    const reply = await call("/api/v1/clique/circles", {
      body: { name: "Book club", colour: "teal" },
    });
    assertError(reply, 422, "invalid_input", /colour/);
    const circles = await call("/api/v1/clique/circles");
    assert.deepEqual(circles.body, [], "no circle was created");
  });

  test("Mastodon endpoints ignore unknown fields, as Mastodon does", async () => {
    const reply = await call("/api/v1/statuses", {
      body: { status: "Hello despite extras", quote_approval_policy: "nobody", frobnicate: 1 },
    });
    assert.equal(reply.status, 200, JSON.stringify(reply.body));
    assert.equal(reply.body.content, "<p>Hello despite extras</p>");
  });

  test("form-encoded Mastodon requests work like JSON ones", async () => {
    const reply = await call("/api/v1/statuses", {
      body: "status=Sent+as+a+form&visibility=unlisted",
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    assert.equal(reply.status, 200, JSON.stringify(reply.body));
    assert.equal(reply.body.content, "<p>Sent as a form</p>");
    assert.equal(reply.body.visibility, "unlisted");
  });

  test("Mastodon's bracket forms (key[], key[0][name]) parse in urlencoded and multipart bodies", async () => {
    const fields = [
      ["fields_attributes[0][name]", "Site"],
      ["fields_attributes[0][value]", "https://example.com"],
      ["fields_attributes[1][name]", "Pronouns"],
      ["fields_attributes[1][value]", "she/her"],
      ["display_name", "Alice & Co"],
    ];
    const urlencoded = new URLSearchParams(fields).toString();
    const multipart = new FormData();
    for (const [k, v] of fields) multipart.append(k!, v!);
    for (const body of [urlencoded, multipart]) {
      const reply = await call("/api/v1/accounts/update_credentials", {
        method: "PATCH",
        body,
        headers:
          typeof body === "string" ? { "content-type": "application/x-www-form-urlencoded" } : {},
      });
      assert.equal(reply.status, 200, JSON.stringify(reply.body));
      assert.equal(reply.body.display_name, "Alice & Co");
      const source = reply.body.source as { fields: { name: string; value: string }[] };
      assert.deepEqual(
        source.fields.map((f) => [f.name, f.value]),
        [
          ["Site", "https://example.com"],
          ["Pronouns", "she/her"],
        ],
      );
    }
    // Repeated `key[]` is a list: relationships with two ids answer two relationships.
    const bob = await call("/api/v1/accounts/lookup?acct=bob");
    const me = await call("/api/v1/accounts/verify_credentials");
    const both = await call(
      `/api/v1/accounts/relationships?id[]=${bob.body.id}&id[]=${me.body.id}`,
    );
    assert.deepEqual(
      (both.body as unknown as { id: string }[]).map((r) => r.id),
      [bob.body.id, me.body.id],
    );
  });

  test("a field of the wrong type is a 422 naming it", async () => {
    assertError(
      await call("/api/v1/statuses", { body: { status: "x", visibility: "everyone" } }),
      422,
      "invalid_input",
      /visibility/,
    );
    assertError(
      await call("/api/v1/clique/invites", { body: { max_uses: "lots" } }),
      422,
      "invalid_input",
      /max_uses/,
    );
    assertError(
      await call("/api/v1/statuses", { body: { status: "   " } }),
      422,
      "empty_post",
      /text/,
    );
  });
});

describe("invites", () => {
  test("an invite cannot be made to expire in under a minute", async () => {
    assertError(
      await call("/api/v1/clique/invites", { body: { expires_in: 10 } }),
      422,
      "invalid_expiry",
      /minute/,
    );
  });

  test("failed redemptions explain themselves and change nothing", async () => {
    const before = await seats();
    assert.deepEqual(before, { members: 2, usernames: ["alice", "bob"] });

    const revoked = await createInvite();
    const revokeReply = await call(`/api/v1/clique/invites/${revoked.id}`, { method: "DELETE" });
    assert.equal(revokeReply.status, 200);
    const single = await createInvite({ max_uses: 1 });
    const good = await createInvite({ max_uses: 5 });

    const attempts: [Record<string, unknown>, number, string, RegExp][] = [
      [{ code: "no-such-code-at-all" }, 422, "invalid_invite", /not valid/],
      [{ code: revoked.code }, 422, "invite_revoked", /revoked/],
      [{ code: good.code, username: "bad name!" }, 422, "invalid_username", /letters, digits/],
      [{ code: good.code, username: "x".repeat(31) }, 422, "invalid_input", /username/],
      [{ code: good.code, username: "admin" }, 422, "reserved_username", /reserved/],
      [{ code: good.code, username: "BOB" }, 409, "username_taken", /taken/],
      [{ code: good.code, password: "short" }, 422, "password_too_short", /10 characters/],
      [{ code: good.code, role: "owner" }, 422, "invalid_input", /role/],
    ];
    for (const [patch, status, code, message] of attempts) {
      const reply = await redeem({
        code: good.code,
        username: "mallory",
        password: "mallory-password",
        ...patch,
      });
      assertError(reply, status, code, message);
      assert.equal(reply.headers.get("set-cookie"), null, "no session for a failure");
    }
    assert.deepEqual(await seats(), before, "no member was added");
    const invites = (await call("/api/v1/clique/invites")).body as unknown as {
      id: string;
      uses: number;
    }[];
    assert.equal(invites.find((i) => i.id === good.id)?.uses, 0, "no use was counted");

    // The single-use invite works once, then is used up.
    const joined = await redeem({ code: single.code, username: "dave", password: "dave-password" });
    assert.equal(joined.status, 201, JSON.stringify(joined.body));
    assert.equal((joined.body.account as { username: string }).username, "dave");
    const again = await redeem({ code: single.code, username: "erin", password: "erin-password" });
    assertError(again, 422, "invite_exhausted", /used up/);
    assert.deepEqual(await seats(), { members: 3, usernames: ["alice", "bob", "dave"] });
  });

  test("a full Clique refuses with 409 and stays full", async () => {
    const { members } = await seats();
    const invite = await createInvite();
    const capped = await call("/api/v1/clique", { method: "PATCH", body: { member_cap: members } });
    assert.equal(capped.status, 200, JSON.stringify(capped.body));
    try {
      const reply = await redeem({
        code: invite.code,
        username: "frank",
        password: "frank-pass-1",
      });
      assertError(reply, 409, "clique_full", /full/);
      assert.equal((await seats()).members, members);
    } finally {
      await call("/api/v1/clique", { method: "PATCH", body: { member_cap: 50 } });
    }
  });

  test("revoking an invite that does not exist is a 404", async () => {
    for (const id of ["00000000-0000-7000-8000-000000000000", "not-an-id"]) {
      assertError(
        await call(`/api/v1/clique/invites/${id}`, { method: "DELETE" }),
        404,
        "not_found",
      );
    }
  });
});

describe("credentials", () => {
  test("a wrong password is a 401; repeated failures are throttled with 429", async () => {
    const signIn = (password: string) =>
      call("/api/v1/clique/sessions", { body: { username: "bob", password }, token: null });
    for (let i = 0; i < 5; i++) {
      const reply = await signIn(`wrong-password-${i}`);
      assertError(reply, 401, "invalid_credentials", /Wrong username or password/);
      assert.equal(reply.headers.get("set-cookie"), null);
    }
    assertError(await signIn("wrong-again"), 429, "too_many_attempts", /Try again/);
    // Even the right password waits out the throttle: that is the point.
    assertError(await signIn(BOB_PASSWORD), 429, "too_many_attempts");
    // Other accounts are not affected.
    const alice = await call("/api/v1/clique/sessions", {
      body: { username: "alice", password: ALICE_PASSWORD },
      token: null,
    });
    assert.equal(alice.status, 200, JSON.stringify(alice.body));
  });

  test("unknown usernames fail exactly like wrong passwords", async () => {
    const reply = await call("/api/v1/clique/sessions", {
      body: { username: "nobody_here", password: "whatever-password" },
      token: null,
    });
    assertError(reply, 401, "invalid_credentials", /Wrong username or password/);
  });

  test("an invalid bearer token is a 401, even where anonymous callers are welcome", async () => {
    for (const path of ["/api/v1/accounts/verify_credentials", "/api/v1/instance"]) {
      assertError(await call(path, { token: "not-a-real-token" }), 401, "unauthorized", /token/);
    }
    assertError(
      await call("/api/v1/accounts/verify_credentials", {
        token: null,
        headers: { authorization: "Basic YWxpY2U6cGFzc3dvcmQ=" },
      }),
      401,
      "unauthorized",
    );
    assertError(
      await call("/api/v1/statuses", { body: { status: "anonymous post" }, token: null }),
      401,
      "unauthorized",
    );
  });

  test("cookie-session writes need our own Origin", async () => {
    const signIn = await call("/api/v1/clique/sessions", {
      body: { username: "alice", password: ALICE_PASSWORD },
      token: null,
    });
    assert.equal(signIn.status, 200, JSON.stringify(signIn.body));
    const cookie = /clique_session=[^;]+/.exec(signIn.headers.get("set-cookie") ?? "")?.[0];
    assert.ok(cookie, "sign-in sets the session cookie");
    assert.match(signIn.headers.get("set-cookie")!, /HttpOnly/i);

    const write = (text: string, origin?: string) =>
      call("/api/v1/statuses", {
        body: { status: text },
        token: null,
        headers: { cookie, ...(origin ? { origin } : {}) },
      });
    assertError(
      await write("Forged from elsewhere", "https://evil.example"),
      403,
      "forbidden",
      /Origin/,
    );
    assertError(await write("Forged without an origin"), 403, "forbidden");
    // A read sent with the cookie from another site is not signed in either (CORS
    // serves bearer tokens only); from our own pages it is, and shows that the
    // forged posts did not land.
    assertError(
      await call("/api/v1/timelines/home", {
        token: null,
        headers: { cookie, origin: "https://evil.example" },
      }),
      401,
      "unauthorized",
    );
    const home = await call("/api/v1/timelines/home", { token: null, headers: { cookie } });
    assert.equal(home.status, 200);
    assert.ok(!JSON.stringify(home.body).includes("Forged"), "no forged post was written");

    const own = await write("Written from our own page", server!.origin);
    assert.equal(own.status, 200, JSON.stringify(own.body));
    assert.equal(own.body.content, "<p>Written from our own page</p>");
  });
});

describe("ids and pagination", () => {
  test("malformed pagination ids and limits are a 422 naming the parameter", async () => {
    const me = await call("/api/v1/accounts/verify_credentials");
    const cases: [string, RegExp][] = [
      ["/api/v1/timelines/home?max_id=abc", /max_id/],
      ["/api/v1/timelines/home?since_id=1%27%20OR%201=1", /since_id/],
      [`/api/v1/accounts/${me.body.id}/statuses?min_id=nope`, /min_id/],
      ["/api/v1/timelines/home?limit=lots", /limit/],
      ["/api/v1/timelines/home?limit=0", /limit/],
    ];
    for (const [path, message] of cases) {
      assertError(await call(path), 422, "invalid_input", message);
    }
    // Large limits are clamped, as Mastodon does.
    const clamped = await call("/api/v1/timelines/home?limit=1000");
    assert.equal(clamped.status, 200);
  });

  test("malformed ids in paths are a plain 404", async () => {
    for (const path of [
      "/api/v1/statuses/not-an-id",
      "/api/v1/statuses/not-an-id/context",
      "/api/v1/statuses/not-an-id/history",
      "/api/v1/accounts/not-an-id",
      "/api/v1/accounts/not-an-id/statuses",
      "/api/v1/clique/circles/not-an-id",
      "/api/v1/no/such/route",
    ]) {
      assertError(await call(path), 404, "not_found", /not found/i);
    }
    assertError(
      await call("/api/v1/statuses/not-an-id", { method: "PUT", body: { status: "x" } }),
      404,
      "not_found",
    );
    assertError(await call("/api/v1/statuses/not-an-id", { method: "DELETE" }), 404, "not_found");
    assertError(
      await call("/api/v1/statuses", { body: { status: "x", in_reply_to_id: "not-an-id" } }),
      404,
      "reply_target_not_found",
    );
  });
});

describe("hostile field names", () => {
  // `__proto__[audience]=public` once set Object.prototype.audience in the server process:
  // every later post without an audience became public, JSON bodies and forms broke.
  const FORM = { "content-type": "application/x-www-form-urlencoded" };
  const HOSTILE_KEYS = [
    "__proto__[audience]",
    "__proto__[x]",
    "__proto__",
    "constructor[prototype][audience]",
    "prototype[x]",
    "interaction_policy[__proto__][reply]",
  ];
  const HOSTILE_JSON = [
    '{"status": "polluting", "__proto__": {"audience": "public", "x": 1}}',
    '{"status": "polluting", "constructor": {"prototype": {"audience": "public"}}}',
    '{"status": "polluting", "interaction_policy": {"__proto__": {"reply": "public"}}}',
    '{"username": "alice", "password": "x", "__proto__": {"then": 1}}',
  ];

  /** A hostile request may be refused (a 4xx naming the field) but never served as if fine. */
  function refused(reply: Reply, what: string): void {
    assert.ok(reply.status >= 400 && reply.status < 500, `${what}: ${reply.status}`);
    assert.equal(typeof reply.body.error, "string", what);
    assert.equal(typeof reply.body.code, "string", what);
  }

  test("__proto__, constructor and prototype keys are refused by every parser and pollute nothing", async () => {
    for (const key of HOSTILE_KEYS) {
      const q = `${encodeURIComponent(key).replaceAll("%5B", "[").replaceAll("%5D", "]")}=public`;
      // The query string, anonymous and signed in.
      for (const token of [null, aliceToken]) {
        const reply = await call(`/api/v1/accounts/lookup?acct=alice&${q}`, { token });
        refused(reply, `query ${key}`);
        assert.match(reply.body.error as string, /__proto__|constructor|prototype/);
      }
      // Form bodies: an anonymous sign-in and a member's post.
      refused(
        await call("/api/v1/clique/sessions", {
          body: `username=alice&password=x&${q}`,
          headers: FORM,
          token: null,
        }),
        `urlencoded sign-in ${key}`,
      );
      refused(
        await call("/api/v1/statuses", { body: `status=polluting&${q}`, headers: FORM }),
        `urlencoded post ${key}`,
      );
      const form = new FormData();
      form.append("status", "polluting");
      form.append(key, "public");
      refused(await call("/api/v1/statuses", { body: form }), `multipart ${key}`);
    }
    for (const json of HOSTILE_JSON) {
      const path = json.includes("username") ? "/api/v1/clique/sessions" : "/api/v1/statuses";
      refused(await call(path, { body: json, token: null }), `anonymous JSON ${json}`);
      refused(await call(path, { body: json }), `JSON ${json}`);
    }
    assert.ok(
      !(await homeTexts()).some((c) => c.includes("polluting")),
      "no hostile post was written",
    );

    // The same process still works: JSON and form posts keep their own audience...
    const json = await call("/api/v1/statuses", {
      body: { status: "Still standing", visibility: "unlisted" },
    });
    assert.equal(json.status, 200, JSON.stringify(json.body));
    assert.equal(json.body.content, "<p>Still standing</p>");
    assert.equal(json.body.visibility, "unlisted");
    const formPost = await call("/api/v1/statuses", {
      body: "status=Still+standing+too&visibility=private",
      headers: FORM,
    });
    assert.equal(formPost.status, 200, JSON.stringify(formPost.body));
    assert.equal(formPost.body.content, "<p>Still standing too</p>");
    assert.equal(formPost.body.visibility, "private");
    const multipart = new FormData();
    multipart.append("status", "Standing in parts");
    multipart.append("visibility", "unlisted");
    const partsPost = await call("/api/v1/statuses", { body: multipart });
    assert.equal(partsPost.status, 200, JSON.stringify(partsPost.body));
    assert.equal(partsPost.body.content, "<p>Standing in parts</p>");
    // ...a lookup answers the account...
    const lookup = await call("/api/v1/accounts/lookup?acct=alice", { token: null });
    assert.equal(lookup.status, 200, JSON.stringify(lookup.body));
    assert.equal(lookup.body.username, "alice");
    // ...sign-in works, as JSON and as a form...
    for (const [body, headers] of [
      [{ username: "alice", password: ALICE_PASSWORD }, {}],
      [`username=alice&password=${encodeURIComponent(ALICE_PASSWORD)}`, FORM],
    ] as const) {
      const signIn = await call("/api/v1/clique/sessions", { body, headers, token: null });
      assert.equal(signIn.status, 200, JSON.stringify(signIn.body));
      assert.equal((signIn.body.account as { username: string }).username, "alice");
    }
    // ...and the outbox answers, with the public post in it.
    const outbox = await fetch(`${server!.url}/users/alice/outbox?cursor=`, {
      headers: { accept: "application/activity+json" },
    });
    const page = (await outbox.json()) as { type: string; orderedItems?: unknown[] };
    assert.equal(outbox.status, 200, JSON.stringify(page));
    assert.equal(page.type, "OrderedCollectionPage");
    assert.match(JSON.stringify(page.orderedItems), /Still standing/);
  });
});

describe("text PostgreSQL cannot store", () => {
  // A NUL byte once reached PostgreSQL (error 22021) and answered 500 with a stack trace in the log.
  const NUL = "before\u0000after";
  const LONE = "before\ud800after";

  test("a NUL byte or a lone surrogate in any field is a 422 naming the field", async () => {
    const circle = await call("/api/v1/clique/circles", { body: { name: "Text checks" } });
    assert.equal(circle.status, 201, JSON.stringify(circle.body));
    const cases: [string, string, Record<string, unknown>, string | null][] = [
      ["POST", "/api/v1/statuses", { status: "x" }, "status"],
      ["POST", "/api/v1/statuses", { status: "x", spoiler_text: "x" }, "spoiler_text"],
      ["PATCH", "/api/v1/accounts/update_credentials", { display_name: "x" }, "display_name"],
      ["PATCH", "/api/v1/accounts/update_credentials", { note: "x" }, "note"],
      ["POST", "/api/v1/clique/circles", { name: "x" }, "name"],
      ["PATCH", `/api/v1/clique/circles/${circle.body.id}`, { name: "x" }, "name"],
      ["POST", "/api/v1/clique/tokens", { name: "x" }, "name"],
      ["POST", "/api/v1/clique/sessions", { username: "x", password: "p" }, null],
    ];
    for (const [method, path, body, field] of cases) {
      const name = field ?? "username";
      for (const bad of [NUL, LONE]) {
        const token = field === null ? null : aliceToken;
        const reply = await call(path, { method, body: { ...body, [name]: bad }, token });
        assertError(reply, 422, "invalid_input", new RegExp(`"${name}"`));
        assert.match(reply.body.error as string, bad === NUL ? /NUL/ : /surrogate/);
      }
      // The same through a form (lone surrogates cannot be sent as UTF-8, so NUL only).
      const form = new URLSearchParams({ ...body, [name]: NUL } as Record<string, string>);
      const reply = await call(path, {
        method,
        body: form.toString(),
        headers: { "content-type": "application/x-www-form-urlencoded" },
        token: field === null ? null : aliceToken,
      });
      assertError(reply, 422, "invalid_input", new RegExp(`"${name}".*NUL`));
    }
    // Nested fields are named by their path.
    assertError(
      await call("/api/v1/accounts/update_credentials", {
        method: "PATCH",
        body: { fields_attributes: [{ name: "ok", value: NUL }] },
      }),
      422,
      "invalid_input",
      /"fields_attributes\.0\.value"/,
    );
    // Query and path parameters, for the API and for ActivityPub alike.
    assertError(
      await call("/api/v1/accounts/lookup?acct=alice%00", { token: null }),
      422,
      "invalid_input",
      /"acct".*NUL/,
    );
    for (const path of [
      "/api/v1/statuses/%00",
      "/api/v1/accounts/%00/statuses",
      "/users/alice%00",
      "/users/alice/outbox?cursor=%00",
      "/.well-known/webfinger?resource=acct:alice%00@localhost",
    ]) {
      assertError(await call(path, { token: null }), 422, "invalid_input", /NUL/);
    }
    // Nothing was written, and the real thing still works.
    assert.ok(!(await homeTexts()).some((c) => c.includes("before")), "no post was written");
    const me = await call("/api/v1/accounts/verify_credentials");
    assert.doesNotMatch(JSON.stringify(me.body), /before/);
    const ok = await call("/api/v1/statuses", { body: { status: "Plain text is fine ✓ 🎉" } });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.equal(ok.body.content, "<p>Plain text is fine ✓ 🎉</p>");
  });

  test("an outbox cursor that is not an id is an empty page, not a 500", async () => {
    for (const cursor of ["not-a-uuid", "1' OR '1'='1", "00000000-0000-7000-8000-00000000000"]) {
      const response = await fetch(
        `${server!.url}/users/alice/outbox?cursor=${encodeURIComponent(cursor)}`,
        { headers: { accept: "application/activity+json" } },
      );
      const text = await response.text();
      assert.equal(response.status, 200, `${cursor}: ${text.slice(0, 200)}`);
      const page = JSON.parse(text) as { type: string; orderedItems?: unknown[] };
      assert.equal(page.type, "OrderedCollectionPage");
      assert.deepEqual(page.orderedItems ?? [], [], cursor);
    }
    assert.doesNotMatch(server!.output(), / ERR /, "the server logged no error");
  });
});
