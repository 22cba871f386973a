"use client";

import { useState } from "react";
import { api, errorMessage } from "../lib/client";
import { Feedback } from "./feedback";

/** Ends this browser's session and leaves for the front page. */
export function SettingsSignOut() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function signOut() {
    setBusy(true);
    setError(null);
    try {
      await api("/api/v1/clique/sessions/current", { method: "DELETE" });
      window.location.assign("/");
    } catch (e) {
      setError(errorMessage(e));
      setBusy(false);
    }
  }

  return (
    <div className="stack">
      <Feedback error={error} />
      <button type="button" disabled={busy} onClick={signOut}>
        {busy ? "Signing out…" : "Sign out"}
      </button>
    </div>
  );
}
