import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Kysely, sql } from 'kysely';
import { createNodeSqliteDialect } from '../sqlite/node-sqlite-dialect.ts';
import { compileOnce } from './compiled-query.ts';

// biome-ignore lint/suspicious/noExplicitAny: a scratch table outside the Database type
const db = new Kysely<any>({ dialect: createNodeSqliteDialect(':memory:').dialect });
await sql`create table t (k text primary key, a text, b integer, used integer)`.execute(db);
after(() => db.destroy());

describe('compileOnce', () => {
  it('puts each named value where its slot landed, repeated and in any order', async () => {
    const upsert = compileOnce(db, (slot) => {
      const values = { a: slot<string>('a'), b: slot<number>('b') };
      return db
        .insertInto('t')
        .values({ k: slot<string>('k'), ...values })
        .onConflict((conflict) => conflict.column('k').doUpdateSet(values));
    });
    const find = compileOnce(db, (slot) => db.selectFrom('t').select(['a', 'b']).where('k', '=', slot('k')));
    await upsert({ b: 1, a: 'one', k: 'x' });
    await upsert({ k: 'x', a: 'two', b: 2 });
    await upsert({ k: 'y', a: 'other', b: 3 });
    assert.deepEqual({ ...(await find({ k: 'x' })).rows[0] }, { a: 'two', b: 2 });
    assert.deepEqual({ ...(await find({ k: 'y' })).rows[0] }, { a: 'other', b: 3 });
  });

  it('keeps null values and RETURNING rows (one winner of a conditional update)', async () => {
    const insert = compileOnce(db, (slot) =>
      db.insertInto('t').values({ k: slot('k'), a: slot('a'), b: slot('b'), used: slot('used') }),
    );
    const use = compileOnce(db, (slot) =>
      db
        .updateTable('t')
        .set({ used: sql<number>`1` })
        .where('k', '=', slot('k'))
        .where('used', 'is', null)
        .returning('k'),
    );
    await insert({ k: 'z', a: null, b: null, used: null });
    assert.equal((await use({ k: 'z' })).rows.length, 1);
    assert.equal((await use({ k: 'z' })).rows.length, 0);
  });

  it('refuses a query with a parameter that is not a slot, and a call missing a value', () => {
    assert.throws(
      () =>
        compileOnce(db, (slot) =>
          db.selectFrom('t').selectAll().where('k', '=', slot('k')).where('a', '=', 'x'),
        ),
      /parameter x is not a slot/,
    );
    const find = compileOnce(db, (slot) => db.selectFrom('t').selectAll().where('k', '=', slot('k')));
    assert.throws(() => find({ key: 'x' }), /no value for k/);
  });
});
