/**
 * The remote media proxy. A remote post's photos and videos are shown to
 * members at this server's own URLs (`/media/proxy/<key>`), never at their
 * remote URLs, so remote servers never see members' addresses. The first look
 * fetches the file: only over http(s), never from a loopback or private address
 * unless CLIQUE_ALLOW_PRIVATE_ADDRESS says so (checked on the address each
 * connection really goes to, so a name that resolves differently the second
 * time gets nowhere), following at most three redirects, images and video only
 * (judged by their bytes, not by what the remote server says), under the
 * upload limits. The copy is kept in the blob store under the attachment's
 * key and served until it expires, then fetched again (a copy that cannot be
 * refreshed because its server is down is served stale meanwhile). Refusals
 * are remembered for a while, so a bad file is not fetched on every look.
 *
 * Who may see a file is decided before anything is fetched, by the same rules
 * as local media (core's `getVisibleRemoteMedia`): this module never decides it.
 */

import { lookup as dnsLookup } from "node:dns";
import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import { isIP, type LookupFunction } from "node:net";
import { pipeline, type Readable, Transform, type TransformCallback } from "node:stream";
import type { Media } from "@clique/core";
import type { KvStore } from "@fedify/fedify";
import {
  isValidPublicIPv4Address,
  isValidPublicIPv6Address,
  validatePublicUrl,
} from "@fedify/vocab-runtime";
import { getLogger } from "@logtape/logtape";
import type { BlobStore } from "./blob-store.ts";

const log = getLogger(["clique", "media", "proxy"]);

/** How the proxy fetches. */
export interface MediaProxySettings {
  /** Fetch from loopback and private addresses (tests and local trials only). */
  allowPrivateAddress: boolean;
  /** Largest remote image, in bytes. */
  imageBytes: number;
  /** Largest remote video, in bytes. */
  videoBytes: number;
  /** How long a fetched copy is served before it is fetched again (default a week). */
  ttlMs?: number;
  /** How long a refusal is remembered (default ten minutes). */
  refusalTtlMs?: number;
  /** The User-Agent of its requests. */
  userAgent: string;
  /** How long one fetch may take, redirects and body included (default 60 s). */
  timeoutMs?: number;
  /** The clock (tests). */
  now?: () => number;
}

/** Why a remote file is not served. */
export type ProxyRefusal =
  /** Its URL leads to a loopback or private address (or is not http(s)). */
  | "private_address"
  /** Its bytes are not an image or video we serve. */
  | "unsupported_type"
  /** Larger than the limit for its kind. */
  | "too_large"
  /** Its server says it is not there (404, 410). */
  | "gone"
  /** Its server could not be reached, or answered otherwise. */
  | "unavailable";

/** A cached copy, ready to send. */
export interface ProxiedFile {
  stream: Readable;
  size: number;
  /** Judged from the bytes. */
  mediaType: string;
  /** When it was fetched (ms since the epoch): part of its ETag. */
  fetchedAt: number;
}

/** The outcome of asking for a remote file. */
export type ProxyResult = { ok: true; file: ProxiedFile } | { ok: false; reason: ProxyRefusal };

/** The remote media proxy. */
export interface MediaProxy {
  /**
   * The file of a remote attachment (one the viewer may see: the caller
   * checked), from the cache or fetched now. `key` is its display key.
   */
  open(media: Pick<Media, "remoteUrl" | "kind">, key: string): Promise<ProxyResult>;
}

const DEFAULT_TTL_MS = 7 * 24 * 60 * 60 * 1000;
const DEFAULT_REFUSAL_TTL_MS = 10 * 60 * 1000;
const DEFAULT_TIMEOUT_MS = 60_000;
const MAX_REDIRECTS = 3;
/** Bytes that tell what a file is. */
const HEAD_BYTES = 32;

/** What the cache index says of a key. */
type CacheEntry =
  | { state: "cached"; mediaType: string; size: number; fetchedAt: number }
  | { state: "refused"; reason: ProxyRefusal; at: number };

class Refused extends Error {
  readonly reason: ProxyRefusal;
  constructor(reason: ProxyRefusal, message: string) {
    super(message);
    this.reason = reason;
  }
}

/**
 * What the first bytes of a file say it is, among the types the proxy
 * serves: JPEG, PNG, GIF, WebP, AVIF and HEIC images; MP4, QuickTime and WebM
 * video. `null` for anything else (SVG, HTML, archives...).
 */
export function sniffMediaType(head: Uint8Array): string | null {
  const ascii = (from: number, to: number) =>
    Buffer.from(head.subarray(from, to)).toString("latin1");
  if (head.length >= 3 && head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff)
    return "image/jpeg";
  if (head.length >= 8 && ascii(0, 8) === "\x89PNG\r\n\x1a\n") return "image/png";
  if (head.length >= 6 && (ascii(0, 6) === "GIF87a" || ascii(0, 6) === "GIF89a"))
    return "image/gif";
  if (head.length >= 12 && ascii(0, 4) === "RIFF" && ascii(8, 12) === "WEBP") return "image/webp";
  if (head.length >= 12 && ascii(4, 8) === "ftyp") {
    const brand = ascii(8, 12);
    if (brand === "avif" || brand === "avis") return "image/avif";
    if (["heic", "heix", "heim", "heis", "mif1", "msf1"].includes(brand)) return "image/heic";
    if (brand === "qt  ") return "video/quicktime";
    return "video/mp4";
  }
  if (
    head.length >= 4 &&
    head[0] === 0x1a &&
    head[1] === 0x45 &&
    head[2] === 0xdf &&
    head[3] === 0xa3
  )
    return "video/webm";
  return null;
}

/** Whether an address may be connected to (public unicast). */
function isPublicAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return isValidPublicIPv4Address(address);
  if (family === 6) return isValidPublicIPv6Address(address);
  return false;
}

/**
 * A `lookup` for sockets that refuses private addresses: the check is on the
 * address the connection really uses, not on an earlier resolution.
 */
export const publicLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
    if (error) return callback(error, "", 0);
    const list = addresses as { address: string; family: number }[];
    const refused = list.find((a) => !isPublicAddress(a.address));
    if (refused || list.length === 0)
      return callback(
        Object.assign(new Error(`${hostname} resolves to a private address`), {
          code: "EPRIVATEADDRESS",
        }) as NodeJS.ErrnoException,
        "",
        0,
      );
    if (options.all) return (callback as unknown as (e: null, a: typeof list) => void)(null, list);
    const first = list[0]!;
    callback(null, first.address, first.family);
  });
};

/**
 * Lets a body through only if its first bytes are a type `accept` takes and it
 * stays under `limit` bytes; otherwise fails the stream (the blob store then
 * keeps nothing). `mediaType` is what the bytes said.
 */
class Inspect extends Transform {
  mediaType: string | null = null;
  private size = 0;
  private head: Buffer[] = [];
  private readonly limit: number;
  private readonly accept: (mediaType: string) => boolean;

  constructor(limit: number, accept: (mediaType: string) => boolean) {
    super();
    this.limit = limit;
    this.accept = accept;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.size += chunk.length;
    if (this.size > this.limit) {
      done(new Refused("too_large", `the file is larger than ${this.limit} bytes`));
    } else if (this.mediaType !== null) {
      done(null, chunk);
    } else {
      this.head.push(chunk);
      if (this.size < HEAD_BYTES) done();
      else this.judge(done);
    }
  }

  override _flush(done: TransformCallback): void {
    if (this.mediaType === null) this.judge(done);
    else done();
  }

  private judge(done: TransformCallback): void {
    const head = Buffer.concat(this.head);
    this.head = [];
    const type = sniffMediaType(head.subarray(0, HEAD_BYTES));
    if (type === null || !this.accept(type)) {
      done(
        new Refused("unsupported_type", `the file is ${type ?? "not an image or video we show"}`),
      );
      return;
    }
    this.mediaType = type;
    done(null, head);
  }
}

/** Builds the proxy over the blob store (the copies) and a key-value store (the cache index). */
export function mediaProxy(
  blobs: BlobStore,
  kv: KvStore,
  settings: MediaProxySettings,
): MediaProxy {
  const ttlMs = settings.ttlMs ?? DEFAULT_TTL_MS;
  const refusalTtlMs = settings.refusalTtlMs ?? DEFAULT_REFUSAL_TTL_MS;
  const timeoutMs = settings.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const now = settings.now ?? Date.now;
  /** Fetches in progress in this process, by key: two looks at once fetch once. */
  const inFlight = new Map<string, Promise<CacheEntry>>();
  const indexKey = (key: string) => ["clique", "media-proxy", key] as const;

  /** GETs `url` (following redirects), every hop checked; resolves with a 200 response. */
  async function get(url: URL, signal: AbortSignal, hops = 0): Promise<IncomingMessage> {
    if (url.protocol !== "http:" && url.protocol !== "https:")
      throw new Refused("private_address", `not an http(s) URL: ${url.protocol}`);
    if (!settings.allowPrivateAddress) {
      // Names and literal addresses both (sockets skip `lookup` for literals).
      await validatePublicUrl(url.href).catch((error: unknown) => {
        throw new Refused("private_address", String(error));
      });
    }
    const response = await new Promise<IncomingMessage>((resolve, reject) => {
      const request = (url.protocol === "https:" ? httpsRequest : httpRequest)(
        url,
        {
          method: "GET",
          headers: {
            "user-agent": settings.userAgent,
            accept: "image/*, video/*;q=0.9",
          },
          signal,
          ...(settings.allowPrivateAddress ? {} : { lookup: publicLookup }),
        },
        resolve,
      );
      request.on("error", (error: NodeJS.ErrnoException) =>
        reject(
          error.code === "EPRIVATEADDRESS"
            ? new Refused("private_address", error.message)
            : new Refused("unavailable", error.message),
        ),
      );
      request.end();
    });
    const status = response.statusCode ?? 0;
    if ([301, 302, 303, 307, 308].includes(status) && response.headers.location) {
      response.resume();
      if (hops >= MAX_REDIRECTS) throw new Refused("unavailable", "too many redirects");
      return get(new URL(response.headers.location, url), signal, hops + 1);
    }
    if (status === 200) return response;
    response.resume();
    throw new Refused(
      status === 404 || status === 410 ? "gone" : "unavailable",
      `the remote server answered ${status}`,
    );
  }

  /** Fetches the file into the blob store; resolves with what the index should say. */
  async function fetchInto(
    media: Pick<Media, "remoteUrl" | "kind">,
    key: string,
  ): Promise<CacheEntry> {
    const video = media.kind === "video" || media.kind === "gifv";
    const limit = video ? settings.videoBytes : settings.imageBytes;
    const signal = AbortSignal.timeout(timeoutMs);
    try {
      if (!media.remoteUrl || !URL.canParse(media.remoteUrl))
        throw new Refused("private_address", "no usable URL");
      const response = await get(new URL(media.remoteUrl), signal);
      const declared = Number(response.headers["content-length"]);
      if (Number.isFinite(declared) && declared > limit) {
        response.destroy();
        throw new Refused("too_large", `the file is ${declared} bytes, over ${limit}`);
      }
      // Judged by its bytes: an image attachment must be an image, a video a video.
      const inspect = new Inspect(limit, (type) => type.startsWith(video ? "video/" : "image/"));
      // A body that breaks off fails `inspect` too, and the blob store keeps nothing.
      pipeline(response, inspect, () => {});
      const size = await blobs.write(key, inspect);
      const mediaType = inspect.mediaType!;
      return { state: "cached", mediaType, size, fetchedAt: now() };
    } catch (error) {
      const refusal = error instanceof Refused ? error : new Refused("unavailable", String(error));
      log.info("Remote media {url} not cached: {reason} ({message})", {
        url: media.remoteUrl,
        reason: refusal.reason,
        message: refusal.message,
      });
      return { state: "refused", reason: refusal.reason, at: now() };
    }
  }

  async function refresh(
    media: Pick<Media, "remoteUrl" | "kind">,
    key: string,
    stale: CacheEntry | undefined,
  ): Promise<CacheEntry> {
    const entry = await fetchInto(media, key);
    if (entry.state === "refused") {
      // A server that is down does not take away the copy we have: it is served a while longer.
      if (entry.reason === "unavailable" && stale?.state === "cached") {
        const retry = { ...stale, fetchedAt: now() - ttlMs + refusalTtlMs };
        await kv.set(indexKey(key), retry);
        return stale;
      }
      await blobs.delete([key]);
    }
    await kv.set(indexKey(key), entry);
    return entry;
  }

  return {
    async open(media, key) {
      const known = await kv.get<CacheEntry>(indexKey(key));
      let entry: CacheEntry | undefined = known;
      const fresh =
        entry?.state === "cached"
          ? now() - entry.fetchedAt < ttlMs
          : entry?.state === "refused" && now() - entry.at < refusalTtlMs;
      if (!fresh) {
        let running = inFlight.get(key);
        if (!running) {
          running = refresh(media, key, known).finally(() => inFlight.delete(key));
          inFlight.set(key, running);
        }
        entry = await running;
      }
      if (!entry) return { ok: false, reason: "unavailable" };
      if (entry.state === "refused") return { ok: false, reason: entry.reason };
      const blob = await blobs.read(key);
      if (!blob) {
        // The copy went (deleted by hand, or a store that lost it): fetch it again next time.
        await kv.delete(indexKey(key));
        return { ok: false, reason: "unavailable" };
      }
      return {
        ok: true,
        file: {
          stream: blob.stream,
          size: blob.size,
          mediaType: entry.mediaType,
          fetchedAt: entry.fetchedAt,
        },
      };
    },
  };
}
