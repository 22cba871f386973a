"use client";

import { useRef, useState } from "react";
import { apiPage, errorMessage } from "../lib/client";
import type { Status } from "../lib/types";
import { useStream } from "../lib/use-stream";
import { Feedback } from "./feedback";
import { StatusCard } from "./status-card";

interface TimelineProps {
  /** The API path of the timeline, without query. */
  endpoint: string;
  /** Extra query for every page (`local=true`...). */
  query?: Record<string, string>;
  /** The first page, rendered on the server. */
  initial: Status[];
  /** `max_id` of the next page, or null when there is none. */
  initialNext: string | null;
  /** The streaming API's stream that carries this timeline's new posts. */
  stream?: "user" | "public:local";
  signedIn: boolean;
  /** The signed-in member's account id (their own posts get Delete). */
  viewerId?: string | undefined;
  /** Whether the viewer moderates (posts get "Remove (moderator)"). */
  canModerate?: boolean | undefined;
  empty: string;
}

/** A list of posts that grows with new ones as they arrive and loads older ones on demand. */
export function Timeline({
  endpoint,
  query,
  initial,
  initialNext,
  stream,
  signedIn,
  viewerId,
  canModerate,
  empty,
}: TimelineProps) {
  const [statuses, setStatuses] = useState(initial);
  const [next, setNext] = useState(initialNext);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const seen = useRef(new Set(initial.map((s) => s.id)));

  const live = useStream(stream && signedIn ? stream : null, ({ event, payload }) => {
    if (event === "update") {
      const status = JSON.parse(payload) as Status;
      if (seen.current.has(status.id)) return;
      seen.current.add(status.id);
      setStatuses((list) => [status, ...list]);
    } else if (event === "delete") {
      setStatuses((list) => list.filter((s) => s.id !== payload && s.reblog?.id !== payload));
    }
  });

  async function loadMore() {
    if (!next) return;
    setLoading(true);
    setError(null);
    try {
      const params = new URLSearchParams({ ...query, max_id: next, limit: "20" });
      const page = await apiPage<Status>(`${endpoint}?${params}`);
      const fresh = page.items.filter((s) => !seen.current.has(s.id));
      for (const s of fresh) seen.current.add(s.id);
      setStatuses((list) => [...list, ...fresh]);
      // A short page is the last one.
      setNext(page.items.length < 20 ? null : page.next);
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setLoading(false);
    }
  }

  return (
    <section aria-label="Posts">
      {stream && signedIn ? (
        <p className="status-meta" aria-live="polite">
          {live === "live"
            ? "Live: new posts appear at the top."
            : live === "offline"
              ? "Offline: reconnecting…"
              : "Connecting…"}
        </p>
      ) : null}
      <div aria-live="polite" aria-relevant="additions">
        {statuses.length === 0 ? <p className="muted">{empty}</p> : null}
        {statuses.map((status) => (
          <StatusCard
            key={status.id}
            status={status}
            signedIn={signedIn}
            viewerId={viewerId}
            canModerate={canModerate}
          />
        ))}
      </div>
      {next ? (
        <button type="button" className="secondary" onClick={loadMore} disabled={loading}>
          {loading ? "Loading…" : "Load older posts"}
        </button>
      ) : null}
      <Feedback error={error} />
    </section>
  );
}
