/**
 * The passkey routes end to end over a real socket (DESIGN §5): a real Gatehouse on SQLite, a
 * cookie-keeping client, and the soft authenticator playing the browser + authenticator.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SESSION_COOKIE } from '../../src/http/cookies.ts';
import type { UserRecord } from '../../src/ports/user-store.ts';
import { TestClient } from '../support/http-client.ts';
import { startGatehouse, type TestServer } from '../support/server.ts';
import { SoftAuthenticator } from '../support/soft-authenticator.ts';

describe('passkey routes', () => {
  let server: TestServer;

  before(async () => {
    server = await startGatehouse();
  });

  after(async () => {
    await server.close();
  });

  const context = { ip: '127.0.0.1', userAgent: 'passkey-http.test', requestId: null };

  /** A client holding a fresh session for `user` (issued through the services, not the API). */
  async function clientFor(user: UserRecord): Promise<TestClient> {
    const { token } = await server.services.sessions.issue(user.id, ['test'], context);
    const client = new TestClient(server.url);
    client.cookies.set(SESSION_COOKIE, token);
    return client;
  }

  async function signedUp(email: string): Promise<{ user: UserRecord; client: TestClient }> {
    const { user } = await server.services.users.signInByVerifiedEmail(email);
    return { user, client: await clientFor(user) };
  }

  async function addPasskey(client: TestClient, authenticator: SoftAuthenticator, name?: string) {
    const options = await client.post('/api/v1/passkeys/register/options');
    assert.equal(options.status, 200, options.text);
    const response = await authenticator.register(options.body);
    return client.post(
      '/api/v1/passkeys/register/verify',
      name === undefined ? { response } : { response, name },
    );
  }

  async function signInWith(
    client: TestClient,
    authenticator: SoftAuthenticator,
    extra: Record<string, unknown> = {},
  ) {
    const options = await client.post('/api/v1/passkeys/sign-in/options');
    assert.equal(options.status, 200, options.text);
    const response = await authenticator.authenticate(options.body);
    return client.post('/api/v1/passkeys/sign-in/verify', { response, ...extra });
  }

  it('registers a passkey for the signed-in user, lists it, and signs in with it', async () => {
    const { user, client } = await signedUp('ada@example.test');
    const phone = new SoftAuthenticator({ origin: server.origin });

    const options = await client.post('/api/v1/passkeys/register/options');
    assert.equal(options.status, 200);
    assert.equal(options.headers.get('cache-control'), 'no-store');
    assert.equal(options.body.rp.id, 'localhost');
    assert.equal(options.body.user.name, 'ada@example.test');
    assert.equal(options.body.authenticatorSelection.residentKey, 'required');
    assert.equal(typeof options.body.challenge, 'string');

    const registered = await client.post('/api/v1/passkeys/register/verify', {
      response: await phone.register(options.body),
      name: ' My phone ',
    });
    assert.equal(registered.status, 201, registered.text);
    const passkey = registered.body.passkey;
    assert.deepEqual(Object.keys(passkey).sort(), [
      'aaguid',
      'backedUp',
      'createdAt',
      'deviceType',
      'id',
      'lastUsedAt',
      'name',
      'transports',
    ]);
    assert.equal(passkey.name, 'My phone');
    assert.equal(passkey.deviceType, 'multiDevice');
    assert.equal(passkey.backedUp, true);
    assert.equal(passkey.lastUsedAt, null);
    assert.deepEqual(passkey.transports, ['internal', 'hybrid']);

    const listed = await client.get('/api/v1/passkeys');
    assert.equal(listed.status, 200);
    assert.deepEqual(listed.body, { passkeys: [passkey] });

    const browser = new TestClient(server.url);
    const signedIn = await signInWith(browser, phone, { redirectTo: '/account' });
    assert.equal(signedIn.status, 200, signedIn.text);
    assert.deepEqual(signedIn.body.user, {
      id: user.id,
      email: 'ada@example.test',
      emailVerified: true,
      displayName: null,
      createdAt: user.createdAt,
    });
    assert.deepEqual(signedIn.body.session.amr, ['pop', 'user', 'mfa']);
    assert.deepEqual(Object.keys(signedIn.body.session).sort(), [
      'amr',
      'authTime',
      'createdAt',
      'expiresAt',
      'id',
      'lastSeenAt',
    ]);
    assert.equal(signedIn.body.redirectTo, `${server.origin}/account`);
    assert.ok(browser.cookies.get(SESSION_COOKIE), 'a session cookie is set');
    const session = await browser.get('/api/v1/session');
    assert.equal(session.status, 200);
    assert.equal(session.body.user.id, user.id);
    assert.equal(session.body.session.id, signedIn.body.session.id);

    const used = (await client.get('/api/v1/passkeys')).body.passkeys[0];
    assert.equal(typeof used.lastUsedAt, 'number');
  });

  it('answers redirectTo null when none was asked for, and replaces an existing session', async () => {
    const { client } = await signedUp('replace@example.test');
    const phone = new SoftAuthenticator({ origin: server.origin });
    assert.equal((await addPasskey(client, phone)).status, 201);
    const oldToken = client.cookies.get(SESSION_COOKIE);
    const signedIn = await signInWith(client, phone);
    assert.equal(signedIn.status, 200, signedIn.text);
    assert.equal(signedIn.body.redirectTo, null);
    assert.notEqual(client.cookies.get(SESSION_COOKIE), oldToken);
    const stale = new TestClient(server.url);
    stale.cookies.set(SESSION_COOKIE, oldToken ?? '');
    assert.equal((await stale.get('/api/v1/session')).status, 401);
  });

  it('refuses a failed assertion with the generic error and sets no cookie', async () => {
    const { client } = await signedUp('bob@example.test');
    const key = new SoftAuthenticator({ origin: server.origin });
    assert.equal((await addPasskey(client, key)).status, 201);
    const browser = new TestClient(server.url);
    for (const overrides of [
      { origin: 'https://evil.example' },
      { crossOrigin: true },
      { corruptSignature: true },
    ]) {
      // Fresh options each time: a refused attempt has already used its challenge.
      const options = await browser.post('/api/v1/passkeys/sign-in/options');
      const response = await key.authenticate(options.body, overrides);
      const refused = await browser.post('/api/v1/passkeys/sign-in/verify', { response });
      assert.equal(refused.status, 400);
      assert.deepEqual(refused.body, {
        error: {
          code: 'passkey_verification_failed',
          message: 'The passkey could not be verified. Please try again.',
        },
      });
    }
    assert.equal(browser.cookies.size, 0);
    const failures = await server.services.stores.audit.list({ type: 'sign_in.passkey', limit: 3 });
    assert.deepEqual(
      failures.map((e) => [e.outcome, e.details.reason]),
      [
        ['failure', 'bad_signature'],
        ['failure', 'cross_origin'],
        ['failure', 'origin_mismatch'],
      ],
    );
    assert.ok(failures.every((e) => e.ip !== null && e.userAgent !== null));
  });

  it('refuses a redirect target outside the allowed list before using the challenge', async () => {
    const { client } = await signedUp('carol@example.test');
    const phone = new SoftAuthenticator({ origin: server.origin });
    assert.equal((await addPasskey(client, phone)).status, 201);
    const browser = new TestClient(server.url);
    const options = await browser.post('/api/v1/passkeys/sign-in/options');
    const response = await phone.authenticate(options.body);
    for (const redirectTo of ['https://evil.example/', '//evil.example', `${server.origin}@evil.example`]) {
      const refused = await browser.post('/api/v1/passkeys/sign-in/verify', { response, redirectTo });
      assert.equal(refused.status, 400, redirectTo);
      assert.equal(refused.body.error.code, 'redirect_refused');
    }
    assert.equal(browser.cookies.size, 0);
    const signedIn = await browser.post('/api/v1/passkeys/sign-in/verify', { response });
    assert.equal(signedIn.status, 200, 'the challenge was not burnt by the refused redirect');
  });

  it('needs a session to register, list, rename or remove', async () => {
    const anonymous = new TestClient(server.url);
    assert.equal((await anonymous.post('/api/v1/passkeys/register/options')).status, 401);
    assert.equal((await anonymous.post('/api/v1/passkeys/register/verify', { response: {} })).status, 400);
    assert.equal((await anonymous.get('/api/v1/passkeys')).status, 401);
    assert.equal((await anonymous.patch('/api/v1/passkeys/x', { name: 'n' })).status, 401);
    assert.equal((await anonymous.delete('/api/v1/passkeys/x')).status, 401);
  });

  it('validates the request bodies', async () => {
    const { client } = await signedUp('dave@example.test');
    const missing = await client.post('/api/v1/passkeys/register/verify', { name: 'x' });
    assert.equal(missing.status, 400);
    assert.equal(missing.body.error.code, 'validation_failed');
    const wrongType = await client.post('/api/v1/passkeys/sign-in/verify', {
      response: { id: 'a', rawId: 'a', type: 'password', response: {} },
    });
    assert.equal(wrongType.body.error.code, 'validation_failed');
    const phone = new SoftAuthenticator({ origin: server.origin });
    const tooLong = await addPasskey(client, phone, 'x'.repeat(65));
    assert.equal(tooLong.body.error.code, 'validation_failed');
  });

  it("renames and removes only the owner's passkeys", async () => {
    const eve = await signedUp('eve@example.test');
    const frank = await signedUp('frank@example.test');
    const evesKey = (await addPasskey(eve.client, new SoftAuthenticator({ origin: server.origin }))).body
      .passkey;
    const franksKey = (await addPasskey(frank.client, new SoftAuthenticator({ origin: server.origin }))).body
      .passkey;

    const renamed = await eve.client.patch(`/api/v1/passkeys/${evesKey.id}`, { name: 'Laptop' });
    assert.equal(renamed.status, 200, renamed.text);
    assert.equal(renamed.body.passkey.name, 'Laptop');
    assert.equal((await eve.client.patch(`/api/v1/passkeys/${evesKey.id}`, { name: '  ' })).status, 400);

    const notHers = await eve.client.patch(`/api/v1/passkeys/${franksKey.id}`, { name: 'Mine' });
    assert.equal(notHers.status, 404);
    assert.equal(notHers.body.error.code, 'not_found');
    assert.equal((await eve.client.delete(`/api/v1/passkeys/${franksKey.id}`)).status, 404);
    assert.equal((await frank.client.get('/api/v1/passkeys')).body.passkeys[0].name, franksKey.name);

    const removed = await eve.client.delete(`/api/v1/passkeys/${evesKey.id}`);
    assert.equal(removed.status, 204);
    assert.deepEqual((await eve.client.get('/api/v1/passkeys')).body, { passkeys: [] });
  });

  it('refuses to remove the last way to sign in (409)', async () => {
    const now = server.services.clock.now();
    const grace: UserRecord = {
      id: 'usr_grace_http',
      email: 'grace@example.test',
      emailVerifiedAt: null,
      displayName: null,
      createdAt: now,
      updatedAt: now,
      disabledAt: null,
    };
    await server.services.stores.users.createOrGet(grace);
    const client = await clientFor(grace);
    const only = (await addPasskey(client, new SoftAuthenticator({ origin: server.origin }))).body.passkey;
    const refused = await client.delete(`/api/v1/passkeys/${only.id}`);
    assert.equal(refused.status, 409);
    assert.equal(refused.body.error.code, 'last_sign_in_method');
    assert.equal((await client.get('/api/v1/passkeys')).body.passkeys.length, 1);
  });

  it('documents the passkey routes in OpenAPI', async () => {
    const document = (await new TestClient(server.url).get('/api/openapi.json')).body;
    for (const path of [
      '/api/v1/passkeys/register/options',
      '/api/v1/passkeys/register/verify',
      '/api/v1/passkeys/sign-in/options',
      '/api/v1/passkeys/sign-in/verify',
      '/api/v1/passkeys',
      '/api/v1/passkeys/{id}',
    ]) {
      assert.ok(document.paths[path], `${path} is documented`);
    }
    assert.ok(
      document.paths['/api/v1/passkeys/{id}'].patch && document.paths['/api/v1/passkeys/{id}'].delete,
    );
  });
});
