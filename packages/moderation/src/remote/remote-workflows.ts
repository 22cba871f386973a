/**
 * Remote moderation's workflows: blocking or limiting a server, suspending or
 * silencing one remote account, rejecting its follow requests, and lifting
 * each. Every workflow asks the permission table first (`domain.block` for
 * servers, `remote.moderate` for accounts), has core enforce the decision
 * (`clique.remoteModeration`: the store, the purge, the checks of the inbox,
 * publisher and visibility), then writes the audit log.
 *
 * `by: null` is the server's operator at its console (the CLI), whom the
 * table does not rule (they hold the database anyway); the audit log records
 * them as `actorId: null` with `details.via: "cli"`.
 */
import {
  type Action,
  type ActorSanctionKind,
  type BlockDomainProblem,
  type BlockedDomain,
  type Clique,
  type DomainBlock,
  type DomainSeverity,
  fail,
  type Member,
  normalizeDomain,
  ok,
  type Refusal,
  type Result,
  type Sanctioned,
  type SanctionProblem,
} from "@clique/core";
import type { AuditEntry, AuditSubject } from "../audit.ts";

/** What the workflows work with. */
export interface RemoteWorkflowContext {
  clique(): Clique;
  /** The permission table, with owners counted. */
  check(actor: Member, action: Action): Promise<Refusal | null>;
  record(
    actor: Member | null,
    action: string,
    subject: AuditSubject,
    reason: string,
    details?: Record<string, unknown>,
  ): Promise<AuditEntry>;
}

/** The most a reason may say. */
export const MAX_REMOTE_REASON = 2000;

/** A reason as stored: no NUL, no lone surrogate, at most `MAX_REMOTE_REASON` characters. */
function clean(text: string | undefined): string {
  return (text ?? "")
    .replaceAll("\u0000", "")
    .toWellFormed()
    .trim()
    .slice(0, MAX_REMOTE_REASON)
    .toWellFormed();
}

function via(by: Member | null): Record<string, unknown> {
  return by === null ? { via: "cli" } : {};
}

/** What the audit log calls each decision about a server. */
const BLOCK_ACTION: Record<DomainSeverity, string> = {
  block: "domain.block",
  limit: "domain.limit",
  noop: "domain.note",
};

/** What a moderator asks of a server. */
export interface DomainDecision {
  domain: string;
  severity: DomainSeverity;
  reason?: string;
  publicComment?: string;
}

/** Builds the remote moderation workflows. */
export function remoteWorkflows(ctx: RemoteWorkflowContext) {
  const core = () => ctx.clique().remoteModeration;

  /** `null` when `by` may take `action` (the operator always may). */
  async function refusal(by: Member | null, action: Action): Promise<Refusal | null> {
    return by === null ? null : ctx.check(by, action);
  }

  async function sanction(
    by: Member | null,
    accountId: string,
    kind: ActorSanctionKind,
    reasonText: string | undefined,
  ): Promise<Result<Sanctioned, Refusal | SanctionProblem>> {
    const refused = await refusal(by, "remote.moderate");
    if (refused) return fail(refused);
    const reason = clean(reasonText);
    const result = await core().sanctionAccount(accountId, kind, reason, by?.id ?? null);
    if (!result.ok) return result;
    const { actor, added, purged } = result.value;
    await ctx.record(by, `remote.${kind}`, { kind: "account", id: actor.id }, reason, {
      account: actor.uri,
      already: !added,
      ...(purged ? { purged } : {}),
      ...via(by),
    });
    return result;
  }

  async function lift(
    by: Member | null,
    accountId: string,
    kind: ActorSanctionKind,
    reasonText: string | undefined,
  ): Promise<Result<{ lifted: boolean }, Refusal | SanctionProblem>> {
    const refused = await refusal(by, "remote.moderate");
    if (refused) return fail(refused);
    const reason = clean(reasonText);
    const result = await core().liftSanction(accountId, kind);
    if (!result.ok) return result;
    const { actor, lifted } = result.value;
    await ctx.record(
      by,
      kind === "suspend" ? "remote.unsuspend" : "remote.unsilence",
      { kind: "account", id: actor.id },
      reason,
      { account: actor.uri, ...(lifted ? {} : { already: true }), ...via(by) },
    );
    return ok({ lifted });
  }

  return {
    /** Every decision about servers, by domain. */
    async listDomains(by: Member | null): Promise<Result<DomainBlock[], Refusal>> {
      const refused = await refusal(by, "domain.block");
      if (refused) return fail(refused);
      return ok(await core().listDomainBlocks());
    },

    /** One decision about a server, by its id. */
    async getDomain(
      by: Member | null,
      id: string,
    ): Promise<Result<DomainBlock, Refusal | "not_found">> {
      const refused = await refusal(by, "domain.block");
      if (refused) return fail(refused);
      const block = await core().getDomainBlock(id);
      return block ? ok(block) : fail("not_found");
    },

    /**
     * Blocks, limits or notes a server and its subdomains; a decision taken
     * again replaces the last (a limit made a block purges then).
     */
    async decideDomain(
      by: Member | null,
      decision: DomainDecision,
    ): Promise<Result<BlockedDomain, Refusal | BlockDomainProblem>> {
      const refused = await refusal(by, "domain.block");
      if (refused) return fail(refused);
      const reason = clean(decision.reason);
      const result = await core().blockDomain({
        domain: decision.domain,
        severity: decision.severity,
        reason,
        ...(decision.publicComment !== undefined
          ? { publicComment: clean(decision.publicComment) }
          : {}),
        by: by?.id ?? null,
      });
      if (!result.ok) return result;
      const { block, previous, purged } = result.value;
      await ctx.record(
        by,
        BLOCK_ACTION[block.severity],
        { kind: "domain", host: block.domain },
        reason,
        {
          severity: block.severity,
          ...(previous ? { previous: previous.severity } : {}),
          ...(block.severity === "block" ? { purged } : {}),
          ...via(by),
        },
      );
      return result;
    },

    /** Lifts the decision about a server (by its domain); `not_found` when it had none. */
    async liftDomain(
      by: Member | null,
      domainText: string,
      reasonText?: string,
    ): Promise<Result<DomainBlock, Refusal | "not_found">> {
      const refused = await refusal(by, "domain.block");
      if (refused) return fail(refused);
      const domain = normalizeDomain(domainText);
      const lifted = domain ? await core().unblockDomain(domain) : null;
      if (!lifted) return fail("not_found");
      await ctx.record(
        by,
        "domain.unblock",
        { kind: "domain", host: lifted.domain },
        clean(reasonText),
        {
          severity: lifted.severity,
          ...via(by),
        },
      );
      return ok(lifted);
    },

    /** Suspends a remote account: follows end, its content is purged, nothing is accepted from it. */
    suspendAccount: (by: Member | null, accountId: string, reason?: string) =>
      sanction(by, accountId, "suspend", reason),
    /** Silences a remote account: its posts reach only the members who follow it. */
    silenceAccount: (by: Member | null, accountId: string, reason?: string) =>
      sanction(by, accountId, "silence", reason),
    unsuspendAccount: (by: Member | null, accountId: string, reason?: string) =>
      lift(by, accountId, "suspend", reason),
    unsilenceAccount: (by: Member | null, accountId: string, reason?: string) =>
      lift(by, accountId, "silence", reason),

    /** Rejects every follow request the account has pending here (its server is sent `Reject`s). */
    async rejectFollows(
      by: Member | null,
      accountId: string,
      reasonText?: string,
    ): Promise<Result<{ rejected: number }, Refusal | SanctionProblem>> {
      const refused = await refusal(by, "remote.moderate");
      if (refused) return fail(refused);
      const result = await core().rejectPendingFollows(accountId);
      if (!result.ok) return result;
      const { actor, rejected } = result.value;
      await ctx.record(
        by,
        "remote.reject_follows",
        { kind: "account", id: actor.id },
        clean(reasonText),
        {
          account: actor.uri,
          rejected,
          ...via(by),
        },
      );
      return ok({ rejected });
    },

    /** The remote accounts under a suspension or silence, newest first. */
    async listSanctioned(by: Member | null) {
      const refused = await refusal(by, "remote.moderate");
      if (refused) return fail(refused);
      return ok(await core().listSanctions());
    },
  };
}

/** Remote moderation's workflows, built. */
export type RemoteWorkflows = ReturnType<typeof remoteWorkflows>;
