/**
 * `clique member remove|suspend|unsuspend|role`, `clique post remove|hide|unhide`
 * and `clique audit list`: moderating members and their content at the
 * server's console. The operator acts as the server itself, with an owner's
 * reach (only the last-owner rule binds it); the audit log records them with
 * `actor_id: null` and `via: "cli"`. With `--by USER` they act as that member
 * instead, whom the permission table then rules as in the API.
 */
import { ROLES as MEMBER_ROLES, type Member, type Role as MemberRole } from "@clique/core";
import type { AuditEntry } from "@clique/moderation";
import { type Command, InvalidArgumentError, Option } from "commander";
import { parseDuration } from "../api/clique/schemas.ts";
import type { Composition } from "../compose.ts";
import { CliError, explain, withClique } from "./context.ts";

/** A date (ISO 8601, or a day like 2027-01-31) or a duration from now (30m, 12h, 7d, 2w). */
export function parseUntil(value: string, now = new Date()): Date {
  const seconds = parseDuration(value);
  if (seconds !== null) return new Date(now.getTime() + seconds * 1000);
  const at = /^\d{4}-\d{2}-\d{2}(?:[T ][\d:.]+(?:Z|[+-]\d{2}:?\d{2})?)?$/.test(value)
    ? new Date(value)
    : new Date(Number.NaN);
  if (Number.isNaN(at.getTime()))
    throw new InvalidArgumentError(
      "expected a date (2027-01-31, 2027-01-31T18:00Z) or a duration (7d)",
    );
  return at;
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

async function memberNamed(c: Composition, username: string): Promise<Member> {
  const member = await c.clique.getMemberByUsername(username);
  if (!member || member.status === "removed") throw new CliError(`no member named ${username}`);
  return member;
}

const byOption = () =>
  new Option("--by <username>", "act as this member (the permission table rules them)");

/** Adds the moderation commands to `clique member`, and `clique post` and `clique audit`. */
export function addMemberModerationCommands(program: Command, member: Command): void {
  member
    .command("remove <username>")
    .description(
      "remove a member: sessions and tokens end, the seat is freed, other servers are sent a Delete of the actor",
    )
    .requiredOption("--reason <text>", "why (kept in the audit log)")
    .option(
      "--delete-content",
      "delete their posts (default: kept on this server, hidden from everyone)",
    )
    .addOption(byOption())
    .action(
      async (username: string, opts: { reason: string; deleteContent?: boolean; by?: string }) => {
        await withClique(async (c) => {
          const target = await memberNamed(c, username);
          const result = await c.moderation.members.removeMember(
            await actingAs(c, opts.by),
            target.id,
            { reason: opts.reason, deleteContent: opts.deleteContent ?? false },
          );
          if (!result.ok) throw new CliError(explain(result.reason, result.detail));
          console.log(
            `@${target.username} is removed; their posts are ${opts.deleteContent ? "deleted" : "kept hidden"}.`,
          );
        });
      },
    );

  member
    .command("suspend <username>")
    .description(
      "suspend a member (reversible): they cannot sign in, their posts are hidden, other servers see the account suspended",
    )
    .requiredOption("--reason <text>", "why (they are told, and it is kept in the audit log)")
    .option(
      "--until <date>",
      "when it ends by itself: a date, or a duration like 7d (default: until lifted)",
    )
    .addOption(byOption())
    .action(async (username: string, opts: { reason: string; until?: string; by?: string }) => {
      const until = opts.until === undefined ? null : parseUntil(opts.until);
      await withClique(async (c) => {
        const target = await memberNamed(c, username);
        const result = await c.moderation.members.suspendMember(
          await actingAs(c, opts.by),
          target.id,
          { reason: opts.reason, until },
        );
        if (!result.ok) throw new CliError(explain(result.reason, result.detail));
        console.log(
          `@${target.username} is suspended ${until ? `until ${until.toISOString()}` : "until lifted"}.`,
        );
      });
    });

  member
    .command("unsuspend <username>")
    .description("lift a member's suspension")
    .option("--reason <text>", "why (kept in the audit log)", "")
    .addOption(byOption())
    .action(async (username: string, opts: { reason: string; by?: string }) => {
      await withClique(async (c) => {
        const target = await memberNamed(c, username);
        const result = await c.moderation.members.unsuspendMember(
          await actingAs(c, opts.by),
          target.id,
          opts.reason,
        );
        if (!result.ok) throw new CliError(explain(result.reason, result.detail));
        console.log(`@${target.username} is active again.`);
      });
    });

  member
    .command("role <username> <role>")
    .description(
      `give a member a role (${MEMBER_ROLES.join(", ")}); hand ownership over by making someone owner, then stepping down`,
    )
    .option("--reason <text>", "why (kept in the audit log)", "")
    .addOption(byOption())
    .action(async (username: string, role: string, opts: { reason: string; by?: string }) => {
      if (!(MEMBER_ROLES as readonly string[]).includes(role))
        throw new CliError(`role must be one of ${MEMBER_ROLES.join(", ")}`);
      await withClique(async (c) => {
        const target = await memberNamed(c, username);
        const result = await c.moderation.members.setRole(
          await actingAs(c, opts.by),
          target.id,
          role as MemberRole,
          opts.reason,
        );
        if (!result.ok) throw new CliError(explain(result.reason, result.detail));
        console.log(`@${target.username} is now ${role} (was ${result.value.previous}).`);
      });
    });

  const post = program.command("post").description("moderate posts");
  post
    .command("remove <id>")
    .description(
      "remove a member's post: gone everywhere, its files deleted, a Delete sent; its author is told why",
    )
    .requiredOption("--reason <text>", "why (the author is told; kept in the audit log)")
    .addOption(byOption())
    .action(async (id: string, opts: { reason: string; by?: string }) => {
      await withClique(async (c) => {
        const result = await c.moderation.members.removePost(
          await actingAs(c, opts.by),
          id,
          opts.reason,
        );
        if (!result.ok) throw new CliError(explain(result.reason, result.detail));
        console.log(`Post ${result.value.id} is removed.`);
      });
    });
  for (const step of ["hide", "unhide"] as const) {
    post
      .command(`${step} <id>`)
      .description(
        step === "hide"
          ? "hide a post from elsewhere from the whole Clique"
          : "show a hidden post from elsewhere again",
      )
      .option("--reason <text>", "why (kept in the audit log)", "")
      .addOption(byOption())
      .action(async (id: string, opts: { reason: string; by?: string }) => {
        await withClique(async (c) => {
          const by = await actingAs(c, opts.by);
          const result =
            step === "hide"
              ? await c.moderation.members.hidePost(by, id, opts.reason)
              : await c.moderation.members.unhidePost(by, id, opts.reason);
          if (!result.ok) throw new CliError(explain(result.reason, result.detail));
          console.log(`Post ${result.value.id} is ${step === "hide" ? "hidden" : "shown again"}.`);
        });
      });
  }

  const audit = program.command("audit").description("the moderation audit log");
  audit
    .command("list")
    .description("the audit log, newest first (`via cli`: an operator at the console)")
    .option("--limit <n>", "how many entries (default 40)", limit)
    .option("--member <username>", "only what concerns this member (their account and their posts)")
    .action(async (opts: { limit?: number; member?: string }) => {
      await withClique(async (c) => {
        const concerning = opts.member
          ? (await c.clique.getMemberByUsername(opts.member))?.id
          : undefined;
        if (opts.member && !concerning) throw new CliError(`no member named ${opts.member}`);
        const entries = await c.moderation.audit.list({
          limit: opts.limit ?? 40,
          ...(concerning ? { concerning } : {}),
        });
        if (entries.length === 0) {
          console.log("The audit log is empty.");
          return;
        }
        const actors = new Map(
          (await c.clique.getActors(entries.flatMap((e) => (e.actorId ? [e.actorId] : [])))).map(
            (a) => [a.id, a.username],
          ),
        );
        for (const e of entries) console.log(formatEntry(e, actors));
      });
    });
}

function formatEntry(e: AuditEntry, usernames: ReadonlyMap<string, string>): string {
  const who = e.actorId
    ? `@${usernames.get(e.actorId) ?? e.actorId}`
    : `server (${String(e.details.via ?? "cli")})`;
  const subject =
    e.subject.kind === "domain"
      ? `domain ${e.subject.host}`
      : e.subject.kind === "clique"
        ? "the Clique"
        : `${e.subject.kind} ${e.subject.id}`;
  const name = typeof e.details.username === "string" ? ` (@${e.details.username})` : "";
  const reason = e.reason ? `  “${e.reason}”` : "";
  return `${e.createdAt.toISOString()}  ${e.action.padEnd(17)} ${subject}${name}  by ${who}${reason}`;
}
