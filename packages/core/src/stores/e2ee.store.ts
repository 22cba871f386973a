/**
 * The store of end-to-end encrypted chats' delivery service and key
 * directory (issue 15). Bodies are opaque bytes; the store never looks inside.
 */
import type {
  DirectoryEntry,
  E2eeDelivery,
  E2eeDevice,
  E2eeGroup,
  E2eeMessageKind,
} from "../domain/e2ee.ts";

/** A message to store and hand to some devices. */
export interface NewE2eeMessage {
  groupId: string;
  kind: E2eeMessageKind;
  epoch: number;
  senderDeviceId: string;
  body: Uint8Array;
  createdAt: Date;
  /** When the message expires: not handed out after, deleted by the purge. */
  expiresAt?: Date | null;
}

/** An encrypted attachment to store for a group. */
export interface NewE2eeBlob {
  id: string;
  groupId: string;
  /** The uploading device. */
  deviceId: string;
  body: Uint8Array;
  createdAt: Date;
  expiresAt: Date | null;
}

/** Devices, KeyPackages, the key directory, groups and their messages. */
export interface E2eeStore {
  /** Stores a new device. */
  createDevice(device: E2eeDevice): Promise<void>;
  /** A device by id, removed or not. */
  getDevice(id: string): Promise<E2eeDevice | null>;
  /** A member's devices that are not removed, oldest first. */
  listDevices(memberId: string): Promise<E2eeDevice[]>;
  /** The devices (not removed) of some members, oldest first. */
  listDevicesOf(memberIds: readonly string[]): Promise<E2eeDevice[]>;
  /**
   * Devices not removed whose session or token has ended (revoked, or gone):
   * nothing can act as them any more.
   */
  listOrphanedDevices(): Promise<E2eeDevice[]>;
  /**
   * Marks a device removed, drops its KeyPackages, group seats and waiting
   * deliveries; false if it was removed already.
   */
  removeDevice(id: string, at: Date): Promise<boolean>;

  /** Adds KeyPackages; a last-resort one replaces the device's previous one. */
  addKeyPackages(
    deviceId: string,
    bodies: readonly Uint8Array[],
    lastResort: Uint8Array | null,
    at: Date,
  ): Promise<void>;
  /** How many ordinary (not last-resort) KeyPackages a device has waiting. */
  countKeyPackages(deviceId: string): Promise<number>;
  /**
   * Takes one of a device's KeyPackages, deleting it; the last-resort one
   * (kept) when none is left; `null` when the device has neither.
   */
  claimKeyPackage(deviceId: string): Promise<Uint8Array | null>;

  /** Holds the directory's append lock until the transaction ends. */
  lockDirectory(): Promise<void>;
  /** The directory's newest entry. */
  lastDirectoryEntry(): Promise<DirectoryEntry | null>;
  /** Appends an entry (hash computed by the caller, under the lock). */
  appendDirectoryEntry(entry: DirectoryEntry): Promise<void>;
  /** Entries with `seq >= fromSeq`, in order, at most `limit`. */
  listDirectory(fromSeq: number, limit: number): Promise<DirectoryEntry[]>;

  /** Stores a group at epoch 0 with its first device. */
  createGroup(group: E2eeGroup, deviceId: string): Promise<void>;
  /** A group, locking its row until the transaction ends (`update`: for a Commit). */
  lockGroup(id: string, mode: "share" | "update"): Promise<E2eeGroup | null>;
  /** Moves a group from `epoch` to `epoch + 1`; false if it was not at `epoch`. */
  advanceEpoch(id: string, epoch: number): Promise<boolean>;
  /** The devices that receive a group's messages. */
  groupDevices(groupId: string): Promise<string[]>;
  /** Seats devices in a group from an epoch on. */
  addGroupDevices(groupId: string, deviceIds: readonly string[], epoch: number): Promise<void>;
  /** Unseats devices from a group. */
  removeGroupDevices(groupId: string, deviceIds: readonly string[]): Promise<void>;

  /**
   * Stores a message for some devices: each gets the next number of its own
   * sequence (devices locked in id order, so numbers follow commit order).
   */
  deliver(message: NewE2eeMessage, deviceIds: readonly string[]): Promise<void>;
  /** What waits for a device after its cursor, in order (not expired at `now`). */
  fetch(deviceId: string, after: number, limit: number, now: Date): Promise<E2eeDelivery[]>;
  /**
   * Forgets a device's deliveries up to `upTo`, and the messages no device
   * waits for any more; how many messages went.
   */
  acknowledge(deviceId: string, upTo: number): Promise<number>;
  /** Deletes messages and blobs created before `before`, fetched or not; how many. */
  purgeOlderThan(before: Date): Promise<number>;
  /** Deletes messages and blobs whose expiry is at or before `now`, fetched or not; how many. */
  purgeExpired(now: Date): Promise<number>;
  /**
   * Stores an encrypted attachment unless the uploading member's devices
   * would then keep more than `quotaBytes` of attachments not yet expired at
   * `now`; whether it was stored. Two uploads of one member are counted one
   * after the other.
   */
  putBlob(blob: NewE2eeBlob, quotaBytes: number, now: Date): Promise<boolean>;
  /** An attachment's bytes, if `deviceId` sits in its group and it has not expired at `now`. */
  getBlob(id: string, deviceId: string, now: Date): Promise<Uint8Array | null>;
}
