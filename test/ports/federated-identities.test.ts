import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { sql } from 'kysely';
import type { FederatedIdentityRecord } from '../../src/ports/federated-identity-store.ts';
import type { UserRecord } from '../../src/ports/user-store.ts';
import { forEachDatabase } from '../support/databases.ts';
import { concurrently, MINUTE, randomId, T0, userRecord } from '../support/records.ts';

function identityRecord(
  userId: string,
  overrides: Partial<FederatedIdentityRecord> = {},
): FederatedIdentityRecord {
  return {
    id: randomId('fid_'),
    userId,
    providerId: 'google',
    issuer: 'https://accounts.google.com',
    subject: randomId(),
    email: 'ada@gmail.example',
    emailVerified: true,
    createdAt: T0,
    lastUsedAt: null,
    ...overrides,
  };
}

forEachDatabase('FederatedIdentityStore', (db) => {
  let ada: UserRecord;
  let bob: UserRecord;

  beforeEach(async () => {
    ada = userRecord();
    bob = userRecord();
    await db.stores.users.createOrGet(ada);
    await db.stores.users.createOrGet(bob);
  });

  it('creates an identity and finds it by (issuer, subject) only', async () => {
    const identity = identityRecord(ada.id, { email: null, emailVerified: false });
    assert.deepEqual(await db.stores.federatedIdentities.createOrGet(identity), { identity, created: true });
    const { issuer, subject } = identity;
    assert.deepEqual(await db.stores.federatedIdentities.findBySubject(issuer, subject), identity);
    // Same subject at another issuer is another person (OIDC Core §5.7).
    assert.equal(await db.stores.federatedIdentities.findBySubject('https://gitlab.com', subject), undefined);
    assert.equal(await db.stores.federatedIdentities.findBySubject(issuer, 'other'), undefined);
  });

  it('links an upstream account to one user: a second link returns the first', async () => {
    const first = identityRecord(ada.id);
    await db.stores.federatedIdentities.createOrGet(first);
    const second = identityRecord(bob.id, { issuer: first.issuer, subject: first.subject });
    assert.deepEqual(await db.stores.federatedIdentities.createOrGet(second), {
      identity: first,
      created: false,
    });
    assert.equal(await db.stores.federatedIdentities.countByUser(bob.id), 0);
  });

  it('20 concurrent links of one upstream account create exactly one row', async () => {
    const subject = randomId();
    const results = await concurrently(20, (i) =>
      db.stores.federatedIdentities.createOrGet(identityRecord(i % 2 ? ada.id : bob.id, { subject })),
    );
    assert.equal(results.filter((r) => r.created).length, 1);
    const winner = results.find((r) => r.created)?.identity;
    for (const result of results) assert.deepEqual(result.identity, winner);
  });

  it("listByUser (oldest first) and countByUser see only the user's identities", async () => {
    const later = identityRecord(ada.id, {
      providerId: 'github',
      issuer: 'https://github.com',
      createdAt: T0 + 5,
    });
    const earlier = identityRecord(ada.id, { createdAt: T0 });
    await db.stores.federatedIdentities.createOrGet(later);
    await db.stores.federatedIdentities.createOrGet(earlier);
    await db.stores.federatedIdentities.createOrGet(identityRecord(bob.id));
    assert.deepEqual(await db.stores.federatedIdentities.listByUser(ada.id), [earlier, later]);
    assert.equal(await db.stores.federatedIdentities.countByUser(ada.id), 2);
    assert.equal(await db.stores.federatedIdentities.countByUser('usr_nobody'), 0);
  });

  it('recordUse stores the time and the current email claim', async () => {
    const identity = identityRecord(ada.id);
    await db.stores.federatedIdentities.createOrGet(identity);
    await db.stores.federatedIdentities.recordUse(identity.id, T0 + MINUTE, 'new@gmail.example', false);
    assert.deepEqual(await db.stores.federatedIdentities.findBySubject(identity.issuer, identity.subject), {
      ...identity,
      lastUsedAt: T0 + MINUTE,
      email: 'new@gmail.example',
      emailVerified: false,
    });
  });

  it("delete removes only the owner's identity", async () => {
    const identity = identityRecord(ada.id);
    await db.stores.federatedIdentities.createOrGet(identity);
    assert.equal(await db.stores.federatedIdentities.delete(identity.id, bob.id), false);
    assert.equal(await db.stores.federatedIdentities.countByUser(ada.id), 1);
    assert.equal(await db.stores.federatedIdentities.delete(identity.id, ada.id), true);
    assert.equal(await db.stores.federatedIdentities.delete(identity.id, ada.id), false);
    assert.equal(
      await db.stores.federatedIdentities.findBySubject(identity.issuer, identity.subject),
      undefined,
    );
  });

  it('identities go with their user (ON DELETE CASCADE)', async () => {
    const identity = identityRecord(ada.id);
    await db.stores.federatedIdentities.createOrGet(identity);
    await sql`delete from users where id = ${ada.id}`.execute(db.database.db);
    assert.equal(
      await db.stores.federatedIdentities.findBySubject(identity.issuer, identity.subject),
      undefined,
    );
  });

  it('refuses an identity for a user that does not exist', async () => {
    await assert.rejects(db.stores.federatedIdentities.createOrGet(identityRecord('usr_missing')));
  });
});

forEachDatabase('FlowReplayStore', (db) => {
  describe('claim', () => {
    it('is true once per id, then false', async () => {
      assert.equal(await db.stores.federationReplay.claim('flow-1', T0 + MINUTE), true);
      assert.equal(await db.stores.federationReplay.claim('flow-1', T0 + MINUTE), false);
      assert.equal(await db.stores.federationReplay.claim('flow-2', T0 + MINUTE), true);
    });

    it('has exactly one winner among 30 concurrent claims', async () => {
      const results = await concurrently(30, () => db.stores.federationReplay.claim('raced', T0 + MINUTE));
      assert.equal(results.filter(Boolean).length, 1);
    });
  });

  it('deleteExpired removes only expired entries', async () => {
    await db.stores.federationReplay.claim('old', T0);
    await db.stores.federationReplay.claim('live', T0 + MINUTE);
    assert.equal(await db.stores.federationReplay.deleteExpired(T0), 1);
    assert.equal(await db.stores.federationReplay.claim('live', T0 + MINUTE), false);
    assert.equal(await db.stores.federationReplay.claim('old', T0 + MINUTE), true);
  });
});
