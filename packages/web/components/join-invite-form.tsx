"use client";

import { useState } from "react";
import { ApiError, api, errorMessage } from "../lib/client";
import { AccountNameFields, NewPasswordFields } from "./account-fields";

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
      <AccountNameFields prefix="join" />
      {oidc ? null : <NewPasswordFields id="join-password" name="password" label="Password" />}
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
