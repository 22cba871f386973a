/**
 * End-to-end encrypted chats (issue 15): what the server keeps as the MLS
 * delivery service and key directory. Every body here is opaque bytes the
 * server cannot read; only devices hold keys.
 */
import { createHash } from "node:crypto";

/** The one MLS ciphersuite the server's clients speak (RFC 9420, id 1). */
export const E2EE_CIPHERSUITE = "MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519";

/** Limits checked at the edge and by the use cases. */
export const E2EE_LIMITS = {
  /** A device's name, in characters. */
  deviceName: 100,
  /** An Ed25519 public key, in bytes. */
  signatureKey: 32,
  /** One KeyPackage, in bytes. */
  keyPackage: 16 * 1024,
  /** KeyPackages uploaded in one request. */
  keyPackagesPerUpload: 100,
  /** KeyPackages waiting per device (the last-resort one aside). */
  keyPackagesPerDevice: 500,
  /** A Commit, a Welcome or an application message, in bytes. */
  message: 256 * 1024,
  /** Devices a member may have at once. */
  devicesPerMember: 20,
  /** Members whose KeyPackages one claim asks for. */
  membersPerClaim: 50,
  /** Devices one Commit may add or remove. */
  devicesPerCommit: 200,
  /** Messages one fetch returns at most. */
  fetchPage: 200,
  /** An encrypted attachment, in bytes (sent as base64 in a JSON body under the body limit). */
  blob: 512 * 1024,
  /** What one member's devices may keep stored as attachments at once, in bytes (until they expire). */
  blobBytesPerMember: 200 * 1024 * 1024,
} as const;

/** How long a ciphertext waits for the devices that have not fetched it (30 days). */
export const E2EE_RETENTION_MS = 30 * 24 * 60 * 60 * 1000;

/** A member's device: one MLS leaf. */
export interface E2eeDevice {
  id: string;
  memberId: string;
  /** The session or token that registered it: only that one acts as the device. */
  tokenId: string;
  name: string;
  /** The device's Ed25519 public key, as in its MLS credential's leaf. */
  signatureKey: Uint8Array;
  createdAt: Date;
  removedAt: Date | null;
}

/** One entry of the key directory: a device key added or removed, chained to the one before. */
export interface DirectoryEntry {
  /** 1, 2, 3…: the entry's place in the log. */
  seq: number;
  memberId: string;
  deviceId: string;
  signatureKey: Uint8Array;
  action: "add" | "remove";
  /** The previous entry's hash (32 zero bytes for the first). */
  prevHash: Uint8Array;
  /** `directoryEntryHash` of this entry. */
  hash: Uint8Array;
  createdAt: Date;
}

/** What a group's message is to the delivery service. */
export type E2eeMessageKind = "commit" | "welcome" | "application";

/** A message waiting for one device, with the device's cursor position. */
export interface E2eeDelivery {
  /** The device's own sequence number: the cursor. */
  seq: number;
  groupId: string;
  kind: E2eeMessageKind;
  /** The epoch the message was sent in (for a Commit: the epoch it ends). */
  epoch: number;
  senderDeviceId: string;
  body: Uint8Array;
  createdAt: Date;
}

/** A chat's sequencing state on the server. */
export interface E2eeGroup {
  id: string;
  epoch: number;
  createdBy: string;
  createdAt: Date;
}

/** The hash the first entry chains to. */
export const DIRECTORY_GENESIS = new Uint8Array(32);

/**
 * The hash of a directory entry: SHA-256 of a fixed text form of its fields
 * and the previous hash. Clients compute the same (docs/e2ee.md gives the
 * form), so a server that rewrites an entry breaks the chain they remember.
 */
export function directoryEntryHash(
  entry: Pick<
    DirectoryEntry,
    "seq" | "memberId" | "deviceId" | "signatureKey" | "action" | "prevHash"
  >,
): Uint8Array {
  const text = [
    "clique-e2ee-directory-v1",
    String(entry.seq),
    entry.memberId,
    entry.deviceId,
    entry.action,
    Buffer.from(entry.signatureKey).toString("base64"),
    Buffer.from(entry.prevHash).toString("hex"),
  ].join("\n");
  return new Uint8Array(createHash("sha256").update(text, "utf8").digest());
}
