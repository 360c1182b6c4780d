/**
 * Stronger sign-ins on request (issue #5: "`acr_values` force re-authentication through the
 * step-up path; the step-up challenge of RFC 9470 is understood"): a client's acr_values=phr
 * (phishing-resistant) makes a user signed in by emailed code confirm it's them with a passkey
 * on the interaction page; the tokens then say `acr: phr` with the new auth_time, so an API can
 * check them and send the RFC 9470 challenge when they fall short.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import * as oauth from 'oauth4webapi';
import * as client from 'openid-client';
import { TestClient } from '../support/http-client.ts';
import {
  API,
  authorizationRequest,
  CLIENTS,
  codeFlow,
  decodeJwt,
  discover,
  followAuthorization,
  reauthenticationPage,
  SERVICE,
  startOAuthGatehouse,
  WEB_APP,
} from '../support/oauth.ts';
import type { TestServer } from '../support/server.ts';
import { reauthenticateByEmail, signInWithEmail } from '../support/sign-in.ts';
import { SoftAuthenticator } from '../support/soft-authenticator.ts';

const API_SCOPES = { scope: 'openid read', resource: API };

/** WEB_APP whose tokens for an API are opaque references the API introspects. */
const OPAQUE_APP = {
  ...WEB_APP,
  client_id: 'opaque-step-up-app',
  client_secret: 'opaque-step-up-app-secret-0123456789-abcdefgh',
  access_token_format: 'opaque',
};

describe('OAuth provider: acr_values and the RFC 9470 step-up challenge', () => {
  let server: TestServer;
  before(async () => {
    server = await startOAuthGatehouse({ clients: [...CLIENTS, OPAQUE_APP] });
  });
  after(() => server.close());

  /** Signed in by emailed code (acr basic), consent given for the API, optionally with a passkey added. */
  async function emailSignedIn(email: string, withPasskey: boolean) {
    const agent = new TestClient(server.url);
    const userId = await signInWithEmail(server, agent, email);
    const passkey = new SoftAuthenticator({ origin: server.origin });
    if (withPasskey) {
      const options = await agent.post('/api/v1/passkeys/register/options');
      const added = await agent.post('/api/v1/passkeys/register/verify', {
        response: await passkey.register(options.body),
      });
      assert.equal(added.status, 201, added.text);
    }
    const config = await discover(server, WEB_APP);
    const first = await codeFlow(server, agent, config, { ...API_SCOPES, prompt: 'consent' });
    assert.equal(first.claims()?.acr, 'urn:gatehouse:acr:basic');
    return { agent, userId, passkey, config, first };
  }

  async function reauthenticateWithPasskey(agent: TestClient, passkey: SoftAuthenticator): Promise<void> {
    const options = await agent.post('/api/v1/reauth/passkey/options');
    assert.equal(options.status, 200, options.text);
    const verified = await agent.post('/api/v1/reauth/passkey/verify', {
      response: await passkey.authenticate(options.body),
    });
    assert.equal(verified.status, 200, verified.text);
  }

  async function exchange(
    config: client.Configuration,
    request: Awaited<ReturnType<typeof authorizationRequest>>,
    callback: URL,
  ) {
    return client.authorizationCodeGrant(
      config,
      callback,
      { pkceCodeVerifier: request.verifier, expectedState: request.state, expectedNonce: request.nonce },
      { resource: API },
    );
  }

  test('acr_values=phr: a session from an emailed code steps up with a passkey; ID and access token say phr', async () => {
    const { agent, passkey, config, first } = await emailSignedIn('phr@example.com', true);
    const request = await authorizationRequest(config, { ...API_SCOPES, acr_values: 'phr' });
    const page = reauthenticationPage(server, await followAuthorization(server, agent, request.url));
    assert.deepEqual(page.requirement, {
      factors: ['pop'],
      methods: ['passkey', 'email'],
      secondFactor: null,
    });
    assert.match(page.text, /with a passkey/);
    // An emailed code is not phishing-resistant: re-authenticating with one changes nothing.
    assert.equal((await reauthenticateByEmail(server, agent, 'phr@example.com')).status, 200);
    reauthenticationPage(server, await followAuthorization(server, agent, page.resume));

    await reauthenticateWithPasskey(agent, passkey);
    const resumed = await followAuthorization(server, agent, page.resume);
    assert.ok(resumed.callback?.searchParams.get('code'), JSON.stringify(resumed).slice(0, 300));
    const tokens = await exchange(config, request, resumed.callback!);
    const id = tokens.claims()!;
    assert.equal(id.acr, 'phr');
    assert.deepEqual(id.amr, ['pop', 'user', 'mfa']);
    assert.ok(id.auth_time! > first.claims()!.auth_time! - 1);
    const access = decodeJwt(tokens.access_token);
    assert.equal(access.header['typ'], 'at+jwt');
    assert.equal(access.payload['aud'], API);
    assert.equal(access.payload['acr'], 'phr', 'RFC 9470 §6.1: the API can see the class');
    assert.equal(access.payload['auth_time'], id.auth_time);
    assert.equal(access.payload['amr'], undefined, 'nothing beyond what the API needs');
  });

  test('refreshed access tokens keep the sign-in’s acr and auth_time', async () => {
    const agent = new TestClient(server.url);
    await signInWithEmail(server, agent, 'phr-refresh@example.com');
    const config = await discover(server, WEB_APP);
    const tokens = await codeFlow(server, agent, config, {
      scope: 'openid offline_access read',
      resource: API,
      prompt: 'consent',
    });
    const original = decodeJwt(tokens.access_token).payload;
    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token!, { resource: API });
    const again = decodeJwt(refreshed.access_token).payload;
    assert.equal(again['acr'], 'urn:gatehouse:acr:basic');
    assert.equal(again['auth_time'], original['auth_time']);
    assert.equal(typeof again['auth_time'], 'number');
  });

  test('an opaque access token gives acr and auth_time at introspection', async () => {
    const agent = new TestClient(server.url);
    await signInWithEmail(server, agent, 'phr-opaque@example.com');
    const config = await discover(server, OPAQUE_APP);
    const tokens = await codeFlow(server, agent, config, { ...API_SCOPES, prompt: 'consent' });
    assert.equal(tokens.access_token.split('.').length, 1, 'opaque');
    const seen = await client.tokenIntrospection(await discover(server, SERVICE), tokens.access_token);
    assert.equal(seen.active, true);
    assert.equal(seen['acr'], 'urn:gatehouse:acr:basic');
    assert.equal(seen['auth_time'], tokens.claims()?.auth_time);
  });

  test('acr_values naming the basic class, or only classes unknown here, accept any sign-in', async () => {
    const { agent, config } = await emailSignedIn('basic@example.com', false);
    for (const acr_values of ['urn:gatehouse:acr:basic phr', 'urn:example:unknown']) {
      const request = await authorizationRequest(config, { ...API_SCOPES, acr_values });
      const outcome = await followAuthorization(server, agent, request.url);
      assert.ok(outcome.callback?.searchParams.get('code'), `${acr_values}: no page`);
      assert.equal(outcome.consentShown, false);
    }
  });

  test('acr_values=phr with prompt=none and a basic session: login_required, no page', async () => {
    const { agent, config } = await emailSignedIn('phr-none@example.com', true);
    const request = await authorizationRequest(config, { ...API_SCOPES, acr_values: 'phr', prompt: 'none' });
    const outcome = await followAuthorization(server, agent, request.url);
    assert.equal(outcome.callback?.searchParams.get('error'), 'login_required');
  });

  test('a user without a passkey asked for phr: told so, and Cancel answers unmet_authentication_requirements', async () => {
    const { agent, config } = await emailSignedIn('no-passkey@example.com', false);
    const request = await authorizationRequest(config, { ...API_SCOPES, acr_values: 'phr' });
    const page = reauthenticationPage(server, await followAuthorization(server, agent, request.url));
    assert.deepEqual(page.requirement.methods, ['email']);
    assert.match(page.text, /id="reauth-no-passkey"/);
    const answer = await agent.post(`${page.resume.pathname}/abandon`, {});
    assert.equal(answer.status, 200, answer.text);
    const back = await followAuthorization(server, agent, new URL(answer.body.redirectTo, server.url));
    assert.equal(back.callback?.searchParams.get('error'), 'unmet_authentication_requirements');
    assert.equal(back.callback?.searchParams.get('state'), request.state);
  });

  test('RFC 9470: an API’s insufficient_user_authentication challenge, answered with acr_values, yields a token it accepts', async () => {
    // The API: accepts Gatehouse's access tokens for it only when the sign-in was phishing-resistant.
    const jwks = createRemoteJWKSet(new URL((await discover(server, WEB_APP)).serverMetadata().jwks_uri!));
    const api: Server = createServer((req, res) => {
      const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '';
      jwtVerify(token, jwks, { issuer: server.url, audience: API, typ: 'at+jwt' }).then(
        ({ payload }) => {
          if (payload['acr'] !== 'phr') {
            res.writeHead(401, {
              'www-authenticate':
                'Bearer error="insufficient_user_authentication", error_description="A passkey sign-in is required", acr_values="phr"',
            });
            return res.end();
          }
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ ok: true, sub: payload.sub }));
        },
        () => {
          res.writeHead(401, { 'www-authenticate': 'Bearer error="invalid_token"' });
          res.end();
        },
      );
    });
    await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve));
    try {
      const resource = new URL(`http://127.0.0.1:${(api.address() as AddressInfo).port}/orders`);
      const { agent, userId, passkey, config, first } = await emailSignedIn('challenge@example.com', true);
      const call = (accessToken: string) =>
        oauth.protectedResourceRequest(accessToken, 'GET', resource, undefined, undefined, {
          [oauth.allowInsecureRequests]: true,
        });

      const challenge = await call(first.access_token).then(
        () => assert.fail('the API accepted a basic sign-in'),
        (error: unknown) => {
          assert.ok(error instanceof oauth.WWWAuthenticateChallengeError);
          return error.cause[0];
        },
      );
      assert.equal(challenge?.scheme, 'bearer');
      assert.equal(challenge?.parameters.error, 'insufficient_user_authentication');
      const acrValues = challenge?.parameters['acr_values'];
      assert.equal(acrValues, 'phr');

      // The client asks again with what the challenge named; the user confirms with a passkey.
      const request = await authorizationRequest(config, { ...API_SCOPES, acr_values: acrValues! });
      const page = reauthenticationPage(server, await followAuthorization(server, agent, request.url));
      await reauthenticateWithPasskey(agent, passkey);
      const resumed = await followAuthorization(server, agent, page.resume);
      const tokens = await exchange(config, request, resumed.callback!);
      const answer = await call(tokens.access_token);
      assert.equal(answer.status, 200);
      assert.deepEqual(await answer.json(), { ok: true, sub: userId });
    } finally {
      await new Promise((resolve) => api.close(resolve));
    }
  });
});
