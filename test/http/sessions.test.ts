import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { SESSION_COOKIE } from '../../src/http/cookies.ts';
import { TestClient } from '../support/http-client.ts';
import { startGatehouse, TestClock, type TestServer } from '../support/server.ts';
import { signInWithEmail } from '../support/sign-in.ts';

const DAY = 86_400_000;

describe('sessions', () => {
  let server: TestServer;
  const clock = new TestClock();
  before(async () => {
    server = await startGatehouse({}, { clock });
  });
  after(() => server.close());

  test('the session cookie is __Host-, HttpOnly, Secure, SameSite=Lax, Path=/ and holds 256 bits', async () => {
    const client = new TestClient(server.url);
    await client.post('/api/v1/email/sign-in', { email: 'cookie@example.com' });
    const mail = await server.latestMail('cookie@example.com');
    const token = /#token=([\w-]{43})/.exec(mail.text)?.[1];
    const response = await client.post('/api/v1/email/verify', { token });
    const cookie = response.headers.getSetCookie().find((c) => c.startsWith(`${SESSION_COOKIE}=`));
    assert.ok(cookie, 'session cookie set');
    const attributes = cookie.split(';').map((a) => a.trim().toLowerCase());
    assert.ok(attributes.includes('httponly'));
    assert.ok(attributes.includes('secure'));
    assert.ok(attributes.includes('samesite=lax'));
    assert.ok(attributes.includes('path=/'));
    assert.ok(!attributes.some((a) => a.startsWith('domain=')));
    const value = client.cookies.get(SESSION_COOKIE) ?? '';
    assert.equal(Buffer.from(value, 'base64url').length, 32);
    // The database holds only the hash.
    const rows = await server.services.database.db.selectFrom('sessions').selectAll().execute();
    assert.ok(rows.length > 0);
    assert.ok(rows.every((row) => !Object.values(row).some((v) => String(v).includes(value))));
  });

  test('every sign-in issues a new token and the old one stops working', async () => {
    const client = new TestClient(server.url);
    await signInWithEmail(server, client, 'rotate@example.com');
    const oldToken = client.cookies.get(SESSION_COOKIE) ?? '';
    await signInWithEmail(server, client, 'rotate@example.com');
    const newToken = client.cookies.get(SESSION_COOKIE) ?? '';
    assert.notEqual(newToken, oldToken);
    const stale = new TestClient(server.url);
    stale.cookies.set(SESSION_COOKIE, oldToken);
    assert.equal((await stale.get('/api/v1/session')).status, 401);
    assert.equal((await client.get('/api/v1/session')).status, 200);
  });

  test('a token planted before sign-in is never authenticated (fixation)', async () => {
    const client = new TestClient(server.url);
    client.cookies.set(SESSION_COOKIE, 'A'.repeat(43));
    await signInWithEmail(server, client, 'fixation@example.com');
    assert.notEqual(client.cookies.get(SESSION_COOKIE), 'A'.repeat(43));
  });

  test('GET /api/v1/session: 200 with user and session, 401 without, garbage or revoked', async () => {
    const client = new TestClient(server.url);
    const userId = await signInWithEmail(server, client, 'me@example.com');
    const ok = await client.get('/api/v1/session');
    assert.equal(ok.status, 200);
    assert.equal(ok.body.user.id, userId);
    assert.equal(typeof ok.body.session.id, 'string');
    assert.equal(ok.body.session.token, undefined);
    assert.equal((await new TestClient(server.url).get('/api/v1/session')).status, 401);
    const garbage = new TestClient(server.url);
    garbage.cookies.set(SESSION_COOKIE, 'x'.repeat(5000));
    assert.equal((await garbage.get('/api/v1/session')).status, 401);
    const token = client.cookies.get(SESSION_COOKIE) ?? '';
    assert.equal((await client.delete('/api/v1/session')).status, 204);
    assert.equal(client.cookies.has(SESSION_COOKIE), false, 'cookie cleared');
    // Signing out revokes server-side: a copy of the cookie kept elsewhere is dead too.
    const replay = new TestClient(server.url);
    replay.cookies.set(SESSION_COOKIE, token);
    assert.equal((await replay.get('/api/v1/session')).status, 401);
  });

  test('idle timeout, rolling expiry and absolute lifetime end a session', async () => {
    const { idleTimeoutMs, absoluteLifetimeMs } = server.services.config.session;
    const idle = new TestClient(server.url);
    await signInWithEmail(server, idle, 'idle@example.com');
    clock.advance(idleTimeoutMs + 1);
    assert.equal((await idle.get('/api/v1/session')).status, 401);

    const active = new TestClient(server.url);
    await signInWithEmail(server, active, 'active@example.com');
    let renewed = false;
    // Daily use keeps the session alive past the rolling lifetime…
    for (let day = 0; day < 40; day++) {
      clock.advance(DAY);
      const response = await active.get('/api/v1/session');
      assert.equal(response.status, 200, `day ${day}`);
      if (response.headers.getSetCookie().some((c) => c.startsWith(SESSION_COOKIE))) renewed = true;
    }
    assert.ok(renewed, 'the rolling expiry was renewed with a fresh cookie');
    // …but not past the absolute lifetime.
    clock.advance(absoluteLifetimeMs);
    assert.equal((await active.get('/api/v1/session')).status, 401);
  });

  test('validation writes at most once per touch interval', async () => {
    const client = new TestClient(server.url);
    await signInWithEmail(server, client, 'quiet@example.com');
    const read = async () =>
      (await server.services.database.db.selectFrom('sessions').select('last_seen_at').execute()).map(
        (r) => r.last_seen_at,
      );
    const before = JSON.stringify(await read());
    for (let i = 0; i < 5; i++) assert.equal((await client.get('/api/v1/session')).status, 200);
    assert.equal(JSON.stringify(await read()), before, 'no write within the touch interval');
    clock.advance(server.services.config.session.touchAfterMs);
    await client.get('/api/v1/session');
    assert.notEqual(JSON.stringify(await read()), before);
  });

  test('list, revoke one, revoke all others', async () => {
    const laptop = new TestClient(server.url);
    const phone = new TestClient(server.url);
    phone.userAgent =
      'Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1';
    const tablet = new TestClient(server.url);
    const userId = await signInWithEmail(server, laptop, 'devices@example.com');
    await signInWithEmail(server, phone, 'devices@example.com');
    await signInWithEmail(server, tablet, 'devices@example.com');

    const listed = await laptop.get('/api/v1/sessions');
    assert.equal(listed.status, 200);
    assert.equal(listed.body.sessions.length, 3);
    const current = listed.body.sessions.filter((s: { current: boolean }) => s.current);
    assert.equal(current.length, 1);
    const phoneSession = listed.body.sessions.find(
      (s: { device: string }) => s.device === 'Safari on iPhone',
    );
    assert.ok(phoneSession, JSON.stringify(listed.body.sessions));
    for (const s of listed.body.sessions) {
      assert.equal(s.ip, '127.0.0.1');
      assert.equal(typeof s.lastSeenAt, 'number');
      assert.equal(typeof s.createdAt, 'number');
    }

    assert.equal((await laptop.delete(`/api/v1/sessions/${phoneSession.id}`)).status, 204);
    assert.equal((await phone.get('/api/v1/session')).status, 401, 'revoked on its next request');
    assert.equal((await laptop.delete(`/api/v1/sessions/${phoneSession.id}`)).status, 404);

    const others = await laptop.post('/api/v1/sessions/revoke-others');
    assert.equal(others.status, 200);
    assert.equal(others.body.revoked, 1);
    assert.equal((await tablet.get('/api/v1/session')).status, 401);
    assert.equal((await laptop.get('/api/v1/session')).status, 200);

    const events = await server.services.stores.audit.list({ userId, limit: 50 });
    assert.ok(events.some((e) => e.type === 'session.revoked'));
    assert.ok(events.some((e) => e.type === 'session.revoked_others'));
  });

  test("another user's session cannot be revoked", async () => {
    const alice = new TestClient(server.url);
    const bob = new TestClient(server.url);
    await signInWithEmail(server, alice, 'alice@example.com');
    await signInWithEmail(server, bob, 'bob@example.com');
    const bobSession = (await bob.get('/api/v1/session')).body.session.id;
    assert.equal((await alice.delete(`/api/v1/sessions/${bobSession}`)).status, 404);
    assert.equal((await bob.get('/api/v1/session')).status, 200);
  });

  test('profile: read and change the display name', async () => {
    const client = new TestClient(server.url);
    await signInWithEmail(server, client, 'profile@example.com');
    const changed = await client.patch('/api/v1/me', { displayName: '  Ada <b>Lovelace</b> ' });
    assert.equal(changed.status, 200);
    assert.equal(changed.body.user.displayName, 'Ada <b>Lovelace</b>');
    assert.equal((await client.get('/api/v1/me')).body.user.displayName, 'Ada <b>Lovelace</b>');
    const bad = await client.patch('/api/v1/me', { displayName: 'x\u0000y' });
    assert.equal(bad.status, 400);
    assert.equal((await new TestClient(server.url).get('/api/v1/me')).status, 401);
  });
});
