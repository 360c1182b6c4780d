import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { TestClient } from '../support/http-client.ts';
import { liftedRateLimits } from '../support/limits.ts';
import { readSignInMail, startGatehouse, TestClock, type TestServer } from '../support/server.ts';
import { alternate, describeSamples, mannWhitneyZ, median, Z_LIMIT } from '../support/timing.ts';

async function requestMail(
  server: TestServer,
  client: TestClient,
  email: string,
  extra: Record<string, unknown> = {},
  mailbox = email,
) {
  const before = (await server.services.stores.devMailbox.list({ to: mailbox, limit: 1 }))[0]?.id;
  const response = await client.post('/api/v1/email/sign-in', { email, ...extra });
  assert.equal(response.status, 202, response.text);
  for (let i = 0; i < 250; i++) {
    const [latest] = await server.services.stores.devMailbox.list({ to: mailbox, limit: 1 });
    if (latest && latest.id !== before) return { response, mail: latest };
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error('no mail arrived');
}

describe('continue with email', () => {
  let server: TestServer;
  const clock = new TestClock();
  before(async () => {
    server = await startGatehouse({}, { clock });
  });
  after(() => server.close());

  test('the link signs in once, creates the account on first use, and finds it the second time', async () => {
    const client = new TestClient(server.url);
    const { mail } = await requestMail(server, client, 'first@example.com');
    const { token } = readSignInMail(mail);
    const first = await client.post('/api/v1/email/verify', { token });
    assert.equal(first.status, 200);
    assert.equal(first.body.created, true);
    assert.equal(first.body.user.email, 'first@example.com');
    assert.equal(first.body.user.emailVerified, true);
    assert.deepEqual(first.body.session.amr, ['otp']);

    const replay = await new TestClient(server.url).post('/api/v1/email/verify', { token });
    assert.equal(replay.status, 400);
    assert.equal(replay.body.error.code, 'invalid_or_expired');

    const again = readSignInMail((await requestMail(server, client, 'first@example.com')).mail);
    const second = await client.post('/api/v1/email/verify', { token: again.token });
    assert.equal(second.body.created, false);
    assert.equal(second.body.user.id, first.body.user.id);
  });

  test('the code works once, only in the browser that asked for it', async () => {
    const asking = new TestClient(server.url);
    const { mail } = await requestMail(server, asking, 'code@example.com');
    const { code } = readSignInMail(mail);
    const elsewhere = new TestClient(server.url);
    const stolen = await elsewhere.post('/api/v1/email/verify', { email: 'code@example.com', code });
    assert.equal(stolen.status, 400);
    assert.equal(stolen.body.error.code, 'invalid_code');
    const ok = await asking.post('/api/v1/email/verify', { email: 'code@example.com', code });
    assert.equal(ok.status, 200, ok.text);
    const replay = await asking.post('/api/v1/email/verify', { email: 'code@example.com', code });
    assert.equal(replay.status, 400);
  });

  test('wrong codes are capped: after the limit even the right code fails', async () => {
    const client = new TestClient(server.url);
    const { mail } = await requestMail(server, client, 'guess@example.com');
    const { code } = readSignInMail(mail);
    const wrong = code === '000000' ? '111111' : '000000';
    for (let i = 0; i < server.services.config.emailAuth.maxCodeAttempts; i++) {
      const attempt = await client.post('/api/v1/email/verify', { email: 'guess@example.com', code: wrong });
      assert.equal(attempt.status, 400);
    }
    const right = await client.post('/api/v1/email/verify', { email: 'guess@example.com', code });
    assert.equal(right.status, 400);
  });

  test('using one link kills every other outstanding link and code for the address', async () => {
    const client = new TestClient(server.url);
    const older = readSignInMail((await requestMail(server, client, 'many@example.com')).mail);
    const newer = readSignInMail((await requestMail(server, client, 'many@example.com')).mail);
    assert.equal(
      (await new TestClient(server.url).post('/api/v1/email/verify', { token: newer.token })).status,
      200,
    );
    assert.equal(
      (await new TestClient(server.url).post('/api/v1/email/verify', { token: older.token })).status,
      400,
    );
    const code = await client.post('/api/v1/email/verify', { email: 'many@example.com', code: newer.code });
    assert.equal(code.status, 400);
  });

  test('links expire after 15 minutes', async () => {
    const client = new TestClient(server.url);
    const { token } = readSignInMail((await requestMail(server, client, 'late@example.com')).mail);
    clock.advance(15 * 60_000 + 1);
    const late = await client.post('/api/v1/email/verify', { token });
    assert.equal(late.status, 400);
    assert.equal(late.body.error.code, 'invalid_or_expired');
  });

  test('secrets are stored only as hashes', async () => {
    const client = new TestClient(server.url);
    const { token, code } = readSignInMail((await requestMail(server, client, 'hash@example.com')).mail);
    const rows = await server.services.database.db.selectFrom('email_challenges').selectAll().execute();
    assert.ok(rows.length > 0);
    for (const row of rows) {
      for (const value of Object.values(row)) {
        assert.notEqual(value, code);
        assert.ok(!String(value).includes(token));
      }
    }
    const outbox = JSON.stringify(
      await server.services.database.db.selectFrom('mail_outbox').selectAll().execute(),
    );
    assert.ok(!outbox.includes(token), 'queued mail is encrypted at rest');
  });

  test('addresses are validated and normalised; lists and header injection are refused', async () => {
    const client = new TestClient(server.url);
    for (const bad of [
      'not-an-address',
      'a@b',
      'x@example.com, y@example.com',
      'x@example.com\r\nBcc: y@example.com',
      '<x@example.com>',
      '',
    ]) {
      const response = await client.post('/api/v1/email/sign-in', { email: bad });
      assert.equal(response.status, 400, bad);
      assert.equal(response.body.error.code, 'validation_failed');
    }
    const { mail } = await requestMail(
      server,
      client,
      'Mixed.Case@EXAMPLE.Com',
      {},
      'Mixed.Case@example.com',
    );
    assert.equal(mail.to, 'Mixed.Case@example.com');
  });

  test('an unsafe redirectTo is refused before any mail is sent', async () => {
    const client = new TestClient(server.url);
    for (const target of [
      '//evil.example',
      '/\\evil.example',
      'https://trusted@evil.example',
      'javascript:alert(1)',
      'https://evil.example/',
    ]) {
      const response = await client.post('/api/v1/email/sign-in', {
        email: 'redirect@example.com',
        redirectTo: target,
      });
      assert.equal(response.status, 400, target);
      assert.equal(response.body.error.code, 'redirect_refused');
    }
    const { mail } = await requestMail(server, client, 'redirect@example.com', {
      redirectTo: '/account?tab=passkeys',
    });
    const verified = await client.post('/api/v1/email/verify', { token: readSignInMail(mail).token });
    assert.equal(verified.body.redirectTo, `${server.url}/account?tab=passkeys`);
  });
});

describe('no user enumeration', () => {
  const PAIRS = 60;
  const WARM_UP = 8;
  let server: TestServer;
  before(async () => {
    server = await startGatehouse(liftedRateLimits());
    await server.services.users.signInByVerifiedEmail('known@example.com');
    // One account per timed request, as there is one fresh unknown address per request: asking
    // twice for the same address spends its mail budget, and a request over budget skips the
    // mail — a difference between the samples that has nothing to do with the account existing.
    for (let i = 0; i < PAIRS + WARM_UP; i++)
      await server.services.users.signInByVerifiedEmail(`known${i}@example.com`);
  });
  after(() => server.close());

  test('known and unknown addresses get the same status, body and cookies', async () => {
    const known = await new TestClient(server.url).post('/api/v1/email/sign-in', {
      email: 'known@example.com',
    });
    const unknown = await new TestClient(server.url).post('/api/v1/email/sign-in', {
      email: 'unknown@example.com',
    });
    assert.equal(known.status, 202);
    assert.equal(unknown.status, known.status);
    assert.equal(unknown.text, known.text);
    const cookieNames = (r: typeof known) =>
      r.headers
        .getSetCookie()
        .map((c) => c.split('=')[0])
        .sort();
    assert.deepEqual(cookieNames(unknown), cookieNames(known));
  });

  test('…and the same time, within noise', async () => {
    // Method in test/support/timing.ts. Both paths look the address up, write a challenge and
    // queue one sealed mail; without that control the unknown path's gap is the whole write.
    const client = new TestClient(server.url);
    const counters = { known: 0, unknown: 0 };
    const ask = (kind: 'known' | 'unknown') => () =>
      client
        .post('/api/v1/email/sign-in', {
          email:
            kind === 'known'
              ? `known${counters.known++}@example.com`
              : `nobody${counters.unknown++}@example.com`,
        })
        .then((response) => assert.equal(response.status, 202));
    const samples = await alternate(ask('known'), ask('unknown'), { pairs: PAIRS, warmUp: WARM_UP });
    const z = mannWhitneyZ(samples.known, samples.unknown);
    const gap = Math.abs(median(samples.known) - median(samples.unknown));
    const report = describeSamples(samples, z);
    assert.ok(Math.abs(z) < Z_LIMIT, report);
    assert.ok(gap < median(samples.known) / 4, report);
  });
});

describe('closed sign-up', () => {
  let server: TestServer;
  before(async () => {
    server = await startGatehouse({ signUp: 'closed' });
    await server.services.users.signInByVerifiedEmail('member@example.com');
  });
  after(() => server.close());

  test('unknown addresses get a "no account" mail and the same 202', async () => {
    const client = new TestClient(server.url);
    const member = await client.post('/api/v1/email/sign-in', { email: 'member@example.com' });
    const stranger = await client.post('/api/v1/email/sign-in', { email: 'stranger@example.com' });
    assert.equal(stranger.status, 202);
    assert.equal(stranger.text, member.text);
    const mail = await server.latestMail('stranger@example.com');
    assert.match(mail.subject, /Sign-in attempt/);
    assert.doesNotMatch(mail.text, /verify#token=/);
    assert.equal(await server.services.users.findByEmail('stranger@example.com'), undefined);
    const memberMail = await server.latestMail('member@example.com');
    assert.match(memberMail.text, /verify#token=/);
  });
});
