/**
 * Requests whose answer may come before the body is sent: a server refusing an
 * over-limit body answers 413 and closes while the client still writes. fetch
 * then fails with EPIPE and drops the answer; a client should read it, as curl
 * does. node:http lets the test read it.
 */
import { request as httpRequest } from "node:http";

/** The answer: its status and its text. */
export interface EarlyAnswer {
  status: number;
  body: string;
}

/**
 * Sends `body` (bytes with their Content-Length, or chunks streamed without
 * one) and resolves with the server's answer, even if it arrived while the
 * body was still being written.
 */
export function sendReadingEarlyAnswer(
  url: URL,
  options: {
    method: string;
    headers: Record<string, string>;
    body: Uint8Array | readonly string[];
  },
): Promise<EarlyAnswer> {
  return new Promise((resolve, reject) => {
    const { body } = options;
    const headers =
      body instanceof Uint8Array
        ? { ...options.headers, "content-length": String(body.byteLength) }
        : options.headers;
    const request = httpRequest(url, { method: options.method, headers });
    request.on("response", (response) => {
      let text = "";
      response.setEncoding("utf8");
      response.on("data", (part: string) => {
        text += part;
      });
      response.on("end", () => resolve({ status: response.statusCode ?? 0, body: text }));
      response.on("error", reject);
    });
    // A write after the server closed its side fails; the answer, if any, decides.
    request.on("error", (error) => setTimeout(() => reject(error), 2_000));
    const chunks: readonly (string | Uint8Array)[] =
      body instanceof Uint8Array
        ? Array.from({ length: Math.ceil(body.byteLength / 65_536) }, (_, i) =>
            body.subarray(i * 65_536, (i + 1) * 65_536),
          )
        : body;
    let sent = 0;
    const writeMore = () => {
      while (sent < chunks.length) {
        const chunk = chunks[sent++]!;
        if (!request.write(chunk)) return void request.once("drain", writeMore);
      }
      request.end();
    };
    writeMore();
  });
}
