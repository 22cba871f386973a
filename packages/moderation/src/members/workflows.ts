/**
 * Moderating members and content: each workflow asks core's use case (which
 * asks the permission table, in the transaction of the change, and tells the
 * member why with a notification there too), then writes the audit log.
 *
 * `by: null` is the server's operator at its console (the CLI), whom the
 * table gives an owner's reach (only the last-owner rule binds it); the audit
 * log records them as `actorId: null` with `details.via: "cli"`, and the
 * suspension worker as `actorId: null` with `details.via: "worker"`.
 */
import type { Clique, Member, Post, Result, Role } from "@clique/core";
import type { AuditEntry, AuditSubject } from "../audit.ts";

/** What the workflows work with. */
export interface MemberWorkflowContext {
  clique(): Clique;
  record(
    actor: Member | null,
    action: string,
    subject: AuditSubject,
    reason: string,
    details?: Record<string, unknown>,
  ): Promise<AuditEntry>;
  now(): Date;
}

/** The most a reason may say. */
export const MAX_REASON = 2000;

function cleanReason(text: string): string {
  return text.replaceAll("\u0000", "").toWellFormed().trim().slice(0, MAX_REASON).toWellFormed();
}

function via(by: Member | null): Record<string, unknown> {
  return by === null ? { via: "cli" } : {};
}

/** Builds the member and content workflows. */
export function memberWorkflows(ctx: MemberWorkflowContext) {
  /** Runs a use case and, when it went through, writes the audit entry it calls for. */
  async function audited<T, R extends string>(
    by: Member | null,
    run: () => Promise<Result<T, R>>,
    entry: (value: T) => {
      action: string;
      subject: AuditSubject;
      reason: string;
      details?: Record<string, unknown>;
    },
  ): Promise<Result<T, R>> {
    const result = await run();
    if (result.ok) {
      const e = entry(result.value);
      await ctx.record(by, e.action, e.subject, e.reason, { ...e.details, ...via(by) });
    }
    return result;
  }

  return {
    /** Removes a member's post with a reason; its author is told what and why. */
    removePost(by: Member | null, postId: string, reason: string) {
      const why = cleanReason(reason);
      return audited(
        by,
        () => ctx.clique().removePost(by, postId, why),
        (post: Post) => ({
          action: "post.remove",
          subject: { kind: "post", id: post.id },
          reason: why,
          details: { member_id: post.authorId },
        }),
      );
    },

    /** Hides a post from elsewhere from the whole Clique. */
    hidePost(by: Member | null, postId: string, reason: string) {
      const why = cleanReason(reason);
      return audited(
        by,
        () => ctx.clique().hidePost(by, postId),
        (post: Post) => ({
          action: "post.hide",
          subject: { kind: "post", id: post.id },
          reason: why,
          details: { account_id: post.authorId, uri: post.uri },
        }),
      );
    },

    /** Shows a hidden post again. */
    unhidePost(by: Member | null, postId: string, reason: string) {
      const why = cleanReason(reason);
      return audited(
        by,
        () => ctx.clique().unhidePost(by, postId),
        (post: Post) => ({
          action: "post.unhide",
          subject: { kind: "post", id: post.id },
          reason: why,
          details: { account_id: post.authorId, uri: post.uri },
        }),
      );
    },

    /** Removes a member: posts deleted (`deleteContent`) or kept hidden; a Delete of the actor goes out. */
    removeMember(
      by: Member | null,
      memberId: string,
      options: { reason: string; deleteContent: boolean },
    ) {
      const why = cleanReason(options.reason);
      return audited(
        by,
        () => ctx.clique().removeMember(by, memberId, { deleteContent: options.deleteContent }),
        (member: Member) => ({
          action: "member.remove",
          subject: { kind: "member", id: member.id },
          reason: why,
          details: { username: member.username, delete_content: options.deleteContent },
        }),
      );
    },

    /** Suspends a member until `until` (or until lifted); they are told why. */
    suspendMember(
      by: Member | null,
      memberId: string,
      options: { reason: string; until: Date | null },
    ) {
      const why = cleanReason(options.reason);
      return audited(
        by,
        () => ctx.clique().suspendMember(by, memberId, { until: options.until, reason: why }),
        (member: Member) => ({
          action: "member.suspend",
          subject: { kind: "member", id: member.id },
          reason: why,
          details: { username: member.username, until: options.until?.toISOString() ?? null },
        }),
      );
    },

    /** Lifts a suspension. */
    unsuspendMember(by: Member | null, memberId: string, reason = "") {
      const why = cleanReason(reason);
      return audited(
        by,
        () => ctx.clique().unsuspendMember(by, memberId),
        (member: Member) => ({
          action: "member.unsuspend",
          subject: { kind: "member", id: member.id },
          reason: why,
          details: { username: member.username },
        }),
      );
    },

    /** Gives a member a role (ownership: make someone owner, then step down). */
    setRole(by: Member | null, memberId: string, role: Role, reason = "") {
      const why = cleanReason(reason);
      return audited(
        by,
        () => ctx.clique().setMemberRole(by, memberId, role),
        ({ member, previous }: { member: Member; previous: Role }) => ({
          action: "member.role",
          subject: { kind: "member", id: member.id },
          reason: why,
          details: { username: member.username, role, previous },
        }),
      );
    },

    /** Warns a member: they are told why, nothing else changes. */
    warn(by: Member | null, memberId: string, text: string) {
      const why = cleanReason(text);
      return audited(
        by,
        () => ctx.clique().warnMember(by, memberId, why),
        ({ member }: { member: Member }) => ({
          action: "member.warn",
          subject: { kind: "member", id: member.id },
          reason: why,
          details: { username: member.username },
        }),
      );
    },

    /** A member leaves on their own (same federation as a removal); the last owner cannot. */
    async leave(member: Member, input: { password: string; ip: string }) {
      const result = await ctx.clique().leaveClique(member, input);
      if (result.ok)
        await ctx.record(member, "member.leave", { kind: "member", id: member.id }, "", {
          username: member.username,
          delete_content: true,
        });
      return result;
    },

    /** Lifts every suspension whose end date has come (the worker calls it); what it lifted. */
    async liftEndedSuspensions(): Promise<Member[]> {
      const lifted: Member[] = [];
      for (const member of await ctx.clique().endedSuspensions()) {
        const result = await ctx.clique().unsuspendMember(null, member.id, { endedBy: ctx.now() });
        // Lifted by someone else meanwhile, or suspended again without an end: nothing to do.
        if (!result.ok) continue;
        await ctx.record(
          null,
          "member.unsuspend",
          { kind: "member", id: member.id },
          "The suspension ended.",
          { username: member.username, until: member.suspendedUntil?.toISOString(), via: "worker" },
        );
        lifted.push(result.value);
      }
      return lifted;
    },
  };
}

/** The member and content workflows, built. */
export type MemberWorkflows = ReturnType<typeof memberWorkflows>;
