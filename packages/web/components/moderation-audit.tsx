"use client";

import { useState } from "react";
import { api, errorMessage } from "../lib/client";
import { Feedback } from "./feedback";

/** An entry of `/api/v1/clique/moderation/audit`. */
export interface AuditEntry {
  id: string;
  action: string;
  actor_id: string | null;
  via: string;
  subject:
    | { kind: "member" | "post" | "account" | "report"; id: string }
    | { kind: "domain"; host: string }
    | { kind: "clique" };
  reason: string;
  details: Record<string, unknown>;
  created_at: string;
}

const ACTIONS: Record<string, string> = {
  "post.remove": "Removed a post",
  "post.hide": "Hid a post",
  "post.unhide": "Showed a hidden post again",
  "member.remove": "Removed a member",
  "member.suspend": "Suspended a member",
  "member.unsuspend": "Lifted a suspension",
  "member.warn": "Warned a member",
  "member.role": "Changed a role",
  "member.leave": "Left the Clique",
  "domain.block": "Blocked a server",
  "domain.limit": "Limited a server",
  "domain.note": "Noted a server",
  "domain.unblock": "Unblocked a server",
  "remote.suspend": "Suspended an account elsewhere",
  "remote.unsuspend": "Lifted a suspension elsewhere",
  "remote.silence": "Silenced an account elsewhere",
  "remote.unsilence": "Lifted a silence elsewhere",
  "remote.reject_follows": "Removed an account's follows",
  "report.resolve": "Resolved a report",
  "report.dismiss": "Dismissed a report",
  "report.reopen": "Reopened a report",
  "report.assign": "Took on a report",
  "report.unassign": "Let go of a report",
  "report.forward": "Forwarded a report",
};

const PAGE = 40;

/** The audit log as a table: when, who, what, on what, why. */
export function ModerationAudit({
  initial,
  names,
}: {
  initial: AuditEntry[];
  /** Account id to name, for who acted and whom it was about. */
  names: Record<string, string>;
}) {
  const [entries, setEntries] = useState(initial);
  const [more, setMore] = useState(initial.length >= PAGE);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const who = (id: string | null) =>
    id === null ? "The server" : (names[id] ?? "A former member");
  const target = (e: AuditEntry) => {
    const s = e.subject;
    switch (s.kind) {
      case "domain":
        return s.host;
      case "clique":
        return "The Clique";
      case "member":
      case "account":
        return (
          names[s.id] ??
          (typeof e.details.username === "string" ? `@${e.details.username}` : "An account")
        );
      case "post": {
        const author = typeof e.details.member_id === "string" ? names[e.details.member_id] : null;
        return author ? `A post by ${author}` : "A post";
      }
      case "report":
        return "A report";
      default:
        return "";
    }
  };
  const extra = (e: AuditEntry) =>
    e.action === "member.role" && typeof e.details.role === "string"
      ? ` (now ${e.details.role}${typeof e.details.previous === "string" ? `, was ${e.details.previous}` : ""})`
      : "";

  async function loadMore() {
    const last = entries[entries.length - 1];
    if (!last) return;
    setLoading(true);
    setError(null);
    try {
      const page = await api<AuditEntry[]>(
        `/api/v1/clique/moderation/audit?${new URLSearchParams({ max_id: last.id, limit: String(PAGE) })}`,
      );
      setEntries((list) => [...list, ...page]);
      setMore(page.length >= PAGE);
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setLoading(false);
    }
  }

  if (entries.length === 0) return <p className="muted">Nothing has been done yet.</p>;
  return (
    <>
      <div className="table-wrap">
        <table className="audit-table stack-table">
          <caption className="visually-hidden">Audit log, newest first</caption>
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Who</th>
              <th scope="col">Action</th>
              <th scope="col">Target</th>
              <th scope="col">Reason</th>
            </tr>
          </thead>
          <tbody>
            {entries.map((e) => (
              <tr key={e.id}>
                <td data-label="When">
                  <time dateTime={e.created_at}>
                    {new Date(e.created_at).toLocaleString("en", {
                      dateStyle: "medium",
                      timeStyle: "short",
                    })}
                  </time>
                </td>
                <td data-label="Who">{who(e.actor_id)}</td>
                <td data-label="Action">
                  {ACTIONS[e.action] ?? e.action}
                  {extra(e)}
                </td>
                <td data-label="Target">{target(e)}</td>
                <td data-label="Reason">{e.reason || <span className="muted">none given</span>}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {more ? (
        <button type="button" className="secondary" onClick={loadMore} disabled={loading}>
          {loading ? "Loading…" : "Load older entries"}
        </button>
      ) : null}
      <Feedback error={error} />
    </>
  );
}
