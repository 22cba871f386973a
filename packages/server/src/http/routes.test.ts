import assert from "node:assert/strict";
import { test } from "node:test";
import { FEDERATION_PATHS } from "@clique/core";
import { createApp } from "./app.ts";
import type { AppServices } from "./env.ts";
import { API_ROUTES, FEDERATION_ROUTES } from "./routes.ts";

test("the route list and the router agree, both ways", () => {
  const app = createApp({
    clique: { federation: null },
    config: { bodyLimit: 1024, origin: "http://routes.test" },
  } as unknown as AppServices);
  const routed = new Set(
    app.routes.filter((r) => r.method !== "ALL").map((r) => `${r.method} ${r.path}`),
  );
  const listed = new Set(API_ROUTES.map((r) => `${r.method} ${r.path}`));
  assert.deepEqual(
    [...routed].filter((r) => !listed.has(r)).sort(),
    [],
    "routes missing from http/routes.ts",
  );
  assert.deepEqual(
    [...listed].filter((r) => !routed.has(r)).sort(),
    [],
    "listed routes the router does not have",
  );
});

test("the federation routes are the paths core's federation registers", () => {
  const toTemplate = (path: string) =>
    path.replace(/:username/, "{identifier}").replace(/:id/, "{id}");
  const listed = new Set(
    FEDERATION_ROUTES.filter((r) => r.path.startsWith("/users") || r.path === "/inbox").map((r) =>
      toTemplate(r.path),
    ),
  );
  assert.deepEqual([...listed].sort(), [...Object.values(FEDERATION_PATHS)].sort());
});
