/**
 * Brute-force defence on endpoints that check a secret: consecutive failures per (account, IP)
 * slow that client down progressively; failures against one account from many IPs (credential
 * stuffing) delay the account for unknown devices, without locking out its owner.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { PasswordHasher } from '../../src/domain/passwords/password-hasher.ts';
import { SESSION_COOKIE } from '../../src/http/cookies.ts';
import { DEVICE_COOKIE } from '../../src/http/device-cookie.ts';
import {
  assertRefused,
  fromIp,
  passkeySignIn,
  requestCode,
  userWithPasskey,
  wrongCode,
} from '../support/abuse.ts';
import { TestClient } from '../support/http-client.ts';
import { startGatehouse, TestClock, type TestServer } from '../support/server.ts';
import { signInWithEmail } from '../support/sign-in.ts';

const SECOND = 1000;
const MINUTE = 60 * SECOND;

describe('consecutive failures per (account, client IP)', () => {
  let server: TestServer;
  const clock = new TestClock();
  before(async () => {
    // `rateLimits: {}`: the production defaults, which this suite is about.
    server = await startGatehouse(
      { trustedProxies: '127.0.0.1', passwords: { enabled: true }, rateLimits: {} },
      { clock },
    );
  });
  after(() => server.close());

  test('ten are free; then each attempt waits 1 s, 2 s, 4 s …; a success ends the run', async () => {
    const email = 'slow@example.com';
    const client = new TestClient(server.url);
    const ip = fromIp('198.51.100.7');
    const { code } = await requestCode(server, client, email, ip);
    const guess = () => client.post('/api/v1/email/verify', { email, code: wrongCode(code) }, ip);
    for (let n = 1; n <= 10; n++) assert.equal((await guess()).status, 400, `failure ${n} is answered`);
    assertRefused(await guess(), 1);
    clock.advance(1 * SECOND);
    assert.equal((await guess()).status, 400);
    assertRefused(await guess(), 2);
    clock.advance(2 * SECOND);
    assert.equal((await guess()).status, 400);
    assertRefused(await guess(), 4);

    const elsewhere = await new TestClient(server.url).post(
      '/api/v1/email/verify',
      { email, code: '123456' },
      fromIp('198.51.100.8'),
    );
    assert.equal(elsewhere.status, 400, 'another IP is not slowed by this client’s failures');

    clock.advance(4 * SECOND);
    const fresh = await requestCode(server, client, email, ip);
    assert.equal((await client.post('/api/v1/email/verify', { email, code: fresh.code }, ip)).status, 200);
    assert.equal((await guess()).status, 400, 'after a success the next failure is free again');
    assert.equal((await guess()).status, 400);
  });

  test('the delay is capped at maxDelayMs and the start of each run is audited', async () => {
    const email = 'capped@example.com';
    const client = new TestClient(server.url);
    const ip = fromIp('198.51.100.9');
    for (let n = 0; n < 10; n++) await client.post('/api/v1/email/verify', { email, code: '000000' }, ip);
    let retryAfter = 0;
    for (let n = 0; n < 12; n++) {
      const refused = await client.post('/api/v1/email/verify', { email, code: '000000' }, ip);
      retryAfter = Number(refused.headers.get('retry-after'));
      clock.advance(retryAfter * SECOND);
      await client.post('/api/v1/email/verify', { email, code: '000000' }, ip);
    }
    assert.equal(retryAfter, 15 * 60, 'never more than 15 minutes');
    const events = (
      await server.services.stores.audit.list({ type: 'rate_limit.triggered', limit: 50 })
    ).filter((e) => e.details['rule'] === 'consecutive_failures' && e.ip === '198.51.100.9');
    assert.equal(events.length, 1, 'one event when the run starts to wait, not one per failure');
  });

  test('malformed requests are not counted as guesses', async () => {
    const client = new TestClient(server.url);
    const ip = fromIp('198.51.100.10');
    for (let n = 0; n < 15; n++) {
      assert.equal(
        (await client.post('/api/v1/email/verify', { email: 'x@example.com', code: 7 }, ip)).status,
        400,
      );
    }
    assert.equal(
      (await client.post('/api/v1/email/verify', { email: 'x@example.com', code: '000000' }, ip)).status,
      400,
    );
  });

  test('wrong passwords slow down that client for that account, known or unknown alike', async () => {
    const { user } = await server.services.users.signInByVerifiedEmail('pw@example.com');
    const hash = await new PasswordHasher(server.services.config.passwords.argon2).hash(
      'correct horse battery',
    );
    await server.services.stores.passwords.set(user.id, hash, 0);
    const ip = fromIp('198.51.100.13');
    for (const email of ['pw@example.com', 'no-such-user@example.com']) {
      const client = new TestClient(server.url);
      const attempt = (password: string) => client.post('/api/v1/password/sign-in', { email, password }, ip);
      for (let n = 0; n < 10; n++) assert.equal((await attempt('wrong password!')).status, 401);
      assertRefused(await attempt('wrong password!'), 1);
      if (email === 'pw@example.com') assertRefused(await attempt('correct horse battery'), 1);
    }
    clock.advance(SECOND);
    const ok = await new TestClient(server.url).post(
      '/api/v1/password/sign-in',
      { email: 'pw@example.com', password: 'correct horse battery' },
      ip,
    );
    assert.equal(ok.status, 200, ok.text);
  });

  test('passkey assertions that fail slow down that client for that account', async () => {
    const { authenticator } = await userWithPasskey(server, 'pk-owner@example.com');
    const attacker = new TestClient(server.url);
    const ip = fromIp('198.51.100.11');
    for (let n = 0; n < 10; n++) {
      const failed = await passkeySignIn(attacker, authenticator, ip, { corruptSignature: true });
      assert.equal(failed.status, 400, failed.text);
    }
    assertRefused(await passkeySignIn(attacker, authenticator, ip));
    const owner = new TestClient(server.url);
    assert.equal((await passkeySignIn(owner, authenticator, fromIp('198.51.100.12'))).status, 200);
  });
});

describe('credential stuffing: many IPs, one account', () => {
  let server: TestServer;
  const clock = new TestClock();
  const email = 'stuffed@example.com';
  /** The owner's own browser: signed in before the attack, then signed out. */
  let ownersBrowser: TestClient;
  let passkeyOwner: Awaited<ReturnType<typeof userWithPasskey>>;

  before(async () => {
    // The per-address request limit would also stop this attack; it is raised so that what is
    // tested here is the stuffing delay alone.
    const emailVerify = { perIdentifier: { limit: 1000, windowMs: 15 * MINUTE } };
    server = await startGatehouse(
      { trustedProxies: '127.0.0.1', rateLimits: { mailPerAddress: { limit: 1000 }, emailVerify } },
      { clock },
    );
    ownersBrowser = new TestClient(server.url);
    await signInWithEmail(server, ownersBrowser, email);
    assert.equal((await ownersBrowser.delete('/api/v1/session')).status, 204);
    assert.ok(ownersBrowser.cookies.has(DEVICE_COOKIE), 'the browser keeps its device cookie');
    passkeyOwner = await userWithPasskey(server, 'stuffed-passkey@example.com');
    // 20 failed codes from 20 addresses: no single IP comes near its own limits.
    for (let n = 1; n <= 20; n++) {
      const response = await new TestClient(server.url).post(
        '/api/v1/email/verify',
        { email, code: '000000' },
        fromIp(`203.0.113.${n}`),
      );
      assert.equal(response.status, 400);
    }
  });
  after(() => server.close());

  test('a new device is refused for the account, whatever its IP', async () => {
    const response = await new TestClient(server.url).post(
      '/api/v1/email/verify',
      { email, code: '000000' },
      fromIp('192.0.2.99'),
    );
    assertRefused(response, 15 * 60);
    const other = await new TestClient(server.url).post(
      '/api/v1/email/verify',
      { email: 'bystander@example.com', code: '000000' },
      fromIp('192.0.2.99'),
    );
    assert.equal(other.status, 400, 'other accounts are not affected');
  });

  test('the owner is not locked out: a known device signs in with a code', async () => {
    const { code } = await requestCode(server, ownersBrowser, email, fromIp('192.0.2.1'));
    const response = await ownersBrowser.post('/api/v1/email/verify', { email, code }, fromIp('192.0.2.1'));
    assert.equal(response.status, 200, response.text);
  });

  test('the owner is not locked out: a request with a valid session of the account passes', async () => {
    ownersBrowser.cookies.delete(DEVICE_COOKIE);
    assert.ok(ownersBrowser.cookies.has(SESSION_COOKIE));
    const { code } = await requestCode(server, ownersBrowser, email, fromIp('192.0.2.2'));
    const response = await ownersBrowser.post('/api/v1/email/verify', { email, code }, fromIp('192.0.2.2'));
    assert.equal(response.status, 200, response.text);
  });

  test('the emailed link still works from a new device: it carries no guessable secret', async () => {
    const fresh = new TestClient(server.url);
    const { token } = await requestCode(server, fresh, email, fromIp('192.0.2.3'));
    assert.equal((await fresh.post('/api/v1/email/verify', { token }, fromIp('192.0.2.3'))).status, 200);
  });

  test('passkey sign-in is never held back by the account-wide delay', async () => {
    for (let n = 1; n <= 20; n++) {
      await new TestClient(server.url).post(
        '/api/v1/email/verify',
        { email: 'stuffed-passkey@example.com', code: '000000' },
        fromIp(`198.18.0.${n}`),
      );
    }
    const codeAttempt = await new TestClient(server.url).post(
      '/api/v1/email/verify',
      { email: 'stuffed-passkey@example.com', code: '000000' },
      fromIp('198.18.1.1'),
    );
    assertRefused(codeAttempt);
    const signedIn = await passkeySignIn(
      new TestClient(server.url),
      passkeyOwner.authenticator,
      fromIp('198.18.1.1'),
    );
    assert.equal(signedIn.status, 200, signedIn.text);
  });

  test('the trigger is audited with the account, and the owner is mailed', async () => {
    const owner = await server.services.users.findByEmail(email);
    const events = (
      await server.services.stores.audit.list({ type: 'rate_limit.triggered', limit: 50 })
    ).filter((e) => e.details['rule'] === 'identifier_failures' && e.userId === owner?.id);
    assert.equal(events.length, 1);
    const mails = await server.services.stores.devMailbox.list({ to: email, limit: 20 });
    const notice = mails.find((m) => /Repeated failed sign-in attempts/.test(m.subject));
    assert.ok(notice, 'the owner hears about it');
    assert.match(notice.text, /IP address: 203\.0\.113\.20/);
    assert.match(notice.text, /\/account/);
  });

  test('the delay ends after delayMs', async () => {
    clock.advance(15 * MINUTE);
    const response = await new TestClient(server.url).post(
      '/api/v1/email/verify',
      { email, code: '000000' },
      fromIp('192.0.2.98'),
    );
    assert.equal(response.status, 400);
  });
});
