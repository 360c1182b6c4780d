import { rateLimitsSchema } from '../../src/config/rate-limits-schema.ts';

/**
 * Config overrides that lift every rate limit and brute-force delay far above what a test (or a
 * benchmark) sends from its one address, so suites about something else are not throttled.
 * Built from the schema's defaults, so a limit added later is lifted too. Suites that test the
 * limits themselves set their own.
 */
export function liftedRateLimits(): { rateLimits: Record<string, unknown> } {
  const lift = (value: unknown): unknown => {
    if (Array.isArray(value) || value === null || typeof value !== 'object') return value;
    return Object.fromEntries(
      Object.entries(value).map(([key, inner]) => [
        key,
        key === 'limit' || key === 'freeAttempts' || key === 'threshold' ? 1_000_000 : lift(inner),
      ]),
    );
  };
  return { rateLimits: lift(rateLimitsSchema.parse({})) as Record<string, unknown> };
}
