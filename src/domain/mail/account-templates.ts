import type { MailMessage } from '../../ports/mail.ts';
import { escapeHtml } from './html.ts';
import { type Brand, layout, noticeFacts } from './templates.ts';

/**
 * Mail for the account lifecycle (issue #3): password sign-up and reset, change of address and
 * its revert, and a notice for every credential change. Same rules as templates.ts: every
 * value is escaped in the HTML part, and nothing a stranger typed appears except where the
 * recipient must see it (the address an account was moved to).
 */

const BUTTON =
  'display:inline-block;background:#2456d3;color:#fff;text-decoration:none;padding:12px 20px;border-radius:8px;font-weight:600';
const QUIET = 'color:#5b6470;font-size:14px';

/** A message whose point is one link: text and HTML say the same sentences. */
function linkMessage(
  brand: Brand,
  input: {
    to: string;
    subject: string;
    heading: string;
    intro: string;
    action: string;
    link: string;
    after: string;
  },
): MailMessage {
  const text = [input.heading, '', input.intro, input.link, '', input.after].join('\n');
  const html = layout(
    brand,
    input.heading,
    `<p>${escapeHtml(input.intro)}</p>
<p><a href="${escapeHtml(input.link)}" style="${BUTTON}">${escapeHtml(input.action)}</a></p>
<p style="${QUIET}">${escapeHtml(input.after)}</p>`,
  );
  return { to: input.to, subject: input.subject, text, html };
}

/** A message that only informs: paragraphs of plain sentences. */
function noticeMessage(
  brand: Brand,
  input: { to: string; subject: string; heading: string; paragraphs: string[]; origin: string },
): MailMessage {
  const text = [input.heading, '', ...input.paragraphs.flatMap((p) => [p, '']), input.origin].join('\n');
  const html = layout(
    brand,
    input.heading,
    input.paragraphs.map((p) => `<p>${escapeHtml(p)}</p>`).join('\n'),
  );
  return { to: input.to, subject: input.subject, text, html };
}

const IF_NOT_YOU = 'If this was not you, sign in and check your account’s security settings now.';

export function passwordSignUpMessage(
  brand: Brand,
  input: { to: string; link: string; ttlHours: number },
): MailMessage {
  return linkMessage(brand, {
    to: input.to,
    subject: `Confirm your ${brand.appName} account`,
    heading: `Confirm your ${brand.appName} account`,
    intro: 'Open this link to confirm your address and finish creating your account:',
    action: 'Confirm my account',
    link: input.link,
    after: `The link works once and expires in ${input.ttlHours} hours. If you did not sign up, ignore this message: no account is created without it.`,
  });
}

export function accountExistsMessage(brand: Brand, input: { to: string; origin: string }): MailMessage {
  return noticeMessage(brand, {
    to: input.to,
    subject: `Sign-up attempt at ${brand.appName}`,
    heading: 'You already have an account',
    paragraphs: [
      `Someone (hopefully you) tried to create a ${brand.appName} account with this address, but it already has one.`,
      'Sign in instead, or use "Forgot password" on the sign-in page. If it was not you, ignore this message: nothing changed.',
    ],
    origin: `${input.origin}/sign-in`,
  });
}

export function passwordResetMessage(
  brand: Brand,
  input: { to: string; link: string; ttlMinutes: number },
): MailMessage {
  return linkMessage(brand, {
    to: input.to,
    subject: `Reset your ${brand.appName} password`,
    heading: 'Reset your password',
    intro: 'Open this link to choose a new password:',
    action: 'Choose a new password',
    link: input.link,
    after: `The link works once and expires in ${input.ttlMinutes} minutes. If you did not ask for it, ignore this message: your password stays as it is.`,
  });
}

export function resetNoAccountMessage(brand: Brand, input: { to: string; origin: string }): MailMessage {
  return noticeMessage(brand, {
    to: input.to,
    subject: `Password reset at ${brand.appName}`,
    heading: 'No account for this address',
    paragraphs: [
      `Someone (hopefully you) asked to reset a ${brand.appName} password for this address, but there is no account for it.`,
      'If you expected one, you may have used another address. If it was not you, ignore this message.',
    ],
    origin: input.origin,
  });
}

export function emailChangeConfirmMessage(
  brand: Brand,
  input: { to: string; link: string; ttlHours: number },
): MailMessage {
  return linkMessage(brand, {
    to: input.to,
    subject: `Confirm your new ${brand.appName} address`,
    heading: 'Confirm your new address',
    intro: `Open this link to make this the address of your ${brand.appName} account:`,
    action: 'Use this address',
    link: input.link,
    after: `The link works once and expires in ${input.ttlHours} hours. If you did not ask for this, ignore this message: nothing changes without it.`,
  });
}

export function emailInUseMessage(brand: Brand, input: { to: string; origin: string }): MailMessage {
  return noticeMessage(brand, {
    to: input.to,
    subject: `Change of address at ${brand.appName}`,
    heading: 'This address already has an account',
    paragraphs: [
      `Someone asked to move their ${brand.appName} account to this address, but an account already uses it, so nothing changed.`,
      'If it was you, delete or rename the other account first. Otherwise ignore this message.',
    ],
    origin: input.origin,
  });
}

export function emailChangedNotice(
  brand: Brand,
  input: {
    to: string;
    newAddress: string;
    revertLink: string;
    ttlDays: number;
    at: number;
    device: string;
    ip: string | null;
  },
): MailMessage {
  const facts = noticeFacts(input)
    .map(([label, value]) => `${label}: ${value}`)
    .join(' · ');
  return linkMessage(brand, {
    to: input.to,
    subject: `Your ${brand.appName} address was changed`,
    heading: 'Your address was changed',
    intro: `Your ${brand.appName} account now uses ${input.newAddress} instead of this address. If you did not do this, undo it with this link; it also signs out every device:`,
    action: 'Undo the change',
    link: input.revertLink,
    after: `${facts}. The link works once, for ${input.ttlDays} days. If you made this change, you can ignore this message.`,
  });
}

/**
 * Every change of a way to sign in, in words the owner recognises. Passkey changes are mailed by
 * the security notifications (with device and IP), so they are not repeated here.
 */
export type CredentialChange =
  | 'password_set'
  | 'password_changed'
  | 'password_reset'
  | 'totp_enabled'
  | 'totp_removed'
  | 'recovery_codes_generated'
  | 'recovery_code_used';

const CHANGE_SENTENCES: Record<CredentialChange, string> = {
  password_set: 'A password was set for your account.',
  password_changed: 'Your password was changed. Your other devices were signed out.',
  // The browser that followed the link keeps its session when it was signed in to this account
  // (password-service reset, keepSessionId); every other one ends.
  password_reset:
    'Your password was reset with a link sent to this address. Every other device was signed out.',
  totp_enabled: 'An authenticator app was set up as a second step for signing in.',
  totp_removed: 'The authenticator app was removed: signing in no longer asks for its codes.',
  recovery_codes_generated: 'A new set of recovery codes was generated. The old codes no longer work.',
  recovery_code_used: 'A recovery code was used to sign in.',
};

export function credentialChangedNotice(
  brand: Brand,
  input: {
    to: string;
    change: CredentialChange;
    origin: string;
    remainingRecoveryCodes?: number;
    at: number;
    device: string;
    ip: string | null;
  },
): MailMessage {
  const paragraphs = [
    CHANGE_SENTENCES[input.change],
    noticeFacts(input)
      .map(([label, value]) => `${label}: ${value}`)
      .join(' · '),
  ];
  if (input.remainingRecoveryCodes !== undefined) {
    paragraphs.push(`You have ${input.remainingRecoveryCodes} unused recovery codes left.`);
  }
  paragraphs.push(IF_NOT_YOU);
  return noticeMessage(brand, {
    to: input.to,
    subject: `Security change on your ${brand.appName} account`,
    heading: 'A security setting changed',
    paragraphs,
    origin: `${input.origin}/account`,
  });
}

export function accountDeletedNotice(brand: Brand, input: { to: string; origin: string }): MailMessage {
  return noticeMessage(brand, {
    to: input.to,
    subject: `Your ${brand.appName} account was deleted`,
    heading: 'Your account was deleted',
    paragraphs: [
      `Your ${brand.appName} account and every way to sign in to it were deleted, and every device was signed out.`,
      'If you did not do this, contact the administrator of this service.',
    ],
    origin: input.origin,
  });
}
