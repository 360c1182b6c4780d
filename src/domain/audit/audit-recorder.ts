import { randomBytes } from 'node:crypto';
import type { AuditLog, AuditOutcome } from '../../ports/audit-log.ts';
import type { Clock } from '../../ports/clock.ts';
import { randomId } from '../crypto/secrets.ts';
import type { RequestContext } from '../request-context.ts';
import { canonicalJson } from './canonical-json.ts';
import { AuditChainWriter } from './chain-writer.ts';
import { safeDetails, safeText } from './safe-details.ts';

/**
 * The event catalogue. Every security-relevant thing the domain does is one of these; the
 * audit log, and later metrics and webhooks, subscribe to them.
 */
export const auditEventTypes = {
  'user.created': 'An account was created (first sign-in with email).',
  'user.disabled':
    'An administrator disabled an account: its sessions and OAuth grants were revoked (actor: the administrator, null from the CLI; details: via, counts).',
  'user.enabled': 'An administrator enabled a disabled account again (actor: the administrator).',
  'user.deleted':
    'An administrator deleted an account: credentials, sessions and OAuth grants went, audit entries stay (actor: the administrator, null from the CLI; details: via, counts).',
  'user.imported':
    'An account was imported from another system with `gatehouse users import` (details: whether its address was verified there, which kind of password hash it brought).',
  'sign_in.account_disabled':
    'A sign-in to a disabled account was refused after its factor was accepted (details: amr).',
  'sign_in.email_link': 'Sign-in attempt with an emailed link.',
  'sign_in.email_code': 'Sign-in attempt with an emailed one-time code.',
  'sign_in.passkey': 'Sign-in attempt with a passkey.',
  'sign_in.federated': 'Sign-in attempt with another provider ("Continue with Google" and the like).',
  'identity.link_pending':
    'A provider account with the address of an existing account waits until the account owner signs in to link it.',
  'identity.linked': 'A provider account was linked to an account.',
  'identity.unlinked': 'The user unlinked a provider account.',
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
  'audit.viewed': 'An administrator read the audit log (actor: the administrator; details: the filter).',
  'audit.pruned':
    'Events older than the retention period were deleted; the chain resumes from the anchor (details: count, last pruned position, whether the pruned part verified).',
  'sign_in.password': 'Sign-in attempt with a password.',
  'sign_in.second_factor':
    'A second factor (authenticator code or recovery code) offered to complete a sign-in.',
  reauth: 'Re-authentication (step-up) before a sensitive change.',
  'password.sign_up_requested': 'A password sign-up was requested; the confirmation link was mailed.',
  'password.set': 'A password was set by confirming a sign-up.',
  'password.changed': 'The user changed their password.',
  'password.reset_requested': 'A password reset link was requested.',
  'password.reset': 'A password was reset with a mailed link.',
  'password.rehashed': 'A password hash was upgraded to the current argon2id parameters.',
  'mfa.totp_enrolment_started': 'An authenticator app enrolment was started.',
  'mfa.totp_enabled': 'An authenticator app was confirmed and enabled.',
  'mfa.totp_removed': 'The authenticator app was removed.',
  'mfa.recovery_codes_generated': 'A new set of recovery codes was generated.',
  'mfa.recovery_code_used': 'A recovery code was used.',
  'email.change_requested': 'A change of address was requested.',
  'email.changed': 'The account moved to a new, proven address.',
  'email.change_reverted': 'A change of address was undone from the old address.',
  'account.deleted': 'The user deleted their account.',
  'account.unproven_credentials_removed':
    'The owner proved an address whose account was never verified: credentials set up before then were removed (possible takeover attempt).',
  'sign_in.new_device': 'A sign-in from a browser the account had not used before (the owner is mailed).',
  'rate_limit.triggered':
    'A rate limit or brute-force delay started refusing requests, or a mail budget held mail back (details: rule, endpoint).',
  'rate_limit.counter_unavailable':
    'The shared rate-limit counters (Redis) failed; this node limits with in-memory counters until they answer.',
  'rate_limit.counter_recovered': 'The shared rate-limit counters (Redis) answer again and are used.',
  'oauth.consent_granted': 'The user allowed an app what it asked for (details: client, scopes, resources).',
  'oauth.consent_denied': 'The user refused an app’s authorization request.',
  'oauth.reauthentication_abandoned':
    'An app asked for a fresh or stronger sign-in (prompt=login, max_age, acr_values) and the user cancelled it (details: client, acr values).',
  'oauth.app_revoked': 'The user revoked a connected app: its grants and tokens were deleted.',
  'oauth.refresh_token_reused':
    'A rotated refresh token was presented again outside the grace window: the whole grant was revoked.',
  'oauth.authorization_code_replayed':
    'An authorization code was presented a second time: every token issued from it was revoked.',
  'oauth.client_auth_failed': 'An OAuth client failed to authenticate (details: endpoint, client id).',
  'oauth.logout': 'A relying party logged the user out of the provider (RP-initiated logout).',
  'oauth.backchannel_logout':
    'A logout token was delivered to an app’s back-channel logout URI, or its delivery failed (details: client, reason, error).',
  'oauth.client_created': 'An OAuth client was added with the CLI or the admin API.',
  'oauth.client_removed':
    'An OAuth client was removed with the CLI or the admin API, with every grant and token issued to it.',
  'oauth.client_secret_rotated': 'An OAuth client got a new secret; the old one stopped working.',
  'oauth.signing_keys_rotated':
    'New token signing keys were introduced (details: key ids, when they start signing).',
} as const;

export type AuditEventType = keyof typeof auditEventTypes;

/** An event as subscribers see it: the entry, who asked, and when. */
export interface PublishedAuditEvent extends AuditEntry {
  at: number;
  context: RequestContext;
}

export type AuditListener = (event: PublishedAuditEvent) => Promise<void>;

export interface AuditEntry {
  type: AuditEventType;
  outcome: AuditOutcome;
  userId?: string | null;
  /** Who did it when not the user (an administrator). */
  actorId?: string | null;
  sessionId?: string | null;
  /** Why, which factor, which credential: never a token, code, or key. */
  details?: Record<string, unknown>;
}

export class AuditRecorder {
  readonly #writer: AuditChainWriter;
  readonly #clock: Clock;
  readonly #onError: (error: unknown) => void;
  readonly #listeners: AuditListener[] = [];

  /**
   * `chainKey` keys the hash chain (the container derives it from the instance secret). Left
   * out (unit tests that never verify the chain), a random key: the chain stays consistent but
   * no one can verify or forge it, which is safer than any fixed default.
   */
  constructor(
    log: AuditLog,
    clock: Clock,
    onError: (error: unknown) => void,
    chainKey: Uint8Array = randomBytes(32),
  ) {
    this.#writer = new AuditChainWriter(log, chainKey);
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
      // Every string is escaped before it is stored and hashed: the log never holds a raw
      // newline or text-direction override that could forge a line in a reader's view.
      await this.#writer.append({
        id: randomId(),
        at: this.#clock.now(),
        type: entry.type,
        outcome: entry.outcome,
        userId: safeText(entry.userId),
        actorId: safeText(entry.actorId),
        sessionId: safeText(entry.sessionId),
        ip: safeText(context.ip),
        userAgent: safeText(context.userAgent),
        requestId: safeText(context.requestId),
        details: canonicalJson(safeDetails(entry.details ?? {})),
      });
    } catch (error) {
      this.#onError(error);
    }
    // Subscribers (security notifications) hear of the event even if writing it failed.
    for (const listener of this.#listeners) {
      await listener({ ...entry, at: this.#clock.now(), context }).catch(this.#onError);
    }
  }

  /** DESIGN §2 principle 11: the domain emits events; notifications and metrics subscribe. */
  subscribe(listener: AuditListener): void {
    this.#listeners.push(listener);
  }
}
