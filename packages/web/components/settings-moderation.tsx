import { timeAgo } from "../lib/format";
import type { AuditEntry } from "./settings-types";

/** What each moderation action means for the member it was about. */
function describe(entry: AuditEntry): string {
  const until = typeof entry.details.until === "string" ? entry.details.until : null;
  switch (entry.action) {
    case "member.warn":
      return "You were sent a warning.";
    case "member.suspend":
      return until
        ? `Your account was suspended until ${new Date(until).toLocaleDateString("en", { day: "numeric", month: "long", year: "numeric" })}.`
        : "Your account was suspended.";
    case "member.unsuspend":
      return "Your suspension was lifted.";
    case "member.remove":
      return "You were removed from the Clique.";
    case "member.role": {
      const role = typeof entry.details.role === "string" ? entry.details.role : null;
      return role ? `Your role was changed to ${role}.` : "Your role was changed.";
    }
    case "post.remove":
      return "One of your posts was removed.";
    case "post.hide":
      return "One of your posts was hidden.";
    case "post.unhide":
      return "One of your posts was shown again.";
    default:
      return `A moderator acted on your account (${entry.action.replaceAll(".", " ").replaceAll("_", " ")}).`;
  }
}

/** The audit log entries about the member themself, newest first, as the API lets them read. */
export function SettingsModeration({ entries }: { entries: AuditEntry[] }) {
  return (
    <div className="stack">
      <p className="muted">
        Every action a moderator takes about you or your posts is listed here, with the reason they
        gave.
      </p>
      {entries.length === 0 ? (
        <p>Nothing. No moderator has acted about you or your posts.</p>
      ) : (
        <ul className="settings-list settings-audit">
          {entries.map((entry) => (
            <li key={entry.id}>
              <div>
                <strong>{describe(entry)}</strong>
                {entry.reason ? <p>Reason given: {entry.reason}</p> : null}
                <p className="muted small">
                  <time dateTime={entry.created_at}>{timeAgo(entry.created_at)}</time> ·{" "}
                  {entry.actor_id === null ? "by the server" : "by a moderator"}
                </p>
              </div>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
