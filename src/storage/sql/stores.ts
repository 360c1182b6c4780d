import type { AccountTokenStore } from '../../ports/account-token-store.ts';
import type { AuditLog } from '../../ports/audit-log.ts';
import type { PasswordStore, RecoveryCodeStore, TotpStore } from '../../ports/credential-store.ts';
import type { EmailChallengeStore } from '../../ports/email-challenge-store.ts';
import type { JobLeases } from '../../ports/job-lease.ts';
import type {
  OAuthClientStore,
  OAuthModelStore,
  RefreshGraceStore,
  SigningKeyStore,
} from '../../ports/oauth-store.ts';
import type { FederatedIdentityStore, FlowReplayStore } from '../../ports/federated-identity-store.ts';
import type { DevMailboxStore, MailOutbox } from '../../ports/mail.ts';
import type { ChallengeStore, PasskeyStore } from '../../ports/passkey-store.ts';
import type { SessionStore } from '../../ports/session-store.ts';
import type { UserStore } from '../../ports/user-store.ts';
import type { KnownDeviceStore } from '../../ports/known-device-store.ts';
import { SqlAccountTokenStore } from './account-token-store.ts';
import { SqlAuditLog } from './audit-log.ts';
import { SqlPasswordStore, SqlRecoveryCodeStore, SqlTotpStore } from './credential-stores.ts';
import type { SqlDatabase } from './open-database.ts';
import { SqlEmailChallengeStore } from './email-challenge-store.ts';
import { SqlJobLeases } from './job-lease-store.ts';
import { SqlFederatedIdentityStore, SqlFlowReplayStore } from './federated-identity-store.ts';
import { SqlDevMailboxStore, SqlMailOutbox } from './mail-store.ts';
import { SqlOAuthClientStore } from './oauth-client-store.ts';
import { SqlOAuthModelStore } from './oauth-model-store.ts';
import { SqlChallengeStore, SqlPasskeyStore } from './passkey-store.ts';
import { SqlRefreshGraceStore } from './refresh-grace-store.ts';
import { SqlSessionStore } from './session-store.ts';
import { SqlSigningKeyStore } from './signing-key-store.ts';
import { SqlUserStore } from './user-store.ts';
import { SqlKnownDeviceStore } from './known-device-store.ts';

export interface Stores {
  users: UserStore;
  federatedIdentities: FederatedIdentityStore;
  federationReplay: FlowReplayStore;
  sessions: SessionStore;
  passkeys: PasskeyStore;
  challenges: ChallengeStore;
  emailChallenges: EmailChallengeStore;
  outbox: MailOutbox;
  devMailbox: DevMailboxStore;
  audit: AuditLog;
  jobLeases: JobLeases;
  passwords: PasswordStore;
  totp: TotpStore;
  recoveryCodes: RecoveryCodeStore;
  accountTokens: AccountTokenStore;
  oauthModels: OAuthModelStore;
  oauthClients: OAuthClientStore;
  signingKeys: SigningKeyStore;
  refreshGrace: RefreshGraceStore;
  knownDevices: KnownDeviceStore;
}

export function createSqlStores(database: SqlDatabase): Stores {
  const { db } = database;
  return {
    users: new SqlUserStore(db),
    federatedIdentities: new SqlFederatedIdentityStore(db),
    federationReplay: new SqlFlowReplayStore(db),
    sessions: new SqlSessionStore(db, database.syncReader),
    passkeys: new SqlPasskeyStore(db),
    challenges: new SqlChallengeStore(db),
    emailChallenges: new SqlEmailChallengeStore(db),
    outbox: new SqlMailOutbox(db),
    devMailbox: new SqlDevMailboxStore(db),
    audit: new SqlAuditLog(db, database.dialect),
    jobLeases: new SqlJobLeases(db),
    passwords: new SqlPasswordStore(db),
    totp: new SqlTotpStore(db),
    recoveryCodes: new SqlRecoveryCodeStore(db),
    accountTokens: new SqlAccountTokenStore(db),
    oauthModels: new SqlOAuthModelStore(db),
    oauthClients: new SqlOAuthClientStore(db),
    signingKeys: new SqlSigningKeyStore(db),
    refreshGrace: new SqlRefreshGraceStore(db),
    knownDevices: new SqlKnownDeviceStore(db),
  };
}
