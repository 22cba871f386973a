/**
 * Federation documents that are the same for whoever asks: WebFinger answers,
 * NodeInfo and actor documents (core builds these from public parts only and
 * looks at no signature). They are kept serialized for a few seconds, keyed by
 * URL and Accept header, so a burst of lookups costs one build.
 *
 * Freshness: a write this process answers (an API call: profile edit,
 * suspension, removal, settings) empties the cache before its response
 * leaves, so the change shows at once here; another process (the CLI, a second
 * web process) serves what it kept for at most `ttlMs` more.
 */

/**
 * How long a shared document is served from memory: the staleness bound for
 * a change another process made that records no event (its NOTIFY empties
 * the cache at once otherwise), or while the listening connection is down.
 */
export const SHARED_DOCUMENT_TTL_MS = 10_000;

/** Paths whose documents do not depend on the requester. Never posts or collections. */
const SHARED_DOCUMENTS = [
  /^\/\.well-known\/webfinger$/,
  /^\/\.well-known\/nodeinfo$/,
  /^\/nodeinfo\/2\.1$/,
  // An actor (`FEDERATION_PATHS.actor`), not what is under it.
  /^\/users\/[^/]+$/,
];

/** Whether the document at `path` is the same for every requester. */
export function isSharedDocument(path: string): boolean {
  return SHARED_DOCUMENTS.some((pattern) => pattern.test(path));
}

interface Entry {
  body: ArrayBuffer;
  status: number;
  headers: [string, string][];
  expires: number;
}

/** Options of a document cache. */
export interface DocumentCacheOptions {
  /** How long a document is served from memory; the cross-process staleness bound. */
  ttlMs: number;
  /** Documents kept at most; the oldest goes first. */
  maxEntries: number;
  /** The clock (tests). */
  now?: () => number;
}

/** Serialized shared documents, in this process's memory. */
export class DocumentCache {
  readonly #entries = new Map<string, Entry>();
  readonly #options: DocumentCacheOptions;
  readonly #now: () => number;
  // Bumped by `clear`: a response built before a write is not stored after it.
  #generation = 0;

  constructor(options: DocumentCacheOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  /** The key of a request: its URL and what it accepts. */
  static keyOf(request: Request): string {
    return `${request.url}\n${request.headers.get("accept") ?? ""}`;
  }

  /** The point to pass to `put`: a write in between makes `put` keep nothing. */
  get generation(): number {
    return this.#generation;
  }

  /** A fresh copy of the kept response, or `null`. */
  get(key: string): Response | null {
    const entry = this.#entries.get(key);
    if (!entry) return null;
    if (entry.expires <= this.#now()) {
      this.#entries.delete(key);
      return null;
    }
    return new Response(entry.body.slice(0), { status: entry.status, headers: entry.headers });
  }

  /**
   * Keeps a successful response (200 only: no misses, redirects or errors)
   * and returns one to send in its place.
   */
  async put(key: string, response: Response, generation: number): Promise<Response> {
    if (response.status !== 200 || response.headers.has("set-cookie")) return response;
    const body = await response.arrayBuffer();
    const headers = [...response.headers.entries()];
    if (generation === this.#generation) {
      this.#entries.delete(key);
      this.#entries.set(key, {
        body,
        status: response.status,
        headers,
        expires: this.#now() + this.#options.ttlMs,
      });
      if (this.#entries.size > this.#options.maxEntries) {
        const oldest = this.#entries.keys().next().value;
        if (oldest !== undefined) this.#entries.delete(oldest);
      }
    }
    return new Response(body.slice(0), { status: response.status, headers });
  }

  /** Forgets every document (something they are made of changed). */
  clear(): void {
    this.#generation++;
    this.#entries.clear();
  }

  /** How many documents are kept. */
  get size(): number {
    return this.#entries.size;
  }
}
