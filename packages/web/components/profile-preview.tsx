"use client";

import { useState } from "react";
import { api, errorMessage } from "../lib/client";
import type { Account, Status } from "../lib/types";
import { Feedback } from "./feedback";
import { ProfileHeader } from "./profile-header";
import { StatusCard } from "./status-card";

const VIEWERS = [
  { as: "anonymous", label: "Anyone (not signed in)", who: "anyone who is not signed in" },
  { as: "follower", label: "A follower", who: "a follower" },
  { as: "member", label: "A Clique member", who: "a Clique member" },
] as const;

type As = (typeof VIEWERS)[number]["as"];

/** The member's own profile as someone else would see it (the server decides, as for real). */
export function ProfilePreview() {
  const [as, setAs] = useState<As | null>(null);
  const [preview, setPreview] = useState<{ account: Account; statuses: Status[] } | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const who = VIEWERS.find((v) => v.as === as)?.who ?? "";

  async function show(choice: As) {
    setAs(choice);
    setBusy(true);
    setError(null);
    setPreview(null);
    try {
      setPreview(await api(`/api/v1/clique/profile/preview?as=${choice}`));
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="card profile-preview" aria-labelledby="view-as-heading">
      <h2 id="view-as-heading">View as…</h2>
      <p className="hint">Check what others see of your profile after you save it.</p>
      <fieldset>
        <legend>Show my profile as seen by</legend>
        {VIEWERS.map((v) => (
          <label key={v.as} className="profile-radio">
            <input
              type="radio"
              name="view-as"
              value={v.as}
              checked={as === v.as}
              disabled={busy}
              onChange={() => show(v.as)}
            />{" "}
            {v.label}
          </label>
        ))}
      </fieldset>
      <div aria-live="polite">
        {busy ? <p className="muted">Loading…</p> : null}
        {preview ? (
          <div className="profile-preview-frame">
            <h3>{`This is what ${who} sees`}</h3>
            <ProfileHeader account={preview.account} headingLevel={3} />
            {preview.statuses.length === 0 ? (
              <p className="muted">No posts: {who} sees none of your posts.</p>
            ) : (
              preview.statuses.map((s) => <StatusCard key={s.id} status={s} signedIn={false} />)
            )}
          </div>
        ) : null}
      </div>
      <Feedback error={error} />
    </section>
  );
}
