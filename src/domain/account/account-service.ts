import type { Config } from '../../config/schema.ts';
import type { PasswordStore, RecoveryCodeStore, TotpStore } from '../../ports/credential-store.ts';
import type { PasskeyStore } from '../../ports/passkey-store.ts';
import type { UserRecord } from '../../ports/user-store.ts';
import type { OAuthModelStore } from '../../ports/oauth-store.ts';
import type { AuditRecorder } from '../audit/audit-recorder.ts';
import { accountDeletedNotice } from '../mail/account-templates.ts';
import type { MailService } from '../mail/mail-service.ts';
import type { RequestContext } from '../request-context.ts';
import type { SessionService } from '../sessions/session-service.ts';
import type { UserService } from '../users/user-service.ts';
import type { AccountTokens } from './account-tokens.ts';

export interface AccountServiceDeps {
  users: UserService;
  passwords: PasswordStore;
  totp: TotpStore;
  recoveryCodes: RecoveryCodeStore;
  passkeys: PasskeyStore;
  tokens: AccountTokens;
  sessions: SessionService;
  mail: MailService;
  audit: AuditRecorder;
  config: Config;
  /** The OAuth provider's records (grants, refresh tokens, codes) by account: none go stale. */
  oauthModels: Pick<OAuthModelStore, 'deleteByAccount'>;
}

/** Whole-account operations: deletion, and protecting an address's owner from a squatter. */
export class AccountService {
  readonly #deps: AccountServiceDeps;

  constructor(deps: AccountServiceDeps) {
    this.#deps = deps;
  }

  /**
   * The owner just proved an address whose account had never been verified. Whoever set that
   * account up (a password sign-up, a linked provider, a passkey) never showed they own the
   * address, and could be someone waiting to take the account over once the owner starts using
   * it (pre-hijacking). Every credential and session from before the proof goes; the owner
   * continues with a clean account, and the attempt is audited.
   */
  async removeUnprovenCredentials(user: UserRecord, context: RequestContext): Promise<void> {
    const { passwords, totp, recoveryCodes, passkeys, tokens, sessions, audit, oauthModels } = this.#deps;
    const removedPasskeys = await passkeys.listByUser(user.id);
    for (const passkey of removedPasskeys) await passkeys.delete(passkey.id, user.id);
    // Keys avoid words the audit log redacts ("password"): "pwd" as in RFC 8176.
    const removed = {
      pwd: await passwords.delete(user.id),
      totp: await totp.delete(user.id),
      recoveryCodes: await recoveryCodes.deleteAll(user.id),
      passkeys: removedPasskeys.length,
      sessions: await sessions.revokeAll(user.id),
      // Apps the account was connected to before the proof: their grants and tokens go too.
      oauth: await oauthModels.deleteByAccount(user.id),
    };
    await tokens.invalidateForUser(user.id, 'email_change');
    await tokens.invalidateForUser(user.id, 'password_reset');
    const anything =
      removed.pwd ||
      removed.totp ||
      removed.recoveryCodes + removed.passkeys + removed.sessions + removed.oauth > 0;
    // An account with nothing set up is an ordinary first sign-in, not an attempt.
    if (anything) {
      await audit.record(context, {
        type: 'account.unproven_credentials_removed',
        outcome: 'success',
        userId: user.id,
        details: { removed },
      });
    }
  }

  /**
   * Deletes the account: credentials and sessions go with the user row (foreign keys cascade);
   * audit entries stay, keyed by the old id, for the record.
   */
  async deleteAccount(user: UserRecord, context: RequestContext): Promise<void> {
    const { users, mail, audit, config, oauthModels } = this.#deps;
    await users.delete(user.id);
    // No foreign key reaches the provider's records: its grants and refresh tokens (the apps
    // the person connected) go with the account. Provider sessions stay for the audit
    // subscriber, which ends them and tells the apps (back-channel logout).
    await oauthModels.deleteByAccount(user.id);
    await audit.record(context, { type: 'account.deleted', outcome: 'success', userId: user.id });
    await mail.enqueue(
      accountDeletedNotice({ appName: config.appName }, { to: user.email, origin: config.origin }),
    );
  }
}
