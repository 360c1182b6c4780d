import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import type { ChallengeRecord, PasskeyRecord } from '../../src/ports/passkey-store.ts';
import type { UserRecord } from '../../src/ports/user-store.ts';
import { forEachDatabase } from '../support/databases.ts';
import { concurrently, MINUTE, passkeyRecord, randomId, T0, userRecord } from '../support/records.ts';

forEachDatabase('PasskeyStore', (db) => {
  let ada: UserRecord;
  let bob: UserRecord;

  beforeEach(async () => {
    ada = userRecord();
    bob = userRecord();
    await db.stores.users.createOrGet(ada);
    await db.stores.users.createOrGet(bob);
  });

  async function passkeyOf(user: UserRecord, overrides: Partial<PasskeyRecord> = {}): Promise<PasskeyRecord> {
    const passkey = passkeyRecord(user.id, overrides);
    await db.stores.passkeys.create(passkey);
    return passkey;
  }

  const stored = (passkey: PasskeyRecord): Promise<PasskeyRecord | undefined> =>
    db.stores.passkeys.findByCredentialId(passkey.credentialId);

  it('creates a passkey and finds it by credential id', async () => {
    const passkey = await passkeyOf(ada, { transports: [], deviceType: 'singleDevice', backedUp: false });
    assert.deepEqual(await stored(passkey), passkey);
    assert.equal(await db.stores.passkeys.findByCredentialId('unknown-credential'), undefined);
  });

  it('refuses a second passkey with the same credential id, even for another user', async () => {
    const passkey = await passkeyOf(ada);
    await assert.rejects(
      db.stores.passkeys.create(passkeyRecord(bob.id, { credentialId: passkey.credentialId })),
    );
    assert.deepEqual(await stored(passkey), passkey);
    assert.equal(await db.stores.passkeys.countByUser(bob.id), 0);
  });

  it("listByUser and countByUser see only the user's passkeys", async () => {
    const first = await passkeyOf(ada, { name: 'Phone' });
    const second = await passkeyOf(ada, { name: 'Laptop', createdAt: T0 + 1 });
    await passkeyOf(bob);
    const listed = await db.stores.passkeys.listByUser(ada.id);
    assert.deepEqual(
      listed.sort((a, b) => a.id.localeCompare(b.id)),
      [first, second].sort((a, b) => a.id.localeCompare(b.id)),
    );
    assert.equal(await db.stores.passkeys.countByUser(ada.id), 2);
    assert.equal(await db.stores.passkeys.countByUser(bob.id), 1);
    assert.equal(await db.stores.passkeys.countByUser('usr_nobody'), 0);
  });

  describe('advanceCounter', () => {
    it('accepts a higher counter and records use and backup state', async () => {
      const passkey = await passkeyOf(ada, { counter: 5, backedUp: false });
      assert.equal(await db.stores.passkeys.advanceCounter(passkey.id, 6, T0 + 10, true), true);
      assert.deepEqual(await stored(passkey), {
        ...passkey,
        counter: 6,
        lastUsedAt: T0 + 10,
        backedUp: true,
      });
    });

    it('refuses an equal non-zero counter and a lower one, changing nothing', async () => {
      const passkey = await passkeyOf(ada, { counter: 7 });
      assert.equal(await db.stores.passkeys.advanceCounter(passkey.id, 7, T0 + 10, false), false);
      assert.equal(await db.stores.passkeys.advanceCounter(passkey.id, 3, T0 + 11, false), false);
      assert.equal(await db.stores.passkeys.advanceCounter(passkey.id, 0, T0 + 12, false), false);
      assert.deepEqual(await stored(passkey), passkey);
    });

    it('accepts 0 after 0 (an authenticator that does not count) and a first count after 0', async () => {
      const passkey = await passkeyOf(ada, { counter: 0 });
      assert.equal(await db.stores.passkeys.advanceCounter(passkey.id, 0, T0 + 10, true), true);
      assert.equal((await stored(passkey))?.lastUsedAt, T0 + 10);
      assert.equal(await db.stores.passkeys.advanceCounter(passkey.id, 1, T0 + 20, true), true);
      assert.equal((await stored(passkey))?.counter, 1);
    });

    it('refuses an unknown passkey', async () => {
      assert.equal(await db.stores.passkeys.advanceCounter('pk_missing', 1, T0, false), false);
    });

    it('lets exactly one of 50 concurrent assertions with the same counter pass', async () => {
      const passkey = await passkeyOf(ada, { counter: 41 });
      const results = await concurrently(50, (i) =>
        db.stores.passkeys.advanceCounter(passkey.id, 42, T0 + i, true),
      );
      assert.equal(results.filter(Boolean).length, 1);
      assert.equal((await stored(passkey))?.counter, 42);
    });
  });

  it('renames only for the owner', async () => {
    const passkey = await passkeyOf(ada, { name: 'Old' });
    assert.equal(await db.stores.passkeys.rename(passkey.id, bob.id, 'Stolen'), undefined);
    assert.equal((await stored(passkey))?.name, 'Old');
    assert.deepEqual(await db.stores.passkeys.rename(passkey.id, ada.id, 'YubiKey'), {
      ...passkey,
      name: 'YubiKey',
    });
    assert.equal((await stored(passkey))?.name, 'YubiKey');
  });

  it('deletes only for the owner, once', async () => {
    const passkey = await passkeyOf(ada);
    assert.equal(await db.stores.passkeys.delete(passkey.id, bob.id), false);
    assert.deepEqual(await stored(passkey), passkey);
    assert.equal(await db.stores.passkeys.delete(passkey.id, ada.id), true);
    assert.equal(await stored(passkey), undefined);
    assert.equal(await db.stores.passkeys.delete(passkey.id, ada.id), false);
  });
});

forEachDatabase('ChallengeStore', (db) => {
  async function put(overrides: Partial<ChallengeRecord> = {}): Promise<ChallengeRecord> {
    const challenge: ChallengeRecord = {
      challenge: randomId(),
      purpose: 'authentication',
      userId: null,
      expiresAt: T0 + 5 * MINUTE,
      ...overrides,
    };
    await db.stores.challenges.put(challenge);
    return challenge;
  }

  it('consume returns the challenge once', async () => {
    const challenge = await put({ purpose: 'registration', userId: 'usr_ada' });
    assert.deepEqual(await db.stores.challenges.consume(challenge.challenge, 'registration', T0), challenge);
    assert.equal(await db.stores.challenges.consume(challenge.challenge, 'registration', T0), undefined);
  });

  it('consume requires the purpose it was issued for', async () => {
    const challenge = await put({ purpose: 'authentication' });
    assert.equal(await db.stores.challenges.consume(challenge.challenge, 'registration', T0), undefined);
    assert.deepEqual(
      await db.stores.challenges.consume(challenge.challenge, 'authentication', T0),
      challenge,
    );
  });

  it('consume refuses an expired challenge (at its expiry instant) and an unknown one', async () => {
    const challenge = await put();
    assert.equal(
      await db.stores.challenges.consume(challenge.challenge, 'authentication', challenge.expiresAt),
      undefined,
    );
    assert.equal(await db.stores.challenges.consume('never-issued', 'authentication', T0), undefined);
    const fresh = await put();
    assert.deepEqual(
      await db.stores.challenges.consume(fresh.challenge, 'authentication', fresh.expiresAt - 1),
      fresh,
    );
  });

  it('deleteExpired removes expired challenges and keeps live ones', async () => {
    const now = T0 + 10 * MINUTE;
    await put({ expiresAt: now });
    await put({ expiresAt: now - MINUTE });
    const live = await put({ expiresAt: now + 1 });
    assert.equal(await db.stores.challenges.deleteExpired(now), 2);
    assert.deepEqual(await db.stores.challenges.consume(live.challenge, 'authentication', now), live);
  });

  it('lets exactly one of 50 concurrent consumers win', async () => {
    const challenge = await put();
    const results = await concurrently(50, () =>
      db.stores.challenges.consume(challenge.challenge, 'authentication', T0),
    );
    const winners = results.filter((r) => r !== undefined);
    assert.equal(winners.length, 1);
    assert.deepEqual(winners[0], challenge);
  });
});
