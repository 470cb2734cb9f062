// The set-based apply against a real table, from the batch stage: events go through the event
// stager into ld_batch as the worker loads them, and TableApplier applies a table's range in SQL.
// The net effect per key in event order, rows that existed updated, new ones inserted, gone ones
// deleted, a target that lacks a row it should have, two ranges in one transaction, urlencoded
// rows with escapes and NULLs, two column layouts in one batch, JSON rows and their types, a
// --where condition, a copy snapshot's events left out, an event without its key, and new rows
// inserted plainly in a savepoint with the upsert after a row the target had.
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { copyLine } from '@skytools/core';
import { startCluster, testVersions, type PgCluster } from '@skytools/harness';
import { batchStageWriter, createBatchStage, EventStager, loadTableMeta, setJsonLayouts, stageGroups, TableApplier, type StagerOptions } from '@skytools/londiste/internal';

const major = testVersions().at(-1) ?? 15;

/** [ev_type, urlencoded or JSON row, txid] */
type Ev = [string, string, number?];

describe(`set-based apply from the batch stage, PostgreSQL ${major}`, () => {
  let cluster: PgCluster;
  let c: pg.Client;
  let evId = 0;
  before(async () => {
    cluster = await startCluster(major);
    await cluster.createDatabase('apply');
    c = new pg.Client(cluster.clientConfig('apply'));
    await c.connect();
    await createBatchStage(c);
  });
  after(async () => {
    await c.end();
    await cluster.stop();
  });

  /** Stage the events of `table` (in this order) in the open transaction; the id of the last one. */
  const stage = async (table: string, events: Ev[], opts: StagerOptions = {}): Promise<string> => {
    const lines = events.map(([type, data, txid]) => copyLine([String(++evId), '2026-12-02 10:00:00+00', String(txid ?? 1000), type, data, table, null, null, null]));
    await pipeline(Readable.from([Buffer.from(lines.join(''))]), new EventStager(opts), batchStageWriter(c));
    return String(evId);
  };

  /** Apply the staged events of public.`name` between two event ids (exclusive). */
  const apply = async (name: string, where: string | null = null, range: { after?: string; before?: string; skipSnapshot?: string } = {}): Promise<TableApplier> => {
    await setJsonLayouts(c);
    const table = `public.${name}`;
    const layouts = (await stageGroups(c)).filter((g) => g.table === table).map((g) => g.cols);
    const a = new TableApplier(c, await loadTableMeta(c, table), where);
    const events = (await stageGroups(c)).filter((g) => g.table === table).reduce((n, g) => n + g.events, 0);
    await a.apply({ table, after: range.after ?? null, before: range.before ?? null, skipSnapshot: range.skipSnapshot ?? null }, layouts, events);
    return a;
  };

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

  it('applies the last image of every key, writes rows the target lacks, and two ranges in one transaction', async () => {
    await c.query('CREATE TABLE m (id int PRIMARY KEY, v text)');
    await c.query(`INSERT INTO m VALUES (1, 'a'), (6, 'six')`);
    await inTransaction(async () => {
      const first = await stage('public.m', [
        ['U:id', 'id=1&v=b'],
        ['U:id', 'id=2&v=missing+on+the+target'],
        ['I:id', 'id=3&v=x'],
        ['U:id', 'id=3&v=y'],
        ['D:id', 'id=3&v=y'],
        ['I:id', 'id=4&v=x'],
        ['U:id', 'id=4&v=z'],
        ['D:id', 'id=6&v=six'],
      ]);
      await stage('public.m', [
        ['I:id', 'id=6&v=back'],
        ['U:id', 'id=1&v=c'],
      ]);
      // the first range, then the rest over it (as around an event applied by itself)
      await apply('m', null, { before: String(Number(first) + 1) });
      assert.deepEqual(await rows('m'), ['(1,b)', '(2,"missing on the target")', '(4,z)']);
      await apply('m', null, { after: first });
    });
    assert.deepEqual(await rows('m'), ['(1,c)', '(2,"missing on the target")', '(4,z)', '(6,back)']);
  });

  it('inserts new rows plainly in a savepoint of the batch; a row the target had is upserted, its table from then on', async () => {
    await c.query('CREATE TABLE n (id int PRIMARY KEY, v text, u text UNIQUE)');
    await c.query(`INSERT INTO n VALUES (2, 'old', NULL)`);
    const meta = await loadTableMeta(c, 'public.n');
    const budget = { left: 2 };
    const run = async (a: TableApplier, events: Ev[]): Promise<void> => {
      await inTransaction(async () => {
        await stage('public.n', events);
        const layouts = (await stageGroups(c)).filter((g) => g.table === 'public.n').map((g) => g.cols);
        await a.apply({ table: 'public.n', after: null, before: null, skipSnapshot: null }, layouts, events.length);
      });
    };
    const first = new TableApplier(c, meta, null, budget);
    await run(first, [['I:id', 'id=1&v=a'], ['I:id', 'id=2&v=new'], ['I:id', 'id=3&v=c']]);
    assert.deepEqual(await rows('n'), ['(1,a,)', '(2,new,)', '(3,c,)'], 'the row the target had takes the new image');
    assert.deepEqual([first.insertConflicts, budget.left], [1, 1], 'one savepoint taken, its plain insert undone');
    await run(first, [['I:id', 'id=4&v=d'], ['U:id', 'id=1&v=a2']]);
    assert.deepEqual([first.insertConflicts, budget.left], [1, 1], 'that table is upserted now: no savepoint');
    const second = new TableApplier(c, meta, null, budget);
    await run(second, [['I:id', 'id=5&v=e']]);
    assert.deepEqual([second.insertConflicts, budget.left], [0, 0], 'a plain insert that went through');
    const third = new TableApplier(c, meta, null, budget);
    await run(third, [['I:id', 'id=6&v=f'], ['I:id', 'id=3&v=c2']]);
    assert.deepEqual([third.insertConflicts, budget.left], [0, 0], 'no savepoint left: upserted at once');
    assert.deepEqual(await rows('n'), ['(1,a2,)', '(2,new,)', '(3,c2,)', '(4,d,)', '(5,e,)', '(6,f,)']);
    // a unique violation the key does not explain is an error still, whatever the path
    await assert.rejects(run(new TableApplier(c, meta, null, { left: 1 }), [['I:id', 'id=7&v=g&u=x'], ['I:id', 'id=8&v=h&u=x']]), /duplicate key value violates unique constraint "n_u_key"/);
    assert.deepEqual((await rows('n')).length, 6, 'nothing of the failed batch stays');

    // a DEFERRABLE key cannot be an ON CONFLICT arbiter: merged without it, no savepoint (a row
    // the target has takes the new image, as for any other key)
    await c.query('CREATE TABLE nd (id int PRIMARY KEY DEFERRABLE INITIALLY DEFERRED, v text)');
    await c.query(`INSERT INTO nd VALUES (2, 'there')`);
    const deferrable = new TableApplier(c, await loadTableMeta(c, 'public.nd'), null, budget);
    budget.left = 1;
    await inTransaction(async () => {
      await stage('public.nd', [['I:id', 'id=1&v=a'], ['I:id', 'id=2&v=b'], ['U:id', 'id=1&v=a2']]);
      const layouts = (await stageGroups(c)).filter((g) => g.table === 'public.nd').map((g) => g.cols);
      await deferrable.apply({ table: 'public.nd', after: null, before: null, skipSnapshot: null }, layouts, 3);
    });
    assert.deepEqual(await rows('nd'), ['(1,a2)', '(2,b)']);
    assert.equal(budget.left, 1, 'no savepoint for it');
    // rows an update should have found are written anyway, and a --where condition writes what
    // matches, without ON CONFLICT (which that key refused before: every such batch failed)
    const ndMeta = await loadTableMeta(c, 'public.nd');
    const applyNd = async (where: string | null, events: Ev[]): Promise<void> =>
      inTransaction(async () => {
        await stage('public.nd', events);
        const layouts = (await stageGroups(c)).filter((g) => g.table === 'public.nd').map((g) => g.cols);
        await new TableApplier(c, ndMeta, where, { left: 0 }).apply({ table: 'public.nd', after: null, before: null, skipSnapshot: null }, layouts, events.length);
      });
    await applyNd(null, [['U:id', 'id=9&v=missing'], ['U:id', 'id=2&v=b2']]);
    assert.deepEqual(await rows('nd'), ['(1,a2)', '(2,b2)', '(9,missing)']);
    await applyNd(`v LIKE 'keep%'`, [['U:id', 'id=1&v=keep1'], ['U:id', 'id=2&v=drop'], ['I:id', 'id=3&v=keep3'], ['U:id', 'id=9&v=keep9']]);
    assert.deepEqual(await rows('nd'), ['(1,keep1)', '(3,keep3)', '(9,keep9)'], 'matching rows updated or inserted, the other deleted');
  });

  for (const [form, opts] of [['text arrays', {}], ['JSON', { rowValues: 'json', keepRowData: false }]] as const) {
    it(`decodes urlencoded rows with escapes and NULLs staged as ${form}, and writes two column layouts apart`, async () => {
      const e = form === 'JSON' ? 'e_json' : 'e';
      await c.query(`CREATE TABLE ${e} (id int PRIMARY KEY, v text, n int, extra text)`);
      await c.query(`INSERT INTO ${e} VALUES (1, 'old', 1, 'kept')`);
      await inTransaction(async () => {
        await stage(`public.${e}`, [
          ['U:id', 'id=1&v=%e5%be%b7%e5%93%a5+a%5cb%09c%0ad%22&n'],
          ['I:id', 'id=2&v=plain&n=5'],
          ['U:id', 'id=2&v=x%2by&n=6'],
          ['I:id', 'id=3&v&n=7'],
          // a column added at the source: rows with it and without it in one batch
          ['I:id', 'id=5&v=w&n=9&extra=more'],
          ['U:id', 'id=3&v=again&n=8&extra=%e2%82%ac'],
          // the key not first: its place differs between the range's layouts
          ['U:id', 'n=10&id=2&v=moved'],
          // a raw backslash (COPY-escaped on the way) and a pair without a key
          ['I:id', 'id=6&v=a\\b&=x&n=1'],
        ], opts);
        await apply(e);
      });
      assert.deepEqual(
        (await c.query<{ id: number; v: string | null; n: number | null; extra: string | null }>(`SELECT * FROM ${e} ORDER BY id`)).rows,
        [
          { id: 1, v: '德哥 a\\b\tc\nd"', n: null, extra: 'kept' },
          { id: 2, v: 'moved', n: 10, extra: null },
          { id: 3, v: 'again', n: 8, extra: '€' },
          { id: 5, v: 'w', n: 9, extra: 'more' },
          { id: 6, v: 'a\\b', n: 1, extra: null },
        ],
      );
    });
  }

  it('applies one key\'s urlencoded and JSON events in one range in order (two kinds of layout)', async () => {
    await c.query('CREATE TABLE mix (id int PRIMARY KEY, v text)');
    await c.query(`INSERT INTO mix VALUES (1, 'old'), (2, 'two')`);
    const type = (op: string): string => `{"op":"${op}","table":["public","mix"],"pkey":["id"]}`;
    await inTransaction(async () => {
      await stage('public.mix', [
        ['U:id', 'id=1&v=url'],
        [type('UPDATE'), '{"id":1,"v":"json"}'],
        [type('INSERT'), '{"id":3,"v":"json3"}'],
        ['U:id', 'id=3&v=url3'],
        ['D:id', 'id=2&v=two'],
      ]);
      await apply('mix');
    });
    assert.deepEqual(await rows('mix'), ['(1,json)', '(3,url3)']);
  });

  it('applies JSON rows in the target types', async () => {
    await c.query('CREATE TABLE j (id bigint PRIMARY KEY, b boolean, x numeric, doc jsonb, tags text[], t text)');
    const type = (op: string): string => `{"op":"${op}","table":["public","j"],"pkey":["id"]}`;
    await inTransaction(async () => {
      await stage('public.j', [
        [type('INSERT'), '{"id":9007199254740993,"b":true,"x":1.50,"doc":{"a":[1,{"b":null}]},"tags":"{a,\\"b c\\"}","t":"q\\"\\\\"}'],
        [type('INSERT'), '{"id":2,"b":false,"x":null,"doc":null,"tags":null,"t":null}'],
        [type('UPDATE'), '{"id":2,"b":true,"x":-3e2,"doc":[1],"tags":"{}","t":"字"}'],
      ]);
      await apply('j');
    });
    assert.deepEqual(
      (await c.query('SELECT id::text, b, x::text, doc::text, tags, t FROM j ORDER BY id')).rows,
      [
        { id: '2', b: true, x: '-300', doc: '[1]', tags: [], t: '字' },
        { id: '9007199254740993', b: true, x: '1.50', doc: '{"a": [1, {"b": null}]}', tags: ['a', 'b c'], t: 'q"\\' },
      ],
    );
  });

  it('keeps exactly the rows matching a --where condition', async () => {
    await c.query('CREATE TABLE w (id int PRIMARY KEY, k int, v text)');
    await c.query(`INSERT INTO w VALUES (1, 5, 'in'), (2, 5, 'in')`);
    await inTransaction(async () => {
      await stage('public.w', [
        ['U:id', 'id=1&k=50&v=moved+out'],
        ['U:id', 'id=3&k=7&v=moved+in'],
        ['I:id', 'id=4&k=70&v=never+in'],
        ['D:id', 'id=2&k=5&v=in'],
      ]);
      await apply('w', 'k < 10');
    });
    assert.deepEqual(await rows('w'), ['(3,7,"moved in")']);
  });

  it('leaves out the events a copy snapshot contains', async () => {
    await c.query('CREATE TABLE s (id int PRIMARY KEY, v text)');
    await inTransaction(async () => {
      await stage('public.s', [
        ['I:id', 'id=1&v=in+the+copy', 90],
        ['I:id', 'id=2&v=after+the+copy', 115],
        ['I:id', 'id=3&v=running+at+the+copy', 100],
      ]);
      await apply('s', null, { skipSnapshot: '100:110:100' });
    });
    assert.deepEqual(await rows('s'), ['(2,"after the copy")', '(3,"running at the copy")']);
  });

  it('refuses an event without its key, and a column this node lacks, naming them', async () => {
    await c.query('CREATE TABLE k (id int PRIMARY KEY, v text)');
    await c.query('BEGIN');
    try {
      await stage('public.k', [['I:id', 'id=1&v=a'], ['U:id', 'id&v=b']]);
      await assert.rejects(apply('k'), new RegExp(`event ${String(evId)} for public\\.k lacks a primary key column \\(id\\)`));
    } finally {
      await c.query('ROLLBACK');
    }
    await c.query('BEGIN');
    try {
      await stage('public.k', [['I:id', 'id=1&v=a&gone=1']]);
      await assert.rejects(apply('k'), /column gone of public\.k is missing on this node/);
    } finally {
      await c.query('ROLLBACK');
    }
    assert.deepEqual(await rows('k'), []);
  });

  it('applies a range of 30,000 events with one event per key (no window) as the window would', async () => {
    await c.query('CREATE TABLE uniq (id int PRIMARY KEY, v text)');
    // rows 1..20000 exist; events: every third deleted, every third updated, every third
    // inserted (half of those exist already: written anyway), and 10000 new keys
    await c.query(`INSERT INTO uniq SELECT g, 'old' FROM generate_series(1, 20000) g`);
    await c.query('ANALYZE uniq');
    await inTransaction(async () => {
      const evs: Ev[] = [];
      for (let id = 1; id <= 30_000; id++) {
        const kind = id > 20_000 ? 'I' : (['I', 'D', 'U'] as const)[id % 3] ?? 'U';
        evs.push([`${kind}:id`, `id=${String(id)}&v=${kind}${String(id)}`]);
      }
      await stage('public.uniq', evs);
      const a = await apply('uniq');
      assert.deepEqual([a.oneEventRanges, a.hashedRanges], [1, 1], 'applied without the window, joined by hashing');
      // 30,000 events on a table of 20,000 rows: joined by hashing, and the setting given back
      assert.equal((await c.query<{ v: string }>(`SELECT current_setting('enable_nestloop') AS v`)).rows[0]?.v, 'on');
    });
    const r = await c.query<{ n: number; sum: string; kinds: string }>(
      `SELECT count(*)::int AS n, sum(id)::text AS sum, string_agg(DISTINCT left(v, 1), '' ORDER BY left(v, 1)) AS kinds FROM uniq`,
    );
    const kept = Array.from({ length: 30_000 }, (_, i) => i + 1).filter((id) => id > 20_000 || id % 3 !== 1);
    assert.deepEqual(r.rows[0], { n: kept.length, sum: String(kept.reduce((a, b) => a + b, 0)), kinds: 'IU' });
    assert.equal((await c.query<{ n: number }>(`SELECT count(*)::int AS n FROM uniq WHERE v <> (CASE WHEN id > 20000 OR id % 3 = 0 THEN 'I' ELSE 'U' END) || id`)).rows[0]?.n, 0);
  });

  it('applies a batch of 300,000 events in one go', async () => {
    await c.query('CREATE TABLE big (id int PRIMARY KEY, v text)');
    await inTransaction(async () => {
      const evs: Ev[] = [];
      for (let id = 1; id <= 200_000; id++) evs.push(['I:id', `id=${String(id)}&v=first`]);
      for (let id = 1; id <= 200_000; id += 2) evs.push(['U:id', `id=${String(id)}&v=second`]);
      let t = performance.now();
      await stage('public.big', evs);
      const staged = performance.now() - t;
      t = performance.now();
      assert.equal((await apply('big')).oneEventRanges, 0, 'keys with two events: the window');
      console.log(`300,000 events: staged in ${staged.toFixed(0)} ms, applied in ${(performance.now() - t).toFixed(0)} ms`);
    });
    const r = await c.query<{ v: string; n: number; s: string }>('SELECT v, count(*)::int AS n, sum(id)::text AS s FROM big GROUP BY v ORDER BY v');
    assert.deepEqual(r.rows, [
      { v: 'first', n: 100_000, s: String(100_000 * 100_001) },
      { v: 'second', n: 100_000, s: String(100_000 * 100_000) },
    ]);
  });
});
