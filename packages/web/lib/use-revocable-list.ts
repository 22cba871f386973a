"use client";

import { useState } from "react";
import { api, errorMessage } from "./client";

/**
 * A list of things the member can take back one by one (sessions, apps,
 * linked identities): the items, which one is being removed, and what the
 * last removal said.
 */
export function useRevocableList<T extends { id: string }>(initial: T[]) {
  const [items, setItems] = useState(initial);
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [message, setMessage] = useState<string | null>(null);

  /** Sends DELETE to `path` (with `json` as its body, if given); on success drops `item` from the list and says `done`. */
  async function remove(item: T, path: string, done: string, json?: unknown): Promise<void> {
    setBusy(item.id);
    setError(null);
    setMessage(null);
    try {
      await api(path, json === undefined ? { method: "DELETE" } : { method: "DELETE", json });
      setItems((list) => list.filter((other) => other.id !== item.id));
      setMessage(done);
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(null);
    }
  }

  return { items, busy, error, message, remove };
}
