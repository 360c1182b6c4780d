/**
 * The argon2id parameters are configurable (passwords.argon2), never below OWASP's floor (the
 * config test checks the floor): a server with other parameters stores every new hash with
 * exactly those, and a hash made with the defaults is replaced by one with them at the next
 * successful sign-in.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { PasswordHasher } from '../../src/domain/passwords/password-hasher.ts';
import { TestClient } from '../support/http-client.ts';
import { liftedRateLimits } from '../support/limits.ts';
import { mailMatching, tokenIn } from '../support/mail.ts';
import { startGatehouse, TestClock, type TestServer } from '../support/server.ts';

const PASSWORD = 'a fairly long passphrase';
const CONFIGURED = { memoryKiB: 24_576, iterations: 3, parallelism: 1 };
const CONFIGURED_PREFIX = /^\$argon2id\$v=19\$m=24576,t=3,p=1\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/;

describe('argon2id parameters from the configuration', () => {
  let server: TestServer;
  const clock = new TestClock();
  before(async () => {
    server = await startGatehouse(
      { ...liftedRateLimits(), passwords: { enabled: true, argon2: { memoryKiB: 24_576, iterations: 3 } } },
      { clock },
    );
  });
  after(() => server.close());

  const signIn = (email: string, password = PASSWORD) =>
    new TestClient(server.url).post('/api/v1/password/sign-in', { email, password });

  test('a new password is stored with exactly the configured memory, iterations and lanes', async () => {
    assert.deepEqual(server.services.config.passwords.argon2, CONFIGURED);
    const client = new TestClient(server.url);
    assert.equal(
      (await client.post('/api/v1/password/sign-up', { email: 'fresh@example.com', password: PASSWORD }))
        .status,
      202,
    );
    const confirmed = await client.post('/api/v1/password/sign-up/confirm', {
      token: tokenIn(await mailMatching(server, 'fresh@example.com', /Confirm your/), '/password/confirm'),
    });
    assert.equal(confirmed.status, 200, confirmed.text);
    const stored = await server.services.stores.passwords.find(confirmed.body.user.id);
    assert.match(stored ?? '', CONFIGURED_PREFIX);
    assert.equal((await signIn('fresh@example.com')).status, 200);
    assert.equal(await server.services.stores.passwords.find(confirmed.body.user.id), stored, 'not rehashed');
  });

  test('a hash made with the default parameters is rehashed to the configured ones at the next sign-in', async () => {
    const client = new TestClient(server.url);
    await client.post('/api/v1/password/sign-up', { email: 'older@example.com', password: PASSWORD });
    const confirmed = await client.post('/api/v1/password/sign-up/confirm', {
      token: tokenIn(await mailMatching(server, 'older@example.com', /Confirm your/), '/password/confirm'),
    });
    const userId: string = confirmed.body.user.id;
    // As stored before the configuration raised the cost.
    const old = await new PasswordHasher({ memoryKiB: 19_456, iterations: 2, parallelism: 1 }).hash(PASSWORD);
    assert.match(old, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    await server.services.stores.passwords.set(userId, old, clock.now());

    assert.equal((await signIn('older@example.com', `${PASSWORD}!`)).status, 401);
    assert.equal(
      await server.services.stores.passwords.find(userId),
      old,
      'a failed sign-in changes nothing',
    );

    assert.equal((await signIn('older@example.com')).status, 200);
    const rehashed = await server.services.stores.passwords.find(userId);
    assert.match(rehashed ?? '', CONFIGURED_PREFIX);
    assert.equal((await signIn('older@example.com')).status, 200, 'the new hash checks');
  });
});
