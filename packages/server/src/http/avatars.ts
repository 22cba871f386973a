/**
 * Default avatars: every account gets a symmetric identicon drawn from a hash
 * of its id (a 5×5 grid mirrored left to right, one colour on a light tint of
 * it), 400×400, encoded as PNG by sharp. Each is drawn once and kept in a
 * small LRU cache; the image is a pure function of the id, so it is cached
 * long by clients and other servers too (with an ETag for revalidation).
 *
 * Unknown ids, ids that are not UUIDs and removed members all answer the same
 * 404: whether a removed member ever existed is nobody's business.
 *
 * Uploaded avatars and headers are served here too, by their unguessable file
 * keys (`media/profile-images.ts` makes them), cacheable by anyone for a year.
 */
import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import { isId } from "@clique/core";
import { type Context, Hono } from "hono";
import sharp from "sharp";
import type { AppEnv } from "./env.ts";
import { notFound } from "./errors.ts";

/** Width and height of a default avatar, in pixels. */
export const AVATAR_SIZE = 400;
const GRID = 5;
const CELL = 64;
const MARGIN = (AVATAR_SIZE - GRID * CELL) / 2;
/** How long clients and other servers may keep an avatar without asking again (30 days). */
const MAX_AGE_SECONDS = 30 * 24 * 60 * 60;
/** Avatars kept in memory (a few kilobytes each). */
const CACHE_ENTRIES = 256;

/** An encoded avatar and its entity tag. */
export interface Avatar {
  png: Buffer;
  etag: string;
}

function hslToRgb(h: number, s: number, l: number): [number, number, number] {
  const a = s * Math.min(l, 1 - l);
  const f = (n: number) => {
    const k = (n + h / 30) % 12;
    return Math.round(255 * (l - a * Math.max(-1, Math.min(k - 3, 9 - k, 1))));
  };
  return [f(0), f(8), f(4)];
}

/** Draws the identicon of `seed` (an account id) as a PNG. */
export async function drawAvatar(seed: string): Promise<Avatar> {
  const hash = createHash("sha256").update(`clique-avatar:${seed}`).digest();
  // A pleasant colour: any hue, fairly saturated, mid lightness; the background a pale tint.
  const hue = ((hash[0]! << 8) | hash[1]!) % 360;
  const saturation = 0.5 + (hash[2]! / 255) * 0.2;
  const lightness = 0.4 + (hash[3]! / 255) * 0.12;
  const ink = hslToRgb(hue, saturation, lightness);
  const paper = hslToRgb(hue, 0.35, 0.94);
  // Three columns of five cells, mirrored onto the other two.
  const on: boolean[][] = [];
  for (let row = 0; row < GRID; row++) {
    on.push([]);
    for (let col = 0; col < GRID; col++) {
      const source = col < 3 ? col : GRID - 1 - col;
      const bit = row * 3 + source;
      on[row]!.push(((hash[4 + (bit >> 3)]! >> (bit & 7)) & 1) === 1);
    }
  }
  // Never an empty face: the centre is always drawn.
  on[2]![2] = true;
  const pixels = Buffer.alloc(AVATAR_SIZE * AVATAR_SIZE * 3);
  for (let y = 0; y < AVATAR_SIZE; y++) {
    const row = Math.floor((y - MARGIN) / CELL);
    for (let x = 0; x < AVATAR_SIZE; x++) {
      const col = Math.floor((x - MARGIN) / CELL);
      const inked = row >= 0 && row < GRID && col >= 0 && col < GRID && on[row]![col]!;
      const [r, g, b] = inked ? ink : paper;
      const i = (y * AVATAR_SIZE + x) * 3;
      pixels[i] = r;
      pixels[i + 1] = g;
      pixels[i + 2] = b;
    }
  }
  const png = await sharp(pixels, {
    raw: { width: AVATAR_SIZE, height: AVATAR_SIZE, channels: 3 },
  })
    .png({ compressionLevel: 9, palette: true, colours: 2 })
    .toBuffer();
  return { png, etag: `"${createHash("sha256").update(png).digest("base64url").slice(0, 22)}"` };
}

/** A tiny LRU cache of drawings in progress or done, so each is drawn once. */
class AvatarCache {
  private readonly entries = new Map<string, Promise<Avatar>>();
  private readonly capacity: number;

  constructor(capacity: number) {
    this.capacity = capacity;
  }

  get(id: string): Promise<Avatar> {
    const cached = this.entries.get(id);
    if (cached) {
      // Most recently used goes last.
      this.entries.delete(id);
      this.entries.set(id, cached);
      return cached;
    }
    const drawing = drawAvatar(id);
    // A failed drawing is not kept: the next request tries again.
    drawing.catch(() => this.entries.delete(id));
    this.entries.set(id, drawing);
    if (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    return drawing;
  }
}

const cache = new AvatarCache(CACHE_ENTRIES);

/** Whether the account exists and is not a removed member. */
async function hasAvatar(c: Context<AppEnv>, id: string): Promise<boolean> {
  const { clique } = c.get("services");
  const actor = await clique.getActor(id);
  if (!actor) return false;
  if (actor.kind === "remote") return true;
  const member = await clique.getMember(id);
  return member !== null && member.status !== "removed";
}

/** How long an uploaded picture may be kept: for ever (a key never changes its bytes). */
const UPLOADED_MAX_AGE_SECONDS = 365 * 24 * 60 * 60;

/** An uploaded avatar or header, `<file key>.webp`: public, like the actor document that names it. */
async function uploaded(c: Context<AppEnv>, key: string): Promise<Response> {
  const { clique, blobs } = c.get("services");
  const file = await clique.getProfileImage(key);
  if (!file) throw notFound();
  const etag = `"${file.key}"`;
  const headers = {
    "Content-Type": file.mediaType,
    "Cache-Control": `public, max-age=${UPLOADED_MAX_AGE_SECONDS}, immutable`,
    ETag: etag,
    // Bytes, never a page: nothing in them may run.
    "Content-Security-Policy": "default-src 'none'; sandbox",
    // Apps on other sites show these in <img>.
    "Cross-Origin-Resource-Policy": "cross-origin",
  };
  if (c.req.header("If-None-Match") === etag) return c.body(null, 304, headers);
  const blob = await blobs.read(file.key);
  if (!blob) throw notFound();
  return c.body(Readable.toWeb(blob.stream) as ReadableStream, 200, {
    ...headers,
    "Content-Length": String(blob.size),
  });
}

/**
 * `GET /avatars/:file`: `<account id>.png` is the account's generated
 * default; `<file key>.webp` a member's uploaded avatar or header.
 */
export const avatars = new Hono<AppEnv>();

avatars.get("/:file", async (c) => {
  const file = c.req.param("file");
  if (!file.endsWith(".png")) return uploaded(c, file);
  const id = /^([0-9a-f-]{36})\.png$/.exec(file)?.[1];
  if (!id || !isId(id) || !(await hasAvatar(c, id))) throw notFound();
  const { png, etag } = await cache.get(id);
  c.header("Cache-Control", `public, max-age=${MAX_AGE_SECONDS}`);
  c.header("ETag", etag);
  const asked = c.req.header("If-None-Match");
  if (asked?.split(/\s*,\s*/).some((tag) => tag.replace(/^W\//, "") === etag || tag === "*"))
    return c.body(null, 304);
  return c.body(new Uint8Array(png), 200, { "Content-Type": "image/png" });
});
