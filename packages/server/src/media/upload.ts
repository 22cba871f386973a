/**
 * Receiving an upload: the multipart body is streamed straight to the blob
 * store (never held whole in memory), under a limit chosen from the file's
 * first bytes — larger for video than for images. A body that breaks off, or
 * runs past its limit, leaves no file behind.
 */
import { randomUUID } from "node:crypto";
import { Readable, Transform, type TransformCallback } from "node:stream";
import { CliqueError } from "@clique/core";
import busboy from "busboy";
import type { BlobStore } from "./blob-store.ts";

/** Largest upload, by what the bytes say the file is. */
export interface UploadLimits {
  imageBytes: number;
  videoBytes: number;
}

/** What a multipart upload carried. */
export interface ReceivedUpload {
  /** The stored bytes, waiting to be processed. */
  sourceKey: string;
  size: number;
  /** The other form fields (description, focus...), as text. */
  fields: Record<string, string>;
}

/** Whether the first bytes are a video container (MP4/QuickTime, or WebM/Matroska). */
export function looksLikeVideo(head: Uint8Array): boolean {
  const ascii = (from: number, to: number) =>
    Buffer.from(head.subarray(from, to)).toString("latin1");
  if (head.length >= 8 && ascii(4, 8) === "ftyp") return true;
  return (
    head.length >= 4 && head[0] === 0x1a && head[1] === 0x45 && head[2] === 0xdf && head[3] === 0xa3
  );
}

class TooLarge extends Error {}

/** Counts bytes; past the limit its first bytes allow, fails the stream. */
class Limiter extends Transform {
  size = 0;
  private limit: number | null = null;
  private head = Buffer.alloc(0);
  private readonly limits: UploadLimits;

  constructor(limits: UploadLimits) {
    super();
    this.limits = limits;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.size += chunk.length;
    if (this.limit === null) {
      this.head = Buffer.concat([this.head, chunk]).subarray(0, 16);
      if (this.head.length >= 12 || this.size >= 12)
        this.limit = looksLikeVideo(this.head) ? this.limits.videoBytes : this.limits.imageBytes;
    }
    const limit = this.limit ?? this.limits.imageBytes;
    if (this.size > limit) done(new TooLarge(`over ${limit} bytes`));
    else done(null, chunk);
  }
}

/**
 * Reads a multipart upload: its `file` part streamed into the blob store,
 * its other parts as fields. Throws a `CliqueError` the client can act on
 * (413 over the limit, 422 for a body without a file or cut off).
 */
export async function receiveUpload(
  request: Request,
  blobs: BlobStore,
  limits: UploadLimits,
): Promise<ReceivedUpload> {
  const type = request.headers.get("content-type") ?? "";
  if (!type.toLowerCase().startsWith("multipart/form-data") || !request.body)
    throw new CliqueError(
      "invalid_input",
      "Send the file as multipart/form-data, in a field named file",
    );
  const fields: Record<string, string> = {};
  const sourceKey = `incoming/${randomUUID().replaceAll("-", "")}`;
  let stored: Promise<number> | null = null;
  const parser = busboy({
    headers: { "content-type": type },
    limits: {
      files: 1,
      fields: 20,
      fieldSize: 8 * 1024,
      parts: 25,
      fileSize: limits.videoBytes + 1,
    },
  });
  const finished = new Promise<void>((resolve, reject) => {
    parser.on("file", (name, stream) => {
      if (name !== "file" || stored) {
        stream.resume();
        return;
      }
      const counter = new Limiter(limits);
      // Over the limit, or cut off: stop reading the body at once.
      counter.on("error", (error) => parser.destroy(error));
      stream.on("error", (error) => counter.destroy(error));
      stored = blobs.write(sourceKey, stream.pipe(counter));
      stored.catch(() => {});
    });
    parser.on("field", (name, value) => {
      fields[name] = value;
    });
    parser.on("close", resolve);
    parser.on("error", reject);
  });
  try {
    const body = Readable.fromWeb(request.body as never);
    body.on("error", (error) => parser.destroy(error));
    body.pipe(parser);
    await finished;
    if (!stored)
      throw new CliqueError("invalid_input", "The upload has no file (a field named file)");
    const size = await stored;
    if (size === 0) throw new CliqueError("invalid_input", "The file is empty");
    return { sourceKey, size, fields };
  } catch (error) {
    await blobs.delete([sourceKey]).catch(() => {});
    if (error instanceof CliqueError) throw error;
    if (error instanceof TooLarge)
      throw new CliqueError(
        "payload_too_large",
        `The file is too large: images may have at most ${limits.imageBytes} bytes, videos ${limits.videoBytes}`,
      );
    throw new CliqueError("invalid_input", "The upload was cut off or could not be read");
  }
}
