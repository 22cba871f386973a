/**
 * End-to-end encrypted chats (issue 15): the server's side as the MLS
 * delivery service and key directory. It never reads a body: it registers
 * devices, hands out KeyPackages once, sequences each group (exactly one
 * Commit per epoch) and fans ciphertexts out to devices until they fetch them.
 *
 * Who acts is always a device: a member's device bound to the session or
 * token that registered it (`actingDevice`).
 */
import type { Deps } from "../deps.ts";
import {
  DIRECTORY_GENESIS,
  type DirectoryEntry,
  directoryEntryHash,
  E2EE_LIMITS,
  E2EE_RETENTION_MS,
  type E2eeDelivery,
  type E2eeDevice,
  type E2eeGroup,
} from "../domain/e2ee.ts";
import type { Member } from "../domain/types.ts";
import { fail, ok, type Result } from "../errors.ts";
import type { EventSubscriber } from "../federation/events.ts";
import { isId, newId } from "../ids.ts";
import type { Stores } from "../stores/stores.ts";

/** Who is asking: the member and the session or token of the request. */
export interface E2eeCaller {
  member: Member;
  tokenId: string;
}

/** Why a device request was refused. */
export type DeviceProblem = "device_not_found";

/**
 * The caller's device `deviceId`: one of their devices, not removed, bound to
 * the session or token of this request. Anything else is not found.
 */
async function actingDevice(
  stores: Stores,
  caller: E2eeCaller,
  deviceId: string,
): Promise<E2eeDevice | null> {
  if (!isId(deviceId)) return null;
  const device = await stores.e2ee.getDevice(deviceId);
  if (!device || device.removedAt) return null;
  if (device.memberId !== caller.member.id || device.tokenId !== caller.tokenId) return null;
  return device;
}

/** Appends an entry to the key directory, under its lock (call in a transaction). */
async function appendDirectory(
  stores: Stores,
  at: Date,
  fields: Pick<DirectoryEntry, "memberId" | "deviceId" | "signatureKey" | "action">,
): Promise<DirectoryEntry> {
  await stores.e2ee.lockDirectory();
  const last = await stores.e2ee.lastDirectoryEntry();
  const partial = {
    ...fields,
    seq: (last?.seq ?? 0) + 1,
    prevHash: last?.hash ?? DIRECTORY_GENESIS,
  };
  const entry: DirectoryEntry = { ...partial, hash: directoryEntryHash(partial), createdAt: at };
  await stores.e2ee.appendDirectoryEntry(entry);
  return entry;
}

/**
 * Registers a device for the caller, bound to the caller's session or token,
 * and records its signature key in the key directory.
 */
export async function registerDevice(
  deps: Deps,
  caller: E2eeCaller,
  input: { name: string; signatureKey: Uint8Array },
): Promise<
  Result<{ device: E2eeDevice; entry: DirectoryEntry }, "too_many_devices" | "key_in_use">
> {
  // Devices of the member's ended sessions hold no place.
  await retireOrphanedDevices(deps);
  return deps.stores.transaction(async (tx) => {
    const existing = await tx.e2ee.listDevices(caller.member.id);
    if (existing.length >= E2EE_LIMITS.devicesPerMember)
      return fail(
        "too_many_devices",
        `A member has at most ${E2EE_LIMITS.devicesPerMember} devices.`,
      );
    await tx.e2ee.lockDirectory();
    const all = await tx.e2ee.listDirectory(1, Number.MAX_SAFE_INTEGER);
    const key = Buffer.from(input.signatureKey);
    // A key appears in the directory once, ever: a device cannot take another's identity.
    if (all.some((e) => e.action === "add" && key.equals(e.signatureKey)))
      return fail("key_in_use", "This signature key belongs to a device already.");
    const at = deps.now();
    const device: E2eeDevice = {
      id: newId(),
      memberId: caller.member.id,
      tokenId: caller.tokenId,
      name: input.name,
      signatureKey: input.signatureKey,
      createdAt: at,
      removedAt: null,
    };
    await tx.e2ee.createDevice(device);
    const entry = await appendDirectory(tx, at, {
      memberId: device.memberId,
      deviceId: device.id,
      signatureKey: device.signatureKey,
      action: "add",
    });
    return ok({ device, entry });
  });
}

/** A device by id (removed or not): for the streaming side, which tells its sessions of deliveries. */
export function findDevice(deps: Deps, deviceId: string): Promise<E2eeDevice | null> {
  return isId(deviceId) ? deps.stores.e2ee.getDevice(deviceId) : Promise.resolve(null);
}

/** The caller's devices (any of their sessions'). */
export function listOwnDevices(
  deps: Deps,
  caller: Pick<E2eeCaller, "member">,
): Promise<E2eeDevice[]> {
  return deps.stores.e2ee.listDevices(caller.member.id);
}

/**
 * Removes one of the caller's devices (from any of their sessions): its
 * KeyPackages, seats and waiting messages go, and the directory says so.
 */
export async function removeDevice(
  deps: Deps,
  caller: Pick<E2eeCaller, "member">,
  deviceId: string,
): Promise<Result<DirectoryEntry, DeviceProblem>> {
  if (!isId(deviceId)) return fail("device_not_found");
  return deps.stores.transaction(async (tx) => {
    const device = await tx.e2ee.getDevice(deviceId);
    if (!device || device.removedAt || device.memberId !== caller.member.id)
      return fail("device_not_found");
    const at = deps.now();
    if (!(await tx.e2ee.removeDevice(device.id, at))) return fail("device_not_found");
    return ok(
      await appendDirectory(tx, at, {
        memberId: device.memberId,
        deviceId: device.id,
        signatureKey: device.signatureKey,
        action: "remove",
      }),
    );
  });
}

/**
 * Removes every device of a member (removed or suspended: membership follows
 * the Clique). Their seats and waiting messages go, the directory records
 * each removal, and the other devices commit the MLS Removes when they see
 * it (the client does so before it next sends). Idempotent.
 */
export async function removeDevicesOfMember(deps: Deps, memberId: string): Promise<number> {
  return deps.stores.transaction(async (tx) =>
    removeRecorded(tx, await tx.e2ee.listDevices(memberId), deps.now()),
  );
}

/**
 * Removes devices, each with a `remove` entry in the directory (in a
 * transaction); how many were not removed already.
 */
async function removeRecorded(
  tx: Stores,
  devices: readonly E2eeDevice[],
  at: Date,
): Promise<number> {
  let removed = 0;
  for (const device of devices) {
    if (!(await tx.e2ee.removeDevice(device.id, at))) continue;
    await appendDirectory(tx, at, {
      memberId: device.memberId,
      deviceId: device.id,
      signatureKey: device.signatureKey,
      action: "remove",
    });
    removed++;
  }
  return removed;
}

/**
 * Retires the devices whose session or token ended (a sign-out, a revoked
 * app, a password change that ended the other sessions): nothing can act as
 * them again, so they leave the directory and every group instead of
 * collecting ciphertexts no one will read — and the other devices stop
 * encrypting to them. Run before the directory is read and KeyPackages are
 * handed out, so a sender always sees it; idempotent. How many it retired.
 */
export async function retireOrphanedDevices(deps: Deps): Promise<number> {
  const orphans = await deps.stores.e2ee.listOrphanedDevices();
  if (orphans.length === 0) return 0;
  return deps.stores.transaction((tx) => removeRecorded(tx, orphans, deps.now()));
}

/** Removes the devices of members who are removed or suspended (an outbox subscriber). */
export function e2eeMembershipSubscriber(deps: Deps): EventSubscriber {
  return {
    name: "e2ee-membership",
    async handle({ event }) {
      if (event.kind === "member-removed" || event.kind === "member-suspended")
        await removeDevicesOfMember(deps, event.memberId);
    },
  };
}

/** Stores a device's KeyPackages (and its last-resort one); how many now wait. */
export async function uploadKeyPackages(
  deps: Deps,
  caller: E2eeCaller,
  deviceId: string,
  keyPackages: readonly Uint8Array[],
  lastResort: Uint8Array | null,
): Promise<Result<{ waiting: number }, DeviceProblem | "too_many_key_packages">> {
  return deps.stores.transaction(async (tx) => {
    const device = await actingDevice(tx, caller, deviceId);
    if (!device) return fail("device_not_found");
    const waiting = await tx.e2ee.countKeyPackages(device.id);
    if (waiting + keyPackages.length > E2EE_LIMITS.keyPackagesPerDevice)
      return fail(
        "too_many_key_packages",
        `A device keeps at most ${E2EE_LIMITS.keyPackagesPerDevice} KeyPackages.`,
      );
    await tx.e2ee.addKeyPackages(device.id, keyPackages, lastResort, deps.now());
    return ok({ waiting: waiting + keyPackages.length });
  });
}

/** A KeyPackage handed out for one device. */
export interface ClaimedKeyPackage {
  memberId: string;
  deviceId: string;
  keyPackage: Uint8Array;
}

/**
 * One KeyPackage for every device of some active members (the caller's own
 * devices included, the asking one excepted), each consumed. Members that are
 * not active members of the Clique are not found.
 */
export async function claimKeyPackages(
  deps: Deps,
  caller: E2eeCaller,
  deviceId: string,
  memberIds: readonly string[],
): Promise<Result<ClaimedKeyPackage[], DeviceProblem | "member_not_found">> {
  const device = await actingDevice(deps.stores, caller, deviceId);
  if (!device) return fail("device_not_found");
  const ids = [...new Set(memberIds)];
  if (!ids.every(isId)) return fail("member_not_found");
  const members = await deps.stores.members.getByIds(ids);
  const active = new Set(members.filter((m) => m.status === "active").map((m) => m.id));
  if (ids.some((id) => !active.has(id))) return fail("member_not_found");
  await retireOrphanedDevices(deps);
  const devices = await deps.stores.e2ee.listDevicesOf(ids);
  const claimed: ClaimedKeyPackage[] = [];
  for (const d of devices) {
    if (d.id === device.id) continue;
    const keyPackage = await deps.stores.e2ee.claimKeyPackage(d.id);
    if (keyPackage) claimed.push({ memberId: d.memberId, deviceId: d.id, keyPackage });
  }
  return ok(claimed);
}

/** The key directory from entry `fromSeq` on (1: all of it), devices of ended sessions retired first. */
export async function readDirectory(
  deps: Deps,
  fromSeq: number,
  limit = 500,
): Promise<DirectoryEntry[]> {
  await retireOrphanedDevices(deps);
  return deps.stores.e2ee.listDirectory(Math.max(1, fromSeq), limit);
}

/** The key directory's last entry (its head), `null` while it is empty. */
export function directoryHead(deps: Deps): Promise<DirectoryEntry | null> {
  return deps.stores.e2ee.lastDirectoryEntry();
}

/** Starts a group at epoch 0 with the caller's device as its only member. */
export async function createGroup(
  deps: Deps,
  caller: E2eeCaller,
  deviceId: string,
): Promise<Result<E2eeGroup, DeviceProblem>> {
  const device = await actingDevice(deps.stores, caller, deviceId);
  if (!device) return fail("device_not_found");
  const group: E2eeGroup = { id: newId(), epoch: 0, createdBy: device.id, createdAt: deps.now() };
  await deps.stores.e2ee.createGroup(group, device.id);
  return ok(group);
}

/** Why a Commit or a message was refused. */
export type GroupProblem =
  | { ok: false; reason: "device_not_found" | "group_not_found" }
  | { ok: false; reason: "epoch_conflict"; epoch: number }
  | { ok: false; reason: "invalid_devices"; detail: string };

/** A Commit, as a device submits it. */
export interface CommitSubmission {
  groupId: string;
  deviceId: string;
  /** The epoch the Commit ends: the group's current epoch, or it is refused. */
  epoch: number;
  commit: Uint8Array;
  /** For the added devices; required when some are added. */
  welcome: Uint8Array | null;
  addDevices: readonly string[];
  removeDevices: readonly string[];
}

/** The group, locked, if the device sits in it. */
async function seatedGroup(
  tx: Stores,
  groupId: string,
  deviceId: string,
  mode: "share" | "update",
): Promise<{ group: E2eeGroup; seated: string[] } | null> {
  if (!isId(groupId)) return null;
  const group = await tx.e2ee.lockGroup(groupId, mode);
  if (!group) return null;
  const seated = await tx.e2ee.groupDevices(group.id);
  return seated.includes(deviceId) ? { group, seated } : null;
}

/**
 * Accepts a Commit if it ends the group's current epoch, else refuses it with
 * the current epoch (the device fetches, processes the Commit that won, and
 * retries): exactly one Commit per epoch, so a group never forks. The Commit
 * goes to every other device of the group (removed ones included, so they
 * learn it), the Welcome to the added devices.
 */
export async function submitCommit(
  deps: Deps,
  caller: E2eeCaller,
  input: CommitSubmission,
): Promise<{ ok: true; epoch: number } | GroupProblem> {
  return deps.stores.transaction(async (tx) => {
    const device = await actingDevice(tx, caller, input.deviceId);
    if (!device) return { ok: false, reason: "device_not_found" } as const;
    const found = await seatedGroup(tx, input.groupId, device.id, "update");
    if (!found) return { ok: false, reason: "group_not_found" } as const;
    const { group, seated } = found;
    if (group.epoch !== input.epoch)
      return { ok: false, reason: "epoch_conflict", epoch: group.epoch } as const;
    const invalid = (detail: string) => ({ ok: false, reason: "invalid_devices", detail }) as const;
    const adds = [...new Set(input.addDevices)];
    const removes = [...new Set(input.removeDevices)];
    if (adds.some((id) => seated.includes(id)))
      return invalid("A device to add is in the group already.");
    if (removes.includes(device.id)) return invalid("A device does not remove itself.");
    // Devices the server unseated already (their member left the Clique) are named
    // by the Commit that removes their leaves: nothing more to do for them here.
    if (adds.length > 0 && !input.welcome) return invalid("Added devices need a Welcome.");
    if (adds.length === 0 && input.welcome) return invalid("A Welcome needs added devices.");
    if (adds.length > 0) {
      // Only active members' devices that are not removed join a chat.
      const devices = await Promise.all(
        adds.map((id) => (isId(id) ? tx.e2ee.getDevice(id) : null)),
      );
      const owners = await tx.members.getByIds(devices.flatMap((d) => (d ? [d.memberId] : [])));
      const active = new Set(owners.filter((m) => m.status === "active").map((m) => m.id));
      if (devices.some((d) => !d || d.removedAt || !active.has(d.memberId)))
        return invalid("A device to add is not an active member's device.");
    }
    if (!(await tx.e2ee.advanceEpoch(group.id, group.epoch)))
      return { ok: false, reason: "epoch_conflict", epoch: group.epoch + 1 } as const;
    const at = deps.now();
    await tx.e2ee.deliver(
      {
        groupId: group.id,
        kind: "commit",
        epoch: group.epoch,
        senderDeviceId: device.id,
        body: input.commit,
        createdAt: at,
      },
      seated.filter((id) => id !== device.id),
    );
    await tx.e2ee.removeGroupDevices(
      group.id,
      removes.filter((id) => seated.includes(id)),
    );
    await tx.e2ee.addGroupDevices(group.id, adds, group.epoch + 1);
    if (input.welcome)
      await tx.e2ee.deliver(
        {
          groupId: group.id,
          kind: "welcome",
          epoch: group.epoch + 1,
          senderDeviceId: device.id,
          body: input.welcome,
          createdAt: at,
        },
        adds,
      );
    return { ok: true, epoch: group.epoch + 1 } as const;
  });
}

/**
 * Fans an application message out to the group's other devices. It must be
 * of the current epoch: a device that missed a Commit catches up first.
 * `expiresAt`, declared by the sender's device (a disappearing message), is
 * capped by the retention limit; past it the message is neither handed out
 * nor kept.
 */
export async function sendGroupMessage(
  deps: Deps,
  caller: E2eeCaller,
  input: {
    groupId: string;
    deviceId: string;
    epoch: number;
    body: Uint8Array;
    expiresAt?: Date | null;
  },
): Promise<{ ok: true } | GroupProblem> {
  const now = deps.now();
  const expiresAt = cappedExpiry(now, input.expiresAt);
  return deps.stores.transaction(async (tx) => {
    const device = await actingDevice(tx, caller, input.deviceId);
    if (!device) return { ok: false, reason: "device_not_found" } as const;
    // Shared lock: no Commit can change the epoch until this message is stored.
    const found = await seatedGroup(tx, input.groupId, device.id, "share");
    if (!found) return { ok: false, reason: "group_not_found" } as const;
    if (found.group.epoch !== input.epoch)
      return { ok: false, reason: "epoch_conflict", epoch: found.group.epoch } as const;
    await tx.e2ee.deliver(
      {
        groupId: found.group.id,
        kind: "application",
        epoch: found.group.epoch,
        senderDeviceId: device.id,
        body: input.body,
        createdAt: now,
        expiresAt,
      },
      found.seated.filter((id) => id !== device.id),
    );
    return { ok: true } as const;
  });
}

/**
 * Whether the caller's device `deviceId` sits in group `groupId` (what a
 * member must show before disclosing one of the chat's messages to the
 * moderators: the server cannot check the disclosed text itself).
 */
export async function deviceSitsInGroup(
  deps: Deps,
  caller: E2eeCaller,
  deviceId: string,
  groupId: string,
): Promise<boolean> {
  const device = await actingDevice(deps.stores, caller, deviceId);
  if (!device || !isId(groupId)) return false;
  return (await deps.stores.e2ee.groupDevices(groupId)).includes(device.id);
}

/** A declared expiry kept between now (one in the past is now) and now plus the retention limit. */
function cappedExpiry(now: Date, declared: Date | null | undefined): Date | null {
  if (!declared || Number.isNaN(declared.getTime())) return null;
  const latest = now.getTime() + E2EE_RETENTION_MS;
  return new Date(Math.max(now.getTime(), Math.min(declared.getTime(), latest)));
}

/**
 * Stores an encrypted attachment a device uploads for a group it sits in:
 * opaque bytes (the key and the hash travel inside an MLS message). It lives
 * until its declared expiry (capped by retention), the retention limit, or the
 * group, whichever ends first. A member's devices keep at most
 * `E2EE_LIMITS.blobBytesPerMember` of them at once, so nobody fills the disk.
 */
export async function uploadBlob(
  deps: Deps,
  caller: E2eeCaller,
  input: { groupId: string; deviceId: string; body: Uint8Array; expiresAt?: Date | null },
): Promise<
  Result<{ id: string; size: number }, DeviceProblem | "group_not_found" | "blob_quota_exceeded">
> {
  const device = await actingDevice(deps.stores, caller, input.deviceId);
  if (!device) return fail("device_not_found");
  if (!isId(input.groupId)) return fail("group_not_found");
  const seated = await deps.stores.e2ee.groupDevices(input.groupId);
  if (!seated.includes(device.id)) return fail("group_not_found");
  const now = deps.now();
  const id = newId();
  const stored = await deps.stores.e2ee.putBlob(
    {
      id,
      groupId: input.groupId,
      deviceId: device.id,
      body: input.body,
      createdAt: now,
      expiresAt: cappedExpiry(now, input.expiresAt),
    },
    E2EE_LIMITS.blobBytesPerMember,
    now,
  );
  if (!stored)
    return fail(
      "blob_quota_exceeded",
      `Your devices keep ${E2EE_LIMITS.blobBytesPerMember / (1024 * 1024)} MiB of attachments at most: older ones must expire first.`,
    );
  return ok({ id, size: input.body.byteLength });
}

/** An attachment's bytes, for a device of its group; anything else is not found. */
export async function fetchBlob(
  deps: Deps,
  caller: E2eeCaller,
  deviceId: string,
  blobId: string,
): Promise<Result<Uint8Array, DeviceProblem | "blob_not_found">> {
  const device = await actingDevice(deps.stores, caller, deviceId);
  if (!device) return fail("device_not_found");
  if (!isId(blobId)) return fail("blob_not_found");
  const found = await deps.stores.e2ee.getBlob(blobId, device.id, deps.now());
  return found ? ok(found) : fail("blob_not_found");
}

/**
 * What waits for a device after its cursor. Passing a cursor acknowledges
 * everything up to it: those deliveries are forgotten, and messages no
 * device waits for any more are deleted. Messages past the retention limit
 * or their declared expiry are deleted too, fetched or not.
 */
export async function fetchDeviceMessages(
  deps: Deps,
  caller: E2eeCaller,
  deviceId: string,
  after: number,
  limit: number = E2EE_LIMITS.fetchPage,
): Promise<Result<E2eeDelivery[], DeviceProblem>> {
  const device = await actingDevice(deps.stores, caller, deviceId);
  if (!device) return fail("device_not_found");
  await deps.stores.e2ee.acknowledge(device.id, after);
  const now = deps.now();
  await deps.stores.e2ee.purgeOlderThan(new Date(now.getTime() - E2EE_RETENTION_MS));
  await deps.stores.e2ee.purgeExpired(now);
  return ok(
    await deps.stores.e2ee.fetch(device.id, after, Math.min(limit, E2EE_LIMITS.fetchPage), now),
  );
}
