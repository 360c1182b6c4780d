import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load.ts';
import { createGatehouse, type Gatehouse, type GatehouseOptions } from '../../src/container.ts';
import type { Clock } from '../../src/ports/clock.ts';
import type { Services } from '../../src/services.ts';
import type { StoredMessage } from '../../src/ports/mail.ts';

export interface TestServer {
  url: string;
  origin: string;
  services: Services;
  gatehouse: Gatehouse;
  /** Newest development-mailbox message for the address; waits for the mail worker. */
  latestMail(to: string, timeoutMs?: number): Promise<StoredMessage>;
  close(): Promise<void>;
}

/** A clock tests can move. */
export class TestClock implements Clock {
  #now: number;
  constructor(start = Date.now()) {
    this.#now = start;
  }
  now(): number {
    return this.#now;
  }
  advance(ms: number): void {
    this.#now += ms;
  }
}

/**
 * A real Gatehouse on a real socket (127.0.0.1, free port) with its own temporary SQLite
 * file, or PostgreSQL when `overrides.databaseUrl` is given. The origin is
 * http://localhost:<port> so WebAuthn's RP ID is `localhost`.
 */
export async function startGatehouse(
  overrides: Record<string, unknown> = {},
  options: GatehouseOptions = {},
): Promise<TestServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-test-'));
  // Reserve the port first: the origin must name it before the app is built.
  const port = await freePort();
  const origin = `http://localhost:${port}`;
  const config = loadConfig(
    {},
    {
      env: 'test',
      dataDir,
      port,
      host: '127.0.0.1',
      origin,
      logLevel: 'silent',
      secret: 'test-secret-0123456789abcdefghijklmnopqrstuvwxyz',
      // Production limits stay on, except those that tests not about limits outrun: the timing
      // tests repeat one address dozens of times a second (continue with email, password
      // sign-in, forgot password). Tests about limits pass their own `rateLimits` (test/abuse/).
      rateLimits: {
        mailPerAddress: { limit: 1000 },
        passwordSignIn: { perIp: { limit: 1000 }, perIdentifier: { limit: 1000 } },
        accountMail: { perIp: { limit: 1000 }, perIdentifier: { limit: 1000 } },
        failures: { freeAttempts: 1000 },
        stuffing: { threshold: 1000 },
      },
      ...overrides,
    },
  );
  const gatehouse = await createGatehouse(config, { mail: { pollMs: 50, baseBackoffMs: 50 }, ...options });
  const { server: listening } = await gatehouse.listen();
  // A test that stalls this process's event loop for seconds (a slow synchronous step) must not
  // find its pooled socket closed by Node's 5 s keep-alive as its next fetch reuses it
  // (ECONNRESET). CLI runs beside a server go through runCli (test/support/cli.ts), which does
  // not stall it. Test harness only; production keeps 5 s.
  listening.keepAliveTimeout = 60_000;
  const services = gatehouse.services;
  return {
    url: origin,
    origin,
    services,
    gatehouse,
    async latestMail(to: string, timeoutMs = 5000): Promise<StoredMessage> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const [message] = await services.stores.devMailbox.list({ to, limit: 1 });
        if (message) return message;
        if (Date.now() > deadline) throw new Error(`no mail for ${to} within ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    async close() {
      await gatehouse.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

/** Pulls the sign-in link token and the 6-digit code out of a sign-in mail. */
export function readSignInMail(message: StoredMessage): { token: string; code: string; link: string } {
  const link = /https?:\/\/\S+\/email\/verify#token=([A-Za-z0-9_-]{43})/.exec(message.text);
  const code = /\b(\d{6})\b/.exec(message.text.split('code')[1] ?? '');
  if (!link?.[1] || !code?.[1]) throw new Error(`not a sign-in mail: ${message.subject}`);
  return { token: link[1], code: code[1], link: link[0] };
}
