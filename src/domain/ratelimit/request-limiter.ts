import type { KeyObject } from 'node:crypto';
import type { WindowLimit } from '../../config/rate-limits-schema.ts';
import type { Clock } from '../../ports/clock.ts';
import type { Counter, CounterWindow } from '../../ports/counter.ts';
import type { AuditRecorder } from '../audit/audit-recorder.ts';
import type { RequestContext } from '../request-context.ts';
import { type Identifier, identifierKey, networkKey } from './keys.ts';
import type { LimitRule, Refusal } from './refusal.ts';

/** The layered limits of one endpoint. */
export interface EndpointLimits {
  perIp: WindowLimit;
  /** Absent where a request names no account (discoverable passkey options, federation). */
  perIdentifier?: WindowLimit;
  global: WindowLimit;
}

/** What a mail-sending flow asks before sending: may one more mail go to this address? */
export interface MailBudget {
  allowMail(address: string, context: RequestContext): Promise<boolean>;
}

export interface RequestLimiterDeps {
  counter: Counter;
  audit: AuditRecorder;
  clock: Clock;
  /** Keys the hash of identifiers in counter keys (derived from the instance secret). */
  keySecret: KeyObject;
  mailPerAddress: WindowLimit;
}

/**
 * Request limits per endpoint (client network, account named, everyone) and the mail budget
 * per address. Every count happens whether or not an account exists, so neither a refusal nor
 * its timing says anything about accounts.
 */
export class RequestLimiter implements MailBudget {
  readonly #deps: RequestLimiterDeps;
  /**
   * Counter keys of authenticated OAuth clients (admitOne): the HMAC once per client and process
   * instead of on every token request (~15 µs under load, bench:oauth). Only clients that
   * authenticated reach admitOne, so this holds at most the registered clients; the cap is a
   * backstop.
   */
  readonly #clientKeys = new Map<string, string>();

  constructor(deps: RequestLimiterDeps) {
    this.#deps = deps;
  }

  /**
   * Counts the request against each layer in turn and refuses at the first one over its limit.
   * The client's own network comes first, so a flood refused there does not also use up the
   * account's or everyone's budget. `ownersDevice`, where given, lets the account's owner past
   * its per-account limit: strangers exhausting it must not lock the owner out. It is only
   * asked once that limit is exceeded.
   */
  async admit(
    endpoint: string,
    limits: EndpointLimits,
    identifier: Identifier | null,
    context: RequestContext,
    ownersDevice?: () => Promise<boolean>,
  ): Promise<Refusal | null> {
    // `pending && await pending`: a count answered at once (null) costs no extra turn.
    const perIp = this.#count(
      'per_ip',
      endpoint,
      `req:${endpoint}:ip:${networkKey(context.ip)}`,
      limits.perIp,
      context,
    );
    const refusal = perIp && (await perIp);
    if (refusal) return refusal;
    if (identifier && limits.perIdentifier) {
      const key = `req:${endpoint}:id:${identifierKey(this.#deps.keySecret, identifier)}`;
      const pending = this.#count('per_identifier', endpoint, key, limits.perIdentifier, context, identifier);
      const perAccount = pending && (await pending);
      if (perAccount && !(await ownersDevice?.())) return perAccount;
    }
    return this.#count('global', endpoint, `req:${endpoint}:all`, limits.global, context);
  }

  /**
   * One layer on its own, for a key that is known only once the request has been checked: an
   * OAuth client counted after it authenticated, so strangers naming its client_id cannot use
   * up its budget (oauth-rate-limits.ts).
   */
  async admitOne(
    rule: LimitRule,
    endpoint: string,
    limit: WindowLimit,
    identifier: Identifier,
    context: RequestContext,
  ): Promise<Refusal | null> {
    let hashed = identifier.kind === 'client' ? this.#clientKeys.get(identifier.value) : undefined;
    if (hashed === undefined) {
      hashed = identifierKey(this.#deps.keySecret, identifier);
      if (identifier.kind === 'client') {
        if (this.#clientKeys.size >= 10_000) this.#clientKeys.clear();
        this.#clientKeys.set(identifier.value, hashed);
      }
    }
    const key = `req:${endpoint}:${rule}:${hashed}`;
    return this.#count(rule, endpoint, key, limit, context, identifier);
  }

  /**
   * Whether one more sign-in mail may go to `address`. Over budget the caller answers exactly
   * as if it had sent one: the budget stops mail-bombing without telling anyone anything.
   */
  async allowMail(address: string, context: RequestContext): Promise<boolean> {
    const key = `mail:${identifierKey(this.#deps.keySecret, { kind: 'email', value: address })}`;
    return (
      (await this.#count('mail_per_address', 'email_sign_in', key, this.#deps.mailPerAddress, context)) ===
      null
    );
  }

  /**
   * Counts one request against `limit`. Under the limit with an in-process counter the answer is
   * null at once, with no promise (see Counter.incrementNow); a refusal, or a shared counter,
   * comes as a promise.
   */
  #count(
    rule: LimitRule,
    endpoint: string,
    key: string,
    limit: WindowLimit,
    context: RequestContext,
    identifier?: Identifier,
  ): Promise<Refusal | null> | null {
    const { counter } = this.#deps;
    if (counter.incrementNow) {
      const window = counter.incrementNow(key, limit.windowMs);
      return window.count <= limit.limit
        ? null
        : this.#refuse(window, rule, endpoint, limit, context, identifier);
    }
    return counter
      .increment(key, limit.windowMs)
      .then((window) =>
        window.count <= limit.limit ? null : this.#refuse(window, rule, endpoint, limit, context, identifier),
      );
  }

  async #refuse(
    window: CounterWindow,
    rule: LimitRule,
    endpoint: string,
    limit: WindowLimit,
    context: RequestContext,
    identifier?: Identifier,
  ): Promise<Refusal> {
    const retryAfterMs = Math.max(0, window.resetAt - this.#deps.clock.now());
    // Audited once per window, when the limit is first passed: a flood of refused requests
    // must not become a flood of audit writes.
    if (window.count === limit.limit + 1) {
      await this.#deps.audit.record(context, {
        type: 'rate_limit.triggered',
        outcome: 'failure',
        userId: identifier?.kind === 'user' ? identifier.value : null,
        details: { rule, endpoint, retryAfterMs },
      });
    }
    return { retryAfterMs };
  }
}
