import type { Kysely, Migration, MigrationProvider } from 'kysely';
import type { SqlDialectName } from '../dialect-name.ts';
import * as core from './0001-core.ts';
import * as federation from './0002-federation.ts';
import * as auditChain from './0003-audit-chain.ts';
import * as knownDevices from './0004-known-devices.ts';
import * as passwordsMfa from './0005-passwords-mfa.ts';
import * as oauth from './0006-oauth.ts';
import * as userDisabled from './0007-user-disabled.ts';
import * as oauthPartialIndexes from './0008-oauth-partial-indexes.ts';

// biome-ignore lint/suspicious/noExplicitAny: migrations are written against the schema of their time
type MigrationModule = { up(db: Kysely<any>, dialect: SqlDialectName): Promise<void> };

/** Every migration, in order. Names are permanent: never rename or edit a shipped one. */
const migrations: Array<[string, MigrationModule]> = [
  ['0001-core', core],
  ['0002-federation', federation],
  ['0003-audit-chain', auditChain],
  ['0004-known-devices', knownDevices],
  ['0005-passwords-mfa', passwordsMfa],
  ['0006-oauth', oauth],
  ['0007-user-disabled', userDisabled],
  ['0008-oauth-partial-indexes', oauthPartialIndexes],
];

export const knownMigrationNames: readonly string[] = migrations.map(([name]) => name);

export function migrationProvider(dialect: SqlDialectName): MigrationProvider {
  return {
    async getMigrations(): Promise<Record<string, Migration>> {
      const out: Record<string, Migration> = {};
      for (const [name, module] of migrations) out[name] = { up: (db) => module.up(db, dialect) };
      return out;
    },
  };
}
