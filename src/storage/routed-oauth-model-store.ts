import type { Redis } from 'ioredis';
import type { OAuthModelRecord, OAuthModelStore } from '../ports/oauth-store.ts';
import { RedisOAuthModelStore } from './redis/redis-oauth-model-store.ts';

/**
 * The provider's models whose records live minutes at most: authorization codes (60 s),
 * interactions, pushed authorization requests, device codes, opaque access tokens (15 min,
 * 5 for client credentials) and replay-detection entries. With Redis configured they are kept
 * there (issue #5); grants, refresh tokens and provider sessions stay in the database. A consumed
 * code is kept a while past its 60 s, in whichever store holds it, so a late replay is still
 * recognised (CONSUMED_CODE_RETENTION_MS, ports/oauth-store.ts).
 */
export const SHORT_LIVED_MODELS: ReadonlySet<string> = new Set([
  'AuthorizationCode',
  'Interaction',
  'PushedAuthorizationRequest',
  'DeviceCode',
  'BackchannelAuthenticationRequest',
  'AccessToken',
  'ClientCredentials',
  'ReplayDetection',
]);

/**
 * One OAuthModelStore over two: short-lived models in `shortLived` (Redis), the rest in the
 * database. The database is the fallback, so Redis going down never stops sign-ins to apps:
 * a record that cannot be written to Redis is written to the database, and lookups that Redis
 * cannot answer (or does not find) are asked of the database. While Redis is down its records
 * are out of reach; flows begun before the outage start over. Revocations go to both: the
 * database first (it holds the grants), Redis after, and a Redis failure there is reported,
 * not thrown, as what it leaves behind is inert (the provider checks the grant of every code
 * and access token it accepts, and the grant is gone).
 */
export class RoutedOAuthModelStore implements OAuthModelStore {
  readonly #database: OAuthModelStore;
  readonly #shortLived: OAuthModelStore;
  readonly #onError: (error: unknown, operation: string) => void;

  constructor(
    database: OAuthModelStore,
    shortLived: OAuthModelStore,
    onError: (error: unknown, operation: string) => void,
  ) {
    this.#database = database;
    this.#shortLived = shortLived;
    this.#onError = onError;
  }

  async upsert(record: OAuthModelRecord): Promise<void> {
    if (SHORT_LIVED_MODELS.has(record.model)) {
      try {
        return await this.#shortLived.upsert(record);
      } catch (error) {
        this.#onError(error, 'upsert');
      }
    }
    await this.#database.upsert(record);
  }

  find(model: string, id: string): Promise<OAuthModelRecord | undefined> {
    return this.#lookup(model, 'find', (store) => store.find(model, id));
  }

  findByUid(model: string, uid: string): Promise<OAuthModelRecord | undefined> {
    return this.#lookup(model, 'findByUid', (store) => store.findByUid(model, uid));
  }

  findByUserCode(model: string, userCode: string): Promise<OAuthModelRecord | undefined> {
    return this.#lookup(model, 'findByUserCode', (store) => store.findByUserCode(model, userCode));
  }

  async consume(model: string, id: string, now: number): Promise<boolean> {
    // A record is in one of the two stores; a consume that finds nothing to mark fails either way.
    if (SHORT_LIVED_MODELS.has(model)) {
      try {
        if (await this.#shortLived.consume(model, id, now)) return true;
      } catch (error) {
        this.#onError(error, 'consume');
      }
    }
    return this.#database.consume(model, id, now);
  }

  async destroy(model: string, id: string): Promise<void> {
    await this.#database.destroy(model, id);
    if (SHORT_LIVED_MODELS.has(model))
      await this.#bestEffort('destroy', () => this.#shortLived.destroy(model, id));
  }

  async revokeByGrantId(model: string, grantId: string): Promise<void> {
    await this.#database.revokeByGrantId(model, grantId);
    if (SHORT_LIVED_MODELS.has(model))
      await this.#bestEffort('revokeByGrantId', () => this.#shortLived.revokeByGrantId(model, grantId));
  }

  async revokeGrant(grantId: string): Promise<void> {
    await this.#database.revokeGrant(grantId);
    await this.#bestEffort('revokeGrant', () => this.#shortLived.revokeGrant(grantId));
  }

  async listByAccount(model: string, accountId: string, now: number): Promise<OAuthModelRecord[]> {
    const stored = await this.#database.listByAccount(model, accountId, now);
    if (!SHORT_LIVED_MODELS.has(model)) return stored;
    const kept = await this.#bestEffort('listByAccount', () =>
      this.#shortLived.listByAccount(model, accountId, now),
    );
    return [...stored, ...(kept ?? [])];
  }

  async deleteByClient(clientId: string): Promise<number> {
    const deleted = await this.#database.deleteByClient(clientId);
    return (
      deleted +
      ((await this.#bestEffort('deleteByClient', () => this.#shortLived.deleteByClient(clientId))) ?? 0)
    );
  }

  async deleteByAccount(accountId: string): Promise<number> {
    // Records under the account's grants go too: their ids are read before the database
    // deletes the grants.
    const grants = await this.#database.listByAccount('Grant', accountId, 0);
    const deleted = await this.#database.deleteByAccount(accountId);
    const kept = await this.#bestEffort('deleteByAccount', async () => {
      for (const grant of grants) await this.#shortLived.revokeGrant(grant.id);
      return this.#shortLived.deleteByAccount(accountId);
    });
    return deleted + (kept ?? 0);
  }

  async deleteExpired(now: number): Promise<number> {
    // Redis expires its records itself, consumed codes after the same retention (its consume).
    return this.#database.deleteExpired(now);
  }

  async #lookup(
    model: string,
    operation: string,
    read: (store: OAuthModelStore) => Promise<OAuthModelRecord | undefined>,
  ): Promise<OAuthModelRecord | undefined> {
    if (SHORT_LIVED_MODELS.has(model)) {
      try {
        const found = await read(this.#shortLived);
        if (found) return found;
      } catch (error) {
        this.#onError(error, operation);
      }
    }
    return read(this.#database);
  }

  async #bestEffort<T>(operation: string, run: () => Promise<T>): Promise<T | undefined> {
    try {
      return await run();
    } catch (error) {
      this.#onError(error, operation);
      return undefined;
    }
  }
}

/**
 * The model store of a process with Redis (the server, and CLI commands that revoke): the
 * database's store with the short-lived models routed to Redis. `report` hears of Redis
 * failures; it is called at most once every 10 s, as an outage fails every call.
 */
export function withShortLivedModelsInRedis(
  database: OAuthModelStore,
  redis: Redis,
  report: (error: unknown, operation: string) => void,
): OAuthModelStore {
  let quietUntil = 0;
  return new RoutedOAuthModelStore(database, new RedisOAuthModelStore(redis), (error, operation) => {
    if (Date.now() < quietUntil) return;
    quietUntil = Date.now() + 10_000;
    report(error, operation);
  });
}
