/**
 * Talking to Clique the way Mastodon and Misskey do, for the whole-system tests
 * that stand in for a server that is not Fedify (`interop.test.ts`,
 * `interop-permissions.test.ts`, `canary-crawl.test.ts`).
 *
 * Requests are signed as Mastodon signs them — draft-cavage HTTP Signatures,
 * `rsa-sha256`, with `Digest: SHA-256=` on a POST — and inbox POSTs from Clique
 * are checked as Misskey checks them, both with Misskey's library.
 *
 * Not a test file: its name does not end in `.test.ts`, so the test runner's glob leaves it out.
 */
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import type { RecordedRequest } from "@clique/testing";
import {
  genRFC3230DigestHeader,
  type HeadersLike,
  parseRequestSignature,
  signAsDraftToRequest,
  verifyDraftSignature,
  verifyRFC3230DigestHeader,
} from "@misskey-dev/node-http-message-signatures";

type Json = Record<string, unknown>;

/** How long the tests wait for something asynchronous (the queues) before giving up, in ms. */
export const WAIT_MS = 20_000;

/** What the `Accept` of Mastodon's ActivityPub GETs asks for. */
const MASTODON_ACCEPT = "application/activity+json, application/ld+json";

/** The headers Mastodon signs on an inbox POST. */
const POST_COMPONENTS = ["(request-target)", "host", "date", "digest", "content-type"];
/** The headers Mastodon signs on an ActivityPub GET. */
const GET_COMPONENTS = ["(request-target)", "host", "date", "accept"];

/** What signs a request: a key id and its private key (a `FakeAccount` is one). */
export interface Signer {
  keyId: string;
  privateKeyPem: string;
}

/**
 * Polls until `probe` returns something truthy (the queues work asynchronously)
 * and returns it; every 100 ms, for `timeoutMs` (default {@link WAIT_MS}), then
 * throws `Timed out after … ms waiting for ${what}`.
 */
export async function eventually<T>(
  what: string,
  probe: () => Promise<T | null | undefined | false>,
  timeoutMs = WAIT_MS,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline)
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

/** How {@link deliver} sends an activity. */
export interface DeliverOptions {
  /** Who signs it; `null` sends it unsigned. */
  as: Signer | null;
  /** Sign with this key id instead of the signer's own. */
  keyId?: string;
  /** The `Date` header (and so the signed date); default now. */
  date?: Date;
  /** Send this body instead of the one that was signed. */
  sendBody?: string;
}

/**
 * POSTs an activity to an inbox the way Mastodon does: `Content-Type:
 * application/activity+json`, a `Digest: SHA-256=` of the body, and a draft
 * signature over `(request-target) host date digest content-type`.
 * Returns the answer's status and body, whatever the status.
 */
export async function deliver(
  inbox: string,
  activity: unknown,
  options: DeliverOptions,
): Promise<{ status: number; text: string }> {
  const body = JSON.stringify(activity);
  const url = new URL(inbox);
  const headers: Record<string, string> = {
    host: url.host,
    date: (options.date ?? new Date()).toUTCString(),
    digest: await genRFC3230DigestHeader(body, "SHA-256"),
    "content-type": "application/activity+json",
  };
  if (options.as) {
    await signAsDraftToRequest(
      { url: url.href, method: "POST", headers },
      { keyId: options.keyId ?? options.as.keyId, privateKeyPem: options.as.privateKeyPem },
      POST_COMPONENTS,
    );
  }
  const response = await fetch(url, {
    method: "POST",
    headers,
    body: options.sendBody ?? body,
  });
  return { status: response.status, text: await response.text() };
}

/**
 * GETs an ActivityPub object the way Mastodon does: signed as `as` (a draft
 * signature over `(request-target) host date accept`), or unsigned if `as` is
 * `null`. `accept` replaces Mastodon's `Accept` header. Returns the answer's
 * status, headers, body text and body bytes.
 */
export async function fetchAs(
  url: string,
  as: Signer | null,
  options: { accept?: string } = {},
): Promise<{ status: number; headers: Headers; text: string; bytes: Uint8Array }> {
  const target = new URL(url);
  const headers: Record<string, string> = {
    host: target.host,
    date: new Date().toUTCString(),
    accept: options.accept ?? MASTODON_ACCEPT,
  };
  if (as) {
    await signAsDraftToRequest(
      { url: target.href, method: "GET", headers },
      { keyId: as.keyId, privateKeyPem: as.privateKeyPem },
      GET_COMPONENTS,
    );
  }
  const response = await fetch(target, { headers });
  // The bytes too (a media file is not text); the text decodes them as `response.text()` would.
  const bytes = new Uint8Array(await response.arrayBuffer());
  return {
    status: response.status,
    headers: response.headers,
    text: new TextDecoder().decode(bytes),
    bytes,
  };
}

/** `text` parsed as JSON, or `null` if it is not JSON (or empty). */
export function jsonOrNull<T = Json>(text: string): T | null {
  try {
    return JSON.parse(text) as T;
  } catch {
    return null;
  }
}

/** How the fake remote judged an inbox POST it received (Misskey's verifier). */
export interface Verdict {
  spec: "draft" | "rfc9421" | "none";
  verified: boolean;
  keyId?: string;
  algorithm?: string;
  headers?: string[];
  error?: string;
}

/**
 * Misskey's checks on an inbox POST: a draft signature over the required
 * headers, the digest of the body, and the signature against the key its key id
 * names (fetched with {@link publicKeyPem}). RFC 9421 signatures are not
 * verified, as Misskey does not. With `keyIdPrefix`, a key id that does not
 * start with it is refused before anything is fetched.
 */
export async function verifyAsMisskeyWould(
  request: RecordedRequest,
  options: { keyIdPrefix?: string } = {},
): Promise<Verdict> {
  if (request.headers["signature-input"]) {
    return { spec: "rfc9421", verified: false, error: "RFC 9421 is not verified here" };
  }
  if (!request.headers.signature) return { spec: "none", verified: false };
  const like = {
    url: request.path,
    method: request.method,
    headers: request.headers as HeadersLike,
  };
  try {
    const parsed = parseRequestSignature(like, {
      requiredComponents: { draft: ["(request-target)", "host", "date", "digest"] },
    });
    if (parsed.version !== "draft") return { spec: "rfc9421", verified: false };
    const base = {
      spec: "draft" as const,
      keyId: parsed.value.keyId,
      headers: parsed.value.params.headers,
      ...(parsed.value.params.algorithm ? { algorithm: parsed.value.params.algorithm } : {}),
    };
    if (options.keyIdPrefix !== undefined && !parsed.value.keyId.startsWith(options.keyIdPrefix)) {
      return { ...base, verified: false, error: `key id not under ${options.keyIdPrefix}` };
    }
    if (!(await verifyRFC3230DigestHeader(like, request.body, true))) {
      return { ...base, verified: false, error: "digest mismatch" };
    }
    const verified = await verifyDraftSignature(
      parsed.value,
      await publicKeyPem(parsed.value.keyId),
    );
    return { ...base, verified };
  } catch (error) {
    return { spec: "draft", verified: false, error: String(error) };
  }
}

/** Fetches a Clique key's PEM from its owner's actor document, as a remote server would. */
export async function publicKeyPem(keyId: string): Promise<string> {
  const response = await fetch(keyId.replace(/#.*$/, ""), {
    headers: { accept: "application/activity+json" },
  });
  const actor = (await response.json()) as { publicKey?: Json | Json[] };
  const keys = Array.isArray(actor.publicKey) ? actor.publicKey : [actor.publicKey];
  const key = keys.find((k) => k?.id === keyId);
  assert.ok(typeof key?.publicKeyPem === "string", `no key ${keyId} in its actor document`);
  return key.publicKeyPem;
}

/** The id of an ActivityStreams reference: the string itself, or an object's `id`. */
export function idOf(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (value && typeof value === "object" && "id" in value) return String(value.id);
  return undefined;
}

/** The `type` of a JSON object, if it has one. */
export function typeOf(json: unknown): string | undefined {
  return json && typeof json === "object" && "type" in json ? String(json.type) : undefined;
}
