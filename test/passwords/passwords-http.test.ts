/**
 * Passwords over HTTP (issue #3): off by default; sign-up confirmed by a mailed link (no account
 * before); sign-in exactly as typed, with a second factor when enrolled; rehash when the argon2
 * parameters change; forgotten password and reset (no MFA bypass, other sessions end); change
 * behind step-up. Answers never say whether an address has an account.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { PasswordHasher } from '../../src/domain/passwords/password-hasher.ts';
import { TestClient } from '../support/http-client.ts';
import { currentCode, enrolTotp } from '../support/mfa.ts';
import { startGatehouse, TestClock, type TestServer } from '../support/server.ts';
import { liftedRateLimits } from '../support/limits.ts';
import { mailMatching, tokenIn } from '../support/mail.ts';
import { signInWithEmail } from '../support/sign-in.ts';

const PASSWORD = 'Pässword with spaces ';

describe('passwords', () => {
  let server: TestServer;
  const clock = new TestClock();
  before(async () => {
    server = await startGatehouse({ ...liftedRateLimits(), passwords: { enabled: true } }, { clock });
  });
  after(() => server.close());

  async function signUp(email: string, password = PASSWORD): Promise<TestClient> {
    const client = new TestClient(server.url);
    assert.equal((await client.post('/api/v1/password/sign-up', { email, password })).status, 202);
    const confirmed = await client.post('/api/v1/password/sign-up/confirm', {
      token: tokenIn(await mailMatching(server, email, /Confirm your/), '/password/confirm'),
    });
    assert.equal(confirmed.status, 200, confirmed.text);
    return client;
  }

  test('off by default: no password endpoints at all', async () => {
    const plain = await startGatehouse();
    try {
      const client = new TestClient(plain.url);
      for (const path of [
        '/api/v1/password/sign-up',
        '/api/v1/password/sign-in',
        '/api/v1/password/forgot',
        '/api/v1/reauth/password',
      ]) {
        assert.equal((await client.post(path, { email: 'a@example.com', password: 'x' })).status, 404, path);
      }
    } finally {
      await plain.close();
    }
  });

  test('sign-up: policy first, same 202 for new and known addresses, no account until the link is followed', async () => {
    const client = new TestClient(server.url);
    const weak = await client.post('/api/v1/password/sign-up', {
      email: 'new@example.com',
      password: 'password1',
    });
    assert.equal(weak.status, 400);
    assert.equal(weak.body.error.code, 'weak_password');
    assert.equal(weak.body.error.reason, 'common');
    assert.equal(
      (await client.post('/api/v1/password/sign-up', { email: 'new@example.com', password: 'short' })).body
        .error.reason,
      'too_short',
    );

    await signInWithEmail(server, new TestClient(server.url), 'known@example.com');
    const fresh = await client.post('/api/v1/password/sign-up', {
      email: 'new@example.com',
      password: PASSWORD,
    });
    const known = await client.post('/api/v1/password/sign-up', {
      email: 'known@example.com',
      password: PASSWORD,
    });
    assert.equal(fresh.status, 202);
    assert.deepEqual([known.status, known.body], [fresh.status, fresh.body]);
    assert.equal(await server.services.users.findByEmail('new@example.com'), undefined, 'no account yet');
    assert.match(
      (await mailMatching(server, 'known@example.com', /Sign-up attempt/)).text,
      /already has one/,
    );
    const known2 = await server.services.users.findByEmail('known@example.com');
    assert.equal(
      await server.services.stores.passwords.find(known2?.id ?? ''),
      undefined,
      'no password was added',
    );
    // Signing in before confirming: the account does not exist.
    const early = await client.post('/api/v1/password/sign-in', {
      email: 'new@example.com',
      password: PASSWORD,
    });
    assert.equal(early.status, 401);

    const token = tokenIn(await mailMatching(server, 'new@example.com', /Confirm your/), '/password/confirm');
    const confirmed = await client.post('/api/v1/password/sign-up/confirm', { token });
    assert.equal(confirmed.status, 200, confirmed.text);
    assert.equal(confirmed.body.user.email, 'new@example.com');
    assert.equal(confirmed.body.user.emailVerified, true);
    assert.equal(
      (await client.post('/api/v1/password/sign-up/confirm', { token })).status,
      400,
      'single use',
    );
    const stored = await server.services.stores.passwords.find(confirmed.body.user.id);
    assert.match(stored ?? '', /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
  });

  test('sign-in checks the password exactly as typed; failures look the same; no enumeration', async () => {
    await signUp('exact@example.com');
    const client = new TestClient(server.url);
    const ok = await client.post('/api/v1/password/sign-in', {
      email: 'exact@example.com',
      password: PASSWORD,
    });
    assert.equal(ok.status, 200, ok.text);
    assert.deepEqual(ok.body.session.amr, ['pwd']);
    assert.equal((await client.get('/api/v1/session')).status, 200);

    const failures = [
      { email: 'exact@example.com', password: PASSWORD.trim() },
      { email: 'exact@example.com', password: PASSWORD.toLowerCase() },
      { email: 'exact@example.com', password: PASSWORD.normalize('NFD') },
      { email: 'exact@example.com', password: `${PASSWORD}x` },
      { email: 'nobody@example.com', password: PASSWORD },
    ];
    const bodies = [];
    for (const attempt of failures) {
      const refused = await new TestClient(server.url).post('/api/v1/password/sign-in', attempt);
      assert.equal(refused.status, 401, JSON.stringify(attempt));
      bodies.push(refused.body);
    }
    assert.equal(new Set(bodies.map((b) => JSON.stringify(b))).size, 1, 'one answer for every failure');
    assert.equal(bodies[0].error.code, 'invalid_credentials');
  });

  test('a long passphrase (100 characters) works; hashes are rehashed when the parameters change', async () => {
    const passphrase = 'the quick brown fox '.repeat(5);
    const client = await signUp('long@example.com', passphrase);
    const userId = (await client.get('/api/v1/session')).body.user.id;
    // An older hash made with other (weaker-than-now) parameters, as after a config change.
    const old = await new PasswordHasher({ memoryKiB: 8192, iterations: 3, parallelism: 1 }).hash(passphrase);
    await server.services.stores.passwords.set(userId, old, clock.now());
    const signedIn = await new TestClient(server.url).post('/api/v1/password/sign-in', {
      email: 'long@example.com',
      password: passphrase,
    });
    assert.equal(signedIn.status, 200);
    const rehashed = await server.services.stores.passwords.find(userId);
    assert.notEqual(rehashed, old);
    assert.match(rehashed ?? '', /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    assert.equal(
      (
        await new TestClient(server.url).post('/api/v1/password/sign-in', {
          email: 'long@example.com',
          password: passphrase,
        })
      ).status,
      200,
    );
  });

  test('no truncation: two long passwords (100+ bytes) that differ only after byte 72 are different passwords', async () => {
    const shared = 'a long shared beginning, word after word, '.repeat(2);
    const mine = `${shared}and then my own ending`;
    const other = `${shared}and then another ending`;
    assert.ok(Buffer.byteLength(mine) > 100 && Buffer.byteLength(other) > 100);
    assert.ok(Buffer.byteLength(shared) > 72, 'the first 72 bytes are the same');
    await signUp('beyond72@example.com', mine);
    const attempt = (password: string) =>
      new TestClient(server.url).post('/api/v1/password/sign-in', {
        email: 'beyond72@example.com',
        password,
      });
    assert.equal((await attempt(other)).status, 401, 'the bytes after 72 count');
    assert.equal((await attempt(shared)).status, 401);
    assert.equal((await attempt(mine)).status, 200);
  });

  test('with an authenticator, a password sign-in is half-authenticated until the code', async () => {
    const owner = await signUp('two-step@example.com');
    const { secret } = await enrolTotp(server, owner, clock);
    const client = new TestClient(server.url);
    const first = await client.post('/api/v1/password/sign-in', {
      email: 'two-step@example.com',
      password: PASSWORD,
    });
    assert.equal(first.status, 200);
    assert.deepEqual(first.body, { mfa_required: true, enrol: false, redirectTo: null });
    assert.equal((await client.get('/api/v1/session')).body.error.code, 'mfa_required');
    const done = await client.post('/api/v1/mfa/verify', { code: currentCode(server, secret) });
    assert.equal(done.status, 200);
    assert.deepEqual([...done.body.session.amr].sort(), ['mfa', 'otp', 'pwd']);

    // Step-up by password needs the code too.
    clock.advance(server.services.config.mfa.stepUpMaxAgeMs + 1);
    const alone = await client.post('/api/v1/reauth/password', { password: PASSWORD });
    assert.equal(alone.body.error.code, 'second_factor_required');
    clock.advance(30_000);
    const both = await client.post('/api/v1/reauth/password', {
      password: PASSWORD,
      totp: currentCode(server, secret),
    });
    assert.equal(both.status, 200, both.text);
  });

  test('forgot and reset: same answer for any address; the link sets a password, ends sessions, signs nobody in', async () => {
    const laptop = await signUp('reset@example.com');
    const { secret } = await enrolTotp(server, laptop, clock);
    const client = new TestClient(server.url);
    const known = await client.post('/api/v1/password/forgot', { email: 'reset@example.com' });
    const unknown = await client.post('/api/v1/password/forgot', { email: 'ghost@example.com' });
    assert.deepEqual([known.status, known.body], [unknown.status, unknown.body]);
    assert.equal(known.status, 202);
    assert.match((await mailMatching(server, 'ghost@example.com', /Password reset at/)).text, /no account/);
    const token = tokenIn(await mailMatching(server, 'reset@example.com', /Reset your/), '/password/reset');

    const weak = await client.post('/api/v1/password/reset', { token, password: 'reset@example.com' });
    assert.equal(weak.body.error.code, 'weak_password');
    const NEW = 'a brand new passphrase';
    const reset = await client.post('/api/v1/password/reset', { token, password: NEW });
    assert.equal(reset.status, 200, reset.text);
    assert.deepEqual(reset.body, { status: 'password_reset' });
    assert.equal(client.cookies.size, 0, 'no session was started');
    assert.equal(
      (await client.post('/api/v1/password/reset', { token, password: NEW })).status,
      400,
      'single use',
    );
    assert.equal((await laptop.get('/api/v1/session')).status, 401, 'the other sessions ended');
    await mailMatching(server, 'reset@example.com', /Security change/, /password was reset/);

    assert.equal(
      (
        await new TestClient(server.url).post('/api/v1/password/sign-in', {
          email: 'reset@example.com',
          password: PASSWORD,
        })
      ).status,
      401,
    );
    // The reset did not bypass the second factor.
    const next = new TestClient(server.url);
    const first = await next.post('/api/v1/password/sign-in', { email: 'reset@example.com', password: NEW });
    assert.equal(first.body.mfa_required, true);
    assert.equal((await next.post('/api/v1/mfa/verify', { code: currentCode(server, secret) })).status, 200);
  });

  test('a reset from a browser signed in to the account keeps that browser signed in; the notice says every other device was signed out', async () => {
    const laptop = await signUp('keep@example.com');
    const phone = new TestClient(server.url);
    assert.equal(
      (await phone.post('/api/v1/password/sign-in', { email: 'keep@example.com', password: PASSWORD }))
        .status,
      200,
    );
    assert.equal((await laptop.post('/api/v1/password/forgot', { email: 'keep@example.com' })).status, 202);
    const token = tokenIn(await mailMatching(server, 'keep@example.com', /Reset your/), '/password/reset');
    const reset = await laptop.post('/api/v1/password/reset', { token, password: 'a brand new passphrase' });
    assert.equal(reset.status, 200, reset.text);
    assert.equal((await laptop.get('/api/v1/session')).status, 200, 'the resetting browser stays signed in');
    assert.equal((await phone.get('/api/v1/session')).status, 401, 'every other device was signed out');
    const notice = await mailMatching(server, 'keep@example.com', /Security change/, /password was reset/);
    assert.match(notice.text, /Every other device was signed out\./);
    assert.doesNotMatch(notice.text, /Every device was signed out/);
  });

  test('the hosted pages give the minimum and recommend 15 characters or more', async () => {
    const hint = /At least 8 characters; 15 or more is better\. A few unrelated words work well/;
    const visitor = new TestClient(server.url);
    assert.match((await visitor.get('/sign-up')).text, hint, 'sign-up');
    assert.match((await visitor.get('/password/reset')).text, hint, 'reset link page');
    const owner = await signUp('hint@example.com');
    const account = await owner.get('/account');
    assert.equal(account.status, 200);
    assert.match(account.text, hint, 'password change on /account');
  });

  test('change: step-up, the current password, the policy; other sessions end and the owner is mailed', async () => {
    const client = await signUp('change@example.com');
    const other = new TestClient(server.url);
    assert.equal(
      (await other.post('/api/v1/password/sign-in', { email: 'change@example.com', password: PASSWORD }))
        .status,
      200,
    );
    const wrong = await client.post('/api/v1/password/change', {
      currentPassword: 'nope',
      newPassword: 'another fine passphrase',
    });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.body.error.code, 'invalid_credentials');
    const weak = await client.post('/api/v1/password/change', {
      currentPassword: PASSWORD,
      newPassword: '12345678',
    });
    assert.equal(weak.body.error.code, 'weak_password');
    const changed = await client.post('/api/v1/password/change', {
      currentPassword: PASSWORD,
      newPassword: 'another fine passphrase',
    });
    assert.equal(changed.status, 200, changed.text);
    assert.equal((await other.get('/api/v1/session')).status, 401);
    assert.equal((await client.get('/api/v1/session')).status, 200);
    await mailMatching(server, 'change@example.com', /Security change/, /password was changed/);
    clock.advance(server.services.config.mfa.stepUpMaxAgeMs + 1);
    const stale = await client.post('/api/v1/password/change', {
      currentPassword: 'another fine passphrase',
      newPassword: 'yet another passphrase',
    });
    assert.equal(stale.body.error.code, 'step_up_required');
    assert.deepEqual(stale.body.error.methods, ['email', 'password']);
    const reauth = await client.post('/api/v1/reauth/password', { password: 'another fine passphrase' });
    assert.equal(reauth.status, 200);
    assert.deepEqual(reauth.body.session.amr, ['pwd']);
  });
});
