import type { Config } from '../../config/schema.ts';
import type { Clock } from '../../ports/clock.ts';
import type { UserRecord } from '../../ports/user-store.ts';
import { type CredentialChange, credentialChangedNotice } from '../mail/account-templates.ts';
import type { MailService } from '../mail/mail-service.ts';
import type { RequestContext } from '../request-context.ts';
import { deviceLabel } from '../sessions/device-label.ts';

/**
 * A mail to the account's address on every change of a way to sign in: if someone else made
 * it (a stolen session, a phished password), the owner hears about it at once, with when, from
 * which device and from which address, like every other security notice.
 */
export class CredentialNotices {
  readonly #mail: MailService;
  readonly #config: Config;
  readonly #clock: Clock;

  constructor(mail: MailService, config: Config, clock: Clock) {
    this.#mail = mail;
    this.#config = config;
    this.#clock = clock;
  }

  async send(
    user: UserRecord,
    change: CredentialChange,
    context: RequestContext,
    remainingRecoveryCodes?: number,
  ): Promise<void> {
    await this.#mail.enqueue(
      credentialChangedNotice(
        { appName: this.#config.appName },
        {
          to: user.email,
          change,
          origin: this.#config.origin,
          at: this.#clock.now(),
          device: deviceLabel(context.userAgent),
          ip: context.ip,
          ...(remainingRecoveryCodes === undefined ? {} : { remainingRecoveryCodes }),
        },
      ),
    );
  }
}
