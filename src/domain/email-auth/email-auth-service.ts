import type { Config } from '../../config/schema.ts';
import { AppError } from '../../errors/app-error.ts';
import type { Clock } from '../../ports/clock.ts';
import type { EmailChallengeRecord, EmailChallengeStore } from '../../ports/email-challenge-store.ts';
import type { UserRecord } from '../../ports/user-store.ts';
import type { AccountService } from '../account/account-service.ts';
import type { AuditRecorder } from '../audit/audit-recorder.ts';
import { randomDigits, randomId, randomToken, sha256 } from '../crypto/secrets.ts';
import type { MailService } from '../mail/mail-service.ts';
import type { MailBudget } from '../ratelimit/request-limiter.ts';
import { noAccountMessage, signInMessage } from '../mail/templates.ts';
import type { RequestContext } from '../request-context.ts';
import type { RedirectPolicy } from '../redirects/redirect-policy.ts';
import { normalizeEmail } from '../users/email-address.ts';
import type { UserService } from '../users/user-service.ts';

/** RFC 8176: a one-time secret delivered out of band (the mailbox). */
export const EMAIL_AMR = ['otp'];

export interface EmailSignInResult {
  user: UserRecord;
  created: boolean;
  amr: string[];
  /** Absolute URL validated when the link was requested, or null. */
  redirectTo: string | null;
}

export interface EmailAuthDeps {
  challenges: EmailChallengeStore;
  users: UserService;
  mail: MailService;
  audit: AuditRecorder;
  redirects: RedirectPolicy;
  clock: Clock;
  config: Config;
  /** Clears credentials an unverified account held before its owner proved the address. */
  account: AccountService;
  /** Mail per address (issue #4): over budget the answer is unchanged and no mail is sent. */
  mailBudget: MailBudget;
}

const CODE_FORMAT = /^\d{6}$/;

/**
 * "Continue with email": one message with a link and a 6-digit code.
 * - The link token (256 bits) is stored as SHA-256 and works from any browser.
 * - The code (20 bits) is only accepted together with the flow secret kept in the requesting
 *   browser's cookie: the stored hash covers both, so a database dump or a guessed code alone
 *   signs nobody in, and wrong guesses are capped per request.
 * - Both are single-use, expire (15 minutes by default), and using one kills every other
 *   outstanding one for the address.
 */
export class EmailAuthService {
  readonly #deps: EmailAuthDeps;

  constructor(deps: EmailAuthDeps) {
    this.#deps = deps;
  }

  /**
   * Always resolves the same way for known and unknown addresses (no enumeration): both
   * paths look the user up, write one row or message, and return a fresh flow secret.
   */
  async request(
    input: { email: string; redirectTo?: string | undefined },
    context: RequestContext,
  ): Promise<{ flowSecret: string; expiresAt: number }> {
    const { config, clock, users, challenges, mail, audit, redirects } = this.#deps;
    const email = normalizeEmail(input.email);
    const redirectTo = this.#checkRedirect(input.redirectTo, context);
    const now = clock.now();
    const expiresAt = now + config.emailAuth.ttlMs;
    const flowSecret = randomToken();
    const existing = await users.findByEmail(email);
    const brand = { appName: config.appName };

    if (!existing && config.signUp === 'closed') {
      if (await this.#withinMailBudget(email, context))
        await mail.enqueue(noAccountMessage(brand, { to: email, origin: config.origin }));
      await audit.record(context, {
        type: 'sign_in.email_requested',
        outcome: 'failure',
        details: { reason: 'no_account_sign_up_closed' },
      });
      return { flowSecret, expiresAt };
    }

    const linkToken = randomToken();
    const code = randomDigits(6);
    await challenges.create({
      id: randomId(),
      email,
      linkHash: sha256(linkToken),
      flowHash: sha256(flowSecret),
      codeHash: codeHash(flowSecret, code),
      attempts: 0,
      redirectTo: redirectTo ? redirects.toRelativeIfLocal(redirectTo) : null,
      expiresAt,
      usedAt: null,
      createdAt: now,
    });
    // The token travels in the fragment: it never reaches a server log, a proxy, or a mail
    // scanner that fetches the URL; the page posts it only when the person clicks.
    const link = `${config.origin}/email/verify#token=${linkToken}`;
    if (await this.#withinMailBudget(email, context)) {
      await mail.enqueue(
        signInMessage(brand, {
          to: email,
          link,
          code,
          ttlMinutes: Math.round(config.emailAuth.ttlMs / 60_000),
        }),
      );
    }
    await audit.record(context, {
      type: 'sign_in.email_requested',
      outcome: 'success',
      userId: existing?.id ?? null,
    });
    return { flowSecret, expiresAt };
  }

  async verifyLink(token: string, context: RequestContext): Promise<EmailSignInResult> {
    const { challenges, clock, audit } = this.#deps;
    const consumed =
      token.length === 43 ? await challenges.consumeByLink(sha256(token), clock.now()) : undefined;
    if (!consumed) {
      await audit.record(context, {
        type: 'sign_in.email_link',
        outcome: 'failure',
        details: { reason: 'invalid_or_expired' },
      });
      throw new AppError(
        'invalid_or_expired',
        'This sign-in link has expired or was already used. Ask for a new one.',
      );
    }
    return this.#complete(consumed, 'sign_in.email_link', context);
  }

  async verifyCode(
    input: { email: string; code: string; flowSecret: string | undefined },
    context: RequestContext,
  ): Promise<EmailSignInResult> {
    const { challenges, clock, audit, config } = this.#deps;
    const email = normalizeEmail(input.email);
    const code = input.code.replace(/\s+/g, '');
    const refuse = async (reason: string): Promise<never> => {
      await audit.record(context, { type: 'sign_in.email_code', outcome: 'failure', details: { reason } });
      throw new AppError(
        'invalid_code',
        'That code is wrong or has expired. Check the latest email, or ask for a new code.',
      );
    };
    if (input.flowSecret?.length !== 43) return refuse('no_flow_in_this_browser');
    if (!CODE_FORMAT.test(code)) return refuse('malformed_code');
    const now = clock.now();
    const flowHash = sha256(input.flowSecret);
    const consumed = await challenges.consumeByCode(
      {
        flowHash,
        codeHash: codeHash(input.flowSecret, code),
        email,
        maxAttempts: config.emailAuth.maxCodeAttempts,
      },
      now,
    );
    if (!consumed) {
      await challenges.recordFailedAttempt(flowHash, now);
      return refuse('wrong_or_expired_code');
    }
    return this.#complete(consumed, 'sign_in.email_code', context);
  }

  async #complete(
    challenge: EmailChallengeRecord,
    type: 'sign_in.email_link' | 'sign_in.email_code',
    context: RequestContext,
  ): Promise<EmailSignInResult> {
    const { challenges, users, clock, audit, config, redirects } = this.#deps;
    await challenges.invalidateForEmail(challenge.email, clock.now());
    const existing = await users.findByEmail(challenge.email);
    if (!existing && config.signUp === 'closed') {
      await audit.record(context, { type, outcome: 'failure', details: { reason: 'sign_up_closed' } });
      throw new AppError('sign_up_closed', 'There is no account for this address and sign-up is closed.');
    }
    const { user, created, proven } = await users.signInByVerifiedEmail(challenge.email);
    if (proven) await this.#deps.account.removeUnprovenCredentials(user, context);
    if (created)
      await audit.record(context, {
        type: 'user.created',
        outcome: 'success',
        userId: user.id,
        details: { via: type },
      });
    await audit.record(context, { type, outcome: 'success', userId: user.id });
    const redirectTo = challenge.redirectTo ? redirects.resolve(challenge.redirectTo) : null;
    return { user, created, amr: EMAIL_AMR, redirectTo };
  }

  /**
   * Asked for every address, known or not, just before its mail: over budget nothing is sent
   * and the answer stays the same, so the budget stops mail-bombing without revealing accounts.
   */
  #withinMailBudget(email: string, context: RequestContext): Promise<boolean> {
    return this.#deps.mailBudget.allowMail(email, context);
  }

  #checkRedirect(target: string | undefined, context: RequestContext): string | null {
    if (target === undefined || target === '') return null;
    const resolved = this.#deps.redirects.resolve(target);
    if (!resolved) {
      void this.#deps.audit.record(context, {
        type: 'redirect.refused',
        outcome: 'failure',
        details: { target: target.slice(0, 200) },
      });
      throw new AppError('redirect_refused', 'That return address is not allowed.');
    }
    return resolved;
  }
}

function codeHash(flowSecret: string, code: string): string {
  return sha256(`${flowSecret}:${code}`);
}
