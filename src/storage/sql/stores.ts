import type { AuditLog } from '../../ports/audit-log.ts';
import type { EmailChallengeStore } from '../../ports/email-challenge-store.ts';
import type { DevMailboxStore, MailOutbox } from '../../ports/mail.ts';
import type { ChallengeStore, PasskeyStore } from '../../ports/passkey-store.ts';
import type { SessionStore } from '../../ports/session-store.ts';
import type { UserStore } from '../../ports/user-store.ts';
import { SqlAuditLog } from './audit-log.ts';
import type { SqlDatabase } from './open-database.ts';
import { SqlEmailChallengeStore } from './email-challenge-store.ts';
import { SqlDevMailboxStore, SqlMailOutbox } from './mail-store.ts';
import { SqlChallengeStore, SqlPasskeyStore } from './passkey-store.ts';
import { SqlSessionStore } from './session-store.ts';
import { SqlUserStore } from './user-store.ts';

export interface Stores {
  users: UserStore;
  sessions: SessionStore;
  passkeys: PasskeyStore;
  challenges: ChallengeStore;
  emailChallenges: EmailChallengeStore;
  outbox: MailOutbox;
  devMailbox: DevMailboxStore;
  audit: AuditLog;
}

export function createSqlStores(database: SqlDatabase): Stores {
  const { db } = database;
  return {
    users: new SqlUserStore(db),
    sessions: new SqlSessionStore(db, database.syncReader),
    passkeys: new SqlPasskeyStore(db),
    challenges: new SqlChallengeStore(db),
    emailChallenges: new SqlEmailChallengeStore(db),
    outbox: new SqlMailOutbox(db),
    devMailbox: new SqlDevMailboxStore(db),
    audit: new SqlAuditLog(db),
  };
}
