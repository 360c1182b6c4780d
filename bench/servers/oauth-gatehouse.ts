/**
 * Gatehouse with the OAuth provider on, on its embedded default (SQLite file in a fresh data
 * folder, WAL), for bench:oauth. Logging `silent`, rate limits lifted (the storm comes from one
 * address). Besides the server it listens on a second loopback port where the driver asks for
 * fresh refresh tokens (`POST /seed?count=N`): each one is the end of a real authorization code
 * flow (a signed-in user, consent, code + PKCE exchanged with openid-client).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load.ts';
import { createGatehouse } from '../../src/container.ts';
import { SESSION_COOKIE } from '../../src/http/cookies.ts';
import { TestClient } from '../../test/support/http-client.ts';
import { liftedRateLimits } from '../../test/support/limits.ts';
import { codeFlow, discover } from '../../test/support/oauth.ts';
import { announceReady } from '../lib/ready.ts';
import { BENCH_API, BENCH_APP, BENCH_SERVICE } from './oauth-clients.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-oauth-'));
// Port 0 would leave the origin (the issuer) unknown until after listening: take one first.
const port = await new Promise<number>((resolve) => {
  const probe = createServer().listen(0, '127.0.0.1', () => {
    const { port: free } = probe.address() as AddressInfo;
    probe.close(() => resolve(free));
  });
});
const origin = `http://localhost:${port}`;
const config = loadConfig(
  {},
  {
    dataDir,
    host: '127.0.0.1',
    port,
    origin,
    logLevel: 'silent',
    ...liftedRateLimits(),
    oauth: {
      enabled: true,
      resources: [{ indicator: BENCH_API, scopes: ['read'] }],
      clients: [BENCH_SERVICE, BENCH_APP],
    },
  },
);
const gatehouse = await createGatehouse(config);
await gatehouse.listen();

const { services } = gatehouse;
const { user } = await services.users.signInByVerifiedEmail('bench@example.com');
const { token } = await services.sessions.issue(user.id, ['otp'], {
  ip: '127.0.0.1',
  userAgent: 'bench',
  requestId: null,
});
const agent = new TestClient(origin);
agent.cookies.set(SESSION_COOKIE, token);
const server = { url: origin, origin };
const rp = await discover(server, BENCH_APP);

const seeder = createServer((request, response) => {
  const count = Math.min(Number(new URL(request.url ?? '/', origin).searchParams.get('count')) || 1, 256);
  void (async () => {
    const tokens: string[] = [];
    for (let i = 0; i < count; i++) {
      const issued = await codeFlow(server, agent, rp, {
        redirect_uri: BENCH_APP.redirect_uris[0]!,
        scope: 'openid offline_access',
        prompt: 'consent',
      });
      tokens.push(issued.refresh_token!);
    }
    response.setHeader('content-type', 'application/json');
    response.end(JSON.stringify(tokens));
  })().catch((error: unknown) => {
    response.statusCode = 500;
    response.end(String(error));
  });
});
await new Promise<void>((resolve) => seeder.listen(0, '127.0.0.1', resolve));

announceReady({ port, sidePort: (seeder.address() as AddressInfo).port }, async () => {
  seeder.close();
  await gatehouse.close();
  rmSync(dataDir, { recursive: true, force: true });
});
