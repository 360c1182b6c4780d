import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { SESSION_COOKIE } from '../../src/http/cookies.ts';
import { TestClient } from '../support/http-client.ts';
import { readSignInMail, startGatehouse, type TestServer } from '../support/server.ts';
import { newSignInMail, signInWithEmail, unverifiedSession } from '../support/sign-in.ts';

const ADMIN = 'admin@example.com';

describe('audit log over HTTP', () => {
  let server: TestServer;
  let admin: TestClient;
  let adminId: string;
  let alice: TestClient;
  let aliceId: string;
  let bob: TestClient;
  let bobId: string;

  before(async () => {
    // The domain may be written in any case: the policy normalises like stored addresses.
    server = await startGatehouse({ adminEmails: ['admin@EXAMPLE.com', 'pending@example.com'] });
    admin = new TestClient(server.url);
    adminId = await signInWithEmail(server, admin, ADMIN);
    alice = new TestClient(server.url);
    aliceId = await signInWithEmail(server, alice, 'alice@example.com');
    bob = new TestClient(server.url);
    bobId = await signInWithEmail(server, bob, 'bob@example.com');
    for (let i = 0; i < 7; i++) {
      assert.equal((await alice.patch('/api/v1/me', { displayName: `Alice ${i}` })).status, 200);
    }
  });
  after(() => server.close());

  test('GET /api/v1/audit: 401 signed out, 403 for a non-admin, 200 for an admin', async () => {
    const signedOut = await new TestClient(server.url).get('/api/v1/audit');
    assert.equal(signedOut.status, 401);
    assert.equal(signedOut.body.error.code, 'unauthenticated');
    const notAdmin = await alice.get('/api/v1/audit');
    assert.equal(notAdmin.status, 403);
    assert.equal(notAdmin.body.error.code, 'forbidden');
    assert.equal(notAdmin.body.events, undefined);
    const ok = await admin.get('/api/v1/audit');
    assert.equal(ok.status, 200);
    assert.ok(ok.body.events.length > 0);
  });

  test('an unverified account holding an admin address is not an admin', async () => {
    const client = await unverifiedSession(server, 'usr_unverified_admin', 'pending@example.com');
    assert.equal((await client.get('/api/v1/audit')).status, 403);
  });

  test('events carry every catalogue field, and reading the log is itself recorded with the admin as actor', async () => {
    const { body } = await admin.get(`/api/v1/audit?userId=${aliceId}&type=profile.updated&limit=1`);
    const [event] = body.events;
    assert.deepEqual(Object.keys(event).sort(), [
      'actorId',
      'at',
      'details',
      'hash',
      'id',
      'ip',
      'outcome',
      'prevHash',
      'requestId',
      'seq',
      'sessionId',
      'time',
      'type',
      'userAgent',
      'userId',
    ]);
    assert.equal(event.time, new Date(event.at).toISOString());
    assert.match(event.time, /Z$/);
    assert.equal(event.userId, aliceId);
    assert.equal(event.actorId, null);
    assert.equal(event.ip, '127.0.0.1');
    assert.match(event.hash, /^[0-9a-f]{64}$/);

    const viewed = await admin.get('/api/v1/audit?type=audit.viewed&limit=1');
    const [record] = viewed.body.events;
    assert.equal(record.actorId, adminId);
    assert.equal(record.userId, null);
    assert.deepEqual(record.details.filter, { userId: aliceId, type: 'profile.updated' });
  });

  test('cursor pagination walks the log newest first without gaps or repeats', async () => {
    const seen: number[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query = new URLSearchParams({ userId: aliceId, type: 'profile.updated', limit: '3' });
      if (cursor) query.set('cursor', cursor);
      const page = await admin.get(`/api/v1/audit?${query}`);
      assert.equal(page.status, 200);
      seen.push(...page.body.events.map((e: { seq: number }) => e.seq));
      cursor = page.body.nextCursor;
      pages++;
    } while (cursor && pages < 10);
    assert.equal(seen.length, 7);
    assert.equal(pages, 3, 'pages of 3, 3 and 1; the last says there is no next one');
    assert.deepEqual(
      seen,
      [...seen].sort((a, b) => b - a),
    );
    assert.equal(new Set(seen).size, 7);
  });

  test('filters by user, type and time', async () => {
    const bobs = await admin.get(`/api/v1/audit?userId=${bobId}&limit=200`);
    assert.ok(bobs.body.events.length > 0);
    assert.ok(bobs.body.events.every((e: { userId: string }) => e.userId === bobId));
    const links = await admin.get('/api/v1/audit?type=sign_in.email_link&limit=200');
    assert.ok(links.body.events.length >= 3);
    assert.ok(links.body.events.every((e: { type: string }) => e.type === 'sign_in.email_link'));

    const all = (await admin.get(`/api/v1/audit?userId=${aliceId}&type=profile.updated`)).body.events;
    const middle = all[3];
    const since = await admin.get(
      `/api/v1/audit?userId=${aliceId}&type=profile.updated&since=${encodeURIComponent(middle.time)}`,
    );
    assert.ok(since.body.events.every((e: { at: number }) => e.at >= middle.at));
    assert.ok(
      since.body.events.some((e: { id: string }) => e.id === middle.id),
      'since is inclusive',
    );
    const until = await admin.get(`/api/v1/audit?userId=${aliceId}&type=profile.updated&until=${middle.at}`);
    assert.ok(
      until.body.events.every((e: { at: number }) => e.at < middle.at),
      'until is exclusive',
    );
    const future = await admin.get('/api/v1/audit?since=2999-01-01');
    assert.deepEqual(future.body, { events: [], nextCursor: null });
  });

  test('bad filters are 400 validation_failed, never a 500 or a silently unfiltered log', async () => {
    for (const query of [
      'type=no.such.event',
      'user=' + aliceId,
      'cursor=abc',
      'cursor=-1',
      'since=yesterday',
      'until=2025-13-45T99:00Z',
      'limit=0',
      'limit=1000',
      `userId=${'x'.repeat(65)}`,
    ]) {
      const response = await admin.get(`/api/v1/audit?${query}`);
      assert.equal(response.status, 400, query);
      assert.equal(response.body.error.code, 'validation_failed', query);
    }
  });

  test('GET /api/v1/me/activity: only your own events, a safe subset of fields, paginated', async () => {
    assert.equal((await new TestClient(server.url).get('/api/v1/me/activity')).status, 401);
    const first = await alice.get('/api/v1/me/activity?limit=5');
    assert.equal(first.status, 200);
    assert.equal(first.body.events.length, 5);
    assert.ok(first.body.nextCursor);
    for (const event of first.body.events) {
      assert.deepEqual(Object.keys(event).sort(), [
        'at',
        'description',
        'device',
        'id',
        'ip',
        'outcome',
        'time',
        'type',
        'userAgent',
      ]);
    }
    const rest = await alice.get(`/api/v1/me/activity?limit=100&cursor=${first.body.nextCursor}`);
    const ids = [...first.body.events, ...rest.body.events].map((e: { id: string }) => e.id);
    const own = await server.services.stores.audit.list({ userId: aliceId, limit: 1000 });
    assert.deepEqual(new Set(ids), new Set(own.map((e) => e.id)), 'every one of hers…');
    const bobsIds = new Set(
      (await server.services.stores.audit.list({ userId: bobId, limit: 1000 })).map((e) => e.id),
    );
    assert.ok(
      ids.every((id) => !bobsIds.has(id)),
      '…and none of his',
    );
    assert.ok(
      first.body.events.some(
        (e: { description: string }) => e.description === 'The user changed their profile.',
      ),
    );
    assert.equal(
      (await alice.get('/api/v1/me/activity?userId=' + bobId)).status,
      400,
      'no way to ask for another user',
    );
  });

  test('no secret of a sign-in reaches the log: not the codes typed, the link token or the session token', async () => {
    const client = new TestClient(server.url);
    const email = 'secrets@example.com';
    const before = (await server.services.stores.devMailbox.list({ to: email, limit: 1 }))[0];
    await client.post('/api/v1/email/sign-in', { email });
    const { token, code } = readSignInMail(await newSignInMail(server, email, before?.id));
    // A wrong code is often the right one mistyped: it is no less secret.
    const typo = code.slice(0, 5) + String((Number(code[5]) + 1) % 10);
    assert.equal((await client.post('/api/v1/email/verify', { email, code: typo })).status, 400);
    assert.equal((await client.post('/api/v1/email/verify', { email, code })).status, 200);
    const session = client.cookies.get(SESSION_COOKIE)!;
    const rows = await server.services.database.db.selectFrom('audit_events').selectAll().execute();
    // The chain hashes are hex and could hold six digits by chance: every other column.
    const text = JSON.stringify(rows.map(({ hash, prev_hash, ...fields }) => fields));
    for (const secret of [token, code, typo, session]) assert.ok(!text.includes(secret));
    const codeEvents = await server.services.stores.audit.list({ type: 'sign_in.email_code', limit: 2 });
    assert.deepEqual(
      codeEvents.map((e) => e.outcome),
      ['success', 'failure'],
    );
  });

  test('a hostile user agent is stored escaped and shown escaped on /account', async () => {
    const mallory = new TestClient(server.url);
    // C1 controls pass Node's HTTP parser: CSI (the 8-bit terminal escape) and NEL (a line
    // break to some viewers), plus markup. Printed raw, they would recolour or re-line a log
    // viewer; rendered raw, script a page.
    mallory.userAgent = 'Evil\x9b2J\x85<script>alert(1)</script>';
    const id = await signInWithEmail(server, mallory, 'mallory@example.com');
    const [event] = await server.services.stores.audit.list({
      userId: id,
      type: 'sign_in.email_link',
      limit: 1,
    });
    assert.equal(event?.userAgent, 'Evil\\u009b2J\\u0085<script>alert(1)</script>');
    const activity = await mallory.get('/api/v1/me/activity?limit=1');
    assert.equal(activity.body.events[0].userAgent, 'Evil\\u009b2J\\u0085<script>alert(1)</script>');
    const page = await mallory.get('/account');
    assert.equal(page.status, 200);
    assert.match(page.text, /Recent security activity/);
    assert.match(page.text, /data-event-type="sign_in\.email_link"/);
    assert.doesNotMatch(page.text, /<script>alert/);
    assert.doesNotMatch(page.text, /[\x80-\x9f]/);
  });
});
