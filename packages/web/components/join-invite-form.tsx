"use client";

import { useState } from "react";
import { ApiError, api, errorMessage } from "../lib/client";

/**
 * One-step sign-up with an invite: the account is made, then the new member
 * is signed in (the server sets the session cookie on redemption; if it did
 * not, they sign in with the password just chosen). With `oidc`, the
 * identity proven through single sign-on stands in for a password.
 */
export function JoinInviteForm({ code, oidc }: { code: string; oidc: boolean }) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: React.FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const username = String(form.get("username") ?? "")
      .trim()
      .replace(/^@/, "");
    const displayName = String(form.get("display_name") ?? "").trim();
    const password = String(form.get("password") ?? "");
    if (!oidc && password !== String(form.get("password_confirm") ?? "")) {
      setError("The two passwords are not the same. Please type them again.");
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await api("/api/v1/clique/invites/redeem", {
        json: {
          code,
          username,
          ...(displayName ? { display_name: displayName } : {}),
          ...(oidc ? { oidc: true } : { password }),
        },
      });
    } catch (e) {
      setError(redeemError(e));
      setBusy(false);
      return;
    }
    try {
      const signedIn = await api("/api/v1/accounts/verify_credentials").then(
        () => true,
        () => false,
      );
      if (!signedIn && !oidc)
        await api("/api/v1/clique/sessions", { json: { username, password } });
      window.location.assign("/home");
    } catch {
      // The account exists: only signing in failed, which the sign-in page can retry.
      window.location.assign("/signin?return_to=/home");
    }
  }

  return (
    <form onSubmit={submit} className="stack" aria-describedby={error ? "join-error" : undefined}>
      <div className="field">
        <label htmlFor="join-username">Username</label>
        <p id="join-username-hint" className="hint join-hint">
          Letters, digits and _; people see it as @name.
        </p>
        <input
          id="join-username"
          aria-describedby="join-username-hint"
          name="username"
          type="text"
          autoComplete="username"
          autoCapitalize="none"
          spellCheck={false}
          maxLength={30}
          required
        />
      </div>
      <div className="field">
        <label htmlFor="join-display-name">Display name</label>
        <p id="join-display-name-hint" className="hint join-hint">
          Optional: the name people see.
        </p>
        <input
          id="join-display-name"
          aria-describedby="join-display-name-hint"
          name="display_name"
          type="text"
          autoComplete="name"
          maxLength={30}
        />
      </div>
      {oidc ? null : (
        <>
          <div className="field">
            <label htmlFor="join-password">Password</label>
            <p id="join-password-hint" className="hint join-hint">
              At least 10 characters.
            </p>
            <input
              id="join-password"
              aria-describedby="join-password-hint"
              name="password"
              type="password"
              autoComplete="new-password"
              minLength={10}
              required
            />
          </div>
          <div className="field">
            <label htmlFor="join-password-confirm">Password again</label>
            <input
              id="join-password-confirm"
              name="password_confirm"
              type="password"
              autoComplete="new-password"
              minLength={10}
              required
            />
          </div>
        </>
      )}
      {error ? (
        <p id="join-error" className="error" role="alert">
          {error}
        </p>
      ) : null}
      <button type="submit" disabled={busy}>
        {busy ? "Joining…" : "Join"}
      </button>
    </form>
  );
}

/** The server's own words, with the invite's state said plainly. */
function redeemError(error: unknown): string {
  if (!(error instanceof ApiError)) return errorMessage(error);
  switch (error.code) {
    case "invite_expired":
      return "This invite has expired. Ask the person who sent it for a new link.";
    case "invite_exhausted":
      return "This invite has been used up. Ask the person who sent it for a new link.";
    case "invite_revoked":
      return "This invite was withdrawn. Ask the person who sent it for a new link.";
    default:
      return error.message;
  }
}
