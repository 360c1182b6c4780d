import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as oauth from 'oauth4webapi';
import * as client from 'openid-client';
import { sha256 } from '../../src/domain/crypto/secrets.ts';
import { TestClient } from '../support/http-client.ts';
import {
  API,
  authorizationRequest,
  authorizedCode,
  CALLBACK,
  decodeJwt,
  discover,
  followAuthorization,
  NATIVE,
  OTHER_APP,
  providerPost,
  startOAuthGatehouse,
  WEB_APP,
} from '../support/oauth.ts';
import { concurrently } from '../support/records.ts';
import type { TestServer } from '../support/server.ts';
import { signInWithEmail } from '../support/sign-in.ts';

/**
 * Requests a conforming provider must refuse: the OpenID Foundation conformance plans' negative
 * cases and OWASP ASVS 5.0 V10, each against the real server.
 */
describe('OAuth provider: refusals', () => {
  let server: TestServer;
  let agent: TestClient;
  before(async () => {
    server = await startOAuthGatehouse();
    agent = new TestClient(server.url);
    await signInWithEmail(server, agent, 'negative@example.com');
  });
  after(() => server.close());

  /** A code for WEB_APP, and the PKCE verifier that goes with it. */
  const freshCode = (parameters: Record<string, string> = {}) =>
    authorizedCode(server, agent, WEB_APP, parameters);

  test('redirect URIs are compared as exact strings (ASVS V10.4.1): every variant is refused without a redirect', async () => {
    const config = await discover(server, WEB_APP);
    const variants = [
      `${CALLBACK}/`,
      CALLBACK.replace('callback', 'Callback'),
      CALLBACK.replace('app.example.test', 'APP.example.test'),
      `${CALLBACK}?extra=1`,
      `${CALLBACK}#fragment`,
      `${CALLBACK}/evil`,
      `${CALLBACK}evil`,
      CALLBACK.replace('https:', 'http:'),
      CALLBACK.replace('app.example.test', 'app.example.test:8443'),
      CALLBACK.replace('app.example.test', 'app.example.test.evil.test'),
      'https://evil.example.test/callback',
    ];
    for (const redirectUri of variants) {
      const request = await authorizationRequest(config, { redirect_uri: redirectUri });
      const response = await agent.get(request.url.pathname + request.url.search);
      assert.equal(response.status, 400, redirectUri);
      assert.equal(response.headers.get('location'), null, `${redirectUri}: no redirect`);
      assert.match(response.text, /invalid_redirect_uri|redirect_uri/, redirectUri);
    }
  });

  test('redirect_uri is required even when the client registered only one (OAuth 2.1 §4.1.1)', async () => {
    const config = await discover(server, WEB_APP);
    const request = await authorizationRequest(config);
    request.url.searchParams.delete('redirect_uri');
    const response = await agent.get(request.url.pathname + request.url.search);
    assert.equal(response.status, 400);
    assert.equal(response.headers.get('location'), null);
  });

  test('native clients: http only on a loopback IP, on any port (RFC 8252 §7.3); private-use schemes', async () => {
    const config = await discover(server, NATIVE);
    for (const [redirectUri, allowed] of [
      ['http://127.0.0.1:49152/callback', true],
      ['http://127.0.0.1/callback', true],
      ['com.example.app:/callback', true],
      ['http://localhost:49152/callback', false],
      ['http://127.0.0.1:49152/other', false],
      ['https://127.0.0.1:49152/callback', false],
    ] as const) {
      const request = await authorizationRequest(config, { redirect_uri: redirectUri, scope: 'openid' });
      const response = await agent.get(request.url.pathname + request.url.search);
      if (allowed) assert.equal(response.status, 303, redirectUri);
      else assert.equal(response.status, 400, redirectUri);
    }
  });

  test('PKCE is required for confidential clients too, and only S256 (ASVS V10.4.6)', async () => {
    const config = await discover(server, WEB_APP);
    const missing = new URL(server.url + '/oauth/authorize');
    missing.search = new URLSearchParams({
      client_id: WEB_APP.client_id,
      response_type: 'code',
      redirect_uri: CALLBACK,
      scope: 'openid',
      state: 'xyz',
    }).toString();
    const noPkce = await followAuthorization(server, agent, missing);
    assert.equal(noPkce.callback?.searchParams.get('error'), 'invalid_request');
    assert.match(noPkce.callback?.searchParams.get('error_description') ?? '', /PKCE/);
    assert.equal(noPkce.callback?.searchParams.get('state'), 'xyz');
    const plain = await authorizationRequest(config, {
      code_challenge: 'a'.repeat(43),
      code_challenge_method: 'plain',
    });
    const refused = await followAuthorization(server, agent, plain.url);
    assert.equal(refused.callback?.searchParams.get('error'), 'invalid_request');
  });

  test('a wrong code_verifier is invalid_grant', async () => {
    const { config, callback, request } = await freshCode();
    await assert.rejects(
      client.authorizationCodeGrant(config, callback, {
        pkceCodeVerifier: client.randomPKCECodeVerifier(),
        expectedState: request.state,
      }),
      (error: { error?: string }) => error.error === 'invalid_grant',
    );
  });

  test('authorization codes live 60 s and are single-use: a replay is refused, revokes what the code gave, and is audited (ASVS V10.4.2, V10.4.3)', async () => {
    const { config, callback, request, code } = await freshCode();
    const stored = await server.services.stores.oauthModels.find('AuthorizationCode', sha256(code));
    const payload = JSON.parse(stored!.payload) as { exp: number; iat: number };
    assert.equal(payload.exp - payload.iat, 60);
    const checks = {
      pkceCodeVerifier: request.verifier,
      expectedState: request.state,
      expectedNonce: request.nonce,
    };
    const tokens = await client.authorizationCodeGrant(config, callback, checks);
    assert.equal((await client.tokenIntrospection(config, tokens.refresh_token!)).active, true);
    await assert.rejects(
      client.authorizationCodeGrant(config, callback, checks),
      (error: { error?: string }) => error.error === 'invalid_grant',
    );
    assert.equal(
      (await client.tokenIntrospection(config, tokens.refresh_token!)).active,
      false,
      'refresh token revoked',
    );
    assert.equal(
      (await client.tokenIntrospection(config, tokens.access_token)).active,
      false,
      'opaque access token revoked',
    );
    const [event] = await server.services.stores.audit.list({
      type: 'oauth.authorization_code_replayed',
      limit: 1,
    });
    assert.equal(event?.details['clientId'], WEB_APP.client_id);
  });

  test('a code redeemed 10 times at once gives tokens exactly once', async () => {
    const { callback, request } = await freshCode();
    const results = await concurrently(10, () =>
      providerPost(
        server,
        '/oauth/token',
        {
          grant_type: 'authorization_code',
          code: callback.searchParams.get('code')!,
          redirect_uri: CALLBACK,
          code_verifier: request.verifier,
        },
        WEB_APP,
      ),
    );
    assert.equal(results.filter((result) => result.status === 200).length, 1);
    assert.ok(results.every((result) => result.status === 200 || result.body['error'] === 'invalid_grant'));
  });

  test('a code issued to one client is useless to another', async () => {
    const { callback, request } = await freshCode();
    const other = await discover(server, OTHER_APP);
    await assert.rejects(
      client.authorizationCodeGrant(other, callback, {
        pkceCodeVerifier: request.verifier,
        expectedState: request.state,
      }),
      (error: { error?: string }) => error.error === 'invalid_grant',
    );
  });

  test('no implicit or hybrid response types, no form_post response mode (ASVS V10.6.1, V10.4.12)', async () => {
    const config = await discover(server, WEB_APP);
    for (const responseType of ['token', 'id_token', 'code id_token', 'code token', 'none']) {
      const request = await authorizationRequest(config, { response_type: responseType });
      const outcome = await followAuthorization(server, agent, request.url);
      // Errors for implicit-style response types travel in the fragment (RFC 6749 §4.2.2.1).
      const answer = new URLSearchParams(outcome.callback?.hash.slice(1) || outcome.callback?.search);
      assert.equal(answer.get('error'), 'unsupported_response_type', responseType);
      assert.equal(answer.get('access_token'), null);
    }
    for (const responseMode of ['form_post', 'web_message']) {
      const request = await authorizationRequest(config, { response_mode: responseMode });
      const outcome = await followAuthorization(server, agent, request.url);
      assert.equal(outcome.callback?.searchParams.get('error'), 'unsupported_response_mode', responseMode);
      assert.equal(outcome.callback?.searchParams.get('code'), null, responseMode);
    }
    const discovery = await (await fetch(`${server.url}/.well-known/openid-configuration`)).json();
    assert.deepEqual(discovery.response_types_supported, ['code']);
    assert.deepEqual(discovery.response_modes_supported, ['fragment', 'query']);
    assert.deepEqual(discovery.code_challenge_methods_supported, ['S256']);
    assert.equal(discovery.grant_types_supported.includes('implicit'), false);
    assert.equal(discovery.grant_types_supported.includes('password'), false);
    assert.equal(discovery.authorization_response_iss_parameter_supported, true);
    assert.equal(discovery.registration_endpoint, undefined, 'no dynamic client registration');
  });

  test('unknown parameters are ignored', async () => {
    const config = await discover(server, WEB_APP);
    const request = await authorizationRequest(config, { unknown_parameter: 'x', another: 'y' });
    const outcome = await followAuthorization(server, agent, request.url);
    assert.ok(outcome.callback?.searchParams.get('code'));
    assert.equal(outcome.callback?.searchParams.get('unknown_parameter'), null);
    await client.authorizationCodeGrant(config, outcome.callback!, {
      pkceCodeVerifier: request.verifier,
      expectedState: request.state,
      expectedNonce: request.nonce,
    });
  });

  test('a scope outside the client’s registration is refused (ASVS V10.4.11)', async () => {
    const config = await discover(server, WEB_APP);
    const request = await authorizationRequest(config, { scope: 'openid admin', resource: API });
    const outcome = await followAuthorization(server, agent, request.url);
    assert.equal(outcome.callback?.searchParams.get('error'), 'invalid_scope');
  });

  test('the certified clients refuse alg "none" and tampered ID tokens', async () => {
    const as = await oauth.processDiscoveryResponse(
      new URL(server.url),
      await oauth.discoveryRequest(new URL(server.url), { [oauth.allowInsecureRequests]: true }),
    );
    const rp: oauth.Client = { client_id: WEB_APP.client_id, id_token_signed_response_alg: 'ES256' };
    const auth = oauth.ClientSecretBasic(WEB_APP.client_secret);
    const { callback, request } = await freshCode();
    const params = oauth.validateAuthResponse(as, rp, callback, request.state);
    const real = await oauth.authorizationCodeGrantRequest(as, rp, auth, params, CALLBACK, request.verifier, {
      [oauth.allowInsecureRequests]: true,
    });
    const body = (await real.json()) as Record<string, string>;
    const [header, payload, signature] = body['id_token']!.split('.') as [string, string, string];
    const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const claims = decodeJwt(body['id_token']!).payload;
    const variants: Record<string, string> = {
      'alg none': `${encode({ alg: 'none' })}.${payload}.`,
      'payload changed': `${header}.${encode({ ...claims, sub: 'someone-else' })}.${signature}`,
      'signature changed': `${header}.${payload}.${signature.slice(0, -4)}AAAA`,
      'other issuer': `${header}.${encode({ ...claims, iss: 'https://evil.example.test' })}.${signature}`,
    };
    const process = async (idToken: string) => {
      const response = new Response(JSON.stringify({ ...body, id_token: idToken }), {
        status: 200,
        headers: { 'content-type': 'application/json' },
      });
      await oauth.processAuthorizationCodeResponse(as, rp, response, {
        expectedNonce: request.nonce,
        requireIdToken: true,
      });
      await oauth.validateApplicationLevelSignature(as, response, { [oauth.allowInsecureRequests]: true });
    };
    await process(body['id_token']!);
    for (const [name, idToken] of Object.entries(variants)) await assert.rejects(process(idToken), name);
  });

  test('resource servers can validate access tokens with oauth4webapi (RFC 9068): audience and type enforced (ASVS V10.3.1)', async () => {
    const { config, callback, request } = await freshCode({ scope: 'openid read', resource: API });
    const tokens = await client.authorizationCodeGrant(config, callback, {
      pkceCodeVerifier: request.verifier,
      expectedState: request.state,
      expectedNonce: request.nonce,
    });
    const as = await oauth.processDiscoveryResponse(
      new URL(server.url),
      await oauth.discoveryRequest(new URL(server.url), { [oauth.allowInsecureRequests]: true }),
    );
    const call = (token: string) =>
      new Request(`${API}/resource`, { headers: { authorization: `Bearer ${token}` } });
    const claims = await oauth.validateJwtAccessToken(as, call(tokens.access_token), API, {
      [oauth.allowInsecureRequests]: true,
    });
    assert.equal(claims.scope, 'read');
    await assert.rejects(
      oauth.validateJwtAccessToken(as, call(tokens.access_token), 'https://other-api.example.test', {
        [oauth.allowInsecureRequests]: true,
      }),
    );
    // An ID token is not an access token: typ at+jwt is required.
    await assert.rejects(
      oauth.validateJwtAccessToken(as, call(tokens.id_token!), API, { [oauth.allowInsecureRequests]: true }),
    );
  });
});
