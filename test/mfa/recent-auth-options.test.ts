/**
 * requireRecentAuth's options (src/http/step-up.ts): `maxAgeMs` replaces the configured step-up
 * age and `factors` adds amr values the session must carry. No Gatehouse route passes them yet,
 * so this test mounts one of its own on a real Gatehouse's app (before its first request, after
 * the app's middleware) and drives it over HTTP like any other route.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { requireRecentAuth } from '../../src/http/step-up.ts';
import { TestClient } from '../support/http-client.ts';
import { liftedRateLimits } from '../support/limits.ts';
import { startGatehouse, TestClock, type TestServer } from '../support/server.ts';
import { signInWithEmail } from '../support/sign-in.ts';
import { SoftAuthenticator } from '../support/soft-authenticator.ts';

const GUARDED = '/test-only/recent-possession';

describe('requireRecentAuth options: maxAgeMs and factors', () => {
  let server: TestServer;
  const clock = new TestClock();
  before(async () => {
    server = await startGatehouse(liftedRateLimits(), { clock });
    // Test-only route: one second, and proof of possession of a key (a passkey).
    server.gatehouse.app.post(GUARDED, async (c) => {
      const { session } = await requireRecentAuth(c, { maxAgeMs: 1000, factors: ['pop'] });
      return c.json({ amr: session.amr });
    });
  });
  after(() => server.close());

  test('a route asking for pop within one second: refuses a fresh email session, admits a passkey re-authentication, refuses it again 1.1 s later', async () => {
    const client = new TestClient(server.url);
    assert.equal((await client.post(GUARDED)).status, 401, 'signed out');
    await signInWithEmail(server, client, 'possession@example.com');

    // Fresh (well within one second), but email proves no key: the added factor is asked for.
    const emailOnly = await client.post(GUARDED);
    assert.equal(emailOnly.status, 403, emailOnly.text);
    assert.deepEqual(emailOnly.body.error, {
      code: 'step_up_required',
      message: emailOnly.body.error.message,
      maxAge: 1,
      factors: ['pop'],
      methods: ['email'],
      secondFactor: null,
    });

    // The default step-up age still admits the same session on Gatehouse's own routes.
    const options = await client.post('/api/v1/passkeys/register/options');
    assert.equal(options.status, 200, options.text);
    const authenticator = new SoftAuthenticator({ origin: server.origin });
    const registered = await client.post('/api/v1/passkeys/register/verify', {
      response: await authenticator.register(options.body),
    });
    assert.equal(registered.status, 201, registered.text);
    const stillEmail = await client.post(GUARDED);
    assert.equal(stillEmail.status, 403, 'registering a passkey is not re-authenticating with it');
    assert.deepEqual(stillEmail.body.error.methods, ['passkey', 'email']);
    assert.deepEqual(stillEmail.body.error.factors, ['pop']);

    const reauthOptions = await client.post('/api/v1/reauth/passkey/options');
    assert.equal(reauthOptions.status, 200, reauthOptions.text);
    const reauth = await client.post('/api/v1/reauth/passkey/verify', {
      response: await authenticator.authenticate(reauthOptions.body),
    });
    assert.equal(reauth.status, 200, reauth.text);
    assert.ok(reauth.body.session.amr.includes('pop'));

    const admitted = await client.post(GUARDED);
    assert.equal(admitted.status, 200, admitted.text);
    assert.ok(admitted.body.amr.includes('pop'));
    clock.advance(1000);
    assert.equal((await client.post(GUARDED)).status, 200, 'exactly maxAgeMs old still counts');

    clock.advance(100);
    const stale = await client.post(GUARDED);
    assert.equal(stale.status, 403, stale.text);
    assert.deepEqual(stale.body.error, {
      code: 'step_up_required',
      message: stale.body.error.message,
      maxAge: 1,
      factors: ['pop'],
      methods: ['passkey', 'email'],
      secondFactor: null,
    });
    // The configured step-up age (minutes) is not what refused it: the same session still does
    // sensitive things elsewhere.
    assert.equal((await client.post('/api/v1/passkeys/register/options')).status, 200);
  });
});
