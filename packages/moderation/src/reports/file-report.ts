import {
  fail,
  isId,
  type Member,
  ok,
  type Post,
  type Result,
  urlsFor,
  type Viewer,
} from "@clique/core";
import type { ReportContext } from "./context.ts";
import {
  MAX_COMMENT,
  MAX_REPORTED_POSTS,
  type Report,
  type ReportCategory,
  type ReportedPost,
} from "./report.ts";

/** What a member reports (Mastodon's `POST /api/v1/reports`). */
export interface FileReportInput {
  accountId: string;
  statusIds?: readonly string[];
  comment?: string;
  category?: ReportCategory;
  /** Ask for the report to be sent to the account's server too; a moderator decides. */
  forward?: boolean;
}

/** Why a report is refused. */
export type FileReportProblem =
  | "not_found"
  | "cannot_report_self"
  | "comment_too_long"
  | "too_many_posts";

/**
 * A member reports an account and, if they like, some of its posts. Only posts
 * the member may see (asked of the visibility module) and that the account
 * wrote can be named: anything else is *not found*, as everywhere. What the
 * member saw of each post is kept with the report, so a post edited or removed
 * later still shows the moderators what was reported.
 */
export async function fileReport(
  ctx: ReportContext,
  reporter: Member,
  input: FileReportInput,
): Promise<Result<Report, FileReportProblem>> {
  const clique = ctx.clique();
  const target = isId(input.accountId) ? await clique.getActor(input.accountId) : null;
  if (!target) return fail("not_found");
  // A removed member is gone from the API: there is no one to report.
  if (target.kind === "local" && (await clique.getMember(target.id))?.status === "removed")
    return fail("not_found");
  if (target.id === reporter.id) return fail("cannot_report_self", "You cannot report yourself");
  const comment = input.comment ?? "";
  if ([...comment].length > MAX_COMMENT)
    return fail("comment_too_long", `A comment can have at most ${MAX_COMMENT} characters`);
  const ids = [...new Set(input.statusIds ?? [])];
  if (ids.length > MAX_REPORTED_POSTS)
    return fail("too_many_posts", `A report can name at most ${MAX_REPORTED_POSTS} posts`);

  const urls = urlsFor(clique.config.origin);
  const viewer: Viewer = { kind: "member", actorId: reporter.id, role: reporter.role };
  const posts: ReportedPost[] = [];
  for (const id of ids) {
    const post: Post | null = await clique.getVisiblePost(viewer, id);
    // Not the reported account's, or not for this member's eyes: not found.
    if (!post || post.authorId !== target.id) return fail("not_found", "Record not found");
    posts.push({
      postId: post.id,
      uri: post.uri ?? urls.post(target.username, post.id),
      contentHtml: post.contentHtml,
      spoilerText: post.spoilerText,
      createdAt: post.createdAt.toISOString(),
    });
  }
  const now = ctx.now();
  const report: Report = {
    id: ctx.newId(),
    targetAccountId: target.id,
    targetAccountUri: target.uri ?? urls.actor(target.username),
    posts,
    comment: comment.replaceAll("\u0000", "").toWellFormed(),
    category: input.category ?? "other",
    reporter: { kind: "member", memberId: reporter.id },
    // Only an account elsewhere has a server to forward to.
    forwardRequested: (input.forward ?? false) && target.kind === "remote",
    flagUri: null,
    state: "open",
    assigneeId: null,
    actionTaken: null,
    actionTakenAt: null,
    actionTakenById: null,
    forwardedAt: null,
    forwardedById: null,
    createdAt: now,
    updatedAt: now,
  };
  // The moderators are told in the same transaction (admin.report notifications).
  await ctx.storage.transaction(async (tx) => {
    if (await tx.reports.create(report)) await tx.notifyFiled(report, now);
  });
  return ok(report);
}
