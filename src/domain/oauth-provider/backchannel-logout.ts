import type { ClientInstance, Provider } from 'oidc-provider';
import type { Logger } from 'pino';
import type { Clock } from '../../ports/clock.ts';
import type { OAuthModelRecord, OAuthModelStore } from '../../ports/oauth-store.ts';
import type { AuditEventType, AuditRecorder, PublishedAuditEvent } from '../audit/audit-recorder.ts';
import type { RequestContext } from '../request-context.ts';
import type { SessionBridge } from './session-link.ts';

/**
 * OpenID Connect Back-Channel Logout 1.0: when a user's session at the provider ends, every app
 * that took part in it receives a logout token (a JWT signed with our keys: `iss`, `aud`, `iat`,
 * `jti`, the back-channel `events` claim, `sub`, and `sid` when the app asked for it; never a
 * `nonce`), POSTed to its `backchannel_logout_uri`. oidc-provider builds and sends the token
 * (Client#backchannelLogout); Gatehouse decides when, and keeps the delivery off the request path.
 *
 * A provider session ends when:
 * - an app asks for it (RP-initiated logout): the provider itself calls every app of the session;
 * - the Gatehouse session behind it ends (sign-out, a session revoked from another device, all
 *   sessions revoked by a password reset, change of address or account deletion): the provider
 *   session is destroyed here and its apps are called;
 * - the user disconnects an app: that app alone is called for each session it was part of.
 *
 * Delivery runs after the triggering request has its answer; a failure (the app down, slow, or
 * answering other than 200/204) is logged and audited (`oauth.backchannel_logout`, outcome
 * failure), never shown to the user. It is tried once: the spec leaves retries to the OP, and an
 * app that must not miss a logout also checks its sessions against the provider (prompt=none).
 */

export type LogoutReason = 'rp_logout' | 'session_ended' | 'app_revoked';

/** Audit events after which a Gatehouse session of the user may have been ended. */
const SESSION_ENDING_EVENTS: ReadonlySet<AuditEventType> = new Set<AuditEventType>([
  'sign_out',
  'session.revoked',
  'session.revoked_others',
  'password.reset',
  'password.changed',
  'email.changed',
  'email.change_reverted',
  'account.deleted',
  'account.unproven_credentials_removed',
  'user.disabled',
  'user.deleted',
]);

/** The part of a stored provider session (oidc-provider's Session model) this reads. */
interface StoredSession {
  loginTs?: number;
  authorizations?: Record<string, { sid?: string }>;
}

export interface BackchannelLogoutDeps {
  models: OAuthModelStore;
  sessions: SessionBridge;
  audit: AuditRecorder;
  log: Logger;
  clock: Clock;
  /** The current engine (rebuilt on key rotation) and its undeferred logout sender. */
  engine(): {
    provider: Provider;
    send(client: ClientInstance, sub: string, sid: string | undefined): Promise<void>;
  };
}

export class BackchannelLogout {
  readonly #deps: BackchannelLogoutDeps;
  readonly #pending = new Set<Promise<void>>();
  /** Work for one user runs one at a time, so two triggers never notify an app twice. */
  readonly #perUser = new Map<string, Promise<void>>();

  constructor(deps: BackchannelLogoutDeps) {
    this.#deps = deps;
  }

  /** Audit subscriber (DESIGN §2 principle 11): returns at once; the work runs afterwards. */
  readonly onEvent = async (event: PublishedAuditEvent): Promise<void> => {
    const userId = event.userId;
    if (!userId) return;
    if (SESSION_ENDING_EVENTS.has(event.type)) {
      this.#later(() => this.#forUser(userId, () => this.#endOrphanedSessions(userId, event.context)));
    } else if (event.type === 'oauth.app_revoked' && typeof event.details?.['clientId'] === 'string') {
      const clientId = event.details['clientId'];
      this.#later(() => this.#forUser(userId, () => this.#appRevoked(userId, clientId, event.context)));
    }
  };

  /** A logout token the provider wants sent (RP-initiated logout), sent after its answer. */
  deliver(
    client: ClientInstance,
    send: () => Promise<void>,
    sub: string,
    sid: string | undefined,
    reason: LogoutReason,
    context: RequestContext,
  ): void {
    this.#later(() => this.#send(client.clientId, send, sub, sid, reason, context));
  }

  /** Resolves once no delivery is pending (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
  }

  #later(work: () => Promise<void>): void {
    const run = new Promise<void>((resolve) => setImmediate(resolve))
      .then(work)
      .catch((error: unknown) => this.#deps.log.error({ err: error }, 'back-channel logout failed'))
      .finally(() => this.#pending.delete(run));
    this.#pending.add(run);
  }

  #forUser(userId: string, work: () => Promise<void>): Promise<void> {
    const next = (this.#perUser.get(userId) ?? Promise.resolve()).then(work, work);
    this.#perUser.set(userId, next);
    return next.finally(() => {
      if (this.#perUser.get(userId) === next) this.#perUser.delete(userId);
    });
  }

  async #sessionsOf(userId: string): Promise<Array<{ record: OAuthModelRecord; payload: StoredSession }>> {
    const records = await this.#deps.models.listByAccount('Session', userId, Date.now());
    return records.map((record) => ({ record, payload: JSON.parse(record.payload) as StoredSession }));
  }

  /**
   * Provider sessions of the user whose Gatehouse sign-in is gone (the same pairing as the login
   * check, session-link.ts: same user, same auth time) are destroyed, and their apps told.
   */
  async #endOrphanedSessions(userId: string, context: RequestContext): Promise<void> {
    const sessions = await this.#sessionsOf(userId);
    if (sessions.length === 0) return;
    const now = this.#deps.clock.now();
    const live = new Set(
      (await this.#deps.sessions.signIns(userId))
        .filter((signIn) => signIn.expiresAt > now)
        .map((signIn) => Math.floor(signIn.authTime / 1000)),
    );
    for (const { record, payload } of sessions) {
      if (payload.loginTs !== undefined && live.has(payload.loginTs)) continue;
      await this.#deps.models.destroy('Session', record.id);
      for (const [clientId, authorization] of Object.entries(payload.authorizations ?? {}))
        await this.#notify(clientId, userId, authorization.sid, 'session_ended', context);
    }
  }

  /** The user disconnected an app: it is told for each session it was part of, and leaves them. */
  async #appRevoked(userId: string, clientId: string, context: RequestContext): Promise<void> {
    for (const { record, payload } of await this.#sessionsOf(userId)) {
      const authorization = payload.authorizations?.[clientId];
      if (!authorization || !payload.authorizations) continue;
      delete payload.authorizations[clientId];
      await this.#deps.models.upsert({ ...record, payload: JSON.stringify(payload) });
      await this.#notify(clientId, userId, authorization.sid, 'app_revoked', context);
    }
  }

  async #notify(
    clientId: string,
    sub: string,
    sid: string | undefined,
    reason: LogoutReason,
    context: RequestContext,
  ): Promise<void> {
    const { provider, send } = this.#deps.engine();
    const client = await provider.Client.find(clientId);
    if (!client?.backchannelLogoutUri) return;
    this.#later(() => this.#send(clientId, () => send(client, sub, sid), sub, sid, reason, context));
  }

  async #send(
    clientId: string,
    send: () => Promise<void>,
    sub: string,
    sid: string | undefined,
    reason: LogoutReason,
    context: RequestContext,
  ): Promise<void> {
    const { audit, log } = this.#deps;
    try {
      await send();
      await audit.record(context, {
        type: 'oauth.backchannel_logout',
        outcome: 'success',
        userId: sub,
        details: { clientId, reason, sid: sid !== undefined },
      });
    } catch (error) {
      // The app's answer or the network error, never the token.
      const message = (error instanceof Error ? error.message : String(error)).slice(0, 300);
      log.warn({ clientId, reason, error: message }, 'back-channel logout delivery failed');
      await audit.record(context, {
        type: 'oauth.backchannel_logout',
        outcome: 'failure',
        userId: sub,
        details: { clientId, reason, error: message },
      });
    }
  }
}
