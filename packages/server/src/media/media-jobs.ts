/**
 * Media work, on the job engine. Uploads are recorded in the outbox with
 * their media row; the relay hands each `media-uploaded` event to this
 * subscriber, which queues a `media` job (one per upload: its id is the
 * media's). A worker then processes the bytes (`process-image.ts`), stores
 * the variants under fresh unguessable keys, and marks the item ready — or
 * failed, with a reason for the member. A crash mid-way leaves the job to be
 * taken up again. Files of deleted media are deleted once their rows are gone.
 */
import { createReadStream } from "node:fs";
import { open } from "node:fs/promises";
import { Readable } from "node:stream";
import type { Clique, EventSubscriber } from "@clique/core";
import { getLogger } from "@logtape/logtape";
import type { JobEngine, TaskQueue } from "../jobs/engine.ts";
import type { BlobStore } from "./blob-store.ts";
import { MediaRefused, processImage } from "./process-image.ts";
import { DEFAULT_VIDEO_LIMITS, processVideo, type VideoLimits } from "./process-video.ts";
import { looksLikeVideo } from "./upload.ts";

const log = getLogger(["clique", "media"]);

/** What a `media` job carries. */
interface MediaJob {
  mediaId: string;
  sourceKey: string;
}

/** How media work is done. */
export interface MediaJobSettings {
  /** Most pixels an image may have (a decompression bomb has far more). */
  maxPixels: number;
  /** Uploads one worker process works on at once (sharp uses every core anyway). */
  concurrency: number;
  /** How long and large videos may be, and what ffmpeg may use (default: `DEFAULT_VIDEO_LIMITS`). */
  video?: VideoLimits;
}

/** The media subscriber and queue of a Clique. */
export interface MediaJobs {
  subscriber: EventSubscriber;
  queue: TaskQueue<MediaJob>;
}

async function firstBytes(path: string, count: number): Promise<Buffer> {
  const file = await open(path, "r");
  try {
    const buffer = Buffer.alloc(count);
    const { bytesRead } = await file.read(buffer, 0, count, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await file.close();
  }
}

/** Declares the `media` queue and the subscriber that fills it. `clique` is read when a job runs. */
export function mediaJobs(
  engine: JobEngine,
  blobs: BlobStore,
  settings: MediaJobSettings,
  clique: () => Clique,
): MediaJobs {
  async function process(job: MediaJob, { final }: { final: boolean }): Promise<void> {
    try {
      await processOnce(job);
    } catch (error) {
      if (!final) throw error;
      // The last try failed for a reason of ours: tell the member, free the slot, drop the bytes.
      await clique().markMediaFailed(
        job.mediaId,
        "The file could not be processed; try again later",
      );
      await blobs.delete([job.sourceKey]);
      throw error;
    }
  }

  async function processOnce({ mediaId, sourceKey }: MediaJob): Promise<void> {
    const media = await clique().getMediaById(mediaId);
    if (media?.state !== "processing") {
      // Done already (a repeat), or deleted meanwhile: the bytes are not needed.
      await blobs.delete([sourceKey]);
      return;
    }
    const path = await blobs.localPath(sourceKey);
    const head = await firstBytes(path, 16).catch(() => null);
    if (!head) {
      await clique().markMediaFailed(mediaId, "The upload was lost before it was processed");
      return;
    }
    try {
      if (looksLikeVideo(head)) await storeVideo(mediaId, path, head);
      else await storeImage(mediaId, path);
    } catch (error) {
      if (!(error instanceof MediaRefused)) throw error;
      log.info("Upload {id} refused: {reason}", { id: mediaId, reason: error.message });
      await clique().markMediaFailed(mediaId, error.message);
    }
    await blobs.delete([sourceKey]);
  }

  async function storeImage(mediaId: string, path: string): Promise<void> {
    const image = await processImage(path, settings.maxPixels);
    const display = {
      key: await clique().mediaFileKey(mediaId, "display", "webp"),
      ...image.display,
    };
    const small = { key: await clique().mediaFileKey(mediaId, "small", "webp"), ...image.small };
    await blobs.write(display.key, Readable.from(display.data));
    await blobs.write(small.key, Readable.from(small.data));
    await clique().markMediaReady(mediaId, {
      kind: "image",
      width: image.width,
      height: image.height,
      duration: null,
      blurhash: image.blurhash,
      display: {
        key: display.key,
        mediaType: "image/webp",
        width: display.width,
        height: display.height,
        size: display.data.length,
      },
      small: {
        key: small.key,
        mediaType: "image/webp",
        width: small.width,
        height: small.height,
        size: small.data.length,
      },
    });
  }

  /** The cleaned video as `display`, its poster as `small` (`process-video.ts`). */
  async function storeVideo(mediaId: string, path: string, head: Buffer): Promise<void> {
    const container = head.subarray(4, 8).toString("latin1") === "ftyp" ? "mp4" : "matroska";
    const started = Date.now();
    const video = await processVideo(path, container, settings.video ?? DEFAULT_VIDEO_LIMITS);
    try {
      const display = {
        key: await clique().mediaFileKey(mediaId, "display", video.video.extension),
        size: 0,
      };
      const small = {
        key: await clique().mediaFileKey(mediaId, "small", "webp"),
        size: video.poster.data.length,
      };
      display.size = await blobs.write(display.key, createReadStream(video.video.file));
      await blobs.write(small.key, Readable.from(video.poster.data));
      await clique().markMediaReady(mediaId, {
        kind: "video",
        width: video.width,
        height: video.height,
        duration: video.duration,
        blurhash: video.blurhash,
        display: {
          key: display.key,
          mediaType: video.video.mediaType,
          width: video.width,
          height: video.height,
          size: display.size,
        },
        small: {
          key: small.key,
          mediaType: "image/webp",
          width: video.poster.width,
          height: video.poster.height,
          size: small.size,
        },
      });
      log.info("Video {id} {method} in {ms} ms ({width}×{height}, {duration} s)", {
        id: mediaId,
        method: video.method,
        ms: Date.now() - started,
        width: video.width,
        height: video.height,
        duration: video.duration,
      });
    } finally {
      await video.dispose();
    }
  }

  const queue = engine.task<MediaJob>("media", {
    attempts: 5,
    concurrency: settings.concurrency,
    handler: process,
  });
  return {
    queue,
    subscriber: {
      name: "media",
      async handle({ event }) {
        if (event.kind === "media-uploaded")
          await queue.add(
            { mediaId: event.mediaId, sourceKey: event.sourceKey },
            { jobId: event.mediaId },
          );
        else if (event.kind === "media-deleted") await blobs.delete(event.keys);
      },
    },
  };
}
