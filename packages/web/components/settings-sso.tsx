"use client";

import { useState } from "react";
import { timeAgo } from "../lib/format";
import { useRevocableList } from "../lib/use-revocable-list";
import { Feedback } from "./feedback";
import type { LinkedIdentity } from "./settings-types";

/** Accounts at the single sign-on provider linked to this member; link another, unlink one. */
export function SettingsSso({
  provider,
  initial,
}: {
  provider: string;
  initial: LinkedIdentity[];
}) {
  const { items: identities, busy, error, message, remove } = useRevocableList(initial);
  // The last linked account goes only with the member's password (the server asks for it).
  const [password, setPassword] = useState("");
  const last = identities.length === 1;

  const unlink = (identity: LinkedIdentity) =>
    remove(
      identity,
      `/api/v1/clique/oidc/identities/${encodeURIComponent(identity.id)}`,
      "Unlinked. That account can no longer sign you in here.",
      last ? { password } : undefined,
    );

  return (
    <div className="stack">
      <p className="muted">Sign in with your {provider} account instead of typing your password.</p>
      {identities.length === 0 ? (
        <p>No {provider} account is linked yet.</p>
      ) : (
        <ul className="settings-list">
          {identities.map((identity) => {
            const label = identity.email ?? `an account at ${hostOf(identity.issuer)}`;
            return (
              <li key={identity.id}>
                <div>
                  <strong>{label}</strong>
                  <p className="muted small">Linked {timeAgo(identity.created_at)}</p>
                </div>
                <button
                  type="button"
                  className="secondary"
                  disabled={busy !== null}
                  aria-label={`Unlink ${label}`}
                  onClick={() => unlink(identity)}
                >
                  {busy === identity.id ? "Unlinking…" : "Unlink"}
                </button>
              </li>
            );
          })}
        </ul>
      )}
      {last ? (
        <div className="field">
          <label htmlFor="sso-unlink-password">
            Your password, to unlink your last linked account
          </label>
          <p id="sso-unlink-password-hint" className="hint">
            Without a linked account you sign in with your password only. If you joined with{" "}
            {provider}, link another account first, or ask the owner to set you a password.
          </p>
          <input
            id="sso-unlink-password"
            aria-describedby="sso-unlink-password-hint"
            type="password"
            autoComplete="current-password"
            value={password}
            onChange={(event) => setPassword(event.target.value)}
          />
        </div>
      ) : null}
      <Feedback error={error} message={message} />
      <p>
        <a className="button secondary" href="/auth/oidc/start?intent=link">
          Link a {provider} account
        </a>
      </p>
    </div>
  );
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}
