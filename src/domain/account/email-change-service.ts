import type { Config } from '../../config/schema.ts';
import { AppError } from '../../errors/app-error.ts';
import type { Clock } from '../../ports/clock.ts';
import type { UserRecord } from '../../ports/user-store.ts';
import type { AuditRecorder } from '../audit/audit-recorder.ts';
import {
  emailChangeConfirmMessage,
  emailChangedNotice,
  emailInUseMessage,
} from '../mail/account-templates.ts';
import type { MailService } from '../mail/mail-service.ts';
import type { RequestContext } from '../request-context.ts';
import { deviceLabel } from '../sessions/device-label.ts';
import type { SessionService } from '../sessions/session-service.ts';
import { normalizeEmail } from '../users/email-address.ts';
import type { UserService } from '../users/user-service.ts';
import type { AccountTokens } from './account-tokens.ts';

export interface EmailChangeDeps {
  users: UserService;
  tokens: AccountTokens;
  sessions: SessionService;
  mail: MailService;
  audit: AuditRecorder;
  config: Config;
  clock: Clock;
}

const invalidLink = (): AppError =>
  new AppError('invalid_or_expired', 'This link has expired or was already used.');

/**
 * Changing an account's address, in three steps:
 * 1. request (behind step-up): a confirmation link goes to the new address; nothing changes yet;
 * 2. confirm: the new address is proven, the account moves, every other session ends, and the
 *    old address gets a notice with a link that undoes it for 7 days;
 * 3. revert: from the old address, moves the account back and signs out everywhere, so an
 *    attacker who changed the address with a stolen session cannot keep the account.
 */
export class EmailChangeService {
  readonly #deps: EmailChangeDeps;

  constructor(deps: EmailChangeDeps) {
    this.#deps = deps;
  }

  /**
   * Always the same answer: an address that already has an account gets a notice instead of a
   * link, so this cannot be used to find out which addresses have accounts.
   */
  async request(user: UserRecord, newEmailInput: string, context: RequestContext): Promise<void> {
    const { users, tokens, mail, audit, config } = this.#deps;
    const email = normalizeEmail(newEmailInput);
    if (email === user.email) {
      throw new AppError('validation_failed', 'That is already your address.', {
        extra: { issues: [{ path: 'email', message: 'already your address' }] },
      });
    }
    const brand = { appName: config.appName };
    if (await users.findByEmail(email)) {
      await mail.enqueue(emailInUseMessage(brand, { to: email, origin: config.origin }));
      await audit.record(context, {
        type: 'email.change_requested',
        outcome: 'failure',
        userId: user.id,
        details: { reason: 'address_in_use' },
      });
      return;
    }
    const token = await tokens.issue({
      purpose: 'email_change',
      userId: user.id,
      email,
      data: { from: user.email },
      ttlMs: config.emailChange.confirmTtlMs,
    });
    await mail.enqueue(
      emailChangeConfirmMessage(brand, {
        to: email,
        link: `${config.origin}/email/change#token=${token}`,
        ttlHours: Math.round(config.emailChange.confirmTtlMs / 3_600_000),
      }),
    );
    await audit.record(context, { type: 'email.change_requested', outcome: 'success', userId: user.id });
  }

  /**
   * Applies a confirmed change. Every session but `keepSessionId` (the confirming browser's own,
   * when it is this user's) ends; the old address is told, with a revert link.
   */
  async confirm(token: string, keepSessionId: string | null, context: RequestContext): Promise<UserRecord> {
    const { users, tokens, sessions, mail, audit, config } = this.#deps;
    const consumed = await tokens.consume(token, 'email_change');
    const user = consumed?.userId ? await users.findById(consumed.userId) : undefined;
    // A link for an address the account no longer has (changed again since) is stale.
    if (!consumed || !user || user.email !== consumed.data['from']) {
      await audit.record(context, {
        type: 'email.changed',
        outcome: 'failure',
        userId: user?.id ?? null,
        details: { reason: 'invalid_or_expired' },
      });
      throw invalidLink();
    }
    if ((await users.changeEmail(user.id, consumed.email)) !== 'changed') {
      await audit.record(context, {
        type: 'email.changed',
        outcome: 'failure',
        userId: user.id,
        details: { reason: 'address_taken' },
      });
      throw new AppError('email_taken', 'Another account started using this address in the meantime.');
    }
    const revoked =
      keepSessionId === null
        ? await sessions.revokeAll(user.id)
        : await sessions.revokeOthers(user.id, keepSessionId);
    const revertToken = await tokens.issue({
      purpose: 'email_revert',
      userId: user.id,
      email: user.email,
      data: { to: consumed.email },
      ttlMs: config.emailChange.revertTtlMs,
      keepEarlier: true,
    });
    await mail.enqueue(
      emailChangedNotice(
        { appName: config.appName },
        {
          to: user.email,
          newAddress: consumed.email,
          revertLink: `${config.origin}/email/revert#token=${revertToken}`,
          ttlDays: Math.round(config.emailChange.revertTtlMs / 86_400_000),
          at: this.#deps.clock.now(),
          device: deviceLabel(context.userAgent),
          ip: context.ip,
        },
      ),
    );
    await audit.record(context, {
      type: 'email.changed',
      outcome: 'success',
      userId: user.id,
      details: { sessionsRevoked: revoked },
    });
    return (await users.findById(user.id)) ?? user;
  }

  /**
   * Moves the account back to the address the revert link was mailed to, whatever it was
   * changed to since, and ends every session: whoever made the change is signed out.
   */
  async revert(token: string, context: RequestContext): Promise<void> {
    const { users, tokens, sessions, audit } = this.#deps;
    const consumed = await tokens.consume(token, 'email_revert');
    const user = consumed?.userId ? await users.findById(consumed.userId) : undefined;
    if (!consumed || !user) {
      await audit.record(context, {
        type: 'email.change_reverted',
        outcome: 'failure',
        details: { reason: 'invalid_or_expired' },
      });
      throw invalidLink();
    }
    if (user.email !== consumed.email && (await users.changeEmail(user.id, consumed.email)) !== 'changed') {
      throw new AppError('email_taken', 'Another account uses that address now. Contact the administrator.');
    }
    await tokens.invalidateForUser(user.id, 'email_change');
    const revoked = await sessions.revokeAll(user.id);
    await audit.record(context, {
      type: 'email.change_reverted',
      outcome: 'success',
      userId: user.id,
      details: { sessionsRevoked: revoked },
    });
  }
}
