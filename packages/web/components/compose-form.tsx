"use client";

import { useState } from "react";
import { ApiError, api, errorMessage } from "../lib/client";
import type { Audience, Circle, Status } from "../lib/types";
import {
  type AudienceChoice,
  AudiencePicker,
  AudienceSummary,
  type ParentInfo,
  type ReplyChoice,
  ReplyPicker,
  replyPolicy,
} from "./audience-picker";
import { ComposeMedia, useUploads } from "./compose-media";

/** The post a reply answers. */
export interface ReplyTarget extends ParentInfo {
  id: string;
}

/**
 * Writing a post or a reply: text, content warning, photos or a video, who
 * sees it and who may reply. What was typed stays on any error.
 */
export function ComposeForm({
  idPrefix = "compose",
  circles,
  defaultAudience,
  replyTo = null,
  initialText = "",
}: {
  idPrefix?: string;
  circles: Circle[];
  defaultAudience: Audience;
  replyTo?: ReplyTarget | null;
  initialText?: string;
}) {
  const [text, setText] = useState(initialText);
  const [spoiler, setSpoiler] = useState("");
  const [audience, setAudience] = useState<AudienceChoice>(replyTo ? "parent" : defaultAudience);
  const [circleId, setCircleId] = useState("");
  const [reply, setReply] = useState<ReplyChoice>("same");
  const [replyCircleId, setReplyCircleId] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  // Set when the server says the reply reaches beyond the parent's audience.
  const [wider, setWider] = useState<string | null>(null);
  const [confirmWider, setConfirmWider] = useState(false);
  const uploads = useUploads();

  const circle = circles.find((c) => c.id === circleId) ?? null;
  const errorId = `${idPrefix}-error`;

  function check(): string | null {
    if (!text.trim() && uploads.items.length === 0)
      return "Write something, or add a photo or video.";
    if (uploads.busy) return "Please wait until the files have finished uploading.";
    if (uploads.failed) return "One file could not be uploaded: remove it, or add it again.";
    if (audience === "circle" && !circleId) return "Choose which circle will see this post.";
    if (reply === "circle" && !replyCircleId) return "Choose which circle may reply.";
    return null;
  }

  async function submit(event: React.FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const problem = check();
    if (problem) {
      setError(problem);
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const mediaIds = await uploads.finish();
      const policy = replyPolicy(reply, replyCircleId, audience, circleId, circles);
      const status = await api<Status>("/api/v1/statuses", {
        json: {
          status: text,
          spoiler_text: spoiler.trim(),
          sensitive: spoiler.trim().length > 0,
          media_ids: mediaIds,
          ...(audience === "parent" ? {} : { audience }),
          ...(audience === "circle" ? { circle_id: circleId } : {}),
          ...(policy !== undefined ? { interaction_policy: { reply: policy } } : {}),
          ...(replyTo ? { in_reply_to_id: replyTo.id } : {}),
          ...(wider && confirmWider ? { confirm_wider_audience: true } : {}),
        },
      });
      window.location.assign(`/@${status.account.username}/${status.id}`);
    } catch (e) {
      if (e instanceof ApiError && e.code === "audience_wider_than_parent") {
        setWider(e.message);
        setConfirmWider(false);
      } else {
        setError(errorMessage(e));
      }
      setBusy(false);
    }
  }

  return (
    <form className="compose-form stack" onSubmit={submit} noValidate>
      <div className="field">
        <label htmlFor={`${idPrefix}-text`}>
          {replyTo ? "Your reply" : "What do you want to share?"}
        </label>
        <textarea
          id={`${idPrefix}-text`}
          value={text}
          rows={replyTo ? 3 : 5}
          maxLength={100_000}
          onChange={(event) => setText(event.target.value)}
          aria-describedby={error ? errorId : undefined}
        />
      </div>
      <div className="field">
        <label htmlFor={`${idPrefix}-cw`}>
          Content warning <span className="hint">(optional)</span>
        </label>
        <input
          id={`${idPrefix}-cw`}
          type="text"
          value={spoiler}
          maxLength={10_000}
          onChange={(event) => setSpoiler(event.target.value)}
          aria-describedby={`${idPrefix}-cw-hint`}
        />
        <p id={`${idPrefix}-cw-hint`} className="hint">
          If you write one, people see only these words until they choose to open the post.
        </p>
      </div>
      <ComposeMedia uploads={uploads} idPrefix={idPrefix} disabled={busy} />
      <AudiencePicker
        idPrefix={idPrefix}
        value={audience}
        onChange={(value) => {
          setAudience(value);
          setWider(null);
        }}
        circleId={circleId}
        onCircleChange={(id) => {
          setCircleId(id);
          setWider(null);
        }}
        circles={circles}
        parent={replyTo}
        extra={defaultAudience === "unlisted" ? "unlisted" : null}
        disabled={busy}
      />
      <ReplyPicker
        idPrefix={idPrefix}
        value={reply}
        onChange={setReply}
        circleId={replyCircleId}
        onCircleChange={setReplyCircleId}
        circles={circles}
        disabled={busy}
      />
      <AudienceSummary
        id={`${idPrefix}-audience-summary`}
        value={audience}
        circle={circle}
        circleChosen={circleId !== ""}
        text={text}
        parent={replyTo}
        reply={reply}
        replyCircle={circles.find((c) => c.id === replyCircleId) ?? null}
      />
      {wider ? (
        <div className="compose-wider" role="alert">
          <p className="error">{wider}</p>
          <input
            type="checkbox"
            id={`${idPrefix}-confirm-wider`}
            checked={confirmWider}
            onChange={(event) => setConfirmWider(event.target.checked)}
          />{" "}
          <label htmlFor={`${idPrefix}-confirm-wider`} className="inline-label">
            Yes, send my reply to the people I chose
          </label>
        </div>
      ) : null}
      {error ? (
        <p id={errorId} className="error" role="alert">
          {error}
        </p>
      ) : null}
      <div className="row">
        <button
          type="submit"
          disabled={busy || uploads.busy || (wider !== null && !confirmWider)}
          aria-describedby={`${idPrefix}-audience-summary`}
        >
          {busy ? "Sending…" : replyTo ? "Send reply" : "Post"}
        </button>
        {uploads.busy ? (
          <span className="hint" aria-live="polite">
            Waiting for the files to finish uploading…
          </span>
        ) : null}
      </div>
    </form>
  );
}
