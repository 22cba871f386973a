import { fail, isId, type Member, ok, type Result } from "@clique/core";
import { auditEntry, inQueueOf, type ReportContext } from "./context.ts";
import type { Report } from "./report.ts";

/** Why a report cannot be forwarded. */
export type ForwardProblem = "not_found" | "not_allowed" | "not_remote" | "already_forwarded";

/**
 * A moderator sends a report about a remote account to that account's
 * server, as a `Flag` from the instance actor: anonymised, naming the account
 * and the reported posts, with the comment only if the moderator chooses (a
 * member's words can say who wrote them). Recorded in core's outbox in the
 * same transaction as the report's change and its audit entry; core's
 * publisher sends it. Once per report.
 */
export async function forwardReport(
  ctx: ReportContext,
  by: Member | null,
  reportId: string,
  options: { includeComment?: boolean } = {},
): Promise<Result<Report, ForwardProblem>> {
  if (by && (await ctx.check(by, "report.forward"))) return fail("not_allowed");
  const report = isId(reportId) ? await ctx.storage.reports.getById(reportId) : null;
  if (!report || !inQueueOf(by, report)) return fail("not_found");
  const target = await ctx.clique().getActor(report.targetAccountId);
  if (target?.kind !== "remote" || !target.uri)
    return fail("not_remote", "Only a report about an account on another server can be forwarded");
  if (report.forwardedAt) return fail("already_forwarded", "This report was forwarded already");
  const withComment = (options.includeComment ?? false) && report.comment.trim() !== "";
  const at = ctx.now();
  const forwarded = await ctx.storage.transaction(async (tx) => {
    const marked = await tx.reports.markForwarded(report.id, by?.id ?? null, at);
    if (!marked) return null;
    await tx.record(
      {
        kind: "report-forwarded",
        targetActorId: target.id,
        postUris: report.posts.map((p) => p.uri),
        comment: withComment ? report.comment : null,
      },
      at,
    );
    await tx.audit(
      auditEntry(ctx, by, "report.forward", report, "", {
        to: target.host,
        posts: report.posts.length,
        with_comment: withComment,
      }),
    );
    return marked;
  });
  return forwarded ? ok(forwarded) : fail("already_forwarded", "This report was forwarded already");
}
