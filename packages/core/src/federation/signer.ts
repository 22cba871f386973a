/**
 * Who signed a request, without asking their server each time. Mastodon signs
 * every GET of every object with the same key: the key is fetched once,
 * checked against its owner's document once, and then every later request
 * signed with it is verified here, in memory, by Fedify's `verifyRequest`
 * with this module's key cache. The signature itself is checked on every
 * request; only the key and who owns it are remembered.
 *
 * - A key the process has not seen (a new signer, a rotated key with a new
 *   id) is fetched, and so is its owner (the same document for Mastodon).
 * - A remembered key that no longer verifies (the same id with new
 *   material) is fetched afresh by Fedify before the request is refused.
 * - A key is trusted at most `keyTtlMs` before it is fetched again, and a key
 *   that could not be fetched is not asked for again for `unavailableTtlMs`.
 */
import { getKeyOwner, type KeyCache, verifyRequest } from "@fedify/fedify";
import {
  type Actor as APActor,
  type CryptographicKey,
  type DocumentLoader,
  isActor,
  type Multikey,
} from "@fedify/vocab";
import { onceEachDocument } from "./memo.ts";

/** How long a fetched key is used before it is fetched again. */
export const SIGNER_KEY_TTL_MS = 60 * 60 * 1000;
/** How long a key that could not be fetched is held as unavailable. */
export const SIGNER_UNAVAILABLE_TTL_MS = 60 * 1000;
/** Keys remembered at most; the least recently fetched goes first. */
const MAX_KEYS = 10_000;

/** Settings of a signer memo (tests shorten the times). */
export interface SignerMemoOptions {
  keyTtlMs?: number;
  unavailableTtlMs?: number;
  maxKeys?: number;
  /** The clock. */
  now?: () => number;
}

/** The loaders a verification may use, made only if something must be fetched. */
export interface SignerLoaders {
  /** Fetches remote documents (signed by the instance actor: strict servers require it). */
  documentLoader: () => Promise<DocumentLoader>;
  contextLoader: DocumentLoader;
}

/** A request's verified signer. */
export interface VerifiedSigner {
  /** The key that verified the signature. */
  keyId: string;
  /** The actor that owns that key (its document lists the key). */
  ownerUri: string;
  /**
   * The owner's document, when it was fetched for this request (a key not
   * seen before); `null` when the key's owner was already known.
   */
  owner: APActor | null;
  /** The verified key itself. */
  key: CryptographicKey;
}

interface Entry {
  key: CryptographicKey | Multikey | null;
  /** Whose document was seen to list this key; `null` until checked. */
  ownerUri: string | null;
  expires: number;
}

/** Remembered signer keys and their owners, for one process. */
export interface SignerMemo {
  /**
   * Verifies `request`'s signature (`null`: unsigned, invalid, or its key or
   * owner could not be fetched) and names its owner.
   */
  verify(request: Request, loaders: SignerLoaders): Promise<VerifiedSigner | null>;
  /**
   * The owner of a key that verified, fetched afresh (a remembered owner
   * that is no longer stored here, say): `null` if it no longer lists the key.
   */
  refetchOwner(signer: VerifiedSigner, loaders: SignerLoaders): Promise<VerifiedSigner | null>;
  /** The key cache Fedify's `verifyRequest` is given. */
  readonly keyCache: KeyCache;
  /** Forgets every remembered key. */
  clear(): void;
  /** How many keys are remembered. */
  readonly size: number;
}

/** Remembers signers' keys and owners, as described above. */
export function createSignerMemo(options: SignerMemoOptions = {}): SignerMemo {
  const keyTtlMs = options.keyTtlMs ?? SIGNER_KEY_TTL_MS;
  const unavailableTtlMs = options.unavailableTtlMs ?? SIGNER_UNAVAILABLE_TTL_MS;
  const maxKeys = options.maxKeys ?? MAX_KEYS;
  const now = options.now ?? Date.now;
  const entries = new Map<string, Entry>();

  function live(keyId: string): Entry | undefined {
    const entry = entries.get(keyId);
    if (entry && entry.expires <= now()) {
      entries.delete(keyId);
      return undefined;
    }
    return entry;
  }

  // Fedify asks `get` before fetching a key and calls `set` with what it
  // fetched (or `null`), also after a remembered key failed to verify.
  const keyCache: KeyCache = {
    get(keyId) {
      const entry = live(keyId.href);
      return Promise.resolve(entry === undefined ? undefined : entry.key);
    },
    set(keyId, key) {
      entries.delete(keyId.href);
      // A key fetched afresh is checked against its owner again.
      entries.set(keyId.href, {
        key,
        ownerUri: null,
        expires: now() + (key === null ? unavailableTtlMs : keyTtlMs),
      });
      if (entries.size > maxKeys) {
        const oldest = entries.keys().next().value;
        if (oldest !== undefined) entries.delete(oldest);
      }
      return Promise.resolve();
    },
  };

  /** One request's document loader: made on first use, fetching each document once. */
  function lazyLoader(loaders: SignerLoaders): DocumentLoader {
    let loader: Promise<DocumentLoader> | null = null;
    return onceEachDocument((url, loadOptions) => {
      loader ??= loaders.documentLoader();
      return loader.then((load) => load(url, loadOptions));
    });
  }

  /**
   * The owner of a verified key, fetched: its document must list the key
   * (anyone can publish a key naming anyone). `fresh`: the key's document is
   * fetched again too, not only what it names (a key object keeps what it
   * fetched).
   */
  async function ownerOf(
    key: CryptographicKey,
    documentLoader: DocumentLoader,
    contextLoader: DocumentLoader,
    fresh = false,
  ): Promise<VerifiedSigner | null> {
    const keyId = key.id!.href;
    const owner = await getKeyOwner(fresh ? key.id! : key, { documentLoader, contextLoader }).catch(
      () => null,
    );
    if (!owner?.id || !isActor(owner)) return null;
    const entry = live(keyId);
    if (entry && entry.key === key) entry.ownerUri = owner.id.href;
    return { keyId, ownerUri: owner.id.href, owner, key };
  }

  async function verified(
    request: Request,
    documentLoader: DocumentLoader,
    contextLoader: DocumentLoader,
  ): Promise<CryptographicKey | null> {
    // Unsigned: nothing to verify (most anonymous reads).
    if (!request.headers.has("signature") && !request.headers.has("signature-input")) return null;
    const key = await verifyRequest(request, { documentLoader, contextLoader, keyCache }).catch(
      () => null,
    );
    return key?.id ? key : null;
  }

  return {
    async verify(request, loaders) {
      const documentLoader = lazyLoader(loaders);
      const key = await verified(request, documentLoader, loaders.contextLoader);
      if (!key) return null;
      const entry = live(key.id!.href);
      // Known key, known owner, and the key still names that owner.
      if (entry?.ownerUri && entry.key === key && key.ownerId?.href === entry.ownerUri)
        return { keyId: key.id!.href, ownerUri: entry.ownerUri, owner: null, key };
      return ownerOf(key, documentLoader, loaders.contextLoader);
    },
    refetchOwner(signer, loaders) {
      return ownerOf(signer.key, lazyLoader(loaders), loaders.contextLoader, true);
    },
    keyCache,
    clear: () => entries.clear(),
    get size() {
      return entries.size;
    },
  };
}
