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
import { discardRest } from "../http/discard-rest.ts";
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
  // Null prototype: a field named `__proto__` is only a key here (and the caller refuses it).
  const fields: Record<string, string> = Object.create(null);
  const sourceKey = `incoming/${randomUUID().replaceAll("-", "")}`;
  let stored: Promise<number> | null = null;
  let parser: busboy.Busboy;
  try {
    parser = busboy({
      headers: { "content-type": type },
      limits: {
        files: 1,
        fields: 20,
        fieldSize: 8 * 1024,
        parts: 25,
        fileSize: limits.videoBytes + 1,
      },
    });
  } catch (error) {
    // busboy throws at once on a Content-Type it cannot read (no boundary, say).
    throw new CliqueError("invalid_input", "The multipart body has no readable boundary", {
      cause: error,
    });
  }
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
  let body: Readable | undefined;
  try {
    body = Readable.fromWeb(request.body as never);
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
    if (refusedForSize(error) && body) await discardRest(body);
    if (error instanceof CliqueError) throw error;
    if (error instanceof TooLarge)
      throw new CliqueError(
        "payload_too_large",
        `The file is too large: images may have at most ${limits.imageBytes} bytes, videos ${limits.videoBytes}`,
      );
    throw new CliqueError("invalid_input", "The upload was cut off or could not be read");
  }
}

function refusedForSize(error: unknown): boolean {
  return (
    error instanceof TooLarge ||
    (error instanceof CliqueError && error.code === "payload_too_large")
  );
}

/** A multipart form whose files went to a blob store as they arrived. */
export interface ReceivedForm {
  /** Each expected file part that came, by part name: stored under `key`, waiting to be processed. */
  files: Map<string, { key: string; size: number }>;
  /** The text parts, in order, repeated names kept (for the caller's form parser). */
  fields: [string, string][];
}

/**
 * Reads a multipart form with several named files (a profile's `avatar` and
 * `header`) and text fields: each file is streamed to `store` under the limit
 * its first bytes choose, the text parts kept together under `fieldBytes`.
 * Other file parts are skipped. On any failure nothing stays in the store.
 */
export async function receiveForm(
  request: Request,
  store: BlobStore,
  options: { files: readonly string[]; limits: UploadLimits; fieldBytes: number },
): Promise<ReceivedForm> {
  const type = request.headers.get("content-type") ?? "";
  if (!type.toLowerCase().startsWith("multipart/form-data") || !request.body)
    throw new CliqueError("invalid_input", "Send the form as multipart/form-data");
  const files = new Map<string, { key: string; size: number; named: boolean }>();
  const writes: Promise<unknown>[] = [];
  const fields: [string, string][] = [];
  let fieldBytes = 0;
  let parser: busboy.Busboy;
  try {
    parser = busboy({
      headers: { "content-type": type },
      limits: {
        files: options.files.length,
        fields: 1000,
        fieldSize: options.fieldBytes,
        parts: 1000 + options.files.length,
        fileSize: Math.max(options.limits.imageBytes, options.limits.videoBytes) + 1,
      },
    });
  } catch (error) {
    // busboy throws at once on a Content-Type it cannot read (no boundary, say).
    throw new CliqueError("invalid_input", "The multipart body has no readable boundary", {
      cause: error,
    });
  }
  const tooLarge = (what: string) =>
    new CliqueError(
      "payload_too_large",
      `${what} is too large: the form's text may have at most ${options.fieldBytes} bytes`,
    );
  const finished = new Promise<void>((resolve, reject) => {
    parser.on("file", (name, stream, info) => {
      if (!options.files.includes(name) || files.has(name)) {
        stream.resume();
        return;
      }
      const entry = {
        key: `incoming/${randomUUID().replaceAll("-", "")}`,
        size: 0,
        named: Boolean(info.filename),
      };
      files.set(name, entry);
      const counter = new Limiter(options.limits);
      // Over the limit, or cut off: stop reading the body at once.
      counter.on("error", (error) => parser.destroy(error));
      stream.on("error", (error) => counter.destroy(error));
      const write = store.write(entry.key, stream.pipe(counter)).then((size) => {
        entry.size = size;
      });
      write.catch(() => {});
      writes.push(write);
    });
    parser.on("field", (name, value, info) => {
      fieldBytes += Buffer.byteLength(name) + Buffer.byteLength(value);
      if (info.valueTruncated || fieldBytes > options.fieldBytes)
        parser.destroy(tooLarge(`The field ${JSON.stringify(name.slice(0, 100))}`));
      else fields.push([name, value]);
    });
    parser.on("fieldsLimit", () => parser.destroy(tooLarge("The form")));
    parser.on("partsLimit", () => parser.destroy(tooLarge("The form")));
    parser.on("close", resolve);
    parser.on("error", reject);
  });
  let body: Readable | undefined;
  try {
    body = Readable.fromWeb(request.body as never);
    body.on("error", (error) => parser.destroy(error));
    body.pipe(parser);
    await finished;
    await Promise.all(writes);
    for (const [name, file] of files) {
      if (file.size > 0) continue;
      // A browser's form sends a file input left empty as an empty part without a name: no file.
      if (file.named) throw new CliqueError("invalid_input", `The ${name} file is empty`);
      await store.delete([file.key]);
      files.delete(name);
    }
    return {
      files: new Map([...files].map(([name, { key, size }]) => [name, { key, size }])),
      fields,
    };
  } catch (error) {
    await Promise.allSettled(writes);
    await store.delete([...files.values()].map((f) => f.key)).catch(() => {});
    if (refusedForSize(error) && body) await discardRest(body);
    if (error instanceof CliqueError) throw error;
    if (error instanceof TooLarge)
      throw new CliqueError(
        "payload_too_large",
        `The file is too large: images may have at most ${options.limits.imageBytes} bytes`,
      );
    throw new CliqueError("invalid_input", "The form was cut off or could not be read");
  }
}
