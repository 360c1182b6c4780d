import type { Config } from '../../config/schema.ts';
import type { Clock } from '../../ports/clock.ts';
import type { SessionRecord, SessionStore, SessionWithUser } from '../../ports/session-store.ts';
import { randomId, randomToken, sha256 } from '../crypto/secrets.ts';
import type { RequestContext } from '../request-context.ts';

export interface IssuedSession {
  /** The cookie value. Shown once, never stored. */
  token: string;
  session: SessionRecord;
}

export interface ValidatedSession extends SessionWithUser {
  /** Set when the rolling expiry moved and the cookie should be sent again. */
  renewedExpiresAt: number | null;
}

type SessionPolicy = Config['session'];

/**
 * Sessions per DESIGN §4: a 256-bit token in the cookie, only its SHA-256 in the database;
 * rolling, idle and absolute expiry; every sign-in issues a fresh token.
 */
export class SessionService {
  readonly #store: SessionStore;
  readonly #clock: Clock;
  readonly #policy: SessionPolicy;

  constructor(store: SessionStore, clock: Clock, policy: SessionPolicy) {
    this.#store = store;
    this.#clock = clock;
    this.#policy = policy;
  }

  /**
   * A new session for a completed sign-in. The caller revokes the session it replaces (if
   * any), so a token an attacker planted before sign-in (session fixation) never becomes
   * authenticated.
   */
  async issue(
    userId: string,
    amr: string[],
    context: RequestContext,
    /** A half-authenticated session (second factor pending): short-lived, never renewed past it. */
    pending?: { lifetimeMs: number },
  ): Promise<IssuedSession> {
    const now = this.#clock.now();
    const token = randomToken();
    const absoluteExpiresAt = now + (pending?.lifetimeMs ?? this.#policy.absoluteLifetimeMs);
    const session: SessionRecord = {
      id: randomId(),
      tokenHash: sha256(token),
      userId,
      createdAt: now,
      lastSeenAt: now,
      expiresAt: Math.min(now + this.#policy.rollingLifetimeMs, absoluteExpiresAt),
      absoluteExpiresAt,
      authTime: now,
      amr,
      ip: context.ip,
      userAgent: context.userAgent ? context.userAgent.slice(0, 512) : null,
      mfaPending: pending !== undefined,
    };
    await this.#store.create(session);
    return { token, session };
  }

  /**
   * The hot path: one indexed lookup; a write only when last activity is older than
   * `touchAfterMs` (minutes) or the rolling expiry is due for renewal (a day).
   */
  async validate(token: string): Promise<ValidatedSession | undefined> {
    const found = await this.#find(token);
    if (!found) return undefined;
    const { session } = found;
    const now = this.#clock.now();
    const due = this.#due(session, now);
    if (due.expired) {
      await this.#store.deleteById(session.id);
      return undefined;
    }
    const { renewedExpiresAt } = due;
    if (due.write) {
      await this.#store.touch(session.id, now, renewedExpiresAt ?? undefined);
      session.lastSeenAt = now;
      if (renewedExpiresAt !== null) session.expiresAt = renewedExpiresAt;
    }
    return { ...found, renewedExpiresAt };
  }

  /**
   * validate() for the common case, read-only: the session when it is valid and no write is due
   * (neither last activity nor the rolling expiry); null when validate() has to decide, because
   * it will write, delete or refuse. Nothing is changed, so calling validate() after a null is
   * always safe. Used by the session-check fast path (src/http/session-check-fast-path.ts).
   */
  async readIfCurrent(token: string): Promise<SessionWithUser | null> {
    const found = await this.#find(token);
    if (!found) return null;
    const due = this.#due(found.session, this.#clock.now());
    return due.expired || due.write ? null : found;
  }

  #find(token: string): Promise<SessionWithUser | undefined> {
    // A token of the wrong shape cannot match; skip the database.
    if (token.length !== 43) return Promise.resolve(undefined);
    return this.#store.findByTokenHash(sha256(token));
  }

  /** The one place that decides expiry, idle timeout, renewal and activity writes. */
  #due(
    session: SessionRecord,
    now: number,
  ): { expired: boolean; write: boolean; renewedExpiresAt: number | null } {
    const idleDeadline = session.lastSeenAt + this.#policy.idleTimeoutMs;
    if (now >= session.expiresAt || now >= session.absoluteExpiresAt || now >= idleDeadline) {
      return { expired: true, write: false, renewedExpiresAt: null };
    }
    const rollingTarget = Math.min(now + this.#policy.rollingLifetimeMs, session.absoluteExpiresAt);
    const renewedExpiresAt =
      rollingTarget - session.expiresAt >= this.#policy.renewAfterMs ? rollingTarget : null;
    const write = renewedExpiresAt !== null || now - session.lastSeenAt >= this.#policy.touchAfterMs;
    return { expired: false, write, renewedExpiresAt };
  }

  list(userId: string): Promise<SessionRecord[]> {
    return this.#store.listByUser(userId);
  }

  revoke(sessionId: string, userId: string): Promise<boolean> {
    return this.#store.deleteForUser(sessionId, userId);
  }

  revokeOthers(userId: string, keepSessionId: string): Promise<number> {
    return this.#store.deleteOthers(userId, keepSessionId);
  }

  revokeAll(userId: string): Promise<number> {
    return this.#store.deleteAllForUser(userId);
  }

  /** Sign-out or replacement by a new sign-in: the token stops working at once. */
  end(sessionId: string): Promise<void> {
    return this.#store.deleteById(sessionId);
  }

  /** A failed second factor or re-authentication on this session; returns how many so far. */
  recordAuthFailure(sessionId: string): Promise<number> {
    return this.#store.recordAuthFailure(sessionId);
  }

  pruneExpired(): Promise<number> {
    return this.#store.deleteExpired(this.#clock.now());
  }
}
