"use client";

import { useState } from "react";
import { api, apiPage, errorMessage } from "../lib/client";
import { displayName, timeAgo } from "../lib/format";
import type { Account, Status } from "../lib/types";
import { Feedback } from "./feedback";
import { excerpt } from "./notification-item";

/** An account as the admin API shows it. */
interface AdminAccount {
  id: string;
  username: string;
  domain: string | null;
  role: { id: string; name: string } | null;
  suspended: boolean;
  account: Account | null;
}

/** A report as `/api/v1/admin/reports` lists it. */
export interface ReportEntry {
  id: string;
  state: "open" | "resolved" | "dismissed";
  category: string;
  comment: string;
  created_at: string;
  account: AdminAccount | null;
  target_account: AdminAccount | null;
  statuses: Status[];
  reporter_domain: string | null;
  action_taken_comment: string | null;
  reported_posts: { id: string; content: string; spoiler_text: string; created_at: string }[];
}

const CATEGORIES: Record<string, string> = {
  spam: "Spam",
  legal: "Against the law",
  violation: "Breaks the Clique's rules",
  other: "Something else",
};

const STATES: Record<ReportEntry["state"], string> = {
  open: "Open",
  resolved: "Resolved",
  dismissed: "Dismissed",
};

function nameOf(a: AdminAccount | null, fallback: string): string {
  if (!a) return fallback;
  const name = a.account ? displayName(a.account) : a.username;
  return a.domain ? `${name} (@${a.username}@${a.domain})` : name;
}

/** One report, its reported posts, and what a moderator can do about it. */
function ReportCard({ initial, removed: wasRemoved }: { initial: ReportEntry; removed: boolean }) {
  const [report, setReport] = useState(initial);
  const [reason, setReason] = useState("");
  const [deleteContent, setDeleteContent] = useState(false);
  const [removed, setRemoved] = useState<Set<string>>(new Set());
  const [busy, setBusy] = useState(false);
  // What became of the reported account since the page loaded.
  const [standing, setStanding] = useState<"active" | "suspended" | "removed">(
    wasRemoved ? "removed" : initial.target_account?.suspended ? "suspended" : "active",
  );
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const target = report.target_account;
  const targetName = nameOf(target, "an account that is gone");
  const reporter = report.reporter_domain
    ? `someone on ${report.reporter_domain}`
    : nameOf(report.account, "a former member");
  const local = target !== null && target.domain === null;
  const visible = new Set(report.statuses.map((s) => s.id));
  const reasonId = `report-${report.id}-reason`;

  /** Runs one action after the moderator said yes to what it does. */
  async function act(question: string, needsReason: boolean, run: () => Promise<string>) {
    setError(null);
    setDone(null);
    if (needsReason && reason.trim() === "") {
      setError("Write a reason first: the member is told why, and it goes into the audit log.");
      document.getElementById(reasonId)?.focus();
      return;
    }
    if (question && !window.confirm(question)) return;
    setBusy(true);
    try {
      setDone(await run());
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  }

  const removePost = (postId: string) =>
    act(
      `Remove this post? The post disappears for everyone, here and on other servers. ${targetName} is told why.`,
      true,
      async () => {
        await api(`/api/v1/clique/moderation/posts/${postId}/remove`, {
          json: { reason: reason.trim() },
        });
        setRemoved((set) => new Set(set).add(postId));
        return "The post was removed.";
      },
    );

  const suspend = () =>
    act(
      `Suspend ${targetName}? They are signed out and cannot sign in, and their posts are hidden from everyone until a moderator lifts the suspension.`,
      true,
      async () => {
        if (!target) return "";
        if (local) {
          await api(`/api/v1/clique/moderation/members/${target.id}/suspend`, {
            json: { reason: reason.trim() },
          });
          setStanding("suspended");
          return `${targetName} is suspended.`;
        }
        await api(`/api/v1/clique/moderation/remote_accounts/${target.id}/suspend`, {
          json: { reason: reason.trim() },
        });
        setStanding("suspended");
        return `${targetName} is suspended here: nobody in the Clique sees them any more.`;
      },
    );

  const removeMember = () =>
    act(
      `Remove ${targetName} from the Clique? Their account closes at once, their seat is freed, and their photos are deleted${
        deleteContent ? " along with all their posts" : "; their posts stay hidden for the record"
      }. This cannot be undone.`,
      true,
      async () => {
        if (!target) return "";
        await api(`/api/v1/clique/moderation/members/${target.id}/remove`, {
          json: { reason: reason.trim(), delete_content: deleteContent },
        });
        setStanding("removed");
        return `${targetName} was removed from the Clique.`;
      },
    );

  const resolve = () =>
    act("", false, async () => {
      const updated = await api<ReportEntry>(`/api/v1/admin/reports/${report.id}/resolve`, {
        json: reason.trim() ? { action_taken_comment: reason.trim() } : {},
      });
      setReport(updated);
      return "The report is resolved.";
    });

  const dismiss = () =>
    act(
      "Dismiss this report? It closes without any action against the reported account.",
      false,
      async () => {
        const updated = await api<ReportEntry>(`/api/v1/clique/reports/${report.id}/dismiss`, {
          json: reason.trim() ? { reason: reason.trim() } : {},
        });
        setReport(updated);
        return "The report is dismissed.";
      },
    );

  const open = report.state === "open";
  return (
    <li className="card report-card">
      <article aria-labelledby={`report-${report.id}-title`}>
        <h3 id={`report-${report.id}-title`}>Report about {targetName}</h3>
        <p className="status-meta">
          From {reporter}, <time dateTime={report.created_at}>{timeAgo(report.created_at)}</time>
          {" · "}
          {CATEGORIES[report.category] ?? report.category}
          {" · "}
          <strong>{STATES[report.state]}</strong>
          {standing === "suspended"
            ? " · account suspended"
            : standing === "removed"
              ? " · member removed"
              : ""}
        </p>
        {report.comment ? (
          <blockquote className="notification-excerpt">
            <p>
              <span className="visually-hidden">Their words: </span>
              {report.comment}
            </p>
          </blockquote>
        ) : (
          <p className="muted small">No comment was given.</p>
        )}
        {report.reported_posts.length > 0 ? (
          <>
            <h4>Reported posts</h4>
            <ul className="report-posts">
              {report.reported_posts.map((p) => {
                // Moderators act on what was reported, whoever may see it now (a circle
                // post the moderator is not in shows as the reporter saw it).
                const gone = removed.has(p.id);
                const hidden = !gone && !visible.has(p.id);
                return (
                  <li key={p.id}>
                    {p.spoiler_text ? (
                      <p className="small">Content warning: {p.spoiler_text}</p>
                    ) : null}
                    <p className="report-post-text">
                      {excerpt(p.content, 2000) || "(photos or video only)"}
                    </p>
                    <p className="status-meta">
                      Posted <time dateTime={p.created_at}>{timeAgo(p.created_at)}</time>
                      {gone ? " · removed" : ""}
                      {hidden ? " · not shared with you: this is the reporter's copy" : ""}
                    </p>
                    {!gone && open ? (
                      <button
                        type="button"
                        className="danger"
                        disabled={busy}
                        onClick={() => removePost(p.id)}
                      >
                        Remove post
                      </button>
                    ) : null}
                  </li>
                );
              })}
            </ul>
          </>
        ) : null}
        {report.action_taken_comment ? (
          <p className="small">What was done: {report.action_taken_comment}</p>
        ) : null}
        {open ? (
          <div className="stack report-actions">
            <div className="field">
              <label htmlFor={reasonId}>
                Reason{" "}
                <span className="hint">
                  (needed to remove a post, suspend or remove; the member is told, the audit log
                  keeps it)
                </span>
              </label>
              <textarea
                id={reasonId}
                value={reason}
                onChange={(e) => setReason(e.target.value)}
                rows={2}
              />
            </div>
            {target && standing !== "removed" ? (
              <div className="row">
                {standing === "active" ? (
                  <button type="button" className="danger" disabled={busy} onClick={suspend}>
                    {local ? "Suspend member" : "Suspend account here"}
                  </button>
                ) : null}
                {local ? (
                  <>
                    <button type="button" className="danger" disabled={busy} onClick={removeMember}>
                      Remove member
                    </button>
                    <label className="inline-check">
                      <input
                        type="checkbox"
                        checked={deleteContent}
                        onChange={(e) => setDeleteContent(e.target.checked)}
                      />{" "}
                      Also delete their posts when removing
                    </label>
                  </>
                ) : null}
              </div>
            ) : null}
            <div className="row">
              <button type="button" disabled={busy} onClick={resolve}>
                Resolve
              </button>
              <button type="button" className="secondary" disabled={busy} onClick={dismiss}>
                Dismiss
              </button>
            </div>
          </div>
        ) : null}
        {done ? (
          <p className="success" role="status">
            {done}
          </p>
        ) : null}
        <Feedback error={error} />
      </article>
    </li>
  );
}

/** The report queue, with older reports on demand. */
export function ModerationReports({
  initial,
  initialNext,
  query,
  empty,
  removedIds = [],
}: {
  initial: ReportEntry[];
  initialNext: string | null;
  query: Record<string, string>;
  empty: string;
  /** Members removed from the Clique (the admin API calls them suspended too). */
  removedIds?: string[];
}) {
  const [reports, setReports] = useState(initial);
  const [next, setNext] = useState(initialNext);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function loadMore() {
    if (!next) return;
    setLoading(true);
    setError(null);
    try {
      const page = await apiPage<ReportEntry>(
        `/api/v1/admin/reports?${new URLSearchParams({ ...query, max_id: next, limit: "20" })}`,
      );
      setReports((list) => [
        ...list,
        ...page.items.filter((r) => !list.some((x) => x.id === r.id)),
      ]);
      setNext(page.next);
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setLoading(false);
    }
  }

  return (
    <>
      {reports.length === 0 ? <p className="muted">{empty}</p> : null}
      <ul className="report-list">
        {reports.map((r) => (
          <ReportCard
            key={r.id}
            initial={r}
            removed={r.target_account !== null && removedIds.includes(r.target_account.id)}
          />
        ))}
      </ul>
      {next ? (
        <button type="button" className="secondary" onClick={loadMore} disabled={loading}>
          {loading ? "Loading…" : "Load older reports"}
        </button>
      ) : null}
      <Feedback error={error} />
    </>
  );
}
