"use client";

import { useState } from "react";
import { api, apiPage, errorMessage } from "../lib/client";
import { displayName } from "../lib/format";
import type { Account } from "../lib/types";
import { Feedback } from "./feedback";
import { PersonLine } from "./people-search";

/** Which list, and so which buttons each person gets. */
export type PeopleKind = "requests" | "followers" | "following" | "blocked" | "muted";

interface Action {
  label: string;
  path: (id: string) => string;
  done: string;
  secondary?: boolean;
}

const ACTIONS: Record<PeopleKind, Action[]> = {
  requests: [
    {
      label: "Approve",
      path: (id) => `/api/v1/follow_requests/${id}/authorize`,
      done: "Approved: now follows you.",
    },
    {
      label: "Reject",
      path: (id) => `/api/v1/follow_requests/${id}/reject`,
      done: "Rejected.",
      secondary: true,
    },
  ],
  followers: [
    {
      label: "Remove follower",
      path: (id) => `/api/v1/accounts/${id}/remove_from_followers`,
      done: "No longer follows you.",
      secondary: true,
    },
  ],
  following: [
    {
      label: "Unfollow",
      path: (id) => `/api/v1/accounts/${id}/unfollow`,
      done: "Unfollowed.",
      secondary: true,
    },
  ],
  blocked: [
    { label: "Unblock", path: (id) => `/api/v1/accounts/${id}/unblock`, done: "Unblocked." },
  ],
  muted: [{ label: "Unmute", path: (id) => `/api/v1/accounts/${id}/unmute`, done: "Unmuted." }],
};

/** One person and the buttons that act on them. */
function PersonRow({ account, kind }: { account: Account; kind: PeopleKind }) {
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const name = displayName(account);

  async function act(action: Action) {
    setBusy(true);
    setError(null);
    try {
      await api(action.path(account.id), { method: "POST" });
      setDone(action.done);
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <li>
      <PersonLine account={account} />
      <div className="row">
        {done ? (
          <span className="success">{done}</span>
        ) : (
          ACTIONS[kind].map((action) => (
            <button
              key={action.label}
              type="button"
              className={action.secondary ? "secondary" : undefined}
              onClick={() => act(action)}
              disabled={busy}
            >
              {action.label}
              <span className="visually-hidden"> {name}</span>
            </button>
          ))
        )}
      </div>
      <Feedback error={error} />
    </li>
  );
}

/** A list of people with load-more. */
export function PeopleList({
  kind,
  endpoint,
  initial,
  initialNext,
  empty,
}: {
  kind: PeopleKind;
  endpoint: string;
  initial: Account[];
  initialNext: string | null;
  empty: string;
}) {
  const [people, setPeople] = useState(initial);
  const [next, setNext] = useState(initialNext);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function loadMore() {
    if (!next) return;
    setLoading(true);
    setError(null);
    try {
      const page = await apiPage<Account>(
        `${endpoint}?${new URLSearchParams({ max_id: next, limit: "40" })}`,
      );
      setPeople((list) => {
        const seen = new Set(list.map((a) => a.id));
        return [...list, ...page.items.filter((a) => !seen.has(a.id))];
      });
      setNext(page.next);
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setLoading(false);
    }
  }

  return (
    <>
      {people.length === 0 ? <p className="muted">{empty}</p> : null}
      <ul className="people-list">
        {people.map((account) => (
          <PersonRow key={account.id} account={account} kind={kind} />
        ))}
      </ul>
      {next ? (
        <button type="button" className="secondary" onClick={loadMore} disabled={loading}>
          {loading ? "Loading…" : "Show more"}
        </button>
      ) : null}
      <Feedback error={error} />
    </>
  );
}
