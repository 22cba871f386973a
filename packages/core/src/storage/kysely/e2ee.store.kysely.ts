import { type Kysely, type Selectable, sql } from "kysely";
import type { DirectoryEntry, E2eeDelivery, E2eeDevice, E2eeGroup } from "../../domain/e2ee.ts";
import type { E2eeStore, NewE2eeBlob, NewE2eeMessage } from "../../stores/e2ee.store.ts";
import type { E2eeDevicesTable, E2eeDirectoryTable } from "./e2ee.schema.ts";
import { STREAM_CHANNEL } from "./migration-014.ts";
import type { Database } from "./schema.ts";

/** The key of the advisory lock that serializes appends to the key directory. */
const DIRECTORY_LOCK = 0x0e2e_0015;

const bytes = (b: Buffer): Uint8Array => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
const buffer = (b: Uint8Array): Buffer => Buffer.from(b.buffer, b.byteOffset, b.byteLength);

function toDevice(row: Selectable<E2eeDevicesTable>): E2eeDevice {
  return {
    id: row.id,
    memberId: row.member_id,
    tokenId: row.token_id,
    name: row.name,
    signatureKey: bytes(row.signature_key),
    createdAt: new Date(row.created_at),
    removedAt: row.removed_at ? new Date(row.removed_at) : null,
  };
}

function toEntry(row: Selectable<E2eeDirectoryTable>): DirectoryEntry {
  return {
    seq: Number(row.seq),
    memberId: row.member_id,
    deviceId: row.device_id,
    signatureKey: bytes(row.signature_key),
    action: row.action,
    prevHash: bytes(row.prev_hash),
    hash: bytes(row.hash),
    createdAt: new Date(row.created_at),
  };
}

/** `E2eeStore` on PostgreSQL. */
export class KyselyE2eeStore implements E2eeStore {
  private readonly db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.db = db;
  }

  async createDevice(device: E2eeDevice): Promise<void> {
    await this.db
      .insertInto("e2ee_devices")
      .values({
        id: device.id,
        member_id: device.memberId,
        token_id: device.tokenId,
        name: device.name,
        signature_key: buffer(device.signatureKey),
        created_at: device.createdAt,
        removed_at: device.removedAt,
      })
      .execute();
  }

  async getDevice(id: string): Promise<E2eeDevice | null> {
    const row = await this.db
      .selectFrom("e2ee_devices")
      .selectAll()
      .where("id", "=", id)
      .executeTakeFirst();
    return row ? toDevice(row) : null;
  }

  listDevices(memberId: string): Promise<E2eeDevice[]> {
    return this.listDevicesOf([memberId]);
  }

  async listDevicesOf(memberIds: readonly string[]): Promise<E2eeDevice[]> {
    if (memberIds.length === 0) return [];
    const rows = await this.db
      .selectFrom("e2ee_devices")
      .selectAll()
      .where("member_id", "in", memberIds)
      .where("removed_at", "is", null)
      .orderBy("created_at")
      .orderBy("id")
      .execute();
    return rows.map(toDevice);
  }

  async listOrphanedDevices(): Promise<E2eeDevice[]> {
    const rows = await this.db
      .selectFrom("e2ee_devices as d")
      // token_id is text (a token of any kind); the tokens' ids are uuids.
      .leftJoin("access_tokens as t", (join) => join.on(sql<boolean>`t.id::text = d.token_id`))
      .selectAll("d")
      .where("d.removed_at", "is", null)
      .where((eb) => eb.or([eb("t.id", "is", null), eb("t.revoked_at", "is not", null)]))
      .orderBy("d.created_at")
      .execute();
    return rows.map(toDevice);
  }

  async removeDevice(id: string, at: Date): Promise<boolean> {
    const updated = await this.db
      .updateTable("e2ee_devices")
      .set({ removed_at: at })
      .where("id", "=", id)
      .where("removed_at", "is", null)
      .returning("id")
      .executeTakeFirst();
    if (!updated) return false;
    await this.db.deleteFrom("e2ee_key_packages").where("device_id", "=", id).execute();
    await this.db.deleteFrom("e2ee_group_devices").where("device_id", "=", id).execute();
    const acked = await this.db
      .deleteFrom("e2ee_deliveries")
      .where("device_id", "=", id)
      .returning("message_id")
      .execute();
    await this.dropOrphans(acked.map((r) => r.message_id));
    return true;
  }

  async addKeyPackages(
    deviceId: string,
    bodies: readonly Uint8Array[],
    lastResort: Uint8Array | null,
    at: Date,
  ): Promise<void> {
    if (bodies.length > 0)
      await this.db
        .insertInto("e2ee_key_packages")
        .values(bodies.map((b) => ({ device_id: deviceId, body: buffer(b), created_at: at })))
        .execute();
    if (lastResort) {
      await this.db
        .deleteFrom("e2ee_key_packages")
        .where("device_id", "=", deviceId)
        .where("last_resort", "=", true)
        .execute();
      await this.db
        .insertInto("e2ee_key_packages")
        .values({
          device_id: deviceId,
          body: buffer(lastResort),
          last_resort: true,
          created_at: at,
        })
        .execute();
    }
  }

  async countKeyPackages(deviceId: string): Promise<number> {
    const row = await this.db
      .selectFrom("e2ee_key_packages")
      .select((eb) => eb.fn.countAll<string>().as("n"))
      .where("device_id", "=", deviceId)
      .where("last_resort", "=", false)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async claimKeyPackage(deviceId: string): Promise<Uint8Array | null> {
    // One claimer per package: a concurrent claim skips the row this one holds.
    const taken = await sql<{ body: Buffer }>`
      delete from e2ee_key_packages where id = (
        select id from e2ee_key_packages
        where device_id = ${deviceId} and not last_resort
        order by id limit 1 for update skip locked)
      returning body`.execute(this.db);
    if (taken.rows[0]) return bytes(taken.rows[0].body);
    const lastResort = await this.db
      .selectFrom("e2ee_key_packages")
      .select("body")
      .where("device_id", "=", deviceId)
      .where("last_resort", "=", true)
      .executeTakeFirst();
    return lastResort ? bytes(lastResort.body) : null;
  }

  async lockDirectory(): Promise<void> {
    await sql`select pg_advisory_xact_lock(${DIRECTORY_LOCK})`.execute(this.db);
  }

  async lastDirectoryEntry(): Promise<DirectoryEntry | null> {
    const row = await this.db
      .selectFrom("e2ee_directory")
      .selectAll()
      .orderBy("seq", "desc")
      .limit(1)
      .executeTakeFirst();
    return row ? toEntry(row) : null;
  }

  async appendDirectoryEntry(entry: DirectoryEntry): Promise<void> {
    await this.db
      .insertInto("e2ee_directory")
      .values({
        seq: entry.seq,
        member_id: entry.memberId,
        device_id: entry.deviceId,
        signature_key: buffer(entry.signatureKey),
        action: entry.action,
        prev_hash: buffer(entry.prevHash),
        hash: buffer(entry.hash),
        created_at: entry.createdAt,
      })
      .execute();
  }

  async listDirectory(fromSeq: number, limit: number): Promise<DirectoryEntry[]> {
    const rows = await this.db
      .selectFrom("e2ee_directory")
      .selectAll()
      .where("seq", ">=", String(fromSeq))
      .orderBy("seq")
      .limit(limit)
      .execute();
    return rows.map(toEntry);
  }

  async createGroup(group: E2eeGroup, deviceId: string): Promise<void> {
    await this.db
      .insertInto("e2ee_groups")
      .values({
        id: group.id,
        epoch: group.epoch,
        created_by: group.createdBy,
        created_at: group.createdAt,
      })
      .execute();
    await this.addGroupDevices(group.id, [deviceId], group.epoch);
  }

  async lockGroup(id: string, mode: "share" | "update"): Promise<E2eeGroup | null> {
    let query = this.db.selectFrom("e2ee_groups").selectAll().where("id", "=", id);
    query = mode === "update" ? query.forUpdate() : query.forShare();
    const row = await query.executeTakeFirst();
    return row
      ? {
          id: row.id,
          epoch: Number(row.epoch),
          createdBy: row.created_by,
          createdAt: new Date(row.created_at),
        }
      : null;
  }

  async advanceEpoch(id: string, epoch: number): Promise<boolean> {
    const row = await this.db
      .updateTable("e2ee_groups")
      .set({ epoch: epoch + 1 })
      .where("id", "=", id)
      .where("epoch", "=", String(epoch))
      .returning("id")
      .executeTakeFirst();
    return row !== undefined;
  }

  async groupDevices(groupId: string): Promise<string[]> {
    const rows = await this.db
      .selectFrom("e2ee_group_devices")
      .select("device_id")
      .where("group_id", "=", groupId)
      .orderBy("device_id")
      .execute();
    return rows.map((r) => r.device_id);
  }

  async addGroupDevices(
    groupId: string,
    deviceIds: readonly string[],
    epoch: number,
  ): Promise<void> {
    if (deviceIds.length === 0) return;
    await this.db
      .insertInto("e2ee_group_devices")
      .values(deviceIds.map((d) => ({ group_id: groupId, device_id: d, joined_epoch: epoch })))
      .onConflict((oc) => oc.columns(["group_id", "device_id"]).doNothing())
      .execute();
  }

  async removeGroupDevices(groupId: string, deviceIds: readonly string[]): Promise<void> {
    if (deviceIds.length === 0) return;
    await this.db
      .deleteFrom("e2ee_group_devices")
      .where("group_id", "=", groupId)
      .where("device_id", "in", deviceIds)
      .execute();
  }

  async deliver(message: NewE2eeMessage, deviceIds: readonly string[]): Promise<void> {
    if (deviceIds.length === 0) return;
    const stored = await this.db
      .insertInto("e2ee_messages")
      .values({
        group_id: message.groupId,
        kind: message.kind,
        epoch: message.epoch,
        sender_device_id: message.senderDeviceId,
        body: buffer(message.body),
        created_at: message.createdAt,
        expires_at: message.expiresAt ?? null,
      })
      .returning("id")
      .executeTakeFirstOrThrow();
    // Locked in id order (no deadlock between two deliveries), held to the end of the
    // transaction: a device's numbers are handed out in the order deliveries commit.
    await this.db
      .selectFrom("e2ee_devices")
      .select("id")
      .where("id", "in", [...deviceIds])
      .orderBy("id")
      .forUpdate()
      .execute();
    const numbered = await this.db
      .updateTable("e2ee_devices")
      .set({ delivery_seq: sql`delivery_seq + 1` })
      .where("id", "in", [...deviceIds])
      .returning(["id", "delivery_seq"])
      .execute();
    await this.db
      .insertInto("e2ee_deliveries")
      .values(
        numbered.map((d) => ({ device_id: d.id, seq: d.delivery_seq, message_id: stored.id })),
      )
      .execute();
    // Live delivery: each device's open streams hear, when this commits, that something waits
    // (only the device's id: what waits is fetched through the API).
    await sql`select pg_notify(${STREAM_CHANNEL}, json_build_object('kind', 'e2ee', 'device', d)::text)
      from unnest(${numbered.map((d) => d.id)}::uuid[]) as d`.execute(this.db);
  }

  async fetch(deviceId: string, after: number, limit: number, now: Date): Promise<E2eeDelivery[]> {
    const rows = await this.db
      .selectFrom("e2ee_deliveries as d")
      .innerJoin("e2ee_messages as m", "m.id", "d.message_id")
      .select([
        "d.seq",
        "m.group_id",
        "m.kind",
        "m.epoch",
        "m.sender_device_id",
        "m.body",
        "m.created_at",
      ])
      .where("d.device_id", "=", deviceId)
      .where("d.seq", ">", String(after))
      .where((eb) => eb.or([eb("m.expires_at", "is", null), eb("m.expires_at", ">", now)]))
      .orderBy("d.seq")
      .limit(limit)
      .execute();
    return rows.map((r) => ({
      seq: Number(r.seq),
      groupId: r.group_id,
      kind: r.kind,
      epoch: Number(r.epoch),
      senderDeviceId: r.sender_device_id,
      body: bytes(r.body),
      createdAt: new Date(r.created_at),
    }));
  }

  async acknowledge(deviceId: string, upTo: number): Promise<number> {
    if (upTo <= 0) return 0;
    const acked = await this.db
      .deleteFrom("e2ee_deliveries")
      .where("device_id", "=", deviceId)
      .where("seq", "<=", String(upTo))
      .returning("message_id")
      .execute();
    return this.dropOrphans(acked.map((r) => r.message_id));
  }

  async purgeOlderThan(before: Date): Promise<number> {
    const gone = await this.db
      .deleteFrom("e2ee_messages")
      .where("created_at", "<", before)
      .returning("id")
      .execute();
    const blobs = await this.db
      .deleteFrom("e2ee_blobs")
      .where("created_at", "<", before)
      .returning("id")
      .execute();
    return gone.length + blobs.length;
  }

  async purgeExpired(now: Date): Promise<number> {
    const gone = await this.db
      .deleteFrom("e2ee_messages")
      .where("expires_at", "<=", now)
      .returning("id")
      .execute();
    const blobs = await this.db
      .deleteFrom("e2ee_blobs")
      .where("expires_at", "<=", now)
      .returning("id")
      .execute();
    return gone.length + blobs.length;
  }

  async putBlob(blob: NewE2eeBlob, quotaBytes: number, now: Date): Promise<boolean> {
    const put = async (tx: Kysely<Database>): Promise<boolean> => {
      const owner = await tx
        .selectFrom("e2ee_devices")
        .select("member_id")
        .where("id", "=", blob.deviceId)
        .executeTakeFirst();
      if (!owner) return false;
      // One upload of a member at a time counts what their devices already keep.
      await sql`select pg_advisory_xact_lock(hashtext(${`e2ee-blobs:${owner.member_id}`}))`.execute(
        tx,
      );
      const kept = await tx
        .selectFrom("e2ee_blobs as b")
        .innerJoin("e2ee_devices as d", "d.id", "b.device_id")
        .select(sql<string>`coalesce(sum(octet_length(b.body)), 0)`.as("bytes"))
        .where("d.member_id", "=", owner.member_id)
        .where((eb) => eb.or([eb("b.expires_at", "is", null), eb("b.expires_at", ">", now)]))
        .executeTakeFirstOrThrow();
      if (Number(kept.bytes) + blob.body.byteLength > quotaBytes) return false;
      await tx
        .insertInto("e2ee_blobs")
        .values({
          id: blob.id,
          group_id: blob.groupId,
          device_id: blob.deviceId,
          body: buffer(blob.body),
          created_at: blob.createdAt,
          expires_at: blob.expiresAt,
        })
        .execute();
      return true;
    };
    return this.db.isTransaction ? put(this.db) : this.db.transaction().execute(put);
  }

  async getBlob(id: string, deviceId: string, now: Date): Promise<Uint8Array | null> {
    const row = await this.db
      .selectFrom("e2ee_blobs as b")
      .innerJoin("e2ee_group_devices as g", "g.group_id", "b.group_id")
      .select("b.body")
      .where("b.id", "=", id)
      .where("g.device_id", "=", deviceId)
      .where((eb) => eb.or([eb("b.expires_at", "is", null), eb("b.expires_at", ">", now)]))
      .executeTakeFirst();
    return row ? bytes(row.body) : null;
  }

  /** Deletes the messages among `ids` that no device waits for any more. */
  private async dropOrphans(ids: readonly string[]): Promise<number> {
    if (ids.length === 0) return 0;
    const gone = await this.db
      .deleteFrom("e2ee_messages")
      .where("id", "in", [...new Set(ids)])
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom("e2ee_deliveries")
              .select("message_id")
              .whereRef("e2ee_deliveries.message_id", "=", "e2ee_messages.id"),
          ),
        ),
      )
      .returning("id")
      .execute();
    return gone.length;
  }
}
