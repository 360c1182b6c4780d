/**
 * Request limits on every authentication endpoint: per client IP (IPv6 per /64), per account
 * named, and a global ceiling; 429 with Retry-After, the same for every account.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { TestClient } from '../support/http-client.ts';
import { assertRefused, fromIp, limitsOf, requestCode } from '../support/abuse.ts';
import { startGatehouse, TestClock, type TestServer } from '../support/server.ts';
import { signInWithEmail } from '../support/sign-in.ts';

const WINDOW_MS = 60_000;

/** Every authentication endpoint, with a request that reaches its limiter. */
const endpoints: Array<{ method: 'GET' | 'POST'; path: string; body?: unknown }> = [
  { method: 'POST', path: '/api/v1/email/sign-in', body: { email: 'limits@example.com' } },
  { method: 'POST', path: '/api/v1/email/verify', body: { token: 'x'.repeat(43) } },
  { method: 'POST', path: '/api/v1/passkeys/sign-in/options' },
  { method: 'POST', path: '/api/v1/passkeys/sign-in/verify', body: {} },
  { method: 'POST', path: '/api/v1/passkeys/register/options' },
  { method: 'POST', path: '/api/v1/passkeys/register/verify', body: {} },
  {
    method: 'POST',
    path: '/api/v1/password/sign-in',
    body: { email: 'limits@example.com', password: 'x'.repeat(12) },
  },
  {
    method: 'POST',
    path: '/api/v1/password/sign-up',
    body: { email: 'limits@example.com', password: 'x'.repeat(12) },
  },
  { method: 'POST', path: '/api/v1/password/sign-up/confirm', body: { token: 'x' } },
  { method: 'POST', path: '/api/v1/password/forgot', body: { email: 'limits@example.com' } },
  { method: 'POST', path: '/api/v1/password/reset', body: { token: 'x', password: 'x'.repeat(12) } },
  { method: 'POST', path: '/api/v1/password/change', body: {} },
  { method: 'POST', path: '/api/v1/mfa/verify', body: { code: '123456' } },
  { method: 'POST', path: '/api/v1/me/email', body: { email: 'new@example.com' } },
  { method: 'POST', path: '/api/v1/me/email/confirm', body: { token: 'x' } },
  { method: 'POST', path: '/api/v1/me/email/revert', body: { token: 'x' } },
  { method: 'POST', path: '/api/v1/reauth/password', body: {} },
  { method: 'POST', path: '/api/v1/reauth/email', body: {} },
  { method: 'POST', path: '/api/v1/reauth/email/verify', body: {} },
  { method: 'POST', path: '/api/v1/reauth/passkey/options', body: {} },
  { method: 'POST', path: '/api/v1/reauth/passkey/verify', body: {} },
  { method: 'GET', path: '/auth/example' },
  { method: 'GET', path: '/auth/example/callback?state=x&code=y' },
  { method: 'POST', path: '/auth/example/callback', body: {} },
];

describe('per client IP', () => {
  let server: TestServer;
  const clock = new TestClock();
  before(async () => {
    server = await startGatehouse(
      {
        trustedProxies: '127.0.0.1',
        passwords: { enabled: true },
        rateLimits: limitsOf({ perIp: 2 }, WINDOW_MS),
      },
      { clock },
    );
  });
  after(() => server.close());

  for (const [i, endpoint] of endpoints.entries()) {
    test(`${endpoint.method} ${endpoint.path}: the third request from one IP gets 429 + Retry-After`, async () => {
      const client = new TestClient(server.url);
      const ip = `198.51.100.${i + 1}`;
      const send = (from: string) =>
        client.request(
          endpoint.method,
          endpoint.path,
          endpoint.method === 'GET' ? undefined : (endpoint.body ?? {}),
          fromIp(from),
        );
      for (let n = 0; n < 2; n++) assert.notEqual((await send(ip)).status, 429);
      assertRefused(await send(ip), WINDOW_MS / 1000);
      assert.notEqual((await send(`203.0.113.${i + 1}`)).status, 429, 'another client is not affected');
    });
  }

  test('the window closes: after Retry-After the client may try again', async () => {
    const client = new TestClient(server.url);
    const send = () => client.post('/api/v1/passkeys/sign-in/options', {}, fromIp('198.51.100.200'));
    await send();
    clock.advance(10_000);
    await send();
    assertRefused(await send(), (WINDOW_MS - 10_000) / 1000);
    clock.advance(WINDOW_MS - 10_000);
    assert.equal((await send()).status, 200);
  });

  test('IPv6 clients count per /64: changing the interface id does not buy a new budget', async () => {
    const client = new TestClient(server.url);
    const send = (ip: string) => client.post('/api/v1/passkeys/sign-in/options', {}, fromIp(ip));
    assert.equal((await send('2001:db8:7:1::1')).status, 200);
    assert.equal((await send('2001:db8:7:1:aaaa:bbbb:cccc:dddd')).status, 200);
    assertRefused(await send('2001:db8:7:1::ffff'));
    assert.equal((await send('2001:db8:7:2::1')).status, 200, 'the next /64 is another client');
  });

  test('a refusal is audited once per window, with the rule and the client IP', async () => {
    const client = new TestClient(server.url);
    for (let n = 0; n < 6; n++)
      await client.post('/api/v1/passkeys/sign-in/options', {}, fromIp('198.51.100.250'));
    const events = (
      await server.services.stores.audit.list({ type: 'rate_limit.triggered', limit: 100 })
    ).filter((event) => event.ip === '198.51.100.250');
    assert.equal(events.length, 1);
    assert.equal(events[0]?.outcome, 'failure');
    assert.deepEqual(
      { rule: events[0]?.details['rule'], endpoint: events[0]?.details['endpoint'] },
      { rule: 'per_ip', endpoint: 'passkey_sign_in_options' },
    );
  });
});

describe('X-Forwarded-For from an untrusted peer', () => {
  let server: TestServer;
  before(async () => {
    server = await startGatehouse({ rateLimits: limitsOf({ perIp: 2 }) });
  });
  after(() => server.close());

  test('is ignored: rotating it does not dodge the per-IP limit', async () => {
    const client = new TestClient(server.url);
    for (const ip of ['198.51.100.1', '198.51.100.2']) {
      assert.equal((await client.post('/api/v1/passkeys/sign-in/options', {}, fromIp(ip))).status, 200);
    }
    assertRefused(await client.post('/api/v1/passkeys/sign-in/options', {}, fromIp('198.51.100.3')));
    const [event] = await server.services.stores.audit.list({ type: 'rate_limit.triggered', limit: 1 });
    assert.equal(event?.ip, '127.0.0.1', 'the socket address is the client');
  });
});

describe('per account', () => {
  let server: TestServer;
  before(async () => {
    server = await startGatehouse({
      trustedProxies: '127.0.0.1',
      rateLimits: limitsOf({ perIdentifier: 2 }),
    });
    await server.services.users.signInByVerifiedEmail('known@example.com');
  });
  after(() => server.close());

  const verify = (email: string, ip: string) =>
    new TestClient(server.url).post('/api/v1/email/verify', { email, code: '123456' }, fromIp(ip));

  test('codes for one address are limited whatever the client IP, and case does not split the count', async () => {
    assert.equal((await verify('victim@example.com', '198.51.100.1')).status, 400);
    assert.equal((await verify('Victim@EXAMPLE.com', '198.51.100.2')).status, 400);
    assertRefused(await verify('victim@example.com', '198.51.100.3'));
    assert.equal(
      (await verify('other@example.com', '198.51.100.3')).status,
      400,
      'another address is not affected',
    );
  });

  test('the refusal is the same for a known and an unknown address', async () => {
    const known: Array<Awaited<ReturnType<typeof verify>>> = [];
    const unknown: typeof known = [];
    for (let n = 0; n < 3; n++) {
      known.push(await verify('known@example.com', `198.51.100.${10 + n}`));
      unknown.push(await verify('nobody@example.com', `198.51.100.${20 + n}`));
    }
    assert.deepEqual(
      known.map((r) => [r.status, r.text, r.headers.get('retry-after')]),
      unknown.map((r) => [r.status, r.text, r.headers.get('retry-after')]),
    );
    assertRefused(known[2] as (typeof known)[number]);
  });

  test('the owner’s own device is not held back by strangers using up the per-account limit', async () => {
    const owner = new TestClient(server.url);
    await signInWithEmail(server, owner, 'owner@example.com');
    assert.equal((await owner.delete('/api/v1/session')).status, 204);
    for (let n = 0; n < 3; n++) await verify('owner@example.com', `198.51.100.${50 + n}`);
    assertRefused(await verify('owner@example.com', '198.51.100.60'));
    const { code } = await requestCode(server, owner, 'owner@example.com', fromIp('198.51.100.61'));
    const signedIn = await owner.post(
      '/api/v1/email/verify',
      { email: 'owner@example.com', code },
      fromIp('198.51.100.61'),
    );
    assert.equal(signedIn.status, 200, signedIn.text);
  });

  test('passkey registration is limited per signed-in user across IPs', async () => {
    const client = new TestClient(server.url);
    await signInWithEmail(server, client, 'registrar@example.com');
    assert.equal(
      (await client.post('/api/v1/passkeys/register/options', {}, fromIp('198.51.100.30'))).status,
      200,
    );
    assert.equal(
      (await client.post('/api/v1/passkeys/register/options', {}, fromIp('198.51.100.31'))).status,
      200,
    );
    assertRefused(await client.post('/api/v1/passkeys/register/options', {}, fromIp('198.51.100.32')));
    const other = new TestClient(server.url);
    await signInWithEmail(server, other, 'someone-else@example.com');
    assert.equal(
      (await other.post('/api/v1/passkeys/register/options', {}, fromIp('198.51.100.32'))).status,
      200,
    );
  });
});

describe('global ceiling', () => {
  let server: TestServer;
  before(async () => {
    server = await startGatehouse({ trustedProxies: '127.0.0.1', rateLimits: limitsOf({ global: 3 }) });
  });
  after(() => server.close());

  test('caps an endpoint for everyone together, however many IPs ask', async () => {
    const client = new TestClient(server.url);
    for (let n = 1; n <= 3; n++) {
      assert.equal(
        (await client.post('/api/v1/passkeys/sign-in/options', {}, fromIp(`198.51.100.${n}`))).status,
        200,
      );
    }
    assertRefused(await client.post('/api/v1/passkeys/sign-in/options', {}, fromIp('198.51.100.99')));
    const elsewhere = await client.post(
      '/api/v1/email/sign-in',
      { email: 'a@example.com' },
      fromIp('198.51.100.99'),
    );
    assert.equal(elsewhere.status, 202, 'each endpoint has its own ceiling');
  });
});
