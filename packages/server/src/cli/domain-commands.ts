/**
 * `clique domain …`: blocking and limiting other servers at the server's
 * console. The operator acts as themselves (the audit log records `via:
 * cli`), or as an admin with `--by`, whom the permission table then rules as
 * in the API. A running server hears of the change at once (PostgreSQL
 * notifies it when the change commits).
 */
import type { DomainBlock, Member } from "@clique/core";
import type { Command } from "commander";
import type { Composition } from "../compose.ts";
import { CliError, explain, withClique } from "./context.ts";

/** The member named by `--by`, or the operator (`null`). */
async function actingAs(c: Composition, username: string | undefined): Promise<Member | null> {
  if (username === undefined) return null;
  const member = await c.clique.getMemberByUsername(username);
  if (member?.status !== "active") throw new CliError(`no active member named ${username}`);
  return member;
}

const WORDS = { block: "Blocked", limit: "Limited", noop: "Noted" } as const;

function line(block: DomainBlock): string {
  const reason = block.reason.replace(/\s+/g, " ").slice(0, 60);
  return [
    block.domain.padEnd(30),
    block.severity.padEnd(6),
    block.createdAt.toISOString().slice(0, 10),
    reason,
  ].join("  ");
}

/** Adds `clique domain block|unblock|list`. */
export function addDomainCommands(program: Command): void {
  const domain = program
    .command("domain")
    .description("block or limit other servers (and their subdomains)");

  domain
    .command("block <host>")
    .description(
      "block a server: nothing is delivered to it or accepted from it, its follows end and what is stored of it is purged; with --limit, its posts reach only members who follow its accounts",
    )
    .requiredOption("--reason <text>", "why (kept in the audit log)")
    .option("--limit", "limit the server instead of blocking it")
    .option("--public-comment <text>", "what may be said publicly")
    .option("--by <username>", "act as this admin (the permission table applies)")
    .action(
      async (
        host: string,
        opts: { reason: string; limit?: boolean; publicComment?: string; by?: string },
      ) => {
        await withClique(async (c) => {
          const by = await actingAs(c, opts.by);
          const result = await c.moderation.remote.decideDomain(by, {
            domain: host,
            severity: opts.limit ? "limit" : "block",
            reason: opts.reason,
            ...(opts.publicComment !== undefined ? { publicComment: opts.publicComment } : {}),
          });
          if (!result.ok) throw new CliError(explain(result.reason, result.detail));
          const { block, previous, purged } = result.value;
          const was = previous ? ` (it was ${previous.severity})` : "";
          console.log(`${WORDS[block.severity]} ${block.domain} and its subdomains${was}.`);
          if (block.severity === "block")
            console.log(
              `Purged ${purged.accounts} account(s): ${purged.posts} post(s), ${purged.follows} follow(s), ${purged.interactions} like(s) and boost(s), ${purged.files} media file(s).`,
            );
        });
      },
    );

  domain
    .command("unblock <host>")
    .description(
      "lift a server's block or limit (what a block purged stays gone; members follow again)",
    )
    .option("--reason <text>", "why (kept in the audit log)")
    .option("--by <username>", "act as this admin (the permission table applies)")
    .action(async (host: string, opts: { reason?: string; by?: string }) => {
      await withClique(async (c) => {
        const by = await actingAs(c, opts.by);
        const result = await c.moderation.remote.liftDomain(by, host, opts.reason);
        if (!result.ok)
          throw new CliError(
            result.reason === "not_found"
              ? `${host} is neither blocked nor limited`
              : explain(result.reason),
          );
        console.log(`Lifted the ${result.value.severity} of ${result.value.domain}.`);
      });
    });

  domain
    .command("list")
    .description("list blocked and limited servers")
    .option("--by <username>", "act as this admin (the permission table applies)")
    .action(async (opts: { by?: string }) => {
      await withClique(async (c) => {
        const result = await c.moderation.remote.listDomains(await actingAs(c, opts.by));
        if (!result.ok) throw new CliError(explain(result.reason));
        if (result.value.length === 0) {
          console.log("No server is blocked or limited.");
          return;
        }
        for (const block of result.value) console.log(line(block));
      });
    });
}
