/**
 * Second factors over HTTP (issue #3): TOTP enrolment, the half-authenticated session that
 * authorizes nothing but completing the second factor, each code accepted once, recovery codes,
 * the failure limit, and the factor policy for passkeys with and without user verification.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { secretFromBase32, totpCode } from '../../src/domain/mfa/totp.ts';
import { SESSION_COOKIE } from '../../src/http/cookies.ts';
import { TestClient } from '../support/http-client.ts';
import { currentCode, enrolTotp } from '../support/mfa.ts';
import { startGatehouse, TestClock, type TestServer } from '../support/server.ts';
import { liftedRateLimits } from '../support/limits.ts';
import { mailMatching } from '../support/mail.ts';
import { emailFirstFactor, signInWithEmail } from '../support/sign-in.ts';
import { SoftAuthenticator } from '../support/soft-authenticator.ts';

/** Continue with email through the link; returns the verify answer (signed in or mfa_required). */

describe('second factors', () => {
  let server: TestServer;
  const clock = new TestClock();

  before(async () => {
    server = await startGatehouse(liftedRateLimits(), { clock });
  });
  after(() => server.close());

  test('enrolment: secret sealed at rest, otpauth URL and QR, confirmed by a code, 10 recovery codes hashed', async () => {
    const client = new TestClient(server.url);
    assert.equal((await client.post('/api/v1/mfa/totp/setup')).status, 401);
    const userId = await signInWithEmail(server, client, 'enrol@example.com');

    const setup = await client.post('/api/v1/mfa/totp/setup');
    assert.equal(setup.status, 200, setup.text);
    assert.equal(setup.headers.get('cache-control'), 'no-store');
    assert.match(setup.body.secret, /^[A-Z2-7]{32}$/, '160-bit base32 secret');
    const uri = new URL(setup.body.uri);
    assert.equal(uri.protocol, 'otpauth:');
    assert.equal(uri.searchParams.get('secret'), setup.body.secret);
    assert.equal(uri.searchParams.get('issuer'), 'Gatehouse');
    assert.match(decodeURIComponent(uri.pathname), /enrol@example\.com/);
    assert.match(setup.body.qrSvg, /^<svg [^>]*>.*<\/svg>$/s);
    const row = await server.services.database.db
      .selectFrom('totp_credentials')
      .selectAll()
      .executeTakeFirstOrThrow();
    assert.ok(!row.secret_sealed.includes(setup.body.secret), 'the secret is not stored in the clear');
    assert.equal(row.confirmed_at, null);

    const wrong = await client.post('/api/v1/mfa/totp/confirm', { code: '000000' });
    assert.equal(wrong.status, 400);
    assert.equal(wrong.body.error.code, 'invalid_code');
    assert.equal((await client.get('/api/v1/mfa')).body.totp, false);

    const confirmed = await client.post('/api/v1/mfa/totp/confirm', {
      code: currentCode(server, setup.body.secret),
    });
    assert.equal(confirmed.status, 200, confirmed.text);
    const codes: string[] = confirmed.body.recoveryCodes;
    assert.equal(codes.length, 10);
    assert.equal(new Set(codes).size, 10);
    for (const code of codes) assert.match(code, /^([a-z2-7]{4}-){5}[a-z2-7]{4}$/, '120 bits each');
    const stored = await server.services.database.db.selectFrom('recovery_codes').selectAll().execute();
    assert.equal(stored.length, 10);
    const dump = JSON.stringify(stored);
    for (const code of codes) assert.ok(!dump.includes(code) && !dump.includes(code.replaceAll('-', '')));
    assert.deepEqual((await client.get('/api/v1/mfa')).body, { totp: true, recoveryCodesLeft: 10 });

    // A working authenticator is never replaced by a new enrolment.
    const again = await client.post('/api/v1/mfa/totp/setup');
    assert.equal(again.status, 409);
    assert.equal(again.body.error.code, 'totp_already_enrolled');
    const notice = await mailMatching(
      server,
      'enrol@example.com',
      /Security change/,
      /authenticator app was set up/,
    );
    // Like every security notice: when, from which device and which address.
    assert.match(
      notice.text,
      /When: \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC · Device: Chrome on Linux · IP address: 127\.0\.0\.1/,
    );
    const events = await server.services.stores.audit.list({ userId, limit: 20 });
    assert.ok(events.some((e) => e.type === 'mfa.totp_enabled' && e.outcome === 'success'));
  });

  test('a half-authenticated session authorizes nothing but the second factor, then a new token carries both', async () => {
    const setupClient = new TestClient(server.url);
    await signInWithEmail(server, setupClient, 'half@example.com');
    const { secret } = await enrolTotp(server, setupClient, clock);

    const client = new TestClient(server.url);
    const first = await emailFirstFactor(server, client, 'half@example.com');
    assert.equal(first.status, 200, first.text);
    assert.deepEqual(first.body, { mfa_required: true, enrol: false, redirectTo: null });
    const pendingToken = client.cookies.get(SESSION_COOKIE);
    assert.ok(pendingToken, 'a half-authenticated session cookie is set');

    const session = await client.get('/api/v1/session');
    assert.equal(session.status, 401);
    assert.equal(session.body.error.code, 'mfa_required');
    for (const [method, path] of [
      ['GET', '/api/v1/me'],
      ['GET', '/api/v1/sessions'],
      ['GET', '/api/v1/passkeys'],
      ['GET', '/api/v1/mfa'],
      ['POST', '/api/v1/passkeys/register/options'],
      ['POST', '/api/v1/mfa/recovery-codes'],
      ['POST', '/api/v1/mfa/totp/setup'],
      ['POST', '/api/v1/sessions/revoke-others'],
      ['POST', '/api/v1/reauth/email'],
      ['DELETE', '/api/v1/mfa/totp'],
      ['DELETE', '/api/v1/me'],
    ] as const) {
      const response = await client.request(
        method,
        path,
        method === 'GET' || method === 'DELETE' ? undefined : {},
      );
      assert.equal(response.status, 401, `${method} ${path}`);
      assert.ok(['mfa_required', 'unauthenticated'].includes(response.body.error.code), `${method} ${path}`);
    }
    // Pages treat it as signed out.
    const page = await client.get('/account');
    assert.equal(page.status, 302);
    assert.match(page.headers.get('location') ?? '', /^\/sign-in/);

    const verified = await client.post('/api/v1/mfa/verify', { code: currentCode(server, secret) });
    assert.equal(verified.status, 200, verified.text);
    assert.deepEqual([...verified.body.session.amr].sort(), ['mfa', 'otp']);
    const fullToken = client.cookies.get(SESSION_COOKIE);
    assert.notEqual(fullToken, pendingToken, 'completing the second factor issues a new token');
    assert.equal((await client.get('/api/v1/session')).status, 200);
    const stale = new TestClient(server.url);
    stale.cookies.set(SESSION_COOKIE, pendingToken);
    assert.equal((await stale.get('/api/v1/session')).status, 401, 'the half-authenticated token is dead');
    assert.equal((await stale.post('/api/v1/mfa/verify', { code: '123456' })).status, 401);
  });

  test('each code works once, ±1 step of drift is tolerated, and codes go only forward', async () => {
    const owner = new TestClient(server.url);
    await signInWithEmail(server, owner, 'once@example.com');
    const { secret } = await enrolTotp(server, owner, clock);
    const code = currentCode(server, secret);

    const a = new TestClient(server.url);
    const b = new TestClient(server.url);
    await emailFirstFactor(server, a, 'once@example.com');
    await emailFirstFactor(server, b, 'once@example.com');
    // Two sessions racing with the same code: exactly one wins.
    const results = await Promise.all([a, b].map((client) => client.post('/api/v1/mfa/verify', { code })));
    assert.deepEqual(results.map((r) => r.status).sort(), [200, 400]);

    // The code of the previous step (a slow phone) still works once the clock moved on…
    const c = new TestClient(server.url);
    clock.advance(60_000);
    await emailFirstFactor(server, c, 'once@example.com');
    const previous = totpCode(secretFromBase32(secret), clock.now() - 30_000);
    assert.equal((await c.post('/api/v1/mfa/verify', { code: previous })).status, 200);
    // …but after a later code was used, an earlier one is refused, and two steps away never works.
    const d = new TestClient(server.url);
    await emailFirstFactor(server, d, 'once@example.com');
    assert.equal(
      (await d.post('/api/v1/mfa/verify', { code: totpCode(secretFromBase32(secret), clock.now() - 60_000) }))
        .status,
      400,
    );
    clock.advance(30_000);
    assert.equal(
      (await d.post('/api/v1/mfa/verify', { code: totpCode(secretFromBase32(secret), clock.now() + 60_000) }))
        .status,
      400,
    );
    assert.equal((await d.post('/api/v1/mfa/verify', { code: currentCode(server, secret) })).status, 200);
  });

  test('wrong codes end the half-authenticated session at the limit; it also expires on its own', async () => {
    const owner = new TestClient(server.url);
    await signInWithEmail(server, owner, 'guess@example.com');
    const { secret } = await enrolTotp(server, owner, clock);
    const { maxFailures, pendingLifetimeMs } = server.services.config.mfa;

    const guesser = new TestClient(server.url);
    await emailFirstFactor(server, guesser, 'guess@example.com');
    for (let i = 1; i < maxFailures; i++) {
      const wrong = await guesser.post('/api/v1/mfa/verify', { code: '000000' });
      assert.equal(wrong.body.error.code, 'invalid_code', `attempt ${i}`);
    }
    const last = await guesser.post('/api/v1/mfa/verify', { code: '000000' });
    assert.equal(last.status, 401);
    assert.equal(last.body.error.code, 'unauthenticated');
    // Even the right code is too late now.
    assert.equal(
      (await guesser.post('/api/v1/mfa/verify', { code: currentCode(server, secret) })).status,
      401,
    );

    const slow = new TestClient(server.url);
    await emailFirstFactor(server, slow, 'guess@example.com');
    clock.advance(pendingLifetimeMs + 1);
    assert.equal((await slow.post('/api/v1/mfa/verify', { code: currentCode(server, secret) })).status, 401);
  });

  test('recovery codes: sign in once each, any case or spacing, the owner is mailed; step-up to regenerate', async () => {
    const owner = new TestClient(server.url);
    const userId = await signInWithEmail(server, owner, 'lost-phone@example.com');
    const { recoveryCodes } = await enrolTotp(server, owner, clock);

    const client = new TestClient(server.url);
    await emailFirstFactor(server, client, 'lost-phone@example.com');
    const typed = recoveryCodes[0]?.toUpperCase().replaceAll('-', ' ') ?? '';
    const used = await client.post('/api/v1/mfa/verify', { recoveryCode: typed });
    assert.equal(used.status, 200, used.text);
    assert.ok(used.body.session.amr.includes('mfa'));
    const notice = await mailMatching(
      server,
      'lost-phone@example.com',
      /Security change/,
      /recovery code was used/,
    );
    assert.match(notice.text, /9 unused recovery codes left/);

    const again = new TestClient(server.url);
    await emailFirstFactor(server, again, 'lost-phone@example.com');
    assert.equal(
      (await again.post('/api/v1/mfa/verify', { recoveryCode: recoveryCodes[0] })).status,
      400,
      'single use',
    );
    assert.equal((await again.post('/api/v1/mfa/verify', { recoveryCode: 'not-a-code' })).status, 400);

    // Regenerating is sensitive: a session older than the step-up window must re-authenticate.
    clock.advance(server.services.config.mfa.stepUpMaxAgeMs + 1);
    const stale = await owner.post('/api/v1/mfa/recovery-codes');
    assert.equal(stale.status, 403);
    assert.equal(stale.body.error.code, 'step_up_required');
    assert.deepEqual(stale.body.error.factors, ['mfa']);
    assert.equal(stale.body.error.secondFactor, 'totp');
    const fresh = new TestClient(server.url);
    await emailFirstFactor(server, fresh, 'lost-phone@example.com');
    const recovered = await fresh.post('/api/v1/mfa/verify', { recoveryCode: recoveryCodes[1] });
    assert.equal(recovered.status, 200);
    const regenerated = await fresh.post('/api/v1/mfa/recovery-codes');
    assert.equal(regenerated.status, 200, regenerated.text);
    assert.equal(regenerated.body.recoveryCodes.length, 10);
    const later = new TestClient(server.url);
    await emailFirstFactor(server, later, 'lost-phone@example.com');
    assert.equal(
      (await later.post('/api/v1/mfa/verify', { recoveryCode: recoveryCodes[2] })).status,
      400,
      'old set is dead',
    );
    assert.equal(
      (await later.post('/api/v1/mfa/verify', { recoveryCode: regenerated.body.recoveryCodes[0] })).status,
      200,
    );
    const types = (await server.services.stores.audit.list({ userId, limit: 50 })).map((e) => e.type);
    assert.ok(types.includes('mfa.recovery_code_used'));
    assert.ok(types.includes('mfa.recovery_codes_generated'));
  });

  test('regenerating the recovery codes mails the owner a notice, without the codes', async () => {
    const owner = new TestClient(server.url);
    await signInWithEmail(server, owner, 'new-codes@example.com');
    const { secret } = await enrolTotp(server, owner, clock);
    const generated = /new set of recovery codes was generated/;
    const notices = async () =>
      (await server.services.stores.devMailbox.list({ to: 'new-codes@example.com', limit: 50 })).filter(
        (message) => /Security change/.test(message.subject) && generated.test(message.text),
      );
    await mailMatching(server, 'new-codes@example.com', /Security change/, /authenticator app was set up/);
    assert.equal((await notices()).length, 0, 'setting up the authenticator is a notice of its own');

    const fresh = new TestClient(server.url);
    await emailFirstFactor(server, fresh, 'new-codes@example.com');
    assert.equal((await fresh.post('/api/v1/mfa/verify', { code: currentCode(server, secret) })).status, 200);
    const regenerated = await fresh.post('/api/v1/mfa/recovery-codes');
    assert.equal(regenerated.status, 200, regenerated.text);
    const notice = await mailMatching(server, 'new-codes@example.com', /Security change/, generated);
    assert.match(notice.text, /old codes no longer work/);
    for (const code of regenerated.body.recoveryCodes as string[]) {
      assert.ok(!notice.text.includes(code), 'the mail carries no code');
    }
    assert.equal((await notices()).length, 1);
  });

  test('removing the authenticator (step-up) drops it and its recovery codes; sign-in is one factor again', async () => {
    const client = new TestClient(server.url);
    await signInWithEmail(server, client, 'remove@example.com');
    await enrolTotp(server, client, clock);
    const removed = await client.delete('/api/v1/mfa/totp');
    assert.equal(removed.status, 204);
    assert.deepEqual((await client.get('/api/v1/mfa')).body, { totp: false, recoveryCodesLeft: 0 });
    await mailMatching(server, 'remove@example.com', /Security change/, /authenticator app was removed/);
    const next = await emailFirstFactor(server, new TestClient(server.url), 'remove@example.com');
    assert.ok(next.body.user, 'signed in with email alone');
  });

  test('factor policy: a passkey that verified the user is enough; one that did not needs the second factor', async () => {
    const client = new TestClient(server.url);
    await signInWithEmail(server, client, 'keys@example.com');
    await enrolTotp(server, client, clock);
    const options = await client.post('/api/v1/passkeys/register/options');
    const phone = new SoftAuthenticator({ origin: server.origin });
    const registered = await client.post('/api/v1/passkeys/register/verify', {
      response: await phone.register(options.body),
    });
    assert.equal(registered.status, 201, registered.text);

    const withUv = new TestClient(server.url);
    const uvOptions = await withUv.post('/api/v1/passkeys/sign-in/options');
    const uv = await withUv.post('/api/v1/passkeys/sign-in/verify', {
      response: await phone.authenticate(uvOptions.body),
    });
    assert.equal(uv.status, 200);
    assert.deepEqual(uv.body.session.amr, ['pop', 'user', 'mfa']);

    // A server that lets authenticators skip user verification: a bare touch is one factor.
    const lenientClock = new TestClock();
    const lenient = await startGatehouse(
      { ...liftedRateLimits(), passkeys: { userVerification: 'preferred' } },
      { clock: lenientClock },
    );
    try {
      const owner = new TestClient(lenient.url);
      await signInWithEmail(lenient, owner, 'touch@example.com');
      const touchSecret = (await enrolTotp(lenient, owner, lenientClock)).secret;
      const key = new SoftAuthenticator({ origin: lenient.origin, userVerification: false });
      const regOptions = await owner.post('/api/v1/passkeys/register/options');
      assert.equal(
        (
          await owner.post('/api/v1/passkeys/register/verify', {
            response: await key.register(regOptions.body),
          })
        ).status,
        201,
      );
      const touch = new TestClient(lenient.url);
      const touchOptions = await touch.post('/api/v1/passkeys/sign-in/options');
      const first = await touch.post('/api/v1/passkeys/sign-in/verify', {
        response: await key.authenticate(touchOptions.body),
      });
      assert.equal(first.status, 200);
      assert.equal(first.body.mfa_required, true);
      const second = await touch.post('/api/v1/mfa/verify', { code: currentCode(lenient, touchSecret) });
      assert.equal(second.status, 200);
      assert.deepEqual([...second.body.session.amr].sort(), ['mfa', 'otp', 'pop']);
    } finally {
      await lenient.close();
    }
  });

  test('an instance that requires MFA makes a user without a second factor enrol before anything else', async () => {
    const strictClock = new TestClock();
    const strict = await startGatehouse(
      { ...liftedRateLimits(), mfa: { required: true } },
      { clock: strictClock },
    );
    try {
      const client = new TestClient(strict.url);
      const first = await emailFirstFactor(strict, client, 'new@example.com');
      assert.deepEqual(first.body, { mfa_required: true, enrol: true, redirectTo: null });
      assert.equal((await client.get('/api/v1/me')).body.error.code, 'mfa_required');
      assert.equal((await client.post('/api/v1/mfa/verify', { code: '123456' })).status, 400);
      const setup = await client.post('/api/v1/mfa/totp/setup');
      assert.equal(setup.status, 200, setup.text);
      assert.equal((await client.get('/api/v1/session')).status, 401, 'still half-authenticated');
      const confirmed = await client.post('/api/v1/mfa/totp/confirm', {
        code: currentCode(strict, setup.body.secret),
      });
      assert.equal(confirmed.status, 200, confirmed.text);
      assert.equal(confirmed.body.recoveryCodes.length, 10);
      assert.deepEqual([...confirmed.body.session.amr].sort(), ['mfa', 'otp']);
      assert.equal((await client.get('/api/v1/session')).status, 200);
    } finally {
      await strict.close();
    }
  });
});
