import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sql } from 'kysely';
import type { OAuthModelRecord } from '../../src/ports/oauth-store.ts';
import { SqlAdapter } from '../../src/domain/oauth-provider/sql-adapter.ts';
import { sha256 } from '../../src/domain/crypto/secrets.ts';
import { forEachDatabase } from '../support/databases.ts';
import { concurrently, randomId, T0 } from '../support/records.ts';

function modelRecord(overrides: Partial<OAuthModelRecord> = {}): OAuthModelRecord {
  return {
    model: 'RefreshToken',
    id: randomId(),
    payload: '{}',
    grantId: randomId('grant_'),
    uid: null,
    userCode: null,
    accountId: 'user-1',
    clientId: 'client-1',
    consumedAt: null,
    expiresAt: T0 + 60_000,
    ...overrides,
  };
}

forEachDatabase('OAuth stores', (db) => {
  describe('OAuthModelStore', () => {
    it('finds by (model, id), by uid and by user code; upsert replaces', async () => {
      const record = modelRecord({ model: 'Session', uid: 'uid-1', payload: '{"a":1}' });
      await db.stores.oauthModels.upsert(record);
      assert.deepEqual(await db.stores.oauthModels.find('Session', record.id), record);
      assert.equal(await db.stores.oauthModels.find('RefreshToken', record.id), undefined);
      assert.deepEqual(await db.stores.oauthModels.findByUid('Session', 'uid-1'), record);
      await db.stores.oauthModels.upsert({ ...record, payload: '{"a":2}' });
      assert.equal((await db.stores.oauthModels.find('Session', record.id))?.payload, '{"a":2}');
      const device = modelRecord({ model: 'DeviceCode', userCode: 'ABCD-EFGH' });
      await db.stores.oauthModels.upsert(device);
      assert.equal((await db.stores.oauthModels.findByUserCode('DeviceCode', 'ABCD-EFGH'))?.id, device.id);
    });

    it('token rows put nothing in the uid and user-code indexes, and lookups by either still use them', async () => {
      // Partial indexes (migration 0008): a token saved writes no index entry for its nulls.
      const { db: kysely } = db.database;
      const lookups = {
        oauth_models_uid: sql`select * from oauth_models where model = 'Session' and uid = 'u'`,
        oauth_models_user_code: sql`select * from oauth_models where model = 'DeviceCode' and user_code = 'c'`,
      };
      for (const [index, lookup] of Object.entries(lookups)) {
        let plan: string;
        if (db.name === 'sqlite') {
          const { rows } = await sql<{ detail: string }>`explain query plan ${lookup}`.execute(kysely);
          plan = rows.map((row) => row.detail).join('\n');
        } else {
          // Tiny tables make a sequential scan cheapest; the question is whether the index can serve.
          plan = await kysely.transaction().execute(async (trx) => {
            await sql`set local enable_seqscan = off`.execute(trx);
            const { rows } = await sql<{ 'QUERY PLAN': string }>`explain ${lookup}`.execute(trx);
            return rows.map((row) => row['QUERY PLAN']).join('\n');
          });
        }
        assert.match(plan, new RegExp(index), plan);
        const definition =
          db.name === 'sqlite'
            ? (
                await sql<{ sql: string }>`select sql from sqlite_master where name = ${index}`.execute(
                  kysely,
                )
              ).rows[0]?.sql
            : (
                await sql<{
                  sql: string;
                }>`select indexdef as sql from pg_indexes where indexname = ${index}`.execute(kysely)
              ).rows[0]?.sql;
        assert.match(definition ?? '', /where .*is not null/i, `${index}: ${definition}`);
      }
    });

    it('consume succeeds for exactly one of 20 concurrent callers, and a re-save does not clear it', async () => {
      const record = modelRecord();
      await db.stores.oauthModels.upsert(record);
      const results = await concurrently(20, () =>
        db.stores.oauthModels.consume(record.model, record.id, T0),
      );
      assert.equal(results.filter(Boolean).length, 1);
      await db.stores.oauthModels.upsert(record);
      assert.equal((await db.stores.oauthModels.find(record.model, record.id))?.consumedAt, T0);
    });

    it('revokes by grant, per model or everything with the grant itself', async () => {
      const grantId = randomId('grant_');
      const refresh = modelRecord({ grantId });
      const code = modelRecord({ model: 'AuthorizationCode', grantId });
      const grant = modelRecord({ model: 'Grant', id: grantId, grantId: null });
      const unrelated = modelRecord();
      for (const record of [refresh, code, grant, unrelated]) await db.stores.oauthModels.upsert(record);
      await db.stores.oauthModels.revokeByGrantId('RefreshToken', grantId);
      assert.equal(await db.stores.oauthModels.find('RefreshToken', refresh.id), undefined);
      assert.ok(await db.stores.oauthModels.find('AuthorizationCode', code.id));
      await db.stores.oauthModels.revokeGrant(grantId);
      assert.equal(await db.stores.oauthModels.find('AuthorizationCode', code.id), undefined);
      assert.equal(await db.stores.oauthModels.find('Grant', grantId), undefined);
      assert.ok(await db.stores.oauthModels.find('RefreshToken', unrelated.id));
    });

    it('lists live records of an account; deletes by client and when expired', async () => {
      const live = modelRecord({ model: 'Grant', accountId: 'ada', expiresAt: T0 + 10 });
      const expired = modelRecord({ model: 'Grant', accountId: 'ada', expiresAt: T0 - 1 });
      const other = modelRecord({ model: 'Grant', accountId: 'bob', clientId: 'client-2' });
      for (const record of [live, expired, other]) await db.stores.oauthModels.upsert(record);
      assert.deepEqual(
        (await db.stores.oauthModels.listByAccount('Grant', 'ada', T0)).map((r) => r.id),
        [live.id],
      );
      assert.equal(await db.stores.oauthModels.deleteExpired(T0), 1);
      assert.equal(await db.stores.oauthModels.deleteByClient('client-2'), 1);
      assert.ok(await db.stores.oauthModels.find('Grant', live.id));
    });
  });

  describe('OAuthModelStore.deleteByAccount', () => {
    it('deletes the account’s grants, what was issued under them, and its other records only; provider sessions stay', async () => {
      const grantId = randomId('grant_');
      const grant = modelRecord({ model: 'Grant', id: grantId, grantId: null, accountId: 'ada' });
      // Issued under Ada's grant: goes even without an account id of its own.
      const underGrant = modelRecord({ grantId, accountId: null });
      const session = modelRecord({ model: 'Session', grantId: null, uid: randomId(), accountId: 'ada' });
      const bobs = modelRecord({ accountId: 'bob' });
      const clientOnly = modelRecord({ model: 'ClientCredentials', grantId: null, accountId: null });
      for (const record of [grant, underGrant, session, bobs, clientOnly])
        await db.stores.oauthModels.upsert(record);
      assert.equal(await db.stores.oauthModels.deleteByAccount('ada'), 2);
      assert.equal(await db.stores.oauthModels.find('Grant', grantId), undefined);
      assert.equal(await db.stores.oauthModels.find('RefreshToken', underGrant.id), undefined);
      // Left to back-channel logout, which ends it and tells its apps.
      assert.ok(await db.stores.oauthModels.find('Session', session.id));
      assert.ok(await db.stores.oauthModels.find('RefreshToken', bobs.id));
      assert.ok(await db.stores.oauthModels.find('ClientCredentials', clientOnly.id));
      assert.equal(await db.stores.oauthModels.deleteByAccount('nobody'), 0);
    });
  });

  describe('the provider adapter on the store', () => {
    it('keys bearer secrets by their SHA-256 and gives the id back on find', async () => {
      const adapter = new SqlAdapter('RefreshToken', db.stores.oauthModels);
      const id = randomId();
      await adapter.upsert(id, { jti: id, grantId: 'g1', accountId: 'ada', clientId: 'c1', iat: 1 }, 60);
      const row = await db.stores.oauthModels.find('RefreshToken', sha256(id));
      assert.ok(row);
      assert.ok(!row.payload.includes(id), 'the stored payload does not hold the token');
      assert.equal(await db.stores.oauthModels.find('RefreshToken', id), undefined);
      assert.equal((await adapter.find(id))?.['jti'], id);
    });

    it('consumes once: the second consume is invalid_grant; consumed shows on find', async () => {
      const adapter = new SqlAdapter('AuthorizationCode', db.stores.oauthModels);
      const id = randomId();
      await adapter.upsert(id, { jti: id, grantId: 'g1' }, 60);
      await adapter.consume(id);
      assert.equal(typeof (await adapter.find(id))?.['consumed'], 'number');
      await assert.rejects(
        adapter.consume(id),
        (error: { error?: string }) => error.error === 'invalid_grant',
      );
    });

    it('does not store the session cookie an interaction copies', async () => {
      const adapter = new SqlAdapter('Interaction', db.stores.oauthModels);
      const id = randomId();
      await adapter.upsert(
        id,
        { jti: id, session: { accountId: 'ada', uid: 'u1', cookie: 'SECRET-COOKIE' } },
        60,
      );
      const row = await db.stores.oauthModels.find('Interaction', sha256(id));
      assert.ok(row && !row.payload.includes('SECRET-COOKIE'));
      assert.deepEqual((await adapter.find(id))?.['session'], { accountId: 'ada', uid: 'u1' });
    });

    it('keeps grant ids as they are (references, not credentials)', async () => {
      const adapter = new SqlAdapter('Grant', db.stores.oauthModels);
      await adapter.upsert('grant-1', { jti: 'grant-1', accountId: 'ada', clientId: 'c1' }, 60);
      const row = await db.stores.oauthModels.find('Grant', 'grant-1');
      assert.equal(row?.accountId, 'ada');
      assert.equal(row?.clientId, 'c1');
    });
  });

  describe('RefreshGraceStore', () => {
    it('one claim wins among 20 concurrent; complete, find, release', async () => {
      const hash = randomId();
      const results = await concurrently(20, () => db.stores.refreshGrace.claim(hash, 'c1', T0 + 5000));
      assert.equal(results.filter(Boolean).length, 1);
      assert.deepEqual(await db.stores.refreshGrace.find(hash), {
        tokenHash: hash,
        clientId: 'c1',
        sealedResponse: null,
        expiresAt: T0 + 5000,
      });
      await db.stores.refreshGrace.complete(hash, 'sealed');
      assert.equal((await db.stores.refreshGrace.find(hash))?.sealedResponse, 'sealed');
      await db.stores.refreshGrace.release(hash);
      assert.equal(await db.stores.refreshGrace.find(hash), undefined);
      assert.equal(await db.stores.refreshGrace.claim(hash, 'c1', T0), true);
      assert.equal(await db.stores.refreshGrace.deleteExpired(T0), 1);
    });
  });

  describe('OAuthClientStore', () => {
    it('creates once per id, rotates only confidential secrets, removes', async () => {
      const record = { clientId: 'app', definition: '{}', secretHash: 'h1', createdAt: T0, updatedAt: T0 };
      assert.equal(await db.stores.oauthClients.create(record), true);
      assert.equal(await db.stores.oauthClients.create(record), false);
      assert.equal(await db.stores.oauthClients.setSecretHash('app', 'h2', T0 + 1), true);
      assert.equal((await db.stores.oauthClients.find('app'))?.secretHash, 'h2');
      await db.stores.oauthClients.create({ ...record, clientId: 'public', secretHash: null });
      assert.equal(await db.stores.oauthClients.setSecretHash('public', 'h3', T0), false);
      assert.deepEqual(
        (await db.stores.oauthClients.list()).map((c) => c.clientId),
        ['app', 'public'],
      );
      assert.equal(await db.stores.oauthClients.remove('app'), true);
      assert.equal(await db.stores.oauthClients.remove('app'), false);
    });
  });

  describe('SigningKeyStore', () => {
    it('lists newest first; retires; deletes only keys retired before a time', async () => {
      const key = (kid: string, signsFrom: number) => ({
        kid,
        alg: 'ES256' as const,
        sealedJwk: 'sealed',
        createdAt: T0,
        signsFrom,
        retiresAt: null,
      });
      await db.stores.signingKeys.insert(key('old', T0));
      await db.stores.signingKeys.insert(key('new', T0 + 10));
      assert.deepEqual(
        (await db.stores.signingKeys.list()).map((k) => k.kid),
        ['new', 'old'],
      );
      await db.stores.signingKeys.setRetiresAt('old', T0 + 10);
      assert.equal(await db.stores.signingKeys.deleteRetiredBefore(T0 + 10), 0);
      assert.equal(await db.stores.signingKeys.deleteRetiredBefore(T0 + 11), 1);
      assert.deepEqual(
        (await db.stores.signingKeys.list()).map((k) => k.kid),
        ['new'],
      );
    });
  });
});
