"use client";

import type { ReactNode } from "react";
import type { ChatSession } from "../lib/use-chat-device";

/** A member of the Clique as the chat screens name them. */
export interface ChatPerson {
  id: string;
  name: string;
  acct: string;
}

/** People by id, and a name for anyone the list does not hold (a former member). */
export type ChatPeople = Record<string, ChatPerson>;

export function personName(people: ChatPeople, id: string): string {
  return people[id]?.name ?? "A former member";
}

/** The chat's title: the other members' names (or "Just you"). */
export function chatTitle(people: ChatPeople, memberIds: string[], viewerId: string): string {
  const others = memberIds.filter((id) => id !== viewerId).map((id) => personName(people, id));
  if (others.length === 0) return "Just you";
  if (others.length <= 3) return others.join(", ");
  return `${others.slice(0, 3).join(", ")} and ${others.length - 3} more`;
}

/**
 * What a chat screen shows until this browser's device is ready: the step it
 * is on, or why it cannot start. `children` only once it is ready.
 */
export function ChatGate({ session, children }: { session: ChatSession; children: ReactNode }) {
  const { status } = session;
  switch (status.state) {
    case "ready":
      return <>{children}</>;
    case "starting":
      return (
        <p className="muted" role="status">
          {status.step}…
        </p>
      );
    case "elsewhere":
      return (
        <p className="card" role="status">
          Your chats are open in another tab of this browser. Close it (or use that tab): one tab at
          a time holds this browser's chat keys.
        </p>
      );
    case "unsupported":
      return (
        <p className="error" role="alert">
          Encrypted chats cannot run here: {status.why}.
        </p>
      );
    case "removed":
      return (
        <div className="card stack" role="alert">
          <p>
            This browser is no longer one of your chat devices: it was removed from another device,
            or you signed out here since it was set up. Its keys are gone from this browser, and
            what it held cannot be read again.
          </p>
          <p>
            <button type="button" className="button" onClick={session.setUpAgain}>
              Set up this browser again
            </button>
          </p>
        </div>
      );
    case "failed":
      return (
        <p className="error" role="alert">
          {status.error}
        </p>
      );
  }
}
