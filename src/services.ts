import type { Logger } from 'pino';
import type { Config } from './config/schema.ts';
import type { AccountService } from './domain/account/account-service.ts';
import type { CredentialNotices } from './domain/account/credential-notices.ts';
import type { EmailChangeService } from './domain/account/email-change-service.ts';
import type { AuditRecorder } from './domain/audit/audit-recorder.ts';
import type { KnownDevices } from './domain/devices/known-devices.ts';
import type { AdminPolicy } from './domain/authz/admin.ts';
import type { EmailAuthService } from './domain/email-auth/email-auth-service.ts';
import type { FederationService } from './domain/federation/federation-service.ts';
import type { MailService } from './domain/mail/mail-service.ts';
import type { PruningJob } from './domain/maintenance/pruning-job.ts';
import type { FactorPolicy } from './domain/mfa/factor-policy.ts';
import type { MfaService } from './domain/mfa/mfa-service.ts';
import type { OAuthProvider } from './domain/oauth-provider/oauth-provider.ts';
import type { PasskeyService } from './domain/passkeys/passkey-service.ts';
import type { PasswordService } from './domain/passwords/password-service.ts';
import type { RateLimits } from './domain/ratelimit/rate-limits.ts';
import type { RedirectPolicy } from './domain/redirects/redirect-policy.ts';
import type { SessionService } from './domain/sessions/session-service.ts';
import type { UserAdministration } from './domain/users/user-administration.ts';
import type { UserService } from './domain/users/user-service.ts';
import type { Metrics } from './metrics/metrics.ts';
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
  /** Who may read the audit log (config `adminEmails`). */
  admins: AdminPolicy;
  /** Deletes what has expired, once per interval across all nodes. */
  pruning: PruningJob;
  users: UserService;
  /** Disabling and enabling accounts (admin API; the CLI builds its own over its stores). */
  userAdministration: UserAdministration;
  sessions: SessionService;
  mail: MailService;
  emailAuth: EmailAuthService;
  passkeys: PasskeyService;
  /** Sign in with Google, Apple, Microsoft, GitHub, GitLab or any OIDC provider. */
  federation: FederationService;
  redirects: RedirectPolicy;
  account: AccountService;
  notices: CredentialNotices;
  /** The one factor policy: which sign-ins need a second factor, what step-up must prove. */
  factorPolicy: FactorPolicy;
  mfa: MfaService;
  passwords: PasswordService;
  emailChange: EmailChangeService;
  /** Request limits, mail budgets and brute-force delays (docs/abuse-protection.md). */
  rateLimits: RateLimits;
  /** Browsers each account has signed in from (new-device notices, stuffing exemption). */
  devices: KnownDevices;
  /** The OAuth 2.1 / OpenID Connect provider; null unless `oauth.enabled` (docs/oauth.md). */
  oauth: OAuthProvider | null;
  /** Prometheus metrics; null unless `metricsToken` is set (docs/operations.md#metrics). */
  metrics: Metrics | null;
}
