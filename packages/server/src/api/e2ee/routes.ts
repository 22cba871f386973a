/**
 * End-to-end encrypted chats (issue 15), under `/api/v1/e2ee`: the server as
 * the MLS delivery service and key directory. Bodies are base64 of bytes the
 * server cannot read; sizes are checked here, before anything is stored.
 * Nothing in this module logs a body.
 *
 * A device is bound to the session or token that registered it: requests
 * naming a device must come with that same session or token.
 */
import {
  CliqueError,
  type DirectoryEntry,
  E2EE_CIPHERSUITE,
  E2EE_LIMITS,
  type E2eeCaller,
  type E2eeDelivery,
  type E2eeDevice,
  type GroupProblem,
  isId,
} from "@clique/core";
import { type Context, Hono } from "hono";
import { z } from "zod";
import { requireMember } from "../../http/auth.ts";
import { readBody, readQuery, validate } from "../../http/body.ts";
import type { AppEnv } from "../../http/env.ts";
import { notFound, problem } from "../../http/errors.ts";

/** The e2ee API, mounted at `/api/v1/e2ee`. */
export const e2eeApi = new Hono<AppEnv>();

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Base64 of at most `max` bytes (at least `min`), decoded. */
const bytes = (max: number, min = 1) =>
  z
    .string()
    .max(Math.ceil(max / 3) * 4)
    .regex(BASE64, "must be base64")
    .transform((s, ctx) => {
      const decoded = new Uint8Array(Buffer.from(s, "base64"));
      if (decoded.byteLength < min || decoded.byteLength > max || s.length % 4 !== 0) {
        ctx.addIssue({ code: "custom", message: `must be base64 of ${min} to ${max} bytes` });
        return z.NEVER;
      }
      return decoded;
    });

const id = z.string().refine(isId, "must be an id");
const b64 = (b: Uint8Array) => Buffer.from(b).toString("base64");

/** The caller: a member with a session or token (a device needs one to be bound to). */
function caller(c: Context<AppEnv>): E2eeCaller {
  const member = requireMember(c);
  const tokenId = c.get("tokenId");
  if (!tokenId) throw new CliqueError("unauthorized", "This method requires an authenticated user");
  return { member, tokenId };
}

function serializeDevice(device: E2eeDevice, c: Context<AppEnv>) {
  return {
    id: device.id,
    member_id: device.memberId,
    name: device.name,
    signature_key: b64(device.signatureKey),
    /** Whether this session or token acts as the device. */
    current: device.tokenId === c.get("tokenId"),
    created_at: device.createdAt.toISOString(),
  };
}

function serializeEntry(entry: DirectoryEntry) {
  return {
    seq: entry.seq,
    member_id: entry.memberId,
    device_id: entry.deviceId,
    signature_key: b64(entry.signatureKey),
    action: entry.action,
    prev_hash: Buffer.from(entry.prevHash).toString("hex"),
    hash: Buffer.from(entry.hash).toString("hex"),
    created_at: entry.createdAt.toISOString(),
  };
}

function serializeDelivery(d: E2eeDelivery) {
  return {
    cursor: d.seq,
    group_id: d.groupId,
    kind: d.kind,
    epoch: d.epoch,
    sender_device_id: d.senderDeviceId,
    body: b64(d.body),
    created_at: d.createdAt.toISOString(),
  };
}

/** A group's refusal at the edge: 404, 422, or 409 with the epoch to catch up to. */
function groupRefusal(c: Context<AppEnv>, problem: GroupProblem) {
  switch (problem.reason) {
    case "device_not_found":
    case "group_not_found":
      throw notFound();
    case "invalid_devices":
      throw new CliqueError("invalid_input", problem.detail);
    case "epoch_conflict":
      return c.json(
        {
          error: "The group has moved to another epoch: fetch its messages and try again",
          code: "epoch_conflict",
          epoch: problem.epoch,
        },
        409,
      );
  }
}

// --- Devices ------------------------------------------------------------------

const registerSchema = z.strictObject({
  name: z.string().trim().min(1).max(E2EE_LIMITS.deviceName),
  signature_key: bytes(E2EE_LIMITS.signatureKey, E2EE_LIMITS.signatureKey),
  ciphersuite: z.literal(E2EE_CIPHERSUITE).optional(),
});

e2eeApi.post("/devices", async (c) => {
  const who = caller(c);
  const input = validate(registerSchema, await readBody(c));
  const { clique } = c.get("services");
  const result = await clique.e2ee.registerDevice(who, {
    name: input.name,
    signatureKey: input.signature_key,
  });
  if (!result.ok)
    throw new CliqueError(
      result.reason === "key_in_use" ? "conflict" : "invalid_input",
      result.detail ?? result.reason,
    );
  return c.json(
    { ...serializeDevice(result.value.device, c), directory: serializeEntry(result.value.entry) },
    200,
  );
});

e2eeApi.get("/devices", async (c) => {
  const who = caller(c);
  const devices = await c.get("services").clique.e2ee.listOwnDevices(who);
  return c.json(devices.map((d) => serializeDevice(d, c)));
});

e2eeApi.delete("/devices/:id", async (c) => {
  const who = caller(c);
  const result = await c.get("services").clique.e2ee.removeDevice(who, c.req.param("id"));
  if (!result.ok) throw notFound();
  return c.json({ directory: serializeEntry(result.value) });
});

const keyPackagesSchema = z.strictObject({
  key_packages: z.array(bytes(E2EE_LIMITS.keyPackage)).max(E2EE_LIMITS.keyPackagesPerUpload),
  last_resort: bytes(E2EE_LIMITS.keyPackage).optional(),
});

e2eeApi.post("/devices/:id/key_packages", async (c) => {
  const who = caller(c);
  const input = validate(keyPackagesSchema, await readBody(c));
  const result = await c
    .get("services")
    .clique.e2ee.uploadKeyPackages(
      who,
      c.req.param("id"),
      input.key_packages,
      input.last_resort ?? null,
    );
  if (!result.ok) {
    if (result.reason === "device_not_found") throw notFound();
    throw new CliqueError("invalid_input", result.detail ?? result.reason);
  }
  return c.json({ waiting: result.value.waiting });
});

const claimSchema = z.strictObject({
  device_id: id,
  member_ids: z.array(id).min(1).max(E2EE_LIMITS.membersPerClaim),
});

e2eeApi.post("/key_packages/claim", async (c) => {
  const who = caller(c);
  const input = validate(claimSchema, await readBody(c));
  const result = await c
    .get("services")
    .clique.e2ee.claimKeyPackages(who, input.device_id, input.member_ids);
  if (!result.ok) throw notFound();
  return c.json({
    key_packages: result.value.map((k) => ({
      member_id: k.memberId,
      device_id: k.deviceId,
      key_package: b64(k.keyPackage),
    })),
  });
});

// --- The key directory --------------------------------------------------------

const directorySchema = z.object({
  from: z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER).optional(),
  limit: z.coerce.number().int().min(1).max(500).optional(),
});

e2eeApi.get("/directory", async (c) => {
  caller(c);
  const q = validate(directorySchema, readQuery(c));
  const entries = await c.get("services").clique.e2ee.readDirectory(q.from ?? 1, q.limit ?? 500);
  return c.json({ entries: entries.map(serializeEntry) });
});

// --- Groups -------------------------------------------------------------------

e2eeApi.post("/groups", async (c) => {
  const who = caller(c);
  const input = validate(z.strictObject({ device_id: id }), await readBody(c));
  const result = await c.get("services").clique.e2ee.createGroup(who, input.device_id);
  if (!result.ok) throw notFound();
  return c.json({ id: result.value.id, epoch: result.value.epoch });
});

const epoch = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

const commitSchema = z.strictObject({
  device_id: id,
  epoch,
  commit: bytes(E2EE_LIMITS.message),
  welcome: bytes(E2EE_LIMITS.message).optional(),
  add_device_ids: z.array(id).max(E2EE_LIMITS.devicesPerCommit).optional(),
  remove_device_ids: z.array(id).max(E2EE_LIMITS.devicesPerCommit).optional(),
});

e2eeApi.post("/groups/:id/commits", async (c) => {
  const who = caller(c);
  const input = validate(commitSchema, await readBody(c));
  const result = await c.get("services").clique.e2ee.submitCommit(who, {
    groupId: c.req.param("id"),
    deviceId: input.device_id,
    epoch: input.epoch,
    commit: input.commit,
    welcome: input.welcome ?? null,
    addDevices: input.add_device_ids ?? [],
    removeDevices: input.remove_device_ids ?? [],
  });
  if (!result.ok) return groupRefusal(c, result);
  return c.json({ epoch: result.epoch });
});

const messageSchema = z.strictObject({
  device_id: id,
  epoch,
  message: bytes(E2EE_LIMITS.message),
  /** A disappearing message's expiry (capped by retention by the core). */
  expires_at: z.iso.datetime({ offset: true }).optional(),
});

e2eeApi.post("/groups/:id/messages", async (c) => {
  const who = caller(c);
  const input = validate(messageSchema, await readBody(c));
  const result = await c.get("services").clique.e2ee.sendGroupMessage(who, {
    groupId: c.req.param("id"),
    deviceId: input.device_id,
    epoch: input.epoch,
    body: input.message,
    ...(input.expires_at ? { expiresAt: new Date(input.expires_at) } : {}),
  });
  if (!result.ok) return groupRefusal(c, result);
  return c.json({});
});

// --- Encrypted attachments ----------------------------------------------------

const blobSchema = z.strictObject({
  device_id: id,
  group_id: id,
  blob: bytes(E2EE_LIMITS.blob),
  expires_at: z.iso.datetime({ offset: true }).optional(),
});

e2eeApi.post("/blobs", async (c) => {
  const who = caller(c);
  const input = validate(blobSchema, await readBody(c));
  const result = await c.get("services").clique.e2ee.uploadBlob(who, {
    groupId: input.group_id,
    deviceId: input.device_id,
    body: input.blob,
    ...(input.expires_at ? { expiresAt: new Date(input.expires_at) } : {}),
  });
  if (!result.ok) {
    if (result.reason === "blob_quota_exceeded") throw problem(result.reason, result.detail);
    throw notFound();
  }
  return c.json({ id: result.value.id, size: result.value.size });
});

e2eeApi.get("/blobs/:id", async (c) => {
  const who = caller(c);
  const q = validate(z.object({ device_id: id }), readQuery(c));
  const result = await c.get("services").clique.e2ee.fetchBlob(who, q.device_id, c.req.param("id"));
  if (!result.ok) throw notFound();
  return c.json({ id: c.req.param("id"), blob: b64(result.value) });
});

// --- Reporting by disclosure --------------------------------------------------

/** A disclosed message's text, and the reporter's comment, at most (in characters). */
const DISCLOSURE_LIMITS = { text: 500, comment: 150 } as const;

const disclosureSchema = z.strictObject({
  device_id: id,
  group_id: id,
  sender_member_id: id,
  sender_device_id: id.optional(),
  text: z.string().min(1).max(DISCLOSURE_LIMITS.text),
  comment: z.string().max(DISCLOSURE_LIMITS.comment).optional(),
});

/**
 * A member reports a message of an encrypted chat by disclosing its
 * plaintext: a moderation report on the sender, whose text says plainly that
 * it is the reporter's disclosure, which the server could not check (it
 * cannot read the chat). The reporter's device must sit in the chat.
 */
e2eeApi.post("/reports", async (c) => {
  const who = caller(c);
  const input = validate(disclosureSchema, await readBody(c));
  const { clique, moderation } = c.get("services");
  if (!(await clique.e2ee.deviceSitsInGroup(who, input.device_id, input.group_id)))
    throw notFound();
  const from = input.sender_device_id ? ` (device ${input.sender_device_id})` : "";
  const comment = [
    `Disclosed by the reporter from an end-to-end encrypted chat: the server cannot read the chat and has not checked this text.`,
    `Chat ${input.group_id}, message from member ${input.sender_member_id}${from}:`,
    `"${input.text}"`,
    ...(input.comment ? [`Reporter's comment: ${input.comment}`] : []),
  ].join("\n");
  const result = await moderation.reports.file(who.member, {
    accountId: input.sender_member_id,
    statusIds: [],
    comment,
    category: "other",
    forward: false,
  });
  if (!result.ok) throw problem(result.reason, result.detail);
  return c.json({ id: result.value.id });
});

// --- A device's mailbox -------------------------------------------------------

const fetchSchema = z.object({
  device_id: id,
  after: z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
  limit: z.coerce.number().int().min(1).max(E2EE_LIMITS.fetchPage).optional(),
});

e2eeApi.get("/messages", async (c) => {
  const who = caller(c);
  const q = validate(fetchSchema, readQuery(c));
  const after = q.after ?? 0;
  const result = await c
    .get("services")
    .clique.e2ee.fetchDeviceMessages(who, q.device_id, after, q.limit);
  if (!result.ok) throw notFound();
  const messages = result.value.map(serializeDelivery);
  return c.json({ messages, cursor: messages.at(-1)?.cursor ?? after });
});
