import { Hono } from "hono";
import type { AppEnv } from "./env.ts";

// A neutral 1×1 grey PNG: Mastodon clients expect avatar and header URLs to load.
const GREY_PNG = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAAAAAA6fptVAAAACklEQVR4nGO4BwAA0gDQ8JGd5AAAAABJRU5ErkJggg==",
  "base64",
);

/** Built-in static files. */
export const staticAssets = new Hono<AppEnv>();
for (const name of ["avatar.png", "header.png"]) {
  staticAssets.get(`/${name}`, (c) => {
    c.header("Cache-Control", "public, max-age=86400");
    return c.body(GREY_PNG, 200, { "Content-Type": "image/png" });
  });
}
