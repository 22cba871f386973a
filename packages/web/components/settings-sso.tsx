"use client";

import { useState } from "react";
import { api, errorMessage } from "../lib/client";
import { timeAgo } from "../lib/format";
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
  const [identities, setIdentities] = useState(initial);
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [message, setMessage] = useState<string | null>(null);

  async function unlink(identity: LinkedIdentity) {
    setBusy(identity.id);
    setError(null);
    setMessage(null);
    try {
      await api(`/api/v1/clique/oidc/identities/${encodeURIComponent(identity.id)}`, {
        method: "DELETE",
      });
      setIdentities((list) => list.filter((i) => i.id !== identity.id));
      setMessage("Unlinked. That account can no longer sign you in here.");
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(null);
    }
  }

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
