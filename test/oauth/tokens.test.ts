import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { calculateJwkThumbprint, exportJWK, SignJWT } from 'jose';
import * as client from 'openid-client';
import { sha256 } from '../../src/domain/crypto/secrets.ts';
import { STATIC_SECURITY_HEADERS } from '../../src/http/middleware/security-headers.ts';
import { TestClient } from '../support/http-client.ts';
import {
  API,
  authorizationRequest,
  CLIENTS,
  codeFlow,
  decodeJwt,
  discover,
  DPOP_APP,
  followAuthorization,
  OTHER_API,
  OTHER_APP,
  PAR_APP,
  providerPost,
  SERVICE,
  SPA,
  startOAuthGatehouse,
  WEB_APP,
  refusalOf,
} from '../support/oauth.ts';
import { concurrently } from '../support/records.ts';
import { TestClock, type TestServer } from '../support/server.ts';
import { signInWithEmail } from '../support/sign-in.ts';

const OFFLINE = { scope: 'openid offline_access', prompt: 'consent' };

/** A service whose tokens for the API are opaque: the API introspects them (access_token_format). */
const OPAQUE_SERVICE = {
  ...SERVICE,
  client_id: 'opaque-service',
  client_secret: 'opaque-service-secret-0123456789-abcdefghij',
  access_token_format: 'opaque',
};

/** A web app whose user-bound tokens for the API are opaque. */
const OPAQUE_APP = {
  ...WEB_APP,
  client_id: 'opaque-app',
  client_secret: 'opaque-app-secret-0123456789-abcdefghijklm',
  access_token_format: 'opaque',
};

/** A service for another API only: it may not introspect tokens for API. */
const OTHER_API_SERVICE = {
  ...SERVICE,
  client_id: 'other-api-service',
  client_secret: 'other-api-service-secret-0123456789-abcdef',
  scope: 'admin',
  resources: [OTHER_API],
};

describe('OAuth provider: tokens', () => {
  let server: TestServer;
  const clock = new TestClock();
  before(async () => {
    server = await startOAuthGatehouse(
      { clients: [...CLIENTS, OPAQUE_SERVICE, OPAQUE_APP, OTHER_API_SERVICE] },
      {},
      { clock },
    );
  });
  after(() => server.close());

  async function signedInTokens(email: string, parameters: Record<string, string> = OFFLINE) {
    const agent = new TestClient(server.url);
    const userId = await signInWithEmail(server, agent, email);
    const config = await discover(server, WEB_APP);
    const tokens = await codeFlow(server, agent, config, parameters);
    return { agent, userId, config, tokens };
  }

  async function liveRefreshTokens(grantSource: string): Promise<number> {
    const row = await server.services.stores.oauthModels.find('RefreshToken', sha256(grantSource));
    assert.ok(row?.grantId);
    const rows = await server.services.database.db
      .selectFrom('oauth_models')
      .select(['consumed_at'])
      .where('model', '=', 'RefreshToken')
      .where('grant_id', '=', row.grantId)
      .execute();
    return rows.filter((r) => r.consumed_at === null).length;
  }

  test('reuse of a rotated refresh token after the grace window revokes the whole grant and is audited', async () => {
    const { config, tokens, userId } = await signedInTokens('reuse@example.com');
    const first = tokens.refresh_token!;
    const second = (await client.refreshTokenGrant(config, first)).refresh_token!;
    clock.advance(server.services.config.oauth.refreshGraceMs + 1);
    const reuse = await refusalOf(client.refreshTokenGrant(config, first));
    assert.equal(reuse.error, 'invalid_grant');
    // The successor died with the grant: the legitimate client must sign in again.
    assert.equal((await refusalOf(client.refreshTokenGrant(config, second))).error, 'invalid_grant');
    const [event] = await server.services.stores.audit.list({
      userId,
      type: 'oauth.refresh_token_reused',
      limit: 5,
    });
    assert.ok(event, 'audited');
    assert.equal(event.details['clientId'], WEB_APP.client_id);
  });

  test('20 concurrent refreshes with one token: one successor for all, exactly one live token family', async () => {
    const { config, tokens } = await signedInTokens('parallel@example.com');
    const token = tokens.refresh_token!;
    const results = await concurrently(20, () => client.refreshTokenGrant(config, token));
    const successors = new Set(results.map((result) => result.refresh_token));
    assert.equal(successors.size, 1, 'every parallel request got the same successor');
    const [successor] = [...successors];
    assert.ok(successor && successor !== token);
    assert.equal(await liveRefreshTokens(successor), 1);
    // The family is alive: the successor refreshes normally.
    const next = await client.refreshTokenGrant(config, successor);
    assert.ok(next.refresh_token);
  });

  test('the grace window serves only the same client', async () => {
    const { config, tokens } = await signedInTokens('grace-client@example.com');
    const token = tokens.refresh_token!;
    const successor = (await client.refreshTokenGrant(config, token)).refresh_token!;
    const other = await discover(server, OTHER_APP);
    assert.equal((await refusalOf(client.refreshTokenGrant(other, token))).error, 'invalid_grant');
    // Another client presenting it is not the owner's reuse: the owner's successor still works.
    assert.ok((await client.refreshTokenGrant(config, successor)).refresh_token);
  });

  test('refresh tokens have an idle and an absolute lifetime', async () => {
    const { tokens } = await signedInTokens('lifetime@example.com');
    const row = await server.services.stores.oauthModels.find('RefreshToken', sha256(tokens.refresh_token!));
    const payload = JSON.parse(row!.payload) as { exp: number; iat: number; iiat: number };
    assert.equal(payload.exp - payload.iat, 14 * 86_400, 'idle lifetime');
    // Rotation never extends a chain past its absolute lifetime, counted from the first token.
    const limited = await startOAuthGatehouse({ refreshTokenIdleMs: 3000, refreshTokenAbsoluteMs: 3000 });
    try {
      const agent = new TestClient(limited.url);
      await signInWithEmail(limited, agent, 'short@example.com');
      const config = await discover(limited, WEB_APP);
      const first = (await codeFlow(limited, agent, config, OFFLINE)).refresh_token!;
      await new Promise((resolve) => setTimeout(resolve, 1100));
      const second = (await client.refreshTokenGrant(config, first)).refresh_token!;
      const stored = await limited.services.stores.oauthModels.find('RefreshToken', sha256(second));
      const rotated = JSON.parse(stored!.payload) as { exp: number; iat: number; iiat: number };
      assert.equal(rotated.exp, rotated.iiat + 3, 'capped by the absolute lifetime');
      assert.ok(rotated.exp < rotated.iat + 3, 'shorter than a fresh idle period');
      await new Promise((resolve) => setTimeout(resolve, (rotated.exp + 1) * 1000 - Date.now()));
      assert.equal((await refusalOf(client.refreshTokenGrant(config, second))).error, 'invalid_grant');
    } finally {
      await limited.close();
    }
  });

  test('client credentials: a 5-minute JWT for the client itself, audience-bound', async () => {
    const config = await discover(server, SERVICE);
    const tokens = await client.clientCredentialsGrant(config, { scope: 'read' });
    const { header, payload } = decodeJwt(tokens.access_token);
    assert.equal(header['typ'], 'at+jwt');
    assert.equal(payload['sub'], SERVICE.client_id);
    assert.equal(payload['aud'], API);
    assert.equal(payload['scope'], 'read');
    assert.equal((payload['exp'] as number) - (payload['iat'] as number), 300);
    assert.equal(tokens.refresh_token, undefined);
    const refused = await refusalOf(
      client.clientCredentialsGrant(config, { scope: 'read', resource: OTHER_API }),
    );
    assert.equal(refused.error, 'invalid_target');
  });

  test("the token endpoint's answers carry DESIGN §4's headers, the provider's own where it sets them", async () => {
    const response = await providerPost(
      server,
      '/oauth/token',
      { grant_type: 'client_credentials', scope: 'read' },
      SERVICE,
    );
    assert.equal(response.status, 200);
    for (const [name, value] of STATIC_SECURITY_HEADERS.filter(
      ([name]) => name !== 'content-security-policy',
    ))
      assert.equal(response.headers.get(name), value, name);
    // The provider's own CSP (room for its self-submitting forms' script hashes) replaces the base one.
    assert.match(response.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
    assert.ok(response.headers.get('x-request-id'));
  });

  test('a wrong client secret is invalid_client and audited', async () => {
    const config = await discover(server, {
      client_id: SERVICE.client_id,
      client_secret: `${SERVICE.client_secret}x`,
    });
    const refused = await refusalOf(client.clientCredentialsGrant(config, { scope: 'read' }));
    assert.equal(refused.status, 401);
    const [event] = await server.services.stores.audit.list({ type: 'oauth.client_auth_failed', limit: 1 });
    assert.equal(event?.details['clientId'], SERVICE.client_id);
  });

  test('grants a client does not have are refused (no implicit, no password, only its own)', async () => {
    for (const grantType of ['password', 'implicit']) {
      const answer = await providerPost(server, '/oauth/token', { grant_type: grantType }, WEB_APP);
      assert.equal(answer.status, 400);
      assert.equal(answer.body['error'], 'unsupported_grant_type', grantType);
    }
    // Grants the server has but this client was not given (ASVS 5.0 V10.4.4): unauthorized_client
    // (RFC 6749 §5.2).
    for (const grantType of ['client_credentials', 'urn:ietf:params:oauth:grant-type:device_code']) {
      const answer = await providerPost(server, '/oauth/token', { grant_type: grantType }, WEB_APP);
      assert.equal(answer.status, 400);
      assert.equal(answer.body['error'], 'unauthorized_client', grantType);
    }
  });

  test('introspection (RFC 7662): only for authenticated clients, about their own tokens', async () => {
    const { config, tokens } = await signedInTokens('introspect@example.com');
    const opaque = tokens.access_token;
    assert.equal(opaque.split('.').length, 1, 'no resource: an opaque token for userinfo');
    const own = await client.tokenIntrospection(config, tokens.refresh_token!);
    assert.equal(own.active, true);
    assert.equal(own.client_id, WEB_APP.client_id);
    assert.equal((await client.tokenIntrospection(config, opaque)).active, true);
    const other = await discover(server, OTHER_APP);
    assert.equal((await client.tokenIntrospection(other, tokens.refresh_token!)).active, false);
    const spa = await providerPost(server, '/oauth/introspect', { token: tokens.refresh_token! }, SPA);
    assert.equal(spa.body['active'], false, 'a public client learns nothing');
    const anonymous = await providerPost(server, '/oauth/introspect', { token: tokens.refresh_token! });
    assert.equal(anonymous.status, 400);
  });

  test('revocation by a public client (RFC 7009 §2.1): a SPA revokes its own refresh token, never another client’s', async () => {
    // A public client cannot authenticate, so it names itself by client_id only; what it may
    // revoke is bound to that id, so the worst a forged client_id does is revoke that client's
    // own tokens, which whoever holds them could do anyway. A SPA signing out needs exactly this.
    const agent = new TestClient(server.url);
    await signInWithEmail(server, agent, 'spa-revoke@example.com');
    const spa = await discover(server, SPA);
    const own = await codeFlow(server, agent, spa, { ...OFFLINE, redirect_uri: SPA.redirect_uris[0]! });
    assert.ok(own.refresh_token);
    const { config: web, tokens: theirs } = await signedInTokens('spa-revoke-web@example.com');
    await client.tokenRevocation(spa, theirs.refresh_token!);
    assert.equal((await client.tokenIntrospection(web, theirs.refresh_token!)).active, true, 'untouched');
    await client.tokenRevocation(spa, own.refresh_token);
    assert.equal((await refusalOf(client.refreshTokenGrant(spa, own.refresh_token))).error, 'invalid_grant');
  });

  test('JWT access tokens are checked by the API itself: introspection and revocation refuse them', async () => {
    const config = await discover(server, SERVICE);
    const { access_token: jwt } = await client.clientCredentialsGrant(config, { scope: 'read' });
    assert.equal(jwt.split('.').length, 3);
    for (const path of ['/oauth/introspect', '/oauth/revoke']) {
      const refused = await providerPost(server, path, { token: jwt }, SERVICE);
      assert.equal(refused.status, 400, path);
      assert.equal(refused.body['error'], 'unsupported_token_type', path);
    }
  });

  test('opaque access tokens per client: the API introspects them, and revocation stops them at once', async () => {
    const config = await discover(server, OPAQUE_SERVICE);
    const { access_token: opaque } = await client.clientCredentialsGrant(config, { scope: 'read' });
    assert.equal(opaque.split('.').length, 1, 'not a JWT');
    const seen = await client.tokenIntrospection(config, opaque);
    assert.equal(seen.active, true);
    assert.equal(seen.aud, API);
    assert.equal(seen.scope, 'read');
    assert.equal(seen.client_id, OPAQUE_SERVICE.client_id);
    // The API itself, registered as a client that may call API, may introspect it; a client for
    // another API may not.
    const api = await discover(server, SERVICE);
    assert.equal((await client.tokenIntrospection(api, opaque)).active, true);
    const unrelated = await discover(server, OTHER_API_SERVICE);
    assert.equal((await client.tokenIntrospection(unrelated, opaque)).active, false);
    // Stored as a hash only, like every bearer secret (sql-adapter.ts).
    assert.ok(await server.services.stores.oauthModels.find('ClientCredentials', sha256(opaque)));
    await client.tokenRevocation(config, opaque);
    assert.equal((await client.tokenIntrospection(api, opaque)).active, false);
  });

  test('a user-bound opaque token stops at once when its user is disabled', async () => {
    const agent = new TestClient(server.url);
    const userId = await signInWithEmail(server, agent, 'opaque-user@example.com');
    const config = await discover(server, OPAQUE_APP);
    const { access_token: opaque } = await codeFlow(server, agent, config, {
      ...OFFLINE,
      scope: 'openid read',
      resource: API,
    });
    assert.equal(opaque.split('.').length, 1, 'not a JWT');
    const api = await discover(server, SERVICE);
    const seen = await client.tokenIntrospection(api, opaque);
    assert.equal(seen.active, true);
    assert.equal(seen.sub, userId);
    assert.equal(seen.aud, API);
    await server.services.userAdministration.disable(userId, {
      context: { ip: null, userAgent: null, requestId: null },
      actorId: null,
      sessionId: null,
      via: 'api',
    });
    assert.equal((await client.tokenIntrospection(api, opaque)).active, false);
  });

  test('revocation (RFC 7009): a revoked refresh token stops working, and only the owner can revoke', async () => {
    const { config, tokens } = await signedInTokens('revoke@example.com');
    // Another client's attempt is answered like any unknown token (RFC 7009 §2.2) and changes nothing.
    const other = await discover(server, OTHER_APP);
    await client.tokenRevocation(other, tokens.refresh_token!);
    assert.equal((await client.tokenIntrospection(config, tokens.refresh_token!)).active, true);
    await client.tokenRevocation(config, tokens.refresh_token!);
    assert.equal((await client.tokenIntrospection(config, tokens.refresh_token!)).active, false);
    assert.equal(
      (await refusalOf(client.refreshTokenGrant(config, tokens.refresh_token!))).error,
      'invalid_grant',
    );
  });

  test('PAR (RFC 9126): a client that requires it is refused without; works with', async () => {
    const agent = new TestClient(server.url);
    await signInWithEmail(server, agent, 'par@example.com');
    const config = await discover(server, PAR_APP);
    const plain = await authorizationRequest(config, { redirect_uri: PAR_APP.redirect_uris[0]! });
    const refused = await followAuthorization(server, agent, plain.url);
    assert.equal(refused.callback?.searchParams.get('error'), 'invalid_request');
    const verifier = client.randomPKCECodeVerifier();
    const url = await client.buildAuthorizationUrlWithPAR(config, {
      redirect_uri: PAR_APP.redirect_uris[0]!,
      scope: 'openid',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    });
    assert.ok(url.searchParams.get('request_uri'));
    const outcome = await followAuthorization(server, agent, url);
    assert.ok(outcome.callback?.searchParams.get('code'));
    const tokens = await client.authorizationCodeGrant(config, outcome.callback!, {
      pkceCodeVerifier: verifier,
      idTokenExpected: true,
    });
    assert.ok(tokens.id_token);
  });

  test('tokens and secrets are stored as hashes only', async () => {
    const { tokens } = await signedInTokens('at-rest@example.com');
    const rows = await server.services.database.db.selectFrom('oauth_models').selectAll().execute();
    const dump = JSON.stringify(rows);
    assert.ok(!dump.includes(tokens.refresh_token!), 'no refresh token in the clear');
    assert.ok(!dump.includes(tokens.access_token), 'no access token in the clear');
    assert.ok(await server.services.stores.oauthModels.find('RefreshToken', sha256(tokens.refresh_token!)));
  });

  test('DPoP (RFC 9449): a client that requires it gets sender-constrained tokens, and nothing without a proof', async () => {
    const agent = new TestClient(server.url);
    await signInWithEmail(server, agent, 'dpop@example.com');
    const config = await discover(server, DPOP_APP);
    const request = await authorizationRequest(config, {
      redirect_uri: DPOP_APP.redirect_uris[0]!,
      scope: 'openid offline_access read',
      resource: API,
      prompt: 'consent',
    });
    const outcome = await followAuthorization(server, agent, request.url);
    const checks = {
      pkceCodeVerifier: request.verifier,
      expectedState: request.state,
      expectedNonce: request.nonce,
    };
    const refused = await refusalOf(client.authorizationCodeGrant(config, outcome.callback!, checks));
    assert.equal(refused.error, 'invalid_grant', 'no proof, no token');
    const again = await authorizationRequest(config, {
      redirect_uri: DPOP_APP.redirect_uris[0]!,
      scope: 'openid offline_access read',
      resource: API,
    });
    const second = await followAuthorization(server, agent, again.url);
    const keyPair = await client.randomDPoPKeyPair();
    const dpop = client.getDPoPHandle(config, keyPair);
    const tokens = await client.authorizationCodeGrant(
      config,
      second.callback!,
      { pkceCodeVerifier: again.verifier, expectedState: again.state, expectedNonce: again.nonce },
      undefined,
      { DPoP: dpop },
    );
    assert.equal(tokens.token_type, 'dpop');
    const { payload } = decodeJwt(tokens.access_token);
    assert.equal(
      (payload['cnf'] as { jkt?: string }).jkt,
      await calculateJwkThumbprint(await exportJWK(keyPair.publicKey)),
    );
    const stolen = client.getDPoPHandle(config, await client.randomDPoPKeyPair());
    assert.equal(
      (await refusalOf(client.refreshTokenGrant(config, tokens.refresh_token!, undefined, { DPoP: stolen })))
        .error,
      'invalid_grant',
      'a refresh token bound to another key',
    );
    assert.ok(
      (await client.refreshTokenGrant(config, tokens.refresh_token!, undefined, { DPoP: dpop })).access_token,
    );
  });

  /** A DPoP client's tokens for a new user, bound to a fresh key (code flow, consent, a proof at the exchange). */
  async function dpopTokens(email: string) {
    const agent = new TestClient(server.url);
    await signInWithEmail(server, agent, email);
    const config = await discover(server, DPOP_APP);
    const keyPair = await client.randomDPoPKeyPair();
    const dpop = client.getDPoPHandle(config, keyPair);
    const request = await authorizationRequest(config, {
      redirect_uri: DPOP_APP.redirect_uris[0]!,
      scope: 'openid offline_access read',
      resource: API,
      prompt: 'consent',
    });
    const outcome = await followAuthorization(server, agent, request.url);
    const tokens = await client.authorizationCodeGrant(
      config,
      outcome.callback!,
      { pkceCodeVerifier: request.verifier, expectedState: request.state, expectedNonce: request.nonce },
      undefined,
      { DPoP: dpop },
    );
    return { config, keyPair, dpop, tokens };
  }

  test('DPoP and the grace window: 20 concurrent refreshes by one key share one successor; another key gets nothing', async () => {
    const { config, keyPair, dpop, tokens } = await dpopTokens('dpop-parallel@example.com');
    const token = tokens.refresh_token!;
    // Each request carries its own proof (its own jti) by the same key, as parallel tabs would.
    const results = await concurrently(20, () =>
      client.refreshTokenGrant(config, token, undefined, { DPoP: client.getDPoPHandle(config, keyPair) }),
    );
    const successors = new Set(results.map((result) => result.refresh_token));
    assert.equal(successors.size, 1, 'every parallel request got the same successor');
    const [successor] = [...successors];
    assert.ok(successor && successor !== token);
    assert.equal(await liveRefreshTokens(successor), 1);
    const jkt = await calculateJwkThumbprint(await exportJWK(keyPair.publicKey));
    for (const result of results) {
      assert.equal(result.token_type, 'dpop');
      assert.equal((decodeJwt(result.access_token).payload['cnf'] as { jkt?: string }).jkt, jkt);
    }
    // Within the window, the same token with a proof by another key is refused and changes nothing.
    const stolen = client.getDPoPHandle(config, await client.randomDPoPKeyPair());
    assert.equal(
      (await refusalOf(client.refreshTokenGrant(config, token, undefined, { DPoP: stolen }))).error,
      'invalid_grant',
    );
    // …and without a proof at all.
    assert.equal((await refusalOf(client.refreshTokenGrant(config, token))).error, 'invalid_grant');
    const next = await client.refreshTokenGrant(config, successor, undefined, { DPoP: dpop });
    assert.ok(next.refresh_token, 'the family is alive');
  });

  test('DPoP and the grace window: one proof sent twice in parallel is spent once; the copy gets nothing', async () => {
    const { config, keyPair, tokens } = await dpopTokens('dpop-proof-replay@example.com');
    // One proof (RFC 9449 §4.2), the same bytes on both requests, as an attacker replaying a
    // captured request would send them.
    const tokenEndpoint = config.serverMetadata().token_endpoint!;
    const proof = await new SignJWT({ htm: 'POST', htu: tokenEndpoint, jti: crypto.randomUUID() })
      .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: await exportJWK(keyPair.publicKey) })
      .setIssuedAt()
      .sign(keyPair.privateKey);
    const send = () =>
      fetch(tokenEndpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', dpop: proof },
        body: new URLSearchParams({
          grant_type: 'refresh_token',
          refresh_token: tokens.refresh_token!,
          client_id: DPOP_APP.client_id,
        }),
      }).then(async (response) => ({ status: response.status, body: await response.json() }));
    const answers = await Promise.all([send(), send()]);
    assert.deepEqual(answers.map((answer) => answer.status).sort(), [200, 400], JSON.stringify(answers));
    assert.equal(answers.find((answer) => answer.status === 400)?.body.error, 'invalid_grant');
  });

  test('confidential clients must authenticate at the token, PAR, introspection and revocation endpoints (ASVS V10.4.10)', async () => {
    const { tokens } = await signedInTokens('endpoint-auth@example.com');
    const noSecret = { client_id: WEB_APP.client_id };
    const wrong = { client_id: WEB_APP.client_id, client_secret: `${WEB_APP.client_secret}x` };
    const requests: Array<[string, Record<string, string>]> = [
      ['/oauth/token', { grant_type: 'refresh_token', refresh_token: tokens.refresh_token! }],
      [
        '/oauth/par',
        {
          response_type: 'code',
          redirect_uri: WEB_APP.redirect_uris[0]!,
          scope: 'openid',
          code_challenge: 'x'.repeat(43),
          code_challenge_method: 'S256',
        },
      ],
      ['/oauth/introspect', { token: tokens.refresh_token! }],
      ['/oauth/revoke', { token: tokens.refresh_token! }],
    ];
    for (const [path, form] of requests) {
      for (const credentials of [noSecret, wrong]) {
        const answer = await providerPost(server, path, form, credentials);
        assert.equal(
          answer.body['error'],
          'invalid_client',
          `${path} ${credentials === wrong ? 'wrong secret' : 'no secret'}`,
        );
      }
    }
    assert.equal(
      (await client.tokenIntrospection(await discover(server, WEB_APP), tokens.refresh_token!)).active,
      true,
    );
  });

  test('browsers may call the token endpoint only for public clients, from their own origin (CORS)', async () => {
    const evil = await fetch(`${server.url}/oauth/token`, {
      method: 'POST',
      headers: { origin: 'https://evil.example.test', 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: SERVICE.client_id,
        client_secret: SERVICE.client_secret,
      }),
    });
    assert.equal(evil.status, 400);
    assert.equal(evil.headers.get('access-control-allow-origin'), null);
    const spa = await fetch(`${server.url}/oauth/token`, {
      method: 'POST',
      headers: { origin: 'https://spa.example.test', 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: 'unknown',
        client_id: SPA.client_id,
      }),
    });
    assert.equal(spa.headers.get('access-control-allow-origin'), 'https://spa.example.test');
  });
});
