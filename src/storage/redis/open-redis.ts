import type { Redis } from 'ioredis';

/**
 * One Redis connection for a Gatehouse node. Commands fail at once while the connection is
 * down instead of waiting in ioredis' offline queue: a sign-in must never hang on Redis, the
 * callers fall back (see FailoverCounter) while ioredis keeps reconnecting in the background.
 *
 * ioredis is loaded here, on first use, and never by a static import: one of its modules
 * declares `class VerbatimString extends String`, which turns String.prototype into a dictionary
 * for the rest of the process (V8 never makes it fast again), so that every string method call
 * in optimized code takes a generic lookup. In bench:oauth that came to about 3 % of a token
 * grant's instructions. A node without Redis never pays it
 * (test/ports/redis-loading.test.ts).
 */
export async function openRedis(url: string): Promise<Redis> {
  const { Redis } = await import('ioredis');
  return new Redis(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: 2000,
    // A Redis that accepts connections but stops answering must not stall requests either.
    commandTimeout: 300,
  });
}
