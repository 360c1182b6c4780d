/**
 * Real Redis for tests.
 * - The shared server: GATEHOUSE_TEST_REDIS_URL, else redis://127.0.0.1:6379. Suites that need
 *   it skip with a message when it does not answer, except with CI=true (DESIGN §6).
 * - A private redis-server on a free port, for tests that stop and restart Redis: the shared
 *   one stays up for everyone else.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from './server.ts';

export const SHARED_REDIS_URL = process.env['GATEHOUSE_TEST_REDIS_URL'] || 'redis://127.0.0.1:6379';

let probe: Promise<string | undefined> | undefined;

/** Why Redis tests cannot run here, or undefined. Throws instead under CI=true. */
export async function redisSkipReason(): Promise<string | undefined> {
  probe ??= (async () => {
    const client = new Redis(SHARED_REDIS_URL, {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      connectTimeout: 1000,
    });
    client.on('error', () => {});
    try {
      await client.connect();
      await client.ping();
      return undefined;
    } catch (error) {
      return `Redis not reachable at ${SHARED_REDIS_URL} (${(error as Error).message}); start redis-server or set GATEHOUSE_TEST_REDIS_URL`;
    } finally {
      client.disconnect();
    }
  })();
  const reason = await probe;
  if (reason && process.env['CI'] === 'true')
    throw new Error(`${reason} (CI=true: a skipped Redis suite is a failure)`);
  return reason;
}

/** A client for inspecting what Gatehouse wrote; disconnect it when done. */
export async function redisClient(url = SHARED_REDIS_URL): Promise<Redis> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0 });
  await client.connect();
  return client;
}

export interface PrivateRedis {
  url: string;
  /** Stops the server (SIGTERM) and waits for it to exit. */
  stop(): Promise<void>;
  /** Starts it again on the same port and waits until it answers. */
  start(): Promise<void>;
  /** Stops it for good and removes its folder. */
  dispose(): Promise<void>;
}

/** A redis-server of this test's own, on a free port, with nothing persisted. */
export async function startPrivateRedis(): Promise<PrivateRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-redis-'));
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess | null = null;

  const start = async (): Promise<void> => {
    child = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
      { stdio: 'ignore' },
    );
    const deadline = Date.now() + 5000;
    for (;;) {
      const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 200 });
      client.on('error', () => {});
      try {
        await client.connect();
        await client.ping();
        return;
      } catch (error) {
        if (Date.now() > deadline)
          throw new Error(`redis-server on ${port} did not start: ${(error as Error).message}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      } finally {
        client.disconnect();
      }
    }
  };

  const stop = async (): Promise<void> => {
    const running = child;
    child = null;
    if (!running || running.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      running.once('exit', () => resolve());
      running.kill('SIGTERM');
    });
  };

  await start();
  return {
    url,
    stop,
    start,
    async dispose() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
