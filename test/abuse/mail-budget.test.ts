/**
 * Mail budgets of continue-with-email. Per address: over budget the answer is the same 202 and
 * no mail goes out (the mail-bomb stops, nobody learns anything). Per client IP: 429, counted
 * before any lookup, so it is the same for known and unknown addresses.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { assertRefused, fromIp, limitsOf } from '../support/abuse.ts';
import { TestClient, type TestResponse } from '../support/http-client.ts';
import { startGatehouse, TestClock, type TestServer } from '../support/server.ts';

const BUDGET = 3;

async function mailCount(server: TestServer, to: string): Promise<number> {
  // The worker delivers asynchronously: wait until the outbox is empty before counting.
  for (let i = 0; i < 250; i++) {
    const { pending } = await server.services.stores.outbox.stats();
    if (pending === 0) break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return (await server.services.stores.devMailbox.list({ to, limit: 100 })).length;
}

function cookieNames(response: TestResponse): string[] {
  return response.headers
    .getSetCookie()
    .map((cookie) => cookie.split('=')[0] ?? '')
    .sort();
}

describe('mail budget per address', () => {
  let server: TestServer;
  const clock = new TestClock();
  before(async () => {
    server = await startGatehouse(
      { trustedProxies: '127.0.0.1', rateLimits: limitsOf({ mailPerAddress: BUDGET }, 15 * 60_000) },
      { clock },
    );
    await server.services.users.signInByVerifiedEmail('member@example.com');
  });
  after(() => server.close());

  test('over budget: the same 202, body and cookies, but no more mail, for known and unknown alike', async () => {
    for (const email of ['member@example.com', 'stranger@example.com']) {
      const answers: TestResponse[] = [];
      for (let n = 0; n < BUDGET + 2; n++) {
        answers.push(
          await new TestClient(server.url).post(
            '/api/v1/email/sign-in',
            { email },
            fromIp(`198.51.100.${n}`),
          ),
        );
      }
      for (const answer of answers) {
        assert.equal(answer.status, 202);
        assert.equal(answer.text, answers[0]?.text);
        assert.deepEqual(cookieNames(answer), cookieNames(answers[0] as TestResponse));
      }
      assert.equal(await mailCount(server, email), BUDGET, `${email}: mails stop at the budget`);
    }
  });

  test('case variants of an address share its budget', async () => {
    for (const email of ['Case@example.com', 'case@example.com', 'CASE@example.com', 'case@EXAMPLE.com']) {
      await new TestClient(server.url).post('/api/v1/email/sign-in', { email }, fromIp('198.51.100.77'));
    }
    const sent =
      (await mailCount(server, 'Case@example.com')) +
      (await mailCount(server, 'case@example.com')) +
      (await mailCount(server, 'CASE@example.com'));
    assert.equal(sent, BUDGET);
  });

  test('holding mail back is audited once per window', async () => {
    const events = (
      await server.services.stores.audit.list({ type: 'rate_limit.triggered', limit: 100 })
    ).filter((e) => e.details['rule'] === 'mail_per_address');
    assert.equal(events.length, 3, 'one per address above: member, stranger, case');
  });

  test('the budget comes back when its window closes', async () => {
    clock.advance(15 * 60_000);
    await new TestClient(server.url).post(
      '/api/v1/email/sign-in',
      { email: 'member@example.com' },
      fromIp('198.51.100.9'),
    );
    assert.equal(await mailCount(server, 'member@example.com'), BUDGET + 1);
  });
});

describe('mail budget per client IP', () => {
  let server: TestServer;
  before(async () => {
    server = await startGatehouse({ rateLimits: limitsOf({ perIp: 2 }) });
    await server.services.users.signInByVerifiedEmail('member@example.com');
  });
  after(() => server.close());

  test('429 once the IP has asked for its share, the same for known and unknown addresses', async () => {
    const client = new TestClient(server.url);
    assert.equal((await client.post('/api/v1/email/sign-in', { email: 'a@example.com' })).status, 202);
    assert.equal((await client.post('/api/v1/email/sign-in', { email: 'b@example.com' })).status, 202);
    const known = await client.post('/api/v1/email/sign-in', { email: 'member@example.com' });
    const unknown = await client.post('/api/v1/email/sign-in', { email: 'nobody@example.com' });
    assertRefused(known);
    assert.deepEqual([unknown.status, unknown.text], [known.status, known.text]);
    assert.equal(await mailCount(server, 'member@example.com'), 0);
  });
});

describe('mail budget with closed sign-up', () => {
  let server: TestServer;
  before(async () => {
    server = await startGatehouse({ signUp: 'closed', rateLimits: limitsOf({ mailPerAddress: 1 }) });
  });
  after(() => server.close());

  test('"no account" mails are budgeted like sign-in mails', async () => {
    for (let n = 0; n < 3; n++) {
      const response = await new TestClient(server.url).post('/api/v1/email/sign-in', {
        email: 'outsider@example.com',
      });
      assert.equal(response.status, 202);
    }
    assert.equal(await mailCount(server, 'outsider@example.com'), 1);
  });
});
