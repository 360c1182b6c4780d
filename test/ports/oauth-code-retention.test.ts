/**
 * Consumed authorization codes outlive their expiry by CONSUMED_CODE_RETENTION_MS in every model
 * store, so a late replay is still recognised and revokes what the code gave (RFC 6749 §4.1.2;
 * test/oauth/code-replay.test.ts end to end). Unconsumed codes and other models go at expiry.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import { CONSUMED_CODE_RETENTION_MS, type OAuthModelRecord } from '../../src/ports/oauth-store.ts';
import { openRedis } from '../../src/storage/redis/open-redis.ts';
import { RedisOAuthModelStore } from '../../src/storage/redis/redis-oauth-model-store.ts';
import { forEachDatabase } from '../support/databases.ts';
import { randomId, T0 } from '../support/records.ts';
import { redisSkipReason, SHARED_REDIS_URL } from '../support/redis.ts';

function record(overrides: Partial<OAuthModelRecord> = {}): OAuthModelRecord {
  return {
    model: 'AuthorizationCode',
    id: randomId(),
    payload: '{}',
    grantId: randomId('grant_'),
    uid: null,
    userCode: null,
    accountId: randomId('usr_'),
    clientId: randomId('client_'),
    consumedAt: null,
    expiresAt: T0 + 60_000,
    ...overrides,
  };
}

forEachDatabase('OAuth model store: consumed codes kept past expiry', (db) => {
  it('pruning keeps a consumed code until the retention after its expiry; unconsumed codes and consumed refresh tokens go at expiry', async () => {
    const store = db.stores.oauthModels;
    const consumed = record();
    const unconsumed = record();
    const refresh = record({ model: 'RefreshToken' });
    for (const each of [consumed, unconsumed, refresh]) await store.upsert(each);
    assert.equal(await store.consume(consumed.model, consumed.id, T0 + 1), true);
    assert.equal(await store.consume(refresh.model, refresh.id, T0 + 1), true);
    const expired = T0 + 60_000;
    assert.equal(await store.deleteExpired(expired), 2);
    assert.equal(await store.find(unconsumed.model, unconsumed.id), undefined);
    assert.equal(await store.find(refresh.model, refresh.id), undefined);
    assert.equal((await store.find(consumed.model, consumed.id))?.consumedAt, T0 + 1);
    assert.equal(await store.deleteExpired(expired + CONSUMED_CODE_RETENTION_MS - 1), 0);
    assert.ok(await store.find(consumed.model, consumed.id));
    assert.equal(await store.deleteExpired(expired + CONSUMED_CODE_RETENTION_MS), 1);
    assert.equal(await store.find(consumed.model, consumed.id), undefined);
  });

  it('a kept code is still revoked with its grant, and is not listed as live', async () => {
    const store = db.stores.oauthModels;
    const code = record({ consumedAt: T0 });
    await store.upsert(code);
    await store.deleteExpired(T0 + 60_000);
    assert.ok(await store.find(code.model, code.id), 'kept');
    assert.deepEqual(await store.listByAccount(code.model, code.accountId ?? '', T0 + 60_000), []);
    await store.revokeGrant(code.grantId ?? '');
    assert.equal(await store.find(code.model, code.id), undefined);
  });
});

describe('RedisOAuthModelStore: consumed codes kept past expiry', async () => {
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

  it('consuming a code extends its key and its index entries to the retention after its expiry; its expiry reads the same', async () => {
    const expiresAt = Date.now() + 60_000;
    const code = record({ expiresAt });
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
    const unconsumed = record({ expiresAt });
    const token = record({ model: 'AccessToken', expiresAt });
    for (const each of [unconsumed, token]) await store.upsert(each);
    assert.equal(await store.consume(token.model, token.id, Date.now()), true);
    assert.equal(await redis.pexpiretime(`${prefix}m:AuthorizationCode:${unconsumed.id}`), expiresAt);
    assert.equal(await redis.pexpiretime(`${prefix}m:AccessToken:${token.id}`), expiresAt);
  });

  it('a consumed code outlives its expiry and is still revoked with its grant', async () => {
    const code = record({ expiresAt: Date.now() + 150 });
    await store.upsert(code);
    assert.equal(await store.consume(code.model, code.id, Date.now()), true);
    const unconsumed = record({ grantId: code.grantId, expiresAt: Date.now() + 150 });
    await store.upsert(unconsumed);
    await new Promise((resolve) => setTimeout(resolve, 300));
    // Another write to the grant's index drops its expired members, and not the kept code.
    await store.upsert(record({ model: 'AccessToken', grantId: code.grantId }));
    assert.ok((await store.find(code.model, code.id))?.consumedAt, 'kept');
    assert.equal(await store.find(unconsumed.model, unconsumed.id), undefined);
    await store.revokeGrant(code.grantId ?? '');
    assert.equal(await store.find(code.model, code.id), undefined);
  });
});
