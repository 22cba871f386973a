/**
 * Encrypted attachments (issue 15): a photo is encrypted on the device with
 * AES-256-GCM under a fresh random key and nonce; the server stores only the
 * ciphertext, as an opaque blob. The key, the nonce and the SHA-256 of the
 * ciphertext travel inside the MLS message that points at the blob, so a
 * recipient checks that the bytes it downloads are the ones the sender
 * uploaded before decrypting them.
 */
import { fromBase64, sameBytes, toBase64 } from "./bytes.ts";
import { sha256Hex } from "./checks.ts";

/** What a chat message carries about an attachment (inside the ciphertext). */
export interface AttachmentRef {
  /** The server's id of the encrypted blob. */
  blobId: string;
  /** Base64 of the AES-256-GCM key. */
  key: string;
  /** Base64 of the 12-byte nonce. */
  nonce: string;
  /** Hex SHA-256 of the ciphertext (the blob's bytes). */
  sha256: string;
  /** The plaintext's size in bytes. */
  size: number;
  /** The plaintext's media type, as the sender declared it. */
  mediaType: string;
}

/** An attachment encrypted on the device, before upload. */
export interface SealedAttachment {
  ciphertext: Uint8Array;
  key: string;
  nonce: string;
  sha256: string;
}

/** Thrown when a downloaded blob is not what the message promised (hash or tag). */
export class AttachmentMismatch extends Error {
  override name = "AttachmentMismatch";
}

const AES = { name: "AES-GCM", length: 256 } as const;

/** Encrypts `plaintext` under a new random key and nonce. */
export async function sealAttachment(plaintext: Uint8Array): Promise<SealedAttachment> {
  const key = crypto.getRandomValues(new Uint8Array(32));
  const nonce = crypto.getRandomValues(new Uint8Array(12));
  const cryptoKey = await crypto.subtle.importKey("raw", key, AES, false, ["encrypt"]);
  const ciphertext = new Uint8Array(
    await crypto.subtle.encrypt(
      { name: "AES-GCM", iv: nonce },
      cryptoKey,
      plaintext as BufferSource,
    ),
  );
  return {
    ciphertext,
    key: toBase64(key),
    nonce: toBase64(nonce),
    sha256: await sha256Hex(ciphertext),
  };
}

/**
 * Checks a downloaded blob against the hash the message carries, then
 * decrypts it; an `AttachmentMismatch` if either fails.
 */
export async function openAttachment(
  ref: Pick<AttachmentRef, "key" | "nonce" | "sha256">,
  ciphertext: Uint8Array,
): Promise<Uint8Array> {
  const hash = await sha256Hex(ciphertext);
  if (!sameBytes(new TextEncoder().encode(hash), new TextEncoder().encode(ref.sha256)))
    throw new AttachmentMismatch("The attachment's bytes are not the ones its message names");
  const cryptoKey = await crypto.subtle.importKey(
    "raw",
    fromBase64(ref.key) as BufferSource,
    AES,
    false,
    ["decrypt"],
  );
  try {
    return new Uint8Array(
      await crypto.subtle.decrypt(
        { name: "AES-GCM", iv: fromBase64(ref.nonce) as BufferSource },
        cryptoKey,
        ciphertext as BufferSource,
      ),
    );
  } catch {
    throw new AttachmentMismatch("The attachment does not decrypt with its message's key");
  }
}
