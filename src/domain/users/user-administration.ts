import type { Clock } from '../../ports/clock.ts';
import type { OAuthModelStore } from '../../ports/oauth-store.ts';
import type { SessionStore } from '../../ports/session-store.ts';
import type { UserRecord, UserStore } from '../../ports/user-store.ts';
import type { AuditEntry } from '../audit/audit-recorder.ts';
import type { RequestContext } from '../request-context.ts';

/**
 * Blocking and unblocking an account (issue #5: "disabling a user revokes all grants"), in one
 * place for both `gatehouse users disable|enable` and the admin API, so neither can forget a
 * step (revoking the sessions, the OAuth grants, the audit event).
 *
 * Disabling is enforced in three places, each closing a different door:
 * - the flag itself: every sign-in ends in startSession (src/http/auth.ts), which refuses it;
 * - the session lookup joins the user and skips disabled ones, so a session created in a race
 *   with this operation (its sign-in checked before the flag was set) still never validates;
 * - the OAuth provider's findAccount returns nothing for a disabled user, so no token is issued
 *   or refreshed for them even from a grant that escaped the revocation below.
 */

/** Who made the change: an administrator's id and session, or the terminal (nulls). */
export interface UserAdministrator {
  context: RequestContext;
  actorId: string | null;
  sessionId: string | null;
  via: 'cli' | 'api';
}

/** Where events go (the AuditRecorder); a parameter so the CLI and the server bring their own. */
export interface UserAuditSink {
  record(context: RequestContext, entry: AuditEntry): Promise<void>;
}

export interface DisabledUser {
  user: UserRecord;
  /** Sessions that were signed out. */
  sessionsRevoked: number;
  /** OAuth grants, codes and tokens that were deleted (provider sessions end by back-channel logout). */
  oauthRevoked: number;
}

export class UserAdministrationError extends Error {
  override name = 'UserAdministrationError';
  readonly reason: 'not_found';
  constructor(reason: 'not_found', message: string) {
    super(message);
    this.reason = reason;
  }
}

export class UserAdministration {
  readonly #users: UserStore;
  readonly #sessions: Pick<SessionStore, 'deleteAllForUser'>;
  readonly #oauth: Pick<OAuthModelStore, 'deleteByAccount'>;
  readonly #audit: UserAuditSink;
  readonly #clock: Clock;

  constructor(deps: {
    users: UserStore;
    sessions: Pick<SessionStore, 'deleteAllForUser'>;
    oauthModels: Pick<OAuthModelStore, 'deleteByAccount'>;
    audit: UserAuditSink;
    clock: Clock;
  }) {
    this.#users = deps.users;
    this.#sessions = deps.sessions;
    this.#oauth = deps.oauthModels;
    this.#audit = deps.audit;
    this.#clock = deps.clock;
  }

  findById(userId: string): Promise<UserRecord | undefined> {
    return this.#users.findById(userId);
  }

  findByEmail(normalizedEmail: string): Promise<UserRecord | undefined> {
    return this.#users.findByEmail(normalizedEmail);
  }

  /**
   * Disables the account, then signs it out everywhere and revokes every OAuth grant (connected
   * apps, their refresh tokens, codes and opaque access tokens; the provider sessions end by
   * back-channel logout on the `user.disabled` event, which tells their apps). The flag is
   * set first: from then on nothing new can be issued, so the revocation that follows cannot be
   * outrun. JWT access tokens already issued cannot be recalled and expire within their short
   * lifetime (15 minutes at most). Disabling a disabled account revokes again (harmless).
   */
  async disable(userId: string, by: UserAdministrator): Promise<DisabledUser> {
    const user = await this.#setDisabled(userId, this.#clock.now());
    const sessionsRevoked = await this.#sessions.deleteAllForUser(userId);
    const oauthRevoked = await this.#oauth.deleteByAccount(userId);
    await this.#audit.record(by.context, {
      type: 'user.disabled',
      outcome: 'success',
      userId,
      actorId: by.actorId,
      sessionId: by.sessionId,
      details: { via: by.via, sessionsRevoked, oauthRevoked },
    });
    return { user, sessionsRevoked, oauthRevoked };
  }

  /** Lets the account sign in again. Nothing revoked comes back: the user signs in anew. */
  async enable(userId: string, by: UserAdministrator): Promise<UserRecord> {
    const user = await this.#setDisabled(userId, null);
    await this.#audit.record(by.context, {
      type: 'user.enabled',
      outcome: 'success',
      userId,
      actorId: by.actorId,
      sessionId: by.sessionId,
      details: { via: by.via },
    });
    return user;
  }

  /**
   * Deletes the account (an erasure request, a leaver): its credentials and sessions go with the
   * row (foreign keys cascade), its OAuth grants and tokens explicitly (none reach the provider's
   * records); audit entries stay, keyed by the old id. The provider sessions end by back-channel
   * logout on the `user.deleted` event, which tells the apps. No mail: the operator acts on the
   * person's behalf or against an abuser, and either way tells them in their own words.
   */
  async delete(userId: string, by: UserAdministrator): Promise<{ user: UserRecord; oauthRevoked: number }> {
    const user = await this.#users.findById(userId);
    if (!user) throw new UserAdministrationError('not_found', 'No such user.');
    const oauthRevoked = await this.#oauth.deleteByAccount(userId);
    if (!(await this.#users.delete(userId))) throw new UserAdministrationError('not_found', 'No such user.');
    await this.#audit.record(by.context, {
      type: 'user.deleted',
      outcome: 'success',
      userId,
      actorId: by.actorId,
      sessionId: by.sessionId,
      details: { via: by.via, oauthRevoked },
    });
    return { user, oauthRevoked };
  }

  /** Sets or clears the flag and returns the account as it now stands. */
  async #setDisabled(userId: string, at: number | null): Promise<UserRecord> {
    const user = (await this.#users.setDisabled(userId, at)) ? await this.#users.findById(userId) : undefined;
    if (!user) throw new UserAdministrationError('not_found', 'No such user.');
    return user;
  }
}
