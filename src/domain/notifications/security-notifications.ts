import type { Logger } from 'pino';
import type { Config } from '../../config/schema.ts';
import type { PublishedAuditEvent } from '../audit/audit-recorder.ts';
import type { MailService } from '../mail/mail-service.ts';
import { type SecurityNoticeKind, securityNoticeMessage } from '../mail/templates.ts';
import { deviceLabel } from '../sessions/device-label.ts';
import type { UserService } from '../users/user-service.ts';

export interface SecurityNotificationsDeps {
  users: UserService;
  mail: MailService;
  config: Config;
  log: Logger;
}

/**
 * Mails the account's owner when something happens they should know about: a sign-in from a
 * new device, a passkey added or removed, an account-wide stuffing delay. It subscribes to the
 * audit events (DESIGN §2 principle 11), so no flow has to remember to call it.
 */
export class SecurityNotifications {
  readonly #deps: SecurityNotificationsDeps;

  constructor(deps: SecurityNotificationsDeps) {
    this.#deps = deps;
  }

  /** The audit listener. A failure is logged: a notice must never fail the request it follows. */
  readonly onEvent = async (event: PublishedAuditEvent): Promise<void> => {
    const kind = noticeFor(event);
    if (!kind || !event.userId) return;
    const { users, mail, config, log } = this.#deps;
    try {
      const user = await users.findById(event.userId);
      if (!user) return;
      await mail.enqueue(
        securityNoticeMessage(
          { appName: config.appName },
          {
            to: user.email,
            kind,
            at: event.at,
            device: deviceLabel(event.context.userAgent),
            ip: event.context.ip,
            accountUrl: `${config.origin}/account`,
          },
        ),
      );
    } catch (error) {
      log.error({ err: error, type: event.type }, 'security notice not queued');
    }
  };
}

function noticeFor(event: PublishedAuditEvent): SecurityNoticeKind | null {
  switch (event.type) {
    case 'sign_in.new_device':
      return 'new_device';
    case 'passkey.added':
      return event.outcome === 'success' ? 'passkey_added' : null;
    case 'passkey.removed':
      return event.outcome === 'success' ? 'passkey_removed' : null;
    case 'rate_limit.triggered':
      return event.details?.['rule'] === 'identifier_failures' ? 'failed_attempts' : null;
    default:
      return null;
  }
}
