/**
 * A fake remote server's instance actor: an `Application` at `/actor` named
 * after its host, as Mastodon serves one. Its signed fetches stand for every
 * account on that server.
 */
import { generateKeyPairSync } from "node:crypto";
import type { FakeRemote } from "@clique/testing";
import type { Signer } from "./mastodon-signing.ts";

const AS = "https://www.w3.org/ns/activitystreams";

/** Publishes the instance actor on `server` and returns what signs as it. */
export function publishInstanceActor(server: FakeRemote): Signer {
  const { publicKey, privateKey } = generateKeyPairSync("rsa", {
    modulusLength: 2048,
    publicKeyEncoding: { type: "spki", format: "pem" },
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
  });
  const id = `${server.origin}/actor`;
  server.publish({
    "@context": [AS, "https://w3id.org/security/v1"],
    id,
    type: "Application",
    preferredUsername: server.host,
    inbox: `${id}/inbox`,
    outbox: `${id}/outbox`,
    endpoints: { sharedInbox: server.sharedInbox },
    manuallyApprovesFollowers: true,
    publicKey: { id: `${id}#main-key`, owner: id, publicKeyPem: publicKey },
  });
  return { keyId: `${id}#main-key`, privateKeyPem: privateKey };
}
