"use client";

import { useRef, useState } from "react";
import { api, apiPage, errorMessage } from "../lib/client";
import { useStream } from "../lib/use-stream";
import { Feedback } from "./feedback";
import { describe, type NotificationEntry, NotificationItem } from "./notification-item";

interface NotificationListProps {
  /** The first page, rendered on the server. */
  initial: NotificationEntry[];
  /** `max_id` of the next page, or null when there is none. */
  initialNext: string | null;
  /** The id of the last notification the member marked read, if any. */
  lastReadId: string | null;
}

/** Ids are time-sortable (UUIDv7): a later one sorts after. */
const newer = (id: string, than: string | null) => than === null || id > than;

/** The member's notifications: live, with older ones on demand, mark-as-read and clear. */
export function NotificationList({ initial, initialNext, lastReadId }: NotificationListProps) {
  const [items, setItems] = useState(initial);
  const [next, setNext] = useState(initialNext);
  const [readUpTo, setReadUpTo] = useState(lastReadId);
  const [busy, setBusy] = useState<"more" | "read" | "clear" | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const seen = useRef(new Set(initial.map((n) => n.id)));

  const live = useStream("user:notification", ({ event, payload }) => {
    if (event !== "notification") return;
    const n = JSON.parse(payload) as NotificationEntry;
    if (seen.current.has(n.id)) return;
    seen.current.add(n.id);
    setItems((list) => [n, ...list]);
    setNotice(`New: ${describe(n)}`);
  });

  async function loadMore() {
    if (!next) return;
    setBusy("more");
    setError(null);
    try {
      const page = await apiPage<NotificationEntry>(
        `/api/v1/notifications?${new URLSearchParams({ max_id: next, limit: "20" })}`,
      );
      const fresh = page.items.filter((n) => !seen.current.has(n.id));
      for (const n of fresh) seen.current.add(n.id);
      setItems((list) => [...list, ...fresh]);
      setNext(page.next);
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(null);
    }
  }

  async function markAllRead() {
    const newest = items[0];
    if (!newest) return;
    setBusy("read");
    setError(null);
    try {
      await api("/api/v1/markers", { json: { notifications: { last_read_id: newest.id } } });
      setReadUpTo(newest.id);
      setNotice("All notifications are marked as read.");
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(null);
    }
  }

  async function clearAll() {
    if (
      !window.confirm(
        "Clear all your notifications? They disappear from this list for good (the posts themselves stay).",
      )
    )
      return;
    setBusy("clear");
    setError(null);
    try {
      await api("/api/v1/notifications/clear", { method: "POST" });
      setItems([]);
      setNext(null);
      setNotice("Notifications cleared.");
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(null);
    }
  }

  const unread = items.filter((n) => newer(n.id, readUpTo)).length;

  return (
    <section aria-labelledby="notifications-list-heading">
      <h2 id="notifications-list-heading" className="visually-hidden">
        Your notifications
      </h2>
      <div className="row notification-tools">
        <button
          type="button"
          className="secondary"
          onClick={markAllRead}
          disabled={busy !== null || unread === 0}
        >
          {busy === "read" ? "Marking…" : "Mark all as read"}
        </button>
        <button
          type="button"
          className="secondary"
          onClick={clearAll}
          disabled={busy !== null || items.length === 0}
        >
          {busy === "clear" ? "Clearing…" : "Clear all notifications"}
        </button>
        <span className="status-meta">
          {live === "live"
            ? "Live: new ones appear at the top."
            : live === "offline"
              ? "Offline: reconnecting…"
              : "Connecting…"}
        </span>
      </div>
      <p className="visually-hidden" aria-live="polite">
        {notice}
      </p>
      <Feedback error={error} />
      {items.length === 0 ? (
        <p className="muted">
          No notifications. When someone follows you, likes, boosts or mentions your posts, it shows
          up here.
        </p>
      ) : (
        <ul className="notification-list">
          {items.map((n) => (
            <NotificationItem key={n.id} notification={n} unread={newer(n.id, readUpTo)} />
          ))}
        </ul>
      )}
      {next ? (
        <button type="button" className="secondary" onClick={loadMore} disabled={busy !== null}>
          {busy === "more" ? "Loading…" : "Load older notifications"}
        </button>
      ) : null}
    </section>
  );
}
