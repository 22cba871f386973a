"use client";

/**
 * This browser as one of the member's chat devices (issue 15): restored from
 * IndexedDB, or registered with the server the first time; live over the
 * streaming connection; saved after everything that changes it.
 *
 * One tab at a time runs the device (a Web Lock per member): two tabs
 * ratcheting the same MLS state would each spend keys the other does not
 * know of. Other tabs say so and wait for the lock.
 */
import {
  type Alert,
  ApiError,
  ChatDevice,
  DeliveryApi,
  type DeviceExport,
  DirectoryAlarm,
  type WireSecurityPolicy,
} from "@clique/client";
import { useCallback, useEffect, useRef, useState } from "react";
import { type ChatRecord, forgetChatRecord, loadChatRecord, saveChatRecord } from "./chat-store";
import { deviceName } from "./format";

/** How the device stands. */
export type ChatDeviceState =
  | { state: "starting"; step: string }
  | { state: "elsewhere" }
  | { state: "unsupported"; why: string }
  | { state: "failed"; error: string }
  /** The server no longer knows this browser's device: removed elsewhere, or its sign-in ended. */
  | { state: "removed" }
  | { state: "ready" };

/** What the chat screens get: the device, this browser's own notes, and a way to act. */
export interface ChatSession {
  status: ChatDeviceState;
  device: ChatDevice | null;
  api: DeliveryApi | null;
  /** The server's declared policy, as fetched at start (checked by the device). */
  policy: WireSecurityPolicy | null;
  /** Bumped after every change: screens re-read the device. */
  version: number;
  reads: Record<string, number>;
  verified: Record<string, string>;
  /** Runs an operation on the device, then saves and re-renders. */
  run<T>(operation: (device: ChatDevice) => Promise<T>): Promise<T>;
  markRead(groupId: string, count: number): void;
  setVerified(memberId: string, digits: string | null): void;
  /** Forgets this browser's keys and chats (after removing the device). */
  forget(): Promise<void>;
  /** Makes this browser a new device (after it was removed). */
  setUpAgain(): void;
}

/** What the browser lacks for encrypted chats, or null. */
function missingSupport(): string | null {
  if (typeof indexedDB === "undefined") return "this browser keeps no local storage (IndexedDB)";
  if (!globalThis.crypto?.subtle) return "this page is not on a secure connection (HTTPS)";
  if (!navigator.locks) return "this browser has no Web Locks";
  return null;
}

/** Is this refusal the server no longer knowing this device (removed, or its sign-in ended)? */
function deviceGone(error: unknown): boolean {
  return error instanceof ApiError && error.status === 404 && error.code === "not_found";
}

export function useChatDevice(memberId: string): ChatSession {
  const [status, setStatus] = useState<ChatDeviceState>({ state: "starting", step: "Opening" });
  const [version, setVersion] = useState(0);
  // Bumped to start over with a new device.
  const [generation, setGeneration] = useState(0);
  const [policy, setPolicy] = useState<WireSecurityPolicy | null>(null);
  const device = useRef<ChatDevice | null>(null);
  const api = useRef<DeliveryApi | null>(null);
  const notes = useRef<Pick<ChatRecord, "reads" | "verified">>({ reads: {}, verified: {} });
  const saving = useRef<Promise<void>>(Promise.resolve());

  /** Writes the record with this device state, after the writes before it; fails if it failed. */
  const write = useCallback(
    (data: DeviceExport): Promise<void> => {
      const record: ChatRecord = { memberId, device: data, ...notes.current };
      const done = saving.current.then(() => saveChatRecord(record));
      saving.current = done.catch(() => {});
      return done;
    },
    [memberId],
  );

  /** Saves the device as it is now and re-renders the screens. */
  const save = useCallback(() => {
    const current = device.current;
    if (!current) return Promise.resolve();
    setVersion((v) => v + 1);
    return write(current.export()).catch(() => {});
  }, [write]);

  // biome-ignore lint/correctness/useExhaustiveDependencies: a new generation starts the device over
  useEffect(() => {
    const lacking = missingSupport();
    if (lacking) {
      setStatus({ state: "unsupported", why: lacking });
      return;
    }
    let closed = false;
    let release: () => void = () => {};
    let stream: { close(): void } | null = null;
    let tick: ReturnType<typeof setInterval> | undefined;
    let poll: ReturnType<typeof setInterval> | undefined;

    const start = async () => {
      const deliveryApi = new DeliveryApi({ origin: window.location.origin });
      api.current = deliveryApi;
      const record = await loadChatRecord(memberId);
      let current: ChatDevice;
      if (record) {
        notes.current = { reads: record.reads ?? {}, verified: record.verified ?? {} };
        current = ChatDevice.restore(deliveryApi, record.device);
        // Saved before it acknowledges, sends or commits (the device says when).
        current.setPersistence(write);
      } else {
        setStatus({ state: "starting", step: "Making this browser's keys" });
        current = await ChatDevice.register(deliveryApi, deviceName(navigator.userAgent));
        current.setPersistence(write);
        await current.publishKeyPackages();
      }
      device.current = current;
      await save();
      setStatus({ state: "starting", step: "Checking the key directory" });
      try {
        await current.sync();
      } catch (error) {
        if (!deviceGone(error)) throw error;
        // Removed from another device, or the sign-in it was made under ended. What it held
        // cannot be read again (MLS keys move on): the member decides whether this browser
        // becomes a new device (a removed device must not come back by itself).
        current.setPersistence(null);
        device.current = null;
        await saving.current;
        await forgetChatRecord(memberId);
        setStatus({ state: "removed" });
        return;
      }
      if (closed) return;
      setPolicy(await deliveryApi.securityPolicy().catch(() => null));
      await current.checkPolicy().catch(() => []);
      await save();
      stream = await current.live(
        () => void save(),
        (error) => {
          // A directory that stopped extending what was verified stops the chats; the rest
          // (a message that could not be read) is in the device's warnings.
          if (error instanceof DirectoryAlarm) fail(error);
          void save();
        },
      );
      tick = setInterval(() => {
        if (current.expire() > 0) void save();
      }, 5_000);
      // The stream is not reopened when it drops: a slow poll catches what it would have said.
      poll = setInterval(() => {
        current.sync().then(
          () => save(),
          () => {},
        );
      }, 30_000);
      if (!closed) setStatus({ state: "ready" });
      else {
        stream.close();
        clearInterval(tick);
        clearInterval(poll);
      }
    };

    const fail = (error: unknown) =>
      setStatus({
        state: "failed",
        error:
          error instanceof DirectoryAlarm
            ? `The server's key directory does not match what this browser verified before: ${error.message}. Do not trust this server's chats until an administrator explains it.`
            : error instanceof Error
              ? error.message
              : "The chats could not start.",
      });
    // Held until this screen closes; the device runs while it is held.
    const hold = (lock: Lock | null) =>
      lock && !closed
        ? new Promise<void>((resolve) => {
            release = resolve;
            start().catch(fail);
          })
        : undefined;
    const lockName = `clique-chats:${memberId}`;
    const waiting = new AbortController();
    void navigator.locks.request(lockName, { ifAvailable: true }, (lock) => {
      if (lock) return hold(lock);
      setStatus({ state: "elsewhere" });
      // Taken over when the other tab lets go.
      navigator.locks.request(lockName, { signal: waiting.signal }, hold).catch(() => {});
    });
    return () => {
      closed = true;
      waiting.abort();
      stream?.close();
      if (tick) clearInterval(tick);
      if (poll) clearInterval(poll);
      release();
    };
  }, [memberId, save, write, generation]);

  const run = useCallback(
    async <T>(operation: (d: ChatDevice) => Promise<T>): Promise<T> => {
      const current = device.current;
      if (!current) throw new Error("The chats have not started yet.");
      try {
        return await operation(current);
      } finally {
        await save();
      }
    },
    [save],
  );

  const markRead = useCallback(
    (groupId: string, count: number) => {
      if (notes.current.reads[groupId] === count) return;
      notes.current = { ...notes.current, reads: { ...notes.current.reads, [groupId]: count } };
      void save();
    },
    [save],
  );

  const setVerified = useCallback(
    (contact: string, digits: string | null) => {
      const verified = { ...notes.current.verified };
      if (digits) verified[contact] = digits;
      else delete verified[contact];
      notes.current = { ...notes.current, verified };
      void save();
    },
    [save],
  );

  const forget = useCallback(async () => {
    device.current?.setPersistence(null);
    device.current = null;
    await saving.current;
    await forgetChatRecord(memberId);
  }, [memberId]);

  const setUpAgain = useCallback(() => {
    setStatus({ state: "starting", step: "Opening" });
    setGeneration((g) => g + 1);
  }, []);

  return {
    status,
    device: device.current,
    api: api.current,
    policy,
    version,
    reads: notes.current.reads,
    verified: notes.current.verified,
    run,
    markRead,
    setVerified,
    forget,
    setUpAgain,
  };
}

/** The alerts worth a member's attention, newest first. */
export function alertsOf(device: ChatDevice | null): Alert[] {
  return device ? [...device.alerts].reverse() : [];
}
