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
import { KyselyAuditStore, type ModerationDatabase } from "./storage/audit.store.kysely.ts";

export type { AuditEntry, AuditStore, AuditSubject } from "./audit.ts";
export type { ModerationDatabase } from "./storage/audit.store.kysely.ts";
export { migrateModeration } from "./storage/migrations.ts";

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

  const subscribers: EventSubscriber[] = [];
  const inboxListeners: InboxListener[] = [];

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
    audit: {
      record,
      /** The audit log, newest first; for a member's own view, pass `about`. */
      list: (opts: { limit?: number; before?: string; about?: AuditSubject } = {}) =>
        audit.list({
          limit: Math.min(opts.limit ?? 40, 200),
          before: opts.before,
          about: opts.about,
        }),
    },
  };
}

/** Moderation, composed. */
export type Moderation = ReturnType<typeof createModeration>;
