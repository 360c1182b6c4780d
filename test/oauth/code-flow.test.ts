import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as client from 'openid-client';
import { TestClient } from '../support/http-client.ts';
import {
  API,
  authorizationRequest,
  CALLBACK,
  codeFlow,
  decodeJwt,
  discover,
  followAuthorization,
  startOAuthGatehouse,
  TRUSTED_APP,
  WEB_APP,
} from '../support/oauth.ts';
import type { TestServer } from '../support/server.ts';
import { signInWithEmail } from '../support/sign-in.ts';

describe('OAuth provider: authorization code + PKCE with openid-client', () => {
  let server: TestServer;
  before(async () => {
    server = await startOAuthGatehouse();
  });
  after(() => server.close());

  test('signed out: the authorization request goes to /sign-in and comes back to the interaction', async () => {
    const config = await discover(server, WEB_APP);
    const request = await authorizationRequest(config);
    const agent = new TestClient(server.url);
    const outcome = await followAuthorization(server, agent, request.url);
    assert.ok(outcome.signIn, 'sent to sign in');
    const back = outcome.signIn.searchParams.get('redirectTo') ?? '';
    assert.match(back, /^\/interaction\/[\w-]+$/);
    await signInWithEmail(server, agent, 'flow@example.com');
    const resumed = await followAuthorization(server, agent, new URL(back, server.url));
    assert.ok(resumed.consentShown, 'consent asked');
    assert.ok(resumed.callback?.href.startsWith(CALLBACK));
    const tokens = await client.authorizationCodeGrant(config, resumed.callback!, {
      pkceCodeVerifier: request.verifier,
      expectedState: request.state,
      expectedNonce: request.nonce,
    });
    const claims = tokens.claims();
    assert.ok(claims);
    assert.equal(claims.iss, server.url);
    assert.equal(claims.aud, WEB_APP.client_id);
    assert.equal(claims['email'], undefined, 'claims beyond openid go to userinfo');
    assert.deepEqual(claims.amr, ['otp']);
    assert.equal(typeof claims.auth_time, 'number');
    assert.equal(decodeJwt(tokens.id_token ?? '').header['alg'], 'ES256');
  });

  test('a signed-in user goes straight to consent; the code carries iss (RFC 9207); the JWT access token is audience-bound', async () => {
    const agent = new TestClient(server.url);
    const userId = await signInWithEmail(server, agent, 'straight@example.com');
    const config = await discover(server, WEB_APP);
    const request = await authorizationRequest(config, { scope: 'openid email read', resource: API });
    const outcome = await followAuthorization(server, agent, request.url);
    assert.ok(outcome.consentShown);
    assert.equal(outcome.callback?.searchParams.get('iss'), server.url);
    const tokens = await client.authorizationCodeGrant(config, outcome.callback!, {
      pkceCodeVerifier: request.verifier,
      expectedState: request.state,
      expectedNonce: request.nonce,
    });
    const access = decodeJwt(tokens.access_token);
    assert.equal(access.header['typ'], 'at+jwt');
    assert.equal(access.header['alg'], 'ES256');
    assert.equal(access.payload['aud'], API);
    assert.equal(access.payload['sub'], userId);
    assert.equal(access.payload['client_id'], WEB_APP.client_id);
    assert.equal(access.payload['scope'], 'read');
    assert.equal((access.payload['exp'] as number) - (access.payload['iat'] as number), 15 * 60);
    // RFC 9068's claims, plus the two authentication-information claims of its §2.2.1 that an
    // API needs for RFC 9470 step-up (when and how strongly the user signed in); no email, no
    // name, not even amr: nothing about the person beyond sub.
    assert.deepEqual(
      Object.keys(access.payload).sort(),
      ['acr', 'aud', 'auth_time', 'client_id', 'exp', 'iat', 'iss', 'jti', 'scope', 'sub'],
      'no personal data beyond sub',
    );
  });

  test('consent is remembered per client and scope set; a new scope asks again', async () => {
    const agent = new TestClient(server.url);
    await signInWithEmail(server, agent, 'remember@example.com');
    const config = await discover(server, WEB_APP);
    const first = await followAuthorization(server, agent, (await authorizationRequest(config)).url);
    assert.ok(first.consentShown);
    const second = await followAuthorization(server, agent, (await authorizationRequest(config)).url);
    assert.equal(second.consentShown, false, 'same scopes: no consent page');
    assert.ok(second.callback?.searchParams.get('code'));
    const wider = await followAuthorization(
      server,
      agent,
      (await authorizationRequest(config, { scope: 'openid email profile' })).url,
    );
    assert.ok(wider.consentShown, 'a new scope asks again');
  });

  test('a trusted client skips consent', async () => {
    const agent = new TestClient(server.url);
    await signInWithEmail(server, agent, 'trusted@example.com');
    const config = await discover(server, TRUSTED_APP);
    const request = await authorizationRequest(config, { redirect_uri: TRUSTED_APP.redirect_uris[0]! });
    const outcome = await followAuthorization(server, agent, request.url);
    assert.equal(outcome.consentShown, false);
    assert.ok(outcome.callback?.searchParams.get('code'));
  });

  test('deny: the client receives access_denied', async () => {
    const agent = new TestClient(server.url);
    await signInWithEmail(server, agent, 'deny@example.com');
    const config = await discover(server, WEB_APP);
    const outcome = await followAuthorization(
      server,
      agent,
      (await authorizationRequest(config)).url,
      'deny',
    );
    assert.ok(outcome.consentShown);
    assert.equal(outcome.callback?.searchParams.get('error'), 'access_denied');
    assert.equal(outcome.callback?.searchParams.get('iss'), server.url);
  });

  test('refresh tokens rotate on every use', async () => {
    const agent = new TestClient(server.url);
    await signInWithEmail(server, agent, 'rotate@example.com');
    const config = await discover(server, WEB_APP);
    const tokens = await codeFlow(server, agent, config, {
      scope: 'openid offline_access',
      prompt: 'consent',
    });
    assert.ok(tokens.refresh_token);
    const next = await client.refreshTokenGrant(config, tokens.refresh_token);
    assert.ok(next.refresh_token);
    assert.notEqual(next.refresh_token, tokens.refresh_token);
    const again = await client.refreshTokenGrant(config, next.refresh_token);
    assert.notEqual(again.refresh_token, next.refresh_token);
  });

  test('RS256 ID tokens when configured (oauth.idTokenSigningAlg)', async () => {
    const rsa = await startOAuthGatehouse({ idTokenSigningAlg: 'RS256' });
    try {
      const agent = new TestClient(rsa.url);
      await signInWithEmail(rsa, agent, 'rsa@example.com');
      const tokens = await codeFlow(rsa, agent, await discover(rsa, WEB_APP));
      assert.equal(decodeJwt(tokens.id_token!).header['alg'], 'RS256');
    } finally {
      await rsa.close();
    }
  });
});
