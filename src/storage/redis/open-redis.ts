import { Redis } from 'ioredis';

/**
 * One Redis connection for a Gatehouse node. Commands fail at once while the connection is
 * down instead of waiting in ioredis' offline queue: a sign-in must never hang on Redis, the
 * callers fall back (see FailoverCounter) while ioredis keeps reconnecting in the background.
 */
export function openRedis(url: string): Redis {
  return new Redis(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: 2000,
    // A Redis that accepts connections but stops answering must not stall requests either.
    commandTimeout: 300,
  });
}
