import type { Config } from '../../config/schema.ts';
import { AppError } from '../../errors/app-error.ts';
import type { Clock } from '../../ports/clock.ts';
import type { PasswordStore } from '../../ports/credential-store.ts';
import type { UserRecord } from '../../ports/user-store.ts';
import type { AccountService } from '../account/account-service.ts';
import type { AccountTokens } from '../account/account-tokens.ts';
import type { CredentialNotices } from '../account/credential-notices.ts';
import type { AuditRecorder } from '../audit/audit-recorder.ts';
import {
  accountExistsMessage,
  passwordResetMessage,
  passwordSignUpMessage,
  resetNoAccountMessage,
} from '../mail/account-templates.ts';
import type { MailService } from '../mail/mail-service.ts';
import { noAccountMessage } from '../mail/templates.ts';
import type { RequestContext } from '../request-context.ts';
import type { SessionService } from '../sessions/session-service.ts';
import { normalizeEmail } from '../users/email-address.ts';
import type { UserService } from '../users/user-service.ts';
import type { PasswordHasher } from './password-hasher.ts';
import type { PasswordPolicy } from './password-policy.ts';

/** RFC 8176 §2: "pwd", password-based authentication. */
export const PASSWORD_AMR = ['pwd'];
/** Confirming a sign-up proves the address with a mailed one-time link, as email sign-in does. */
const SIGN_UP_CONFIRMED_AMR = ['otp'];

export interface PasswordServiceDeps {
  users: UserService;
  passwords: PasswordStore;
  tokens: AccountTokens;
  hasher: PasswordHasher;
  policy: PasswordPolicy;
  account: AccountService;
  sessions: SessionService;
  notices: CredentialNotices;
  mail: MailService;
  audit: AuditRecorder;
  clock: Clock;
  config: Config;
}

/** One answer for every failed password check: which part was wrong must not show. */
const invalidCredentials = (): AppError =>
  new AppError('invalid_credentials', 'That email address and password do not match.');

const invalidLink = (): AppError =>
  new AppError('invalid_or_expired', 'This link has expired or was already used. Ask for a new one.');

/**
 * Passwords (on by configuration): sign-up confirmed by a mailed link, sign-in, forgotten
 * password, reset and change. argon2id hashes only; no enumeration (same answers, and the same
 * argon2 work, for known and unknown addresses).
 */
export class PasswordService {
  readonly #deps: PasswordServiceDeps;

  constructor(deps: PasswordServiceDeps) {
    this.#deps = deps;
  }

  /**
   * A sign-up creates no account: the password hash waits in a mailed single-use token and the
   * account exists only once the link proves the address. So nobody can squat an address with
   * a password of their choosing. A known address gets a "you already have an account" mail
   * instead: the caller sees the same 202 either way.
   */
  async requestSignUp(input: { email: string; password: string }, context: RequestContext): Promise<void> {
    const { users, tokens, hasher, policy, mail, audit, config } = this.#deps;
    const email = normalizeEmail(input.email);
    await policy.check(input.password, email);
    // Hashed whether or not the account exists: both answers cost the same.
    const passwordHash = await hasher.hash(input.password);
    const existing = await users.findByEmail(email);
    const brand = { appName: config.appName };
    if (existing || config.signUp === 'closed') {
      await mail.enqueue(
        existing
          ? accountExistsMessage(brand, { to: email, origin: config.origin })
          : noAccountMessage(brand, { to: email, origin: config.origin }),
      );
      await audit.record(context, {
        type: 'password.sign_up_requested',
        outcome: 'failure',
        userId: existing?.id ?? null,
        details: { reason: existing ? 'account_exists' : 'sign_up_closed' },
      });
      return;
    }
    const token = await tokens.issue({
      purpose: 'password_sign_up',
      userId: null,
      email,
      data: { passwordHash },
      ttlMs: config.passwords.signUpTtlMs,
    });
    await mail.enqueue(
      passwordSignUpMessage(brand, {
        to: email,
        link: `${config.origin}/password/confirm#token=${token}`,
        ttlHours: Math.round(config.passwords.signUpTtlMs / 3_600_000),
      }),
    );
    await audit.record(context, { type: 'password.sign_up_requested', outcome: 'success' });
  }

  /**
   * Following the sign-up link: the address is proven, the account is created with the
   * password chosen at sign-up, and the caller is signed in as by an email link.
   */
  async confirmSignUp(token: string, context: RequestContext): Promise<{ user: UserRecord; amr: string[] }> {
    const { users, tokens, passwords, account, audit, clock, notices } = this.#deps;
    const consumed = await tokens.consume(token, 'password_sign_up');
    const passwordHash = consumed?.data['passwordHash'];
    if (!consumed || !passwordHash) {
      await audit.record(context, {
        type: 'password.set',
        outcome: 'failure',
        details: { reason: 'invalid_or_expired' },
      });
      throw invalidLink();
    }
    const { user, created, proven } = await users.signInByVerifiedEmail(consumed.email);
    if (!created && !proven) {
      // The address got an account another way after the sign-up was asked for. Its owner
      // signs in as usual; a sign-up link must not add a credential to an existing account.
      await audit.record(context, {
        type: 'password.set',
        outcome: 'failure',
        userId: user.id,
        details: { reason: 'account_exists' },
      });
      throw new AppError('conflict', 'An account already exists for this address. Sign in instead.');
    }
    if (proven) await account.removeUnprovenCredentials(user, context);
    await passwords.set(user.id, passwordHash, clock.now());
    await audit.record(context, {
      type: created ? 'user.created' : 'password.set',
      outcome: 'success',
      userId: user.id,
      details: { via: 'password.sign_up' },
    });
    if (!created) await notices.send(user, 'password_set', context);
    return { user, amr: SIGN_UP_CONFIRMED_AMR };
  }

  /**
   * Checks an address and password. Unknown address, no password and wrong password all cost
   * one argon2 verification and answer `invalid_credentials`; the reason is only audited.
   */
  async signIn(input: { email: string; password: string }, context: RequestContext): Promise<UserRecord> {
    const { users, passwords, hasher, audit } = this.#deps;
    const email = normalizeEmail(input.email);
    const user = await users.findByEmail(email);
    const stored = user ? await passwords.find(user.id) : undefined;
    const ok = stored
      ? await hasher.verify(stored, input.password)
      : await hasher.verifyNothing(input.password);
    const refuse = async (reason: string): Promise<never> => {
      await audit.record(context, {
        type: 'sign_in.password',
        outcome: 'failure',
        userId: user?.id ?? null,
        details: { factor: 'password', reason },
      });
      throw invalidCredentials();
    };
    if (!user) return refuse('unknown_address');
    if (!stored) return refuse('no_password');
    if (!ok) return refuse('wrong_password');
    // A password set before the address was proven must not open the account (issue #3).
    if (user.emailVerifiedAt === null) return refuse('address_unverified');
    await this.#rehashIfStale(user, stored, input.password, context);
    await audit.record(context, {
      type: 'sign_in.password',
      outcome: 'success',
      userId: user.id,
      details: { factor: 'password' },
    });
    return user;
  }

  /** For step-up: the signed-in user's password, with the same cost when they have none. */
  async verifyForReauth(user: UserRecord, password: string): Promise<boolean> {
    const { passwords, hasher } = this.#deps;
    const stored = await passwords.find(user.id);
    return stored ? hasher.verify(stored, password) : hasher.verifyNothing(password);
  }

  /**
   * "Forgot password": a reset link to a known address, a "no account here" notice to an
   * unknown one. Both queue one (sealed) mail, so neither the answer nor its timing tells them
   * apart (test/passwords/timing.test.ts).
   */
  async requestReset(input: { email: string }, context: RequestContext): Promise<void> {
    const { users, tokens, mail, audit, config } = this.#deps;
    const email = normalizeEmail(input.email);
    const user = await users.findByEmail(email);
    const brand = { appName: config.appName };
    if (!user) {
      // The same writes as for a real account (a token row, a queued mail, an audit event), so
      // the work done says nothing either. A token with no user can reset nothing.
      await tokens.issue({
        purpose: 'password_reset',
        userId: null,
        email,
        ttlMs: config.passwords.resetTtlMs,
      });
      await mail.enqueue(resetNoAccountMessage(brand, { to: email, origin: config.origin }));
      await audit.record(context, {
        type: 'password.reset_requested',
        outcome: 'failure',
        details: { reason: 'unknown_address' },
      });
      return;
    }
    const token = await tokens.issue({
      purpose: 'password_reset',
      userId: user.id,
      email,
      ttlMs: config.passwords.resetTtlMs,
    });
    await mail.enqueue(
      passwordResetMessage(brand, {
        to: email,
        link: `${config.origin}/password/reset#token=${token}`,
        ttlMinutes: Math.round(config.passwords.resetTtlMs / 60_000),
      }),
    );
    await audit.record(context, { type: 'password.reset_requested', outcome: 'success', userId: user.id });
  }

  /**
   * Sets a new password from a reset link. It signs nobody in (so it cannot skip a second
   * factor); every session of the account ends except `keepSessionId`, the caller's own, and
   * the owner is mailed. The link proves the address, which settles an unverified account.
   */
  async reset(
    input: { token: string; password: string; keepSessionId: string | null },
    context: RequestContext,
  ): Promise<UserRecord> {
    const { users, tokens, passwords, hasher, policy, account, sessions, notices, audit, clock } = this.#deps;
    const pending = await tokens.peek(input.token, 'password_reset');
    const owner = pending?.userId ? await users.findById(pending.userId) : undefined;
    if (!pending || !owner || owner.email !== pending.email) {
      await audit.record(context, {
        type: 'password.reset',
        outcome: 'failure',
        details: { reason: 'invalid_or_expired' },
      });
      throw invalidLink();
    }
    // Checked before the token is spent: a refused password must not cost the link.
    await policy.check(input.password, owner.email);
    const hash = await hasher.hash(input.password);
    if (!(await tokens.consume(input.token, 'password_reset'))) throw invalidLink();
    const { user, proven } = await users.signInByVerifiedEmail(owner.email);
    if (proven) await account.removeUnprovenCredentials(user, context);
    await passwords.set(user.id, hash, clock.now());
    await tokens.invalidateForUser(user.id, 'password_reset');
    const revoked =
      input.keepSessionId === null
        ? await sessions.revokeAll(user.id)
        : await sessions.revokeOthers(user.id, input.keepSessionId);
    await audit.record(context, {
      type: 'password.reset',
      outcome: 'success',
      userId: user.id,
      details: { sessionsRevoked: revoked },
    });
    await notices.send(user, 'password_reset', context);
    return user;
  }

  /** Changes the password of a signed-in user (behind step-up); other sessions end. */
  async change(
    user: UserRecord,
    input: { currentPassword: string; newPassword: string; sessionId: string },
    context: RequestContext,
  ): Promise<void> {
    const { passwords, hasher, policy, sessions, notices, audit, clock } = this.#deps;
    const stored = await passwords.find(user.id);
    if (!stored) {
      throw new AppError('no_password', 'You have no password yet. Use "Forgot password" to set one.');
    }
    if (!(await hasher.verify(stored, input.currentPassword))) {
      await audit.record(context, {
        type: 'password.changed',
        outcome: 'failure',
        userId: user.id,
        sessionId: input.sessionId,
        details: { reason: 'wrong_current_password' },
      });
      throw new AppError('invalid_credentials', 'Your current password is not right.');
    }
    await policy.check(input.newPassword, user.email);
    await passwords.set(user.id, await hasher.hash(input.newPassword), clock.now());
    const revoked = await sessions.revokeOthers(user.id, input.sessionId);
    await audit.record(context, {
      type: 'password.changed',
      outcome: 'success',
      userId: user.id,
      sessionId: input.sessionId,
      details: { sessionsRevoked: revoked },
    });
    await notices.send(user, 'password_changed', context);
  }

  /** Parameters went up since this hash was made: store a new one while the password is known. */
  async #rehashIfStale(
    user: UserRecord,
    stored: string,
    password: string,
    context: RequestContext,
  ): Promise<void> {
    const { passwords, hasher, audit, clock } = this.#deps;
    if (!hasher.needsRehash(stored)) return;
    if (await passwords.replaceIf(user.id, stored, await hasher.hash(password), clock.now())) {
      await audit.record(context, { type: 'password.rehashed', outcome: 'success', userId: user.id });
    }
  }
}
