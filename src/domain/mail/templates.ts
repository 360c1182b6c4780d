import type { MailMessage } from '../../ports/mail.ts';
import { escapeHtml } from './html.ts';

/**
 * Mail templates: text and HTML. Every interpolated value is escaped for HTML; the text part
 * needs no escaping but never contains anything the recipient did not cause (no user-chosen
 * display names), so a mail cannot be turned into a phishing vehicle.
 */
export interface Brand {
  appName: string;
}

export function layout(brand: Brand, heading: string, bodyHtml: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>${escapeHtml(heading)}</title></head>
<body style="margin:0;padding:24px;background:#f6f7f9;font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;color:#1b1f24">
<div style="max-width:480px;margin:0 auto;background:#fff;border-radius:12px;padding:32px;border:1px solid #e3e6ea">
<p style="margin:0 0 8px;font-size:14px;color:#5b6470">${escapeHtml(brand.appName)}</p>
<h1 style="margin:0 0 16px;font-size:22px">${escapeHtml(heading)}</h1>
${bodyHtml}
</div></body></html>`;
}

export function signInMessage(
  brand: Brand,
  input: { to: string; link: string; code: string; ttlMinutes: number },
): MailMessage {
  const subject = `Your ${brand.appName} sign-in code: ${input.code}`;
  const text = [
    `Sign in to ${brand.appName}`,
    '',
    `Open this link to sign in:`,
    input.link,
    '',
    `Or enter this code in the browser where you asked for it: ${input.code}`,
    '',
    `The link and the code work once and expire in ${input.ttlMinutes} minutes.`,
    `If you did not ask to sign in, ignore this message: nobody can sign in without it.`,
  ].join('\n');
  const html = layout(
    brand,
    `Sign in to ${brand.appName}`,
    `<p><a href="${escapeHtml(input.link)}" style="display:inline-block;background:#2456d3;color:#fff;text-decoration:none;padding:12px 20px;border-radius:8px;font-weight:600">Sign in</a></p>
<p>Or enter this code in the browser where you asked for it:</p>
<p style="font-size:28px;letter-spacing:6px;font-weight:700;font-family:ui-monospace,monospace">${escapeHtml(input.code)}</p>
<p style="color:#5b6470;font-size:14px">The link and the code work once and expire in ${escapeHtml(String(input.ttlMinutes))} minutes. If you did not ask to sign in, ignore this message: nobody can sign in without it.</p>`,
  );
  return { to: input.to, subject, text, html };
}

export function noAccountMessage(brand: Brand, input: { to: string; origin: string }): MailMessage {
  const subject = `Sign-in attempt at ${brand.appName}`;
  const text = [
    `Someone (hopefully you) asked to sign in to ${brand.appName} with this address,`,
    `but there is no account for it and new sign-ups are closed.`,
    '',
    `If you expected to have an account, ask your administrator. If it was not you, ignore this message.`,
    input.origin,
  ].join('\n');
  const html = layout(
    brand,
    'No account for this address',
    `<p>Someone (hopefully you) asked to sign in to ${escapeHtml(brand.appName)} with this address, but there is no account for it and new sign-ups are closed.</p>
<p style="color:#5b6470;font-size:14px">If you expected to have an account, ask your administrator. If it was not you, ignore this message.</p>`,
  );
  return { to: input.to, subject, text, html };
}

/** What a security notice is about (SecurityNotifications maps audit events to these). */
export type SecurityNoticeKind = 'new_device' | 'passkey_added' | 'passkey_removed' | 'failed_attempts';

const NOTICES: Record<
  SecurityNoticeKind,
  { subject: (app: string) => string; heading: string; what: string }
> = {
  new_device: {
    subject: (app) => `New sign-in to your ${app} account`,
    heading: 'New sign-in from a new device',
    what: 'Your account was signed in to from a device it had not been used on before.',
  },
  passkey_added: {
    subject: (app) => `A passkey was added to your ${app} account`,
    heading: 'A passkey was added',
    what: 'A new passkey was added to your account. It can be used to sign in from now on.',
  },
  passkey_removed: {
    subject: (app) => `A passkey was removed from your ${app} account`,
    heading: 'A passkey was removed',
    what: 'A passkey was removed from your account. It can no longer be used to sign in.',
  },
  failed_attempts: {
    subject: (app) => `Repeated failed sign-in attempts on your ${app} account`,
    heading: 'Someone keeps failing to sign in',
    what: 'There were many failed attempts to sign in to your account. Attempts from devices you have not used are paused for a while; your passkeys and the devices you already use keep working.',
  },
};

/**
 * A security notice: what happened, when, from which device and address, and the way to the
 * account page (sign out everywhere, remove passkeys). The device is a coarse label from a
 * fixed list (deviceLabel), never the raw user agent, so a stranger's text never reaches the mail.
 */
/** When, from which device and address: the facts every security mail states. */
export function noticeFacts(input: {
  at: number;
  device: string;
  ip: string | null;
}): Array<[string, string]> {
  return [
    ['When', `${new Date(input.at).toISOString().slice(0, 16).replace('T', ' ')} UTC`],
    ['Device', input.device],
    ['IP address', input.ip ?? 'unknown'],
  ];
}

export function securityNoticeMessage(
  brand: Brand,
  input: {
    to: string;
    kind: SecurityNoticeKind;
    at: number;
    device: string;
    ip: string | null;
    accountUrl: string;
  },
): MailMessage {
  const notice = NOTICES[input.kind];
  const facts = noticeFacts(input);
  const ifNotYou =
    'If this was you, there is nothing to do. If it was not, secure your account now: sign out everywhere and remove any passkey you do not recognise.';
  const text = [
    notice.heading,
    '',
    notice.what,
    '',
    ...facts.map(([label, value]) => `${label}: ${value}`),
    '',
    ifNotYou,
    `Secure my account: ${input.accountUrl}`,
  ].join('\n');
  const html = layout(
    brand,
    notice.heading,
    `<p>${escapeHtml(notice.what)}</p>
<table style="border-collapse:collapse;margin:0 0 16px">${facts
      .map(
        ([label, value]) =>
          `<tr><td style="padding:2px 12px 2px 0;color:#5b6470">${escapeHtml(label)}</td><td style="padding:2px 0">${escapeHtml(value)}</td></tr>`,
      )
      .join('')}</table>
<p>${escapeHtml(ifNotYou)}</p>
<p><a href="${escapeHtml(input.accountUrl)}" style="display:inline-block;background:#2456d3;color:#fff;text-decoration:none;padding:12px 20px;border-radius:8px;font-weight:600">Secure my account</a></p>`,
  );
  return { to: input.to, subject: notice.subject(brand.appName), text, html };
}
