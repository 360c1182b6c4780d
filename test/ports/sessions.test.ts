import assert from 'node:assert/strict';
import { beforeEach, it } from 'node:test';
import type { SessionRecord } from '../../src/ports/session-store.ts';
import type { UserRecord } from '../../src/ports/user-store.ts';
import { forEachDatabase } from '../support/databases.ts';
import { DAY, sessionRecord, T0, userRecord } from '../support/records.ts';

const byId = (a: SessionRecord, b: SessionRecord): number => a.id.localeCompare(b.id);

forEachDatabase('SessionStore', (db) => {
  let ada: UserRecord;
  let bob: UserRecord;

  beforeEach(async () => {
    ada = userRecord({ displayName: 'Ada', emailVerifiedAt: T0 });
    bob = userRecord();
    await db.stores.users.createOrGet(ada);
    await db.stores.users.createOrGet(bob);
  });

  async function sessionsOf(user: UserRecord, count: number): Promise<SessionRecord[]> {
    const sessions = Array.from({ length: count }, (_, i) => sessionRecord(user.id, { lastSeenAt: T0 + i }));
    for (const session of sessions) await db.stores.sessions.create(session);
    return sessions;
  }

  const ids = async (user: UserRecord): Promise<string[]> =>
    (await db.stores.sessions.listByUser(user.id)).map((s) => s.id).sort();

  it('findByTokenHash returns the session joined with its user', async () => {
    const session = sessionRecord(ada.id, { amr: ['email', 'otp'], ip: null, userAgent: null });
    await db.stores.sessions.create(session);
    assert.deepEqual(await db.stores.sessions.findByTokenHash(session.tokenHash), { session, user: ada });
  });

  it('findByTokenHash finds no session of a disabled user, and finds it again once enabled', async () => {
    const [session] = await sessionsOf(ada, 1);
    await db.stores.users.setDisabled(ada.id, T0 + 5);
    assert.equal(await db.stores.sessions.findByTokenHash(session!.tokenHash), undefined);
    // A session created after the disable (a sign-in racing it) is refused the same way.
    const raced = sessionRecord(ada.id);
    await db.stores.sessions.create(raced);
    assert.equal(await db.stores.sessions.findByTokenHash(raced.tokenHash), undefined);
    const [bobs] = await sessionsOf(bob, 1);
    assert.equal((await db.stores.sessions.findByTokenHash(bobs!.tokenHash))?.user.id, bob.id);
    await db.stores.users.setDisabled(ada.id, null);
    assert.deepEqual(await db.stores.sessions.findByTokenHash(raced.tokenHash), {
      session: raced,
      user: ada,
    });
  });

  it('findByTokenHash finds nothing for an unknown hash', async () => {
    await sessionsOf(ada, 1);
    assert.equal(await db.stores.sessions.findByTokenHash('no-such-hash'), undefined);
  });

  it('touch without expiresAt records activity and keeps the expiry', async () => {
    const [session] = await sessionsOf(ada, 1);
    await db.stores.sessions.touch(session!.id, T0 + 500);
    const found = await db.stores.sessions.findByTokenHash(session!.tokenHash);
    assert.deepEqual(found?.session, { ...session!, lastSeenAt: T0 + 500 });
  });

  it('touch with expiresAt also moves the rolling expiry', async () => {
    const [session] = await sessionsOf(ada, 1);
    await db.stores.sessions.touch(session!.id, T0 + DAY, T0 + 31 * DAY);
    const found = await db.stores.sessions.findByTokenHash(session!.tokenHash);
    assert.deepEqual(found?.session, { ...session!, lastSeenAt: T0 + DAY, expiresAt: T0 + 31 * DAY });
  });

  it("listByUser returns exactly the user's sessions", async () => {
    const mine = await sessionsOf(ada, 3);
    await sessionsOf(bob, 2);
    const listed = await db.stores.sessions.listByUser(ada.id);
    assert.deepEqual(listed.sort(byId), mine.sort(byId));
  });

  it("deleteForUser refuses another user's session and deletes the user's own once", async () => {
    const [adas] = await sessionsOf(ada, 1);
    assert.equal(await db.stores.sessions.deleteForUser(adas!.id, bob.id), false);
    assert.ok(await db.stores.sessions.findByTokenHash(adas!.tokenHash));
    assert.equal(await db.stores.sessions.deleteForUser(adas!.id, ada.id), true);
    assert.equal(await db.stores.sessions.findByTokenHash(adas!.tokenHash), undefined);
    assert.equal(await db.stores.sessions.deleteForUser(adas!.id, ada.id), false);
  });

  it('deleteOthers keeps the named session and leaves other users alone', async () => {
    const [keep] = await sessionsOf(ada, 3);
    const bobs = await sessionsOf(bob, 2);
    assert.equal(await db.stores.sessions.deleteOthers(ada.id, keep!.id), 2);
    assert.deepEqual(await ids(ada), [keep!.id]);
    assert.deepEqual(await ids(bob), bobs.map((s) => s.id).sort());
  });

  it('deleteAllForUser deletes every session of the user and only theirs', async () => {
    await sessionsOf(ada, 3);
    const bobs = await sessionsOf(bob, 1);
    assert.equal(await db.stores.sessions.deleteAllForUser(ada.id), 3);
    assert.deepEqual(await ids(ada), []);
    assert.deepEqual(await ids(bob), [bobs[0]!.id]);
    assert.equal(await db.stores.sessions.deleteAllForUser(ada.id), 0);
  });

  it('deleteById deletes that session only', async () => {
    const [gone, kept] = await sessionsOf(ada, 2);
    await db.stores.sessions.deleteById(gone!.id);
    assert.equal(await db.stores.sessions.findByTokenHash(gone!.tokenHash), undefined);
    assert.deepEqual(await ids(ada), [kept!.id]);
  });

  it('deleteExpired removes sessions past their rolling or absolute expiry, inclusive', async () => {
    const now = T0 + 10 * DAY;
    const rolling = sessionRecord(ada.id, { expiresAt: now });
    const absolute = sessionRecord(ada.id, { expiresAt: now + DAY, absoluteExpiresAt: now - 1 });
    const live = sessionRecord(bob.id, { expiresAt: now + 1, absoluteExpiresAt: now + DAY });
    for (const session of [rolling, absolute, live]) await db.stores.sessions.create(session);
    assert.equal(await db.stores.sessions.deleteExpired(now), 2);
    assert.deepEqual(await ids(ada), []);
    assert.deepEqual(await ids(bob), [live.id]);
  });

  it('refuses a second session with the same token hash', async () => {
    const [session] = await sessionsOf(ada, 1);
    await assert.rejects(db.stores.sessions.create(sessionRecord(bob.id, { tokenHash: session!.tokenHash })));
    assert.equal((await db.stores.sessions.findByTokenHash(session!.tokenHash))?.user.id, ada.id);
  });
});
