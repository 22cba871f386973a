/**
 * Mastodon's media endpoints: upload (`POST /api/v2/media`, and the older
 * `/api/v1/media`), read and describe (`GET`/`PUT /api/v1/media/:id`). An
 * upload is streamed to disk and processed as a job: it answers 202 while
 * processing and, on `GET`, 206 until it is ready, as Mastodon does.
 */
import type { Context } from "hono";
import { Hono } from "hono";
import { z } from "zod";
import { requireMember } from "../../http/auth.ts";
import { checkInput, readBody, validate } from "../../http/body.ts";
import type { AppEnv } from "../../http/env.ts";
import { notFound, problem } from "../../http/errors.ts";
import { receiveUpload } from "../../media/upload.ts";
import { serializeMedia } from "./serializers.ts";

/** Mastodon's focal point, `"x,y"` with each in [-1, 1]. */
const focusSchema = z
  .string()
  .regex(/^-?\d+(\.\d+)?,-?\d+(\.\d+)?$/, 'a focal point is "x,y", each between -1 and 1')
  .transform((text) => {
    const [x, y] = text.split(",").map(Number);
    return { x: x!, y: y! };
  });

const uploadFields = z.object({
  description: z.string().max(10_000).optional(),
  focus: focusSchema.optional(),
});

async function render(c: Context<AppEnv>, mediaId: string) {
  const { clique, config } = c.get("services");
  const media = await clique.getMediaById(mediaId);
  if (!media) throw notFound();
  const viewer = c.get("viewer");
  const url = media.display ? await clique.mediaPath(media.display, null, viewer) : null;
  const previewUrl = media.small ? await clique.mediaPath(media.small, null, viewer) : null;
  return { media, json: serializeMedia(config.origin, media, { url, previewUrl }) };
}

/** Uploads: `/api/v1/media` and `/api/v2/media` (the same handler). */
export const mediaUploadApi = new Hono<AppEnv>();

mediaUploadApi.post("/", async (c) => {
  const member = requireMember(c);
  const { clique, config, blobs } = c.get("services");
  const upload = await receiveUpload(c.req.raw, blobs, {
    imageBytes: config.media.imageBytes,
    videoBytes: config.media.videoBytes,
  });
  const fields = (() => {
    try {
      // The same refusals as every other body: NUL bytes, lone surrogates, `__proto__` keys.
      checkInput(upload.fields);
      return validate(uploadFields, upload.fields);
    } catch (error) {
      void blobs.delete([upload.sourceKey]);
      throw error;
    }
  })();
  const result = await clique.uploadMedia(member, {
    sourceKey: upload.sourceKey,
    ...(fields.description !== undefined ? { description: fields.description } : {}),
    ...(fields.focus ? { focus: fields.focus } : {}),
  });
  if (!result.ok) {
    await blobs.delete([upload.sourceKey]);
    throw problem(result.reason, result.detail);
  }
  const { json } = await render(c, result.value.id);
  return c.json(json, 202);
});

/** Reading and describing an upload: `/api/v1/media/:id`. */
export const mediaApi = new Hono<AppEnv>();

mediaApi.get("/:id", async (c) => {
  const member = requireMember(c);
  const { clique } = c.get("services");
  // A failed upload is told once, with its reason, and is gone afterwards.
  const own = await clique.checkOwnMedia(member, c.req.param("id"));
  if (!own) throw notFound();
  if (own.state === "failed")
    throw problem("media_failed", own.error ?? "The file could not be processed");
  const { media, json } = await render(c, own.id);
  // Processing may have failed between the two reads: tell it as above, not as a 200.
  if (media.state === "failed") {
    const failed = await clique.checkOwnMedia(member, own.id);
    throw problem("media_failed", failed?.error ?? "The file could not be processed");
  }
  return c.json(json, media.state === "processing" ? 206 : 200);
});

const describeSchema = z.object({
  description: z.string().max(10_000).optional(),
  focus: focusSchema.optional(),
});

mediaApi.put("/:id", async (c) => {
  const member = requireMember(c);
  const { clique } = c.get("services");
  const input = validate(describeSchema, await readBody(c));
  const result = await clique.describeMedia(member, c.req.param("id"), {
    ...(input.description !== undefined ? { description: input.description } : {}),
    ...(input.focus ? { focus: input.focus } : {}),
  });
  if (!result.ok) throw problem(result.reason, result.detail);
  const { json } = await render(c, result.value.id);
  return c.json(json);
});
