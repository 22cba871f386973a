"use client";

import { useState } from "react";
import { forgetChatRecord } from "../lib/chat-store";
import { api, errorMessage } from "../lib/client";
import { Feedback } from "./feedback";

/**
 * Ends this browser's session and leaves for the front page. The member's chat
 * device on this browser ends with it (the server retires a device whose
 * session ended), so its keys are deleted here too: nothing of the chats stays
 * behind on a shared computer.
 */
export function SettingsSignOut({ memberId }: { memberId: string }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function signOut() {
    setBusy(true);
    setError(null);
    try {
      await api("/api/v1/clique/sessions/current", { method: "DELETE" });
      await forgetChatRecord(memberId).catch(() => {});
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
