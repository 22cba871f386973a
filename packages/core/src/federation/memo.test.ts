/**
 * The key memo imports each stored pair once per process and imports afresh
 * a pair that was replaced (another fingerprint); the per-request loader
 * fetches the signer's key and its owner, one document, once.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { exportJwk, generateCryptoKeyPair } from "@fedify/fedify";
import type { RemoteDocument } from "@fedify/vocab";
import type { StoredKeyPair } from "../stores/stores.ts";
import { createKeyMemo, keyFingerprint, onceEachDocument } from "./memo.ts";

async function storedPair(type: StoredKeyPair["type"]): Promise<StoredKeyPair> {
  const pair = await generateCryptoKeyPair(type);
  return {
    type,
    publicJwk: await exportJwk(pair.publicKey),
    privateJwk: await exportJwk(pair.privateKey),
  };
}

describe("key memo", () => {
  it("imports a stored pair once and gives the same keys back", async () => {
    const rsa = await storedPair("RSASSA-PKCS1-v1_5");
    const ed = await storedPair("Ed25519");
    const memo = createKeyMemo();
    const first = await memo.importPairs([rsa, ed]);
    const again = await memo.importPairs([rsa, ed]);
    assert.equal(first.length, 2);
    assert.equal(again[0], first[0]);
    assert.equal(again[1], first[1]);
    assert.equal(first[0]!.privateKey.algorithm.name, "RSASSA-PKCS1-v1_5");
    assert.equal(first[1]!.privateKey.algorithm.name, "Ed25519");
    assert.equal(memo.size, 2);
  });

  it("imports a replaced pair afresh: the memo is keyed by the public key", async () => {
    const old = await storedPair("Ed25519");
    const rotated = await storedPair("Ed25519");
    assert.notEqual(keyFingerprint(old), keyFingerprint(rotated));
    let imports = 0;
    const memo = createKeyMemo(async () => {
      imports++;
      return generateCryptoKeyPair("Ed25519");
    });
    await memo.importPairs([old]);
    await memo.importPairs([old]);
    assert.equal(imports, 1);
    await memo.importPairs([rotated]);
    assert.equal(imports, 2);
    memo.clear();
    await memo.importPairs([old]);
    assert.equal(imports, 3);
  });

  it("concurrent uses share one import, and a failed import is tried again", async () => {
    const pair = await storedPair("Ed25519");
    let imports = 0;
    let fail = true;
    const memo = createKeyMemo(async () => {
      imports++;
      if (fail) throw new Error("bad key");
      return generateCryptoKeyPair("Ed25519");
    });
    await assert.rejects(Promise.all([memo.importPairs([pair]), memo.importPairs([pair])]));
    assert.equal(imports, 1);
    fail = false;
    await new Promise((resolve) => setImmediate(resolve));
    const [keys] = await memo.importPairs([pair]);
    assert.equal(imports, 2);
    assert.equal(keys!.publicKey.algorithm.name, "Ed25519");
  });
});

describe("onceEachDocument", () => {
  it("fetches a key's document and its owner once; other documents on their own", async () => {
    const fetched: string[] = [];
    const loader = onceEachDocument(async (url): Promise<RemoteDocument> => {
      fetched.push(url);
      return { contextUrl: null, documentUrl: url, document: { id: url.split("#")[0] } };
    });
    const key = await loader("https://remote.example/users/rita#main-key");
    const owner = await loader("https://remote.example/users/rita");
    const other = await loader("https://remote.example/users/sam");
    assert.deepEqual(fetched, [
      "https://remote.example/users/rita#main-key",
      "https://remote.example/users/sam",
    ]);
    assert.equal(owner, key);
    assert.deepEqual(other.document, { id: "https://remote.example/users/sam" });
  });

  it("does not keep a failed fetch", async () => {
    let calls = 0;
    const loader = onceEachDocument(async (url): Promise<RemoteDocument> => {
      calls++;
      if (calls === 1) throw new Error("unreachable");
      return { contextUrl: null, documentUrl: url, document: {} };
    });
    await assert.rejects(loader("https://remote.example/users/rita"));
    await new Promise((resolve) => setImmediate(resolve));
    await loader("https://remote.example/users/rita");
    assert.equal(calls, 2);
  });
});
