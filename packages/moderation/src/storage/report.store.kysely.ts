import { type FederationEvent, notifyReportFiled } from "@clique/core";
import { createKyselyStores, type Database } from "@clique/core/kysely";
import { type Kysely, type Selectable, sql } from "kysely";
import type {
  Report,
  ReportCategory,
  ReportChange,
  ReportedPost,
  ReportQuery,
  ReportState,
  ReportStorage,
  ReportStore,
  ReportTransaction,
} from "../reports/report.ts";
import { KyselyAuditStore } from "./audit.store.kysely.ts";
import type { ModerationDatabase, ReportsTable } from "./schema.ts";

function date(value: Date | string): Date;
function date(value: Date | string | null): Date | null;
function date(value: Date | string | null): Date | null {
  return value === null ? null : new Date(value);
}

function toReport(row: Selectable<ReportsTable>): Report {
  return {
    id: row.id,
    targetAccountId: row.target_account_id,
    targetAccountUri: row.target_account_uri,
    posts: (Array.isArray(row.posts) ? row.posts : []) as ReportedPost[],
    comment: row.comment,
    category: row.category as ReportCategory,
    reporter: row.reporter_member_id
      ? { kind: "member", memberId: row.reporter_member_id }
      : {
          kind: "remote",
          actorUri: row.reporter_actor_uri ?? "",
          host: row.reporter_host ?? "",
          actorId: row.reporter_actor_id,
        },
    forwardRequested: row.forward_requested,
    flagUri: row.flag_uri,
    state: row.state as ReportState,
    assigneeId: row.assignee_id,
    actionTaken: row.action_taken,
    actionTakenAt: date(row.action_taken_at),
    actionTakenById: row.action_taken_by,
    forwardedAt: date(row.forwarded_at),
    forwardedById: row.forwarded_by,
    createdAt: date(row.created_at),
    updatedAt: date(row.updated_at),
  };
}

/** Reports in PostgreSQL. */
export class KyselyReportStore implements ReportStore {
  private readonly db: Kysely<ModerationDatabase>;

  constructor(db: Kysely<ModerationDatabase>) {
    this.db = db;
  }

  async create(report: Report): Promise<boolean> {
    const reporter = report.reporter;
    const result = await this.db
      .insertInto("moderation_reports")
      .values({
        id: report.id,
        target_account_id: report.targetAccountId,
        target_account_uri: report.targetAccountUri,
        posts: sql`${JSON.stringify(report.posts)}::jsonb`,
        comment: report.comment,
        category: report.category,
        reporter_member_id: reporter.kind === "member" ? reporter.memberId : null,
        reporter_actor_uri: reporter.kind === "remote" ? reporter.actorUri : null,
        reporter_host: reporter.kind === "remote" ? reporter.host.toLowerCase() : null,
        reporter_actor_id: reporter.kind === "remote" ? reporter.actorId : null,
        forward_requested: report.forwardRequested,
        flag_uri: report.flagUri,
        state: report.state,
        assignee_id: report.assigneeId,
        action_taken: report.actionTaken,
        action_taken_at: report.actionTakenAt,
        action_taken_by: report.actionTakenById,
        forwarded_at: report.forwardedAt,
        forwarded_by: report.forwardedById,
        created_at: report.createdAt,
        updated_at: report.updatedAt,
      })
      // The same Flag may reach two inboxes at once: the first one files it.
      .onConflict((oc) => oc.column("flag_uri").doNothing())
      .returning("id")
      .executeTakeFirst();
    return result !== undefined;
  }

  async getById(id: string): Promise<Report | null> {
    const row = await this.db
      .selectFrom("moderation_reports")
      .selectAll()
      .where("id", "=", id)
      .executeTakeFirst();
    return row ? toReport(row) : null;
  }

  async list(q: ReportQuery): Promise<Report[]> {
    let query = this.db.selectFrom("moderation_reports").selectAll();
    if (q.state) query = query.where("state", "=", q.state);
    if (q.closed !== undefined)
      query = q.closed ? query.where("state", "!=", "open") : query.where("state", "=", "open");
    if (q.reporterMemberId) query = query.where("reporter_member_id", "=", q.reporterMemberId);
    if (q.targetAccountId) query = query.where("target_account_id", "=", q.targetAccountId);
    if (q.notAbout) query = query.where("target_account_id", "!=", q.notAbout);
    if (q.maxId) query = query.where("id", "<", q.maxId);
    if (q.sinceId) query = query.where("id", ">", q.sinceId);
    // min_id pages forward: the oldest after it first, then shown newest first.
    if (q.minId) {
      const rows = await query
        .where("id", ">", q.minId)
        .orderBy("id", "asc")
        .limit(q.limit)
        .execute();
      return rows.reverse().map(toReport);
    }
    const rows = await query.orderBy("id", "desc").limit(q.limit).execute();
    return rows.map(toReport);
  }

  async change(id: string, change: ReportChange, at: Date): Promise<Report | null> {
    if (change.from.length === 0) return null;
    const row = await this.db
      .updateTable("moderation_reports")
      .set({
        ...(change.state !== undefined ? { state: change.state } : {}),
        ...(change.assigneeId !== undefined ? { assignee_id: change.assigneeId } : {}),
        ...(change.actionTaken !== undefined ? { action_taken: change.actionTaken } : {}),
        ...(change.actionTakenAt !== undefined ? { action_taken_at: change.actionTakenAt } : {}),
        ...(change.actionTakenById !== undefined
          ? { action_taken_by: change.actionTakenById }
          : {}),
        updated_at: at,
      })
      .where("id", "=", id)
      .where("state", "in", [...change.from])
      .returningAll()
      .executeTakeFirst();
    return row ? toReport(row) : null;
  }

  async markForwarded(id: string, by: string | null, at: Date): Promise<Report | null> {
    const row = await this.db
      .updateTable("moderation_reports")
      .set({ forwarded_at: at, forwarded_by: by, updated_at: at })
      .where("id", "=", id)
      .where("forwarded_at", "is", null)
      .returningAll()
      .executeTakeFirst();
    return row ? toReport(row) : null;
  }
}

/**
 * Reports with transactions that also write the audit log and core's outbox:
 * moderation's tables live in the Clique's database, so one PostgreSQL
 * transaction holds the report's change, its audit entry and the event the
 * publisher will send — all land or none does.
 */
export function kyselyReportStorage(db: Kysely<ModerationDatabase>): ReportStorage {
  const tx = (trx: Kysely<ModerationDatabase>): ReportTransaction => {
    const audit = new KyselyAuditStore(trx);
    const core = createKyselyStores(trx as unknown as Kysely<Database>);
    const outbox = core.outbox;
    return {
      reports: new KyselyReportStore(trx),
      audit: (entry) => audit.append(entry),
      record: (event: FederationEvent, at: Date) => outbox.record(event, at),
      // Notifications of every type (issue 11): the moderators learn of a report with it.
      notifyFiled: (report, at) =>
        notifyReportFiled(
          core,
          {
            id: report.id,
            reporterId:
              report.reporter.kind === "member"
                ? report.reporter.memberId
                : report.reporter.actorId,
            targetAccountId: report.targetAccountId,
          },
          at,
        ),
    };
  };
  return {
    reports: new KyselyReportStore(db),
    transaction: (fn) =>
      db.isTransaction ? fn(tx(db)) : db.transaction().execute((trx) => fn(tx(trx))),
  };
}
