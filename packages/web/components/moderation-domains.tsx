"use client";

import { type FormEvent, useState } from "react";
import { api, errorMessage } from "../lib/client";
import { Feedback } from "./feedback";

/** A decision about a server, as `/api/v1/clique/domains` lists it. */
export interface DomainEntry {
  id: string;
  domain: string;
  severity: "block" | "limit" | "noop";
  reason: string;
  public_comment: string;
  created_at: string;
}

const SEVERITIES: Record<DomainEntry["severity"], { label: string; does: string }> = {
  block: {
    label: "Block",
    does: "Nothing comes in from it or goes out to it; its accounts, posts and follows here are deleted.",
  },
  limit: {
    label: "Limit",
    does: "Its accounts can still be followed, but their posts stay out of the Clique's shared views.",
  },
  noop: { label: "Note only", does: "Nothing changes; the note is kept for moderators." },
};

/** Blocking and limiting whole servers, and lifting those decisions. */
export function ModerationDomains({ initial }: { initial: DomainEntry[] }) {
  const [blocks, setBlocks] = useState(initial);
  const [domain, setDomain] = useState("");
  const [severity, setSeverity] = useState<DomainEntry["severity"]>("block");
  const [reason, setReason] = useState("");
  const [publicComment, setPublicComment] = useState("");
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);

  async function decide(event: FormEvent) {
    event.preventDefault();
    setError(null);
    setDone(null);
    const host = domain.trim().toLowerCase();
    if (!host || !reason.trim()) {
      setError("Give the server's address (like example.social) and a reason.");
      return;
    }
    const question =
      severity === "block"
        ? `Block ${host}? Nothing comes in from it or goes out to it any more, and everything of it stored here (accounts, posts, follows, photos) is deleted. Members lose their follows there.`
        : severity === "limit"
          ? `Limit ${host}? Its posts stay out of the Clique's shared views.`
          : `Keep a note about ${host}?`;
    if (!window.confirm(question)) return;
    setBusy("form");
    try {
      const block = await api<DomainEntry & { purged?: { accounts: number; posts: number } }>(
        "/api/v1/clique/domains",
        {
          json: {
            domain: host,
            severity,
            reason: reason.trim(),
            ...(publicComment.trim() ? { public_comment: publicComment.trim() } : {}),
          },
        },
      );
      setBlocks((list) => [block, ...list.filter((b) => b.domain !== block.domain)]);
      setDone(
        block.purged && (block.purged.accounts > 0 || block.purged.posts > 0)
          ? `${SEVERITIES[block.severity].label}: ${block.domain}. Deleted ${block.purged.accounts} accounts and ${block.purged.posts} posts of it.`
          : `${SEVERITIES[block.severity].label}: ${block.domain}.`,
      );
      setDomain("");
      setReason("");
      setPublicComment("");
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(null);
    }
  }

  async function lift(block: DomainEntry) {
    if (
      !window.confirm(
        `Unblock ${block.domain}? Its people can reach the Clique again; what was deleted does not come back.`,
      )
    )
      return;
    setBusy(block.id);
    setError(null);
    setDone(null);
    try {
      await api(`/api/v1/clique/domains?${new URLSearchParams({ domain: block.domain })}`, {
        method: "DELETE",
      });
      setBlocks((list) => list.filter((b) => b.id !== block.id));
      setDone(`${block.domain} is no longer blocked.`);
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(null);
    }
  }

  return (
    <>
      <form className="card stack" onSubmit={decide} aria-labelledby="block-form-heading">
        <h3 id="block-form-heading">Block a server</h3>
        <div className="field">
          <label htmlFor="block-domain">Server address</label>
          <input
            id="block-domain"
            type="text"
            inputMode="url"
            autoCapitalize="none"
            spellCheck={false}
            placeholder="example.social"
            value={domain}
            onChange={(e) => setDomain(e.target.value)}
          />
        </div>
        <div className="field">
          <label htmlFor="block-severity">What to do</label>
          <select
            id="block-severity"
            value={severity}
            onChange={(e) => setSeverity(e.target.value as DomainEntry["severity"])}
            aria-describedby="block-severity-hint"
          >
            {(Object.keys(SEVERITIES) as DomainEntry["severity"][]).map((s) => (
              <option key={s} value={s}>
                {SEVERITIES[s].label}
              </option>
            ))}
          </select>
          <p id="block-severity-hint" className="hint">
            {SEVERITIES[severity].does}
          </p>
        </div>
        <div className="field">
          <label htmlFor="block-reason">
            Reason <span className="hint">(for moderators, kept in the audit log)</span>
          </label>
          <textarea
            id="block-reason"
            rows={2}
            value={reason}
            onChange={(e) => setReason(e.target.value)}
          />
        </div>
        <div className="field">
          <label htmlFor="block-public">
            Public note <span className="hint">(optional, may be shown to anyone)</span>
          </label>
          <input
            id="block-public"
            type="text"
            value={publicComment}
            onChange={(e) => setPublicComment(e.target.value)}
          />
        </div>
        <button type="submit" className="danger" disabled={busy !== null}>
          {busy === "form" ? "Saving…" : "Block server"}
        </button>
      </form>
      {done ? (
        <p className="success" role="status">
          {done}
        </p>
      ) : null}
      <Feedback error={error} />
      <h3>Blocked and limited servers</h3>
      {blocks.length === 0 ? (
        <p className="muted">No server is blocked or limited.</p>
      ) : (
        <div className="table-wrap">
          <table className="stack-table">
            <caption className="visually-hidden">Blocked and limited servers</caption>
            <thead>
              <tr>
                <th scope="col">Server</th>
                <th scope="col">Decision</th>
                <th scope="col">Reason</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {blocks.map((b) => (
                <tr key={b.id}>
                  <td data-label="Server">{b.domain}</td>
                  <td data-label="Decision">{SEVERITIES[b.severity]?.label ?? b.severity}</td>
                  <td data-label="Reason">
                    {b.reason}
                    {b.public_comment ? (
                      <div className="status-meta">Public: {b.public_comment}</div>
                    ) : null}
                  </td>
                  <td>
                    <button
                      type="button"
                      className="secondary"
                      disabled={busy !== null}
                      onClick={() => lift(b)}
                    >
                      {busy === b.id ? "Unblocking…" : "Unblock"}
                      <span className="visually-hidden"> {b.domain}</span>
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
