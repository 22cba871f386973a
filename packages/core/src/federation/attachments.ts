/**
 * Photos and videos on ActivityPub posts, both ways.
 *
 * Out: a local post's attachments as `Image`/`Video`/`Document` with
 * `mediaType`, `url`, `name` (alt text), `width`, `height`, and Mastodon's
 * `blurhash` and `focalPoint` (`toot:` terms). Fedify 2.3 does not model those
 * two, so the attachment classes here add them to the JSON-LD, and the
 * top-level objects (`Note`, `Create`, `Update`) are compacted with a context
 * that defines them: Mastodon reads the plain keys `blurhash` and `focalPoint`.
 *
 * In: a remote post's attachments as what we store of them (`RemoteAttachment`):
 * at most eight, only http(s) URLs, never fetched here (the server's media
 * proxy fetches them when someone looks).
 */
import {
  type Object as APObject,
  Create,
  Document,
  Image,
  Link,
  Note,
  Page,
  Update,
  Video,
} from "@fedify/vocab";
import type { Media, MediaKind } from "../domain/types.ts";
import { newId } from "../ids.ts";
import { stripUnsafeText } from "../text/sanitize.ts";
import { newFileKey } from "../usecases/media.ts";

/** Mastodon's attachment terms, as its own `@context` defines them. */
export const MASTODON_MEDIA_TERMS = {
  toot: "http://joinmastodon.org/ns#",
  blurhash: "toot:blurhash",
  focalPoint: { "@container": "@list", "@id": "toot:focalPoint" },
} as const;

const BLURHASH_IRI = "http://joinmastodon.org/ns#blurhash";
const FOCAL_POINT_IRI = "http://joinmastodon.org/ns#focalPoint";

/** What Fedify's `toJsonLd` takes. */
type JsonLdOptions = Parameters<Note["toJsonLd"]>[0] & { format?: "compact" | "expand" };

/** Mastodon's terms of one attachment. */
export interface MastodonMediaTerms {
  blurhash: string | null;
  /** `[x, y]`, each in [-1, 1], 0,0 the centre. */
  focalPoint: readonly [number, number] | null;
}

const TERMS = new WeakMap<APObject, MastodonMediaTerms>();

/** Adds an attachment's Mastodon terms to the JSON-LD Fedify made of it. */
function addTerms(json: unknown, terms: MastodonMediaTerms | undefined, format?: string): unknown {
  if (!terms) return json;
  if (format === "expand") {
    // Expanded: `[node]`, properties by IRI; the parent's compaction names them.
    const node = Array.isArray(json) ? (json[0] as Record<string, unknown> | undefined) : undefined;
    if (!node) return json;
    if (terms.blurhash !== null) node[BLURHASH_IRI] = [{ "@value": terms.blurhash }];
    if (terms.focalPoint !== null)
      node[FOCAL_POINT_IRI] = [{ "@list": terms.focalPoint.map((v) => ({ "@value": v })) }];
    return json;
  }
  // Compact (the attachment on its own): plain keys, and a context that defines them.
  const object = json as Record<string, unknown>;
  const context = object["@context"];
  return {
    ...object,
    "@context": [...(Array.isArray(context) ? context : [context]), MASTODON_MEDIA_TERMS],
    ...(terms.blurhash !== null ? { blurhash: terms.blurhash } : {}),
    ...(terms.focalPoint !== null ? { focalPoint: [...terms.focalPoint] } : {}),
  };
}

function keepTerms<T extends APObject>(from: APObject, to: T): T {
  const terms = TERMS.get(from);
  if (terms) TERMS.set(to, terms);
  return to;
}

/** A `Document` attachment with Mastodon's terms. */
export class MediaDocument extends Document {
  override async toJsonLd(options: JsonLdOptions = {}): Promise<unknown> {
    return addTerms(await super.toJsonLd(options), TERMS.get(this), options.format);
  }
  // Never compacted by hand (that path would not call ours with the terms' IRIs).
  protected override isCompactable(): boolean {
    return false;
  }
  override clone(...args: Parameters<Document["clone"]>): Document {
    return keepTerms(this, super.clone(...args));
  }
}

/** An `Image` attachment with Mastodon's terms. */
export class MediaImage extends Image {
  override async toJsonLd(options: JsonLdOptions = {}): Promise<unknown> {
    return addTerms(await super.toJsonLd(options), TERMS.get(this), options.format);
  }
  protected override isCompactable(): boolean {
    return false;
  }
  override clone(...args: Parameters<Image["clone"]>): Image {
    return keepTerms(this, super.clone(...args));
  }
}

/** A `Video` attachment with Mastodon's terms. */
export class MediaVideo extends Video {
  override async toJsonLd(options: JsonLdOptions = {}): Promise<unknown> {
    return addTerms(await super.toJsonLd(options), TERMS.get(this), options.format);
  }
  protected override isCompactable(): boolean {
    return false;
  }
  override clone(...args: Parameters<Video["clone"]>): Video {
    return keepTerms(this, super.clone(...args));
  }
}

/** What an attachment is made of (the Fedify values, and Mastodon's terms). */
export type AttachmentValues = ConstructorParameters<typeof Document>[0];

/** An attachment of the given kind, carrying Mastodon's terms. */
export function mediaAttachment(
  kind: MediaKind,
  values: AttachmentValues,
  terms: MastodonMediaTerms,
): Document {
  const object =
    kind === "image"
      ? new MediaImage(values)
      : kind === "video" || kind === "gifv"
        ? new MediaVideo(values)
        : new MediaDocument(values);
  TERMS.set(object, terms);
  return object;
}

// --- Objects that carry attachments: compacted with a context defining Mastodon's terms.

const baseContexts = new Map<unknown, Promise<unknown[]>>();

/** The `@context` Fedify compacts an object of this class with. */
function defaultContextOf(
  base: typeof Note | typeof Create | typeof Update,
  contextLoader: JsonLdOptions["contextLoader"],
): Promise<unknown[]> {
  let found = baseContexts.get(base);
  if (!found) {
    found = new base({})
      .toJsonLd({ format: "compact", ...(contextLoader ? { contextLoader } : {}) })
      .then((json) => {
        const context = (json as { "@context"?: unknown })["@context"];
        return Array.isArray(context) ? context : [context];
      });
    found.catch(() => baseContexts.delete(base));
    baseContexts.set(base, found);
  }
  return found;
}

/**
 * The options that compact an object with Mastodon's media terms: whenever
 * Fedify would compact it with its own context (a context given by the
 * caller, or an expansion, is left alone).
 */
async function withMediaContext(
  object: APObject,
  base: typeof Note | typeof Create | typeof Update,
  options: JsonLdOptions,
): Promise<JsonLdOptions> {
  if (options.format === "expand" || options.context != null) return options;
  if (
    options.format == null &&
    (object as unknown as { _cachedJsonLd?: unknown })._cachedJsonLd != null
  )
    return options;
  const context = await defaultContextOf(base, options.contextLoader);
  return {
    ...options,
    format: "compact",
    context: [...context, MASTODON_MEDIA_TERMS] as NonNullable<JsonLdOptions["context"]>,
  };
}

/** A `Note` whose attachments carry Mastodon's terms. */
export class MediaNote extends Note {
  override async toJsonLd(options: JsonLdOptions = {}): Promise<unknown> {
    return super.toJsonLd(await withMediaContext(this, Note, options));
  }
}

/** A `Create` of a post whose attachments carry Mastodon's terms. */
export class MediaCreate extends Create {
  override async toJsonLd(options: JsonLdOptions = {}): Promise<unknown> {
    return super.toJsonLd(await withMediaContext(this, Create, options));
  }
}

/** An `Update` of a post whose attachments carry Mastodon's terms. */
export class MediaUpdate extends Update {
  override async toJsonLd(options: JsonLdOptions = {}): Promise<unknown> {
    return super.toJsonLd(await withMediaContext(this, Update, options));
  }
}

// --- In ------------------------------------------------------------------

/** Most attachments taken from one remote post, as on Mastodon. */
export const MAX_REMOTE_ATTACHMENTS = 8;
/** Entries of a remote `attachment` looked at before giving up (hashtags, links, junk). */
const MAX_ENTRIES_READ = 32;
const MAX_DIMENSION = 100_000;
const MAX_DESCRIPTION = 1500;
/** Base 83 (https://github.com/woltapp/blurhash/blob/master/Algorithm.md). */
const BLURHASH = /^[0-9A-Za-z#$%*+,\-.:;=?@[\]^_{|}~]{6,200}$/;

/** A remote attachment as we store it. */
export interface RemoteAttachment {
  url: string;
  /** As the remote server said; `null` when it did not. */
  mediaType: string | null;
  kind: MediaKind;
  description: string;
  width: number | null;
  height: number | null;
  blurhash: string | null;
  focus: { x: number; y: number };
}

function httpUrl(value: URL | null | undefined): string | null {
  if (!value) return null;
  return value.protocol === "https:" || value.protocol === "http:" ? value.href : null;
}

function mediaTypeOf(text: string | null | undefined): string | null {
  const type = text?.split(";")[0]?.trim().toLowerCase() ?? "";
  return /^[a-z0-9][a-z0-9!#$&^_.+-]{0,63}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,63}$/.test(type)
    ? type
    : null;
}

/** Our kind for a remote attachment: by its media type, else by its ActivityStreams type. */
function kindOf(mediaType: string | null, object: Document): MediaKind {
  if (mediaType?.startsWith("image/")) return "image";
  if (mediaType?.startsWith("video/")) return "video";
  if (mediaType !== null) return "unknown";
  if (object instanceof Image) return "image";
  if (object instanceof Video) return "video";
  return "unknown";
}

/** The URL of an attachment (the first http(s) one, a `Link`'s `href` included) and its link's type. */
function urlOf(object: Document): { url: string; mediaType: string | null } | null {
  for (const entry of object.urls) {
    const url = entry instanceof Link ? httpUrl(entry.href) : httpUrl(entry);
    if (url) return { url, mediaType: entry instanceof Link ? mediaTypeOf(entry.mediaType) : null };
  }
  return null;
}

function dimension(value: number | null): number | null {
  return value !== null && Number.isInteger(value) && value > 0 && value <= MAX_DIMENSION
    ? value
    : null;
}

/** `url` of a raw JSON attachment, as the hrefs it names. */
function rawHrefs(value: unknown): string[] {
  return [value].flat().flatMap((entry) => {
    if (typeof entry === "string") return [entry];
    if (entry && typeof entry === "object" && "href" in entry && typeof entry.href === "string")
      return [entry.href];
    return [];
  });
}

function rawBlurhash(raw: Record<string, unknown> | undefined): string | null {
  const value = raw?.blurhash;
  return typeof value === "string" && BLURHASH.test(value) ? value : null;
}

function rawFocus(raw: Record<string, unknown> | undefined): { x: number; y: number } {
  const value = raw?.focalPoint;
  if (!Array.isArray(value) || value.length !== 2) return { x: 0, y: 0 };
  const [x, y] = value.map((v) => (typeof v === "number" && Number.isFinite(v) ? v : Number.NaN));
  if (Number.isNaN(x) || Number.isNaN(y)) return { x: 0, y: 0 };
  const clamp = (v: number) => Math.max(-1, Math.min(1, v));
  return { x: clamp(x!), y: clamp(y!) };
}

/**
 * The photos, videos and sounds of a remote post, as we store them: at most
 * eight, only those with an http(s) URL. `raw` is the post's JSON as the
 * sender wrote it (for `blurhash` and `focalPoint`, which Fedify does not
 * read; Mastodon reads them as plain keys). Attachments given only as a URL
 * are not fetched.
 */
export async function remoteAttachments(
  object: APObject,
  raw: Record<string, unknown> | null,
): Promise<RemoteAttachment[]> {
  const rawList = [raw?.attachment ?? []]
    .flat()
    .filter((a): a is Record<string, unknown> => typeof a === "object" && a !== null);
  const found: RemoteAttachment[] = [];
  let read = 0;
  for await (const entry of object.getAttachments({
    // Nothing is fetched: an attachment we were not sent whole is left out.
    documentLoader: () => Promise.reject(new Error("attachments are not fetched")),
    suppressError: true,
  })) {
    if (++read > MAX_ENTRIES_READ || found.length >= MAX_REMOTE_ATTACHMENTS) break;
    // Documents, images, videos and sounds; a `Page` is a link, not media.
    if (!(entry instanceof Document) || entry instanceof Page) continue;
    const link = urlOf(entry);
    if (!link) continue;
    const mediaType = mediaTypeOf(entry.mediaType) ?? link.mediaType;
    const rawEntry = rawList.find((r) => rawHrefs(r.url).includes(link.url));
    found.push({
      url: link.url,
      mediaType,
      kind: kindOf(mediaType, entry),
      description: stripUnsafeText((entry.name?.toString() ?? "").trim().slice(0, MAX_DESCRIPTION)),
      width: dimension(entry.width),
      height: dimension(entry.height),
      blurhash: rawBlurhash(rawEntry),
      focus: rawFocus(rawEntry),
    });
  }
  return found;
}

/** File name extensions of the media types remote attachments usually have (the key's, nothing more). */
const EXTENSIONS: Record<string, string> = {
  "image/jpeg": "jpg",
  "image/png": "png",
  "image/gif": "gif",
  "image/webp": "webp",
  "image/avif": "avif",
  "video/mp4": "mp4",
  "video/webm": "webm",
  "video/quicktime": "mov",
};

/**
 * The media rows of a remote post's attachments: ready, owned by its author,
 * attached to the stored post in their order, with their remote URL. Each gets
 * a `display` file under a fresh unguessable key, which names it in its proxy
 * URL and in the blob store once the proxy has fetched it (its size and
 * media type are what the remote server said until then).
 */
export function remoteMediaRows(
  attachments: readonly RemoteAttachment[],
  postId: string,
  ownerId: string,
  now: Date,
): Media[] {
  return attachments.map((a, position) => ({
    id: newId(),
    ownerId,
    postId,
    position,
    kind: a.kind,
    state: "ready",
    description: a.description,
    focus: a.focus,
    width: a.width,
    height: a.height,
    duration: null,
    blurhash: a.blurhash,
    display: {
      key: newFileKey(EXTENSIONS[a.mediaType ?? ""] ?? "bin"),
      mediaType: a.mediaType ?? "application/octet-stream",
      width: a.width,
      height: a.height,
      size: 0,
    },
    small: null,
    remoteUrl: a.url,
    remoteMediaType: a.mediaType,
    error: null,
    createdAt: now,
  }));
}
