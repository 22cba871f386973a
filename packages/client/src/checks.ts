/**
 * What a device checks about the server beyond the key directory: that
 * every member of a group is in the same group (epoch checks), that a
 * contact's devices did not change behind the user's back (device sets and
 * safety numbers), and that nothing is delivered twice (replays). What it
 * finds is an `Alert`, surfaced to the user, never silently accepted.
 */
import { fromBase64, fromUtf8, sameBytes, toHex, utf8 } from "./bytes.ts";

/** Something a device caught the server (or the network) doing. */
export interface Alert {
  /**
   * `ForkAlarm`: two versions of one group (two Commits for one epoch, or an
   * epoch check that does not match); `DevicesChanged`: a member's device
   * keys changed; `Replay`: a message or Commit delivered again;
   * `PolicyMismatch`: the server's declared security policy does not match
   * what the device observes.
   */
  kind: "ForkAlarm" | "DevicesChanged" | "Replay" | "PolicyMismatch";
  message: string;
  groupId?: string;
  memberId?: string;
  epoch?: number;
}

/** SHA-256, hex. */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  return toHex(new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as BufferSource)));
}

/**
 * A safety number for two members: 60 digits in 12 groups of 5, the same
 * whichever of the two computes it. Each half is 30 digits drawn from
 * SHA-256 over one member's id and their sorted device keys (base64); the
 * halves are ordered by member id. `qr` is the text a QR code carries.
 */
export async function safetyNumber(
  a: { memberId: string; keys: readonly string[] },
  b: { memberId: string; keys: readonly string[] },
): Promise<{ digits: string; qr: string }> {
  const half = async (side: { memberId: string; keys: readonly string[] }) => {
    const text = ["clique-safety-v1", side.memberId, ...[...side.keys].sort()].join("\n");
    const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", utf8(text)));
    const groups: string[] = [];
    for (let i = 0; i < 6; i++) {
      // Five bytes (40 bits) to five digits.
      let n = 0;
      for (let j = 0; j < 5; j++) n = n * 256 + hash[i * 5 + j]!;
      groups.push(String(n % 100000).padStart(5, "0"));
    }
    return { memberId: side.memberId, groups, hex: toHex(hash) };
  };
  const halves = (await Promise.all([half(a), half(b)])).sort((x, y) =>
    x.memberId < y.memberId ? -1 : x.memberId > y.memberId ? 1 : 0,
  );
  return {
    digits: halves.flatMap((h) => h.groups).join(" "),
    qr: `clique-safety:1:${halves.map((h) => `${h.memberId}:${h.hex}`).join(":")}`,
  };
}

/**
 * Epoch checks travel sealed with a key exported from the *parent* epoch
 * (MLS exporter, label below), so that every device that was in that epoch
 * can open them whichever Commit it followed next — which is what lets two
 * sides of a fork compare their epoch authenticators at all. The server sees
 * that a message is an epoch check (the prefix), not what it says.
 */
export const EPOCH_CHECK_LABEL = "clique epoch check";
const MAGIC = utf8("CQEC1");

/** What an epoch check says, once opened. */
export interface EpochCheck {
  epoch: number;
  deviceId: string;
  /** Base64 of the sender's epoch authenticator for `epoch`. */
  authenticator: string;
}

export const isEpochCheck = (body: Uint8Array): boolean =>
  body.byteLength > MAGIC.byteLength && sameBytes(body.subarray(0, MAGIC.byteLength), MAGIC);

const additionalData = (groupId: string, epoch: number) =>
  utf8(`clique-epoch-check-v1\n${groupId}\n${epoch}`);

async function aesKey(raw: Uint8Array): Promise<CryptoKey> {
  return crypto.subtle.importKey("raw", raw as BufferSource, "AES-GCM", false, [
    "encrypt",
    "decrypt",
  ]);
}

/** Seals an epoch check with the parent epoch's check key. */
export async function sealEpochCheck(
  key: Uint8Array,
  groupId: string,
  check: EpochCheck,
): Promise<Uint8Array> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const sealed = new Uint8Array(
    await crypto.subtle.encrypt(
      { name: "AES-GCM", iv, additionalData: additionalData(groupId, check.epoch) },
      await aesKey(key),
      utf8(JSON.stringify(check)),
    ),
  );
  const out = new Uint8Array(MAGIC.byteLength + iv.byteLength + sealed.byteLength);
  out.set(MAGIC, 0);
  out.set(iv, MAGIC.byteLength);
  out.set(sealed, MAGIC.byteLength + iv.byteLength);
  return out;
}

/** Opens an epoch check; `null` if this key did not seal it (or it was altered). */
export async function openEpochCheck(
  key: Uint8Array,
  groupId: string,
  epoch: number,
  body: Uint8Array,
): Promise<EpochCheck | null> {
  const iv = new Uint8Array(body.subarray(MAGIC.byteLength, MAGIC.byteLength + 12));
  try {
    const plain = await crypto.subtle.decrypt(
      { name: "AES-GCM", iv, additionalData: additionalData(groupId, epoch) },
      await aesKey(key),
      new Uint8Array(body.subarray(MAGIC.byteLength + 12)),
    );
    const check = JSON.parse(fromUtf8(new Uint8Array(plain))) as EpochCheck;
    if (
      check.epoch !== epoch ||
      typeof check.deviceId !== "string" ||
      typeof check.authenticator !== "string"
    )
      return null;
    return check;
  } catch {
    return null;
  }
}

/** Two authenticators (base64) are the same bytes. */
export const sameAuthenticator = (a: string, b: string): boolean =>
  sameBytes(fromBase64(a), fromBase64(b));
