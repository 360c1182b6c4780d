/**
 * The admin API for OAuth clients (issue #5): administrators list, add, rotate and remove
 * clients over HTTP, through the same domain module as `gatehouse clients …`; changes need a
 * recent authentication; clients from the config file are read-only; secrets are shown once and
 * stored hashed; a client made here works with a certified client library at once.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { exportJWK, generateKeyPair } from 'jose';
import * as client from 'openid-client';
import { sha256 } from '../../src/domain/crypto/secrets.ts';
import { TestClient } from '../support/http-client.ts';
import {
  API,
  assertClientCredentialsNeedDpop,
  assertOnlyPushedRequestsWork,
  authorizationRequest,
  CALLBACK,
  codeFlow,
  decodeJwt,
  discover,
  followAuthorization,
  SERVICE,
  SPA,
  startOAuthGatehouse,
  WEB_APP,
  refusalOf,
} from '../support/oauth.ts';
import { TestClock, type TestServer } from '../support/server.ts';
import { signInWithEmail } from '../support/sign-in.ts';

const ADMIN = 'admin@example.com';
const CLIENTS = '/api/v1/admin/oauth/clients';

/** A confidential machine client: client credentials for the API. */
const MACHINE = {
  type: 'confidential',
  client_id: 'api-service',
  grant_types: ['client_credentials'],
  scope: 'read',
  resources: [API],
};

describe('OAuth clients admin API', () => {
  let server: TestServer;
  const clock = new TestClock();
  let admin: TestClient;
  let adminId: string;
  let alice: TestClient;

  before(async () => {
    server = await startOAuthGatehouse({}, { adminEmails: [ADMIN] }, { clock });
    admin = new TestClient(server.url);
    adminId = await signInWithEmail(server, admin, ADMIN);
    alice = new TestClient(server.url);
    await signInWithEmail(server, alice, 'alice@example.com');
  });
  after(() => server.close());

  async function storedRow(clientId: string) {
    return server.services.database.db
      .selectFrom('oauth_clients')
      .selectAll()
      .where('client_id', '=', clientId)
      .executeTakeFirst();
  }

  async function auditEvents(type: string): Promise<any[]> {
    const response = await admin.get(`/api/v1/audit?type=${type}&limit=50`);
    assert.equal(response.status, 200, response.text);
    return response.body.events;
  }

  test('signed out: 401; a signed-in user who is not an administrator: 403 forbidden, nothing changes', async () => {
    const signedOut = new TestClient(server.url);
    for (const [method, path, body] of [
      ['GET', CLIENTS, undefined],
      ['GET', `${CLIENTS}/web-app`, undefined],
      ['POST', CLIENTS, { ...MACHINE, client_id: 'sneaky' }],
      ['POST', `${CLIENTS}/service/rotate-secret`, {}],
      ['DELETE', `${CLIENTS}/service`, undefined],
    ] as const) {
      const anonymous = await signedOut.request(method, path, body);
      assert.equal(anonymous.status, 401, `${method} ${path}`);
      assert.equal(anonymous.body.error.code, 'unauthenticated');
      const notAdmin = await alice.request(method, path, body);
      assert.equal(notAdmin.status, 403, `${method} ${path}`);
      assert.equal(notAdmin.body.error.code, 'forbidden');
      assert.equal(notAdmin.body.clients, undefined);
    }
    assert.equal(await storedRow('sneaky'), undefined);
    // The config-file client still authenticates with its old secret.
    await client.clientCredentialsGrant(await discover(server, SERVICE), { scope: 'read' });
  });

  test('the list shows config-file clients as read-only and never a secret', async () => {
    const listed = await admin.get(CLIENTS);
    assert.equal(listed.status, 200, listed.text);
    const web = listed.body.clients.find((c: { client_id: string }) => c.client_id === 'web-app');
    assert.equal(web.source, 'config');
    assert.equal(web.confidential, true);
    assert.deepEqual(web.redirect_uris, WEB_APP.redirect_uris);
    assert.equal(web.client_secret, undefined);
    const spa = listed.body.clients.find((c: { client_id: string }) => c.client_id === SPA.client_id);
    assert.equal(spa.confidential, false);
    assert.ok(!listed.text.includes(WEB_APP.client_secret));
    assert.ok(!listed.text.includes(SERVICE.client_secret));
    const one = await admin.get(`${CLIENTS}/web-app`);
    assert.equal(one.status, 200);
    assert.deepEqual(one.body.client, web);
    const unknown = await admin.get(`${CLIENTS}/no-such-client`);
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error.code, 'not_found');
  });

  test('create a confidential client: the secret is in this answer only (no-store), stored as its SHA-256; client credentials work at once', async () => {
    const created = await admin.post(CLIENTS, MACHINE);
    assert.equal(created.status, 201, created.text);
    assert.equal(created.headers.get('cache-control'), 'no-store');
    const secret: string = created.body.client_secret;
    assert.equal(created.body.client_id, 'api-service');
    assert.equal(Buffer.from(secret, 'base64url').length, 32, '256 random bits');
    assert.equal(created.body.client.source, 'cli');
    assert.equal(created.body.client.confidential, true);
    assert.deepEqual(created.body.client.grant_types, ['client_credentials']);

    const row = await storedRow('api-service');
    assert.equal(row?.secret_hash, sha256(secret));
    assert.ok(!JSON.stringify(row).includes(secret), 'the row holds no secret');
    const read = await admin.get(`${CLIENTS}/api-service`);
    assert.equal(read.status, 200);
    assert.ok(!read.text.includes(secret));
    assert.ok(!(await admin.get(CLIENTS)).text.includes(secret));

    const tokens = await client.clientCredentialsGrant(
      await discover(server, { client_id: 'api-service', client_secret: secret }),
      { scope: 'read' },
    );
    const { payload } = decodeJwt(tokens.access_token);
    assert.equal(payload['aud'], API);
    assert.equal(payload['client_id'], 'api-service');

    const [event] = await auditEvents('oauth.client_created');
    assert.equal(event.outcome, 'success');
    assert.equal(event.actorId, adminId);
    assert.ok(event.sessionId);
    assert.equal(event.ip, '127.0.0.1');
    assert.ok(event.requestId);
    assert.equal(event.userAgent, admin.userAgent);
    assert.deepEqual(event.details, { clientId: 'api-service', confidential: true, via: 'api' });
    const log = await admin.get('/api/v1/audit?limit=200');
    assert.ok(!log.text.includes(secret), 'no secret in the audit log');
  });

  test('create a public client: no secret; it runs the code flow with PKCE', async () => {
    const created = await admin.post(CLIENTS, {
      type: 'public',
      client_id: 'api-spa',
      client_name: 'API SPA',
      redirect_uris: [CALLBACK],
      scope: 'openid email',
    });
    assert.equal(created.status, 201, created.text);
    assert.equal(created.body.client_secret, null);
    assert.equal(created.body.client.confidential, false);
    assert.equal((await storedRow('api-spa'))?.secret_hash, null);
    const tokens = await codeFlow(server, alice, await discover(server, { client_id: 'api-spa' }));
    assert.equal(tokens.claims()?.['aud'], 'api-spa');
  });

  test('a confidential private_key_jwt client registers its public keys and gets no secret', async () => {
    const { publicKey } = await generateKeyPair('ES256');
    const jwk = { ...(await exportJWK(publicKey)), alg: 'ES256', use: 'sig', kid: 'k1' };
    const created = await admin.post(CLIENTS, {
      ...MACHINE,
      client_id: 'keyed-service',
      token_endpoint_auth_method: 'private_key_jwt',
      jwks: { keys: [jwk] },
    });
    assert.equal(created.status, 201, created.text);
    assert.equal(created.body.client_secret, null);
    assert.equal(created.body.client.confidential, true);
    assert.equal((await storedRow('keyed-service'))?.secret_hash, null);
    const rotate = await admin.post(`${CLIENTS}/keyed-service/rotate-secret`);
    assert.equal(rotate.status, 409);
    assert.equal(rotate.body.error.reason, 'no_secret');
  });

  test('rotate-secret: the new secret is shown once; the old one is refused at once, the new one accepted', async () => {
    const created = await admin.post(CLIENTS, { ...MACHINE, client_id: 'rotating-service' });
    assert.equal(created.status, 201, created.text);
    const old: string = created.body.client_secret;
    const rotated = await admin.post(`${CLIENTS}/rotating-service/rotate-secret`);
    assert.equal(rotated.status, 200, rotated.text);
    assert.equal(rotated.headers.get('cache-control'), 'no-store');
    const fresh: string = rotated.body.client_secret;
    assert.equal(rotated.body.client_id, 'rotating-service');
    assert.notEqual(fresh, old);
    assert.equal((await storedRow('rotating-service'))?.secret_hash, sha256(fresh));

    const refused = await refusalOf(
      client.clientCredentialsGrant(
        await discover(server, { client_id: 'rotating-service', client_secret: old }),
        { scope: 'read' },
      ),
    );
    // openid-client reports the 401 as a WWW-Authenticate challenge carrying the error code.
    assert.equal(refused.status, 401);
    assert.match(JSON.stringify(refused.cause), /invalid_client/);
    await client.clientCredentialsGrant(
      await discover(server, { client_id: 'rotating-service', client_secret: fresh }),
      { scope: 'read' },
    );
    const [event] = await auditEvents('oauth.client_secret_rotated');
    assert.equal(event.actorId, adminId);
    assert.deepEqual(event.details, { clientId: 'rotating-service', via: 'api' });
    assert.ok(!JSON.stringify(event).includes(fresh));

    const publicClient = await admin.post(`${CLIENTS}/api-spa/rotate-secret`);
    assert.equal(publicClient.status, 409);
    assert.equal(publicClient.body.error.code, 'conflict');
    assert.equal(publicClient.body.error.reason, 'no_secret');
    const unknown = await admin.post(`${CLIENTS}/no-such-client/rotate-secret`);
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error.code, 'not_found');
  });

  test('remove: the client goes with every grant and token; its refresh token stops working', async () => {
    const definition = {
      type: 'confidential',
      client_id: 'leaving-app',
      client_name: 'Leaving App',
      redirect_uris: [CALLBACK],
      grant_types: ['authorization_code', 'refresh_token'],
      scope: 'openid offline_access',
    };
    const created = await admin.post(CLIENTS, definition);
    assert.equal(created.status, 201, created.text);
    const config = await discover(server, {
      client_id: 'leaving-app',
      client_secret: created.body.client_secret,
    });
    const tokens = await codeFlow(server, alice, config, {
      scope: 'openid offline_access',
      prompt: 'consent',
    });
    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token!);
    assert.ok(refreshed.refresh_token);

    const removed = await admin.delete(`${CLIENTS}/leaving-app`);
    assert.equal(removed.status, 204, removed.text);
    assert.equal(await storedRow('leaving-app'), undefined);
    const left = await server.services.database.db
      .selectFrom('oauth_models')
      .select(['model'])
      .where('client_id', '=', 'leaving-app')
      .execute();
    assert.deepEqual(left, [], 'no grant, code or token of the client is left');
    const [event] = await auditEvents('oauth.client_removed');
    assert.equal(event.actorId, adminId);
    assert.equal(event.outcome, 'success');
    assert.equal(event.details.clientId, 'leaving-app');
    assert.ok(event.details.revoked >= 2, 'the grant and its tokens were counted');

    const refused = await refusalOf(client.refreshTokenGrant(config, refreshed.refresh_token!));
    assert.equal(refused.status, 401, 'the client itself is gone');
    assert.equal((await admin.get(`${CLIENTS}/leaving-app`)).status, 404);
    assert.equal((await admin.delete(`${CLIENTS}/leaving-app`)).status, 404);

    // Not only the client: the token itself is gone. A new client under the same id (a new
    // secret) cannot redeem what was issued to the old one.
    const again = await admin.post(CLIENTS, definition);
    assert.equal(again.status, 201, again.text);
    const successor = await discover(server, {
      client_id: 'leaving-app',
      client_secret: again.body.client_secret,
    });
    const reused = await refusalOf(client.refreshTokenGrant(successor, refreshed.refresh_token!));
    assert.equal(reused.error, 'invalid_grant');
    assert.equal((await admin.delete(`${CLIENTS}/leaving-app`)).status, 204);
  });

  test('config-file clients are read-only here: 409 conflict, reason config_client; refusals are audited', async () => {
    for (const [method, path] of [
      ['POST', `${CLIENTS}/service/rotate-secret`],
      ['DELETE', `${CLIENTS}/service`],
    ] as const) {
      const response = await admin.request(method, path, method === 'POST' ? {} : undefined);
      assert.equal(response.status, 409, `${method} ${path}: ${response.text}`);
      assert.equal(response.body.error.code, 'conflict');
      assert.equal(response.body.error.reason, 'config_client');
    }
    const taken = await admin.post(CLIENTS, { ...MACHINE, client_id: 'service' });
    assert.equal(taken.status, 409);
    assert.equal(taken.body.error.reason, 'client_exists');
    const twice = await admin.post(CLIENTS, MACHINE);
    assert.equal(twice.status, 409);
    assert.equal(twice.body.error.reason, 'client_exists');
    // Untouched: the config-file secret still works.
    await client.clientCredentialsGrant(await discover(server, SERVICE), { scope: 'read' });
    const [refused] = await auditEvents('oauth.client_removed');
    assert.equal(refused.outcome, 'failure');
    assert.equal(refused.actorId, adminId);
    assert.deepEqual(refused.details, { clientId: 'service', reason: 'config_client', via: 'api' });
  });

  test('invalid definitions: 400 with a stable code and the reasons, never a 500', async () => {
    const cases: [unknown, string, RegExp?][] = [
      [{ client_id: 'no-type', redirect_uris: [CALLBACK] }, 'validation_failed', /type/],
      [{ ...MACHINE, client_id: 'typo', type: 'secret' }, 'validation_failed'],
      [
        { ...MACHINE, client_id: 'chosen', client_secret: 'x'.repeat(40) },
        'validation_failed',
        /client_secret/,
      ],
      [{ ...MACHINE, client_id: 'extra', frobnicate: true }, 'validation_failed', /frobnicate/],
      [{ ...MACHINE, client_id: 'x'.repeat(129) }, 'validation_failed'],
      [{ ...MACHINE, client_id: 'has space' }, 'validation_failed', /client_id/],
      [{ ...MACHINE, client_id: 'pw', grant_types: ['password'] }, 'validation_failed'],
      [{ ...MACHINE, client_id: 'no-list', redirect_uris: 'https://a.example.test/cb' }, 'validation_failed'],
      [
        { type: 'public', client_id: 'http-web', redirect_uris: ['http://app.example.test/cb'] },
        'validation_failed',
        /https/,
      ],
      [
        { type: 'public', client_id: 'frag', redirect_uris: ['https://app.example.test/cb#x'] },
        'validation_failed',
        /fragment/,
      ],
      [{ ...MACHINE, type: 'public', client_id: 'public-service' }, 'validation_failed', /confidential/],
      [
        { ...MACHINE, client_id: 'elsewhere', resources: ['https://nope.example.test'] },
        'validation_failed',
        /not declared/,
      ],
      [{ type: 'public', client_id: 'no-redirect' }, 'validation_failed', /redirect URI/],
      [{ ...MACHINE, client_id: 'bad-scope', scope: 'read <script>' }, 'validation_failed'],
      [[MACHINE], 'validation_failed'],
      [null, 'validation_failed'],
      ['{"client_id":', 'bad_request'],
    ];
    for (const [body, code, reason] of cases) {
      const response = await admin.post(
        CLIENTS,
        body,
        typeof body === 'string' ? { 'content-type': 'application/json' } : {},
      );
      assert.equal(response.status, 400, `${JSON.stringify(body)}: ${response.text}`);
      assert.equal(response.body.error.code, code, JSON.stringify(body));
      if (reason) assert.match(JSON.stringify(response.body.error.issues), reason, JSON.stringify(body));
    }
    const rows = await server.services.database.db
      .selectFrom('oauth_clients')
      .select(['client_id'])
      .execute();
    assert.deepEqual(
      rows
        .map((row) => row.client_id)
        .filter((id) => !['api-service', 'api-spa', 'keyed-service', 'rotating-service'].includes(id)),
      [],
      'nothing invalid was stored',
    );
  });

  // After the invalid-definitions test, which counts the stored clients.
  test('trusted: true: the client skips the consent page; the same client without it is asked', async () => {
    for (const [clientId, trusted] of [
      ['api-first-party', true],
      ['api-third-party', false],
    ] as const) {
      const created = await admin.post(CLIENTS, {
        type: 'public',
        client_id: clientId,
        redirect_uris: [CALLBACK],
        scope: 'openid email',
        trusted,
      });
      assert.equal(created.status, 201, created.text);
      assert.equal(created.body.client.trusted, trusted);
      const request = await authorizationRequest(await discover(server, { client_id: clientId }));
      const outcome = await followAuthorization(server, alice, request.url);
      assert.ok(outcome.callback?.searchParams.get('code'), JSON.stringify(outcome).slice(0, 300));
      assert.equal(outcome.consentShown, !trusted, `${clientId}: consent page shown`);
    }
  });

  test('require_par: true: a plain authorization request is refused (invalid_request); a pushed one gets a code', async () => {
    const created = await admin.post(CLIENTS, {
      type: 'confidential',
      client_id: 'api-par',
      redirect_uris: [CALLBACK],
      scope: 'openid email',
      require_par: true,
    });
    assert.equal(created.status, 201, created.text);
    assert.equal(created.body.client.require_par, true);
    const config = await discover(server, created.body);
    const tokens = await assertOnlyPushedRequestsWork(server, alice, config);
    assert.equal(tokens.claims()?.['aud'], 'api-par');
  });

  test('require_dpop: true: a token request without a DPoP proof is refused; with one the token is key-bound', async () => {
    const created = await admin.post(CLIENTS, { ...MACHINE, client_id: 'api-dpop', require_dpop: true });
    assert.equal(created.status, 201, created.text);
    assert.equal(created.body.client.require_dpop, true);
    const token = await assertClientCredentialsNeedDpop(server, created.body);
    assert.equal(decodeJwt(token).payload['client_id'], 'api-dpop');
  });

  test('the routes are in the OpenAPI document', async () => {
    const document = await (await fetch(`${server.url}/api/openapi.json`)).json();
    assert.deepEqual(Object.keys(document.paths[CLIENTS]).sort(), ['get', 'post']);
    assert.deepEqual(Object.keys(document.paths[`${CLIENTS}/{clientId}`]).sort(), ['delete', 'get']);
    assert.ok(document.paths[`${CLIENTS}/{clientId}/rotate-secret`].post);
    const body = document.paths[CLIENTS].post.requestBody.content['application/json'].schema;
    assert.ok(body.properties.type && body.properties.redirect_uris);
    assert.equal(body.properties.client_secret, undefined, 'a secret is never chosen by the caller');
  });

  // Last: it moves the clock past every sign-in's step-up window.
  test('changes need a recent authentication (step_up_required); reading does not', async () => {
    clock.advance(server.services.config.mfa.stepUpMaxAgeMs + 1);
    for (const [method, path, body] of [
      ['POST', CLIENTS, { ...MACHINE, client_id: 'stale-admin' }],
      ['POST', `${CLIENTS}/api-service/rotate-secret`, {}],
      ['DELETE', `${CLIENTS}/api-service`, undefined],
    ] as const) {
      const response = await admin.request(method, path, body);
      assert.equal(response.status, 403, `${method} ${path}: ${response.text}`);
      assert.equal(response.body.error.code, 'step_up_required');
    }
    assert.equal(await storedRow('stale-admin'), undefined);
    assert.ok(await storedRow('api-service'), 'not removed');
    assert.equal((await admin.get(CLIENTS)).status, 200);
    // A non-admin still gets forbidden, not an invitation to step up.
    assert.equal((await alice.post(CLIENTS, MACHINE)).body.error.code, 'forbidden');
    // Signing in again is a recent authentication.
    await signInWithEmail(server, admin, ADMIN);
    const created = await admin.post(CLIENTS, { ...MACHINE, client_id: 'fresh-admin' });
    assert.equal(created.status, 201, created.text);
  });
});
