"use client";

import { useState } from "react";
import { api, errorMessage } from "../lib/client";
import { displayName, profileHref, timeAgo } from "../lib/format";
import type { Account, Notification, Status } from "../lib/types";
import { Feedback } from "./feedback";

/** A notification as the API sends it, with the parts some types carry. */
export interface NotificationEntry extends Notification {
  report?: {
    id: string;
    comment: string;
    category: string;
    target_account: Account | null;
  };
  moderation_warning?: { action: string; text: string; until?: string | null };
}

/** Plain text of a post's (sanitized) HTML, cut to a short excerpt. */
export function excerpt(html: string, max = 140): string {
  const text = html
    .replace(/<br\s*\/?>/gi, " ")
    .replace(/<\/p>/gi, " ")
    .replace(/<[^>]*>/g, "")
    .replace(/&#(\d+);/g, (_, n: string) => String.fromCodePoint(Number(n)))
    .replace(/&#x([0-9a-f]+);/gi, (_, n: string) => String.fromCodePoint(Number.parseInt(n, 16)))
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&nbsp;/g, " ")
    .replace(/&amp;/g, "&")
    .replace(/\s+/g, " ")
    .trim();
  return text.length > max ? `${text.slice(0, max - 1).trimEnd()}…` : text;
}

/** Where a post lives on this site. */
export function postHref(status: Status): string {
  const author = status.account;
  return `/@${author.acct.includes("@") ? author.acct : author.username}/${status.id}`;
}

const WARNINGS: Record<string, string> = {
  none: "A moderator sent you a warning",
  delete_statuses: "A moderator removed your post",
  suspend: "A moderator suspended your account",
};

/** What happened, in plain words, with who did it first (for a screen reader's announcement too). */
export function describe(n: NotificationEntry): string {
  const who = displayName(n.account);
  switch (n.type) {
    case "mention":
      return `${who} mentioned you`;
    case "status":
      return `${who} posted something new`;
    case "reblog":
      return `${who} boosted your post`;
    case "favourite":
      return `${who} liked your post`;
    case "follow":
      return `${who} followed you`;
    case "follow_request":
      return `${who} asked to follow you`;
    case "update":
      return `${who} edited a post you interacted with`;
    case "admin.report":
      return n.report?.target_account
        ? `${who} reported ${displayName(n.report.target_account)}`
        : `${who} sent a report`;
    case "moderation_warning":
      return WARNINGS[n.moderation_warning?.action ?? "none"] ?? WARNINGS.none!;
    default:
      return `${who}: something new`;
  }
}

/** Accept or decline a follow request, right from its notification. */
function FollowRequestActions({ accountId }: { accountId: string }) {
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  async function answer(step: "authorize" | "reject") {
    setBusy(true);
    setError(null);
    try {
      await api(`/api/v1/follow_requests/${accountId}/${step}`, { method: "POST" });
      setDone(step === "authorize" ? "Accepted." : "Declined.");
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  }

  if (done) return <p className="success small">{done}</p>;
  return (
    <div className="row">
      <button type="button" disabled={busy} onClick={() => answer("authorize")}>
        Accept
      </button>
      <button type="button" className="secondary" disabled={busy} onClick={() => answer("reject")}>
        Decline
      </button>
      <Feedback error={error} />
    </div>
  );
}

/** One notification: who, what, when, and the post or report it is about. */
export function NotificationItem({
  notification: n,
  unread,
}: {
  notification: NotificationEntry;
  unread: boolean;
}) {
  const warning = n.moderation_warning;
  const showAccount = n.type !== "moderation_warning";
  return (
    <li className={`notification${unread ? " notification-unread" : ""}`}>
      <div className="notification-head">
        {showAccount ? (
          // biome-ignore lint/performance/noImgElement: avatars are small files of this server
          <img className="avatar" src={n.account.avatar} alt="" width={44} height={44} />
        ) : null}
        <div>
          <p className="notification-what">
            {showAccount ? (
              <a className="status-author" href={profileHref(n.account)}>
                {describe(n)}
              </a>
            ) : (
              <strong>{describe(n)}</strong>
            )}
            {unread ? (
              <>
                {" "}
                <span className="notification-new">New</span>
              </>
            ) : null}
          </p>
          <p className="status-meta">
            <time dateTime={n.created_at}>{timeAgo(n.created_at)}</time>
          </p>
        </div>
      </div>
      {n.status ? (
        <blockquote className="notification-excerpt">
          <p>
            {n.status.spoiler_text
              ? `Content warning: ${n.status.spoiler_text}`
              : excerpt(n.status.content) || "A post with photos or video"}
          </p>
          <a href={postHref(n.status)}>
            See the post<span className="visually-hidden"> ({describe(n)})</span>
          </a>
        </blockquote>
      ) : null}
      {warning ? (
        <div className="notification-excerpt">
          {warning.text ? <p>Reason given: {warning.text}</p> : null}
          {warning.until ? <p>Until {new Date(warning.until).toLocaleString("en")}</p> : null}
        </div>
      ) : null}
      {n.report ? (
        <div className="notification-excerpt">
          {n.report.comment ? <p>Their words: {n.report.comment}</p> : null}
          <a href="/moderation">Open the reports</a>
        </div>
      ) : null}
      {n.type === "follow_request" ? <FollowRequestActions accountId={n.account.id} /> : null}
    </li>
  );
}
