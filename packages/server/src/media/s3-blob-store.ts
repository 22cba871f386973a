/**
 * Media files in an S3-compatible bucket (AWS S3, MinIO, Garage, Ceph, R2...),
 * for servers whose web and worker processes run on different machines.
 * Objects are named by their keys as they are (`incoming/<id>` for uploads
 * waiting to be processed). Uploads of unknown length go up in parts
 * (`@aws-sdk/lib-storage`), at most 4 × 8 MiB held in memory; a source that
 * fails aborts the upload, so no object appears.
 *
 * Tools that read files (sharp, ffmpeg) get a copy downloaded into a local
 * temporary directory; it is removed when its key is deleted (the media job
 * deletes its source when done), and copies older than a day are swept.
 */
import { createWriteStream } from "node:fs";
import { mkdir, readdir, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import { type Readable, Transform, type TransformCallback } from "node:stream";
import { pipeline } from "node:stream/promises";
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  NoSuchKey,
  S3Client,
  S3ServiceException,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { getLogger } from "@logtape/logtape";
import { type BlobStore, checkKey } from "./blob-store.ts";

const log = getLogger(["clique", "media", "s3"]);

/** Where the bucket is and how to reach it. */
export interface S3Settings {
  /** `null`: AWS itself (the region's endpoint). */
  endpoint: string | null;
  bucket: string;
  region: string;
  /** `null`: the SDK's own credential chain (AWS_* variables, instance roles...). */
  credentials: { accessKeyId: string; secretAccessKey: string } | null;
  /** Bucket in the path (`endpoint/bucket/key`), as most self-hosted servers want. */
  pathStyle: boolean;
}

/** Local copies older than this are swept (their job died for good, or the process did). */
const COPY_MAX_AGE_MS = 24 * 60 * 60 * 1000;

const TYPES: Record<string, string> = {
  webp: "image/webp",
  avif: "image/avif",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  png: "image/png",
  gif: "image/gif",
  mp4: "video/mp4",
  webm: "video/webm",
};

/** What an object is, by its key's extension (so the bucket could serve it as it is). */
function contentType(key: string): string {
  return TYPES[/\.([a-z0-9]+)$/.exec(key)?.[1] ?? ""] ?? "application/octet-stream";
}

class ByteCounter extends Transform {
  bytes = 0;
  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    done(null, chunk);
  }
}

function isMissing(error: unknown): boolean {
  return (
    error instanceof NoSuchKey ||
    (error instanceof S3ServiceException &&
      (error.name === "NoSuchKey" || error.$metadata.httpStatusCode === 404))
  );
}

/** The client for these settings. Secrets go to the SDK only, never to a log. */
export function s3Client(settings: S3Settings): S3Client {
  return new S3Client({
    region: settings.region,
    ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
    forcePathStyle: settings.pathStyle,
    ...(settings.credentials ? { credentials: settings.credentials } : {}),
    // Checksums only where S3 requires them: many S3-compatible servers do not
    // take the SDK's newer default (CRC32 trailers on every upload).
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  });
}

/**
 * Files in the bucket of `settings`; `tempDir` (local disk) holds the copies
 * handed to tools that read files.
 */
export function s3BlobStore(
  settings: S3Settings,
  tempDir: string,
  client = s3Client(settings),
): BlobStore {
  const Bucket = settings.bucket;
  const copies = path.join(tempDir, "s3-copies");
  const copyOf = (key: string) => path.join(copies, key.replaceAll("/", "_"));

  async function sweepCopies(): Promise<void> {
    const names = await readdir(copies).catch(() => [] as string[]);
    const now = Date.now();
    await Promise.all(
      names.map(async (name) => {
        const file = path.join(copies, name);
        const info = await stat(file).catch(() => null);
        if (info && now - info.mtimeMs > COPY_MAX_AGE_MS) await rm(file, { force: true });
      }),
    );
  }

  async function read(key: string): Promise<{ stream: Readable; size: number } | null> {
    checkKey(key);
    try {
      const object = await client.send(new GetObjectCommand({ Bucket, Key: key }));
      return { stream: object.Body as Readable, size: object.ContentLength ?? 0 };
    } catch (error) {
      if (isMissing(error)) return null;
      throw error;
    }
  }

  return {
    async write(key, source) {
      checkKey(key);
      const counter = new ByteCounter();
      let sourceError: Error | null = null;
      source.on("error", (error) => {
        sourceError = error;
        counter.destroy(error);
      });
      const upload = new Upload({
        client,
        params: { Bucket, Key: key, Body: source.pipe(counter), ContentType: contentType(key) },
        queueSize: 4,
        partSize: 8 * 1024 * 1024,
        leavePartsOnError: false,
      });
      try {
        await upload.done();
      } catch (error) {
        if (sourceError) {
          // The parts sent so far were aborted; a server that could not abort
          // them (S3's lifecycle rule AbortIncompleteMultipartUpload then does) says why.
          if (error !== sourceError)
            log.warn("A failed upload's parts of {key} could not be aborted: {error}", {
              key,
              error,
            });
          throw sourceError;
        }
        // Whoever feeds the source stops too (an upload's request body, say).
        source.destroy(error as Error);
        throw error;
      }
      return counter.bytes;
    },
    read,
    async localPath(key) {
      const target = copyOf(key);
      if (await stat(target).catch(() => null)) return target;
      await mkdir(copies, { recursive: true });
      void sweepCopies().catch(() => {});
      const object = await read(key);
      // A missing object is a path to nothing, as on local disk: the reader finds no file.
      if (!object) return target;
      const partial = `${target}.partial-${process.pid}-${Date.now()}`;
      try {
        await pipeline(object.stream, createWriteStream(partial, { flags: "wx" }));
        await rename(partial, target);
      } catch (error) {
        await rm(partial, { force: true });
        throw error;
      }
      return target;
    },
    async delete(keys) {
      keys.forEach(checkKey);
      for (let i = 0; i < keys.length; i += 1000) {
        const batch = keys.slice(i, i + 1000);
        const result = await client.send(
          new DeleteObjectsCommand({
            Bucket,
            Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true },
          }),
        );
        const failed = (result.Errors ?? []).filter((e) => e.Code !== "NoSuchKey");
        if (failed.length > 0)
          throw new Error(
            `could not delete ${failed.length} media file(s): ${failed[0]?.Code} ${failed[0]?.Message}`,
          );
      }
      await Promise.all(keys.map((key) => rm(copyOf(key), { force: true })));
    },
  };
}
