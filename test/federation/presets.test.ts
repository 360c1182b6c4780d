import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { exportJWK, exportPKCS8, generateKeyPair, type JWK } from 'jose';
import type { AuditEvent } from '../../src/ports/audit-log.ts';
import { TestClient, type TestResponse } from '../support/http-client.ts';
import { type IdTokenShape, type IssuerAccount, JoseIssuer } from '../support/jose-issuer.ts';
import { startGatehouse, type TestServer } from '../support/server.ts';

/**
 * The Apple and Microsoft presets, with their real issuer URLs: the Gatehouse under test sends
 * its requests for https://appleid.apple.com and https://login.microsoftonline.com to local jose
 * issuers that answer as those providers do (its `fetch` routes the hosts; everything else is the
 * real code path).
 */
const FLOW_COOKIE = '__Host-gatehouse_fed_flow';
const TEAM_ID = 'TEAM123456';
const KEY_ID = 'KEY1234567';
const APPLE_CLIENT = 'com.example.gatehouse.web';
const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const OTHER_TENANT = '9188040d-6c67-4c5b-b112-36a304b66dad';

describe('federation presets: Apple and Microsoft', () => {
  let apple: JoseIssuer;
  let microsoft: JoseIssuer;
  let plain: JoseIssuer;
  let server: TestServer;
  let applePublicJwk: JWK;
  let serial = 0;

  before(async () => {
    const appleKey = await generateKeyPair('ES256', { extractable: true });
    applePublicJwk = await exportJWK(appleKey.publicKey);
    [apple, microsoft, plain] = await Promise.all([
      JoseIssuer.start({
        clientId: APPLE_CLIENT,
        appleClient: { teamId: TEAM_ID, keyId: KEY_ID, publicJwk: applePublicJwk },
        publicBase: 'https://appleid.apple.com',
        sendIss: false,
        alg: 'RS256',
        metadata: { token_endpoint_auth_methods_supported: ['client_secret_post'] },
      }),
      JoseIssuer.start({
        clientId: 'ms-client',
        clientSecret: 'ms-secret',
        publicBase: 'https://login.microsoftonline.com',
        issuerPath: '/common/v2.0',
        metadataIssuer: 'https://login.microsoftonline.com/{tenantid}/v2.0',
        sendIss: false,
        alg: 'RS256',
      }),
      JoseIssuer.start({ clientId: 'plain', clientSecret: 'plain-secret' }),
    ]);
    server = await startGatehouse(
      {
        federation: {
          providers: [
            {
              id: 'apple',
              preset: 'apple',
              clientId: APPLE_CLIENT,
              teamId: TEAM_ID,
              keyId: KEY_ID,
              privateKey: await exportPKCS8(appleKey.privateKey),
            },
            { id: 'microsoft', preset: 'microsoft', clientId: 'ms-client', clientSecret: 'ms-secret' },
            { id: 'plain', issuer: plain.issuer, clientId: 'plain', clientSecret: 'plain-secret' },
          ],
        },
      },
      { fetch: apple.route(microsoft.route()) },
    );
  });

  after(async () => {
    await server?.close();
    await Promise.all([apple?.close(), microsoft?.close(), plain?.close()]);
  });

  function person(overrides: IssuerAccount = {}): IssuerAccount & { sub: string; email: string } {
    serial++;
    return { sub: `000${serial}.apple`, email: `p${serial}@privaterelay.example.com`, ...overrides };
  }

  function landing(response: TestResponse<any>): URL {
    assert.equal(response.status, 302, response.text);
    return new URL(response.headers.get('location') ?? '', server.url);
  }

  async function lastEvent(type: string): Promise<AuditEvent> {
    const [event] = await server.services.stores.audit.list({ type, limit: 1 });
    assert.ok(event);
    return event;
  }

  /** Apple's answer, as the browser delivers it: a cross-site form POST from appleid.apple.com. */
  function applePost(
    client: TestClient,
    form: URLSearchParams,
    path = '/auth/apple/callback',
  ): Promise<TestResponse<any>> {
    return client.request('POST', path, form.toString(), {
      'content-type': 'application/x-www-form-urlencoded',
      'sec-fetch-site': 'cross-site',
      origin: 'https://appleid.apple.com',
    });
  }

  describe('Apple', () => {
    test('form_post with a SameSite=None flow cookie; a signed client secret; the name from the first sign-in only', async () => {
      const client = new TestClient(server.url);
      const start = await client.get('/auth/apple');
      const location = new URL(start.headers.get('location') ?? '');
      assert.equal(location.origin, 'https://appleid.apple.com');
      assert.equal(location.searchParams.get('response_mode'), 'form_post');
      assert.equal(location.searchParams.get('scope'), 'openid name email');
      const cookie = start.headers.getSetCookie().find((line) => line.startsWith(`${FLOW_COOKIE}=`)) ?? '';
      // A cross-site POST carries no SameSite=Lax cookie: Apple's flows must use None (so Secure).
      assert.match(cookie, /; SameSite=None/);
      assert.match(cookie, /; Secure/);
      assert.match(cookie, /; HttpOnly/);

      const grace = person({ email_verified: 'true' });
      const { form } = await apple.authorize(location.href, grace);
      assert.ok(form, 'Apple answers with a form');
      form.set(
        'user',
        JSON.stringify({ name: { firstName: 'Grace', lastName: 'Hopper' }, email: grace.email }),
      );
      assert.equal(landing(await applePost(client, form)).pathname, '/account');
      const session = await client.get('/api/v1/session');
      assert.equal(session.status, 200);
      assert.equal(session.body.user.email, grace.email);
      assert.equal(session.body.user.displayName, 'Grace Hopper');
      assert.equal(session.body.user.emailVerified, true, 'Apple says "true" as a string');

      // The client secret was a JWT signed with the configured key (the issuer checked it),
      // sent in the body as Apple requires.
      const token = apple.tokenRequests.at(-1);
      assert.equal(token?.authorization, undefined);
      assert.match(token?.body.get('client_secret') ?? '', /^eyJ[\w-]+\.[\w-]+\.[\w-]+$/);
      const [header, claims] = (token?.body.get('client_secret') ?? '')
        .split('.')
        .slice(0, 2)
        .map((part) => JSON.parse(Buffer.from(part, 'base64url').toString()));
      assert.deepEqual(header, { alg: 'ES256', kid: KEY_ID });
      assert.equal(claims.iss, TEAM_ID);
      assert.equal(claims.sub, APPLE_CLIENT);
      assert.equal(claims.aud, 'https://appleid.apple.com');
      assert.ok(claims.exp - claims.iat <= 300);

      // Later sign-ins carry no name; the one we have stays.
      const later = new TestClient(server.url);
      const again = await later.get('/auth/apple');
      const second = await apple.authorize(again.headers.get('location') ?? '', grace);
      assert.ok(second.form);
      landing(await applePost(later, second.form));
      const user = (await later.get('/api/v1/session')).body.user;
      assert.equal(user.id, session.body.user.id);
      assert.equal(user.displayName, 'Grace Hopper');
    });

    test('a code Apple did not issue fails the sign-in cleanly, audited', async () => {
      const client = new TestClient(server.url);
      const start = await client.get('/auth/apple');
      const { form } = await apple.authorize(
        start.headers.get('location') ?? '',
        person({ email_verified: true }),
      );
      assert.ok(form);
      form.set('code', 'not-a-code-apple-issued');
      const location = landing(await applePost(client, form));
      assert.equal(location.searchParams.get('federation'), 'failed');
      assert.equal((await lastEvent('sign_in.federated')).details.reason, 'failed');
    });

    test('the cross-site POST exemption is exactly the form_post callback path', async () => {
      const client = new TestClient(server.url);
      const form = new URLSearchParams({ code: 'x', state: 'y' });
      // Another provider's callback (query mode) and the JSON API stay protected.
      const plainCallback = await applePost(client, form, '/auth/plain/callback');
      assert.equal(plainCallback.status, 403);
      assert.equal(plainCallback.body.error.code, 'cross_origin_refused');
      const api = await client.request('POST', '/api/v1/email/sign-in', '{"email":"a@example.com"}', {
        'content-type': 'application/json',
        'sec-fetch-site': 'cross-site',
        origin: 'https://appleid.apple.com',
      });
      assert.equal(api.status, 403);
      // The exempt path is protected by the flow cookie instead: none here, nothing happens.
      const noFlow = landing(await applePost(client, form));
      assert.equal(noFlow.searchParams.get('federation'), 'expired');
      assert.equal((await client.get('/api/v1/session')).status, 401);
      // And it takes only what a form sends.
      const json = await client.request('POST', '/auth/apple/callback', '{}', {
        'content-type': 'application/json',
        'sec-fetch-site': 'cross-site',
      });
      assert.equal(json.status, 415);
    });
  });

  describe('Microsoft (multi-tenant)', () => {
    const tenantToken = (tenant: string, tid: string, extra: Record<string, unknown> = {}): IdTokenShape => ({
      claims: (claims) => ({
        ...claims,
        iss: `https://login.microsoftonline.com/${tenant}/v2.0`,
        tid,
        ...extra,
      }),
    });

    async function signIn(
      client: TestClient,
      account: IssuerAccount,
      shape: IdTokenShape,
    ): Promise<TestResponse<any>> {
      const start = await client.get('/auth/microsoft');
      const location = start.headers.get('location') ?? '';
      assert.ok(location.startsWith('https://login.microsoftonline.com/'), location);
      microsoft.nextIdToken = shape;
      const { callbackUrl } = await microsoft.authorize(location, account);
      return client.get(callbackUrl.pathname + callbackUrl.search);
    }

    test("an ID token from the tenant named by its `tid` is accepted; the identity's issuer is that tenant", async () => {
      const client = new TestClient(server.url);
      const account = person({ email: `ms${serial}@contoso.example` });
      const response = await signIn(client, account, tenantToken(TENANT, TENANT, { xms_edov: true }));
      assert.equal(landing(response).pathname, '/account');
      assert.equal((await client.get('/api/v1/session')).status, 200);
      const identity = await server.services.stores.federatedIdentities.findBySubject(
        `https://login.microsoftonline.com/${TENANT}/v2.0`,
        account.sub,
      );
      assert.ok(identity, 'keyed by the tenant-specific issuer');
    });

    test('an issuer from another tenant than the `tid` claim is refused', async () => {
      const client = new TestClient(server.url);
      const account = person();
      const response = await signIn(client, account, tenantToken(OTHER_TENANT, TENANT, { xms_edov: true }));
      assert.equal(landing(response).searchParams.get('federation'), 'failed');
      assert.match(String((await lastEvent('sign_in.federated')).details.detail), /iss/);
    });

    test('an address without xms_edov is not trusted, even with email_verified (nOAuth)', async () => {
      const client = new TestClient(server.url);
      const account = person({ email_verified: true });
      const response = await signIn(client, account, tenantToken(TENANT, TENANT));
      assert.equal(landing(response).searchParams.get('federation'), 'email_unverified');
      assert.equal(await server.services.users.findByEmail(account.email), undefined);
    });
  });
});
