/**
 * The report queue's state machine, and what moderators read of it.
 *
 *   open ──resolve(action)──▶ resolved
 *   open ──dismiss(reason)──▶ dismissed
 *   resolved | dismissed ──reopen──▶ open
 *   open: assign (to oneself) / unassign
 *
 * Every step asks the permission table (`report.handle`), changes the report
 * only from the states it allows (a conditional update, so two moderators at
 * once cannot both resolve it) and writes the audit log in the same
 * transaction. Nobody handles, or even sees, a report about themselves.
 */
import { fail, isId, type Member, ok, type Result } from "@clique/core";
import { auditEntry, cleanText, inQueueOf, type ReportContext } from "./context.ts";
import {
  MAX_ACTION_TEXT,
  type Report,
  type ReportChange,
  type ReportQuery,
  type ReportState,
} from "./report.ts";

/** A step of the state machine. */
export type ReportStep = "assign" | "unassign" | "resolve" | "dismiss" | "reopen";

/** Why a step is refused. */
export type ReportStepProblem =
  | "not_found"
  | "not_allowed"
  | "report_closed"
  | "report_open"
  | "text_too_long";

/** Where each step may start from. */
const FROM: Readonly<Record<ReportStep, readonly ReportState[]>> = {
  assign: ["open"],
  unassign: ["open"],
  resolve: ["open"],
  dismiss: ["open"],
  reopen: ["resolved", "dismissed"],
};

/** The report as `by` may see it in the queue, after the permission table. */
async function queued(
  ctx: ReportContext,
  by: Member | null,
  id: string,
): Promise<Result<Report, "not_found" | "not_allowed">> {
  if (by && (await ctx.check(by, "report.handle"))) return fail("not_allowed");
  const report = isId(id) ? await ctx.storage.reports.getById(id) : null;
  return report && inQueueOf(by, report) ? ok(report) : fail("not_found");
}

/**
 * Takes a step. `text` is the action taken (resolve) or the reason for
 * dismissing; optional for both, since Mastodon's apps resolve without one
 * (Clique's CLI asks for it); other steps take none.
 */
export async function stepReport(
  ctx: ReportContext,
  by: Member | null,
  id: string,
  step: ReportStep,
  text = "",
): Promise<Result<Report, ReportStepProblem>> {
  const found = await queued(ctx, by, id);
  if (!found.ok) return found;
  const report = found.value;
  const said = cleanText(text, MAX_ACTION_TEXT + 1);
  if ([...said].length > MAX_ACTION_TEXT)
    return fail("text_too_long", `At most ${MAX_ACTION_TEXT} characters`);
  const at = ctx.now();
  const change: ReportChange = { from: FROM[step] };
  switch (step) {
    case "assign":
      // To oneself; the console assigns nobody.
      change.assigneeId = by?.id ?? null;
      break;
    case "unassign":
      change.assigneeId = null;
      break;
    case "resolve":
    case "dismiss":
      change.state = step === "resolve" ? "resolved" : "dismissed";
      change.actionTaken = said === "" ? null : said;
      change.actionTakenAt = at;
      change.actionTakenById = by?.id ?? null;
      break;
    case "reopen":
      // What was done stays in the audit log; the report is simply open again.
      change.state = "open";
      change.actionTaken = null;
      change.actionTakenAt = null;
      change.actionTakenById = null;
      break;
    default: {
      const unreachable: never = step;
      throw new Error(`unknown step ${String(unreachable)}`);
    }
  }
  const changed = await ctx.storage.transaction(async (tx) => {
    const after = await tx.reports.change(report.id, change, at);
    if (!after) return null;
    await tx.audit(
      auditEntry(ctx, by, `report.${step}`, after, said, {
        from: report.state,
        to: after.state,
        ...(step === "assign" || step === "unassign" ? { assignee_id: after.assigneeId } : {}),
      }),
    );
    return after;
  });
  if (changed) return ok(changed);
  // Someone else moved it first, or it was never in a state this step starts from.
  const now = await ctx.storage.reports.getById(report.id);
  return step === "reopen" && now?.state === "open"
    ? fail("report_open", "This report is open already")
    : fail("report_closed", "This report is closed: reopen it first");
}

/** One report of the queue, for a moderator (or the console). */
export async function getReport(
  ctx: ReportContext,
  by: Member | null,
  id: string,
): Promise<Result<Report, "not_found" | "not_allowed">> {
  return queued(ctx, by, id);
}

/** The queue, newest first, for a moderator (never reports about themselves). */
export async function listReports(
  ctx: ReportContext,
  by: Member | null,
  query: Omit<ReportQuery, "notAbout">,
): Promise<Result<Report[], "not_allowed">> {
  if (by && (await ctx.check(by, "report.handle"))) return fail("not_allowed");
  return ok(await ctx.storage.reports.list({ ...query, ...(by ? { notAbout: by.id } : {}) }));
}

/** The reports a member filed (they may follow what became of them). */
export async function listOwnReports(
  ctx: ReportContext,
  member: Member,
  query: Omit<ReportQuery, "reporterMemberId" | "notAbout">,
): Promise<Report[]> {
  return ctx.storage.reports.list({ ...query, reporterMemberId: member.id });
}

/** One report a member filed; *not found* for anyone else's. */
export async function getOwnReport(
  ctx: ReportContext,
  member: Member,
  id: string,
): Promise<Report | null> {
  const report = isId(id) ? await ctx.storage.reports.getById(id) : null;
  return report?.reporter.kind === "member" && report.reporter.memberId === member.id
    ? report
    : null;
}
