import type { Kysely } from 'kysely';
import type { SqlDialectName } from '../dialect-name.ts';

/**
 * The OAuth 2.1 / OpenID Connect provider (src/domain/oauth-provider): the provider's models in
 * one table keyed by (model, id), CLI-managed clients, signing keys (sealed), and the
 * refresh-token grace window. Additive only: nodes without the provider never read these.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the current Database type
export async function up(db: Kysely<any>, _dialect: SqlDialectName): Promise<void> {
  await db.schema
    .createTable('oauth_models')
    .addColumn('model', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('grant_id', 'text')
    .addColumn('uid', 'text')
    .addColumn('user_code', 'text')
    .addColumn('account_id', 'text')
    .addColumn('client_id', 'text')
    .addColumn('consumed_at', 'bigint')
    .addColumn('expires_at', 'bigint')
    .addPrimaryKeyConstraint('oauth_models_pk', ['model', 'id'])
    .execute();
  await db.schema.createIndex('oauth_models_grant').on('oauth_models').column('grant_id').execute();
  await db.schema.createIndex('oauth_models_uid').on('oauth_models').columns(['model', 'uid']).execute();
  await db.schema
    .createIndex('oauth_models_user_code')
    .on('oauth_models')
    .columns(['model', 'user_code'])
    .execute();
  await db.schema
    .createIndex('oauth_models_account')
    .on('oauth_models')
    .columns(['model', 'account_id'])
    .execute();
  await db.schema.createIndex('oauth_models_client').on('oauth_models').column('client_id').execute();
  await db.schema.createIndex('oauth_models_expires').on('oauth_models').column('expires_at').execute();

  await db.schema
    .createTable('oauth_clients')
    .addColumn('client_id', 'text', (c) => c.primaryKey())
    .addColumn('definition', 'text', (c) => c.notNull())
    .addColumn('secret_hash', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('oauth_signing_keys')
    .addColumn('kid', 'text', (c) => c.primaryKey())
    .addColumn('alg', 'text', (c) => c.notNull())
    .addColumn('sealed_jwk', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('signs_from', 'bigint', (c) => c.notNull())
    .addColumn('retires_at', 'bigint')
    .execute();

  await db.schema
    .createTable('oauth_refresh_grace')
    .addColumn('token_hash', 'text', (c) => c.primaryKey())
    .addColumn('client_id', 'text', (c) => c.notNull())
    .addColumn('sealed_response', 'text')
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('oauth_refresh_grace_expires')
    .on('oauth_refresh_grace')
    .column('expires_at')
    .execute();
}
