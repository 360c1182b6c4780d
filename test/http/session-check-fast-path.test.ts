import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import { sha256 } from '../../src/domain/crypto/secrets.ts';
import { ClientIpResolver } from '../../src/http/client-ip.ts';
import { SESSION_COOKIE } from '../../src/http/cookies.ts';
import { STATIC_SECURITY_HEADERS } from '../../src/http/middleware/security-headers.ts';
import { sessionCheckFastPath } from '../../src/http/session-check-fast-path.ts';
import { TestClient } from '../support/http-client.ts';
import { startGatehouse, TestClock, type TestServer } from '../support/server.ts';
import { signInWithEmail } from '../support/sign-in.ts';

/** Marks a request the fast path declined, so each test sees which side answered. */
const FELL_THROUGH = 299;

/**
 * The fast path (src/http/session-check-fast-path.ts) may answer only the common case and must
 * answer it exactly as the route would; everything else must reach the route untouched. The
 * full server's behaviour (401s, renewal, idle expiry) is covered through the socket in
 * sessions.test.ts; here the fast path runs alone on a node:http server whose fallback says
 * "fell through", against the same services and database.
 */
describe('session check fast path', () => {
  let gatehouse: TestServer;
  let fastOnly: Server;
  let fastUrl: string;
  const clock = new TestClock();

  before(async () => {
    gatehouse = await startGatehouse({}, { clock });
    const fast = sessionCheckFastPath(gatehouse.services, new ClientIpResolver(undefined));
    fastOnly = createServer((request, response) => {
      void fast(request, response).then((answered) => {
        if (!answered) response.writeHead(FELL_THROUGH).end();
      });
    });
    await new Promise<void>((resolve) => fastOnly.listen(0, '127.0.0.1', resolve));
    fastUrl = `http://127.0.0.1:${(fastOnly.address() as AddressInfo).port}`;
  });
  after(async () => {
    fastOnly.close();
    await gatehouse.close();
  });

  async function viaFastPath(path: string, token: string | undefined, method = 'GET'): Promise<Response> {
    return fetch(`${fastUrl}${path}`, {
      method,
      headers: token ? { cookie: `${SESSION_COOKIE}=${token}` } : {},
    });
  }

  async function signedIn(email: string): Promise<{ client: TestClient; token: string }> {
    const client = new TestClient(gatehouse.url);
    await signInWithEmail(gatehouse, client, email);
    return { client, token: client.cookies.get(SESSION_COOKIE) ?? '' };
  }

  test('answers a current session with the same status, type and body as the route', async () => {
    const { token } = await signedIn('fast@example.com');
    const fast = await viaFastPath('/api/v1/session', token);
    assert.equal(fast.status, 200);
    const route = await gatehouse.gatehouse.app.request('/api/v1/session', {
      headers: { cookie: `${SESSION_COOKIE}=${token}` },
    });
    assert.equal(route.status, 200);
    assert.equal(fast.headers.get('content-type'), route.headers.get('content-type'));
    const body = await fast.json();
    assert.deepEqual(body, await route.json());
    // The user id for a proxy's auth_request, from both sides.
    assert.equal(fast.headers.get('gatehouse-user-id'), body.user.id);
    assert.equal(route.headers.get('gatehouse-user-id'), body.user.id);
    const signedOut = await gatehouse.gatehouse.app.request('/api/v1/session');
    assert.equal(signedOut.status, 401);
    assert.equal(signedOut.headers.get('gatehouse-user-id'), null);
    assert.match(fast.headers.get('x-request-id') ?? '', /^[\w-]+-\w+$/);
    assert.equal(fast.headers.get('set-cookie'), null);
    for (const [name, value] of STATIC_SECURITY_HEADERS) assert.equal(fast.headers.get(name), value, name);
  });

  test('leaves every other case to the route', async () => {
    const { token } = await signedIn('other@example.com');
    const cases: Array<[string, string | undefined, string]> = [
      ['no cookie', undefined, '/api/v1/session'],
      ['garbage token', 'x'.repeat(43), '/api/v1/session'],
      ['wrong shape', 'short', '/api/v1/session'],
      ['query string', token, '/api/v1/session?x=1'],
      ['another path', token, '/api/v1/sessions'],
    ];
    for (const [label, cookie, path] of cases) {
      assert.equal((await viaFastPath(path, cookie)).status, FELL_THROUGH, label);
    }
    assert.equal((await viaFastPath('/api/v1/session', token, 'DELETE')).status, FELL_THROUGH, 'DELETE');
    assert.equal((await viaFastPath('/api/v1/session', token, 'HEAD')).status, FELL_THROUGH, 'HEAD');
  });

  test('a revoked session falls through at once (revocation is never cached)', async () => {
    const { client, token } = await signedIn('revoked@example.com');
    assert.equal((await viaFastPath('/api/v1/session', token)).status, 200);
    assert.equal((await client.delete('/api/v1/session')).status, 204);
    assert.equal((await viaFastPath('/api/v1/session', token)).status, FELL_THROUGH);
  });

  test('a half-authenticated session falls through (the route answers mfa_required)', async () => {
    const { user } = await gatehouse.services.users.signInByVerifiedEmail('pending@example.com');
    const { token } = await gatehouse.services.sessions.issue(
      user.id,
      ['pwd'],
      { ip: null, userAgent: null, requestId: null },
      { lifetimeMs: 300_000 },
    );
    assert.equal((await viaFastPath('/api/v1/session', token)).status, FELL_THROUGH);
  });

  test('a session due for an activity write, renewal or expiry falls through without any write', async () => {
    const { token } = await signedIn('due@example.com');
    const lastSeen = async () =>
      (
        await gatehouse.services.database.db
          .selectFrom('sessions')
          .select(['last_seen_at', 'expires_at'])
          .where('token_hash', '=', sha256(token))
          .executeTakeFirst()
      )?.last_seen_at;
    const before = await lastSeen();
    assert.equal(typeof before, 'number');
    const { touchAfterMs, idleTimeoutMs } = gatehouse.services.config.session;
    clock.advance(touchAfterMs);
    assert.equal((await viaFastPath('/api/v1/session', token)).status, FELL_THROUGH, 'touch due');
    clock.advance(-touchAfterMs);
    assert.equal(await lastSeen(), before, 'the fast path wrote nothing');
    clock.advance(idleTimeoutMs + 1);
    assert.equal((await viaFastPath('/api/v1/session', token)).status, FELL_THROUGH, 'idle expired');
    clock.advance(-(idleTimeoutMs + 1));
    assert.equal((await viaFastPath('/api/v1/session', token)).status, 200, 'row still there, untouched');
  });
});

describe('session check fast path: access log', () => {
  test('writes the same access-log line as every other request, with the request id it sent', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const log = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line)) });
    const server = await startGatehouse({ logLevel: 'info' }, { log });
    try {
      const client = new TestClient(server.url);
      await signInWithEmail(server, client, 'logged@example.com');
      const response = await client.get('/api/v1/session');
      assert.equal(response.status, 200);
      const requestId = response.headers.get('x-request-id');
      const line = lines.find((entry) => entry['msg'] === 'request' && entry['requestId'] === requestId);
      assert.ok(line, 'an access-log line for the session check');
      assert.equal(line['path'], '/api/v1/session');
      assert.equal(line['status'], 200);
      assert.equal(line['ip'], '127.0.0.1');
      assert.equal(typeof line['ms'], 'number');
    } finally {
      await server.close();
    }
  });
});
