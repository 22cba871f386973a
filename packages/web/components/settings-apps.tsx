"use client";

import { timeAgo } from "../lib/format";
import { useRevocableList } from "../lib/use-revocable-list";
import { Feedback } from "./feedback";
import type { AuthorizedApp } from "./settings-types";

/** Apps the member let use their account, each of which can lose that access. */
export function SettingsApps({ initial }: { initial: AuthorizedApp[] }) {
  const { items: apps, busy, error, message, remove } = useRevocableList(initial);

  async function revoke(app: AuthorizedApp) {
    if (!window.confirm(`Stop ${app.name} from using your account?`)) return;
    await remove(
      app,
      `/api/v1/clique/apps/${encodeURIComponent(app.id)}`,
      `${app.name} can no longer use your account.`,
    );
  }

  return (
    <div className="stack">
      <p className="muted">
        Apps you signed in to with your account here (phone apps, for example). Revoke one to sign
        it out for good.
      </p>
      {apps.length === 0 ? (
        <p>No apps use your account.</p>
      ) : (
        <ul className="settings-list">
          {apps.map((app) => (
            <li key={app.id}>
              <div>
                <strong>{app.name}</strong>
                {app.website ? (
                  <>
                    {" "}
                    <a href={app.website} rel="noopener noreferrer nofollow">
                      website
                    </a>
                  </>
                ) : null}
                <p className="muted small">
                  Allowed {timeAgo(app.created_at)}
                  {app.last_used_at ? ` · last used ${timeAgo(app.last_used_at)}` : ""} · may{" "}
                  {describeScopes(app.scopes)}
                </p>
              </div>
              <button
                type="button"
                className="secondary"
                disabled={busy !== null}
                aria-label={`Revoke access for ${app.name}`}
                onClick={() => revoke(app)}
              >
                {busy === app.id ? "Revoking…" : "Revoke access"}
              </button>
            </li>
          ))}
        </ul>
      )}
      <Feedback error={error} message={message} />
    </div>
  );
}

/** OAuth scopes in plain words: reading, posting, following. */
function describeScopes(scopes: string[]): string {
  const words = new Set<string>();
  for (const scope of scopes) {
    const [kind] = scope.split(":");
    if (kind === "read") words.add("read your posts and account");
    else if (kind === "write") words.add("post and change things for you");
    else if (kind === "follow") words.add("follow people for you");
    else if (kind === "push") words.add("send you notifications");
    else if (kind === "profile") words.add("see who you are");
    else if (kind === "admin") words.add("use moderation tools");
  }
  return words.size > 0 ? [...words].join(", ") : "see who you are";
}
