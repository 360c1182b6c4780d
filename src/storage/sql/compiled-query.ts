import type { Compilable, Kysely, QueryResult } from 'kysely';

/** Stands for a value in a query built once: `slot('expiresAt')` where the value will go. */
export type Slot = <T>(name: string) => T;

const SLOT_PREFIX = '\u0000gatehouse-slot:';

/**
 * A query built and compiled once, then run with new values each call. Kysely spends tens of
 * microseconds building a query (RECIPES: about 20 µs, against 1–2 µs for the prepared statement
 * itself), and an OAuth token request runs several (bench:oauth). The query is built with
 * placeholders (`slot(name)`); where each one landed in the compiled parameters says which
 * value goes where, so repeated and reordered values need no bookkeeping. A parameter that is
 * not a placeholder (a constant Kysely kept as a parameter) is refused when the query is made:
 * every value must be named, or a call could run with a stale one.
 */
export function compileOnce<R>(
  // biome-ignore lint/suspicious/noExplicitAny: the helper serves every table; each call site is typed
  db: Kysely<any>,
  build: (slot: Slot) => Compilable<R>,
  // biome-ignore lint/suspicious/noExplicitAny: as above
): (values: object, on?: Kysely<any>) => Promise<QueryResult<R>> {
  const compiled = build(<T>(name: string) => `${SLOT_PREFIX}${name}` as T).compile();
  const names = compiled.parameters.map((parameter) => {
    if (typeof parameter !== 'string' || !parameter.startsWith(SLOT_PREFIX))
      throw new Error(`compileOnce: parameter ${String(parameter)} is not a slot in: ${compiled.sql}`);
    return parameter.slice(SLOT_PREFIX.length);
  });
  // `on`: a transaction or connection of `db` to run on instead (Kysely's trx and connection
  // objects run compiled queries as `db` does).
  return (values, on = db) => {
    const parameters = names.map((name) => {
      const value = (values as Readonly<Record<string, unknown>>)[name];
      if (value === undefined) throw new Error(`compileOnce: no value for ${name} in: ${compiled.sql}`);
      return value;
    });
    return on.executeQuery<R>({ ...compiled, parameters });
  };
}
