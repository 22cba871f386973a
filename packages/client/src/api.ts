/**
 * The server's e2ee API (`/api/v1/e2ee`), as the client sees it: the
 * delivery service and the key directory. Everything the server returns is
 * taken as a claim to check, never as truth (see `directory.ts`).
 */
import { fromBase64, toBase64 } from "./bytes.ts";

/** A refusal from the server. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  /** For `epoch_conflict` (409): the group's current epoch. */
  readonly epoch: number | undefined;

  constructor(status: number, code: string, message: string, epoch?: number) {
    super(`${status} ${code}: ${message}`);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.epoch = epoch;
  }
}

/** A directory entry as the server sends it. */
export interface WireDirectoryEntry {
  seq: number;
  member_id: string;
  device_id: string;
  signature_key: string;
  action: "add" | "remove";
  prev_hash: string;
  hash: string;
  created_at: string;
}

/** What `/.well-known/clique-security` declares (a claim the client checks). */
export interface WireSecurityPolicy {
  version: number;
  ciphersuites: string[];
  retention_days: number;
  one_commit_per_epoch: boolean;
  stores: string[];
  never_stores: string[];
  key_directory: { url: string; head: { seq: number; hash: string } | null };
  /** The web client's published bundle hash (absent or null: the server has no web build). */
  web_client?: {
    bundle_sha256: string;
    build_id: string;
    manifest: string;
    integrity: string;
  } | null;
}

/** A message waiting for a device. */
export interface WireDelivery {
  cursor: number;
  group_id: string;
  kind: "commit" | "welcome" | "application";
  epoch: number;
  sender_device_id: string;
  body: Uint8Array;
}

/** One of the member's own devices, as the server lists it. */
export interface OwnDevice {
  id: string;
  name: string;
  signatureKey: Uint8Array;
  /** The session or token of the request is the one this device is bound to. */
  current: boolean;
  createdAt: string;
}

/** A KeyPackage claimed for one device of a member. */
export interface ClaimedKeyPackage {
  memberId: string;
  deviceId: string;
  keyPackage: Uint8Array;
}

/**
 * Where the server is and who the client is there: a session or token of one
 * member, or — in the web UI, `token` left out — the browser's own session
 * cookie on the same origin.
 */
export interface ServerAccess {
  origin: string;
  token?: string;
  fetch?: typeof fetch;
}

/** Calls to the e2ee API as one member's session or token. */
export class DeliveryApi {
  private readonly access: ServerAccess;

  constructor(access: ServerAccess) {
    this.access = access;
  }

  /** The headers that say who is asking: the bearer token, or none (the cookie goes by itself). */
  private who(): Record<string, string> {
    return this.access.token ? { authorization: `Bearer ${this.access.token}` } : {};
  }

  /** `fetch` with the caller's credentials: a token never travels with a cookie. */
  private request(url: string, init: RequestInit): Promise<Response> {
    const doFetch = this.access.fetch ?? fetch;
    return doFetch(url, {
      ...init,
      credentials: this.access.token ? "omit" : "same-origin",
      headers: { accept: "application/json", ...this.who(), ...init.headers },
    });
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await this.request(`${this.access.origin}/api/v1/e2ee${path}`, {
      method,
      headers: body !== undefined ? { "content-type": "application/json" } : {},
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await response.text();
    let parsed: Record<string, unknown> = {};
    try {
      parsed = JSON.parse(text);
    } catch {
      // Not JSON: the status says enough.
    }
    if (!response.ok)
      throw new ApiError(
        response.status,
        String(parsed.code ?? "error"),
        String(parsed.error ?? text.slice(0, 200)),
        typeof parsed.epoch === "number" ? parsed.epoch : undefined,
      );
    return parsed as T;
  }

  /**
   * Opens the server's streaming socket (the `user` stream) as this session
   * or token; the token travels as the subprotocol, not in the URL.
   */
  openStream(): WebSocket {
    const url = `${this.access.origin.replace(/^http/, "ws")}/api/v1/streaming?stream=user`;
    return this.access.token ? new WebSocket(url, [this.access.token]) : new WebSocket(url);
  }

  /** The server's declared security policy (`/.well-known/clique-security`), as sent. */
  async securityPolicy(): Promise<WireSecurityPolicy> {
    const response = await this.request(`${this.access.origin}/.well-known/clique-security`, {});
    if (!response.ok)
      throw new ApiError(response.status, "error", "The security policy could not be fetched");
    return (await response.json()) as WireSecurityPolicy;
  }

  /** Registers a device with its Ed25519 public key; its id. */
  async registerDevice(
    name: string,
    signatureKey: Uint8Array,
  ): Promise<{ id: string; memberId: string }> {
    const r = await this.call<{ id: string; member_id: string }>("POST", "/devices", {
      name,
      signature_key: toBase64(signatureKey),
    });
    return { id: r.id, memberId: r.member_id };
  }

  /** The member's devices, as the server lists them (names and dates are its claims). */
  async listOwnDevices(): Promise<OwnDevice[]> {
    const r = await this.call<
      { id: string; name: string; signature_key: string; current: boolean; created_at: string }[]
    >("GET", "/devices");
    return r.map((d) => ({
      id: d.id,
      name: d.name,
      signatureKey: fromBase64(d.signature_key),
      current: d.current,
      createdAt: d.created_at,
    }));
  }

  /** Removes one of the member's devices. */
  async removeDevice(deviceId: string): Promise<void> {
    await this.call("DELETE", `/devices/${encodeURIComponent(deviceId)}`);
  }

  /** Uploads KeyPackages (MLS-encoded), and a last-resort one. */
  async uploadKeyPackages(
    deviceId: string,
    keyPackages: readonly Uint8Array[],
    lastResort?: Uint8Array,
  ): Promise<number> {
    const r = await this.call<{ waiting: number }>(
      "POST",
      `/devices/${encodeURIComponent(deviceId)}/key_packages`,
      {
        key_packages: keyPackages.map(toBase64),
        ...(lastResort ? { last_resort: toBase64(lastResort) } : {}),
      },
    );
    return r.waiting;
  }

  /** One KeyPackage for each device of these members (consumed on the server). */
  async claimKeyPackages(
    deviceId: string,
    memberIds: readonly string[],
  ): Promise<ClaimedKeyPackage[]> {
    const r = await this.call<{
      key_packages: { member_id: string; device_id: string; key_package: string }[];
    }>("POST", "/key_packages/claim", { device_id: deviceId, member_ids: memberIds });
    return r.key_packages.map((k) => ({
      memberId: k.member_id,
      deviceId: k.device_id,
      keyPackage: fromBase64(k.key_package),
    }));
  }

  /** Directory entries from `from` on (all pages). */
  async directory(from: number): Promise<WireDirectoryEntry[]> {
    const all: WireDirectoryEntry[] = [];
    let next = Math.max(1, from);
    for (;;) {
      const r = await this.call<{ entries: WireDirectoryEntry[] }>(
        "GET",
        `/directory?from=${next}&limit=500`,
      );
      all.push(...r.entries);
      if (r.entries.length < 500) return all;
      next = r.entries.at(-1)!.seq + 1;
    }
  }

  /** Starts a group on the server; its id. */
  async createGroup(deviceId: string): Promise<string> {
    return (await this.call<{ id: string }>("POST", "/groups", { device_id: deviceId })).id;
  }

  /** Submits a Commit ending `epoch`; an `ApiError` with code `epoch_conflict` if another won. */
  async commit(
    groupId: string,
    input: {
      deviceId: string;
      epoch: number;
      commit: Uint8Array;
      welcome?: Uint8Array;
      addDeviceIds?: readonly string[];
      removeDeviceIds?: readonly string[];
    },
  ): Promise<number> {
    const r = await this.call<{ epoch: number }>(
      "POST",
      `/groups/${encodeURIComponent(groupId)}/commits`,
      {
        device_id: input.deviceId,
        epoch: input.epoch,
        commit: toBase64(input.commit),
        ...(input.welcome ? { welcome: toBase64(input.welcome) } : {}),
        ...(input.addDeviceIds ? { add_device_ids: input.addDeviceIds } : {}),
        ...(input.removeDeviceIds ? { remove_device_ids: input.removeDeviceIds } : {}),
      },
    );
    return r.epoch;
  }

  /**
   * Sends an application message of `epoch`; `expiresAt` (a disappearing
   * message) tells the server when to stop keeping it.
   */
  async send(
    groupId: string,
    deviceId: string,
    epoch: number,
    message: Uint8Array,
    expiresAt?: Date,
  ): Promise<void> {
    await this.call("POST", `/groups/${encodeURIComponent(groupId)}/messages`, {
      device_id: deviceId,
      epoch,
      message: toBase64(message),
      ...(expiresAt ? { expires_at: expiresAt.toISOString() } : {}),
    });
  }

  /** Uploads an encrypted attachment for a group; the blob's id. */
  async uploadBlob(
    groupId: string,
    deviceId: string,
    blob: Uint8Array,
    expiresAt?: Date,
  ): Promise<string> {
    const r = await this.call<{ id: string }>("POST", "/blobs", {
      device_id: deviceId,
      group_id: groupId,
      blob: toBase64(blob),
      ...(expiresAt ? { expires_at: expiresAt.toISOString() } : {}),
    });
    return r.id;
  }

  /** An encrypted attachment's bytes, for a device of its group. */
  async fetchBlob(blobId: string, deviceId: string): Promise<Uint8Array> {
    const r = await this.call<{ blob: string }>(
      "GET",
      `/blobs/${encodeURIComponent(blobId)}?device_id=${encodeURIComponent(deviceId)}`,
    );
    return fromBase64(r.blob);
  }

  /**
   * Reports a chat message to the moderators by disclosing its text (the
   * report says it is the reporter's disclosure); the report's id.
   */
  async reportDisclosure(input: {
    deviceId: string;
    groupId: string;
    senderMemberId: string;
    senderDeviceId: string;
    text: string;
    comment?: string;
  }): Promise<string> {
    const r = await this.call<{ id: string }>("POST", "/reports", {
      device_id: input.deviceId,
      group_id: input.groupId,
      sender_member_id: input.senderMemberId,
      sender_device_id: input.senderDeviceId,
      text: input.text,
      ...(input.comment ? { comment: input.comment } : {}),
    });
    return r.id;
  }

  /** What waits for the device after `after` (which it acknowledges). */
  async fetchMessages(
    deviceId: string,
    after: number,
  ): Promise<{ messages: WireDelivery[]; cursor: number }> {
    const r = await this.call<{
      messages: (Omit<WireDelivery, "body"> & { body: string })[];
      cursor: number;
    }>("GET", `/messages?device_id=${encodeURIComponent(deviceId)}&after=${after}`);
    return {
      cursor: r.cursor,
      messages: r.messages.map((m) => ({ ...m, body: fromBase64(m.body) })),
    };
  }
}
