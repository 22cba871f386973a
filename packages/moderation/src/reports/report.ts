/**
 * Reports: a member's (or another server's) word that an account, and perhaps
 * some of its posts, break the Clique's rules. One report is about one
 * account, local or remote. Who filed it stays between the reporter and the
 * moderators: the reported never learn it, and a report forwarded to another
 * server goes out in the instance actor's name.
 */
import type { FederationEvent } from "@clique/core";
import type { AuditEntry } from "../audit.ts";

/** Mastodon's report categories. */
export const REPORT_CATEGORIES = ["spam", "legal", "violation", "other"] as const;
/** Why something was reported. */
export type ReportCategory = (typeof REPORT_CATEGORIES)[number];

/** Where a report stands. */
export const REPORT_STATES = ["open", "resolved", "dismissed"] as const;
/** Where a report stands: waiting, closed with an action, or closed without one. */
export type ReportState = (typeof REPORT_STATES)[number];

/** Longest comment a member may write (Mastodon's limit). */
export const MAX_COMMENT = 1000;
/** Longest comment kept from another server's `Flag`. */
export const MAX_FLAG_COMMENT = 5000;
/** Most posts one report may name. */
export const MAX_REPORTED_POSTS = 40;
/** Longest text of an action taken or a dismissal's reason. */
export const MAX_ACTION_TEXT = 2000;

/** Who filed a report. */
export type Reporter =
  /** A member of this Clique. */
  | { kind: "member"; memberId: string }
  /**
   * Another server, through a `Flag`: the actor that sent it (usually that
   * server's instance actor), stored as an account when it could be fetched.
   */
  | { kind: "remote"; actorUri: string; host: string; actorId: string | null };

/** A reported post as the reporter could see it when they reported it. */
export interface ReportedPost {
  postId: string;
  /** Its ActivityPub id (ours for local posts), for a forwarded `Flag`. */
  uri: string;
  contentHtml: string;
  spoilerText: string;
  createdAt: string;
}

/** One report. */
export interface Report {
  id: string;
  /** The reported account (an actor id: a member's, or a remote account's). */
  targetAccountId: string;
  /** Its ActivityPub id when reported. */
  targetAccountUri: string;
  /** The reported posts, as the reporter saw them (kept when a post is later removed). */
  posts: ReportedPost[];
  comment: string;
  category: ReportCategory;
  reporter: Reporter;
  /** The member asked for the report to be sent to the account's server (a moderator decides). */
  forwardRequested: boolean;
  /** The incoming `Flag`'s id, for reports from other servers. */
  flagUri: string | null;
  state: ReportState;
  /** The moderator who took it on. */
  assigneeId: string | null;
  /** What was done (resolved) or why nothing was (dismissed). */
  actionTaken: string | null;
  actionTakenAt: Date | null;
  actionTakenById: string | null;
  /** When a moderator sent it to the account's server, and who. */
  forwardedAt: Date | null;
  forwardedById: string | null;
  createdAt: Date;
  updatedAt: Date;
}

/** Which reports to list; newest first, Mastodon's cursors. */
export interface ReportQuery {
  state?: ReportState | undefined;
  /** Open, or closed (resolved or dismissed): Mastodon's `resolved`. */
  closed?: boolean | undefined;
  /** Filed by this member. */
  reporterMemberId?: string | undefined;
  targetAccountId?: string | undefined;
  /** Leave out reports about this account (a moderator never sees those about themselves). */
  notAbout?: string | undefined;
  maxId?: string | undefined;
  sinceId?: string | undefined;
  minId?: string | undefined;
  limit: number;
}

/** A change of a report's standing: allowed only from the states in `from`. */
export interface ReportChange {
  from: readonly ReportState[];
  state?: ReportState;
  assigneeId?: string | null;
  actionTaken?: string | null;
  actionTakenAt?: Date | null;
  actionTakenById?: string | null;
}

/** The reports' storage. */
export interface ReportStore {
  /** Stores a new report; `false` when one for the same incoming `Flag` exists. */
  create(report: Report): Promise<boolean>;
  getById(id: string): Promise<Report | null>;
  list(query: ReportQuery): Promise<Report[]>;
  /** Applies a change if the report is in one of `change.from`; the report after, or `null`. */
  change(id: string, change: ReportChange, at: Date): Promise<Report | null>;
  /** Marks a report forwarded, once; `null` when it already was (or does not exist). */
  markForwarded(id: string, by: string | null, at: Date): Promise<Report | null>;
}

/** What a change to a report writes, all in one transaction. */
export interface ReportTransaction {
  reports: ReportStore;
  /** Appends to the audit log. */
  audit(entry: AuditEntry): Promise<void>;
  /** Records an event in core's outbox (the publisher sends what it says). */
  record(event: FederationEvent, at: Date): Promise<void>;
  /** Tells the moderators a report was filed (core's `admin.report` notifications, issue 11). */
  notifyFiled(report: Report, at: Date): Promise<void>;
}

/** Moderation's storage for reports: the store, and transactions over it with the audit log and core's outbox. */
export interface ReportStorage {
  reports: ReportStore;
  transaction<T>(fn: (tx: ReportTransaction) => Promise<T>): Promise<T>;
}
