/**
 * The audit log: every moderation action, with who took it, when, on what,
 * and why. Append-only by construction — the store has no way to change or
 * remove an entry, and the database refuses `UPDATE` and `DELETE` on its
 * table (a trigger), so not even a bug or a hand-typed statement can rewrite
 * what happened.
 */

/** What a moderation action was about. */
export type AuditSubject =
  | { kind: "member"; id: string }
  | { kind: "post"; id: string }
  | { kind: "account"; id: string }
  | { kind: "domain"; host: string }
  | { kind: "report"; id: string }
  | { kind: "clique" };

/** One entry of the audit log. */
export interface AuditEntry {
  id: string;
  /** Who acted: a member's id, or `null` for the server itself (an expired suspension ending, say). */
  actorId: string | null;
  /** What was done, e.g. `member.remove`, `post.remove`, `domain.block`, `report.resolve`. */
  action: string;
  subject: AuditSubject;
  /** The reason the moderator gave. */
  reason: string;
  /** Anything else worth keeping (the role given, the suspension's end...). */
  details: Record<string, unknown>;
  createdAt: Date;
}

/** The audit log's storage: append and read, nothing else. */
export interface AuditStore {
  append(entry: AuditEntry): Promise<void>;
  /** Newest first; `subject` narrows to entries about one thing (a member's own view). */
  list(options: {
    limit: number;
    before?: string | undefined;
    about?: AuditSubject | undefined;
    /**
     * Entries concerning one member: about them, or about their posts (whose
     * entries name the author as `details.member_id`).
     */
    concerning?: string | undefined;
  }): Promise<AuditEntry[]>;
}
