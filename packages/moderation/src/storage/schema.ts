/** Moderation's tables, as Kysely sees them (`migrations.ts` makes them). */

/** The audit log. */
export interface AuditLogTable {
  id: string;
  actor_id: string | null;
  action: string;
  subject_kind: string;
  subject: string;
  reason: string;
  details: unknown;
  created_at: Date | string;
}

/** Reports. */
export interface ReportsTable {
  id: string;
  target_account_id: string;
  target_account_uri: string;
  posts: unknown;
  comment: string;
  category: string;
  reporter_member_id: string | null;
  reporter_actor_uri: string | null;
  reporter_host: string | null;
  reporter_actor_id: string | null;
  forward_requested: boolean;
  flag_uri: string | null;
  state: string;
  assignee_id: string | null;
  action_taken: string | null;
  action_taken_at: Date | string | null;
  action_taken_by: string | null;
  forwarded_at: Date | string | null;
  forwarded_by: string | null;
  created_at: Date | string;
  updated_at: Date | string;
}

/** Moderation's tables. */
export interface ModerationDatabase {
  moderation_audit_log: AuditLogTable;
  moderation_reports: ReportsTable;
}
