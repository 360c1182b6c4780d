import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { TestClient } from '../support/http-client.ts';
import { startGatehouse, type TestServer } from '../support/server.ts';
import { signInWithEmail } from '../support/sign-in.ts';

describe('cross-origin protection (CSRF)', () => {
  let server: TestServer;
  let client: TestClient;
  before(async () => {
    server = await startGatehouse({ trustedOrigins: ['https://app.example.com'] });
    client = new TestClient(server.url);
    await signInWithEmail(server, client, 'csrf@example.com');
  });
  after(() => server.close());

  test('Sec-Fetch-Site: cross-site is refused before anything changes', async () => {
    const response = await client.post(
      '/api/v1/sessions/revoke-others',
      {},
      { 'sec-fetch-site': 'cross-site' },
    );
    assert.equal(response.status, 403);
    assert.equal(response.body.error.code, 'cross_origin_refused');
    const signOut = await client.delete('/api/v1/session', {
      'sec-fetch-site': 'same-site',
      origin: 'https://evil.example',
    });
    assert.equal(signOut.status, 403);
    assert.equal((await client.get('/api/v1/session')).status, 200, 'still signed in');
  });

  test('a foreign Origin is refused when fetch metadata is absent; a trusted one passes', async () => {
    const foreign = await client.patch(
      '/api/v1/me',
      { displayName: 'x' },
      { 'sec-fetch-site': '', origin: 'https://evil.example' },
    );
    assert.equal(foreign.status, 403);
    const headers = { origin: 'https://app.example.com', 'sec-fetch-site': 'cross-site' };
    assert.equal((await client.patch('/api/v1/me', { displayName: 'ok' }, headers)).status, 200);
  });

  test('form-encoded and text bodies are refused on JSON endpoints', async () => {
    for (const type of [
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'text/plain',
    ]) {
      const response = await client.request('POST', '/api/v1/email/sign-in', 'email=a%40example.com', {
        'content-type': type,
      });
      assert.equal(response.status, 415, type);
      assert.equal(response.body.error.code, 'unsupported_media_type');
    }
  });

  test('refusals are audited', async () => {
    const events = await server.services.stores.audit.list({
      type: 'request.cross_origin_refused',
      limit: 10,
    });
    assert.ok(events.length >= 2);
    assert.ok(events.every((e) => e.outcome === 'failure' && e.ip === '127.0.0.1'));
  });

  test('GET never changes state', async () => {
    const response = await client.get('/api/v1/sessions/revoke-others');
    assert.equal(response.status, 404);
    assert.equal((await client.get('/api/v1/session')).status, 200);
  });
});

describe('response headers and bad input', () => {
  let server: TestServer;
  before(async () => {
    server = await startGatehouse();
  });
  after(() => server.close());

  test('security headers on every response, errors included', async () => {
    const client = new TestClient(server.url);
    for (const path of ['/healthz', '/api/v1/session', '/no-such-page']) {
      const { headers } = await client.get(path);
      assert.equal(headers.get('strict-transport-security'), 'max-age=31536000; includeSubDomains');
      assert.equal(headers.get('x-content-type-options'), 'nosniff');
      assert.equal(headers.get('referrer-policy'), 'no-referrer');
      assert.equal(headers.get('cross-origin-opener-policy'), 'same-origin');
      assert.equal(headers.get('cache-control'), 'no-store');
      const csp = headers.get('content-security-policy') ?? '';
      assert.match(csp, /frame-ancestors 'none'/);
      assert.match(csp, /default-src 'none'/);
      assert.doesNotMatch(csp, /script-src/, 'JSON needs no script');
      assert.ok(headers.get('x-request-id'));
    }
  });

  test('one JSON error shape, never a 500, for malformed input', async () => {
    const client = new TestClient(server.url);
    const cases: Array<[string, string | object, number]> = [
      ['/api/v1/email/sign-in', '{not json', 400],
      ['/api/v1/email/sign-in', { email: 42 }, 400],
      ['/api/v1/email/sign-in', { email: 'a@example.com', extra: true }, 400],
      ['/api/v1/email/sign-in', [], 400],
      ['/api/v1/email/verify', { token: null }, 400],
      ['/api/v1/email/verify', { email: 'a@example.com', code: '12 34 56 78 90 12 34' }, 400],
    ];
    for (const [path, body, status] of cases) {
      const response = await client.request(
        'POST',
        path,
        typeof body === 'string' ? body : JSON.stringify(body),
        {
          'content-type': 'application/json',
        },
      );
      assert.equal(response.status, status, `${path} ${JSON.stringify(body)}: ${response.text}`);
      assert.equal(typeof response.body.error.code, 'string');
      assert.equal(typeof response.body.error.message, 'string');
    }
  });

  test('bodies over the limit get 413', async () => {
    const client = new TestClient(server.url);
    const response = await client.request(
      'POST',
      '/api/v1/email/sign-in',
      JSON.stringify({ email: 'x'.repeat(200_000) }),
      {
        'content-type': 'application/json',
      },
    );
    assert.equal(response.status, 413);
    assert.equal(response.body.error.code, 'payload_too_large');
  });

  test('X-Forwarded-For from an untrusted peer is ignored', async () => {
    const client = new TestClient(server.url);
    await client.post(
      '/api/v1/email/sign-in',
      { email: 'xff@example.com' },
      { 'x-forwarded-for': '203.0.113.9' },
    );
    const [event] = await server.services.stores.audit.list({ type: 'sign_in.email_requested', limit: 1 });
    assert.equal(event?.ip, '127.0.0.1');
  });

  test('OpenAPI document describes the contract', async () => {
    const { status, body } = await new TestClient(server.url).get('/api/openapi.json');
    assert.equal(status, 200);
    assert.equal(body.openapi, '3.1.0');
    for (const path of [
      '/api/v1/session',
      '/api/v1/sessions',
      '/api/v1/sessions/{id}',
      '/api/v1/email/sign-in',
      '/api/v1/email/verify',
      '/api/v1/me',
    ]) {
      assert.ok(body.paths[path], path);
    }
    assert.ok(
      body.paths['/api/v1/email/sign-in'].post.requestBody.content['application/json'].schema.properties
        .email,
    );
  });
});

describe('failing closed', () => {
  test('database unreachable: nothing is authenticated, /readyz fails, answers are 503', async () => {
    const server = await startGatehouse();
    const client = new TestClient(server.url);
    await signInWithEmail(server, client, 'closed@example.com');
    await server.services.database.close();
    const session = await client.get('/api/v1/session');
    assert.equal(session.status, 503);
    assert.equal(session.body.error.code, 'unavailable');
    assert.equal((await client.get('/readyz')).status, 503);
    assert.equal((await client.get('/healthz')).status, 200);
    await server.gatehouse.close().catch(() => {});
  });
});
