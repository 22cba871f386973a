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
import { fromBase64, fromUtf8, sameBytes, toBase64, toHex, utf8 } from "./bytes.ts";
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
}

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
}

/** How many times a Commit is rebuilt after losing its epoch to another. */
const COMMIT_ATTEMPTS = 8;

/** A member's device. */
export class ChatDevice {
  readonly memberId: string;
  readonly deviceId: string;
  readonly name: string;
  /** Every message this device sent or received, in order. */
  readonly history: ChatMessage[];
  /** What this device noticed and refused (a key that does not match the directory…). */
  readonly warnings: string[];
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

  /** Everything the device holds, as JSON (secret keys included: keep it safe). */
  export(): DeviceExport {
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
    } satisfies DeviceExport);
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
    await this.api.uploadKeyPackages(
      this.deviceId,
      fresh.map((k) => fromBase64(k.public)),
      lastResort ? fromBase64(lastResort.public) : undefined,
    );
    this.keyPackages.push(...fresh, ...(lastResort ? [lastResort] : []));
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
      return head;
    } catch (error) {
      if (error instanceof DirectoryAlarm) this.warnings.push(error.message);
      throw error;
    }
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

  private async addMembersNow(groupId: string, memberIds: readonly string[]): Promise<void> {
    await this.syncDirectoryNow();
    const claimed = await this.api.claimKeyPackages(this.deviceId, memberIds);
    const adds: { deviceId: string; proposal: Proposal }[] = [];
    for (const claim of claimed) {
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
      const present = new Set(
        state.ratchetTree.flatMap((node) =>
          node?.nodeType === "leaf" ? [parseCredential(node.leaf.credential)?.deviceId] : [],
        ),
      );
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
      try {
        await this.api.commit(groupId, {
          deviceId: this.deviceId,
          epoch: Number(state.groupContext.epoch),
          commit: encodeMlsMessage(result.commit),
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
      this.groups.set(groupId, result.newState);
      result.consumed.forEach(zeroOutUint8Array);
      return;
    }
  }

  /** Sends a text to a chat (catching up first if the group moved on). */
  send(groupId: string, text: string): Promise<void> {
    return this.exclusive(() => this.sendNow(groupId, text));
  }

  private async sendNow(groupId: string, text: string): Promise<void> {
    // Nothing is encrypted to a device that has left: the directory is checked first.
    await this.syncDirectoryNow();
    await this.removeDepartedNow(groupId);
    const cs = await ciphersuite();
    for (let attempt = 1; ; attempt++) {
      const state = this.groups.get(groupId);
      if (!state) throw new Error(`This device is not in group ${groupId}`);
      const plaintext = utf8(JSON.stringify({ type: "text", text }));
      const created = await createApplicationMessage(state, plaintext, cs);
      // Kept whatever the server says: a generation's key is never used twice.
      this.groups.set(groupId, created.newState);
      created.consumed.forEach(zeroOutUint8Array);
      try {
        await this.api.send(
          groupId,
          this.deviceId,
          Number(state.groupContext.epoch),
          encodeMlsMessage({
            wireformat: "mls_private_message",
            version: "mls10",
            privateMessage: created.privateMessage,
          }),
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
      this.history.push({
        groupId,
        senderMemberId: this.memberId,
        senderDeviceId: this.deviceId,
        text,
        own: true,
      });
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
   * for this device, and hands what arrived to `onMessages`. Closing the
   * returned handle stops listening; a dropped stream is not reopened here.
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
      this.sync().then((messages) => {
        if (messages.length > 0) onMessages(messages);
      }, onError);
    });
    // Whatever arrived before the stream opened.
    this.sync().then((messages) => {
      if (messages.length > 0) onMessages(messages);
    }, onError);
    return { close: () => socket.close() };
  }

  private async syncNow(): Promise<ChatMessage[]> {
    const received: ChatMessage[] = [];
    for (;;) {
      const page = await this.api.fetchMessages(this.deviceId, this.cursor);
      if (page.messages.length === 0) break;
      for (const delivery of page.messages) {
        try {
          const message = await this.process(delivery);
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
    }
    await this.replenishKeyPackages();
    return received;
  }

  private async process(delivery: WireDelivery): Promise<ChatMessage | null> {
    const cs = await ciphersuite();
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
      if (!held.lastResort) this.keyPackages = this.keyPackages.filter((k) => k !== held);
      return null;
    }
    const state = this.groups.get(delivery.group_id);
    if (!state) return null;
    if (message.wireformat !== "mls_private_message" && message.wireformat !== "mls_public_message")
      throw new Error(`Unexpected ${message.wireformat}`);
    // A Commit of an epoch this device joined after is already in its state.
    if (delivery.kind === "commit" && delivery.epoch < Number(state.groupContext.epoch))
      return null;
    // The sender is the leaf the message's own (encrypted, then signature-checked) sender
    // data names, never what the server says.
    const sender =
      message.wireformat === "mls_private_message"
        ? await this.senderOf(state, message.privateMessage)
        : null;
    const result = await processMessage(message, state, emptyPskIndex, acceptAll, cs);
    this.groups.set(delivery.group_id, result.newState);
    result.consumed.forEach(zeroOutUint8Array);
    if (result.kind !== "applicationMessage") return null;
    if (!sender) throw new Error("A message from no device of the group");
    const body = JSON.parse(fromUtf8(result.message)) as { type?: string; text?: string };
    if (body.type !== "text" || typeof body.text !== "string") return null;
    return {
      groupId: delivery.group_id,
      senderMemberId: sender.memberId,
      senderDeviceId: sender.deviceId,
      text: body.text,
      own: false,
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
