import type { Kysely } from 'kysely';
import type { KnownDeviceStore } from '../../ports/known-device-store.ts';
import { compileOnce } from './compiled-query.ts';
import type { Database } from './database.ts';

export class SqlKnownDeviceStore implements KnownDeviceStore {
  readonly #db: Kysely<Database>;
  /** A returning device's update, on every complete sign-in: built once (compiled-query.ts). */
  readonly #touch;

  constructor(db: Kysely<Database>) {
    this.#db = db;
    this.#touch = compileOnce(db, (slot) =>
      db
        .updateTable('known_devices')
        .set({ last_seen_at: slot<number>('at') })
        .where('user_id', '=', slot<string>('userId'))
        .where('device_hash', '=', slot<string>('deviceHash')),
    );
  }

  async remember(userId: string, deviceHash: string, at: number): Promise<boolean> {
    // Most sign-ins come from a device seen before: one update settles them.
    const updated = await this.#touch({ at, userId, deviceHash });
    if (Number(updated.numAffectedRows ?? 0) > 0) return false;
    // The insert that wins decides "new": two sign-ins racing from one new browser report it once.
    const inserted = await this.#db
      .insertInto('known_devices')
      .values({ user_id: userId, device_hash: deviceHash, created_at: at, last_seen_at: at })
      .onConflict((conflict) => conflict.columns(['user_id', 'device_hash']).doNothing())
      .returning('user_id')
      .executeTakeFirst();
    return inserted !== undefined;
  }

  async isKnown(userId: string, deviceHash: string): Promise<boolean> {
    const row = await this.#db
      .selectFrom('known_devices')
      .select('user_id')
      .where('user_id', '=', userId)
      .where('device_hash', '=', deviceHash)
      .executeTakeFirst();
    return row !== undefined;
  }

  async hasOther(userId: string, deviceHash: string): Promise<boolean> {
    const row = await this.#db
      .selectFrom('known_devices')
      .select('user_id')
      .where('user_id', '=', userId)
      .where('device_hash', '!=', deviceHash)
      .limit(1)
      .executeTakeFirst();
    return row !== undefined;
  }

  async deleteUnseenSince(before: number): Promise<number> {
    const result = await this.#db
      .deleteFrom('known_devices')
      .where('last_seen_at', '<', before)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
