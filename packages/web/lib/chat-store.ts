/**
 * Where this browser keeps its chat device: IndexedDB, one record per member
 * who signed in here (a second member on the same browser gets a device of
 * their own). The record holds the device's private keys and group secrets,
 * so it never leaves the browser: the server sees none of it.
 */
import type { DeviceExport } from "@clique/client";

/** Everything this browser keeps for one member's chats. */
export interface ChatRecord {
  memberId: string;
  device: DeviceExport;
  /** Group id → how many messages of the chat the member has seen here. */
  reads: Record<string, number>;
  /** Member id → the safety number the member compared and marked verified. */
  verified: Record<string, string>;
}

const DB_NAME = "clique-chats";
const STORE = "devices";

function open(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, 1);
    request.onupgradeneeded = () => {
      if (!request.result.objectStoreNames.contains(STORE))
        request.result.createObjectStore(STORE, { keyPath: "memberId" });
    };
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error ?? new Error("IndexedDB could not be opened"));
  });
}

/** Runs one request in a transaction and waits for the transaction to commit. */
async function inStore<T>(
  mode: IDBTransactionMode,
  act: (store: IDBObjectStore) => IDBRequest<T>,
): Promise<T> {
  const db = await open();
  try {
    return await new Promise<T>((resolve, reject) => {
      const tx = db.transaction(STORE, mode);
      const request = act(tx.objectStore(STORE));
      tx.oncomplete = () => resolve(request.result);
      tx.onerror = () => reject(tx.error ?? new Error("IndexedDB refused the change"));
      tx.onabort = () => reject(tx.error ?? new Error("IndexedDB dropped the change"));
    });
  } finally {
    db.close();
  }
}

/** The member's record on this browser, if there is one. */
export async function loadChatRecord(memberId: string): Promise<ChatRecord | null> {
  const found = await inStore("readonly", (store) => store.get(memberId));
  return (found as ChatRecord | undefined) ?? null;
}

/** Saves the member's record (replacing the last one whole). */
export async function saveChatRecord(record: ChatRecord): Promise<void> {
  await inStore("readwrite", (store) => store.put(record));
}

/** Forgets the member's keys and chats on this browser. */
export async function forgetChatRecord(memberId: string): Promise<void> {
  await inStore("readwrite", (store) => store.delete(memberId));
}
