/** Row types of the end-to-end encrypted chats' tables (issue 15, migration 021). */
import type { ColumnType, Generated } from "kysely";

type Timestamp = ColumnType<Date, Date | string, Date | string>;
/** PostgreSQL `bigint`: read as a string by pg, written as a number. */
type BigIntColumn = ColumnType<string, number | string, number | string>;
type GeneratedBigInt = ColumnType<string, number | string | undefined, number | string>;

export interface E2eeDevicesTable {
  id: string;
  member_id: string;
  token_id: string;
  name: string;
  signature_key: Buffer;
  delivery_seq: GeneratedBigInt;
  created_at: Timestamp;
  removed_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
}

export interface E2eeKeyPackagesTable {
  id: GeneratedBigInt;
  device_id: string;
  body: Buffer;
  last_resort: Generated<boolean>;
  created_at: Timestamp;
}

export interface E2eeDirectoryTable {
  seq: BigIntColumn;
  member_id: string;
  device_id: string;
  signature_key: Buffer;
  action: "add" | "remove";
  prev_hash: Buffer;
  hash: Buffer;
  created_at: Timestamp;
}

export interface E2eeGroupsTable {
  id: string;
  epoch: GeneratedBigInt;
  created_by: string;
  created_at: Timestamp;
}

export interface E2eeGroupDevicesTable {
  group_id: string;
  device_id: string;
  joined_epoch: BigIntColumn;
}

export interface E2eeMessagesTable {
  id: GeneratedBigInt;
  group_id: string;
  kind: "commit" | "welcome" | "application";
  epoch: BigIntColumn;
  sender_device_id: string;
  body: Buffer;
  created_at: Timestamp;
  /** When the sender's device declared the message expires (migration 022). */
  expires_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
}

export interface E2eeDeliveriesTable {
  device_id: string;
  seq: BigIntColumn;
  message_id: BigIntColumn;
}

/** Encrypted attachments: opaque bytes a device uploaded for a group (migration 022). */
export interface E2eeBlobsTable {
  id: string;
  group_id: string;
  device_id: string;
  body: Buffer;
  created_at: Timestamp;
  expires_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
}

/** The tables, as part of `Database`. */
export interface E2eeTables {
  e2ee_devices: E2eeDevicesTable;
  e2ee_key_packages: E2eeKeyPackagesTable;
  e2ee_directory: E2eeDirectoryTable;
  e2ee_groups: E2eeGroupsTable;
  e2ee_group_devices: E2eeGroupDevicesTable;
  e2ee_messages: E2eeMessagesTable;
  e2ee_deliveries: E2eeDeliveriesTable;
  e2ee_blobs: E2eeBlobsTable;
}
