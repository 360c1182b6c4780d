import type { Generated } from 'kysely';

/** Row types. Times are UTC epoch ms; booleans are 0/1 integers on both dialects. */
export interface UsersTable {
  id: string;
  email: string;
  email_verified_at: number | null;
  display_name: string | null;
  created_at: number;
  updated_at: number;
  /** Set while an administrator has disabled the account (migration 0007). */
  disabled_at: number | null;
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
  /** 1 while the second factor is pending (migration 0005). */
  mfa_pending: Generated<number>;
  auth_failures: Generated<number>;
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
  /** Migration 0003: who acted when not the user, and the hash chain (null before it). */
  actor_id: string | null;
  prev_hash: string | null;
  hash: string | null;
}

/** One row ('audit'): where the chain resumes after pruning. */
export interface AuditChainAnchorTable {
  id: string;
  seq: number;
  hash: string;
  mac: string;
  pruned_total: number;
  updated_at: number;
}

/** Which node runs a background job until when (one row per job). */
export interface JobLeasesTable {
  name: string;
  holder: string;
  lease_until: number;
}

export interface PasswordCredentialsTable {
  user_id: string;
  /** PHC string: $argon2id$v=19$m=…,t=…,p=…$salt$hash */
  hash: string;
  created_at: number;
  updated_at: number;
}

export interface TotpCredentialsTable {
  user_id: string;
  /** The shared secret, sealed (AES-256-GCM) under a key derived from the instance secret. */
  secret_sealed: string;
  confirmed_at: number | null;
  last_used_step: number | null;
  created_at: number;
}

export interface RecoveryCodesTable {
  id: string;
  user_id: string;
  code_hash: string;
  used_at: number | null;
  created_at: number;
}

export interface AccountTokensTable {
  id: string;
  purpose: string;
  user_id: string | null;
  email: string;
  token_hash: string;
  /** JSON object; never a secret in the clear. */
  data: string;
  expires_at: number;
  used_at: number | null;
  created_at: number;
}

export interface OAuthModelsTable {
  model: string;
  id: string;
  payload: string;
  grant_id: string | null;
  uid: string | null;
  user_code: string | null;
  account_id: string | null;
  client_id: string | null;
  consumed_at: number | null;
  expires_at: number | null;
}

export interface OAuthClientsTable {
  client_id: string;
  definition: string;
  secret_hash: string | null;
  created_at: number;
  updated_at: number;
}

export interface OAuthSigningKeysTable {
  kid: string;
  alg: string;
  sealed_jwk: string;
  created_at: number;
  signs_from: number;
  retires_at: number | null;
}

export interface OAuthRefreshGraceTable {
  token_hash: string;
  client_id: string;
  sealed_response: string | null;
  expires_at: number;
}

export interface FederatedIdentitiesTable {
  id: string;
  user_id: string;
  provider_id: string;
  issuer: string;
  subject: string;
  email: string | null;
  email_verified: number;
  created_at: number;
  last_used_at: number | null;
}

export interface FederationUsedTokensTable {
  id: string;
  expires_at: number;
}

/** Browsers an account signed in from, by the SHA-256 of their device cookie (migration 0004). */
export interface KnownDevicesTable {
  user_id: string;
  device_hash: string;
  created_at: number;
  last_seen_at: number;
}

export interface Database {
  users: UsersTable;
  federated_identities: FederatedIdentitiesTable;
  federation_used_tokens: FederationUsedTokensTable;
  sessions: SessionsTable;
  passkeys: PasskeysTable;
  webauthn_challenges: WebauthnChallengesTable;
  email_challenges: EmailChallengesTable;
  mail_outbox: MailOutboxTable;
  dev_mailbox: DevMailboxTable;
  audit_events: AuditEventsTable;
  audit_chain_anchor: AuditChainAnchorTable;
  job_leases: JobLeasesTable;
  password_credentials: PasswordCredentialsTable;
  totp_credentials: TotpCredentialsTable;
  recovery_codes: RecoveryCodesTable;
  account_tokens: AccountTokensTable;
  oauth_models: OAuthModelsTable;
  oauth_clients: OAuthClientsTable;
  oauth_signing_keys: OAuthSigningKeysTable;
  oauth_refresh_grace: OAuthRefreshGraceTable;
  known_devices: KnownDevicesTable;
}
