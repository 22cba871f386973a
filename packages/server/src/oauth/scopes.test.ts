import assert from "node:assert/strict";
import { test } from "node:test";
import { scopeCovers } from "@clique/core";
import { API_ROUTES } from "../http/routes.ts";
import { allows, findScopeEntry, ROUTE_SCOPES, requiredScope } from "./scopes.ts";

/** A concrete path for a route pattern: each parameter replaced by a sample value. */
function samplePath(path: string): string {
  return path
    .replace(/:[A-Za-z_]+\{@[^}]*\}/g, "@alice")
    .replace(/:[A-Za-z_]+\{[^}]*\}/g, "x1")
    .replace(/:[A-Za-z_]+/g, "0192f0a4-0000-7000-8000-000000000001");
}

test("every route of API_ROUTES has an entry in the scope table", () => {
  const missing = API_ROUTES.filter((r) => !findScopeEntry(r.method, samplePath(r.path))).map(
    (r) => `${r.method} ${r.path}`,
  );
  assert.deepEqual(missing, [], "routes without a scope: add them to oauth/scopes.ts");
});

test("routes other helpers are adding are mapped ahead, by Mastodon's documented scopes", () => {
  const expected: [string, string, string | null][] = [
    ["GET", "/api/v1/bookmarks", "read:bookmarks"],
    ["POST", "/api/v1/statuses/1/bookmark", "write:bookmarks"],
    ["GET", "/api/v1/favourites", "read:favourites"],
    ["POST", "/api/v1/statuses/1/pin", "write:accounts"],
    ["GET", "/api/v1/statuses/1/reblogged_by", "read:accounts"],
    ["GET", "/api/v1/statuses/1/favourited_by", "read:accounts"],
    ["POST", "/api/v1/notifications/1/dismiss", "write:notifications"],
    ["POST", "/api/v1/notifications/clear", "write:notifications"],
    ["GET", "/api/v1/notifications/unread_count", "read:notifications"],
    ["GET", "/api/v2/notifications", "read:notifications"],
    ["GET", "/api/v1/markers", "read:statuses"],
    ["POST", "/api/v1/markers", "write:statuses"],
    ["GET", "/api/v1/preferences", "read:accounts"],
    ["GET", "/api/v2/filters/5", "read:filters"],
    ["POST", "/api/v2/filters", "write:filters"],
    ["GET", "/api/v1/lists/3/accounts", "read:lists"],
    ["DELETE", "/api/v1/lists/3", "write:lists"],
    ["GET", "/api/v1/announcements", "read"],
    ["GET", "/api/v1/conversations", "read:statuses"],
    ["POST", "/api/v1/conversations/1/read", "write:conversations"],
    ["GET", "/api/v1/streaming/health", null],
    ["GET", "/api/v1/timelines/public", "read:statuses"],
    ["GET", "/api/v1/timelines/tag/cats", "read:statuses"],
    ["GET", "/@bob", null],
    ["GET", "/@bob/0192f0a4-0000-7000-8000-000000000001", null],
    // Literal routes beat the parameter route beside them.
    ["GET", "/api/v1/accounts/relationships", "read:follows"],
    ["GET", "/api/v1/accounts/lookup", "read:accounts"],
    ["POST", "/api/v1/statuses", "write:statuses"],
    ["GET", "/api/v1/admin/reports/1", "admin:read:reports"],
    ["POST", "/api/v1/admin/accounts/1/action", "admin:write:accounts"],
    ["POST", "/api/v1/accounts/1/follow", "write:follows"],
  ];
  for (const [method, path, scope] of expected)
    assert.deepEqual(requiredScope(method, path), scope, `${method} ${path}`);
  assert.deepEqual(requiredScope("GET", "/api/v1/accounts/verify_credentials"), [
    "read:accounts",
    "profile",
  ]);
  // Unknown API routes need the broad scope of their kind.
  assert.equal(requiredScope("GET", "/api/v9/nothing"), "read");
  assert.equal(requiredScope("POST", "/api/v9/nothing"), "write");
});

test("a parent scope covers its children, as Mastodon documents", () => {
  assert.ok(scopeCovers(["read"], "read:statuses"));
  assert.ok(scopeCovers(["write"], "write:media"));
  assert.ok(!scopeCovers(["read"], "write:statuses"));
  assert.ok(!scopeCovers(["read:statuses"], "read"));
  assert.ok(!scopeCovers(["read:statuses"], "read:notifications"));
  for (const child of [
    "read:follows",
    "write:follows",
    "read:blocks",
    "write:blocks",
    "read:mutes",
    "write:mutes",
  ])
    assert.ok(scopeCovers(["follow"], child), child);
  assert.ok(!scopeCovers(["follow"], "write:statuses"));
  assert.ok(scopeCovers(["admin:read"], "admin:read:accounts"));
  assert.ok(!scopeCovers(["admin:read"], "admin:write:accounts"));
  assert.ok(!scopeCovers(["read"], "admin:read:accounts"));
  assert.ok(allows(["profile"], ["read:accounts", "profile"]));
  assert.ok(allows([], null));
});

test("the table names only known scopes", async () => {
  const { isScope } = await import("@clique/core");
  for (const entry of ROUTE_SCOPES) {
    const scopes =
      entry.scope === null ? [] : typeof entry.scope === "string" ? [entry.scope] : entry.scope;
    for (const s of scopes) assert.ok(isScope(s), `${entry.method} ${entry.path}: ${s}`);
  }
});

test("encrypted chats need their own scope: an app granted read and write cannot be a chat device", () => {
  for (const [method, path] of [
    ["POST", "/api/v1/e2ee/devices"],
    ["GET", "/api/v1/e2ee/messages"],
    ["GET", "/api/v1/e2ee/directory"],
    ["POST", "/api/v1/e2ee/groups/x/messages"],
  ] as const) {
    const needed = requiredScope(method, path);
    assert.ok(!allows(["read", "write", "follow", "push"], needed), `${method} ${path}`);
    assert.ok(allows(["clique:chats"], needed), `${method} ${path}`);
  }
  // The published policy stays public.
  assert.equal(requiredScope("GET", "/.well-known/clique-security"), null);
});
