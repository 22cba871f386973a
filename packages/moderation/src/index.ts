/**
 * @clique/moderation — moderation workflows on core's public interfaces:
 * roles, removing content and members, reports, remote blocks, and the
 * append-only audit log. It plugs into a Clique through `createClique`'s
 * extension points (event subscribers, inbox listeners) and asks core's one
 * permission table (`decide`) before every action.
 *
 * ```ts
 * const moderation = createModeration({ db });
 * const clique = createClique({ ..., subscribers: moderation.subscribers,
 *   inboxListeners: moderation.inboxListeners });
 * moderation.attach(clique);
 * ```
 *
 * @module @clique/moderation
 */
import {
  type Action,
  type Clique,
  decide,
  type EventSubscriber,
  type InboxListener,
  type Member,
  newId,
  type Refusal,
} from "@clique/core";
import type { Kysely } from "kysely";
import type { AuditEntry, AuditSubject } from "./audit.ts";
import { suspensionTimer } from "./members/suspension-timer.ts";
import { memberWorkflows } from "./members/workflows.ts";
import { remoteWorkflows } from "./remote/remote-workflows.ts";
import type { ReportContext } from "./reports/context.ts";
import { type FileReportInput, fileReport } from "./reports/file-report.ts";
import { forwardReport } from "./reports/forward-report.ts";
import {
  getOwnReport,
  getReport,
  listOwnReports,
  listReports,
  type ReportStep,
  stepReport,
} from "./reports/handle-report.ts";
import { flagListener } from "./reports/receive-flag.ts";
import type { ReportQuery } from "./reports/report.ts";
import { KyselyAuditStore } from "./storage/audit.store.kysely.ts";
import { kyselyReportStorage } from "./storage/report.store.kysely.ts";
import type { ModerationDatabase } from "./storage/schema.ts";

export type { AuditEntry, AuditStore, AuditSubject } from "./audit.ts";
export type { SuspensionTimer } from "./members/suspension-timer.ts";
export { MAX_REASON, type MemberWorkflows } from "./members/workflows.ts";
export {
  type DomainDecision,
  MAX_REMOTE_REASON,
  type RemoteWorkflows,
} from "./remote/remote-workflows.ts";
export type { FileReportInput, FileReportProblem } from "./reports/file-report.ts";
export type { ForwardProblem } from "./reports/forward-report.ts";
export type { ReportStep, ReportStepProblem } from "./reports/handle-report.ts";
export {
  MAX_ACTION_TEXT,
  MAX_COMMENT,
  MAX_REPORTED_POSTS,
  REPORT_CATEGORIES,
  REPORT_STATES,
  type Report,
  type ReportCategory,
  type ReportedPost,
  type Reporter,
  type ReportQuery,
  type ReportState,
  type ReportStore,
} from "./reports/report.ts";
export { migrateModeration } from "./storage/migrations.ts";
export type { ModerationDatabase } from "./storage/schema.ts";

/** What `createModeration` needs. */
export interface ModerationOptions {
  /** The Clique's database (moderation keeps its own tables there: `migrateModeration`). */
  db: Kysely<ModerationDatabase>;
  now?: () => Date;
}

/** Builds moderation for a Clique; `attach` it to the Clique once that exists. */
export function createModeration(options: ModerationOptions) {
  const audit = new KyselyAuditStore(options.db);
  const now = options.now ?? (() => new Date());
  let attached: Clique | null = null;
  const clique = (): Clique => {
    if (!attached) throw new Error("moderation is not attached to a Clique yet");
    return attached;
  };

  /** Asks the permission table, counting owners when the target is one. */
  async function check(actor: Member, action: Action, target?: Member): Promise<Refusal | null> {
    const owners =
      target?.role === "owner"
        ? (await clique().listMembers("active")).filter((m) => m.role === "owner").length
        : undefined;
    return decide({
      actor: { id: actor.id, role: actor.role },
      action,
      ...(target ? { target: { id: target.id, role: target.role } } : {}),
      ...(owners !== undefined ? { owners } : {}),
    });
  }

  /** Writes one entry of the audit log. */
  async function record(
    actor: Member | null,
    action: string,
    subject: AuditSubject,
    reason: string,
    details: Record<string, unknown> = {},
  ): Promise<AuditEntry> {
    const entry: AuditEntry = {
      id: newId(),
      actorId: actor?.id ?? null,
      action,
      subject,
      reason,
      details,
      createdAt: now(),
    };
    await audit.append(entry);
    return entry;
  }

  const reportContext: ReportContext = {
    storage: kyselyReportStorage(options.db),
    clique,
    check,
    now,
    newId,
  };

  const members = memberWorkflows({ clique, record, now });
  const suspensions = suspensionTimer(clique, () => members.liftEndedSuspensions(), { now });

  const remote = remoteWorkflows({ clique, check, record });
  const subscribers: EventSubscriber[] = [suspensions.subscriber];
  const inboxListeners: InboxListener[] = [flagListener(reportContext) as InboxListener];

  return {
    /** Event subscribers to hand to `createClique`. */
    subscribers,
    /** Inbox listeners to hand to `createClique` (`Flag` arrives here). */
    inboxListeners,
    /** Connects moderation to its Clique (once). */
    attach(c: Clique): void {
      if (attached && attached !== c) throw new Error("moderation is attached to another Clique");
      attached = c;
    },
    /** The permission table, with owners counted. */
    check,
    /**
     * Remote moderation: blocks and limits of servers, suspensions and
     * silences of remote accounts. `by: null` is the operator at the console.
     */
    remote,
    audit: {
      record,
      /**
       * The audit log, newest first. `about`: entries about one thing;
       * `concerning`: a member's own view (actions on their account or their posts).
       */
      list: (
        opts: { limit?: number; before?: string; about?: AuditSubject; concerning?: string } = {},
      ) =>
        audit.list({
          limit: Math.min(opts.limit ?? 40, 200),
          before: opts.before,
          about: opts.about,
          concerning: opts.concerning,
        }),
    },
    /**
     * Members and their content: remove or hide posts, remove, suspend, warn
     * and give roles to members, and leaving. `by: null` is the operator at the console.
     */
    members,
    /** The worker that lifts ended suspensions (started by the server's worker processes). */
    suspensions,
    /**
     * Reports: members file them, other servers' `Flag`s become them, and
     * moderators work the queue. `by: null` is the operator at the console.
     */
    reports: {
      /** A member reports an account and some of its posts (Mastodon's `POST /api/v1/reports`). */
      file: (reporter: Member, input: FileReportInput) =>
        fileReport(reportContext, reporter, input),
      /** The queue, newest first (never reports about the moderator asking). */
      list: (by: Member | null, query: Omit<ReportQuery, "notAbout">) =>
        listReports(reportContext, by, query),
      get: (by: Member | null, id: string) => getReport(reportContext, by, id),
      /** assign (to oneself), unassign, resolve (with the action taken), dismiss, reopen. */
      step: (by: Member | null, id: string, step: ReportStep, text?: string) =>
        stepReport(reportContext, by, id, step, text),
      /** Sends a report about a remote account to its server, from the instance actor. */
      forward: (by: Member | null, id: string, options: { includeComment?: boolean } = {}) =>
        forwardReport(reportContext, by, id, options),
      /** The reports a member filed. */
      listOwn: (member: Member, query: Omit<ReportQuery, "reporterMemberId" | "notAbout">) =>
        listOwnReports(reportContext, member, query),
      getOwn: (member: Member, id: string) => getOwnReport(reportContext, member, id),
    },
  };
}

/** Moderation, composed. */
export type Moderation = ReturnType<typeof createModeration>;
