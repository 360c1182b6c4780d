import nodemailer from 'nodemailer';
import type { Logger } from 'pino';
import type { Clock } from '../../ports/clock.ts';
import type { DevMailboxStore, MailMessage, MailTransport } from '../../ports/mail.ts';
import { randomId } from '../crypto/secrets.ts';

/** Real mail through one SMTP URL (smtp:// with STARTTLS when offered, or smtps://). */
export function smtpTransport(url: string, from: string): MailTransport {
  const transporter = nodemailer.createTransport(url);
  return {
    name: 'smtp',
    async send(message: MailMessage): Promise<void> {
      await transporter.sendMail({
        from,
        to: message.to,
        subject: message.subject,
        text: message.text,
        html: message.html,
      });
    },
    async close(): Promise<void> {
      transporter.close();
    },
  };
}

/**
 * Development only: messages land in the database, readable at /dev/mailbox and
 * GET /dev/mailbox/messages, with a one-line console summary. Never enabled in production
 * (config refuses to start without SMTP there).
 */
export function devMailboxTransport(
  store: DevMailboxStore,
  clock: Clock,
  log: Logger,
  origin: string,
): MailTransport {
  return {
    name: 'dev-mailbox',
    async send(message: MailMessage): Promise<void> {
      await store.store({ ...message, id: randomId(), createdAt: clock.now() });
      // The subject and body carry codes and links: only the recipient is logged.
      log.info({ to: message.to }, `development mail stored: open ${origin}/dev/mailbox`);
    },
  };
}
