/**
 * Step-up (issue #3): sensitive endpoints need a recent authentication; re-authentication by
 * email code, passkey or password (with the authenticator code when enrolled) issues a new
 * session token and moves auth_time.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { SESSION_COOKIE } from '../../src/http/cookies.ts';
import { TestClient } from '../support/http-client.ts';
import { currentCode, enrolTotp } from '../support/mfa.ts';
import { readSignInMail, startGatehouse, TestClock, type TestServer } from '../support/server.ts';
import { liftedRateLimits } from '../support/limits.ts';
import { newSignInMail, signInWithEmail } from '../support/sign-in.ts';
import { SoftAuthenticator } from '../support/soft-authenticator.ts';

describe('step-up', () => {
  let server: TestServer;
  const clock = new TestClock();
  before(async () => {
    server = await startGatehouse({ ...liftedRateLimits(), passwords: { enabled: true } }, { clock });
  });
  after(() => server.close());

  const stale = () => clock.advance(server.services.config.mfa.stepUpMaxAgeMs + 1);

  async function reauthCode(client: TestClient, email: string): Promise<string> {
    const before = (await server.services.stores.devMailbox.list({ to: email, limit: 1 }))[0]?.id;
    assert.equal((await client.post('/api/v1/reauth/email')).status, 202);
    return readSignInMail(await newSignInMail(server, email, before)).code;
  }

  test('every sensitive endpoint answers 403 step_up_required once the sign-in is older than maxAge', async () => {
    const client = new TestClient(server.url);
    await signInWithEmail(server, client, 'sensitive@example.com');
    // Fresh: allowed (a sign-in is a recent authentication).
    assert.equal((await client.post('/api/v1/passkeys/register/options')).status, 200);
    stale();
    for (const [method, path, body] of [
      ['POST', '/api/v1/passkeys/register/options', {}],
      ['DELETE', '/api/v1/passkeys/some-id', undefined],
      ['POST', '/api/v1/sessions/revoke-others', {}],
      ['POST', '/api/v1/mfa/totp/setup', {}],
      ['DELETE', '/api/v1/mfa/totp', undefined],
      ['POST', '/api/v1/mfa/recovery-codes', {}],
      ['POST', '/api/v1/me/email', { email: 'elsewhere@example.com' }],
      ['POST', '/api/v1/password/change', { currentPassword: 'x', newPassword: 'y' }],
      ['DELETE', '/api/v1/me', undefined],
    ] as const) {
      const response = await client.request(method, path, body);
      assert.equal(response.status, 403, `${method} ${path}: ${response.text}`);
      assert.deepEqual(response.body.error, {
        code: 'step_up_required',
        message: response.body.error.message,
        maxAge: server.services.config.mfa.stepUpMaxAgeMs / 1000,
        factors: [],
        methods: ['email'],
        secondFactor: null,
      });
    }
    // Reading is not sensitive.
    assert.equal((await client.get('/api/v1/session')).status, 200);
  });

  test('re-authenticating by email code issues a new token with a new auth_time; then the action runs', async () => {
    const client = new TestClient(server.url);
    await signInWithEmail(server, client, 'again@example.com');
    const before = (await client.get('/api/v1/session')).body.session;
    const oldToken = client.cookies.get(SESSION_COOKIE);
    stale();
    assert.equal((await client.post('/api/v1/sessions/revoke-others')).status, 403);

    const code = await reauthCode(client, 'again@example.com');
    const wrong = await client.post('/api/v1/reauth/email/verify', {
      code: code === '000000' ? '111111' : '000000',
    });
    assert.equal(wrong.status, 400);
    const ok = await client.post('/api/v1/reauth/email/verify', { code });
    assert.equal(ok.status, 200, ok.text);
    assert.ok(ok.body.session.authTime > before.authTime);
    assert.notEqual(client.cookies.get(SESSION_COOKIE), oldToken, 'a new token');
    const replay = new TestClient(server.url);
    replay.cookies.set(SESSION_COOKIE, oldToken ?? '');
    assert.equal((await replay.get('/api/v1/session')).status, 401, 'the old token is dead');
    assert.equal((await client.post('/api/v1/sessions/revoke-others')).status, 200);
    const events = await server.services.stores.audit.list({ userId: ok.body.user.id, limit: 20 });
    assert.ok(events.some((e) => e.type === 'reauth' && e.details['method'] === 'email'));
  });

  test('with an authenticator enrolled, step-up needs both factors: email + code, or a verifying passkey', async () => {
    const client = new TestClient(server.url);
    await signInWithEmail(server, client, 'both@example.com');
    const { secret } = await enrolTotp(server, client, clock);
    const options = await client.post('/api/v1/passkeys/register/options');
    const phone = new SoftAuthenticator({ origin: server.origin });
    assert.equal(
      (
        await client.post('/api/v1/passkeys/register/verify', {
          response: await phone.register(options.body),
        })
      ).status,
      201,
    );
    stale();
    const refused = await client.post('/api/v1/mfa/recovery-codes');
    assert.equal(refused.body.error.code, 'step_up_required');
    assert.deepEqual(refused.body.error.factors, ['mfa']);
    assert.deepEqual(refused.body.error.methods, ['passkey', 'email']);
    assert.equal(refused.body.error.secondFactor, 'totp');

    // Email alone is one factor: refused before the code is spent…
    const code = await reauthCode(client, 'both@example.com');
    const alone = await client.post('/api/v1/reauth/email/verify', { code });
    assert.equal(alone.status, 401);
    assert.equal(alone.body.error.code, 'second_factor_required');
    // …so the same code still works together with the authenticator code.
    const both = await client.post('/api/v1/reauth/email/verify', {
      code,
      totp: currentCode(server, secret),
    });
    assert.equal(both.status, 200, both.text);
    assert.ok(both.body.session.amr.includes('mfa'));
    assert.equal((await client.post('/api/v1/mfa/recovery-codes')).status, 200);

    // A passkey that verified the user is both factors at once.
    stale();
    const passkeyOptions = await client.post('/api/v1/reauth/passkey/options');
    assert.equal(passkeyOptions.status, 200);
    assert.equal(passkeyOptions.body.allowCredentials.length, 1, 'only this user’s passkeys are offered');
    const viaPasskey = await client.post('/api/v1/reauth/passkey/verify', {
      response: await phone.authenticate(passkeyOptions.body),
    });
    assert.equal(viaPasskey.status, 200, viaPasskey.text);
    assert.deepEqual(viaPasskey.body.session.amr, ['pop', 'user', 'mfa']);
    assert.equal((await client.post('/api/v1/mfa/recovery-codes')).status, 200);
  });

  test("another user's passkey cannot re-authenticate this session", async () => {
    const mallory = new TestClient(server.url);
    await signInWithEmail(server, mallory, 'mallory@example.com');
    const malloryKey = new SoftAuthenticator({ origin: server.origin });
    const regOptions = await mallory.post('/api/v1/passkeys/register/options');
    await mallory.post('/api/v1/passkeys/register/verify', {
      response: await malloryKey.register(regOptions.body),
    });

    const victim = new TestClient(server.url);
    await signInWithEmail(server, victim, 'victim@example.com');
    stale();
    const options = await victim.post('/api/v1/reauth/passkey/options');
    const response = await malloryKey.authenticate({ ...options.body, allowCredentials: [] });
    const refused = await victim.post('/api/v1/reauth/passkey/verify', { response });
    assert.equal(refused.status, 400);
    assert.equal(refused.body.error.code, 'passkey_verification_failed');
    assert.equal((await victim.post('/api/v1/sessions/revoke-others')).status, 403);
  });

  test('wrong re-authentication secrets end the session at the limit', async () => {
    const client = new TestClient(server.url);
    await signInWithEmail(server, client, 'pw-reauth@example.com');
    stale();
    const { maxFailures } = server.services.config.mfa;
    for (let i = 1; i < maxFailures; i++) {
      const wrong = await client.post('/api/v1/reauth/password', { password: `wrong guess ${i}` });
      assert.equal(wrong.body.error.code, 'invalid_credentials');
    }
    const last = await client.post('/api/v1/reauth/password', { password: 'still wrong' });
    assert.equal(last.status, 401);
    assert.equal(last.body.error.code, 'unauthenticated');
    assert.equal((await client.get('/api/v1/session')).status, 401, 'the session was ended');
  });
});
