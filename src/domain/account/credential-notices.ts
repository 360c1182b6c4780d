import type { Config } from '../../config/schema.ts';
import type { UserRecord } from '../../ports/user-store.ts';
import { type CredentialChange, credentialChangedNotice } from '../mail/account-templates.ts';
import type { MailService } from '../mail/mail-service.ts';

/**
 * A mail to the account's address on every change of a way to sign in: if someone else made
 * it (a stolen session, a phished password), the owner hears about it at once.
 */
export class CredentialNotices {
  readonly #mail: MailService;
  readonly #config: Config;

  constructor(mail: MailService, config: Config) {
    this.#mail = mail;
    this.#config = config;
  }

  async send(user: UserRecord, change: CredentialChange, remainingRecoveryCodes?: number): Promise<void> {
    await this.#mail.enqueue(
      credentialChangedNotice(
        { appName: this.#config.appName },
        {
          to: user.email,
          change,
          origin: this.#config.origin,
          ...(remainingRecoveryCodes === undefined ? {} : { remainingRecoveryCodes }),
        },
      ),
    );
  }
}
