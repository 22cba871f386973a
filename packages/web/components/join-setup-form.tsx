"use client";

import { useState } from "react";
import { ApiError, api, errorMessage } from "../lib/client";
import { AccountNameFields, NewPasswordFields } from "./account-fields";

/** The first-run form: the Clique's name and its owner's account; the server signs the owner in. */
export function JoinSetupForm({ token }: { token: string }) {
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState(false);
  const [busy, setBusy] = useState(false);

  async function submit(event: React.FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const text = (name: string) => String(form.get(name) ?? "").trim();
    const password = String(form.get("password") ?? "");
    if (password !== String(form.get("password_confirm") ?? "")) {
      setError("The two passwords are not the same. Please type them again.");
      return;
    }
    const cap = Number(text("member_cap") || "50");
    setBusy(true);
    setError(null);
    try {
      await api("/api/v1/clique/setup", {
        json: {
          token,
          name: text("name"),
          ...(text("description") ? { description: text("description") } : {}),
          member_cap: cap,
          username: text("username"),
          ...(text("display_name") ? { display_name: text("display_name") } : {}),
          password,
        },
      });
      window.location.assign("/home");
    } catch (e) {
      if (e instanceof ApiError && e.status === 409) setDone(true);
      else if (e instanceof ApiError && e.status === 403)
        setError(
          "The setup code in this link is not right. Open the link exactly as the server's log prints it.",
        );
      else setError(errorMessage(e));
      setBusy(false);
    }
  }

  if (done) {
    return (
      <p role="alert">
        This Clique was set up meanwhile. <a href="/signin">Sign in</a> instead.
      </p>
    );
  }

  return (
    <form onSubmit={submit} aria-describedby={error ? "setup-error" : undefined}>
      <fieldset className="stack">
        <legend>Your Clique</legend>
        <div className="field">
          <label htmlFor="setup-name">Clique name</label>
          <input id="setup-name" name="name" type="text" maxLength={100} required />
        </div>
        <div className="field">
          <label htmlFor="setup-description">Short description</label>
          <p id="setup-description-hint" className="hint join-hint">
            Optional.
          </p>
          <textarea
            id="setup-description"
            aria-describedby="setup-description-hint"
            name="description"
            maxLength={2000}
            rows={3}
          />
        </div>
        <div className="field">
          <label htmlFor="setup-cap">Member limit</label>
          <p id="setup-cap-hint" className="hint join-hint">
            How many people can join, you included.
          </p>
          <input
            id="setup-cap"
            aria-describedby="setup-cap-hint"
            name="member_cap"
            type="number"
            min={1}
            max={10000}
            defaultValue={50}
            required
          />
        </div>
      </fieldset>
      <fieldset className="stack join-fieldset">
        <legend>Your account (the owner)</legend>
        <AccountNameFields prefix="setup" />
        <NewPasswordFields id="setup-password" name="password" label="Password" />
      </fieldset>
      {error ? (
        <p id="setup-error" className="error" role="alert">
          {error}
        </p>
      ) : null}
      <p>
        <button type="submit" disabled={busy}>
          {busy ? "Creating the Clique…" : "Create the Clique"}
        </button>
      </p>
    </form>
  );
}
