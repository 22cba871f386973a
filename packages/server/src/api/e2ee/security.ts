/**
 * `GET /.well-known/clique-security`: the server's declared security policy
 * for end-to-end encrypted chats (issue 15) — the ciphersuite, how long it
 * keeps ciphertexts, what it stores and never stores, and the key
 * directory's current head. Clients check it against what they observe
 * (`@clique/client`'s `ChatDevice.checkPolicy`); a claim here is a claim, not
 * a proof. The head is given to signed-in members only (like the directory
 * itself); anyone else gets the policy with `head: null`.
 */
import { E2EE_RETENTION_MS } from "@clique/core";
import { Hono } from "hono";
import type { AppEnv } from "../../http/env.ts";

/** The one ciphersuite the delivery service is for. */
export const E2EE_CIPHERSUITE = "MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519";

export const securityPolicyApi = new Hono<AppEnv>();

securityPolicyApi.get("/", async (c) => {
  const member = c.get("member");
  const head = member ? await c.get("services").clique.e2ee.directoryHead() : null;
  c.header("cache-control", "no-store");
  return c.json({
    version: 1,
    ciphersuites: [E2EE_CIPHERSUITE],
    retention_days: Math.round(E2EE_RETENTION_MS / (24 * 60 * 60 * 1000)),
    one_commit_per_epoch: true,
    stores: [
      "device records: member, name, Ed25519 public key, when added and removed",
      "KeyPackages (public), until claimed; one last-resort package per device",
      "the key directory: an append-only, hash-chained log of device keys",
      "groups: id, current epoch, member devices",
      "Commits, Welcomes and application messages as opaque ciphertext, until every recipient device fetched them, their declared expiry or the retention limit passed",
      "a disappearing message's declared expiry time (the timer itself is inside the ciphertext)",
      "encrypted attachments as opaque blobs with their size, until their expiry, the retention limit or the group's end",
      "per-device delivery cursors",
      "reports by disclosure: the text a member chose to disclose to the moderators",
    ],
    never_stores: [
      "message plaintext",
      "attachment plaintext or keys",
      "private keys",
      "group secrets",
      "message bodies in logs",
    ],
    key_directory: {
      url: "/api/v1/e2ee/directory",
      head: head ? { seq: head.seq, hash: Buffer.from(head.hash).toString("hex") } : null,
      head_visible_to: "members",
    },
  });
});
