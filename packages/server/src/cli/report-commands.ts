/**
 * `clique report …`: the report queue at the server's console. The operator
 * acts as themselves (the audit log records `via: cli`), or as a moderator
 * with `--by`, whom the permission table then rules as in the API.
 */
import type { Member } from "@clique/core";
import { REPORT_STATES, type Report, type ReportState } from "@clique/moderation";
import { type Command, InvalidArgumentError } from "commander";
import type { Composition } from "../compose.ts";
import { CliError, explain, withClique } from "./context.ts";

function state(value: string): ReportState {
  if (!(REPORT_STATES as readonly string[]).includes(value))
    throw new InvalidArgumentError(`expected one of ${REPORT_STATES.join(", ")}`);
  return value as ReportState;
}

function limit(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 200)
    throw new InvalidArgumentError("expected a whole number from 1 to 200");
  return n;
}

/** The member named by `--by`, or the operator (`null`). */
async function actingAs(c: Composition, username: string | undefined): Promise<Member | null> {
  if (username === undefined) return null;
  const member = await c.clique.getMemberByUsername(username);
  if (member?.status !== "active") throw new CliError(`no active member named ${username}`);
  return member;
}

/** `@user` for a member, `@user@host` elsewhere; the id when the account is gone. */
async function handles(c: Composition, reports: readonly Report[]): Promise<Map<string, string>> {
  const ids = reports.flatMap((r) => [
    r.targetAccountId,
    ...(r.reporter.kind === "member" ? [r.reporter.memberId] : []),
    ...(r.assigneeId ? [r.assigneeId] : []),
  ]);
  const actors = await c.clique.getActors([...new Set(ids)]);
  return new Map(
    actors.map((a) => [a.id, a.kind === "local" ? `@${a.username}` : `@${a.username}@${a.host}`]),
  );
}

function line(report: Report, names: Map<string, string>): string {
  const name = (id: string) => names.get(id) ?? id;
  const by =
    report.reporter.kind === "member"
      ? name(report.reporter.memberId)
      : `server ${report.reporter.host}`;
  const comment = report.comment.replace(/\s+/g, " ").slice(0, 60);
  return [
    report.id,
    report.state.padEnd(9),
    report.category.padEnd(9),
    `about ${name(report.targetAccountId)}`,
    `by ${by}`,
    report.createdAt.toISOString().slice(0, 16).replace("T", " "),
    `${report.posts.length} post(s)`,
    ...(report.assigneeId ? [`assigned to ${name(report.assigneeId)}`] : []),
    ...(report.forwardedAt ? ["forwarded"] : []),
    ...(report.actionTaken ? [`action: ${report.actionTaken}`] : []),
    ...(comment ? [`"${comment}"`] : []),
  ].join("  ");
}

/** Adds `report list`, `report resolve` and `report dismiss`. */
export function addReportCommands(program: Command): void {
  const report = program.command("report").description("the report queue");
  report
    .command("list")
    .description("list reports, newest first")
    .option("--state <state>", `only reports in this state (${REPORT_STATES.join(", ")})`, state)
    .option("--limit <n>", "how many (default 40)", limit)
    .option("--by <username>", "as this moderator (their queue leaves out reports about them)")
    .action(async (opts: { state?: ReportState; limit?: number; by?: string }) => {
      await withClique(async (c) => {
        const result = await c.moderation.reports.list(await actingAs(c, opts.by), {
          state: opts.state,
          limit: opts.limit ?? 40,
        });
        if (!result.ok) throw new CliError(explain(result.reason));
        if (result.value.length === 0) {
          console.log(opts.state ? `No ${opts.state} reports.` : "No reports.");
          return;
        }
        const names = await handles(c, result.value);
        for (const r of result.value) console.log(line(r, names));
      });
    });
  report
    .command("resolve <id>")
    .description("close a report, saying what was done")
    .requiredOption("--action <text>", "the action taken (e.g. `removed the post`)")
    .option("--by <username>", "as this moderator (default: the operator)")
    .action(async (id: string, opts: { action: string; by?: string }) => {
      await withClique(async (c) => {
        const result = await c.moderation.reports.step(
          await actingAs(c, opts.by),
          id,
          "resolve",
          opts.action,
        );
        if (!result.ok) throw new CliError(explain(result.reason, result.detail));
        console.log(`Report ${result.value.id} resolved: ${result.value.actionTaken ?? ""}`);
      });
    });
  report
    .command("dismiss <id>")
    .description("close a report without action")
    .option("--reason <text>", "why nothing is done")
    .option("--by <username>", "as this moderator (default: the operator)")
    .action(async (id: string, opts: { reason?: string; by?: string }) => {
      await withClique(async (c) => {
        const result = await c.moderation.reports.step(
          await actingAs(c, opts.by),
          id,
          "dismiss",
          opts.reason ?? "",
        );
        if (!result.ok) throw new CliError(explain(result.reason, result.detail));
        console.log(`Report ${result.value.id} dismissed.`);
      });
    });
}
