/**
 * Disabling a user (issue #5: "disabling a user revokes all grants"), over real HTTP with a real
 * OAuth provider and openid-client: the admin API finds and disables an account; its sessions
 * stop at once, every sign-in pathway is refused with account_disabled (only after the factor
 * was accepted: asking for a link or code answers as for anyone), its refresh tokens die; enabling
 * lets it sign in again. The CLI runs the same operation on the same database.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as client from 'openid-client';
import { runCli } from '../support/cli.ts';
import { TestClient } from '../support/http-client.ts';
import { liftedRateLimits } from '../support/limits.ts';
import { mailMatching, tokenIn } from '../support/mail.ts';
import { codeFlow, discover, refusalOf, startOAuthGatehouse, WEB_APP } from '../support/oauth.ts';
import { readSignInMail, TestClock, type TestServer } from '../support/server.ts';
import { newSignInMail, signInWithEmail } from '../support/sign-in.ts';

const ADMIN = 'admin@example.com';
const PASSWORD = 'correct horse battery staple 42';
const USERS = '/api/v1/admin/users';
const OFFLINE = { scope: 'openid offline_access', prompt: 'consent' };

describe('disabling a user', () => {
  let server: TestServer;
  const clock = new TestClock();
  let admin: TestClient;
  let adminId: string;

  before(async () => {
    server = await startOAuthGatehouse(
      {},
      { ...liftedRateLimits(), adminEmails: [ADMIN], passwords: { enabled: true } },
      { clock },
    );
    admin = new TestClient(server.url);
    adminId = await signInWithEmail(server, admin, ADMIN);
  });
  after(() => server.close());

  /** A password account, confirmed through the mailed link (which signs the client in). */
  async function passwordUser(email: string): Promise<TestClient> {
    const agent = new TestClient(server.url);
    assert.equal((await agent.post('/api/v1/password/sign-up', { email, password: PASSWORD })).status, 202);
    const confirmed = await agent.post('/api/v1/password/sign-up/confirm', {
      token: tokenIn(await mailMatching(server, email, /Confirm your/), '/password/confirm'),
    });
    assert.equal(confirmed.status, 200, confirmed.text);
    return agent;
  }

  /** Continue with email, then the mailed one-time code typed into the same browser. */
  async function emailCodeSignIn(email: string) {
    const agent = new TestClient(server.url);
    const before = (await server.services.stores.devMailbox.list({ to: email, limit: 1 }))[0]?.id;
    const requested = await agent.post('/api/v1/email/sign-in', { email });
    const { code } = readSignInMail(await newSignInMail(server, email, before));
    return { requested, verified: await agent.post('/api/v1/email/verify', { email, code }), agent };
  }

  async function userIdOf(email: string): Promise<string> {
    const found = await admin.get(`${USERS}?email=${encodeURIComponent(email)}`);
    assert.equal(found.status, 200, found.text);
    assert.equal(found.body.users.length, 1);
    return found.body.users[0].id;
  }

  async function audited(type: string, userId: string) {
    return server.services.stores.audit.list({ type, userId, limit: 20 });
  }

  test('disable: sessions end at once, every sign-in is refused, refresh tokens die; enable restores sign-in', async () => {
    const email = 'bob@example.com';
    const browser = await passwordUser(email);
    const laptop = new TestClient(server.url);
    await signInWithEmail(server, laptop, email);
    const config = await discover(server, WEB_APP);
    const tokens = await codeFlow(server, browser, config, OFFLINE);
    assert.ok(tokens.refresh_token);
    const connected = await browser.get('/api/v1/connected-apps');
    assert.equal(connected.body.apps.length, 1, connected.text);

    const bobId = await userIdOf(email);
    const disabled = await admin.post(`${USERS}/${bobId}/disable`);
    assert.equal(disabled.status, 200, disabled.text);
    assert.equal(disabled.body.user.id, bobId);
    assert.equal(disabled.body.user.disabledAt, clock.now());
    assert.equal(disabled.body.sessionsRevoked, 2);
    assert.ok(disabled.body.oauthRevoked >= 2, 'the grant and its refresh token at least');
    assert.equal((await userIdOf(email)) === bobId, true);
    assert.equal((await admin.get(`${USERS}?email=${email}`)).body.users[0].disabledAt, clock.now());

    // Existing sessions: 401 on the very next request.
    for (const agent of [browser, laptop]) {
      const session = await agent.get('/api/v1/session');
      assert.equal(session.status, 401);
      assert.equal(session.body.error.code, 'unauthenticated');
    }
    // The OAuth refresh token no longer works (the grant is gone, and the provider finds no account).
    assert.equal(
      (await refusalOf(client.refreshTokenGrant(config, tokens.refresh_token!))).error,
      'invalid_grant',
    );

    // A session created in a race with the disable (sign-in checked before, insert after) never validates.
    const raced = await server.services.sessions.issue(bobId, ['pwd'], {
      ip: null,
      userAgent: null,
      requestId: null,
    });
    const racer = new TestClient(server.url);
    racer.cookies.set('__Host-gatehouse_session', raced.token);
    assert.equal((await racer.get('/api/v1/session')).status, 401);

    // Continue with email answers exactly as for an unknown address (no enumeration) …
    const unknown = await new TestClient(server.url).post('/api/v1/email/sign-in', {
      email: 'nobody-at-all@example.com',
    });
    const code = await emailCodeSignIn(email);
    assert.equal(code.requested.status, 202);
    assert.equal(code.requested.text, unknown.text);
    // … and the code, once accepted, is refused with account_disabled. No session cookie is set.
    assert.equal(code.verified.status, 403, code.verified.text);
    assert.equal(code.verified.body.error.code, 'account_disabled');
    assert.equal(code.agent.cookies.has('__Host-gatehouse_session'), false);

    // Password: only the right password learns the account is disabled.
    const wrong = await new TestClient(server.url).post('/api/v1/password/sign-in', {
      email,
      password: 'not the password at all',
    });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.body.error.code, 'invalid_credentials');
    const right = await new TestClient(server.url).post('/api/v1/password/sign-in', {
      email,
      password: PASSWORD,
    });
    assert.equal(right.status, 403, right.text);
    assert.equal(right.body.error.code, 'account_disabled');

    const [event] = await audited('user.disabled', bobId);
    assert.ok(event, 'user.disabled audited');
    assert.equal(event.actorId, adminId);
    assert.equal(event.outcome, 'success');
    assert.equal(event.details['via'], 'api');
    const refusals = await audited('sign_in.account_disabled', bobId);
    assert.equal(refusals.length, 2, 'the code and the password attempt');
    assert.ok(refusals.every((refusal) => refusal.outcome === 'failure'));

    // Enable: the user signs in again (a fresh sign-in; nothing revoked comes back).
    const enabled = await admin.post(`${USERS}/${bobId}/enable`);
    assert.equal(enabled.status, 200, enabled.text);
    assert.equal(enabled.body.user.disabledAt, null);
    const again = await new TestClient(server.url).post('/api/v1/password/sign-in', {
      email,
      password: PASSWORD,
    });
    assert.equal(again.status, 200, again.text);
    assert.equal(again.body.user.id, bobId);
    assert.equal((await emailCodeSignIn(email)).verified.status, 200);
    assert.equal((await browser.get('/api/v1/session')).status, 401, 'revoked sessions stay revoked');
    assert.equal(
      (await refusalOf(client.refreshTokenGrant(config, tokens.refresh_token!))).error,
      'invalid_grant',
    );
    const [enabledEvent] = await audited('user.enabled', bobId);
    assert.equal(enabledEvent?.actorId, adminId);
  });

  test('the provider finds no disabled account: a grant that escaped revocation issues nothing', async () => {
    const agent = new TestClient(server.url);
    const erinId = await signInWithEmail(server, agent, 'erin@example.com');
    const config = await discover(server, WEB_APP);
    const tokens = await codeFlow(server, agent, config, OFFLINE);
    // Only the flag, none of the revocation (as if the grant were written in a race with it).
    await server.services.stores.users.setDisabled(erinId, clock.now());
    assert.equal(
      (await refusalOf(client.refreshTokenGrant(config, tokens.refresh_token!))).error,
      'invalid_grant',
    );
    await server.services.stores.users.setDisabled(erinId, null);
  });

  test('not an administrator: 401 signed out, 403 forbidden signed in; nothing changes', async () => {
    const alice = new TestClient(server.url);
    const aliceId = await signInWithEmail(server, alice, 'alice@example.com');
    const signedOut = new TestClient(server.url);
    for (const [method, path] of [
      ['GET', `${USERS}?email=alice@example.com`],
      ['POST', `${USERS}/${aliceId}/disable`],
      ['POST', `${USERS}/${adminId}/disable`],
      ['POST', `${USERS}/${aliceId}/enable`],
    ] as const) {
      const anonymous = await signedOut.request(method, path, method === 'POST' ? {} : undefined);
      assert.equal(anonymous.status, 401, `${method} ${path}`);
      const notAdmin = await alice.request(method, path, method === 'POST' ? {} : undefined);
      assert.equal(notAdmin.status, 403, `${method} ${path}`);
      assert.equal(notAdmin.body.error.code, 'forbidden');
    }
    assert.equal((await server.services.users.findById(adminId))?.disabledAt, null);
    assert.equal((await alice.get('/api/v1/session')).status, 200);
  });

  test('delete: the account, its sessions and its apps’ grants go; the audit log keeps the record', async () => {
    const erin = new TestClient(server.url);
    const erinId = await signInWithEmail(server, erin, 'erin@example.com');
    const config = await discover(server, WEB_APP);
    const tokens = await codeFlow(server, erin, config, OFFLINE);
    const self = await admin.delete(`${USERS}/${adminId}`);
    assert.equal(self.status, 409);
    assert.equal(self.body.error.reason, 'self');
    assert.equal((await admin.delete(`${USERS}/usr_nobody`)).status, 404);
    // Not an administrator: refused, nothing deleted.
    assert.equal((await erin.delete(`${USERS}/${erinId}`)).status, 403);

    const deleted = await admin.delete(`${USERS}/${erinId}`);
    assert.equal(deleted.status, 200, deleted.text);
    assert.equal(deleted.body.user.email, 'erin@example.com');
    assert.ok(deleted.body.oauthRevoked >= 2, 'the grant and its refresh token');
    assert.equal(await server.services.users.findById(erinId), undefined);
    assert.equal((await erin.get('/api/v1/session')).status, 401);
    assert.equal(
      (await refusalOf(client.refreshTokenGrant(config, tokens.refresh_token!))).error,
      'invalid_grant',
    );
    const [event] = await audited('user.deleted', erinId);
    assert.equal(event?.actorId, adminId);
    assert.equal(event?.details['via'], 'api');
    assert.ok((await audited('sign_in.email_link', erinId)).length > 0, 'earlier events stay');
    // The address is free again: signing in with it makes a new, empty account.
    assert.notEqual(await signInWithEmail(server, new TestClient(server.url), 'erin@example.com'), erinId);
  });

  test('a change needs a recent sign-in (step-up); unknown user 404; no disabling oneself', async () => {
    const carolId = await signInWithEmail(server, new TestClient(server.url), 'carol@example.com');
    assert.equal((await admin.post(`${USERS}/usr_nobody/disable`)).status, 404);
    assert.equal((await admin.post(`${USERS}/usr_nobody/enable`)).body.error.code, 'not_found');
    const self = await admin.post(`${USERS}/${adminId}/disable`);
    assert.equal(self.status, 409);
    assert.equal(self.body.error.reason, 'self');
    assert.equal((await admin.get(`${USERS}?email=not-an-address`)).status, 400);
    assert.deepEqual((await admin.get(`${USERS}?email=nobody@example.com`)).body.users, []);

    clock.advance(server.services.config.mfa.stepUpMaxAgeMs + 1000);
    const stale = await admin.post(`${USERS}/${carolId}/disable`);
    assert.equal(stale.status, 403);
    assert.equal(stale.body.error.code, 'step_up_required');
    // Finding still works on a live, older admin session; the account was left alone.
    assert.equal((await admin.get(`${USERS}?email=carol@example.com`)).body.users[0].disabledAt, null);
    adminId = await signInWithEmail(server, admin, ADMIN);
  });
});

describe('gatehouse users disable|enable|delete (CLI)', () => {
  const SECRET = 'test-secret-0123456789abcdefghijklmnopqrstuvwxyz';
  const run = (args: string[], dataDir: string) =>
    runCli(args, { GATEHOUSE_DATA_DIR: dataDir, GATEHOUSE_SECRET: SECRET });

  test('disables by email through the same operation (sessions and grants revoked, audited), enables, deletes', async () => {
    const server = await startOAuthGatehouse({}, { ...liftedRateLimits(), secret: SECRET });
    try {
      const dave = new TestClient(server.url);
      const daveId = await signInWithEmail(server, dave, 'dave@example.com');
      const config = await discover(server, WEB_APP);
      const tokens = await codeFlow(server, dave, config, OFFLINE);
      const dataDir = server.services.config.dataDir;

      const disabled = await run(['users', 'disable', '--email', 'dave@example.com'], dataDir);
      assert.equal(disabled.status, 0, disabled.stderr);
      const out = JSON.parse(disabled.stdout);
      assert.equal(out.id, daveId);
      assert.equal(out.sessionsRevoked, 1);
      assert.ok(out.oauthRevoked >= 2);
      assert.equal((await dave.get('/api/v1/session')).status, 401);
      assert.equal(
        (await refusalOf(client.refreshTokenGrant(config, tokens.refresh_token!))).error,
        'invalid_grant',
      );
      const [event] = await server.services.stores.audit.list({
        type: 'user.disabled',
        userId: daveId,
        limit: 5,
      });
      assert.equal(event?.actorId, null);
      assert.equal(event?.details['via'], 'cli');

      assert.equal((await run(['users', 'disable', '--email', 'nobody@example.com'], dataDir)).status, 1);
      assert.equal((await run(['users', 'disable'], dataDir)).status, 2);

      const enabled = await run(['users', 'enable', '--id', daveId], dataDir);
      assert.equal(enabled.status, 0, enabled.stderr);
      assert.equal(JSON.parse(enabled.stdout).disabledAt, null);
      assert.equal(await signInWithEmail(server, new TestClient(server.url), 'dave@example.com'), daveId);

      const deleted = await run(['users', 'delete', '--email', 'dave@example.com'], dataDir);
      assert.equal(deleted.status, 0, deleted.stderr);
      assert.equal(JSON.parse(deleted.stdout).deleted, true);
      assert.equal(await server.services.users.findById(daveId), undefined);
      const [removal] = await server.services.stores.audit.list({
        type: 'user.deleted',
        userId: daveId,
        limit: 1,
      });
      assert.equal(removal?.details['via'], 'cli');
      assert.equal((await run(['users', 'delete', '--id', daveId], dataDir)).status, 1, 'gone already');
    } finally {
      await server.close();
    }
  });
});
