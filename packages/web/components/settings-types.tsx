/** What the settings page reads from Clique's own API. */

export interface AuthorizedApp {
  id: string;
  name: string;
  website: string | null;
  scopes: string[];
  created_at: string;
  last_used_at: string | null;
}

export interface SessionInfo {
  id: string;
  created_at: string;
  last_used_at: string | null;
  user_agent: string | null;
  current: boolean;
}

export interface LinkedIdentity {
  id: string;
  issuer: string;
  email: string | null;
  created_at: string;
}

export interface AuditEntry {
  id: string;
  action: string;
  actor_id: string | null;
  via: string;
  subject: { kind: string; id?: string; host?: string };
  reason: string;
  details: Record<string, unknown>;
  created_at: string;
}
