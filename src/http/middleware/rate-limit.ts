import type { Context, MiddlewareHandler } from 'hono';
import type { RateLimitsConfig } from '../../config/rate-limits-schema.ts';
import type { Identifier } from '../../domain/ratelimit/keys.ts';
import type { EndpointLimits } from '../../domain/ratelimit/request-limiter.ts';
import { AppError, type ErrorCode } from '../../errors/app-error.ts';
import type { AppEnv } from '../app-env.ts';
import { currentSession } from '../auth.ts';
import { deviceToken } from '../device-cookie.ts';

/** One limited endpoint, mounted on exactly the method and path pattern of its route. */
export interface LimitedRoute {
  method: 'GET' | 'POST';
  path: string;
  /** Names the endpoint in counter keys and audit events. */
  endpoint: string;
  limits(config: RateLimitsConfig): EndpointLimits;
  /** The account the request names, for per-account limits and failure counting. */
  identify?(c: Context<AppEnv>): Promise<Identifier | null>;
  /** Error codes that mean "wrong secret": each one is a failed attempt. */
  failureCodes?: readonly ErrorCode[];
  /**
   * A guessable secret: failures also count against the account from every IP (credential
   * stuffing), and the per-account limit and delay spare the owner's own devices.
   */
  stuffing?: boolean;
}

/**
 * Refuses with 429 and Retry-After when a limit or a brute-force delay is in force; after the
 * handler, counts a failed attempt or ends a run of failures. The refusal is the same for every
 * rule and every account, known or not.
 */
export function rateLimit(route: LimitedRoute): MiddlewareHandler<AppEnv> {
  const stuffing = route.stuffing === true;
  return async (c, next) => {
    const { rateLimits, config } = c.get('services');
    const context = c.get('requestContext');
    const identifier = route.identify ? await route.identify(c) : null;
    const ownersDevice = stuffing && identifier ? once(() => isOwnersDevice(c, identifier)) : undefined;
    const limits = route.limits(config.rateLimits);
    const refusal =
      (await rateLimits.requests.admit(route.endpoint, limits, identifier, context, ownersDevice)) ??
      (route.failureCodes
        ? await rateLimits.failures.delay(identifier, context, {
            stuffing,
            trustedDevice: ownersDevice ?? (() => Promise.resolve(false)),
          })
        : null);
    if (refusal) {
      c.header('Retry-After', String(Math.max(1, Math.ceil(refusal.retryAfterMs / 1000))));
      throw new AppError('rate_limited', 'Too many attempts. Wait a little and try again.');
    }
    await next();
    if (!route.failureCodes) return;
    // The handler's error was already turned into the response; Hono keeps it on c.error.
    if (c.error instanceof AppError && route.failureCodes.includes(c.error.code)) {
      await rateLimits.failures.failed(identifier, context, { stuffing });
    } else if (c.res.status < 300) {
      await rateLimits.failures.succeeded(identifier, context);
    }
  };
}

/** Looked up at most once per request, and only if a limit asks. */
function once<T>(compute: () => Promise<T>): () => Promise<T> {
  let result: Promise<T> | undefined;
  return () => {
    result ??= compute();
    return result;
  };
}

/**
 * Whether the request comes from the account's owner on a device already theirs: a session
 * of that account, or a device cookie the account has signed in with before. Such requests
 * are exempt from the account-wide stuffing delay, so an attacker cannot lock the owner out.
 */
async function isOwnersDevice(c: Context<AppEnv>, identifier: Identifier): Promise<boolean> {
  const { users, devices } = c.get('services');
  const userId =
    identifier.kind === 'email'
      ? (await users.findByEmail(identifier.value))?.id
      : identifier.kind === 'user'
        ? identifier.value
        : undefined;
  if (!userId) return false;
  if ((await currentSession(c))?.user.id === userId) return true;
  const token = deviceToken(c);
  return token !== null && (await devices.isKnown(userId, token));
}
