/**
 * Where media files live: a small interface, with the local disk under the
 * data directory by default, or an S3-compatible bucket (`s3-blob-store.ts`).
 * Keys are the files' unguessable names (`newFileKey`), or `incoming/<id>`
 * for uploads waiting to be processed.
 */
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";

/** Files by key. */
export interface BlobStore {
  /**
   * Stores what `source` yields under `key` and returns its size. The file
   * appears whole or not at all: nothing is left behind when the source fails.
   */
  write(key: string, source: Readable): Promise<number>;
  /** The file, or `null` when there is none. */
  read(key: string): Promise<{ stream: Readable; size: number } | null>;
  /**
   * A path on this machine holding the file, for tools that read files (sharp,
   * ffmpeg). A store elsewhere (S3) downloads a temporary copy, removed when
   * the key is deleted. No file there when the key has none.
   */
  localPath(key: string): Promise<string>;
  /** Deletes files; missing ones are fine. */
  delete(keys: readonly string[]): Promise<void>;
}

const KEY = /^(?:incoming\/)?[A-Za-z0-9_-]{16,}(?:\.[a-z0-9]{2,5})?$/;

/** Throws unless `key` is a media file key (never a path of its own). */
export function checkKey(key: string): void {
  if (!KEY.test(key)) throw new Error(`not a media file key: ${JSON.stringify(key)}`);
}

/** Files on the local disk under `root`, spread over subdirectories by key. */
export function localBlobStore(root: string): BlobStore {
  const pathOf = (key: string) => {
    checkKey(key);
    const name = key.replace(/^incoming\//, "");
    const dir = key.startsWith("incoming/") ? "incoming" : name.slice(0, 2);
    return path.join(root, dir, name);
  };
  return {
    async write(key, source) {
      const target = pathOf(key);
      await mkdir(path.dirname(target), { recursive: true });
      const partial = `${target}.partial-${process.pid}-${Date.now()}`;
      try {
        await pipeline(source, createWriteStream(partial, { flags: "wx" }));
        await rename(partial, target);
      } catch (error) {
        await rm(partial, { force: true });
        throw error;
      }
      return (await stat(target)).size;
    },
    async read(key) {
      const file = pathOf(key);
      const info = await stat(file).catch(() => null);
      if (!info?.isFile()) return null;
      return { stream: createReadStream(file), size: info.size };
    },
    async localPath(key) {
      return pathOf(key);
    },
    async delete(keys) {
      await Promise.all(keys.map((key) => rm(pathOf(key), { force: true })));
    },
  };
}
