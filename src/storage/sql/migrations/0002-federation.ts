import type { Kysely } from 'kysely';
import type { SqlDialectName } from '../dialect-name.ts';

/**
 * Upstream federation ("Sign in with Google"): linked identities, and the ids of federation
 * flow and pending-link tokens already used (replay defence). Forward-only.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the current Database type
export async function up(db: Kysely<any>, _dialect: SqlDialectName): Promise<void> {
  await db.schema
    .createTable('federated_identities')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('provider_id', 'text', (c) => c.notNull())
    .addColumn('issuer', 'text', (c) => c.notNull())
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('email', 'text')
    .addColumn('email_verified', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('last_used_at', 'bigint')
    // One Gatehouse user per upstream account: the key of every federated sign-in.
    .addUniqueConstraint('federated_identities_issuer_subject', ['issuer', 'subject'])
    .execute();
  await db.schema
    .createIndex('federated_identities_user_id')
    .on('federated_identities')
    .column('user_id')
    .execute();

  await db.schema
    .createTable('federation_used_tokens')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('federation_used_tokens_expires_at')
    .on('federation_used_tokens')
    .column('expires_at')
    .execute();
}
