/**
 * Clique's end-to-end encrypted chat client (issue 15): MLS (RFC 9420) with
 * ts-mls, one leaf per device, over the server's delivery service; the key
 * directory verified instead of trusted. Imports nothing of the server: it
 * speaks the HTTP API only, in browsers and in Node.
 */
export {
  ApiError,
  type ClaimedKeyPackage,
  DeliveryApi,
  type OwnDevice,
  type ServerAccess,
  type WireSecurityPolicy,
} from "./api.ts";
export {
  AttachmentMismatch,
  type AttachmentRef,
  openAttachment,
  sealAttachment,
} from "./attachments.ts";
export { fromBase64, toBase64, toHex } from "./bytes.ts";
export {
  type Alert,
  EPOCH_CHECK_LABEL,
  type EpochCheck,
  isEpochCheck,
  openEpochCheck,
  safetyNumber,
  sealEpochCheck,
} from "./checks.ts";
export {
  ChatDevice,
  type ChatMessage,
  CIPHERSUITE,
  type DeviceExport,
  type EpochRecord,
  MAX_TIMER_SECONDS,
} from "./device.ts";
export {
  DirectoryAlarm,
  type DirectoryDevice,
  type DirectoryHead,
  entryHash,
  GENESIS_HASH,
  verifyDirectory,
} from "./directory.ts";
