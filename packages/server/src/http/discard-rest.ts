/**
 * Reading the rest of a refused body before the 413 goes out.
 *
 * A server that answers and closes while the client is still sending resets
 * the connection, and most clients then lose the answer (fetch reports EPIPE).
 * Reading what is left lets them see the 413. Both limits keep a client from
 * holding the server: past either, the connection is closed as before.
 */
import { Readable } from "node:stream";
import type { ReadableStream as WebReadableStream } from "node:stream/web";

/** How much of a refused body is read and thrown away, at most. */
const DISCARD_BYTES = 64 * 1024 * 1024;
/** How long the rest of a refused body is waited for, at most. */
const DISCARD_MS = 10_000;

/** Reads and discards what is left of `body` (a Node stream or a fetch `Request`'s body), within the limits above. */
export function discardRest(body: Readable | ReadableStream<Uint8Array> | null): Promise<void> {
  if (body === null) return Promise.resolve();
  if (!(body instanceof Readable)) {
    if (body.locked) return Promise.resolve();
    return discardRest(Readable.fromWeb(body as WebReadableStream<Uint8Array>));
  }
  return new Promise((resolve) => {
    let read = 0;
    const done = () => {
      clearTimeout(timer);
      body.removeListener("data", count);
      resolve();
    };
    const count = (chunk: Buffer) => {
      read += chunk.length;
      if (read > DISCARD_BYTES) {
        body.pause();
        done();
      }
    };
    const timer = setTimeout(() => {
      body.pause();
      done();
    }, DISCARD_MS);
    body.unpipe();
    body.on("data", count);
    body.once("end", done);
    body.once("error", done);
    body.once("close", done);
    body.resume();
  });
}
