"use client";

import { useState } from "react";
import { api, errorMessage } from "../lib/client";
import { Feedback } from "./feedback";

/** The parts of Mastodon's Relationship this button reads. */
export interface Relationship {
  id: string;
  following: boolean;
  requested: boolean;
  followed_by: boolean;
  blocking: boolean;
}

/** Follow, unfollow, or take back a follow request. */
export function FollowButton({
  accountId,
  name,
  initial,
}: {
  accountId: string;
  name: string;
  initial: Relationship | null;
}) {
  const [relationship, setRelationship] = useState<Relationship | null>(initial);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const following = relationship?.following ?? false;
  const requested = relationship?.requested ?? false;

  async function toggle() {
    setBusy(true);
    setError(null);
    try {
      const action = following || requested ? "unfollow" : "follow";
      setRelationship(
        await api<Relationship>(`/api/v1/accounts/${accountId}/${action}`, { method: "POST" }),
      );
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  }

  if (relationship?.blocking) return <p className="muted">You blocked {name}.</p>;
  return (
    <div className="row profile-actions">
      <button
        type="button"
        className={following || requested ? "secondary" : undefined}
        onClick={toggle}
        disabled={busy}
        aria-busy={busy}
      >
        {following ? "Unfollow" : requested ? "Cancel follow request" : "Follow"}
      </button>
      <span className="status-meta" aria-live="polite">
        {requested
          ? `Waiting for ${name} to accept.`
          : relationship?.followed_by
            ? "Follows you."
            : ""}
      </span>
      <Feedback error={error} />
    </div>
  );
}
