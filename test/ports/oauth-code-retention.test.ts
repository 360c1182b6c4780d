/**
 * Consumed authorization codes outlive their expiry by CONSUMED_CODE_RETENTION_MS in every model
 * store, so a late replay is still recognised and revokes what the code gave (RFC 6749 §4.1.2;
 * test/oauth/code-replay.test.ts end to end). Unconsumed codes and other models go at expiry.
 * The SQL stores here; Redis in test/ports/redis-oauth-models.test.ts.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { CONSUMED_CODE_RETENTION_MS, type OAuthModelRecord } from '../../src/ports/oauth-store.ts';
import { forEachDatabase } from '../support/databases.ts';
import { randomId, T0 } from '../support/records.ts';

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
