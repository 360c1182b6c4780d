import { createSecretKey } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Config } from './config/schema.ts';
import type { AuditRecorder } from './domain/audit/audit-recorder.ts';
import { deriveKey } from './domain/crypto/secrets.ts';
import { FailoverCounter } from './domain/ratelimit/failover-counter.ts';
import { FailureGuard } from './domain/ratelimit/failure-guard.ts';
import type { RateLimits } from './domain/ratelimit/rate-limits.ts';
import { RequestLimiter } from './domain/ratelimit/request-limiter.ts';
import type { RequestContext } from './domain/request-context.ts';
import type { UserService } from './domain/users/user-service.ts';
import type { Clock } from './ports/clock.ts';
import type { Counter } from './ports/counter.ts';
import { MemoryCounter } from './storage/memory/memory-counter.ts';
import { openRedis } from './storage/redis/open-redis.ts';
import { RedisCounter } from './storage/redis/redis-counter.ts';

export interface RateLimiting {
  rateLimits: RateLimits;
  /** The node's Redis connection when `redisUrl` is set (also holds short-lived OAuth models). */
  redis: Redis | null;
  close(): Promise<void>;
}

/** Events that no request caused (a Redis outage) are recorded without a client. */
const NO_REQUEST: RequestContext = { ip: null, userAgent: null, requestId: null };

/**
 * Builds the limiters on the right counters: Redis when `redisUrl` is set (shared by every
 * node), with this process's counters taking over while Redis fails; process memory alone
 * otherwise (one node).
 */
export async function createRateLimiting(
  config: Config,
  deps: { clock: Clock; log: Logger; audit: AuditRecorder; users: UserService },
): Promise<RateLimiting> {
  const { clock, log, audit, users } = deps;
  const memory = new MemoryCounter(clock);
  let counter: Counter = memory;
  let redis: Redis | null = null;
  if (config.redisUrl) {
    redis = await openRedis(config.redisUrl);
    // Connection errors repeat on every reconnect attempt; the outage itself is reported once,
    // by the failover listener below.
    redis.on('error', (error: Error) => log.debug({ err: error }, 'redis connection error'));
    try {
      await redis.connect();
    } catch (error) {
      log.warn({ err: error }, 'redis unreachable at start; rate limits count in memory until it answers');
    }
    counter = new FailoverCounter(new RedisCounter(redis, clock), memory, {
      unavailable(error) {
        log.error(
          { err: error },
          'rate-limit counters: Redis failed; this node limits with in-memory counters',
        );
        void audit.record(NO_REQUEST, {
          type: 'rate_limit.counter_unavailable',
          outcome: 'failure',
          details: { error: error instanceof Error ? error.message : String(error) },
        });
      },
      recovered() {
        log.info('rate-limit counters: Redis answers again; counting there');
        void audit.record(NO_REQUEST, { type: 'rate_limit.counter_recovered', outcome: 'success' });
      },
    });
  }
  const keySecret = createSecretKey(deriveKey(config.secret, 'rate-limit-keys'));
  const limits = config.rateLimits;
  const rateLimits: RateLimits = {
    requests: new RequestLimiter({ counter, audit, clock, keySecret, mailPerAddress: limits.mailPerAddress }),
    failures: new FailureGuard({
      counter,
      audit,
      clock,
      keySecret,
      failures: limits.failures,
      stuffing: limits.stuffing,
      async accountOf(identifier) {
        if (identifier.kind === 'user') return identifier.value;
        if (identifier.kind === 'email') return (await users.findByEmail(identifier.value))?.id ?? null;
        return null;
      },
    }),
  };
  return {
    rateLimits,
    redis,
    async close() {
      redis?.disconnect();
    },
  };
}
