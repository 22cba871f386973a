"use client";

import { useState } from "react";
import { api, errorMessage } from "../lib/client";
import { displayName, profileHref } from "../lib/format";
import type { Account } from "../lib/types";
import { Feedback } from "./feedback";
import { FollowButton, type Relationship } from "./profile-follow-button";

/**
 * Finds an account by handle (`@name@server`, `name@server`) or profile
 * address, asking the server to fetch it from its own server if it is new.
 */
export async function resolveAccount(query: string): Promise<Account | null> {
  const q = query.trim();
  if (!q) return null;
  const params = new URLSearchParams({ q, resolve: "true", type: "accounts", limit: "5" });
  const result = await api<{ accounts: Account[] }>(`/api/v2/search?${params}`);
  const wanted = q.replace(/^@/, "").toLowerCase();
  return result.accounts.find((a) => a.acct.toLowerCase() === wanted) ?? result.accounts[0] ?? null;
}

/** A small line for an account: avatar, name, handle. */
export function PersonLine({ account }: { account: Account }) {
  return (
    <span className="person-line">
      {/* biome-ignore lint/performance/noImgElement: avatars are small files of this server */}
      <img className="avatar" src={account.avatar} alt="" width={44} height={44} />
      <span>
        <a className="status-author" href={profileHref(account)}>
          {displayName(account)}
        </a>
        <br />
        <span className="status-meta">@{account.acct}</span>
      </span>
    </span>
  );
}

/** "Follow someone elsewhere": find the account first, then follow it. */
export function FollowElsewhere() {
  const [query, setQuery] = useState("");
  const [found, setFound] = useState<{
    account: Account;
    relationship: Relationship | null;
  } | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function find(event: React.FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    setFound(null);
    try {
      const account = await resolveAccount(query);
      if (!account) {
        setError(
          "No one was found with that address. Check the spelling, like @name@example.social.",
        );
        return;
      }
      const relationships = await api<Relationship[]>(
        `/api/v1/accounts/relationships?id[]=${encodeURIComponent(account.id)}`,
      ).catch(() => []);
      setFound({ account, relationship: relationships[0] ?? null });
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="stack">
      <form onSubmit={find} className="stack">
        <div className="field">
          <label htmlFor="follow-elsewhere">
            Handle or profile address{" "}
            <span className="hint">
              (like @name@example.social or https://example.social/@name)
            </span>
          </label>
          <input
            id="follow-elsewhere"
            type="text"
            autoComplete="off"
            autoCapitalize="none"
            spellCheck={false}
            required
            value={query}
            onChange={(e) => setQuery(e.target.value)}
          />
        </div>
        <button type="submit" disabled={busy}>
          {busy ? "Looking…" : "Find"}
        </button>
      </form>
      <Feedback error={error} />
      <div aria-live="polite">
        {found ? (
          <div className="card person-found">
            <PersonLine account={found.account} />
            {found.account.note ? (
              <div
                className="status-content"
                // biome-ignore lint/security/noDangerouslySetInnerHtml: sanitized by the server
                dangerouslySetInnerHTML={{ __html: found.account.note }}
              />
            ) : null}
            <FollowButton
              accountId={found.account.id}
              name={displayName(found.account)}
              initial={found.relationship}
            />
          </div>
        ) : null}
      </div>
    </div>
  );
}
