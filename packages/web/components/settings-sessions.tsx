"use client";

import { deviceName, timeAgo } from "../lib/format";
import { useRevocableList } from "../lib/use-revocable-list";
import { Feedback } from "./feedback";
import type { SessionInfo } from "./settings-types";

/** Where the member is signed in; any other session can be ended from here. */
export function SettingsSessions({ initial }: { initial: SessionInfo[] }) {
  const { items: sessions, busy, error, message, remove } = useRevocableList(initial);

  const end = (session: SessionInfo) =>
    remove(
      session,
      `/api/v1/clique/sessions/${encodeURIComponent(session.id)}`,
      `The session on ${deviceName(session.user_agent)} is ended: it is signed out.`,
    );

  return (
    <div className="stack">
      <p className="muted">
        The browsers where you are signed in. Sign out any you do not recognise.
      </p>
      {sessions.length === 0 ? (
        <p>No sessions.</p>
      ) : (
        <ul className="settings-list">
          {sessions.map((session) => {
            const name = deviceName(session.user_agent);
            return (
              <li key={session.id}>
                <div>
                  <strong>{name}</strong>
                  {session.current ? <span className="audience-tag">This browser</span> : null}
                  <p className="muted small">
                    Signed in {timeAgo(session.created_at)}
                    {session.last_used_at ? ` · last active ${timeAgo(session.last_used_at)}` : ""}
                  </p>
                </div>
                {session.current ? null : (
                  <button
                    type="button"
                    className="secondary"
                    disabled={busy !== null}
                    aria-label={`End the session on ${name}, signed in ${timeAgo(session.created_at)}`}
                    onClick={() => end(session)}
                  >
                    {busy === session.id ? "Ending…" : "End session"}
                  </button>
                )}
              </li>
            );
          })}
        </ul>
      )}
      <Feedback error={error} message={message} />
    </div>
  );
}
