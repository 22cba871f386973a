"use client";

import { useState } from "react";
import { api, errorMessage } from "../lib/client";
import { AUDIENCE_LABELS, displayName, profileHref, timeAgo } from "../lib/format";
import type { MediaAttachment, Status } from "../lib/types";
import { Feedback } from "./feedback";

/** The photos and videos of a post, each with its description; a click opens it large. */
export function MediaGrid({ media }: { media: MediaAttachment[] }) {
  const [open, setOpen] = useState<MediaAttachment | null>(null);
  if (media.length === 0) return null;
  return (
    <>
      <div className="media-grid">
        {media.map((m) =>
          m.type === "video" || m.type === "gifv" ? (
            // biome-ignore lint/a11y/useMediaCaption: members' videos carry a description, not captions
            <video
              key={m.id}
              src={m.url ?? undefined}
              poster={m.preview_url ?? undefined}
              controls
              preload="none"
              aria-label={m.description ?? "Video"}
            />
          ) : (
            <button key={m.id} type="button" onClick={() => setOpen(m)}>
              {/* biome-ignore lint/performance/noImgElement: files come from this server, sized already */}
              <img
                src={m.preview_url ?? m.url ?? ""}
                alt={m.description ?? ""}
                loading="lazy"
                width={m.meta?.original?.width}
                height={m.meta?.original?.height}
              />
            </button>
          ),
        )}
      </div>
      {open ? <Lightbox media={open} onClose={() => setOpen(null)} /> : null}
    </>
  );
}

/** One photo, large, with its description; Escape or the button closes it. */
export function Lightbox({ media, onClose }: { media: MediaAttachment; onClose: () => void }) {
  return (
    <div
      className="lightbox"
      role="dialog"
      aria-modal="true"
      aria-label={media.description ? `Photo: ${media.description}` : "Photo"}
      onKeyDown={(event) => {
        if (event.key === "Escape") onClose();
      }}
    >
      {/* biome-ignore lint/performance/noImgElement: the original file of this server */}
      <img src={media.url ?? ""} alt={media.description ?? ""} />
      {media.description ? <p>{media.description}</p> : null}
      {/* biome-ignore lint/a11y/noAutofocus: focus moves into the dialog that just opened */}
      <button type="button" autoFocus onClick={onClose}>
        Close
      </button>
    </div>
  );
}

type Toggle = "favourite" | "reblog" | "bookmark";

const TOGGLES: { kind: Toggle; on: keyof Status; count?: keyof Status; label: string }[] = [
  { kind: "favourite", on: "favourited", count: "favourites_count", label: "Like" },
  { kind: "reblog", on: "reblogged", count: "reblogs_count", label: "Boost" },
  { kind: "bookmark", on: "bookmarked", label: "Bookmark" },
];

/** A post: author, audience, content warning, text, photos, and its actions. */
export function StatusCard({
  status: initial,
  signedIn,
  viewerId,
  canModerate,
}: {
  status: Status;
  signedIn: boolean;
  /** The signed-in viewer's account id: their own posts get "Delete", others' "Report". */
  viewerId?: string | undefined;
  /** The viewer is a moderator (or above): others' posts get "Remove (moderator)". */
  canModerate?: boolean | undefined;
}) {
  const boostedBy = initial.reblog ? initial.account : null;
  const [status, setStatus] = useState<Status>(initial.reblog ?? initial);
  const [error, setError] = useState<string | null>(null);
  const [deleted, setDeleted] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const [modRemoved, setModRemoved] = useState(false);
  const audience = status.audience ? AUDIENCE_LABELS[status.audience] : null;
  const author = status.account;

  async function toggle(kind: Toggle, on: boolean) {
    setError(null);
    try {
      const updated = await api<Status>(`/api/v1/statuses/${status.id}/${on ? "un" : ""}${kind}`, {
        method: "POST",
      });
      setStatus(updated.reblog ?? updated);
    } catch (e) {
      setError(errorMessage(e));
    }
  }

  async function remove() {
    if (!window.confirm("Delete this post? This cannot be undone.")) return;
    setError(null);
    setDeleting(true);
    try {
      await api(`/api/v1/statuses/${status.id}`, { method: "DELETE" });
      setDeleted(true);
    } catch (e) {
      setError(errorMessage(e));
      setDeleting(false);
    }
  }

  async function moderatorRemove() {
    const reason = window.prompt(
      "Remove this post as a moderator? The post disappears for everyone, here and on other servers, and its author is told why. Write the reason:",
    );
    if (reason === null) return;
    if (reason.trim() === "") {
      setError("Removing a post needs a reason: its author is told why.");
      return;
    }
    setError(null);
    setDeleting(true);
    try {
      await api(`/api/v1/clique/moderation/posts/${status.id}/remove`, {
        json: { reason: reason.trim() },
      });
      setModRemoved(true);
    } catch (e) {
      setError(errorMessage(e));
      setDeleting(false);
    }
  }

  if (modRemoved)
    return (
      <p className="status status-deleted" role="status">
        Post removed by a moderator.
      </p>
    );

  if (deleted)
    return (
      <p className="status status-deleted" role="status">
        Post deleted.
      </p>
    );

  const body = (
    <>
      {/* Content comes sanitized from the server (core's sanitizer, for ours and for remote posts). */}
      {/* biome-ignore lint/security/noDangerouslySetInnerHtml: sanitized by the server */}
      <div className="status-content" dangerouslySetInnerHTML={{ __html: status.content }} />
      <MediaGrid media={status.media_attachments} />
    </>
  );

  return (
    <article className="status" aria-labelledby={`status-${initial.id}-author`}>
      {boostedBy ? (
        <p className="status-meta">
          <a href={profileHref(boostedBy)}>{displayName(boostedBy)}</a> boosted
        </p>
      ) : null}
      <div className="status-head">
        {/* biome-ignore lint/performance/noImgElement: avatars are small files of this server */}
        <img className="avatar" src={author.avatar} alt="" width={44} height={44} />
        <div>
          <a
            id={`status-${initial.id}-author`}
            className="status-author"
            href={profileHref(author)}
          >
            {displayName(author)}
          </a>{" "}
          <span className="status-meta">@{author.acct}</span>
          <div className="status-meta">
            <a href={`/@${author.acct.includes("@") ? author.acct : author.username}/${status.id}`}>
              <time dateTime={status.created_at}>{timeAgo(status.created_at)}</time>
            </a>
            {audience ? (
              <>
                {" · "}
                <span className="audience-tag" title={audience.who}>
                  {audience.label}
                </span>
              </>
            ) : null}
          </div>
        </div>
      </div>
      {status.spoiler_text ? (
        <details className="cw">
          <summary>{status.spoiler_text}</summary>
          {body}
        </details>
      ) : (
        body
      )}
      {signedIn ? (
        <div className="status-actions">
          <a className="button secondary" href={`/@${author.username}/${status.id}#reply`}>
            Reply{status.replies_count ? ` ${status.replies_count}` : ""}
          </a>
          {TOGGLES.map((t) => {
            const on = Boolean(status[t.on]);
            const count = t.count ? Number(status[t.count]) : 0;
            return (
              <button
                key={t.kind}
                type="button"
                aria-pressed={on}
                onClick={() => toggle(t.kind, on)}
              >
                {t.label}
                {count ? ` ${count}` : ""}
              </button>
            );
          })}
          {viewerId && viewerId === author.id ? (
            <button type="button" onClick={remove} disabled={deleting}>
              {deleting ? "Deleting…" : "Delete"}
            </button>
          ) : null}
          {viewerId && viewerId !== author.id ? (
            <ReportForm accountId={author.id} statusId={status.id} />
          ) : null}
          {canModerate && viewerId !== author.id ? (
            <button type="button" onClick={moderatorRemove} disabled={deleting}>
              {deleting ? "Removing…" : "Remove (moderator)"}
            </button>
          ) : null}
        </div>
      ) : null}
      <Feedback error={error} />
    </article>
  );
}

/** "Report": a short inline form that sends this post to the moderators. */
function ReportForm({ accountId, statusId }: { accountId: string; statusId: string }) {
  const [open, setOpen] = useState(false);
  const [busy, setBusy] = useState(false);
  const [sent, setSent] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const id = `report-${statusId}`;

  async function submit(event: React.FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const comment = String(new FormData(event.currentTarget).get("comment") ?? "");
    setBusy(true);
    setError(null);
    try {
      await api("/api/v1/reports", {
        json: { account_id: accountId, status_ids: [statusId], comment },
      });
      setSent(true);
      setOpen(false);
    } catch (e) {
      setError(errorMessage(e));
    }
    setBusy(false);
  }

  if (sent)
    return (
      <p className="status-meta" role="status">
        Thank you: the moderators will look at it.
      </p>
    );
  if (!open)
    return (
      <button type="button" onClick={() => setOpen(true)}>
        Report
      </button>
    );
  return (
    <form className="report-form stack" onSubmit={submit}>
      <label htmlFor={`${id}-comment`}>What is wrong with this post?</label>
      <textarea id={`${id}-comment`} name="comment" rows={3} maxLength={1000} />
      <Feedback error={error} />
      <div className="row">
        <button type="submit" disabled={busy}>
          {busy ? "Sending…" : "Send report"}
        </button>
        <button type="button" className="secondary" onClick={() => setOpen(false)} disabled={busy}>
          Cancel
        </button>
      </div>
    </form>
  );
}
