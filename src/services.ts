import type { Logger } from 'pino';
import type { Config } from './config/schema.ts';
import type { AuditRecorder } from './domain/audit/audit-recorder.ts';
import type { EmailAuthService } from './domain/email-auth/email-auth-service.ts';
import type { MailService } from './domain/mail/mail-service.ts';
import type { PasskeyService } from './domain/passkeys/passkey-service.ts';
import type { RedirectPolicy } from './domain/redirects/redirect-policy.ts';
import type { SessionService } from './domain/sessions/session-service.ts';
import type { UserService } from './domain/users/user-service.ts';
import type { Clock } from './ports/clock.ts';
import type { SqlDatabase } from './storage/sql/open-database.ts';
import type { Stores } from './storage/sql/stores.ts';

/** Everything a request handler may use; built once by createGatehouse (container.ts). */
export interface Services {
  config: Config;
  clock: Clock;
  log: Logger;
  database: SqlDatabase;
  stores: Stores;
  audit: AuditRecorder;
  users: UserService;
  sessions: SessionService;
  mail: MailService;
  emailAuth: EmailAuthService;
  passkeys: PasskeyService;
  redirects: RedirectPolicy;
}
