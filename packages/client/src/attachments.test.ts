import assert from "node:assert/strict";
import { test } from "node:test";
import { AttachmentMismatch, openAttachment, sealAttachment } from "./attachments.ts";

const photo = new Uint8Array(10_000).map((_, i) => (i * 31) % 251);

test("an attachment round-trips, and its ciphertext holds no run of the plaintext", async () => {
  const sealed = await sealAttachment(photo);
  assert.equal(sealed.ciphertext.byteLength, photo.byteLength + 16, "GCM adds its tag only");
  assert.ok(!Buffer.from(sealed.ciphertext).includes(Buffer.from(photo.subarray(0, 32))));
  assert.deepEqual(await openAttachment(sealed, sealed.ciphertext), photo);
  const again = await sealAttachment(photo);
  assert.notEqual(again.key, sealed.key, "a fresh key each time");
  assert.notEqual(again.sha256, sealed.sha256);
});

test("a changed blob or a wrong key is refused", async () => {
  const sealed = await sealAttachment(photo);
  const flipped = sealed.ciphertext.slice();
  flipped[5]! ^= 1;
  await assert.rejects(() => openAttachment(sealed, flipped), AttachmentMismatch);
  const other = await sealAttachment(photo);
  await assert.rejects(
    () => openAttachment({ ...sealed, key: other.key }, sealed.ciphertext),
    AttachmentMismatch,
  );
});
