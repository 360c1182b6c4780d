import type { FailureGuard } from './failure-guard.ts';
import type { RequestLimiter } from './request-limiter.ts';

/** Abuse protection as the HTTP layer sees it (docs/abuse-protection.md). */
export interface RateLimits {
  requests: RequestLimiter;
  failures: FailureGuard;
}
