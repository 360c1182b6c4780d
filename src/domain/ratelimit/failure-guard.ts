import type { KeyObject } from 'node:crypto';
import type { RateLimitsConfig } from '../../config/rate-limits-schema.ts';
import type { Clock } from '../../ports/clock.ts';
import type { Counter } from '../../ports/counter.ts';
import type { AuditRecorder } from '../audit/audit-recorder.ts';
import type { RequestContext } from '../request-context.ts';
import { type Identifier, identifierKey, networkKey } from './keys.ts';
import type { Refusal } from './refusal.ts';

export interface FailureGuardDeps {
  counter: Counter;
  audit: AuditRecorder;
  clock: Clock;
  keySecret: KeyObject;
  failures: RateLimitsConfig['failures'];
  stuffing: RateLimitsConfig['stuffing'];
  /** The account an identifier belongs to, if any: the owner is told when the account is attacked. */
  accountOf(identifier: Identifier): Promise<string | null>;
}

export interface AttemptOptions {
  /** Failures also count against the account from every IP (guessable secrets only). */
  stuffing: boolean;
}

/**
 * Brute-force defence for endpoints that check a secret.
 * - Consecutive failures per (account, client network): after `freeAttempts`, each further
 *   attempt waits, 1 s, 2 s, 4 s … up to `maxDelayMs`. A success ends the run.
 * - Failures per account from any number of networks (credential stuffing): past `threshold`
 *   the account is delayed for `delayMs` for every device it has not used before, and its owner
 *   is told. The owner's known devices and sessions are exempt, so an attacker cannot lock
 *   the owner out; nor does it touch passkey sign-in, which has no guessable secret.
 * A delay is a refusal with a time to come back, never a sleep holding a connection open.
 */
export class FailureGuard {
  readonly #deps: FailureGuardDeps;

  constructor(deps: FailureGuardDeps) {
    this.#deps = deps;
  }

  /** The delay in force for an attempt on `identifier` from this client, or null. */
  async delay(
    identifier: Identifier | null,
    context: RequestContext,
    options: AttemptOptions & { trustedDevice: () => Promise<boolean> },
  ): Promise<Refusal | null> {
    const { counter } = this.#deps;
    const keys = this.#keys(identifier, context);
    const pairWait = await counter.get(keys.pairWait);
    if (pairWait) return this.#refusal(pairWait.resetAt);
    if (!options.stuffing || !keys.accountWait) return null;
    const accountWait = await counter.get(keys.accountWait);
    // Only when a delay is running is the device looked at: the common path stays one read.
    if (accountWait && !(await options.trustedDevice())) return this.#refusal(accountWait.resetAt);
    return null;
  }

  async failed(
    identifier: Identifier | null,
    context: RequestContext,
    options: AttemptOptions,
  ): Promise<void> {
    const { counter, failures, stuffing, audit } = this.#deps;
    const keys = this.#keys(identifier, context);
    const run = await counter.increment(keys.pairRun, failures.windowMs);
    const beyond = run.count - failures.freeAttempts;
    if (beyond >= 0) {
      const waitMs = Math.min(failures.maxDelayMs, failures.baseDelayMs * 2 ** Math.min(beyond, 40));
      await counter.increment(keys.pairWait, waitMs);
      if (beyond === 0) {
        await audit.record(context, {
          type: 'rate_limit.triggered',
          outcome: 'failure',
          details: { rule: 'consecutive_failures', failures: run.count, retryAfterMs: waitMs },
        });
      }
    }
    if (!options.stuffing || !identifier || !keys.accountRun || !keys.accountWait) return;
    const total = await counter.increment(keys.accountRun, stuffing.windowMs);
    if (total.count < stuffing.threshold || (await counter.get(keys.accountWait))) return;
    const started = await counter.increment(keys.accountWait, stuffing.delayMs);
    // Two failures racing past the threshold both get here; only the one that opened the
    // delay records it (and so mails the owner once).
    if (started.count !== 1) return;
    await audit.record(context, {
      type: 'rate_limit.triggered',
      outcome: 'failure',
      userId: await this.#deps.accountOf(identifier),
      details: { rule: 'identifier_failures', failures: total.count, retryAfterMs: stuffing.delayMs },
    });
  }

  /** A success ends the run of consecutive failures from this client (not the account's count). */
  async succeeded(identifier: Identifier | null, context: RequestContext): Promise<void> {
    const keys = this.#keys(identifier, context);
    await this.#deps.counter.delete(keys.pairRun);
    await this.#deps.counter.delete(keys.pairWait);
  }

  #refusal(resetAt: number): Refusal {
    return { retryAfterMs: Math.max(0, resetAt - this.#deps.clock.now()) };
  }

  #keys(identifier: Identifier | null, context: RequestContext) {
    // Without an identifier (a link token) the run is the client network's alone.
    const account = identifier ? identifierKey(this.#deps.keySecret, identifier) : null;
    const pair = `${account ?? '-'}:${networkKey(context.ip)}`;
    return {
      pairRun: `fail:run:${pair}`,
      pairWait: `fail:wait:${pair}`,
      accountRun: account && `fail:account:${account}`,
      accountWait: account && `fail:account-wait:${account}`,
    };
  }
}
