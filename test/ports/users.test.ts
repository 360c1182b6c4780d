import assert from 'node:assert/strict';
import { it } from 'node:test';
import { forEachDatabase } from '../support/databases.ts';
import { concurrently, T0, userRecord } from '../support/records.ts';

forEachDatabase('UserStore', (db) => {
  it('creates a user and finds it by id and by email', async () => {
    const user = userRecord({ displayName: 'Ada', emailVerifiedAt: T0 });
    assert.deepEqual(await db.stores.users.createOrGet(user), { user, created: true });
    assert.deepEqual(await db.stores.users.findById(user.id), user);
    assert.deepEqual(await db.stores.users.findByEmail(user.email), user);
  });

  it('finds nothing for an unknown id or email', async () => {
    await db.stores.users.createOrGet(userRecord());
    assert.equal(await db.stores.users.findById('usr_missing'), undefined);
    assert.equal(await db.stores.users.findByEmail('nobody@example.test'), undefined);
  });

  it('createOrGet returns the existing row when the email is taken', async () => {
    const first = userRecord({ displayName: 'First' });
    await db.stores.users.createOrGet(first);
    const second = userRecord({ email: first.email, displayName: 'Second', createdAt: T0 + 1 });
    assert.deepEqual(await db.stores.users.createOrGet(second), { user: first, created: false });
    assert.equal(await db.stores.users.findById(second.id), undefined);
  });

  it('createOrGet creates exactly one user under 20 concurrent calls for one email', async () => {
    const email = 'race@example.test';
    const results = await concurrently(20, () => db.stores.users.createOrGet(userRecord({ email })));
    const created = results.filter((r) => r.created);
    assert.equal(created.length, 1);
    const winner = created[0]!.user;
    for (const result of results) assert.deepEqual(result.user, winner);
    assert.deepEqual(await db.stores.users.findByEmail(email), winner);
  });

  it('createWithPassword writes the user and its hash together, and nothing for a taken address', async () => {
    const user = userRecord({ email: 'imported@example.test' });
    assert.deepEqual(await db.stores.users.createWithPassword(user, '$2b$04$hash'), { created: true });
    assert.deepEqual(await db.stores.users.findById(user.id), user);
    assert.equal(await db.stores.passwords.find(user.id), '$2b$04$hash');
    const again = userRecord({ email: 'imported@example.test' });
    assert.deepEqual(await db.stores.users.createWithPassword(again, '$2b$04$other'), { created: false });
    assert.equal(await db.stores.users.findById(again.id), undefined);
    assert.equal(await db.stores.passwords.find(user.id), '$2b$04$hash');
    const bare = userRecord({ email: 'no-password@example.test' });
    assert.deepEqual(await db.stores.users.createWithPassword(bare, null), { created: true });
    assert.equal(await db.stores.passwords.find(bare.id), undefined);
  });

  it('markEmailVerified sets the time once and keeps the first verification', async () => {
    const user = userRecord();
    await db.stores.users.createOrGet(user);
    await db.stores.users.markEmailVerified(user.id, T0 + 100);
    assert.deepEqual(await db.stores.users.findById(user.id), {
      ...user,
      emailVerifiedAt: T0 + 100,
      updatedAt: T0 + 100,
    });
    await db.stores.users.markEmailVerified(user.id, T0 + 200);
    assert.equal((await db.stores.users.findById(user.id))?.emailVerifiedAt, T0 + 100);
  });

  it('updateProfile changes the display name, returns the row and leaves other users alone', async () => {
    const user = userRecord();
    const other = userRecord({ displayName: 'Other' });
    await db.stores.users.createOrGet(user);
    await db.stores.users.createOrGet(other);
    const updated = await db.stores.users.updateProfile(user.id, { displayName: 'Grace' }, T0 + 5);
    assert.deepEqual(updated, { ...user, displayName: 'Grace', updatedAt: T0 + 5 });
    assert.deepEqual(await db.stores.users.findById(user.id), updated);
    assert.deepEqual(await db.stores.users.findById(other.id), other);
    const cleared = await db.stores.users.updateProfile(user.id, { displayName: null }, T0 + 6);
    assert.equal(cleared?.displayName, null);
  });

  it('setDisabled disables (keeping the first time), enables, and reports a missing user', async () => {
    const user = userRecord();
    const other = userRecord();
    await db.stores.users.createOrGet(user);
    await db.stores.users.createOrGet(other);
    assert.equal(await db.stores.users.setDisabled(user.id, T0 + 10), true);
    assert.deepEqual(await db.stores.users.findById(user.id), { ...user, disabledAt: T0 + 10 });
    assert.equal((await db.stores.users.findByEmail(user.email))?.disabledAt, T0 + 10);
    // Disabling again reports the account but keeps the time the first disable set.
    assert.equal(await db.stores.users.setDisabled(user.id, T0 + 20), true);
    assert.equal((await db.stores.users.findById(user.id))?.disabledAt, T0 + 10);
    assert.deepEqual(await db.stores.users.findById(other.id), other);
    assert.equal(await db.stores.users.setDisabled(user.id, null), true);
    assert.deepEqual(await db.stores.users.findById(user.id), user);
    assert.equal(await db.stores.users.setDisabled('usr_missing', T0), false);
    assert.equal(await db.stores.users.setDisabled('usr_missing', null), false);
  });

  it('updateProfile returns undefined for an unknown user', async () => {
    assert.equal(await db.stores.users.updateProfile('usr_missing', { displayName: 'X' }, T0), undefined);
  });
});
