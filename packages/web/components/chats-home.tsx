"use client";

import { type FormEvent, useId, useState } from "react";
import { errorMessage } from "../lib/client";
import { useChatDevice } from "../lib/use-chat-device";
import { ChatGate, type ChatPeople, chatTitle } from "./chat-gate";
import { ChatSecurity } from "./chat-security";
import { Feedback } from "./feedback";

/** The chat list, a new chat, and what this browser verified about the server. */
export function ChatsHome({
  viewerId,
  people,
  pickable,
}: {
  viewerId: string;
  people: ChatPeople;
  /** Members one can start a chat with (active, not oneself). */
  pickable: string[];
}) {
  const session = useChatDevice(viewerId);
  return (
    <ChatGate session={session}>
      <NewOwnDevices session={session} />
      <ChatList session={session} people={people} viewerId={viewerId} />
      <NewChat session={session} people={people} pickable={pickable} />
      <ChatSecurity session={session} people={people} />
      <p>
        <a href="/chats/devices">Your chat devices</a>
      </p>
    </ChatGate>
  );
}

/** A word when one of the member's devices is not in the chats on this browser yet. */
function NewOwnDevices({ session }: { session: ReturnType<typeof useChatDevice> }) {
  const waiting = session.device!.ownDevicesMissing().size;
  if (waiting === 0) return null;
  return (
    <p className="card" role="status">
      {waiting === 1 ? "One of your devices is" : `${waiting} of your devices are`} not in your
      earlier chats yet. <a href="/chats/devices">Add or remove it</a> on your chat devices page.
    </p>
  );
}

function ChatList({
  session,
  people,
  viewerId,
}: {
  session: ReturnType<typeof useChatDevice>;
  people: ChatPeople;
  viewerId: string;
}) {
  const device = session.device!;
  const chats = device.groupIds().map((groupId) => {
    const messages = device.history.filter((m) => m.groupId === groupId);
    const seen = session.reads[groupId] ?? 0;
    const unread = messages.slice(seen).filter((m) => !m.own).length;
    const last = messages.at(-1);
    return {
      groupId,
      title: chatTitle(people, device.membersOf(groupId), viewerId),
      last,
      unread,
      at: last?.sentAt ?? "",
    };
  });
  chats.sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : 0));
  if (chats.length === 0)
    return <p className="muted">No chats yet. Start one below: only its members can read it.</p>;
  return (
    <ul className="chat-list" aria-label="Your chats">
      {chats.map((chat) => (
        <li key={chat.groupId}>
          <a href={`/chats/${encodeURIComponent(chat.groupId)}`}>
            <span className="chat-list-title">{chat.title}</span>
            {chat.unread > 0 ? (
              <span className="badge">
                {chat.unread}
                <span className="visually-hidden"> unread</span>
              </span>
            ) : null}
          </a>
          <p className="muted small">
            {chat.last
              ? `${chat.last.own ? "You: " : ""}${chat.last.attachment ? "📷 " : ""}${chat.last.text || (chat.last.attachment ? "Photo" : "")}`
              : "No messages yet"}
          </p>
        </li>
      ))}
    </ul>
  );
}

function NewChat({
  session,
  people,
  pickable,
}: {
  session: ReturnType<typeof useChatDevice>;
  people: ChatPeople;
  pickable: string[];
}) {
  const id = useId();
  const [chosen, setChosen] = useState<Set<string>>(new Set());
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const device = session.device!;

  async function start(event: FormEvent) {
    event.preventDefault();
    if (chosen.size === 0) {
      setError("Choose at least one member to chat with.");
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const groupId = await session.run((d) => d.createChat([...chosen]));
      window.location.assign(`/chats/${encodeURIComponent(groupId)}`);
    } catch (caught) {
      setError(errorMessage(caught));
      setBusy(false);
    }
  }

  return (
    <form className="card stack" onSubmit={start} aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>New chat</h2>
      {pickable.length === 0 ? (
        <p className="muted">There are no other members to chat with yet.</p>
      ) : (
        <fieldset>
          <legend>Members</legend>
          {pickable.map((memberId) => {
            // A member without a chat device yet cannot be added: there is nothing to encrypt to.
            const ready = device.devicesOfMember(memberId).length > 0;
            return (
              <div key={memberId} className="circle-check">
                <input
                  id={`${id}-${memberId}`}
                  type="checkbox"
                  disabled={!ready}
                  checked={chosen.has(memberId)}
                  onChange={(e) => {
                    const next = new Set(chosen);
                    if (e.target.checked) next.add(memberId);
                    else next.delete(memberId);
                    setChosen(next);
                  }}
                />
                <label htmlFor={`${id}-${memberId}`}>
                  {people[memberId]?.name}{" "}
                  <span className="hint">
                    @{people[memberId]?.acct}
                    {ready ? "" : " · has not opened chats yet"}
                  </span>
                </label>
              </div>
            );
          })}
        </fieldset>
      )}
      <Feedback error={error} />
      <p>
        <button type="submit" className="button" disabled={busy || pickable.length === 0}>
          {busy ? "Starting…" : "Start chat"}
        </button>
      </p>
    </form>
  );
}
