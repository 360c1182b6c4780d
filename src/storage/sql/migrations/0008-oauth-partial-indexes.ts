import { type Kysely, sql } from 'kysely';
import type { SqlDialectName } from '../dialect-name.ts';

/**
 * Only sessions carry a `uid` and only device codes a `user_code`, yet every token row wrote an
 * entry for its nulls into both indexes. Each index entry is one more page the commit writes
 * (on SQLite, one more WAL frame per token saved: the two together were about a quarter of a
 * token insert, measured), and nothing ever looks a null up. The indexes become partial: the
 * lookups compare with `=`, which implies IS NOT NULL, so both engines still use them (checked
 * with EXPLAIN in test/ports/oauth-stores.test.ts). Dropping and re-creating an index changes no
 * data and no query an older node runs, so a rolling upgrade keeps working.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the current Database type
export async function up(db: Kysely<any>, _dialect: SqlDialectName): Promise<void> {
  await db.schema.dropIndex('oauth_models_uid').execute();
  await db.schema
    .createIndex('oauth_models_uid')
    .on('oauth_models')
    .columns(['model', 'uid'])
    .where(sql.ref('uid'), 'is not', null)
    .execute();
  await db.schema.dropIndex('oauth_models_user_code').execute();
  await db.schema
    .createIndex('oauth_models_user_code')
    .on('oauth_models')
    .columns(['model', 'user_code'])
    .where(sql.ref('user_code'), 'is not', null)
    .execute();
}
