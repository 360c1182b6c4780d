import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { providerRouteLabel } from '../../src/domain/oauth-provider/oauth-provider.ts';
import { SESSION_COOKIE } from '../../src/http/cookies.ts';
import { TestClient } from '../support/http-client.ts';
import { startGatehouse, type TestServer } from '../support/server.ts';
import { signInWithEmail } from '../support/sign-in.ts';

const TOKEN = 'metrics-token-0123456789-abcdefghijklmnop';

/** The value of one sample line (`name{labels} value`), or undefined when it is not there. */
function sample(exposition: string, series: string): number | undefined {
  const line = exposition.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

async function scrape(server: TestServer): Promise<string> {
  const response = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  assert.equal(response.headers.get('cache-control'), 'no-store');
  return response.text();
}

describe('metrics: off unless a scrape token is configured', () => {
  let server: TestServer;
  before(async () => {
    server = await startGatehouse();
  });
  after(() => server.close());

  test('/metrics does not exist and nothing is counted', async () => {
    assert.equal(server.services.metrics, null);
    const response = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(response.status, 404);
  });
});

describe('metrics: GET /metrics for Prometheus', () => {
  let server: TestServer;
  before(async () => {
    server = await startGatehouse({ metricsToken: TOKEN });
  });
  after(() => server.close());

  test('refuses a scrape without the token or with another one', async () => {
    for (const authorization of [
      undefined,
      `Bearer ${TOKEN}x`,
      `Bearer ${TOKEN.slice(1)}`,
      TOKEN,
      'Basic Zm9vOmJhcg==',
    ]) {
      const response = await fetch(`${server.url}/metrics`, {
        headers: authorization ? { authorization } : {},
      });
      assert.equal(response.status, 401, `authorization: ${authorization}`);
      assert.equal(response.headers.get('www-authenticate'), 'Bearer realm="metrics"');
      assert.equal((await response.json()).error.code, 'unauthenticated');
    }
  });

  test('counts requests by route pattern and status, and times them', async () => {
    const before = await scrape(server);
    const healthz = 'gatehouse_http_requests_total{method="GET",route="/healthz",status="200"}';
    const healthzSeconds = 'gatehouse_http_request_duration_seconds_count{method="GET",route="/healthz"}';
    await fetch(`${server.url}/healthz`);
    await fetch(`${server.url}/healthz`);
    const client = new TestClient(server.url);
    const email = 'metrics@example.com';
    const userId = await signInWithEmail(server, client, email);
    assert.equal((await client.get('/api/v1/session')).status, 200);
    assert.equal((await client.delete('/api/v1/sessions/no-such-session')).status, 404);
    assert.equal((await client.get('/no/such/page-xyz')).status, 404);

    const after = await scrape(server);
    assert.equal((sample(after, healthz) ?? 0) - (sample(before, healthz) ?? 0), 2);
    assert.equal((sample(after, healthzSeconds) ?? 0) - (sample(before, healthzSeconds) ?? 0), 2);
    // The session check's fast path (session-check-fast-path.ts) is counted under its route too.
    assert.ok(
      (sample(after, 'gatehouse_http_requests_total{method="GET",route="/api/v1/session",status="200"}') ??
        0) >= 1,
    );
    // Ids and unknown paths never become labels: the pattern, or "(unmatched)".
    assert.equal(
      sample(
        after,
        'gatehouse_http_requests_total{method="DELETE",route="/api/v1/sessions/:id",status="404"}',
      ),
      1,
    );
    assert.ok(
      (sample(after, 'gatehouse_http_requests_total{method="GET",route="(unmatched)",status="404"}') ?? 0) >=
        1,
    );
    assert.doesNotMatch(after, /no-such-session|page-xyz/);
    // Refused by a middleware before its handler (cross-origin): still counted under its route.
    const crossSite = await fetch(`${server.url}/api/v1/email/sign-in`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'sec-fetch-site': 'cross-site' },
      body: JSON.stringify({ email: 'x@example.com' }),
    });
    assert.equal(crossSite.status, 403);
    const refused = await scrape(server);
    assert.equal(
      sample(
        refused,
        'gatehouse_http_requests_total{method="POST",route="/api/v1/email/sign-in",status="403"}',
      ),
      1,
    );
    // Nothing personal in any label.
    assert.ok(!after.includes(email) && !after.includes(userId));
    assert.ok(!after.includes(client.cookies.get(SESSION_COOKIE) ?? 'no cookie'));
  });

  test('counts audit events by type and outcome', async () => {
    const series = (type: string, outcome: string) =>
      `gatehouse_audit_events_total{type="${type}",outcome="${outcome}"}`;
    const before = await scrape(server);
    const client = new TestClient(server.url);
    await signInWithEmail(server, client, 'audit-metrics@example.com');
    const wrong = await client.post('/api/v1/email/verify', {
      email: 'audit-metrics@example.com',
      code: '000000',
    });
    assert.equal(wrong.status, 400);

    const after = await scrape(server);
    const delta = (name: string) => (sample(after, name) ?? 0) - (sample(before, name) ?? 0);
    assert.equal(delta(series('sign_in.email_link', 'success')), 1);
    assert.equal(delta(series('sign_in.email_code', 'failure')), 1);
    assert.equal(delta(series('user.created', 'success')), 1);
  });

  test('includes the process and runtime metrics', async () => {
    const exposition = await scrape(server);
    for (const name of [
      'process_cpu_user_seconds_total',
      'process_resident_memory_bytes',
      'nodejs_eventloop_lag_p99_seconds',
    ]) {
      assert.ok(sample(exposition, name) !== undefined, `${name} missing`);
    }
  });
});

describe('metrics: OAuth provider paths', () => {
  let server: TestServer;
  before(async () => {
    server = await startGatehouse({ metricsToken: TOKEN, oauth: { enabled: true } });
  });
  after(() => server.close());

  test('requests the provider answers are counted by endpoint', async () => {
    assert.equal((await fetch(`${server.url}/.well-known/openid-configuration`)).status, 200);
    assert.equal((await fetch(`${server.url}/oauth/jwks`)).status, 200);
    const exposition = await scrape(server);
    assert.equal(
      sample(
        exposition,
        'gatehouse_http_requests_total{method="GET",route="/.well-known/openid-configuration",status="200"}',
      ),
      1,
    );
    assert.equal(
      sample(exposition, 'gatehouse_http_requests_total{method="GET",route="/oauth/jwks",status="200"}'),
      1,
    );
  });

  test('paths with an id in them share one label', () => {
    assert.equal(providerRouteLabel('/oauth/token'), '/oauth/token');
    assert.equal(providerRouteLabel('/oauth/device/auth'), '/oauth/device/auth');
    assert.equal(providerRouteLabel('/oauth/authorize/Xq3-uid_from_the_engine'), '/oauth/*');
    assert.equal(providerRouteLabel('/oauth/logout/confirm'), '/oauth/*');
  });
});
