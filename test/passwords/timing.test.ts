/**
 * No enumeration by timing (DESIGN §4, issue #3): password sign-in and "forgot password" take
 * the same time for an address with an account and one without.
 *
 * Method (test/support/timing.ts): requests for the two kinds of address alternate after a
 * warm-up and are compared with a Mann–Whitney U test and by the gap between medians.
 * Both must be small: |z| below Z_LIMIT, and the median gap below a fraction of what the
 * missing work would cost. Without the controls the gap is that whole cost — an argon2
 * verification for sign-in, a sealed queued mail for "forgot" — and the test fails (checked:
 * z ≈ 9 for both with the control removed).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { PasswordHasher } from '../../src/domain/passwords/password-hasher.ts';
import { TestClient } from '../support/http-client.ts';
import { startGatehouse, type TestServer } from '../support/server.ts';
import { liftedRateLimits } from '../support/limits.ts';
import { alternate, describeSamples, mannWhitneyZ, median, timed, Z_LIMIT } from '../support/timing.ts';

describe('no enumeration by timing', () => {
  let server: TestServer;
  let hasher: PasswordHasher;
  let stored: string;
  before(async () => {
    server = await startGatehouse({ ...liftedRateLimits(), passwords: { enabled: true } });
    hasher = new PasswordHasher(server.services.config.passwords.argon2);
    stored = await hasher.hash('the real password of this account');
    const { user } = await server.services.users.signInByVerifiedEmail('timing@example.com');
    await server.services.stores.passwords.set(user.id, stored, 0);
  });
  after(() => server.close());

  test('password sign-in: an unknown address costs the same argon2 work as a known one', async () => {
    const client = new TestClient(server.url);
    const attempt = (email: string) => () =>
      client.post('/api/v1/password/sign-in', { email, password: 'not the password at all' }).then((r) => {
        assert.equal(r.status, 401);
      });
    // The cost of the work the control adds: one argon2 verification, measured in this run.
    const verifications: number[] = [];
    for (let i = 0; i < 5; i++)
      verifications.push(await timed(() => hasher.verify(stored, 'not the password')));
    const hashMs = median(verifications);
    const samples = await alternate(attempt('timing@example.com'), attempt('nobody-here@example.com'));
    const z = mannWhitneyZ(samples.known, samples.unknown);
    const gap = Math.abs(median(samples.known) - median(samples.unknown));
    const report = `${describeSamples(samples, z)} argon2=${hashMs.toFixed(2)} ms`;
    assert.ok(Math.abs(z) < Z_LIMIT, report);
    assert.ok(gap < hashMs / 4, report);
  });

  test('forgot password: a known and an unknown address cost the same writes', async () => {
    const client = new TestClient(server.url);
    const ask = (email: string) => () =>
      client.post('/api/v1/password/forgot', { email }).then((r) => {
        assert.equal(r.status, 202);
      });
    const samples = await alternate(ask('timing@example.com'), ask('nobody-here@example.com'));
    const z = mannWhitneyZ(samples.known, samples.unknown);
    const gap = Math.abs(median(samples.known) - median(samples.unknown));
    const report = describeSamples(samples, z);
    assert.ok(Math.abs(z) < Z_LIMIT, report);
    // A quarter of the request: far below the sealed mail and token write the control adds,
    // and above the scheduling noise of a shared machine (z decides significance).
    assert.ok(gap < median(samples.known) / 4, report);
  });
});
