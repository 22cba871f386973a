/**
 * Avatars and headers, processed while the request waits (as Mastodon does),
 * not as a job: the answer to `update_credentials` and the `Update(Person)`
 * that follows it carry the new picture at once, and the work is small (one
 * cover-cropped WebP of 400×400 or 1500×500, well under a second for a
 * 12-megapixel photo: `npm run bench:media`). At most two are processed at
 * once per process, so a burst of profile edits cannot take every core.
 *
 * The bytes go through the same checks and clean re-encoding as attachments
 * (`process-image.ts`): the type from the bytes, upright, no metadata at all.
 */
import { Readable } from "node:stream";
import { CliqueError, type MediaFile, newFileKey } from "@clique/core";
import type { BlobStore } from "./blob-store.ts";
import { MediaRefused, PROFILE_IMAGE_SIZES, processProfileImage } from "./process-image.ts";

/** Which profile image. */
export type ProfileSlot = keyof typeof PROFILE_IMAGE_SIZES;

/** The form parts that carry profile images, as Mastodon names them. */
export const PROFILE_SLOTS: readonly ProfileSlot[] = ["avatar", "header"];

/** Profile images processed at once by this process. */
const CONCURRENCY = 2;
let running = 0;
const waiting: (() => void)[] = [];

async function limited<T>(work: () => Promise<T>): Promise<T> {
  if (running >= CONCURRENCY) await new Promise<void>((resolve) => waiting.push(resolve));
  running++;
  try {
    return await work();
  } finally {
    running--;
    waiting.shift()?.();
  }
}

/** Stored profile images, not yet on the profile. */
export interface StoredProfileImages {
  images: Partial<Record<ProfileSlot, MediaFile>>;
  /** Deletes the stored files (the profile change they were for did not happen). */
  discard(): Promise<void>;
}

/**
 * Processes received avatar/header files (local paths in `scratch`) and
 * stores the results in `blobs` under fresh unguessable keys. A file that is
 * not an image Clique takes is a 422 naming the part; nothing is left stored.
 * The received files themselves are the caller's to delete.
 */
export async function storeProfileImages(
  received: ReadonlyMap<string, { key: string }>,
  scratch: BlobStore,
  blobs: BlobStore,
  maxPixels: number,
): Promise<StoredProfileImages> {
  const images: Partial<Record<ProfileSlot, MediaFile>> = {};
  const discard = async () => {
    await blobs.delete(Object.values(images).map((file) => file.key));
  };
  try {
    for (const slot of PROFILE_SLOTS) {
      const source = received.get(slot);
      if (!source) continue;
      const path = await scratch.localPath(source.key);
      const image = await limited(() =>
        processProfileImage(path, maxPixels, PROFILE_IMAGE_SIZES[slot]),
      ).catch((error: unknown) => {
        if (error instanceof MediaRefused)
          throw new CliqueError("invalid_input", `The ${slot}: ${error.message}`);
        throw error;
      });
      const file: MediaFile = {
        key: newFileKey("webp"),
        mediaType: "image/webp",
        width: image.width,
        height: image.height,
        size: image.data.length,
      };
      await blobs.write(file.key, Readable.from([image.data]));
      images[slot] = file;
    }
  } catch (error) {
    await discard().catch(() => {});
    throw error;
  }
  return { images, discard };
}
