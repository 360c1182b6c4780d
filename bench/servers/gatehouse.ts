/**
 * Gatehouse on its embedded default (SQLite file in a fresh data folder, WAL), with the
 * production code path for `GET /api/v1/session`: every middleware, the cookie, the token
 * hash lookup, the security headers. Only logging is off (`silent`): one JSON log line per
 * request to a pipe would measure the pipe. The session is issued through the domain service,
 * exactly as a completed email sign-in issues it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load.ts';
import { createGatehouse, type Gatehouse } from '../../src/container.ts';
import { PasswordHasher } from '../../src/domain/passwords/password-hasher.ts';
import { SESSION_COOKIE } from '../../src/http/cookies.ts';
import { liftedRateLimits } from '../../test/support/limits.ts';
import { announceReady } from '../lib/ready.ts';

/**
 * The configured origin should name the port we listen on, so the port is picked before
 * the config is built; another process could take it in between, hence the retries.
 */
function freePort(): Promise<number> {
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

const dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-'));
/** Set by bench/password.ts: the bench user gets this password, hashed as a sign-up would. */
const benchPassword = process.env['BENCH_GATEHOUSE_PASSWORD'];

async function start(): Promise<{ gatehouse: Gatehouse; port: number }> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const config = loadConfig(
      {},
      {
        dataDir,
        host: '127.0.0.1',
        port,
        logLevel: 'silent',
        origin: `http://localhost:${port}`,
        // bench:password signs in with a password: turned on only for it.
        // Rate limits lifted, as for Better Auth in bench:session: the storm comes from one IP.
        ...(benchPassword ? { passwords: { enabled: true }, ...liftedRateLimits() } : {}),
      },
    );
    const gatehouse = await createGatehouse(config);
    try {
      await gatehouse.listen();
      return { gatehouse, port };
    } catch (error) {
      await gatehouse.close();
      if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt >= 5) throw error;
    }
  }
}

const { gatehouse, port } = await start();
const { services } = gatehouse;
const { user } = await services.users.signInByVerifiedEmail('bench@example.com');
if (benchPassword) {
  const hasher = new PasswordHasher(services.config.passwords.argon2);
  await services.stores.passwords.set(user.id, await hasher.hash(benchPassword), Date.now());
}
const { token } = await services.sessions.issue(user.id, ['otp'], {
  ip: '127.0.0.1',
  userAgent: 'bench',
  requestId: null,
});

announceReady({ port, cookie: `${SESSION_COOKIE}=${token}` }, async () => {
  await gatehouse.close();
  rmSync(dataDir, { recursive: true, force: true });
});
