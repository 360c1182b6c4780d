import type { Redis } from 'ioredis';
import {
  CONSUMED_CODE_RETENTION_MS,
  type OAuthModelRecord,
  type OAuthModelStore,
  RETAINED_WHEN_CONSUMED,
} from '../../ports/oauth-store.ts';

/**
 * The provider's short-lived models (codes, interactions, pushed requests, device codes, opaque
 * access tokens, replay entries) in Redis, when a node has it: they are written once or a few
 * times, read within minutes and then die, which Redis does with an expiry instead of rows to
 * prune. Same port as the SQL store; the routing between the two is routed-oauth-model-store.ts.
 *
 * Layout (every key under `prefix`):
 * - `m:<model>:<id>` a hash: p payload, g grant, a account, c client, u user code, s uid,
 *   e expiry (ms), and x once consumed; it expires with the record, a consumed authorization
 *   code CONSUMED_CODE_RETENTION_MS later (a replay must still find it, RFC 6749 §4.1.2).
 * - `uc:<model>:<user code>`, `uid:<model>:<uid>` the id found by those lookups.
 * - `grant:<id>`, `account:<id>`, `client:<id>` sorted sets of `<model>:<id>` scored by the
 *   time the record's key expires, for the revocations. Every write drops the members already
 *   expired, so the set of a busy client holds its live records only, and the set itself
 *   lives as long as its last member.
 * Ids arrive as the adapter keys them (SHA-256 of bearer secrets), so a Redis dump holds no
 * usable token either.
 */

// One script per write, so no reader ever sees a record without its lookups and indexes.
// KEYS: record, user-code lookup, uid lookup, grant set, account set, client set.
// ARGV: payload, grant, account, client, user code, uid, expiry ms ('' none), consumed ms
// ('' none), member, now ms, retention ms once consumed ('0' for models not retained).
const UPSERT = `
redis.call('HSET', KEYS[1], 'p', ARGV[1], 'g', ARGV[2], 'a', ARGV[3], 'c', ARGV[4], 'u', ARGV[5], 's', ARGV[6], 'e', ARGV[7])
-- A re-save never clears consumption: once used stays used.
if ARGV[8] ~= '' then redis.call('HSETNX', KEYS[1], 'x', ARGV[8]) end
-- The key outlives the record's expiry (field e) by the retention once consumed.
local at = tonumber(ARGV[7])
if at and ARGV[11] ~= '0' and redis.call('HEXISTS', KEYS[1], 'x') == 1 then at = at + tonumber(ARGV[11]) end
if at then redis.call('PEXPIREAT', KEYS[1], at) else redis.call('PERSIST', KEYS[1]) end
for i = 2, 3 do
  if ARGV[i + 3] ~= '' then
    redis.call('SET', KEYS[i], ARGV[9])
    if at then redis.call('PEXPIREAT', KEYS[i], at) end
  end
end
local now = tonumber(ARGV[10])
for i = 4, 6 do
  if ARGV[i - 2] ~= '' then
    -- Read before the add: -2 is a new index, -1 one that holds a record without expiry.
    local ttl = redis.call('PTTL', KEYS[i])
    redis.call('ZADD', KEYS[i], at or '+inf', ARGV[9])
    redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', '(' .. now)
    if not at then
      redis.call('PERSIST', KEYS[i])
    elseif ttl ~= -1 and (ttl == -2 or now + ttl < at) then
      redis.call('PEXPIREAT', KEYS[i], at)
    end
  end
end
return 1`;

// Exactly one caller wins, however many race: the consumed mark is set only where none is.
const CONSUME = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
return redis.call('HSETNX', KEYS[1], 'x', ARGV[1])`;

// The same for a model retained once consumed: the record key, and its entries in the grant,
// account and client indexes, then last until the retention after its expiry, so the
// revocations still find it. KEYS: record, grant set, account set, client set.
// ARGV: now ms, retention ms, member.
const CONSUME_RETAINED = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if redis.call('HSETNX', KEYS[1], 'x', ARGV[1]) == 0 then return 0 end
local at = tonumber(redis.call('HGET', KEYS[1], 'e'))
if not at then return 1 end
local keep = at + tonumber(ARGV[2])
redis.call('PEXPIREAT', KEYS[1], keep)
local now = tonumber(ARGV[1])
for i = 2, 4 do
  if redis.call('ZSCORE', KEYS[i], ARGV[3]) then
    redis.call('ZADD', KEYS[i], keep, ARGV[3])
    local ttl = redis.call('PTTL', KEYS[i])
    if ttl >= 0 and now + ttl < keep then redis.call('PEXPIREAT', KEYS[i], keep) end
  end
end
return 1`;

interface ModelScripts {
  gatehouseOAuthUpsert(...args: string[]): Promise<number>;
  gatehouseOAuthConsume(key: string, now: string): Promise<number>;
  gatehouseOAuthConsumeRetained(...args: string[]): Promise<number>;
}

/** How long past its expiry a consumed record of the model is kept (0: not kept). */
function retentionOf(model: string): number {
  return model === RETAINED_WHEN_CONSUMED ? CONSUMED_CODE_RETENTION_MS : 0;
}

function orEmpty(value: string | null): string {
  return value ?? '';
}

function orNull(value: string | undefined): string | null {
  return value === undefined || value === '' ? null : value;
}

export class RedisOAuthModelStore implements OAuthModelStore {
  readonly #redis: Redis & ModelScripts;
  readonly #prefix: string;

  constructor(redis: Redis, prefix = 'gatehouse:oauth:') {
    redis.defineCommand('gatehouseOAuthUpsert', { numberOfKeys: 6, lua: UPSERT });
    redis.defineCommand('gatehouseOAuthConsume', { numberOfKeys: 1, lua: CONSUME });
    redis.defineCommand('gatehouseOAuthConsumeRetained', { numberOfKeys: 4, lua: CONSUME_RETAINED });
    this.#redis = redis as Redis & ModelScripts;
    this.#prefix = prefix;
  }

  #record(member: string): string {
    return `${this.#prefix}m:${member}`;
  }

  #set(kind: 'grant' | 'account' | 'client', id: string): string {
    return `${this.#prefix}${kind}:${id}`;
  }

  async upsert(record: OAuthModelRecord): Promise<void> {
    const member = `${record.model}:${record.id}`;
    await this.#redis.gatehouseOAuthUpsert(
      this.#record(member),
      `${this.#prefix}uc:${record.model}:${orEmpty(record.userCode)}`,
      `${this.#prefix}uid:${record.model}:${orEmpty(record.uid)}`,
      this.#set('grant', orEmpty(record.grantId)),
      this.#set('account', orEmpty(record.accountId)),
      this.#set('client', orEmpty(record.clientId)),
      record.payload,
      orEmpty(record.grantId),
      orEmpty(record.accountId),
      orEmpty(record.clientId),
      orEmpty(record.userCode),
      orEmpty(record.uid),
      record.expiresAt === null ? '' : String(record.expiresAt),
      record.consumedAt === null ? '' : String(record.consumedAt),
      member,
      String(Date.now()),
      String(retentionOf(record.model)),
    );
  }

  async find(model: string, id: string): Promise<OAuthModelRecord | undefined> {
    return this.#read(`${model}:${id}`);
  }

  async findByUid(model: string, uid: string): Promise<OAuthModelRecord | undefined> {
    return this.#byLookup(`${this.#prefix}uid:${model}:${uid}`, (record) => record.uid === uid);
  }

  async findByUserCode(model: string, userCode: string): Promise<OAuthModelRecord | undefined> {
    return this.#byLookup(`${this.#prefix}uc:${model}:${userCode}`, (record) => record.userCode === userCode);
  }

  async consume(model: string, id: string, now: number): Promise<boolean> {
    const member = `${model}:${id}`;
    const key = this.#record(member);
    const retention = retentionOf(model);
    if (retention === 0) return (await this.#redis.gatehouseOAuthConsume(key, String(now))) === 1;
    // The indexes it is in are named by the record's fields, and a script's keys must be passed
    // in: read them first (a code's grant, account and client never change once saved).
    const [grantId, accountId, clientId] = await this.#redis.hmget(key, 'g', 'a', 'c');
    const consumed = await this.#redis.gatehouseOAuthConsumeRetained(
      key,
      this.#set('grant', grantId ?? ''),
      this.#set('account', accountId ?? ''),
      this.#set('client', clientId ?? ''),
      String(now),
      String(retention),
      member,
    );
    return consumed === 1;
  }

  async destroy(model: string, id: string): Promise<void> {
    await this.#redis.del(this.#record(`${model}:${id}`));
  }

  async revokeByGrantId(model: string, grantId: string): Promise<void> {
    const setKey = this.#set('grant', grantId);
    const members = (await this.#redis.zrange(setKey, '0', '-1')).filter((member) =>
      member.startsWith(`${model}:`),
    );
    await this.#delete(members);
    if (members.length > 0) await this.#redis.zrem(setKey, ...members);
  }

  async revokeGrant(grantId: string): Promise<void> {
    await this.#deleteSet(this.#set('grant', grantId));
  }

  async listByAccount(model: string, accountId: string, now: number): Promise<OAuthModelRecord[]> {
    const members = await this.#redis.zrange(this.#set('account', accountId), '0', '-1');
    const records = await Promise.all(
      members.filter((member) => member.startsWith(`${model}:`)).map((member) => this.#read(member)),
    );
    return records
      .filter((record): record is OAuthModelRecord => record !== undefined)
      .filter((record) => record.expiresAt === null || record.expiresAt > now);
  }

  deleteByClient(clientId: string): Promise<number> {
    return this.#deleteSet(this.#set('client', clientId));
  }

  deleteByAccount(accountId: string): Promise<number> {
    return this.#deleteSet(this.#set('account', accountId));
  }

  /** Nothing to do: every record expires by itself (a consumed code after its retention). */
  async deleteExpired(): Promise<number> {
    return 0;
  }

  async #read(member: string): Promise<OAuthModelRecord | undefined> {
    const fields = await this.#redis.hgetall(this.#record(member));
    if (fields['p'] === undefined) return undefined;
    const separator = member.indexOf(':');
    const consumedAt = orNull(fields['x']);
    const expiresAt = orNull(fields['e']);
    return {
      model: member.slice(0, separator),
      id: member.slice(separator + 1),
      payload: fields['p'],
      grantId: orNull(fields['g']),
      uid: orNull(fields['s']),
      userCode: orNull(fields['u']),
      accountId: orNull(fields['a']),
      clientId: orNull(fields['c']),
      consumedAt: consumedAt === null ? null : Number(consumedAt),
      expiresAt: expiresAt === null ? null : Number(expiresAt),
    };
  }

  /** A lookup key names the member; the record must still carry the value it was found by. */
  async #byLookup(
    key: string,
    matches: (record: OAuthModelRecord) => boolean,
  ): Promise<OAuthModelRecord | undefined> {
    const member = await this.#redis.get(key);
    if (!member) return undefined;
    const record = await this.#read(member);
    return record && matches(record) ? record : undefined;
  }

  async #delete(members: string[]): Promise<number> {
    if (members.length === 0) return 0;
    return this.#redis.del(...members.map((member) => this.#record(member)));
  }

  async #deleteSet(setKey: string): Promise<number> {
    const deleted = await this.#delete(await this.#redis.zrange(setKey, '0', '-1'));
    await this.#redis.del(setKey);
    return deleted;
  }
}
