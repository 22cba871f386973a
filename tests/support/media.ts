/**
 * Photos for the whole-system tests (`media.test.ts`, `canary-crawl.test.ts`,
 * `route-fuzz.test.ts`): images made with sharp, multipart bodies written
 * byte by byte (so a test controls every header and boundary), and uploads
 * through Mastodon's `POST /api/v2/media`, waited for until processed.
 *
 * Not a test file: its name does not end in `.test.ts`.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import sharp from "sharp";
import { eventually } from "./mastodon-signing.ts";

/** A Mastodon MediaAttachment, as far as the tests read it. */
export interface MediaAttachment {
  id: string;
  type: string;
  url: string | null;
  preview_url: string | null;
  description: string | null;
  blurhash: string | null;
  meta: {
    original?: { width: number; height: number };
    small?: { width: number; height: number };
    focus?: { x: number; y: number };
  };
}

/** One part of a multipart body. */
export interface Part {
  name: string;
  /** A file part's name; absent for a plain field. */
  filename?: string;
  contentType?: string;
  /** More header lines, as written. */
  headers?: readonly string[];
  body: string | Uint8Array;
}

/** A multipart/form-data body and its Content-Type, written as given (nothing escaped). */
export function multipart(
  parts: readonly Part[],
  options: { boundary?: string; close?: boolean } = {},
): { type: string; body: Uint8Array<ArrayBuffer> } {
  const boundary = options.boundary ?? `----clique-test-${randomBytes(8).toString("hex")}`;
  const chunks: Buffer[] = [];
  for (const part of parts) {
    const disposition = `Content-Disposition: form-data; name="${part.name}"${
      part.filename !== undefined ? `; filename="${part.filename}"` : ""
    }`;
    const head = [
      `--${boundary}`,
      disposition,
      ...(part.contentType ? [`Content-Type: ${part.contentType}`] : []),
      ...(part.headers ?? []),
      "",
      "",
    ].join("\r\n");
    chunks.push(Buffer.from(head, "utf8"), Buffer.from(part.body), Buffer.from("\r\n"));
  }
  if (options.close !== false) chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return {
    type: `multipart/form-data; boundary=${boundary}`,
    body: new Uint8Array(Buffer.concat(chunks)),
  };
}

/** A solid-colour image, as PNG (or JPEG). */
export function solidImage(
  width: number,
  height: number,
  rgb: readonly [number, number, number],
  format: "png" | "jpeg" = "png",
): Promise<Buffer> {
  const image = sharp({
    create: { width, height, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } },
  });
  return (format === "png" ? image.png() : image.jpeg({ quality: 90 })).toBuffer();
}

/** The mean colour of an image's pixels (to tell photos apart after re-encoding). */
export async function meanColour(bytes: Uint8Array): Promise<[number, number, number]> {
  const stats = await sharp(bytes).stats();
  const [r, g, b] = stats.channels.map((c) => Math.round(c.mean));
  return [r!, g!, b!];
}

/** Whether two colours are within `tolerance` on every channel (lossy encoders shift them a little). */
export function near(a: readonly number[], b: readonly number[], tolerance = 12): boolean {
  return a.every((v, i) => Math.abs(v - b[i]!) <= tolerance);
}

/** POSTs one file to `/api/v2/media` as `token`; the answer's status and JSON (or text). */
export async function upload(
  base: string,
  token: string,
  bytes: Uint8Array,
  options: { filename?: string; contentType?: string; fields?: Record<string, string> } = {},
): Promise<{ status: number; json: Record<string, unknown>; text: string }> {
  const { type, body } = multipart([
    ...Object.entries(options.fields ?? {}).map(([name, value]) => ({ name, body: value })),
    {
      name: "file",
      filename: options.filename ?? "photo.png",
      contentType: options.contentType ?? "application/octet-stream",
      body: bytes,
    },
  ]);
  const response = await fetch(`${base}/api/v2/media`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": type },
    body,
  });
  const text = await response.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {}
  return { status: response.status, json, text };
}

/** `GET /api/v1/media/:id` until it is no longer processing (206); its final status and JSON. */
export async function whenProcessed(
  base: string,
  token: string,
  id: string,
  timeoutMs = 60_000,
): Promise<{ status: number; json: Record<string, unknown> }> {
  return eventually(
    `upload ${id} to be processed`,
    async () => {
      const response = await fetch(`${base}/api/v1/media/${id}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      const json = (await response.json()) as Record<string, unknown>;
      return response.status === 206 ? null : { status: response.status, json };
    },
    timeoutMs,
  );
}

/** Uploads an image and waits until it is ready to attach; its MediaAttachment. */
export async function uploadReady(
  base: string,
  token: string,
  bytes: Uint8Array,
  options: { filename?: string; fields?: Record<string, string> } = {},
): Promise<MediaAttachment> {
  const sent = await upload(base, token, bytes, options);
  assert.equal(sent.status, 202, `upload: ${sent.status} ${sent.text}`);
  const done = await whenProcessed(base, token, sent.json.id as string);
  assert.equal(done.status, 200, `processing: ${done.status} ${JSON.stringify(done.json)}`);
  return done.json as unknown as MediaAttachment;
}
