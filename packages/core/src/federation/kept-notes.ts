/**
 * Serialized objects of posts, kept in this process's memory: Mastodon
 * fetches each post it meets, and the `Note` of a post addressed to
 * collections (public, unlisted, followers-only) without media whose URLs
 * name their viewer is the same for every viewer who may see it. Who may see
 * it is still decided on every request, before anything kept is looked at;
 * only the document is reused.
 *
 * A kept document is used only for the same post row (`version`: an edit, a
 * deletion, a new interaction policy is a new version, seen by every process
 * on its next read) and for at most `ttlMs`, which bounds what the row does
 * not show (a mentioned account that went away, an attachment's description).
 */
import { Note } from "@fedify/vocab";

/** How long a post's document is reused at most. */
export const KEPT_NOTE_TTL_MS = 10_000;
/** Documents kept at most; the oldest goes first. */
const MAX_NOTES = 1_000;

/** A `Note` already serialized: Fedify answers with its JSON as it is. */
export class KeptNote extends Note {
  readonly #json: unknown;

  constructor(id: URL, json: unknown) {
    super({ id });
    this.#json = json;
  }

  override toJsonLd(): Promise<unknown> {
    return Promise.resolve(this.#json);
  }
}

interface Entry {
  version: string;
  json: unknown;
  expires: number;
}

/** Kept post documents, by post id. */
export interface NoteMemo {
  /** The document kept for this version of the post, if fresh. */
  get(postId: string, version: string): unknown;
  /** Keeps a post's document. */
  put(postId: string, version: string, json: unknown): void;
  /** Forgets every document. */
  clear(): void;
  /** How many documents are kept. */
  readonly size: number;
}

/** Settings of a note memo (tests shorten the time). */
export interface NoteMemoOptions {
  ttlMs?: number;
  maxEntries?: number;
  now?: () => number;
}

/** Keeps serialized post documents, as described above. */
export function createNoteMemo(options: NoteMemoOptions = {}): NoteMemo {
  const ttlMs = options.ttlMs ?? KEPT_NOTE_TTL_MS;
  const maxEntries = options.maxEntries ?? MAX_NOTES;
  const now = options.now ?? Date.now;
  const entries = new Map<string, Entry>();
  return {
    get(postId, version) {
      const entry = entries.get(postId);
      if (!entry) return undefined;
      if (entry.version !== version || entry.expires <= now()) {
        entries.delete(postId);
        return undefined;
      }
      return entry.json;
    },
    put(postId, version, json) {
      entries.delete(postId);
      entries.set(postId, { version, json, expires: now() + ttlMs });
      if (entries.size > maxEntries) {
        const oldest = entries.keys().next().value;
        if (oldest !== undefined) entries.delete(oldest);
      }
    },
    clear: () => entries.clear(),
    get size() {
      return entries.size;
    },
  };
}
