"use client";

import type { ChatMessage } from "@clique/client";
import { type FormEvent, useEffect, useId, useRef, useState } from "react";
import { errorMessage } from "../lib/client";
import { type ChatSession, useChatDevice } from "../lib/use-chat-device";
import { ChatGate, type ChatPeople, chatTitle, personName } from "./chat-gate";
import { Feedback } from "./feedback";

/** Disappearing-message timers one can pick, in seconds (0: off). */
const TIMERS: { seconds: number; label: string }[] = [
  { seconds: 0, label: "Off" },
  { seconds: 5 * 60, label: "5 minutes" },
  { seconds: 60 * 60, label: "1 hour" },
  { seconds: 24 * 60 * 60, label: "1 day" },
  { seconds: 7 * 24 * 60 * 60, label: "1 week" },
];

/** The attachment types the conversation shows as pictures. */
const SHOWN_TYPES = new Set(["image/png", "image/jpeg", "image/gif", "image/webp", "image/avif"]);

/** The largest photo a chat takes (it is encrypted in the browser, in memory). */
const MAX_PHOTO_BYTES = 10 * 1024 * 1024;

const TIME = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

/** One chat: its messages, live, and the ways to write to it and manage it. */
export function ChatConversation({
  viewerId,
  groupId,
  people,
}: {
  viewerId: string;
  groupId: string;
  people: ChatPeople;
}) {
  const session = useChatDevice(viewerId);
  return (
    <ChatGate session={session}>
      <Conversation session={session} viewerId={viewerId} groupId={groupId} people={people} />
    </ChatGate>
  );
}

function Conversation({
  session,
  viewerId,
  groupId,
  people,
}: {
  session: ChatSession;
  viewerId: string;
  groupId: string;
  people: ChatPeople;
}) {
  const device = session.device!;
  const known = device.groupIds().includes(groupId);
  const messages = device.history.filter((m) => m.groupId === groupId);
  const members = device.membersOf(groupId);
  const { markRead } = session;
  const count = messages.length;
  useEffect(() => {
    if (known) markRead(groupId, count);
  }, [known, groupId, count, markRead]);

  if (!known)
    return (
      <div className="stack">
        <h1>Chat not found</h1>
        <p>
          This chat is not on this browser: you are not in it, or it started before this browser
          became one of your chat devices.
        </p>
        <p>
          <a href="/chats">All chats</a>
        </p>
      </div>
    );
  return (
    <div className="stack">
      <p>
        <a href="/chats">← All chats</a>
      </p>
      <h1>{chatTitle(people, members, viewerId)}</h1>
      <Messages session={session} messages={messages} people={people} />
      <Compose session={session} groupId={groupId} />
      <ChatDetails
        session={session}
        groupId={groupId}
        members={members}
        viewerId={viewerId}
        people={people}
      />
    </div>
  );
}

function Messages({
  session,
  messages,
  people,
}: {
  session: ChatSession;
  messages: ChatMessage[];
  people: ChatPeople;
}) {
  const end = useRef<HTMLLIElement>(null);
  // biome-ignore lint/correctness/useExhaustiveDependencies: scrolls to the newest message each time one arrives
  useEffect(() => {
    end.current?.scrollIntoView?.({ block: "nearest" });
  }, [messages.length]);
  if (messages.length === 0)
    return (
      <p className="muted" role="log" aria-live="polite">
        No messages yet. Only the people in this chat can read what you write here.
      </p>
    );
  return (
    <div role="log" aria-live="polite" aria-label="Messages">
      <ol className="chat-messages">
        {messages.map((message, i) => (
          <MessageItem
            // biome-ignore lint/suspicious/noArrayIndexKey: messages have no id; the history only grows or is cut as a whole
            key={i}
            session={session}
            message={message}
            people={people}
          />
        ))}
        <li ref={end} aria-hidden="true" className="chat-end" />
      </ol>
    </div>
  );
}

function MessageItem({
  session,
  message,
  people,
}: {
  session: ChatSession;
  message: ChatMessage;
  people: ChatPeople;
}) {
  const [photo, setPhoto] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [reported, setReported] = useState<string | null>(null);
  useEffect(() => () => (photo ? URL.revokeObjectURL(photo) : undefined), [photo]);

  async function show() {
    setError(null);
    try {
      const bytes = await session.device!.downloadAttachment(message);
      // The type is the sender's word: only raster pictures are shown (a blob: URL is of this
      // origin, so an HTML or SVG "photo" opened in a tab of its own must not be one).
      setPhoto(
        URL.createObjectURL(new Blob([bytes as BlobPart], { type: message.attachment!.mediaType })),
      );
    } catch (caught) {
      setError(errorMessage(caught));
    }
  }

  async function report() {
    const comment = window.prompt(
      "Report this message to the moderators? They will see its text, because you show it to them. Add a comment (optional):",
    );
    if (comment === null) return;
    setError(null);
    try {
      await session.device!.reportMessage(message, comment || undefined);
      setReported("Reported. The moderators see the text you disclosed.");
    } catch (caught) {
      setError(errorMessage(caught));
    }
  }

  const sender = message.own ? "You" : personName(people, message.senderMemberId);
  return (
    <li className={message.own ? "chat-message own" : "chat-message"}>
      <p className="chat-message-head">
        <strong>{sender}</strong>
        {message.sentAt ? (
          <time className="muted small" dateTime={message.sentAt}>
            {" "}
            {TIME.format(new Date(message.sentAt))}
          </time>
        ) : null}
        {message.expiresAt ? (
          <span className="muted small">
            {" "}
            · disappears {TIME.format(new Date(message.expiresAt))}
          </span>
        ) : null}
      </p>
      {message.text ? <p className="chat-message-text">{message.text}</p> : null}
      {message.attachment && !SHOWN_TYPES.has(message.attachment.mediaType) ? (
        <p className="muted small">
          An attachment this page does not show ({message.attachment.mediaType}).
        </p>
      ) : message.attachment ? (
        photo ? (
          <img
            className="chat-photo"
            src={photo}
            alt={message.text || "A photo sent in the chat"}
          />
        ) : (
          <button type="button" className="button secondary" onClick={show}>
            Show photo ({Math.ceil(message.attachment.size / 1024)} KB)
          </button>
        )
      ) : null}
      {!message.own ? (
        <button type="button" className="link small" onClick={report}>
          Report
        </button>
      ) : null}
      {error || reported ? <Feedback error={error} message={reported} /> : null}
    </li>
  );
}

function Compose({ session, groupId }: { session: ChatSession; groupId: string }) {
  const id = useId();
  const [text, setText] = useState("");
  const [file, setFile] = useState<File | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const fileInput = useRef<HTMLInputElement>(null);

  async function send(event: FormEvent) {
    event.preventDefault();
    const body = text.trim();
    if (!body && !file) return;
    if (file && file.size > MAX_PHOTO_BYTES) {
      setError("That photo is larger than 10 MB.");
      return;
    }
    if (file && !SHOWN_TYPES.has(file.type)) {
      setError("Send a photo as PNG, JPEG, GIF, WebP or AVIF.");
      return;
    }
    setBusy(true);
    setError(null);
    try {
      if (file) {
        const bytes = new Uint8Array(await file.arrayBuffer());
        await session.run((d) =>
          d.sendAttachment(groupId, bytes, { mediaType: file.type, caption: body }),
        );
      } else await session.run((d) => d.send(groupId, body));
      setText("");
      setFile(null);
      if (fileInput.current) fileInput.current.value = "";
    } catch (caught) {
      setError(errorMessage(caught));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="card stack chat-compose" onSubmit={send}>
      <label htmlFor={`${id}-text`}>Message</label>
      <textarea
        id={`${id}-text`}
        rows={3}
        maxLength={5000}
        value={text}
        onChange={(e) => setText(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === "Enter" && !e.shiftKey) {
            e.preventDefault();
            e.currentTarget.form?.requestSubmit();
          }
        }}
      />
      <label htmlFor={`${id}-photo`}>Photo (optional)</label>
      <input
        id={`${id}-photo`}
        ref={fileInput}
        type="file"
        accept="image/png,image/jpeg,image/gif,image/webp,image/avif"
        onChange={(e) => setFile(e.target.files?.[0] ?? null)}
      />
      <Feedback error={error} />
      <p>
        <button type="submit" className="button" disabled={busy}>
          {busy ? "Sending…" : "Send"}
        </button>
      </p>
    </form>
  );
}

function ChatDetails({
  session,
  groupId,
  members,
  viewerId,
  people,
}: {
  session: ChatSession;
  groupId: string;
  members: string[];
  viewerId: string;
  people: ChatPeople;
}) {
  const id = useId();
  const device = session.device!;
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const timer = device.timerOf(groupId);

  async function changeTimer(seconds: number) {
    setError(null);
    setDone(null);
    try {
      await session.run((d) => d.setTimer(groupId, seconds));
      setDone(
        seconds === 0
          ? "Messages no longer disappear."
          : `New messages disappear after ${TIMERS.find((t) => t.seconds === seconds)?.label}.`,
      );
    } catch (caught) {
      setError(errorMessage(caught));
    }
  }

  async function clear() {
    if (!window.confirm("Clear this chat on all your devices? The others in it keep their copy."))
      return;
    setError(null);
    try {
      await session.run((d) => d.clearChat(groupId));
      setDone("Cleared on your devices.");
    } catch (caught) {
      setError(errorMessage(caught));
    }
  }

  return (
    <section className="card stack" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>About this chat</h2>
      <h3>People</h3>
      <ul className="chat-members">
        {members.map((memberId) => (
          <li key={memberId}>
            {memberId === viewerId ? (
              "You"
            ) : (
              <>
                {personName(people, memberId)} ·{" "}
                <a href={`/chats/safety/${encodeURIComponent(memberId)}`}>
                  {session.verified[memberId] ? "Verified: see" : "Compare"} safety number
                </a>
              </>
            )}
          </li>
        ))}
      </ul>
      <label htmlFor={`${id}-timer`}>Disappearing messages</label>
      <select
        id={`${id}-timer`}
        value={TIMERS.some((t) => t.seconds === timer) ? timer : 0}
        onChange={(e) => void changeTimer(Number(e.target.value))}
      >
        {TIMERS.map((t) => (
          <option key={t.seconds} value={t.seconds}>
            {t.label}
          </option>
        ))}
      </select>
      <p className="hint">
        Everyone's devices delete messages when their time is up; the server drops its encrypted
        copy then too.
      </p>
      <p>
        <button type="button" className="danger" onClick={clear}>
          Clear chat on my devices
        </button>
      </p>
      <Feedback error={error} message={done} />
    </section>
  );
}
