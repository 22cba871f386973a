"use client";

import { useState } from "react";
import { api, errorMessage } from "../lib/client";
import { AUDIENCE_LABELS } from "../lib/format";
import type { Audience } from "../lib/types";

/** The audiences a new post can start with (circles and named people are chosen per post). */
const CHOICES = ["public", "unlisted", "followers", "friends", "clique"] as const;

/** Who new posts go to unless the member picks otherwise in the compose box. */
export function SettingsAudience({ current }: { current: Audience }) {
  const [saved, setSaved] = useState<Audience>(current);
  const [error, setError] = useState<string | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: React.FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const audience = new FormData(event.currentTarget).get("audience") as Audience | null;
    if (!audience) return;
    setBusy(true);
    setError(null);
    setMessage(null);
    try {
      await api("/api/v1/accounts/update_credentials", {
        method: "PATCH",
        json: { source: { audience } },
      });
      setSaved(audience);
      setMessage(`Saved. New posts now start as “${AUDIENCE_LABELS[audience].label}”.`);
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form
      onSubmit={submit}
      className="stack"
      aria-describedby={error ? "audience-error" : undefined}
    >
      <fieldset>
        <legend>New posts start out visible to</legend>
        {CHOICES.map((choice) => (
          <div className="settings-choice" key={choice}>
            <input
              id={`audience-${choice}`}
              type="radio"
              name="audience"
              value={choice}
              defaultChecked={saved === choice}
            />
            <label htmlFor={`audience-${choice}`}>
              {AUDIENCE_LABELS[choice].label}{" "}
              <span className="hint">{AUDIENCE_LABELS[choice].who}</span>
            </label>
          </div>
        ))}
      </fieldset>
      <p className="muted small">You can still choose a different audience for each post.</p>
      {error ? (
        <p id="audience-error" className="error" role="alert">
          {error}
        </p>
      ) : null}
      <p aria-live="polite" className="success">
        {message}
      </p>
      <button type="submit" disabled={busy}>
        {busy ? "Saving…" : "Save default audience"}
      </button>
    </form>
  );
}
