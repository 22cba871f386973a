/**
 * `GET /.well-known/clique-security`: the server's declared security policy
 * for end-to-end encrypted chats (issue 15) — the ciphersuite, how long it
 * keeps ciphertexts, what it stores and never stores, and the key
 * directory's current head. Clients check it against what they observe
 * (`@clique/client`'s `ChatDevice.checkPolicy`); a claim here is a claim, not
 * a proof. The head is given to signed-in members only (like the directory
 * itself); anyone else gets the policy with `head: null`.
 *
 * `web_client` names the web interface's bundle hash, from the manifest that
 * packages/web/scripts/build.mjs wrote next to the build this server serves;
 * `GET /.well-known/clique-web-bundle` publishes that manifest as it is on
 * disk, so anyone can fetch the files it lists and compare
 * (`npm run web:bundle-hash -- --verify <origin>`).
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { E2EE_RETENTION_MS } from "@clique/core";
import { Hono } from "hono";
import type { AppEnv } from "../../http/env.ts";
import { distDir, WEB_DIR } from "../../http/web-ui.ts";

/** The one ciphersuite the delivery service is for. */
export const E2EE_CIPHERSUITE = "MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519";

/** The web build's bundle manifest, as published. */
interface WebBundle {
  /** The manifest file's bytes, served as they are. */
  bytes: Buffer;
  bundleSha256: string;
  buildId: string;
  /** The algorithm of the `integrity` attributes Next writes (`null`: none). */
  integrity: string | null;
}

let webBundleLoading: Promise<WebBundle | null> | undefined;

/** The manifest of the web build this process serves (read once: a new build needs a restart). */
function webBundle(): Promise<WebBundle | null> {
  webBundleLoading ??= (async () => {
    const dist = path.join(WEB_DIR, distDir());
    const bytes = await readFile(path.join(dist, "clique-bundle.json")).catch(() => null);
    if (!bytes) return null;
    const manifest = JSON.parse(bytes.toString("utf8")) as {
      bundle_sha256?: unknown;
      build_id?: unknown;
    };
    if (typeof manifest.bundle_sha256 !== "string" || typeof manifest.build_id !== "string")
      return null;
    // Next's SRI manifest maps each script to `<algorithm>-<base64>`.
    const sri = await readFile(
      path.join(dist, "server", "subresource-integrity-manifest.json"),
      "utf8",
    )
      .then((text) => Object.values(JSON.parse(text) as Record<string, string>)[0] ?? null)
      .catch(() => null);
    return {
      bytes,
      bundleSha256: manifest.bundle_sha256,
      buildId: manifest.build_id,
      integrity: sri?.split("-")[0] ?? null,
    };
  })().catch(() => null);
  return webBundleLoading;
}

/** `GET /.well-known/clique-web-bundle`: the web build's bundle manifest, public. */
export const webBundleApi = new Hono<AppEnv>();

webBundleApi.get("/", async (c) => {
  const bundle = await webBundle();
  if (!bundle)
    return c.json(
      {
        error: "This server serves no web interface build with a bundle manifest.",
        code: "not_found",
      },
      404,
    );
  c.header("cache-control", "no-cache");
  c.header("content-type", "application/json; charset=utf-8");
  return c.body(new Uint8Array(bundle.bytes));
});

export const securityPolicyApi = new Hono<AppEnv>();

securityPolicyApi.get("/", async (c) => {
  const member = c.get("member");
  const head = member ? await c.get("services").clique.e2ee.directoryHead() : null;
  const bundle = await webBundle();
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
    web_client: bundle
      ? {
          bundle_sha256: bundle.bundleSha256,
          build_id: bundle.buildId,
          manifest: "/.well-known/clique-web-bundle",
          integrity: bundle.integrity,
        }
      : null,
  });
});
