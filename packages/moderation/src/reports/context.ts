import type { Action, Clique, Member, Refusal } from "@clique/core";
import type { AuditEntry, AuditSubject } from "../audit.ts";
import type { Report, ReportStorage } from "./report.ts";

/**
 * What the report use cases work with. `by: null` in a use case is the
 * server's operator at its console (the CLI), whom the permission table does
 * not rule: they hold the database anyway. The audit log records them as
 * `actorId: null` with `details.via: "cli"`.
 */
export interface ReportContext {
  storage: ReportStorage;
  clique(): Clique;
  /** The permission table, with owners counted. */
  check(actor: Member, action: Action, target?: Member): Promise<Refusal | null>;
  now(): Date;
  newId(): string;
}

/** Whether `by` may see a report in the queue: staff, but never about themselves. */
export function inQueueOf(by: Member | null, report: Report): boolean {
  return by === null || report.targetAccountId !== by.id;
}

/** An audit entry about a report. */
export function auditEntry(
  ctx: ReportContext,
  by: Member | null,
  action: string,
  report: Report,
  reason: string,
  details: Record<string, unknown> = {},
): AuditEntry {
  const subject: AuditSubject = { kind: "report", id: report.id };
  return {
    id: ctx.newId(),
    actorId: by?.id ?? null,
    action,
    subject,
    reason,
    details: {
      target_account_id: report.targetAccountId,
      ...details,
      ...(by === null ? { via: "cli" } : {}),
    },
    createdAt: ctx.now(),
  };
}

/** Text as it may be stored: no NUL, no lone surrogates. */
export function cleanText(text: string, max: number): string {
  return text.replaceAll("\u0000", "").toWellFormed().trim().slice(0, max).toWellFormed();
}
