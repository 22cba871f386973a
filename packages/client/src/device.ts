/**
 * One device of a member: an MLS leaf in every chat the member is in. It
 * keeps its state in memory and can export it (plain JSON) and be restored
 * from it, so a device can go offline and come back.
 *
 * What it checks rather than trusts: every device key it meets (a KeyPackage
 * it adds, a member of a group it joins or processes a Commit of) must be the
 * key the verified key directory lists for that device; the directory itself
 * must extend the head this device remembers (`directory.ts`).
 */

import type { ClientConfig } from "ts-mls";
import {
  acceptAll,
  type CiphersuiteImpl,
  type ClientState,
  type Credential,
  createApplicationMessage,
  createCommit,
  createGroup,
  decodeGroupState,
  decodeMlsMessage,
  defaultCapabilities,
  defaultLifetime,
  emptyPskIndex,
  encodeGroupState,
  encodeMlsMessage,
  generateKeyPackageWithKey,
  getCiphersuiteFromName,
  getCiphersuiteImpl,
  joinGroup,
  type KeyPackage,
  type MLSMessage,
  mlsExporter,
  type PrivateKeyPackage,
  type PrivateMessage,
  type Proposal,
  processMessage,
  zeroOutUint8Array,
} from "ts-mls";
import { defaultClientConfig } from "ts-mls/clientConfig.js";
import { makeKeyPackageRef } from "ts-mls/keyPackage.js";
import { decryptSenderData } from "ts-mls/privateMessage.js";
import { ApiError, type DeliveryApi, type WireDelivery, type WireDirectoryEntry } from "./api.ts";
import { type AttachmentRef, openAttachment, sealAttachment } from "./attachments.ts";
import { fromBase64, fromUtf8, sameBytes, toBase64, toHex, utf8 } from "./bytes.ts";
import {
  type Alert,
  EPOCH_CHECK_LABEL,
  isEpochCheck,
  openEpochCheck,
  safetyNumber,
  sameAuthenticator,
  sealEpochCheck,
  sha256Hex,
} from "./checks.ts";
import {
  DirectoryAlarm,
  type DirectoryDevice,
  type DirectoryHead,
  devicesOf,
  verifyDirectory,
} from "./directory.ts";

/** The one ciphersuite Clique's chats use. */
export const CIPHERSUITE = "MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519";

let suite: Promise<CiphersuiteImpl> | undefined;
/** The ciphersuite's implementation, made once. */
function ciphersuite(): Promise<CiphersuiteImpl> {
  suite ??= getCiphersuiteImpl(getCiphersuiteFromName(CIPHERSUITE));
  return suite;
}

/** A device's MLS credential names its member and device: `clique:<member>:<device>`. */
function credentialFor(memberId: string, deviceId: string): Credential {
  return { credentialType: "basic", identity: utf8(`clique:${memberId}:${deviceId}`) };
}

function parseCredential(credential: Credential): { memberId: string; deviceId: string } | null {
  if (credential.credentialType !== "basic") return null;
  const match = /^clique:([0-9a-f-]{36}):([0-9a-f-]{36})$/.exec(fromUtf8(credential.identity));
  return match ? { memberId: match[1]!, deviceId: match[2]! } : null;
}

/** The devices whose leaves are in a group. */
function leafDeviceIds(state: ClientState): Set<string> {
  const ids = new Set<string>();
  for (const node of state.ratchetTree)
    if (node?.nodeType === "leaf") {
      const named = parseCredential(node.leaf.credential);
      if (named) ids.add(named.deviceId);
    }
  return ids;
}

const encodeKeyPackage = (keyPackage: KeyPackage): Uint8Array =>
  encodeMlsMessage({ wireformat: "mls_key_package", version: "mls10", keyPackage });

function decodeMessage(bytes: Uint8Array): MLSMessage {
  const decoded = decodeMlsMessage(bytes, 0);
  if (!decoded) throw new Error("Not an MLS message");
  return decoded[0];
}

/** A chat message as this device knows it. */
export interface ChatMessage {
  groupId: string;
  /** The sender's member and device, from the MLS credential (verified against the directory). */
  senderMemberId: string;
  senderDeviceId: string;
  text: string;
  /** Sent by this device. */
  own: boolean;
  /**
   * When it was sent (ISO 8601), by the sender's clock as the ciphertext
   * carries it; when it arrived if the sender gave no time.
   */
  sentAt?: string;
  /** When the message disappears (ISO 8601): the chat had a timer when it was sent. */
  expiresAt?: string;
  /** An encrypted attachment (the text is its caption): `downloadAttachment` fetches it. */
  attachment?: AttachmentRef;
}

/** The longest disappearing-message timer a chat may have: a week, in seconds. */
export const MAX_TIMER_SECONDS = 7 * 24 * 60 * 60;

/**
 * What an application message carries inside the ciphertext: a text (with its
 * expiry if the chat has a timer), a chat's new timer, or "clear this chat"
 * (acted on by the sender's own devices only).
 */
type Payload =
  | {
      type: "text";
      text: string;
      sent_at?: string;
      expires_at?: string;
      attachment?: AttachmentRef;
    }
  | { type: "timer"; seconds: number }
  | { type: "clear" };

/** A KeyPackage this device published and can still be welcomed with. */
interface HeldKeyPackage {
  /** Hex of its KeyPackageRef. */
  ref: string;
  public: string;
  initPrivateKey: string;
  hpkePrivateKey: string;
  lastResort: boolean;
}

/** What `export()` returns: everything the device holds, as JSON. */
export interface DeviceExport {
  version: 1;
  memberId: string;
  deviceId: string;
  name: string;
  signaturePublicKey: string;
  signaturePrivateKey: string;
  keyPackages: HeldKeyPackage[];
  /** Group id → `encodeGroupState`, base64. */
  groups: Record<string, string>;
  cursor: number;
  directoryHead: DirectoryHead | null;
  directory: WireDirectoryEntry[];
  history: ChatMessage[];
  warnings: string[];
  /** Alerts raised so far (fork, device change, replay, policy). */
  alerts?: Alert[];
  /** Group id → epoch → what this device knows of that epoch (the last few epochs). */
  epochs?: Record<string, Record<string, EpochRecord>>;
  /** SHA-256 (hex) of the last ciphertexts received or sent: a second delivery is a replay. */
  seen?: string[];
  /** Member id → the sorted device keys (base64) the directory listed when last looked at. */
  knownDevices?: Record<string, string[]>;
  /** Group id → the chat's disappearing-message timer in seconds (absent: off). */
  timers?: Record<string, number>;
}

/** What a device remembers of one epoch of a group. */
export interface EpochRecord {
  /** Base64 of this device's epoch authenticator for the epoch. */
  authenticator: string;
  /** Base64 of the key epoch checks of this epoch are sealed with (exported from its parent). */
  checkKey?: string;
  /** SHA-256 (hex) of the Commit that started this epoch. */
  commit?: string;
  /** This device has sent its epoch check for the epoch. */
  announced?: boolean;
}

/** How many epochs of each group are remembered for epoch checks. */
const EPOCHS_KEPT = 16;
/** How many ciphertext hashes are remembered against replays. */
const SEEN_KEPT = 4096;

/** How many times a Commit is rebuilt after losing its epoch to another. */
const COMMIT_ATTEMPTS = 8;

/** An attachment reference read from a decrypted message, if it is well-formed. */
function attachmentRef(value: unknown): AttachmentRef | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const v = value as Record<string, unknown>;
  const text = (k: string) => typeof v[k] === "string";
  if (!text("blobId") || !text("key") || !text("nonce") || !text("sha256") || !text("mediaType"))
    return undefined;
  if (typeof v.size !== "number") return undefined;
  return {
    blobId: v.blobId as string,
    key: v.key as string,
    nonce: v.nonce as string,
    sha256: v.sha256 as string,
    size: v.size,
    mediaType: v.mediaType as string,
  };
}

/** A member's device. */
export class ChatDevice {
  readonly memberId: string;
  readonly deviceId: string;
  readonly name: string;
  /** Every message this device sent or received, in order. */
  readonly history: ChatMessage[];
  /** What this device noticed and refused (a key that does not match the directory…). */
  readonly warnings: string[];
  /**
   * What this device caught: a fork of a group, a contact's changed devices,
   * a replayed message, a server policy that does not match. Shown to the
   * user; never cleared by the device itself.
   */
  readonly alerts: Alert[];
  private readonly epochs: Record<string, Record<string, EpochRecord>>;
  private readonly seen: string[];
  private readonly seenSet: Set<string>;
  private knownDevices: Record<string, string[]>;
  private readonly timers: Record<string, number>;
  private api: DeliveryApi;
  private readonly signKey: Uint8Array;
  private readonly signPublic: Uint8Array;
  private keyPackages: HeldKeyPackage[];
  private readonly groups = new Map<string, ClientState>();
  private cursor: number;
  private directoryHead: DirectoryHead | null;
  private directoryEntries: WireDirectoryEntry[];
  private directoryDevices: Map<string, DirectoryDevice>;
  private readonly config: ClientConfig;
  /** The operation in progress: a device does one thing at a time (see `exclusive`). */
  private busy: Promise<unknown> = Promise.resolve();
  /** Where the device's state is saved at the moments it must be (see `setPersistence`). */
  private persist: ((data: DeviceExport) => Promise<void>) | null = null;

  private constructor(api: DeliveryApi, data: DeviceExport) {
    this.api = api;
    this.memberId = data.memberId;
    this.deviceId = data.deviceId;
    this.name = data.name;
    this.signKey = fromBase64(data.signaturePrivateKey);
    this.signPublic = fromBase64(data.signaturePublicKey);
    this.keyPackages = data.keyPackages;
    this.cursor = data.cursor;
    this.directoryHead = data.directoryHead;
    this.directoryEntries = data.directory;
    this.directoryDevices = devicesOf(data.directory);
    this.history = [...data.history];
    this.warnings = [...data.warnings];
    this.alerts = [...(data.alerts ?? [])];
    this.epochs = data.epochs ?? {};
    this.seen = [...(data.seen ?? [])];
    this.seenSet = new Set(this.seen);
    this.knownDevices = data.knownDevices ?? {};
    this.timers = { ...(data.timers ?? {}) };
    // Every credential MLS meets is checked against the verified directory.
    this.config = {
      ...defaultClientConfig,
      authService: {
        validateCredential: (credential, key) => this.validateCredential(credential, key),
      },
    };
    for (const [groupId, encoded] of Object.entries(data.groups)) {
      const decoded = decodeGroupState(fromBase64(encoded), 0);
      if (!decoded) throw new Error(`The saved state of group ${groupId} cannot be read`);
      this.groups.set(groupId, { ...decoded[0], clientConfig: this.config });
    }
  }

  /** Registers a new device with the server for the member whose session or token `api` holds. */
  static async register(api: DeliveryApi, name: string): Promise<ChatDevice> {
    const cs = await ciphersuite();
    const keys = await cs.signature.keygen();
    const registered = await api.registerDevice(name, keys.publicKey);
    const device = new ChatDevice(api, {
      version: 1,
      memberId: registered.memberId,
      deviceId: registered.id,
      name,
      signaturePublicKey: toBase64(keys.publicKey),
      signaturePrivateKey: toBase64(keys.signKey),
      keyPackages: [],
      groups: {},
      cursor: 0,
      directoryHead: null,
      directory: [],
      history: [],
      warnings: [],
      alerts: [],
      epochs: {},
      seen: [],
      knownDevices: {},
      timers: {},
    });
    await device.syncDirectory();
    const own = device.directoryDevices.get(device.deviceId);
    if (!own || !sameBytes(own.signatureKey, keys.publicKey))
      throw new DirectoryAlarm("The key directory does not list this device's own key");
    return device;
  }

  /** Restores an exported device (with the same member's session or token in `api`). */
  static restore(api: DeliveryApi, data: DeviceExport): ChatDevice {
    if (data.version !== 1) throw new Error("Unknown device export version");
    return new ChatDevice(api, data);
  }

  /**
   * Everything the device holds, as JSON (secret keys included: keep it safe).
   * Expired messages are dropped first: they are never exported.
   */
  export(): DeviceExport {
    this.expire();
    return structuredClone({
      version: 1,
      memberId: this.memberId,
      deviceId: this.deviceId,
      name: this.name,
      signaturePublicKey: toBase64(this.signPublic),
      signaturePrivateKey: toBase64(this.signKey),
      keyPackages: this.keyPackages,
      groups: Object.fromEntries(
        [...this.groups].map(([id, state]) => [id, toBase64(encodeGroupState(state))]),
      ),
      cursor: this.cursor,
      directoryHead: this.directoryHead,
      directory: this.directoryEntries,
      history: this.history,
      warnings: this.warnings,
      alerts: this.alerts,
      epochs: this.epochs,
      seen: this.seen,
      knownDevices: this.knownDevices,
      timers: this.timers,
    } satisfies DeviceExport);
  }

  /**
   * Where to save the device's state (an export) at the moments a lost state
   * would do harm, awaited before the device goes on: before it acknowledges
   * what it fetched (the server then deletes it: a Welcome lost that way is a
   * chat lost), before it sends a message (a restored state would use that
   * generation's key a second time), after the server accepted its Commit,
   * and before it uploads KeyPackages (whose private keys a Welcome needs).
   * A save that fails stops the operation. `null`: no saving (the caller
   * exports when it likes, as in tests).
   */
  setPersistence(persist: ((data: DeviceExport) => Promise<void>) | null): void {
    this.persist = persist;
  }

  private async saveNow(): Promise<void> {
    if (this.persist) await this.persist(this.export());
  }

  /**
   * Drops the messages whose time is up from the history (sync, send and
   * export do it too; a UI calls it on a tick). How many went.
   */
  expire(now: Date = new Date()): number {
    return this.dropFromHistory(
      (m) => m.expiresAt !== undefined && Date.parse(m.expiresAt) <= now.getTime(),
    );
  }

  /** A chat's disappearing-message timer in seconds (0: off), as this device knows it. */
  timerOf(groupId: string): number {
    return this.timers[groupId] ?? 0;
  }

  /**
   * Sets a chat's disappearing-message timer (0 turns it off), for every
   * device of the group: the setting travels inside the ciphertext, and each
   * text sent afterwards carries its own expiry.
   */
  setTimer(groupId: string, seconds: number): Promise<void> {
    if (!Number.isInteger(seconds) || seconds < 0 || seconds > MAX_TIMER_SECONDS)
      return Promise.reject(
        new RangeError(`A timer is a whole number of seconds from 0 to ${MAX_TIMER_SECONDS}`),
      );
    return this.exclusive(async () => {
      await this.sendPayload(groupId, { type: "timer", seconds });
      this.setTimerOf(groupId, seconds);
    });
  }

  /**
   * Clears a chat on all of this member's devices: this device's history of it
   * now, and each of the member's other devices when it processes the request
   * (other members' devices receive it too, and ignore it).
   */
  clearChat(groupId: string): Promise<void> {
    return this.exclusive(async () => {
      await this.sendPayload(groupId, { type: "clear" });
      this.dropFromHistory((m) => m.groupId === groupId);
    });
  }

  private setTimerOf(groupId: string, seconds: number): void {
    if (seconds > 0) this.timers[groupId] = seconds;
    else delete this.timers[groupId];
  }

  /** Removes the history entries `drop` picks, in place; how many. */
  private dropFromHistory(drop: (message: ChatMessage) => boolean): number {
    const kept = this.history.filter((m) => !drop(m));
    const gone = this.history.length - kept.length;
    if (gone > 0) this.history.splice(0, this.history.length, ...kept);
    return gone;
  }

  /** The members whose devices are in a chat (this member included), by the group's own leaves. */
  membersOf(groupId: string): string[] {
    const state = this.groups.get(groupId);
    if (!state) return [];
    const members = new Set<string>();
    for (const node of state.ratchetTree)
      if (node?.nodeType === "leaf") {
        const named = parseCredential(node.leaf.credential);
        if (named) members.add(named.memberId);
      }
    return [...members].sort();
  }

  /** The groups this device is in. */
  groupIds(): string[] {
    return [...this.groups.keys()];
  }

  /** A group's current epoch as this device knows it. */
  epochOf(groupId: string): number {
    const state = this.groups.get(groupId);
    if (!state) throw new Error(`This device is not in group ${groupId}`);
    return Number(state.groupContext.epoch);
  }

  /** The verified directory's head. */
  head(): DirectoryHead | null {
    return this.directoryHead;
  }

  /** Publishes `count` new KeyPackages, and a last-resort one if it has none. */
  async publishKeyPackages(count = 5): Promise<void> {
    const cs = await ciphersuite();
    const make = async (lastResort: boolean) => {
      const made = await generateKeyPackageWithKey(
        credentialFor(this.memberId, this.deviceId),
        defaultCapabilities(),
        defaultLifetime,
        [],
        { signKey: this.signKey, publicKey: this.signPublic },
        cs,
      );
      const held: HeldKeyPackage = {
        ref: toHex(await makeKeyPackageRef(made.publicPackage, cs.hash)),
        public: toBase64(encodeKeyPackage(made.publicPackage)),
        initPrivateKey: toBase64(made.privatePackage.initPrivateKey),
        hpkePrivateKey: toBase64(made.privatePackage.hpkePrivateKey),
        lastResort,
      };
      return held;
    };
    const fresh: HeldKeyPackage[] = [];
    for (let i = 0; i < count; i++) fresh.push(await make(false));
    const lastResort = this.keyPackages.some((k) => k.lastResort) ? null : await make(true);
    // Held (and saved) before the server hands them out: a Welcome to one needs its private keys.
    // One that never got uploaded is held in vain, which harms nothing.
    const made = [...fresh, ...(lastResort ? [lastResort] : [])];
    this.keyPackages.push(...made);
    await this.saveNow();
    try {
      await this.api.uploadKeyPackages(
        this.deviceId,
        fresh.map((k) => fromBase64(k.public)),
        lastResort ? fromBase64(lastResort.public) : undefined,
      );
    } catch (error) {
      // Refused (the upload is one transaction): none of them is on the server, so none is
      // held either, or they would count as published. Lost on the way: kept, it may be there.
      if (error instanceof ApiError && error.status < 500) {
        this.keyPackages = this.keyPackages.filter((k) => !made.includes(k));
        await this.saveNow();
      }
      throw error;
    }
  }

  /**
   * Fetches the key directory from the remembered head on and verifies that it
   * extends it; throws a `DirectoryAlarm` (and remembers the warning) if not.
   */
  syncDirectory(): Promise<DirectoryHead> {
    return this.exclusive(() => this.syncDirectoryNow());
  }

  private async syncDirectoryNow(): Promise<DirectoryHead> {
    const from = this.directoryHead?.seq ?? 1;
    const entries = await this.api.directory(from);
    try {
      const head = await verifyDirectory(this.directoryHead, entries);
      const added = this.directoryHead ? entries.slice(1) : entries;
      this.directoryEntries.push(...added);
      this.directoryDevices = devicesOf(this.directoryEntries);
      this.directoryHead = head;
      this.noticeDeviceChanges();
      return head;
    } catch (error) {
      if (error instanceof DirectoryAlarm) this.warnings.push(error.message);
      throw error;
    }
  }

  /** The sorted device keys (base64) of each member the verified directory lists. */
  private keysByMember(): Map<string, string[]> {
    const byMember = new Map<string, string[]>();
    for (const d of this.directoryDevices.values()) {
      const keys = byMember.get(d.memberId) ?? [];
      if (!d.removed) keys.push(toBase64(d.signatureKey));
      byMember.set(d.memberId, keys);
    }
    for (const keys of byMember.values()) keys.sort();
    return byMember;
  }

  /** Raises `DevicesChanged` for each member whose device keys differ from those last seen. */
  private noticeDeviceChanges(): void {
    for (const [memberId, keys] of this.keysByMember()) {
      const known = this.knownDevices[memberId];
      if (known && known.join() !== keys.join()) {
        const added = keys.filter((k) => !known.includes(k)).length;
        const removed = known.filter((k) => !keys.includes(k)).length;
        this.alerts.push({
          kind: "DevicesChanged",
          memberId,
          message: `Member ${memberId}'s devices changed (${added} added, ${removed} removed): compare safety numbers again`,
        });
      }
      this.knownDevices[memberId] = keys;
    }
  }

  /**
   * The safety number of this member and another, from both members' current
   * device keys in the verified directory (synced first): 60 digits, and the
   * text of a QR code. Both members' devices compute the same number.
   */
  safetyNumber(theirMemberId: string): Promise<{ digits: string; qr: string }> {
    return this.exclusive(async () => {
      await this.syncDirectoryNow();
      const keys = this.keysByMember();
      return safetyNumber(
        { memberId: this.memberId, keys: keys.get(this.memberId) ?? [] },
        { memberId: theirMemberId, keys: keys.get(theirMemberId) ?? [] },
      );
    });
  }

  /**
   * Fetches the server's declared security policy and checks it against what
   * this device observes: the ciphersuite is the one the chats use, the
   * server says it takes one Commit per epoch, and the key directory's head
   * it declares is an entry of the directory this device verified (synced
   * first). Each mismatch is a `PolicyMismatch` alert; the alerts raised.
   */
  checkPolicy(): Promise<Alert[]> {
    return this.exclusive(async () => {
      const policy = await this.api.securityPolicy();
      await this.syncDirectoryNow();
      const found: Alert[] = [];
      const mismatch = (message: string) =>
        found.push({ kind: "PolicyMismatch", message: `The server's security policy ${message}` });
      if (!Array.isArray(policy.ciphersuites) || !policy.ciphersuites.includes(CIPHERSUITE))
        mismatch(`does not list the ciphersuite the chats use (${CIPHERSUITE})`);
      if (policy.one_commit_per_epoch !== true) mismatch("does not promise one Commit per epoch");
      const head = policy.key_directory?.head;
      if (!head) mismatch("does not give the key directory's head");
      else {
        const entry = this.directoryEntries.find((e) => e.seq === head.seq);
        if (!entry || entry.hash !== head.hash)
          mismatch(
            `declares key directory head ${head.seq} (${String(head.hash).slice(0, 12)}…), which is not on the directory this device verified`,
          );
      }
      this.alerts.push(...found);
      return found;
    });
  }

  /** The devices (not removed) the verified directory lists for a member. */
  devicesOfMember(memberId: string): DirectoryDevice[] {
    return [...this.directoryDevices.values()].filter((d) => d.memberId === memberId && !d.removed);
  }

  /** MLS's authentication service: a credential is good if the directory lists its key. */
  private async validateCredential(credential: Credential, key: Uint8Array): Promise<boolean> {
    const named = parseCredential(credential);
    if (!named) {
      this.warnings.push("A group member has a credential that is not a Clique device's");
      return false;
    }
    let listed = this.directoryDevices.get(named.deviceId);
    if (!listed) {
      await this.syncDirectoryNow();
      listed = this.directoryDevices.get(named.deviceId);
    }
    const good =
      !!listed && listed.memberId === named.memberId && sameBytes(listed.signatureKey, key);
    if (!good)
      this.warnings.push(
        `Device ${named.deviceId} of member ${named.memberId} has a key the key directory does not list`,
      );
    return good;
  }

  /**
   * Starts a chat with some members: every device of theirs, and this
   * member's other devices, are added. The group's id.
   */
  createChat(memberIds: readonly string[]): Promise<string> {
    return this.exclusive(() => this.createChatNow(memberIds));
  }

  private async createChatNow(memberIds: readonly string[]): Promise<string> {
    const cs = await ciphersuite();
    const groupId = await this.api.createGroup(this.deviceId);
    // The creator's leaf uses a KeyPackage of its own, never published.
    const made = await generateKeyPackageWithKey(
      credentialFor(this.memberId, this.deviceId),
      defaultCapabilities(),
      defaultLifetime,
      [],
      { signKey: this.signKey, publicKey: this.signPublic },
      cs,
    );
    const state = await createGroup(
      utf8(groupId),
      made.publicPackage,
      made.privatePackage,
      [],
      cs,
      this.config,
    );
    this.groups.set(groupId, state);
    await this.recordEpoch(groupId, null, state);
    await this.addMembersNow(groupId, [...new Set([this.memberId, ...memberIds])]);
    return groupId;
  }

  /**
   * Adds every device of some members to a chat (those not in it already),
   * each KeyPackage checked against the key directory. Retries when another
   * Commit wins the epoch.
   */
  addMembers(groupId: string, memberIds: readonly string[]): Promise<void> {
    return this.exclusive(() => this.addMembersNow(groupId, memberIds));
  }

  /**
   * This member's other devices that the verified directory lists but that are
   * missing from chats this device is in: device id → the groups it is not in.
   * A device that joined later is in none of the earlier chats until one of
   * the member's devices adds it (`addOwnDevice`).
   */
  ownDevicesMissing(): Map<string, string[]> {
    const missing = new Map<string, string[]>();
    const own = this.devicesOfMember(this.memberId).filter((d) => d.deviceId !== this.deviceId);
    for (const [groupId, state] of this.groups) {
      const present = leafDeviceIds(state);
      for (const d of own)
        if (!present.has(d.deviceId))
          missing.set(d.deviceId, [...(missing.get(d.deviceId) ?? []), groupId]);
    }
    return missing;
  }

  /**
   * Adds one of this member's own devices to every chat this device is in and
   * it is not. Only after the member confirmed the device is theirs (its key
   * shown on both screens): a server could list a device of its own making,
   * and nothing adds a device to chats by itself. How many chats it joined.
   */
  addOwnDevice(deviceId: string): Promise<number> {
    return this.exclusive(async () => {
      await this.syncDirectoryNow();
      const groups = this.ownDevicesMissing().get(deviceId) ?? [];
      for (const groupId of groups)
        await this.addMembersNow(groupId, [this.memberId], new Set([deviceId]));
      return groups.length;
    });
  }

  private async addMembersNow(
    groupId: string,
    memberIds: readonly string[],
    onlyDevices?: ReadonlySet<string>,
  ): Promise<void> {
    await this.syncDirectoryNow();
    const claimed = await this.api.claimKeyPackages(this.deviceId, memberIds);
    const adds: { deviceId: string; proposal: Proposal }[] = [];
    for (const claim of claimed) {
      if (onlyDevices && !onlyDevices.has(claim.deviceId)) continue;
      const message = decodeMessage(claim.keyPackage);
      if (message.wireformat !== "mls_key_package") {
        this.warnings.push(
          `The server handed out something else as device ${claim.deviceId}'s KeyPackage`,
        );
        continue;
      }
      const keyPackage = message.keyPackage;
      const named = parseCredential(keyPackage.leafNode.credential);
      const listed = this.directoryDevices.get(claim.deviceId);
      if (
        !named ||
        named.deviceId !== claim.deviceId ||
        named.memberId !== claim.memberId ||
        !listed ||
        listed.removed ||
        listed.memberId !== claim.memberId ||
        !sameBytes(listed.signatureKey, keyPackage.leafNode.signaturePublicKey)
      ) {
        this.warnings.push(
          `Refused a KeyPackage for device ${claim.deviceId}: its key is not the one the key directory lists`,
        );
        continue;
      }
      adds.push({
        deviceId: claim.deviceId,
        proposal: { proposalType: "add", add: { keyPackage } },
      });
    }
    await this.commit(groupId, (state) => {
      const present = leafDeviceIds(state);
      const fresh = adds.filter((a) => !present.has(a.deviceId));
      if (fresh.length === 0) return null;
      return {
        proposals: fresh.map((a) => a.proposal),
        addDeviceIds: fresh.map((a) => a.deviceId),
      };
    });
  }

  /**
   * Removes from a group the leaves of devices the verified directory says are
   * gone (a removed device, or every device of a member who left the Clique).
   * `send` does it first, so nothing is encrypted to a departed device.
   */
  removeDepartedDevices(groupId: string): Promise<void> {
    return this.exclusive(async () => {
      await this.syncDirectoryNow();
      await this.removeDepartedNow(groupId);
    });
  }

  private async removeDepartedNow(groupId: string): Promise<void> {
    await this.commit(groupId, (state) => {
      const departed: { leaf: number; deviceId: string }[] = [];
      state.ratchetTree.forEach((node, index) => {
        if (node?.nodeType !== "leaf") return;
        const named = parseCredential(node.leaf.credential);
        const listed = named ? this.directoryDevices.get(named.deviceId) : undefined;
        if (named && named.deviceId !== this.deviceId && (!listed || listed.removed))
          departed.push({ leaf: index / 2, deviceId: named.deviceId });
      });
      if (departed.length === 0) return null;
      return {
        proposals: departed.map((d) => ({ proposalType: "remove", remove: { removed: d.leaf } })),
        addDeviceIds: [],
        removeDeviceIds: departed.map((d) => d.deviceId),
      };
    });
  }

  /** Proposes nothing but a new path: refreshes this device's keys in a group. */
  updateKeys(groupId: string): Promise<void> {
    return this.exclusive(() => this.commit(groupId, () => ({ proposals: [], addDeviceIds: [] })));
  }

  /**
   * Builds a Commit on the current state and submits it; when the server
   * says another Commit took the epoch, processes what is waiting (that
   * Commit among it) and builds it again.
   */
  private async commit(
    groupId: string,
    /** What to commit on this state; `null`: nothing (any more). */
    build: (
      state: ClientState,
    ) => { proposals: Proposal[]; addDeviceIds: string[]; removeDeviceIds?: string[] } | null,
  ): Promise<void> {
    const cs = await ciphersuite();
    for (let attempt = 1; ; attempt++) {
      const state = this.groups.get(groupId);
      if (!state) throw new Error(`This device is not in group ${groupId}`);
      const built = build(state);
      if (!built) return;
      const { proposals, addDeviceIds, removeDeviceIds = [] } = built;
      const result = await createCommit(
        { state, cipherSuite: cs },
        { extraProposals: proposals, ratchetTreeExtension: true },
      );
      const commitBytes = encodeMlsMessage(result.commit);
      try {
        await this.api.commit(groupId, {
          deviceId: this.deviceId,
          epoch: Number(state.groupContext.epoch),
          commit: commitBytes,
          ...(result.welcome
            ? {
                welcome: encodeMlsMessage({
                  wireformat: "mls_welcome",
                  version: "mls10",
                  welcome: result.welcome,
                }),
                addDeviceIds,
              }
            : {}),
          ...(removeDeviceIds.length > 0 ? { removeDeviceIds } : {}),
        });
      } catch (error) {
        if (
          error instanceof ApiError &&
          error.code === "epoch_conflict" &&
          attempt < COMMIT_ATTEMPTS
        ) {
          // Another device's Commit won this epoch: catch up, then try again on top of it.
          await this.syncNow();
          continue;
        }
        throw error;
      }
      await this.recordEpoch(groupId, state, result.newState, commitBytes);
      this.groups.set(groupId, result.newState);
      result.consumed.forEach(zeroOutUint8Array);
      await this.saveNow();
      await this.announceEpoch(groupId);
      return;
    }
  }

  /**
   * Remembers what this device knows of a group's new epoch: its epoch
   * authenticator, the key epoch checks of it are sealed with (exported from
   * the epoch before, when this device was in it) and the Commit that made it.
   */
  private async recordEpoch(
    groupId: string,
    parent: ClientState | null,
    state: ClientState,
    commit?: Uint8Array,
  ): Promise<void> {
    const cs = await ciphersuite();
    const epoch = Number(state.groupContext.epoch);
    const record: EpochRecord = {
      authenticator: toBase64(state.keySchedule.epochAuthenticator),
    };
    if (parent)
      record.checkKey = toBase64(
        await mlsExporter(
          parent.keySchedule.exporterSecret,
          EPOCH_CHECK_LABEL,
          utf8(`${groupId}\n${Number(parent.groupContext.epoch)}`),
          16,
          cs,
        ),
      );
    if (commit) record.commit = await sha256Hex(commit);
    this.epochs[groupId] ??= {};
    const epochs = this.epochs[groupId];
    epochs[String(epoch)] = record;
    for (const kept of Object.keys(epochs))
      if (Number(kept) <= epoch - EPOCHS_KEPT) delete epochs[kept];
  }

  /**
   * Tells the group this device's epoch authenticator for the group's current
   * epoch (once), sealed with the parent epoch's check key, so that every
   * device that followed another Commit for the same epoch notices.
   */
  private async announceEpoch(groupId: string): Promise<void> {
    const state = this.groups.get(groupId);
    if (!state) return;
    const epoch = Number(state.groupContext.epoch);
    const record = this.epochs[groupId]?.[String(epoch)];
    if (!record?.checkKey || record.announced) return;
    record.announced = true;
    const body = await sealEpochCheck(fromBase64(record.checkKey), groupId, {
      epoch,
      deviceId: this.deviceId,
      authenticator: record.authenticator,
    });
    try {
      await this.api.send(groupId, this.deviceId, epoch, body);
    } catch (error) {
      // The group moved on already: the next epoch's check will be sent instead. Any other
      // refusal (this device was just removed from the group…) must not undo what was processed.
      if (!(error instanceof ApiError)) throw error;
      if (error.code !== "epoch_conflict")
        this.warnings.push(`Could not send the epoch check of group ${groupId}: ${error.message}`);
    }
  }

  /** Remembers a ciphertext; `false` if it was seen before. */
  private remember(hash: string): boolean {
    if (this.seenSet.has(hash)) return false;
    this.seenSet.add(hash);
    this.seen.push(hash);
    if (this.seen.length > SEEN_KEPT) this.seenSet.delete(this.seen.shift()!);
    return true;
  }

  /** Opens an epoch check and compares it with this device's own authenticator. */
  private async checkEpoch(groupId: string, claimedEpoch: number, body: Uint8Array): Promise<void> {
    const record = this.epochs[groupId]?.[String(claimedEpoch)];
    // An epoch this device joined in (no parent key) or has forgotten: nothing to compare.
    if (!record?.checkKey) return;
    const check = await openEpochCheck(fromBase64(record.checkKey), groupId, claimedEpoch, body);
    if (!check) {
      this.alerts.push({
        kind: "ForkAlarm",
        groupId,
        epoch: claimedEpoch,
        message: `An epoch check for epoch ${claimedEpoch} of group ${groupId} was not sealed with the key of the epoch before it as this device knows it: the group may have forked`,
      });
      return;
    }
    if (check.deviceId === this.deviceId) return;
    if (!sameAuthenticator(check.authenticator, record.authenticator))
      this.alerts.push({
        kind: "ForkAlarm",
        groupId,
        epoch: claimedEpoch,
        message: `Device ${check.deviceId} is in another epoch ${claimedEpoch} of group ${groupId} than this device: the server showed them different Commits (the group forked)`,
      });
  }

  /** Sends a text to a chat (catching up first if the group moved on). */
  send(groupId: string, text: string): Promise<void> {
    return this.exclusive(() => this.sendNow(groupId, text));
  }

  /**
   * Sends a photo (or any file) to a chat: encrypted here under a fresh key,
   * uploaded as an opaque blob, and announced by an MLS message that carries
   * the blob's id, key, nonce and hash (with the caption as its text).
   */
  sendAttachment(
    groupId: string,
    bytes: Uint8Array,
    options: { mediaType: string; caption?: string },
  ): Promise<AttachmentRef> {
    return this.exclusive(async () => {
      const expiresAt = this.expiryOf(groupId);
      const sealed = await sealAttachment(bytes);
      const blobId = await this.api.uploadBlob(
        groupId,
        this.deviceId,
        sealed.ciphertext,
        expiresAt,
      );
      const attachment: AttachmentRef = {
        blobId,
        key: sealed.key,
        nonce: sealed.nonce,
        sha256: sealed.sha256,
        size: bytes.byteLength,
        mediaType: options.mediaType,
      };
      await this.sendText(groupId, options.caption ?? "", expiresAt, attachment);
      return attachment;
    });
  }

  /**
   * Downloads a message's attachment, checks its hash against the one the
   * message carries and decrypts it (an `AttachmentMismatch` if it is not the
   * blob the sender uploaded).
   */
  async downloadAttachment(message: ChatMessage): Promise<Uint8Array> {
    if (!message.attachment) throw new Error("This message has no attachment");
    const blob = await this.api.fetchBlob(message.attachment.blobId, this.deviceId);
    return openAttachment(message.attachment, blob);
  }

  /**
   * Reports a received message to the moderators by disclosing its text: this
   * member's choice to show it (the encryption is not broken; the server
   * learns only what is disclosed, and says so in the report). The report's id.
   */
  reportMessage(message: ChatMessage, comment?: string): Promise<string> {
    return this.api.reportDisclosure({
      deviceId: this.deviceId,
      groupId: message.groupId,
      senderMemberId: message.senderMemberId,
      senderDeviceId: message.senderDeviceId,
      text: message.text,
      ...(comment ? { comment } : {}),
    });
  }

  /** When a message sent to the chat now would expire (its timer), if it has one. */
  private expiryOf(groupId: string): Date | undefined {
    const seconds = this.timerOf(groupId);
    return seconds > 0 ? new Date(Date.now() + seconds * 1000) : undefined;
  }

  private sendNow(groupId: string, text: string): Promise<void> {
    return this.sendText(groupId, text, this.expiryOf(groupId));
  }

  private async sendText(
    groupId: string,
    text: string,
    expiresAt: Date | undefined,
    attachment?: AttachmentRef,
  ): Promise<void> {
    this.expire();
    const sentAt = new Date().toISOString();
    await this.sendPayload(
      groupId,
      {
        type: "text",
        text,
        sent_at: sentAt,
        ...(expiresAt ? { expires_at: expiresAt.toISOString() } : {}),
        ...(attachment ? { attachment } : {}),
      },
      expiresAt,
    );
    this.history.push({
      groupId,
      senderMemberId: this.memberId,
      senderDeviceId: this.deviceId,
      text,
      own: true,
      sentAt,
      ...(expiresAt ? { expiresAt: expiresAt.toISOString() } : {}),
      ...(attachment ? { attachment } : {}),
    });
  }

  /** Encrypts a payload to the group and hands it to the server (catching up first if needed). */
  private async sendPayload(groupId: string, payload: Payload, expiresAt?: Date): Promise<void> {
    // Nothing is encrypted to a device that has left: the directory is checked first.
    await this.syncDirectoryNow();
    await this.removeDepartedNow(groupId);
    const cs = await ciphersuite();
    for (let attempt = 1; ; attempt++) {
      const state = this.groups.get(groupId);
      if (!state) throw new Error(`This device is not in group ${groupId}`);
      const plaintext = utf8(JSON.stringify(payload));
      const created = await createApplicationMessage(state, plaintext, cs);
      // Kept (and saved) whatever the server says: a generation's key is never used twice.
      this.groups.set(groupId, created.newState);
      created.consumed.forEach(zeroOutUint8Array);
      const body = encodeMlsMessage({
        wireformat: "mls_private_message",
        version: "mls10",
        privateMessage: created.privateMessage,
      });
      // Handed back to this device later, it is a replay.
      this.remember(await sha256Hex(body));
      await this.saveNow();
      try {
        await this.api.send(
          groupId,
          this.deviceId,
          Number(state.groupContext.epoch),
          body,
          expiresAt,
        );
      } catch (error) {
        if (
          error instanceof ApiError &&
          error.code === "epoch_conflict" &&
          attempt < COMMIT_ATTEMPTS
        ) {
          await this.syncNow();
          continue;
        }
        throw error;
      }
      return;
    }
  }

  /**
   * Fetches and processes everything waiting for this device: Welcomes to new
   * chats, Commits, messages. The messages received.
   */
  sync(): Promise<ChatMessage[]> {
    return this.exclusive(() => this.syncNow());
  }

  /**
   * Runs one operation after the others: the device's state (its groups'
   * epochs and ratchets) changes under one operation at a time, whether the
   * caller or a live stream started it.
   */
  private exclusive<T>(operation: () => Promise<T>): Promise<T> {
    const run = this.busy.then(operation);
    this.busy = run.catch(() => {});
    return run;
  }

  /**
   * Live delivery: syncs whenever the server's stream says something waits
   * for this device, and hands what arrived to `onMessages` after each sync —
   * an empty list too, since a Welcome or Commit changes the chats without a
   * message. Closing the returned handle stops listening; a dropped stream is
   * not reopened here.
   */
  async live(
    onMessages: (messages: ChatMessage[]) => void,
    onError: (error: unknown) => void = () => {},
  ): Promise<{ close(): void }> {
    const socket = this.api.openStream();
    await new Promise<void>((resolve, reject) => {
      socket.addEventListener("open", () => resolve(), { once: true });
      socket.addEventListener("error", () => reject(new Error("The stream did not open")), {
        once: true,
      });
    });
    socket.addEventListener("message", (event) => {
      let payload: { device_id?: string } = {};
      try {
        const frame = JSON.parse(String(event.data)) as { event?: string; payload?: string };
        if (frame.event !== "e2ee.delivery") return;
        payload = JSON.parse(frame.payload ?? "{}");
      } catch {
        return;
      }
      if (payload.device_id !== this.deviceId) return;
      this.sync().then(onMessages, onError);
    });
    // Whatever arrived before the stream opened.
    this.sync().then(onMessages, onError);
    return { close: () => socket.close() };
  }

  private async syncNow(): Promise<ChatMessage[]> {
    const received: ChatMessage[] = [];
    const moved = new Set<string>();
    for (;;) {
      const page = await this.api.fetchMessages(this.deviceId, this.cursor);
      if (page.messages.length === 0) break;
      for (const delivery of page.messages) {
        try {
          const message = await this.process(delivery, moved);
          if (message) {
            received.push(message);
            this.history.push(message);
          }
        } catch (error) {
          if (error instanceof DirectoryAlarm) throw error;
          this.warnings.push(
            `Could not process a ${delivery.kind} of group ${delivery.group_id}: ${(error as Error).message}`,
          );
        }
        this.cursor = delivery.cursor;
      }
      // The next fetch acknowledges this page, and the server deletes what it held: saved first.
      await this.saveNow();
    }
    // Each group that moved to a new epoch hears this device's epoch check.
    for (const groupId of moved) await this.announceEpoch(groupId);
    await this.replenishKeyPackages();
    this.expire();
    // A message that expired or was cleared away during this sync is not "received".
    return received.filter((m) => this.history.includes(m));
  }

  private async process(delivery: WireDelivery, moved: Set<string>): Promise<ChatMessage | null> {
    const cs = await ciphersuite();
    if (delivery.kind === "application" && isEpochCheck(delivery.body)) {
      if (!this.remember(await sha256Hex(delivery.body))) return null;
      await this.checkEpoch(delivery.group_id, delivery.epoch, delivery.body);
      return null;
    }
    const message = decodeMessage(delivery.body);
    if (delivery.kind === "welcome") {
      if (message.wireformat !== "mls_welcome") throw new Error("A Welcome that is not one");
      if (this.groups.has(delivery.group_id)) return null;
      const refs = new Set(message.welcome.secrets.map((s) => toHex(s.newMember)));
      const held = this.keyPackages.find((k) => refs.has(k.ref));
      if (!held) throw new Error("A Welcome for none of this device's KeyPackages");
      const decoded = decodeMessage(fromBase64(held.public));
      if (decoded.wireformat !== "mls_key_package") throw new Error("A held KeyPackage is damaged");
      const privateKeys: PrivateKeyPackage = {
        initPrivateKey: fromBase64(held.initPrivateKey),
        hpkePrivateKey: fromBase64(held.hpkePrivateKey),
        signaturePrivateKey: this.signKey,
      };
      const state = await joinGroup(
        message.welcome,
        decoded.keyPackage,
        privateKeys,
        emptyPskIndex,
        cs,
        undefined,
        undefined,
        this.config,
      );
      if (fromUtf8(state.groupContext.groupId) !== delivery.group_id)
        throw new Error("A Welcome to another group than the server says");
      this.groups.set(delivery.group_id, state);
      await this.recordEpoch(delivery.group_id, null, state);
      if (!held.lastResort) this.keyPackages = this.keyPackages.filter((k) => k !== held);
      return null;
    }
    const state = this.groups.get(delivery.group_id);
    if (!state) return null;
    if (message.wireformat !== "mls_private_message" && message.wireformat !== "mls_public_message")
      throw new Error(`Unexpected ${message.wireformat}`);
    const bodyHash = await sha256Hex(delivery.body);
    if (delivery.kind === "commit" && delivery.epoch < Number(state.groupContext.epoch)) {
      // A Commit for an epoch this device has passed: the same one again is a replay, another
      // one is a second version of the group. (One of an epoch before this device joined, or
      // one it no longer remembers, is already in its state.)
      const made = this.epochs[delivery.group_id]?.[String(delivery.epoch + 1)]?.commit;
      if (made === bodyHash)
        this.alerts.push({
          kind: "Replay",
          groupId: delivery.group_id,
          epoch: delivery.epoch,
          message: `The Commit that ended epoch ${delivery.epoch} of group ${delivery.group_id} was delivered again: dropped`,
        });
      else if (made)
        this.alerts.push({
          kind: "ForkAlarm",
          groupId: delivery.group_id,
          epoch: delivery.epoch,
          message: `A second Commit for epoch ${delivery.epoch} of group ${delivery.group_id}, other than the one this device followed: the server accepted two (the group forked)`,
        });
      return null;
    }
    if (delivery.kind === "application" && !this.remember(bodyHash)) {
      this.alerts.push({
        kind: "Replay",
        groupId: delivery.group_id,
        epoch: delivery.epoch,
        message: `A message of group ${delivery.group_id} was delivered again: dropped, not shown twice`,
      });
      return null;
    }
    // The sender is the leaf the message's own (encrypted, then signature-checked) sender
    // data names, never what the server says.
    const sender =
      message.wireformat === "mls_private_message"
        ? await this.senderOf(state, message.privateMessage)
        : null;
    const result = await processMessage(message, state, emptyPskIndex, acceptAll, cs);
    if (
      result.kind === "newState" &&
      result.newState.groupContext.epoch > state.groupContext.epoch
    ) {
      await this.recordEpoch(delivery.group_id, state, result.newState, delivery.body);
      moved.add(delivery.group_id);
    }
    this.groups.set(delivery.group_id, result.newState);
    result.consumed.forEach(zeroOutUint8Array);
    if (result.kind !== "applicationMessage") return null;
    if (!sender) throw new Error("A message from no device of the group");
    const body = JSON.parse(fromUtf8(result.message)) as {
      type?: unknown;
      text?: unknown;
      seconds?: unknown;
      sent_at?: unknown;
      expires_at?: unknown;
      attachment?: unknown;
    };
    if (body.type === "timer") {
      const seconds = body.seconds;
      if (
        typeof seconds === "number" &&
        Number.isInteger(seconds) &&
        seconds >= 0 &&
        seconds <= MAX_TIMER_SECONDS
      )
        this.setTimerOf(delivery.group_id, seconds);
      return null;
    }
    if (body.type === "clear") {
      // Only the member's own devices act on it (the sender comes from MLS, not the server).
      if (sender.memberId === this.memberId)
        this.dropFromHistory((m) => m.groupId === delivery.group_id);
      return null;
    }
    if (body.type !== "text" || typeof body.text !== "string") return null;
    const expiresAt =
      typeof body.expires_at === "string" && !Number.isNaN(Date.parse(body.expires_at))
        ? new Date(Date.parse(body.expires_at)).toISOString()
        : undefined;
    // Expired on arrival (a device that was offline): never shown.
    if (expiresAt && Date.parse(expiresAt) <= Date.now()) return null;
    const attachment = attachmentRef(body.attachment);
    const sentAt =
      typeof body.sent_at === "string" && !Number.isNaN(Date.parse(body.sent_at))
        ? new Date(Date.parse(body.sent_at)).toISOString()
        : new Date().toISOString();
    return {
      groupId: delivery.group_id,
      senderMemberId: sender.memberId,
      senderDeviceId: sender.deviceId,
      text: body.text,
      own: false,
      sentAt,
      ...(expiresAt ? { expiresAt } : {}),
      ...(attachment ? { attachment } : {}),
    };
  }

  /** Who sent a private message: its sender data's leaf, by the leaf's credential. */
  private async senderOf(state: ClientState, message: PrivateMessage) {
    const data = await decryptSenderData(
      message,
      state.keySchedule.senderDataSecret,
      await ciphersuite(),
    );
    if (!data) return null;
    // Leaf i is node 2i of the tree.
    const node = state.ratchetTree[data.leafIndex * 2];
    return node?.nodeType === "leaf" ? parseCredential(node.leaf.credential) : null;
  }

  /** Keeps a few KeyPackages published. */
  private async replenishKeyPackages(): Promise<void> {
    const left = this.keyPackages.filter((k) => !k.lastResort).length;
    if (left < 2) await this.publishKeyPackages(5 - left);
  }
}
