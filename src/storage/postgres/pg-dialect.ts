import { PostgresDialect } from 'kysely';
import pg from 'pg';

const INT8_OID = 20;

/**
 * epoch-millisecond columns are `bigint`; pg returns int8 as a string by default. Values stay
 * below 2^53 for the next quarter-million years, so a Number is exact. Scoped to our pool,
 * not set globally, so a host app's pg behaviour (library mode) is untouched.
 */
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === INT8_OID) return (value: string) => Number(value);
    return pg.types.getTypeParser(oid, format);
  },
};

export function createPgDialect(connectionString: string, poolSize = 10): PostgresDialect {
  const pool = new pg.Pool({ connectionString, max: poolSize, types, connectionTimeoutMillis: 5000 });
  // A dropped idle connection must not crash the process; the pool replaces it.
  pool.on('error', () => {});
  // Nor one dropped while checked out between two queries (pg emits 'error' on the client,
  // and the pool listens only while it is idle): its next query fails and the pool discards
  // it on release, so the request fails closed with 503 instead of the process dying.
  pool.on('connect', (client) => client.on('error', () => {}));
  return new PostgresDialect({ pool });
}
