/**
 * What the federation would otherwise redo on every request: importing the
 * same stored keys into WebCrypto, and fetching the same remote document twice
 * while checking one signature.
 */
import { importJwk } from "@fedify/fedify";
import type { DocumentLoader, RemoteDocument } from "@fedify/vocab";
import type { StoredKeyPair } from "../stores/stores.ts";

/** Imported pairs kept at most; the oldest goes first (a Clique has a few dozen actors). */
const MAX_PAIRS = 1_000;

/** Imports a stored pair into WebCrypto. */
export type PairImporter = (pair: StoredKeyPair) => Promise<CryptoKeyPair>;

const importPair: PairImporter = async (pair) => ({
  publicKey: await importJwk(pair.publicJwk, "public"),
  privateKey: await importJwk(pair.privateJwk, "private"),
});

/**
 * A stored pair's identity: its type and public key material. A pair is
 * determined by its public key, so a replaced (rotated) pair has another
 * fingerprint and is imported afresh, in every process, without being told.
 */
export function keyFingerprint(pair: StoredKeyPair): string {
  const { kty, crv, n, e, x } = pair.publicJwk;
  return [pair.type, kty, crv, n, e, x].map((part) => part ?? "").join("|");
}

/** Imported key pairs, remembered by fingerprint for the life of the process. */
export interface KeyMemo {
  /** The pairs as WebCrypto keys, in the same order; imports only unseen ones. */
  importPairs(pairs: readonly StoredKeyPair[]): Promise<CryptoKeyPair[]>;
  /** Forgets every imported pair. */
  clear(): void;
  /** How many pairs are remembered. */
  readonly size: number;
}

/** Remembers imported key pairs (the import of an RSA private key is not cheap). */
export function createKeyMemo(importer: PairImporter = importPair): KeyMemo {
  const imported = new Map<string, Promise<CryptoKeyPair>>();
  function importOne(pair: StoredKeyPair): Promise<CryptoKeyPair> {
    const fingerprint = keyFingerprint(pair);
    const known = imported.get(fingerprint);
    if (known) return known;
    const pending = importer(pair);
    imported.set(fingerprint, pending);
    // A failed import is not remembered: the next request tries again.
    pending.catch(() => {
      if (imported.get(fingerprint) === pending) imported.delete(fingerprint);
    });
    if (imported.size > MAX_PAIRS) {
      const oldest = imported.keys().next().value;
      if (oldest !== undefined) imported.delete(oldest);
    }
    return pending;
  }
  return {
    importPairs: (pairs) => Promise.all(pairs.map(importOne)),
    clear: () => imported.clear(),
    get size() {
      return imported.size;
    },
  };
}

/**
 * A loader that fetches each document once, for one request's signature
 * check: Fedify loads the signer's key (`…/alice#main-key`) and then its
 * owner (`…/alice`), which is the same document. The fragment is not sent
 * over HTTP, so it is not part of what is remembered. Never shared between
 * requests: what it remembers is as fresh as the request.
 */
export function onceEachDocument(loader: DocumentLoader): DocumentLoader {
  const seen = new Map<string, Promise<RemoteDocument>>();
  return (url, options) => {
    const key = url.split("#", 1)[0]!;
    const known = seen.get(key);
    if (known) return known;
    const pending = loader(url, options);
    seen.set(key, pending);
    pending.catch(() => {
      if (seen.get(key) === pending) seen.delete(key);
    });
    return pending;
  };
}
