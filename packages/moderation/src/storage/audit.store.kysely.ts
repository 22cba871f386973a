import { type Kysely, sql } from "kysely";
import type { AuditEntry, AuditStore, AuditSubject } from "../audit.ts";

import type { ModerationDatabase } from "./schema.ts";

export type { AuditLogTable, ModerationDatabase } from "./schema.ts";

function subjectKey(subject: AuditSubject): { kind: string; value: string } {
  switch (subject.kind) {
    case "domain":
      return { kind: "domain", value: subject.host.toLowerCase() };
    case "clique":
      return { kind: "clique", value: "" };
    default:
      return { kind: subject.kind, value: subject.id };
  }
}

function toSubject(kind: string, value: string): AuditSubject {
  if (kind === "domain") return { kind, host: value };
  if (kind === "clique") return { kind };
  return { kind: kind as "member" | "post" | "account" | "report", id: value };
}

/** The audit log in PostgreSQL: inserts and selects only. */
export class KyselyAuditStore implements AuditStore {
  private readonly db: Kysely<ModerationDatabase>;

  constructor(db: Kysely<ModerationDatabase>) {
    this.db = db;
  }

  async append(entry: AuditEntry): Promise<void> {
    const subject = subjectKey(entry.subject);
    await this.db
      .insertInto("moderation_audit_log")
      .values({
        id: entry.id,
        actor_id: entry.actorId,
        action: entry.action,
        subject_kind: subject.kind,
        subject: subject.value,
        reason: entry.reason,
        details: sql`${JSON.stringify(entry.details)}::jsonb`,
        created_at: entry.createdAt,
      })
      .execute();
  }

  async list(options: {
    limit: number;
    before?: string | undefined;
    about?: AuditSubject | undefined;
    concerning?: string | undefined;
  }): Promise<AuditEntry[]> {
    let query = this.db
      .selectFrom("moderation_audit_log")
      .selectAll()
      .orderBy("id", "desc")
      .limit(options.limit);
    if (options.before) query = query.where("id", "<", options.before);
    if (options.about) {
      const subject = subjectKey(options.about);
      query = query.where("subject_kind", "=", subject.kind).where("subject", "=", subject.value);
    }
    if (options.concerning) {
      const memberId = options.concerning;
      query = query.where((eb) =>
        eb.or([
          eb.and([eb("subject_kind", "=", "member"), eb("subject", "=", memberId)]),
          eb(sql`details->>'member_id'`, "=", memberId),
        ]),
      );
    }
    const rows = await query.execute();
    return rows.map((row) => ({
      id: row.id,
      actorId: row.actor_id,
      action: row.action,
      subject: toSubject(row.subject_kind, row.subject),
      reason: row.reason,
      details: (row.details ?? {}) as Record<string, unknown>,
      createdAt: new Date(row.created_at),
    }));
  }
}
