// The set-based apply against a real table: the net effect per key in event order, rows that
// existed updated, new ones inserted, gone ones deleted, several loads of one table within one
// transaction (a big batch), a --where condition, and a target that lacks a row it should have.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { startCluster, testVersions, type PgCluster } from '@skytools/harness';
import { loadTableMeta, TableApplier } from '@skytools/londiste/internal';

const major = testVersions().at(-1) ?? 15;

describe(`set-based apply, PostgreSQL ${major}`, () => {
  let cluster: PgCluster;
  let c: pg.Client;
  before(async () => {
    cluster = await startCluster(major);
    await cluster.createDatabase('apply');
    c = new pg.Client(cluster.clientConfig('apply'));
    await c.connect();
  });
  after(async () => {
    await c.end();
    await cluster.stop();
  });

  /** Run fn in a transaction on the shared client; a failure rolls back, so the next test starts clean. */
  const inTransaction = async (fn: () => Promise<void>): Promise<void> => {
    await c.query('BEGIN');
    try {
      await fn();
      await c.query('COMMIT');
    } catch (err) {
      await c.query('ROLLBACK');
      throw err;
    }
  };

  const rows = async (table: string): Promise<string[]> =>
    (await c.query<{ r: string }>(`SELECT t::text AS r FROM ${table} t ORDER BY 1`)).rows.map((x) => x.r);

  it('applies the last image of every key, across several loads in one transaction', async () => {
    await c.query('CREATE TABLE t (id int PRIMARY KEY, v text, n int)');
    await c.query(`INSERT INTO t SELECT g, 'old', 0 FROM generate_series(1, 3000) g`);
    const a = new TableApplier(c, await loadTableMeta(c, 'public.t'), null);
    await inTransaction(async () => {
      a.newTransaction();
      // first load: every row updated, some deleted, new ones inserted
      for (let id = 1; id <= 3000; id++) await a.add('U', { id: String(id), v: 'first', n: '1' });
      for (let id = 1; id <= 100; id++) await a.add('D', { id: String(id), v: 'first', n: '1' });
      for (let id = 5001; id <= 5100; id++) await a.add('I', { id: String(id), v: 'new', n: '1' });
      await a.flush();
      // second load of the same stage in the same transaction: the same keys again, later images
      for (let id = 101; id <= 3000; id += 2) await a.add('U', { id: String(id), v: 'second', n: '2' });
      for (let id = 1; id <= 50; id++) await a.add('I', { id: String(id), v: 'back', n: '2' });
      for (let id = 5001; id <= 5010; id++) await a.add('D', { id: String(id), v: 'new', n: '1' });
      await a.flush();
    });
    const r = await c.query<{ v: string; n: number }>('SELECT v, count(*)::int AS n FROM t GROUP BY v ORDER BY v');
    assert.deepEqual(r.rows, [
      { v: 'back', n: 50 },
      { v: 'first', n: 1450 }, // even ids 102..3000
      { v: 'new', n: 90 },
      { v: 'second', n: 1450 }, // odd ids 101..2999; 51..100 stay deleted
    ]);
    assert.equal((await c.query('SELECT 1 FROM t WHERE id BETWEEN 51 AND 100')).rowCount, 0);
  });

  it('writes rows the target lacks, and collapses insert-update-delete chains', async () => {
    await c.query('CREATE TABLE m (id int PRIMARY KEY, v text)');
    await c.query(`INSERT INTO m VALUES (1, 'a')`);
    const a = new TableApplier(c, await loadTableMeta(c, 'public.m'), null);
    await inTransaction(async () => {
      a.newTransaction();
      await a.add('U', { id: '1', v: 'b' });
      await a.add('U', { id: '2', v: 'missing on the target' });
      await a.add('I', { id: '3', v: 'x' });
      await a.add('U', { id: '3', v: 'y' });
      await a.add('D', { id: '3', v: 'y' });
      await a.add('I', { id: '4', v: 'x' });
      await a.add('U', { id: '4', v: 'z' });
      await a.flush();
    });
    assert.deepEqual(await rows('m'), ['(1,b)', '(2,"missing on the target")', '(4,z)']);
  });

  it('takes urlencoded events straight to COPY, escapes and NULLs included, and notices new columns', async () => {
    await c.query('CREATE TABLE e (id int PRIMARY KEY, v text, n int)');
    await c.query(`INSERT INTO e VALUES (1, 'old', 1)`);
    const a = new TableApplier(c, await loadTableMeta(c, 'public.e'), null);
    await inTransaction(async () => {
      a.newTransaction();
      await a.addEncoded('U', 'id=1&v=%e5%be%b7%e5%93%a5+a%5cb%09c%0ad&n');
      await a.addEncoded('I', 'id=2&v=plain&n=5');
      await a.addEncoded('U', 'id=2&v=x%2by&n=6');
      await a.addEncoded('I', 'id=3&v&n=7');
      // an event with other columns (DDL on the source): the set so far goes first
      await c.query('ALTER TABLE e ADD COLUMN extra text');
      const b = new TableApplier(c, await loadTableMeta(c, 'public.e'), null);
      b.newTransaction();
      await b.addEncoded('I', 'id=4&v=w&n=8');
      // other columns: the applier writes the set so far by itself, then starts a new one
      await b.addEncoded('I', 'id=5&v=w&n=9&extra=more');
      assert.equal((await c.query('SELECT 1 FROM e WHERE id = 4')).rowCount, 1, 'the first set was written when the columns changed');
      await a.flush();
      await b.flush();
    });
    assert.deepEqual(
      (await c.query<{ id: number; v: string | null; n: number | null; extra: string | null }>('SELECT * FROM e ORDER BY id')).rows,
      [
        { id: 1, v: '德哥 a\\b\tc\nd', n: null, extra: null },
        { id: 2, v: 'x+y', n: 6, extra: null },
        { id: 3, v: null, n: 7, extra: null },
        { id: 4, v: 'w', n: 8, extra: null },
        { id: 5, v: 'w', n: 9, extra: 'more' },
      ],
    );
  });

  it('keeps exactly the rows matching a --where condition', async () => {
    await c.query('CREATE TABLE w (id int PRIMARY KEY, k int, v text)');
    await c.query(`INSERT INTO w VALUES (1, 5, 'in'), (2, 5, 'in')`);
    const a = new TableApplier(c, await loadTableMeta(c, 'public.w'), 'k < 10');
    await inTransaction(async () => {
      a.newTransaction();
      await a.add('U', { id: '1', k: '50', v: 'moved out' });
      await a.add('U', { id: '3', k: '7', v: 'moved in' });
      await a.add('I', { id: '4', k: '70', v: 'never in' });
      await a.add('D', { id: '2', k: '5', v: 'in' });
      await a.flush();
    });
    assert.deepEqual(await rows('w'), ['(3,7,"moved in")']);
  });

  it('writes a set by itself once it holds 50,000 keys, and applies the second load over the first', async () => {
    await c.query('CREATE TABLE big (id int PRIMARY KEY, v text)');
    const a = new TableApplier(c, await loadTableMeta(c, 'public.big'), null);
    await inTransaction(async () => {
      a.newTransaction();
      for (let id = 1; id <= 60_000; id++) await a.addEncoded('I', `id=${id}&v=first`);
      // the first 50,000 are in the table already, within this transaction
      assert.equal((await c.query<{ n: number }>('SELECT count(*)::int AS n FROM big')).rows[0]?.n, 50_000);
      for (let id = 1; id <= 60_000; id += 3) await a.addEncoded('U', `id=${id}&v=second`);
      await a.flush();
    });
    const r = await c.query<{ v: string; n: number; s: string }>('SELECT v, count(*)::int AS n, sum(id)::text AS s FROM big GROUP BY v ORDER BY v');
    assert.deepEqual(r.rows, [
      { v: 'first', n: 40_000, s: String(((1 + 60_000) * 60_000) / 2 - sumStep(1, 60_000, 3)) },
      { v: 'second', n: 20_000, s: String(sumStep(1, 60_000, 3)) },
    ]);
  });
});

/** Sum of from, from+step, ... up to at most to. */
function sumStep(from: number, to: number, step: number): number {
  let s = 0;
  for (let x = from; x <= to; x += step) s += x;
  return s;
}
