import { exportJwk, generateCryptoKeyPair } from "@fedify/fedify";
import type { StoredKeyPair } from "../stores/stores.ts";

/**
 * Makes an actor's key pairs: RSA-2048 for HTTP signatures (the only kind
 * Mastodon verifies) and Ed25519 for object integrity proofs (FEP-8b32).
 */
export async function generateActorKeys(): Promise<StoredKeyPair[]> {
  const pairs: StoredKeyPair[] = [];
  for (const type of ["RSASSA-PKCS1-v1_5", "Ed25519"] as const) {
    const pair = await generateCryptoKeyPair(type);
    pairs.push({
      type,
      publicJwk: await exportJwk(pair.publicKey),
      privateJwk: await exportJwk(pair.privateKey),
    });
  }
  return pairs;
}
