/**
 * No spelling of a path reaches a limited handler without its limiter. The limiter is mounted
 * on the route's own pattern, so it matches exactly what the route matches; these requests go
 * out byte for byte (fetch would normalise them first) to prove it against the real router.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { limitedRoutes } from '../../src/http/rate-limited-routes.ts';
import { fromIp, limitsOf, rawRequest } from '../support/abuse.ts';
import { TestClient } from '../support/http-client.ts';
import { startGatehouse, type TestServer } from '../support/server.ts';

const CANONICAL = '/api/v1/email/sign-in';

/** What Hono's router makes of each: reaches the handler (after normalising) or 404/400. */
const VARIANTS = [
  '//api/v1/email/sign-in',
  '/api/v1//email/sign-in',
  '/api/v1/email/sign-in/',
  '/api/v1/email/sign-in.',
  '/api/v1/email/sign-in%20',
  '/api/v1/email/sign-in%00',
  '/api/v1/email/sign-in;x',
  '/API/v1/email/sign-in',
  '/api/v1/email/SIGN-IN',
  '/api/v1/email%2Fsign-in',
  '/api/v1/email%2fsign-in',
  '/%2F/api/v1/email/sign-in',
  '/api/v1/email/%73ign-in',
  '/api/v1/email/sign%2Din',
  '/api/v1/email/./sign-in',
  '/api/v1/email/%2e/sign-in',
  '/x/../api/v1/email/sign-in',
  '/api/v1/email/x/%2e%2e/sign-in',
  '/api/v1/email/sign-in?email=x',
  '/api/v1/email/sign-in#x',
  'http://evil.example/api/v1/email/sign-in',
];

describe('path tricks', () => {
  let server: TestServer;
  before(async () => {
    server = await startGatehouse({
      trustedProxies: '127.0.0.1',
      passwords: { enabled: true },
      rateLimits: limitsOf({ perIp: 1 }),
    });
  });
  after(() => server.close());

  const body = JSON.stringify({ email: 'paths@example.com' });
  const send = (path: string, ip: string) =>
    rawRequest(server.url, 'POST', path, { 'content-type': 'application/json', ...fromIp(ip) }, body);

  for (const [i, variant] of VARIANTS.entries()) {
    test(`${JSON.stringify(variant)} is refused or limited, never a way around the limit`, async () => {
      const ip = `198.51.100.${i + 1}`;
      assert.equal((await send(CANONICAL, ip)).status, 202, 'the canonical path uses up the budget');
      const tricked = await send(variant, ip);
      assert.ok(
        [400, 404, 429].includes(tricked.status),
        `${variant} answered ${tricked.status}: ${tricked.text.slice(0, 200)}`,
      );
      if (tricked.status !== 429) {
        assert.match(tricked.text, /"code":"(not_found|bad_request)"/, 'a JSON error, never a bare 500');
      }
    });
  }

  test('the normalised spellings Hono accepts are counted on the route they reach', async () => {
    const ip = '203.0.113.50';
    assert.equal((await send('/api/v1/email/%73ign-in', ip)).status, 202);
    assert.equal((await send(CANONICAL, ip)).status, 429);
  });

  test('every endpoint open to anyone, and every one that mails or checks a secret, is limited', async () => {
    const document = (await new TestClient(server.url).get('/api/openapi.json')).body as {
      paths: Record<string, Record<string, { security?: unknown[] }>>;
    };
    // Signed-in only, and nothing there for a stranger to guess or to flood anyone with (the TOTP
    // confirmation checks the user's own new authenticator, not a factor that protects them).
    const exempt = new Set([
      'DELETE /api/v1/session',
      'DELETE /api/v1/sessions/:id',
      'POST /api/v1/sessions/revoke-others',
      'PATCH /api/v1/me',
      'DELETE /api/v1/me',
      'PATCH /api/v1/passkeys/:id',
      'DELETE /api/v1/passkeys/:id',
      'POST /api/v1/mfa/totp/setup',
      'POST /api/v1/mfa/totp/confirm',
      'DELETE /api/v1/mfa/totp',
      'POST /api/v1/mfa/recovery-codes',
      'DELETE /api/v1/identities/:id',
      'POST /api/v1/identities/link',
      // Administrators only, behind step-up: nothing a stranger can reach.
      'POST /api/v1/admin/users/:userId/disable',
      'POST /api/v1/admin/users/:userId/enable',
      'DELETE /api/v1/admin/users/:userId',
    ]);
    const limited = new Set(limitedRoutes.map((route) => `${route.method} ${route.path}`));
    for (const [path, operations] of Object.entries(document.paths)) {
      for (const method of Object.keys(operations)) {
        const key = `${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`;
        if (method === 'get' || exempt.has(key)) continue;
        assert.ok(limited.has(key), `${key} has no rate limit`);
      }
    }
  });

  test('every limited route is mounted on the pattern its handler uses', () => {
    const routes = server.gatehouse.app.routes;
    for (const limited of limitedRoutes) {
      const handlers = routes.filter((r) => r.method === limited.method && r.path === limited.path);
      assert.ok(
        handlers.length >= 2,
        `${limited.method} ${limited.path}: limiter and handler on one pattern`,
      );
    }
  });
});
