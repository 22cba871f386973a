import { Hono } from "hono";
import sharp from "sharp";
import type { AppEnv } from "./env.ts";

/**
 * Plain images that Mastodon clients expect to load: the default header (and
 * a neutral avatar, for links made before every account had its own). Drawn
 * once by sharp, so they are real PNGs that any decoder reads.
 */
const IMAGES: Record<string, { width: number; height: number }> = {
  "avatar.png": { width: 400, height: 400 },
  "header.png": { width: 1500, height: 500 },
};

const drawn = new Map<string, Promise<Buffer>>();

function draw(name: string): Promise<Buffer> {
  let image = drawn.get(name);
  if (!image) {
    const { width, height } = IMAGES[name]!;
    image = sharp({ create: { width, height, channels: 3, background: "#d8dde3" } })
      .png({ compressionLevel: 9 })
      .toBuffer();
    image.catch(() => drawn.delete(name));
    drawn.set(name, image);
  }
  return image;
}

/** Built-in static files. */
export const staticAssets = new Hono<AppEnv>();
for (const name of Object.keys(IMAGES)) {
  staticAssets.get(`/${name}`, async (c) => {
    c.header("Cache-Control", "public, max-age=86400");
    return c.body(new Uint8Array(await draw(name)), 200, { "Content-Type": "image/png" });
  });
}
