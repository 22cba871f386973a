"use client";

import { useState } from "react";
import { api, errorMessage } from "../lib/client";
import { NewPasswordFields } from "./account-fields";

/** Change one's password; other sessions are signed out unless the member keeps them. */
export function SettingsPassword() {
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: React.FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const element = event.currentTarget;
    const form = new FormData(element);
    const next = String(form.get("new_password") ?? "");
    setDone(null);
    if (next !== String(form.get("new_password_confirm") ?? "")) {
      setError("The two new passwords are not the same. Please type them again.");
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const result = await api<{ revoked_sessions: number }>("/api/v1/clique/password", {
        json: {
          current_password: String(form.get("current_password") ?? ""),
          new_password: next,
          keep_other_sessions: form.get("keep_other_sessions") === "on",
        },
      });
      element.reset();
      const others = result.revoked_sessions;
      setDone(
        others > 0
          ? `Your password is changed. ${others === 1 ? "1 other session was" : `${others} other sessions were`} signed out.`
          : "Your password is changed.",
      );
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
      aria-describedby={error ? "password-error" : undefined}
    >
      <div className="field">
        <label htmlFor="current-password">Current password</label>
        <input
          id="current-password"
          name="current_password"
          type="password"
          autoComplete="current-password"
          required
        />
      </div>
      <NewPasswordFields id="new-password" name="new_password" label="New password" />
      <div className="settings-check">
        <input id="keep-other-sessions" name="keep_other_sessions" type="checkbox" />
        <label htmlFor="keep-other-sessions">Keep my other devices signed in</label>
      </div>
      {error ? (
        <p id="password-error" className="error" role="alert">
          {error}
        </p>
      ) : null}
      <p aria-live="polite" className="success">
        {done}
      </p>
      <button type="submit" disabled={busy}>
        {busy ? "Changing password…" : "Change password"}
      </button>
    </form>
  );
}
