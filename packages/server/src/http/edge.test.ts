import assert from "node:assert/strict";
import { test } from "node:test";
import { Hono } from "hono";
import { createApp } from "./app.ts";
import { activityGuard, jsonErrors } from "./edge.ts";
import type { AppEnv, AppServices } from "./env.ts";

// Enough of a Clique for requests that the edge answers before any use case runs.
const app = createApp({
  clique: { federation: null },
  config: { bodyLimit: 1024 * 1024, origin: "http://edge.test" },
} as unknown as AppServices);

async function answer(path: string, init?: RequestInit) {
  const response = await app.request(path, init);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

test("an :id of the client API that is not a record id is a 404, static siblings are not", async () => {
  for (const [method, path] of [
    ["GET", "/api/v1/accounts/not-an-id"],
    ["POST", "/api/v1/accounts/not-an-id/follow"],
    ["POST", "/api/v1/accounts/%ED%A0%80/block"],
    ["POST", "/api/v1/follow_requests/-1/authorize"],
    ["PATCH", "/api/v1/clique/members/__proto__"],
    ["DELETE", "/api/v1/clique/invites/00000000-0000-7000-8000-00000000000g"],
  ] as const) {
    const { status, body } = await answer(path, { method });
    assert.equal(status, 404, `${method} ${path}`);
    assert.deepEqual(body, { error: "Record not found", code: "not_found" });
  }
  // Static routes beside `/:id` are not ids: they reach their handlers (which want a member).
  for (const path of ["/api/v1/accounts/verify_credentials", "/api/v1/accounts/relationships"]) {
    assert.equal((await answer(path)).status, 401, path);
  }
  assert.equal((await answer("/api/v1/accounts/lookup")).status, 422);
});

test("NUL bytes, lone surrogates and __proto__ keys in paths and queries are a 422 naming them", async () => {
  const cases: [string, RegExp][] = [
    ["/users/alice%00", /URL path.*NUL/],
    ["/api/v1/accounts/lookup?acct=a%00b", /"acct".*NUL/],
    ["/api/v1/accounts/lookup?acct=alice&__proto__[audience]=public", /"__proto__.*not allowed/],
    ["/health?constructor[prototype][x]=1", /"constructor.*not allowed/],
    ["/health?a[b][c][d][e][f][g][h]=1", /could not be read/],
  ];
  for (const [path, message] of cases) {
    const { status, body } = await answer(path);
    assert.equal(status, 422, path);
    assert.equal(body.code, "invalid_input", path);
    assert.match(body.error as string, message, path);
  }
  assert.equal(({} as Record<string, unknown>).audience, undefined, "nothing was polluted");
});

test("error answers in text become JSON with error and code", async () => {
  const text = new Hono<AppEnv>();
  text.use("*", jsonErrors());
  text.get("/signature", (c) => c.text("Failed to verify the request signature.", 401));
  text.get("/empty", (c) => c.body(null, 404));
  text.get("/fine", (c) => c.text("hello"));
  const signature = await text.request("/signature");
  assert.equal(signature.status, 401);
  assert.deepEqual(await signature.json(), {
    error: "Failed to verify the request signature.",
    code: "unauthorized",
  });
  const empty = await text.request("/empty");
  assert.deepEqual(await empty.json(), { error: "Record not found", code: "not_found" });
  assert.equal(await (await text.request("/fine")).text(), "hello", "successes are left alone");
});

test("an inbox POST nested deeper than any activity is refused before Fedify reads it", async () => {
  const inbox = new Hono<AppEnv>();
  inbox.onError((error, c) => c.json({ error: error.message }, 422));
  inbox.use("*", activityGuard());
  inbox.post("*", (c) => c.json({ read: true }));
  const post = (body: string) => inbox.request("/users/alice/inbox", { method: "POST", body });
  const deep = await post(`${"[".repeat(5_000)}${"]".repeat(5_000)}`);
  assert.equal(deep.status, 422);
  assert.match(((await deep.json()) as { error: string }).error, /nested more than 32/);
  // Brackets inside strings are text, and ordinary activities pass.
  const activity = JSON.stringify({
    type: "Create",
    object: { type: "Note", content: "[".repeat(100), tag: [{ type: "Mention" }] },
  });
  assert.deepEqual(await (await post(activity)).json(), { read: true });
});
