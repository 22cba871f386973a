/**
 * The `clique` command line. Every command reads the same environment as the
 * server, and works whether or not the server is running (with the embedded
 * database too: it joins the running one).
 */

import { parseScopes } from "@clique/core";
import { migrateToLatest } from "@clique/core/kysely";
import { Command, InvalidArgumentError, Option } from "commander";
import { parseDuration } from "../api/clique/schemas.ts";
import { describeData, ENVIRONMENT_VARIABLES, loadConfig, ROLES, type Role } from "../config.ts";
import { setupLogging } from "../logging.ts";
import { startServer } from "../server.ts";
import { CliError, explain, generatePassword, readStdin, withClique } from "./context.ts";
import { addDomainCommands } from "./domain-commands.ts";
import { addMemberModerationCommands } from "./member-commands.ts";
import { addReportCommands } from "./report-commands.ts";

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new InvalidArgumentError("expected a whole number of at least 1");
  return n;
}

function duration(value: string): number {
  const seconds = parseDuration(value);
  if (seconds === null)
    throw new InvalidArgumentError("expected a duration like 30m, 12h, 7d or 2w");
  return seconds;
}

const envHelp = `\nEnvironment:\n${ENVIRONMENT_VARIABLES.map((v) => `  ${v.name.padEnd(30)} ${v.meaning} (default: ${v.default})`).join("\n")}\n`;

/** Prints a generated password alone on the last line, saying what it is and how to change it. */
function printGeneratedPassword(username: string, password: string): void {
  console.log(
    `Generated password for @${username} (it stays valid until changed) — change it with \`npx clique password reset ${username} --password-stdin\` or POST /api/v1/clique/password:`,
  );
  console.log(password);
}

/** Builds the command tree; `main` parses `process.argv` with it. */
export function buildProgram(): Command {
  const program = new Command("clique")
    .description("Clique: an invite-only social space for your group, on the fediverse.")
    .showHelpAfterError()
    .addHelpText("after", envHelp);

  program
    .command("start")
    .description("serve the Clique (the same as `npm start`)")
    .addOption(
      new Option(
        "--role <role>",
        "web (HTTP only), worker (outbox relay, deliveries, inbox) or all (default: CLIQUE_ROLE or all)",
      ).choices(ROLES),
    )
    .action(async (opts: { role?: Role }) => {
      const config = loadConfig({
        ...process.env,
        ...(opts.role ? { CLIQUE_ROLE: opts.role } : {}),
      });
      await setupLogging(config.logLevel);
      const server = await startServer(config);
      const stop = () => {
        server.close().then(
          () => process.exit(0),
          () => process.exit(1),
        );
      };
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
    });

  program
    .command("migrate")
    .description("bring the database schema up to date (the server also does this at start)")
    .action(async () => {
      await withClique(async ({ storage }) => {
        const { applied } = await migrateToLatest(storage.db);
        console.log(
          applied.length > 0 ? `Applied: ${applied.join(", ")}` : "The schema is up to date.",
        );
      });
    });

  program
    .command("init")
    .description("create the Clique and its owner")
    .requiredOption("--name <name>", "the Clique's name")
    .requiredOption("--owner <username>", "the owner's username")
    .option("--cap <n>", "member cap (default: CLIQUE_MEMBER_CAP or 50)", positiveInt)
    .option("--description <text>", "a short description")
    .option("--password-stdin", "read the owner's password from standard input")
    .action(
      async (opts: {
        name: string;
        owner: string;
        cap?: number;
        description?: string;
        passwordStdin?: boolean;
      }) => {
        const generated = !opts.passwordStdin;
        const password = opts.passwordStdin ? await readStdin() : generatePassword();
        await withClique(async ({ clique, config }) => {
          // Said first, so that a Clique made in an unexpected place is noticed.
          console.log(`Using ${describeData(config)}.`);
          const result = await clique.initClique({
            name: opts.name,
            ownerUsername: opts.owner,
            ownerPassword: password,
            ...(opts.cap !== undefined ? { memberCap: opts.cap } : {}),
            ...(opts.description !== undefined ? { description: opts.description } : {}),
          });
          if (!result.ok) throw new CliError(explain(result.reason, result.detail));
          console.log(
            `Created "${result.value.settings.name}" (cap ${result.value.settings.memberCap}) at ${config.origin}`,
          );
          console.log(`Owner: @${result.value.owner.username}`);
          if (generated) printGeneratedPassword(result.value.owner.username, password);
        });
      },
    );

  const invite = program.command("invite").description("create, list, revoke and redeem invites");
  invite
    .command("create")
    .description("create an invite; prints its URL, then the code alone on the last line")
    .requiredOption("--by <username>", "the member creating it")
    .option(
      "--max-uses <n>",
      "how many people may join with it (default: no limit but the cap)",
      positiveInt,
    )
    .option("--expires-in <duration>", "validity, like 30m, 12h, 7d (default 7d)", duration)
    .option("--no-expiry", "never expire")
    .action(async (opts: { by: string; maxUses?: number; expiresIn?: number; expiry: boolean }) => {
      await withClique(async ({ clique }) => {
        const member = await clique.getMemberByUsername(opts.by);
        if (!member) throw new CliError(`no member named ${opts.by}`);
        const result = await clique.createInvite(member, {
          maxUses: opts.maxUses ?? null,
          expiresInSeconds: opts.expiry ? (opts.expiresIn ?? 7 * 86400) : null,
        });
        if (!result.ok) throw new CliError(explain(result.reason, result.detail));
        const { invite: created, url, code } = result.value;
        console.log(
          `Invite ${created.id}: ${created.maxUses ?? "unlimited"} use(s), expires ${created.expiresAt?.toISOString() ?? "never"}`,
        );
        console.log(url);
        console.log(code);
      });
    });
  invite
    .command("list")
    .description("list invites")
    .action(async () => {
      await withClique(async ({ clique }) => {
        for (const i of await clique.listInvites()) {
          const state = i.revokedAt
            ? "revoked"
            : i.expiresAt && i.expiresAt < new Date()
              ? "expired"
              : "active";
          console.log(
            `${i.id}  ${i.codeHint}…  ${state}  uses ${i.uses}/${i.maxUses ?? "∞"}  expires ${i.expiresAt?.toISOString() ?? "never"}`,
          );
        }
      });
    });
  invite
    .command("revoke <id>")
    .description("revoke an invite")
    .requiredOption("--by <username>", "the member revoking it")
    .action(async (id: string, opts: { by: string }) => {
      await withClique(async ({ clique }) => {
        const member = await clique.getMemberByUsername(opts.by);
        if (!member) throw new CliError(`no member named ${opts.by}`);
        const result = await clique.revokeInvite(member, id);
        if (!result.ok) throw new CliError(explain(result.reason, result.detail));
        console.log("Revoked.");
      });
    });
  invite
    .command("redeem <code>")
    .description("join the Clique with an invite code")
    .requiredOption("--username <name>", "your username")
    .requiredOption("--password-stdin", "read your password from standard input")
    .option("--display-name <name>", "your display name")
    .action(async (code: string, opts: { username: string; displayName?: string }) => {
      const password = await readStdin();
      await withClique(async ({ clique }) => {
        const result = await clique.redeemInvite({
          code,
          username: opts.username,
          password,
          ...(opts.displayName ? { displayName: opts.displayName } : {}),
        });
        if (!result.ok) throw new CliError(explain(result.reason, result.detail));
        console.log(`Welcome, @${result.value.username}!`);
      });
    });

  const token = program.command("token").description("API tokens");
  token
    .command("create <username>")
    .description("create a bearer token for the API; prints it alone on the last line")
    .option("--name <name>", "what the token is for", "cli")
    // OAuth scopes (issue 11): a token may do less than a session.
    .option("--scopes <scopes>", 'what it may do, e.g. "read write:statuses" (default: everything)')
    .action(async (username: string, opts: { name: string; scopes?: string }) => {
      await withClique(async ({ clique }) => {
        const member = await clique.getMemberByUsername(username);
        if (!member) throw new CliError(`no member named ${username}`);
        if (member.status !== "active")
          throw new CliError(`@${member.username} is ${member.status}`);
        const scopes = opts.scopes === undefined ? undefined : parseScopes(opts.scopes);
        if (scopes === null) throw new CliError(`unknown scope in "${opts.scopes}"`);
        const secret = await clique.issueToken(member, "api", opts.name, scopes);
        console.log(`Token for @${member.username} (use it as "Authorization: Bearer <token>"):`);
        console.log(secret);
      });
    });

  const passwordCommand = program.command("password").description("members' passwords");
  passwordCommand
    .command("reset <username>")
    .description(
      "set a member's password and end all their sessions and tokens; prints a generated one alone on the last line",
    )
    .option("--password-stdin", "read the new password from standard input (else one is generated)")
    .action(async (username: string, opts: { passwordStdin?: boolean }) => {
      const password = opts.passwordStdin ? await readStdin() : generatePassword();
      await withClique(async ({ clique }) => {
        const target = await clique.getMemberByUsername(username);
        if (!target) throw new CliError(`no member named ${username}`);
        const result = await clique.resetPassword(target.id, password);
        if (!result.ok) throw new CliError(explain(result.reason, result.detail));
        console.log(
          `Password of @${target.username} reset; ${result.value.revoked} session(s) and token(s) ended.`,
        );
        if (!opts.passwordStdin) printGeneratedPassword(target.username, password);
      });
    });

  const member = program.command("member").description("members of the Clique");
  member
    .command("list")
    .description("list members")
    .action(async () => {
      await withClique(async ({ clique }) => {
        const members = await clique.listMembers();
        const settings = await clique.getSettings();
        for (const m of members) {
          console.log(
            `${m.username.padEnd(30)} ${m.role.padEnd(9)} ${m.status.padEnd(9)} joined ${m.createdAt.toISOString().slice(0, 10)}`,
          );
        }
        console.log(
          `${members.filter((m) => m.status !== "removed").length} of ${settings?.memberCap ?? "?"} seats taken.`,
        );
      });
    });
  member
    .command("set-status <username> <status>")
    .description(
      "suspend (until lifted), remove (posts kept hidden) or reinstate a member (status: active, suspended, removed)",
    )
    .action(async (username: string, status: string) => {
      if (!["active", "suspended", "removed"].includes(status))
        throw new CliError("status must be active, suspended or removed");
      await withClique(async ({ clique, moderation }) => {
        const target = await clique.getMemberByUsername(username);
        if (!target) throw new CliError(`no member named ${username}`);
        // The moderation workflows, as the operator (audited with via: cli); a removed
        // member comes back only through the server's own setMemberStatus (a free seat needed).
        const result =
          status === target.status
            ? { ok: true as const }
            : status === "suspended"
              ? await moderation.members.suspendMember(null, target.id, { reason: "", until: null })
              : status === "removed"
                ? await moderation.members.removeMember(null, target.id, {
                    reason: "",
                    deleteContent: false,
                  })
                : target.status === "suspended"
                  ? await moderation.members.unsuspendMember(null, target.id)
                  : await clique.setMemberStatus(target.id, "active");
        if (!result.ok) throw new CliError(explain(result.reason, result.detail));
        console.log(`@${target.username} is now ${status}.`);
      });
    });

  addMemberModerationCommands(program, member);

  addReportCommands(program);

  addDomainCommands(program);

  const queue = program
    .command("queue")
    .description("see and retry the work waiting to be done: outbox events, deliveries, inbox");

  queue
    .command("status")
    .description("what waits in each queue, and the dead letters (work that failed every try)")
    .option("--limit <n>", "dead letters to list (default 20)", positiveInt)
    .action(async (opts: { limit?: number }) => {
      await withClique(async ({ clique, jobs }) => {
        const limit = opts.limit ?? 20;
        const events = await clique.outbox.counts();
        console.log(`Job engine: BullMQ on ${jobs.backend === "redis" ? "Redis" : "PostgreSQL"}`);
        console.log(`outbox events  ${events.pending} waiting, ${events.dead} dead`);
        for (const q of await jobs.status()) {
          console.log(
            `${q.name.padEnd(14)} ${q.waiting} waiting, ${q.active} running, ${q.delayed} delayed, ${q.failed} dead`,
          );
        }
        const dead = [
          ...(await clique.outbox.listDead(limit)).map((e) => ({
            id: `event:${e.id}`,
            what: `${e.event.kind} event`,
            attempts: e.attempts,
            reason: e.lastError ?? "",
            at: e.deadAt,
          })),
          ...(await jobs.deadLetters(limit)).map((j) => ({
            id: `${j.queue}:${j.id}`,
            what: j.summary,
            attempts: j.attempts,
            reason: j.reason,
            at: j.failedAt,
          })),
        ].slice(0, limit);
        if (dead.length === 0) {
          console.log("No dead letters.");
          return;
        }
        console.log("\nDead letters (retry one with `clique queue retry ID`):");
        for (const d of dead)
          console.log(
            `${d.id}  ${d.what}; ${d.attempts} attempts; ${d.at?.toISOString() ?? "?"}; ${d.reason}`,
          );
      });
    });

  queue
    .command("retry <id>")
    .description("put a dead letter back to work (an ID as `clique queue status` lists it)")
    .action(async (id: string) => {
      await withClique(async ({ clique, jobs }) => {
        const [kind, ...rest] = id.split(":");
        const key = rest.join(":");
        const done =
          kind === "event"
            ? await clique.outbox.revive(key)
            : jobs.queueNames().includes(kind ?? "") && key !== ""
              ? await jobs.retry(kind!, key)
              : null;
        if (done === null)
          throw new CliError(
            `"${id}" is not an ID of a dead letter: use one that \`clique queue status\` lists (event:…, outbox:…, inbox:…, fanout:…)`,
          );
        if (!done) throw new CliError(`No dead letter ${id}`);
        console.log(`${id} is back in its queue.`);
      });
    });

  return program;
}
