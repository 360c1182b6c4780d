/**
 * The provider's short-lived models in Redis (src/storage/redis/redis-oauth-model-store.ts) and
 * the routing that keeps the database behind them (src/storage/routed-oauth-model-store.ts):
 * the same port as the SQL store, single use under any concurrency, expiry by Redis itself,
 * revocations by grant, client and account, and a Redis outage that sends records to the
 * database instead of failing.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import { CONSUMED_CODE_RETENTION_MS, type OAuthModelRecord } from '../../src/ports/oauth-store.ts';
import { openRedis } from '../../src/storage/redis/open-redis.ts';
import { RedisOAuthModelStore } from '../../src/storage/redis/redis-oauth-model-store.ts';
import { RoutedOAuthModelStore } from '../../src/storage/routed-oauth-model-store.ts';
import { createSqlStores } from '../../src/storage/sql/stores.ts';
import { migrateToLatest, openDatabase } from '../../src/storage/sql/open-database.ts';
import { concurrently, randomId } from '../support/records.ts';
import { redisSkipReason, SHARED_REDIS_URL } from '../support/redis.ts';
import { freePort } from '../support/server.ts';

function codeRecord(overrides: Partial<OAuthModelRecord> = {}): OAuthModelRecord {
  return {
    model: 'AuthorizationCode',
    id: randomId(),
    payload: '{"kind":"AuthorizationCode"}',
    grantId: randomId('grant_'),
    uid: null,
    userCode: null,
    accountId: randomId('usr_'),
    clientId: randomId('client_'),
    consumedAt: null,
    expiresAt: Date.now() + 60_000,
    ...overrides,
  };
}

describe('RedisOAuthModelStore', async () => {
  const reason = await redisSkipReason();
  if (reason) {
    it('needs redis', { skip: reason }, () => {});
    return;
  }
  const prefix = `gatehouse-test:${randomBytes(6).toString('hex')}:`;
  let redis: Redis;
  let store: RedisOAuthModelStore;
  before(async () => {
    redis = await openRedis(SHARED_REDIS_URL);
    await redis.connect();
    store = new RedisOAuthModelStore(redis, prefix);
  });
  after(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  });

  it('finds what it stored, by id, user code and uid; a re-save replaces the payload', async () => {
    const code = codeRecord();
    await store.upsert(code);
    assert.deepEqual(await store.find(code.model, code.id), code);
    assert.equal(await store.find('AccessToken', code.id), undefined, 'the model is part of the key');
    const device = codeRecord({ model: 'DeviceCode', userCode: 'BCDF-GHJK', accountId: null });
    await store.upsert(device);
    assert.equal((await store.findByUserCode('DeviceCode', 'BCDF-GHJK'))?.id, device.id);
    await store.upsert({ ...device, payload: '{"approved":true}' });
    assert.equal((await store.findByUserCode('DeviceCode', 'BCDF-GHJK'))?.payload, '{"approved":true}');
    assert.equal(await store.findByUserCode('DeviceCode', 'XXXX-XXXX'), undefined);
    const session = codeRecord({ model: 'Interaction', uid: 'uid-1', grantId: null });
    await store.upsert(session);
    assert.equal((await store.findByUid('Interaction', 'uid-1'))?.id, session.id);
  });

  it('consume succeeds for exactly one of 20 concurrent callers; a re-save keeps it consumed; nothing to consume fails', async () => {
    const code = codeRecord();
    await store.upsert(code);
    const results = await concurrently(20, () => store.consume(code.model, code.id, 1234));
    assert.equal(results.filter(Boolean).length, 1);
    await store.upsert(code);
    assert.equal((await store.find(code.model, code.id))?.consumedAt, 1234);
    assert.equal(await store.consume('AuthorizationCode', randomId(), 1), false);
    assert.equal(await store.find('AuthorizationCode', 'never-stored'), undefined);
  });

  it('records expire with their lifetime, lookups with them', async () => {
    const device = codeRecord({ model: 'DeviceCode', userCode: 'LMNP-QRST', expiresAt: Date.now() + 150 });
    await store.upsert(device);
    assert.ok(await store.find(device.model, device.id));
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(await store.find(device.model, device.id), undefined);
    assert.equal(await store.findByUserCode('DeviceCode', 'LMNP-QRST'), undefined);
    assert.equal(await redis.exists(`${prefix}uc:DeviceCode:LMNP-QRST`), 0, 'the lookup key expired too');
  });

  it('the index of a busy client keeps its live records only: each write drops the expired ones', async () => {
    const clientId = randomId('client_');
    for (let i = 0; i < 5; i++) await store.upsert(codeRecord({ clientId, expiresAt: Date.now() + 100 }));
    await new Promise((resolve) => setTimeout(resolve, 200));
    await store.upsert(codeRecord({ clientId }));
    assert.equal(await redis.zcard(`${prefix}client:${clientId}`), 1);
    assert.ok(
      (await redis.pttl(`${prefix}client:${clientId}`)) > 50_000,
      'the index lives as long as its newest record',
    );
  });

  it('revokes by grant (one model, or everything), by client and by account', async () => {
    const grantId = randomId('grant_');
    const code = codeRecord({ grantId });
    const token = codeRecord({ model: 'AccessToken', grantId });
    const other = codeRecord();
    for (const record of [code, token, other]) await store.upsert(record);
    await store.revokeByGrantId('AccessToken', grantId);
    assert.equal(await store.find('AccessToken', token.id), undefined);
    assert.ok(await store.find(code.model, code.id), 'another model under the grant stays');
    await store.revokeGrant(grantId);
    assert.equal(await store.find(code.model, code.id), undefined);
    assert.ok(await store.find(other.model, other.id), 'another grant is untouched');

    const clientId = randomId('client_');
    const accountId = randomId('usr_');
    const ofClient = codeRecord({ clientId });
    const ofAccount = codeRecord({ accountId });
    for (const record of [ofClient, ofAccount]) await store.upsert(record);
    assert.deepEqual(
      (await store.listByAccount('AuthorizationCode', accountId, Date.now())).map((r) => r.id),
      [ofAccount.id],
    );
    assert.equal(await store.deleteByClient(clientId), 1);
    assert.equal(await store.find(ofClient.model, ofClient.id), undefined);
    assert.equal(await store.deleteByAccount(accountId), 1);
    assert.equal(await store.find(ofAccount.model, ofAccount.id), undefined);
    assert.ok(await store.find(other.model, other.id));
  });

  it('keeps no bearer value: the store holds the key it is given (the adapter’s SHA-256)', async () => {
    const code = codeRecord({ id: 'hashed-by-the-adapter' });
    await store.upsert(code);
    const keys = await redis.keys(`${prefix}m:*`);
    assert.ok(keys.includes(`${prefix}m:AuthorizationCode:hashed-by-the-adapter`));
  });

  it('consuming a code extends its key and its index entries to the retention after its expiry; its expiry reads the same', async () => {
    const expiresAt = Date.now() + 60_000;
    const code = codeRecord({ expiresAt });
    await store.upsert(code);
    const key = `${prefix}m:AuthorizationCode:${code.id}`;
    assert.ok((await redis.pttl(key)) <= 60_000);
    assert.equal(await store.consume(code.model, code.id, Date.now()), true);
    const keep = expiresAt + CONSUMED_CODE_RETENTION_MS;
    assert.equal(await redis.pexpiretime(key), keep);
    const member = `AuthorizationCode:${code.id}`;
    for (const index of [`grant:${code.grantId}`, `account:${code.accountId}`, `client:${code.clientId}`]) {
      assert.equal(Number(await redis.zscore(`${prefix}${index}`, member)), keep, index);
      assert.equal(await redis.pexpiretime(`${prefix}${index}`), keep, index);
    }
    assert.equal((await store.find(code.model, code.id))?.expiresAt, expiresAt);
    // A re-save keeps it; a code never consumed, or another model consumed, keeps its lifetime.
    await store.upsert({ ...code, consumedAt: null });
    assert.equal(await redis.pexpiretime(key), keep);
    const unconsumed = codeRecord({ expiresAt });
    const token = codeRecord({ model: 'AccessToken', expiresAt });
    for (const each of [unconsumed, token]) await store.upsert(each);
    assert.equal(await store.consume(token.model, token.id, Date.now()), true);
    assert.equal(await redis.pexpiretime(`${prefix}m:AuthorizationCode:${unconsumed.id}`), expiresAt);
    assert.equal(await redis.pexpiretime(`${prefix}m:AccessToken:${token.id}`), expiresAt);
  });

  it('a consumed code outlives its expiry and is still revoked with its grant', async () => {
    const code = codeRecord({ expiresAt: Date.now() + 150 });
    await store.upsert(code);
    assert.equal(await store.consume(code.model, code.id, Date.now()), true);
    const unconsumed = codeRecord({ grantId: code.grantId, expiresAt: Date.now() + 150 });
    await store.upsert(unconsumed);
    await new Promise((resolve) => setTimeout(resolve, 300));
    // Another write to the grant's index drops its expired members, and not the kept code.
    await store.upsert(codeRecord({ model: 'AccessToken', grantId: code.grantId }));
    assert.ok((await store.find(code.model, code.id))?.consumedAt, 'kept');
    assert.equal(await store.find(unconsumed.model, unconsumed.id), undefined);
    await store.revokeGrant(code.grantId ?? '');
    assert.equal(await store.find(code.model, code.id), undefined);
  });
});

describe('RoutedOAuthModelStore', async () => {
  const reason = await redisSkipReason();
  if (reason) {
    it('needs redis', { skip: reason }, () => {});
    return;
  }
  const database = openDatabase({ sqlitePath: ':memory:' });
  await migrateToLatest(database);
  const sql = createSqlStores(database).oauthModels;
  const errors: string[] = [];
  after(() => database.close());

  it('short-lived models go to Redis, the rest to the database; revocations reach both', async () => {
    const prefix = `gatehouse-test:${randomBytes(6).toString('hex')}:`;
    const redis = await openRedis(SHARED_REDIS_URL);
    await redis.connect();
    try {
      const routed = new RoutedOAuthModelStore(sql, new RedisOAuthModelStore(redis, prefix), (_error, op) =>
        errors.push(op),
      );
      const grantId = randomId('grant_');
      const code = codeRecord({ grantId });
      const refresh = codeRecord({ model: 'RefreshToken', grantId });
      await routed.upsert(code);
      await routed.upsert(refresh);
      assert.equal(await sql.find(code.model, code.id), undefined, 'the code is not in the database');
      assert.ok(await sql.find(refresh.model, refresh.id), 'the refresh token is');
      assert.equal(await redis.exists(`${prefix}m:AuthorizationCode:${code.id}`), 1);
      assert.deepEqual(await routed.find(code.model, code.id), code);
      assert.equal(await routed.consume(code.model, code.id, 5), true);
      assert.equal(await routed.consume(code.model, code.id, 6), false);
      await routed.revokeGrant(grantId);
      assert.equal(await routed.find(code.model, code.id), undefined);
      assert.equal(await routed.find(refresh.model, refresh.id), undefined);
      assert.deepEqual(errors, []);
    } finally {
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length) await redis.del(...keys);
      redis.disconnect();
    }
  });

  it('with Redis unreachable, records go to the database and are found, consumed and revoked there', async () => {
    // Nothing listens on this port: every command fails at once (no offline queue).
    const down = await openRedis(`redis://127.0.0.1:${await freePort()}`);
    down.on('error', () => {});
    try {
      const routed = new RoutedOAuthModelStore(sql, new RedisOAuthModelStore(down), (_error, op) =>
        errors.push(op),
      );
      const code = codeRecord();
      await routed.upsert(code);
      assert.deepEqual(await sql.find(code.model, code.id), code);
      assert.deepEqual(await routed.find(code.model, code.id), code);
      assert.equal(await routed.consume(code.model, code.id, 7), true);
      assert.equal(await routed.consume(code.model, code.id, 8), false, 'still single use');
      await routed.revokeGrant(code.grantId ?? '');
      assert.equal(await routed.find(code.model, code.id), undefined);
      assert.ok(
        errors.includes('upsert') && errors.includes('find') && errors.includes('revokeGrant'),
        errors.join(),
      );
    } finally {
      down.disconnect();
    }
  });
});
