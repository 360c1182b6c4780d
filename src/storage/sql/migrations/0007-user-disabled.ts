import type { Kysely } from 'kysely';
import type { SqlDialectName } from '../dialect-name.ts';

/**
 * Blocking a user (issue #5: "disabling a user revokes all grants"): `disabled_at` is set while
 * the account is disabled (epoch ms), null otherwise. Expand-only: a nullable column an older
 * node never reads, so a rolling upgrade keeps working (though only new nodes enforce it).
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the current Database type
export async function up(db: Kysely<any>, _dialect: SqlDialectName): Promise<void> {
  await db.schema.alterTable('users').addColumn('disabled_at', 'bigint').execute();
}
