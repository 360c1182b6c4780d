/**
 * Rate limits on the provider's endpoints (docs/abuse-protection.md, "OAuth provider
 * endpoints"). The provider answers /oauth/… before Hono, so these are its own limits: each
 * test sets one small limit, goes past it, and checks the refusal: 429, Retry-After, the OAuth
 * error shape `{"error": "too_many_requests"}` that openid-client reads as an error response.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as client from 'openid-client';
import { TestClient } from '../support/http-client.ts';
import {
  API,
  authorizationRequest,
  discover,
  providerPost,
  SERVICE,
  startOAuthGatehouse,
  WEB_APP,
} from '../support/oauth.ts';
import type { TestServer } from '../support/server.ts';

const OTHER_SERVICE = {
  ...SERVICE,
  client_id: 'service-2',
  client_secret: 'service-2-secret-0123456789-abcdefghijklmn',
};

/** Every limit far out of reach, except the ones a test sets. */
function limits(overrides: Record<string, unknown>): Record<string, unknown> {
  const high = { limit: 100_000 };
  return {
    rateLimits: {
      oauthToken: { perIp: high, perClient: high, global: high },
      oauthAuthorization: { perIp: high, global: high },
      oauthIntrospection: { perIp: high, global: high },
      oauthDeviceAuthorization: { perIp: high, global: high },
      ...overrides,
    },
  };
}

function assertRefused(response: { status: number; headers: Headers; body: Record<string, unknown> }): void {
  assert.equal(response.status, 429);
  assert.equal(response.body['error'], 'too_many_requests');
  assert.equal(typeof response.body['error_description'], 'string');
  const retryAfter = Number(response.headers.get('retry-after'));
  assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60, `Retry-After ${retryAfter}`);
  assert.equal(response.headers.get('cache-control'), 'no-store');
}

const clientCredentials = { grant_type: 'client_credentials', scope: 'read', resource: API };

describe('OAuth provider rate limits: token endpoint per client IP', () => {
  let server: TestServer;
  before(async () => {
    server = await startOAuthGatehouse({}, limits({ oauthToken: { perIp: { limit: 3, windowMs: 60_000 } } }));
  });
  after(() => server.close());

  test('the token endpoint refuses a client network over its limit with 429, Retry-After and an OAuth error', async () => {
    const config = await discover(server, SERVICE);
    for (let i = 0; i < 3; i++) await client.clientCredentialsGrant(config, { scope: 'read' });
    const refused = await providerPost(server, '/oauth/token', clientCredentials, SERVICE);
    assertRefused(refused);
    // The certified client sees an OAuth error response, with the answer to read Retry-After from.
    const error = await client.clientCredentialsGrant(config, { scope: 'read' }).then(
      () => assert.fail('refused'),
      (caught: unknown) => caught,
    );
    assert.ok(error instanceof client.ResponseBodyError);
    assert.equal(error.error, 'too_many_requests');
    assert.equal(error.status, 429);
    assert.ok(Number(error.response.headers.get('retry-after')) >= 1);
    // Other clients from the same network are refused too: the limit is the network's.
    assertRefused(await providerPost(server, '/oauth/token', clientCredentials, OTHER_SERVICE));
    const [event] = await server.services.stores.audit.list({ type: 'rate_limit.triggered', limit: 1 });
    assert.deepEqual([event?.details['rule'], event?.details['endpoint']], ['per_ip', 'oauth_token']);
  });

  test('no spelling of the path reaches the token endpoint around its limit', async () => {
    // The provider's router folds case and forgives a trailing slash; the limit asks that router.
    for (const path of ['/oauth/token/', '/oauth/Token', '/oauth/TOKEN/']) {
      assertRefused(await providerPost(server, path, clientCredentials, SERVICE));
    }
    // What the provider does not route never reaches the token endpoint at all.
    for (const path of ['/OAUTH/TOKEN', '/oauth//token', '/oauth/%74oken']) {
      const response = await fetch(new URL(path, server.url), {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(clientCredentials),
      });
      assert.equal(response.status, 404, path);
    }
  });
});

describe('OAuth provider rate limits: token endpoint per authenticated client', () => {
  let server: TestServer;
  before(async () => {
    server = await startOAuthGatehouse(
      { clients: [SERVICE, OTHER_SERVICE, WEB_APP] },
      limits({ oauthToken: { perIp: { limit: 100_000 }, perClient: { limit: 2, windowMs: 60_000 } } }),
    );
  });
  after(() => server.close());

  test('each confidential client has its own budget, which strangers with a wrong secret cannot use up', async () => {
    // Wrong secrets: refused by authentication, never counted against the real client.
    for (let i = 0; i < 5; i++) {
      const wrong = await providerPost(server, '/oauth/token', clientCredentials, {
        client_id: SERVICE.client_id,
        client_secret: 'not-the-secret-0123456789-abcdefghijklmnopq',
      });
      assert.equal(wrong.status, 401);
      assert.equal(wrong.body['error'], 'invalid_client');
    }
    const config = await discover(server, SERVICE);
    await client.clientCredentialsGrant(config, { scope: 'read' });
    await client.clientCredentialsGrant(config, { scope: 'read' });
    assertRefused(await providerPost(server, '/oauth/token', clientCredentials, SERVICE));
    // Another client from the same address still has its budget.
    await client.clientCredentialsGrant(await discover(server, OTHER_SERVICE), { scope: 'read' });
    const [event] = await server.services.stores.audit.list({ type: 'rate_limit.triggered', limit: 1 });
    assert.deepEqual([event?.details['rule'], event?.details['endpoint']], ['per_client', 'oauth_token']);
  });
});

describe('OAuth provider rate limits: authorization, PAR, introspection, revocation, device authorization', () => {
  let server: TestServer;
  before(async () => {
    const small = { perIp: { limit: 2, windowMs: 60_000 } };
    server = await startOAuthGatehouse(
      {},
      limits({ oauthAuthorization: small, oauthIntrospection: small, oauthDeviceAuthorization: small }),
    );
  });
  after(() => server.close());

  test('authorization requests: a browser gets a 429 page, a program the JSON error', async () => {
    const config = await discover(server, WEB_APP);
    const agent = new TestClient(server.url);
    for (let i = 0; i < 2; i++) {
      const { url } = await authorizationRequest(config);
      const answer = await agent.get(url.pathname + url.search);
      assert.ok(answer.status === 303 || answer.status === 302, `answered ${answer.status}`);
    }
    const { url } = await authorizationRequest(config);
    const page = await agent.get(url.pathname + url.search, { accept: 'text/html' });
    assert.equal(page.status, 429);
    assert.match(page.headers.get('content-type') ?? '', /text\/html/);
    assert.match(page.text, /too_many_requests/);
    assert.ok(Number(page.headers.get('retry-after')) >= 1);
    const json = await fetch(url, { headers: { accept: 'application/json' }, redirect: 'manual' });
    assertRefused({
      status: json.status,
      headers: json.headers,
      body: (await json.json()) as Record<string, unknown>,
    });
  });

  test('pushed authorization requests have their own count under the same limits', async () => {
    const form = {
      client_id: WEB_APP.client_id,
      response_type: 'code',
      redirect_uri: WEB_APP.redirect_uris[0]!,
      scope: 'openid',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
    };
    for (let i = 0; i < 2; i++) {
      const pushed = await providerPost(server, '/oauth/par', form, WEB_APP);
      assert.equal(pushed.status, 201, JSON.stringify(pushed.body));
    }
    assertRefused(await providerPost(server, '/oauth/par', form, WEB_APP));
  });

  test('introspection and revocation each refuse a network over its limit', async () => {
    for (const path of ['/oauth/introspect', '/oauth/revoke']) {
      for (let i = 0; i < 2; i++)
        assert.equal(
          (await providerPost(server, path, { token: 'unknown-token' }, SERVICE)).status,
          200,
          path,
        );
      assertRefused(await providerPost(server, path, { token: 'unknown-token' }, SERVICE));
    }
  });

  test('device authorization requests are limited per network before the client is even looked at', async () => {
    for (let i = 0; i < 2; i++)
      assert.notEqual(
        (await providerPost(server, '/oauth/device/auth', { scope: 'openid' }, WEB_APP)).status,
        429,
      );
    assertRefused(await providerPost(server, '/oauth/device/auth', { scope: 'openid' }, WEB_APP));
  });

  test('endpoints without a limit here are not counted (discovery, JWKS)', async () => {
    for (let i = 0; i < 5; i++) {
      assert.equal((await fetch(new URL('/oauth/jwks', server.url))).status, 200);
      assert.equal((await fetch(new URL('/.well-known/openid-configuration', server.url))).status, 200);
    }
  });
});
