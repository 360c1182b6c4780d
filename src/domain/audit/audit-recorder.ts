import type { AuditLog, AuditOutcome } from '../../ports/audit-log.ts';
import type { Clock } from '../../ports/clock.ts';
import { randomId } from '../crypto/secrets.ts';
import type { RequestContext } from '../request-context.ts';

/**
 * The event catalogue. Every security-relevant thing the domain does is one of these; the
 * audit log, and later metrics and webhooks, subscribe to them.
 */
export const auditEventTypes = {
  'user.created': 'An account was created (first sign-in with email).',
  'sign_in.email_link': 'Sign-in attempt with an emailed link.',
  'sign_in.email_code': 'Sign-in attempt with an emailed one-time code.',
  'sign_in.passkey': 'Sign-in attempt with a passkey.',
  'sign_in.email_requested': 'A sign-in link and code were requested for an address.',
  sign_out: 'The user signed out (session revoked by its own holder).',
  'session.revoked': 'A session was revoked from another session.',
  'session.revoked_others': 'All of the user’s other sessions were revoked.',
  'passkey.added': 'A passkey was registered.',
  'passkey.registration_failed': 'A passkey registration was refused.',
  'passkey.renamed': 'A passkey was renamed.',
  'passkey.removed': 'A passkey was removed.',
  'passkey.counter_regression':
    'A passkey assertion carried a signature counter that did not move forward (possible cloned authenticator).',
  'profile.updated': 'The user changed their profile.',
  'request.cross_origin_refused': 'A state-changing request from another origin was refused.',
  'redirect.refused': 'A redirect target outside the allowed list was refused.',
} as const;

export type AuditEventType = keyof typeof auditEventTypes;

export interface AuditEntry {
  type: AuditEventType;
  outcome: AuditOutcome;
  userId?: string | null;
  sessionId?: string | null;
  /** Why, which factor, which credential: never a token, code, or key. */
  details?: Record<string, unknown>;
}

export class AuditRecorder {
  readonly #log: AuditLog;
  readonly #clock: Clock;
  readonly #onError: (error: unknown) => void;

  constructor(log: AuditLog, clock: Clock, onError: (error: unknown) => void) {
    this.#log = log;
    this.#clock = clock;
    this.#onError = onError;
  }

  /**
   * Written before the response is sent, so a recorded success is never missing. A failure to
   * write is logged, not thrown: the database being down is caught where it matters (no
   * session can be created without it).
   */
  async record(context: RequestContext, entry: AuditEntry): Promise<void> {
    try {
      await this.#log.record({
        id: randomId(),
        at: this.#clock.now(),
        type: entry.type,
        outcome: entry.outcome,
        userId: entry.userId ?? null,
        sessionId: entry.sessionId ?? null,
        ip: context.ip,
        userAgent: context.userAgent,
        requestId: context.requestId,
        details: entry.details ?? {},
      });
    } catch (error) {
      this.#onError(error);
    }
  }
}
