/**
 * The key directory, checked: the server publishes an append-only,
 * hash-chained log of device keys; the client keeps what it has verified
 * (its head) and accepts a new view only if it extends that head. A server
 * that rewrites, drops or reorders an entry is caught here.
 */
import type { WireDirectoryEntry } from "./api.ts";
import { fromBase64, sameBytes, toHex, utf8 } from "./bytes.ts";

/** The server's directory does not extend what this client verified before. */
export class DirectoryAlarm extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DirectoryAlarm";
  }
}

/** The last entry this client verified. */
export interface DirectoryHead {
  seq: number;
  /** Hex. */
  hash: string;
}

/** The hash the first entry chains to (hex of 32 zero bytes). */
export const GENESIS_HASH = "0".repeat(64);

/** SHA-256 of an entry's fields in the fixed text form (docs/e2ee.md), hex. */
export async function entryHash(
  entry: Pick<
    WireDirectoryEntry,
    "seq" | "member_id" | "device_id" | "action" | "signature_key" | "prev_hash"
  >,
): Promise<string> {
  const text = [
    "clique-e2ee-directory-v1",
    String(entry.seq),
    entry.member_id,
    entry.device_id,
    entry.action,
    entry.signature_key,
    entry.prev_hash,
  ].join("\n");
  return toHex(new Uint8Array(await crypto.subtle.digest("SHA-256", utf8(text))));
}

/**
 * Checks that `entries` (starting at `head.seq`, or at 1 without a head)
 * extend `head` as an unbroken chain, each hash recomputed; the new head.
 * Throws a `DirectoryAlarm` otherwise.
 */
export async function verifyDirectory(
  head: DirectoryHead | null,
  entries: readonly WireDirectoryEntry[],
): Promise<DirectoryHead> {
  let previous: DirectoryHead = head ?? { seq: 0, hash: GENESIS_HASH };
  let rest = entries;
  if (head) {
    const first = entries[0];
    if (!first || first.seq !== head.seq || first.hash !== head.hash)
      throw new DirectoryAlarm(
        `The key directory no longer holds entry ${head.seq} as this device saw it: its history was rewritten`,
      );
    rest = entries.slice(1);
  }
  for (const entry of rest) {
    if (entry.seq !== previous.seq + 1)
      throw new DirectoryAlarm(
        `The key directory skips from entry ${previous.seq} to ${entry.seq}`,
      );
    if (entry.prev_hash !== previous.hash)
      throw new DirectoryAlarm(
        `Entry ${entry.seq} of the key directory does not chain to entry ${previous.seq}`,
      );
    if ((await entryHash(entry)) !== entry.hash)
      throw new DirectoryAlarm(`Entry ${entry.seq} of the key directory does not match its hash`);
    previous = { seq: entry.seq, hash: entry.hash };
  }
  return previous;
}

/** What the verified directory says about one device. */
export interface DirectoryDevice {
  memberId: string;
  deviceId: string;
  signatureKey: Uint8Array;
  removed: boolean;
}

/** The devices a verified list of entries describes, by device id. */
export function devicesOf(entries: readonly WireDirectoryEntry[]): Map<string, DirectoryDevice> {
  const devices = new Map<string, DirectoryDevice>();
  for (const e of entries) {
    if (e.action === "add")
      devices.set(e.device_id, {
        memberId: e.member_id,
        deviceId: e.device_id,
        signatureKey: fromBase64(e.signature_key),
        removed: false,
      });
    else {
      const known = devices.get(e.device_id);
      if (
        known &&
        known.memberId === e.member_id &&
        sameBytes(known.signatureKey, fromBase64(e.signature_key))
      )
        known.removed = true;
    }
  }
  return devices;
}
