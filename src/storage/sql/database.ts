import type { Generated } from 'kysely';

/** Row types. Times are UTC epoch ms; booleans are 0/1 integers on both dialects. */
export interface UsersTable {
  id: string;
  email: string;
  email_verified_at: number | null;
  display_name: string | null;
  created_at: number;
  updated_at: number;
}

export interface SessionsTable {
  id: string;
  token_hash: string;
  user_id: string;
  created_at: number;
  last_seen_at: number;
  expires_at: number;
  absolute_expires_at: number;
  auth_time: number;
  amr: string;
  ip: string | null;
  user_agent: string | null;
}

export interface PasskeysTable {
  id: string;
  user_id: string;
  credential_id: string;
  public_key: string;
  counter: number;
  transports: string;
  device_type: string;
  backed_up: number;
  aaguid: string;
  name: string;
  created_at: number;
  last_used_at: number | null;
}

export interface WebauthnChallengesTable {
  challenge: string;
  purpose: string;
  user_id: string | null;
  expires_at: number;
}

export interface EmailChallengesTable {
  id: string;
  email: string;
  link_hash: string;
  flow_hash: string;
  code_hash: string;
  attempts: number;
  redirect_to: string | null;
  expires_at: number;
  used_at: number | null;
  created_at: number;
}

export interface MailOutboxTable {
  id: string;
  sealed: string | null;
  status: string;
  attempts: number;
  next_attempt_at: number;
  lease_until: number | null;
  last_error: string | null;
  created_at: number;
  updated_at: number;
}

export interface DevMailboxTable {
  seq: Generated<number>;
  id: string;
  to_address: string;
  subject: string;
  text_body: string;
  html_body: string;
  created_at: number;
}

export interface AuditEventsTable {
  id: string;
  seq: Generated<number>;
  at: number;
  type: string;
  outcome: string;
  user_id: string | null;
  session_id: string | null;
  ip: string | null;
  user_agent: string | null;
  request_id: string | null;
  details: string;
}

export interface Database {
  users: UsersTable;
  sessions: SessionsTable;
  passkeys: PasskeysTable;
  webauthn_challenges: WebauthnChallengesTable;
  email_challenges: EmailChallengesTable;
  mail_outbox: MailOutboxTable;
  dev_mailbox: DevMailboxTable;
  audit_events: AuditEventsTable;
}
