// The dispatch handler on a leaf: rows filed into monthly partitions over a month boundary, by a
// date column, under writes on the root; an inherited target (partitions created by
// londiste.create_partition as children with a CHECK on the column) and a target partitioned by
// PostgreSQL itself (native partitions created); a daily variant filed by event time; TRUNCATE
// emptying the target with its partitions. And a target partitioned by PostgreSQL without a
// handler: the copy empties its partitions, SQL-statement events reach its rows. Every check
// compares data with the root.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startCluster, testVersions, type PgCluster } from '@skytools/harness';
import { jobDir, ok, runLondiste } from '../cli/run-londiste.js';
import { startTicker, startWorker, tableDigest, tearDown, waitCaughtUp, waitFor, waitTablesOk, workersDiag, type RunningWorker } from './replication-env.js';

const versions = testVersions();
const srcMajor = versions[0] ?? 15;
const dstMajor = versions[versions.length - 1] ?? 15;

describe(`dispatch into time partitions, root on PostgreSQL ${srcMajor}, leaf on ${dstMajor}`, () => {
  let src: PgCluster;
  let dst: PgCluster;
  const jobs = jobDir();
  const workers: RunningWorker[] = [];
  let ticker: { stop: () => Promise<void> } | undefined;
  let root = '';
  let leaf = '';
  const diag = (): string => workersDiag(workers);
  const partitions = async (parent: string): Promise<string[]> =>
    (await dst.query<{ n: string }>('leaf', `SELECT c.relname::text AS n FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = $1::regclass ORDER BY 1`, [parent])).map((r) => r.n);
  /** Rows of the root's table around the end of November 2026, inserted, updated, deleted. */
  const writes = async (table: string, base: number): Promise<void> => {
    await src.query('root', `INSERT INTO ${table} SELECT ${base} + g, timestamp '2026-11-30 18:00' + g * interval '7 minutes', 'v' || g FROM generate_series(1, 120) g`);
    await src.query('root', `UPDATE ${table} SET v = v || '+' WHERE id % 5 = 0 AND id > ${base}`);
    await src.query('root', `DELETE FROM ${table} WHERE id % 11 = 0 AND id > ${base}`);
  };

  before(async () => {
    [src, dst] = await Promise.all([startCluster(srcMajor), startCluster(dstMajor)]);
    await src.createDatabase('root');
    await dst.createDatabase('leaf');
    await src.query('root', `CREATE TABLE logs (id int PRIMARY KEY, created timestamp NOT NULL, v text);
      CREATE TABLE nlogs (id int, created timestamp NOT NULL, v text, PRIMARY KEY (id, created));
      CREATE TABLE evs (id int PRIMARY KEY, created timestamp NOT NULL, v text);
      CREATE TABLE pt (id int, d date, v text, PRIMARY KEY (id, d));
      INSERT INTO pt SELECT g, date '2026-12-20' + g, 'p' || g FROM generate_series(1, 30) g;
      INSERT INTO logs VALUES (1, '2026-10-15 12:00', 'before the copy'), (2, '2026-10-16 12:00', 'before the copy')`);
    await dst.query('leaf', `CREATE TABLE logs (id int PRIMARY KEY, created timestamp NOT NULL, v text);
      CREATE TABLE nlogs (id int, created timestamp NOT NULL, v text, PRIMARY KEY (id, created)) PARTITION BY RANGE (created);
      CREATE TABLE evs (id int PRIMARY KEY, created timestamp NOT NULL, v text);
      CREATE TABLE pt (id int, d date, v text, PRIMARY KEY (id, d)) PARTITION BY RANGE (d);
      CREATE TABLE pt_2026 PARTITION OF pt FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
      CREATE TABLE pt_2027 PARTITION OF pt FOR VALUES FROM ('2027-01-01') TO ('2028-01-01');
      INSERT INTO pt VALUES (900, '2026-06-01', 'not on the root: the copy removes it')`);
    root = jobs.write('d_root', { db: src.connectionString('root'), queue_name: 'q', loop_delay: '200ms' });
    leaf = jobs.write('d_leaf', { db: dst.connectionString('leaf'), queue_name: 'q', loop_delay: '200ms' });
    ok(await runLondiste([root, 'create-root', 'd_root', src.connectionString('root')]), 'create-root');
    ok(await runLondiste([root, 'add-table', 'logs', 'nlogs', 'evs', 'pt']), 'add-table root');
    ok(await runLondiste([leaf, 'create-leaf', 'd_leaf', dst.connectionString('leaf'), `--provider=${src.connectionString('root')}`]), 'create-leaf');
    ticker = startTicker(src, 'root', 100);
    workers.push(startWorker(root));
    const field = ['--handler-arg=part_mode=date_field', '--handler-arg=part_field=created', '--handler-arg=period=month'];
    ok(await runLondiste([leaf, 'add-table', 'logs', '--handler=dispatch', ...field]), 'add-table logs');
    ok(await runLondiste([leaf, 'add-table', 'nlogs', '--handler=dispatch', ...field]), 'add-table nlogs');
    ok(await runLondiste([leaf, 'add-table', 'evs', '--handler=daily_event']), 'add-table evs');
    ok(await runLondiste([leaf, 'add-table', 'pt']), 'add-table pt');
    workers.push(startWorker(leaf));
    await waitTablesOk(dst, 'leaf', 4, diag);
  });
  after(() => tearDown(workers, ticker, jobs, [src, dst]));

  it('files rows by their date column into monthly partitions across a month boundary', async () => {
    await writes('logs', 100);
    await writes('nlogs', 100);
    await waitCaughtUp(src, 'root', dst, 'leaf', 'q', 'd_leaf', 60_000, diag);
    // inherited: the copied row stays in the parent itself, the events went to their months
    assert.deepEqual(await partitions('public.logs'), ['logs_2026_11', 'logs_2026_12']);
    assert.deepEqual(await tableDigest(dst, 'leaf', 'SELECT * FROM logs'), await tableDigest(src, 'root', 'SELECT * FROM logs'), 'logs with its partitions equals the root');
    assert.deepEqual(
      await tableDigest(dst, 'leaf', 'SELECT * FROM ONLY logs_2026_11'),
      await tableDigest(src, 'root', `SELECT * FROM logs WHERE id > 100 AND created < '2026-12-01'`),
      'November rows in the November partition',
    );
    assert.deepEqual(
      await tableDigest(dst, 'leaf', 'SELECT * FROM ONLY logs_2026_12'),
      await tableDigest(src, 'root', `SELECT * FROM logs WHERE created >= '2026-12-01'`),
      'December rows in the December partition',
    );
    const check = await dst.query<{ n: number }>('leaf', `SELECT count(*)::int AS n FROM pg_constraint WHERE conrelid = 'logs_2026_12'::regclass AND contype = 'c'`);
    assert.equal(check[0]?.n, 1, 'the partition checks its month');
    // native: PostgreSQL's own partitions, created for the months the rows need
    assert.deepEqual(await partitions('public.nlogs'), ['nlogs_2026_11', 'nlogs_2026_12']);
    const native = await dst.query<{ n: number }>('leaf', `SELECT count(*)::int AS n FROM pg_class WHERE relname LIKE 'nlogs_2026_%' AND relispartition AND relkind = 'r'`);
    assert.equal(native[0]?.n, 2);
    assert.deepEqual(await tableDigest(dst, 'leaf', 'SELECT * FROM nlogs'), await tableDigest(src, 'root', 'SELECT * FROM nlogs'), 'nlogs equals the root');
    assert.deepEqual(
      await tableDigest(dst, 'leaf', 'SELECT * FROM nlogs_2026_12'),
      await tableDigest(src, 'root', `SELECT * FROM nlogs WHERE created >= '2026-12-01'`),
    );
  });

  it('moves a row whose date changes, changes and deletes copied rows, and copies again without doubles', async () => {
    // copied rows live in the parent: an update files the row into its month, a delete removes it
    await src.query('root', `UPDATE logs SET v = 'changed after the copy' WHERE id = 1; DELETE FROM logs WHERE id = 2`);
    // a date moving a row from November to December, and one updated twice in the batch
    await src.query('root', `BEGIN; UPDATE logs SET created = '2026-12-15 10:00' WHERE id = 101; UPDATE logs SET v = 'twice' WHERE id = 101; COMMIT`);
    await waitCaughtUp(src, 'root', dst, 'leaf', 'q', 'd_leaf', 60_000, diag);
    assert.deepEqual(await tableDigest(dst, 'leaf', 'SELECT * FROM logs'), await tableDigest(src, 'root', 'SELECT * FROM logs'), 'no row twice, none left behind');
    assert.equal((await tableDigest(dst, 'leaf', 'SELECT * FROM ONLY logs')).rows, 0, 'the copied rows left the parent');
    assert.deepEqual(await tableDigest(dst, 'leaf', 'SELECT * FROM ONLY logs_2026_10'), await tableDigest(src, 'root', 'SELECT * FROM logs WHERE id = 1'));
    assert.deepEqual(await tableDigest(dst, 'leaf', `SELECT * FROM ONLY logs_2026_12 WHERE id = 101`), await tableDigest(src, 'root', 'SELECT * FROM logs WHERE id = 101'));
    assert.equal((await tableDigest(dst, 'leaf', 'SELECT * FROM ONLY logs_2026_11 WHERE id = 101')).rows, 0, 'moved out of November');
    // a copy again empties the partitions too: the rows are there once
    ok(await runLondiste([leaf, 'resync', 'logs']), 'resync logs');
    await waitFor('logs in sync again', 60_000, async () => {
      const r = await dst.query<{ s: string }>('leaf', `SELECT merge_state AS s FROM londiste.table_info WHERE table_name = 'public.logs'`);
      return r[0]?.s === 'ok' ? true : undefined;
    }, diag);
    await waitCaughtUp(src, 'root', dst, 'leaf', 'q', 'd_leaf', 60_000, diag);
    assert.deepEqual(await tableDigest(dst, 'leaf', 'SELECT * FROM logs'), await tableDigest(src, 'root', 'SELECT * FROM logs'), 'equal after the copy again');
  });

  it('files rows by event time into daily partitions; TRUNCATE empties the target with its partitions', async () => {
    await src.query('root', `INSERT INTO evs SELECT g, now(), 'e' || g FROM generate_series(1, 50) g`);
    await src.query('root', `UPDATE evs SET v = 'changed' WHERE id <= 10; DELETE FROM evs WHERE id > 45`);
    await waitCaughtUp(src, 'root', dst, 'leaf', 'q', 'd_leaf', 60_000, diag);
    const today = (await dst.query<{ d: string }>('leaf', `SELECT 'evs_' || to_char(now(), 'YYYY_MM_DD') AS d`))[0]?.d ?? '';
    const parts = await partitions('public.evs');
    assert.ok(parts.length >= 1 && parts.length <= 2 && parts.includes(today), `daily partitions by event time: ${parts.join(', ')}`);
    assert.deepEqual(await tableDigest(dst, 'leaf', 'SELECT * FROM evs'), await tableDigest(src, 'root', 'SELECT * FROM evs'));

    // rows before and after a TRUNCATE in one transaction: the TRUNCATE in its place
    await src.query('root', `BEGIN; INSERT INTO logs VALUES (500, '2026-11-30 23:00', 'gone'); TRUNCATE logs;
      INSERT INTO logs VALUES (501, '2026-12-01 01:00', 'after'), (502, '2026-11-29 01:00', 'after'); COMMIT`);
    await waitCaughtUp(src, 'root', dst, 'leaf', 'q', 'd_leaf', 60_000, diag);
    assert.deepEqual(await tableDigest(dst, 'leaf', 'SELECT * FROM logs'), await tableDigest(src, 'root', 'SELECT * FROM logs'));
    assert.equal((await tableDigest(dst, 'leaf', 'SELECT * FROM logs')).rows, 2);
    assert.equal((await tableDigest(dst, 'leaf', 'SELECT * FROM ONLY logs_2026_12')).rows, 1);
  });

  it('replicates into a table partitioned by PostgreSQL without a handler: copy, SQL-statement events, TRUNCATE', async () => {
    assert.deepEqual(await tableDigest(dst, 'leaf', 'SELECT * FROM pt'), await tableDigest(src, 'root', 'SELECT * FROM pt'), 'the copy emptied the partitions first');
    // sqltriga's events: UPDATE and DELETE statements on the partitioned table reach its rows
    await src.withClient('root', async (c) => {
      await c.query('BEGIN');
      // the capture triggers quiet: these statements reach the leaf only as the events below
      await c.query(`SET LOCAL session_replication_role = replica`);
      await c.query(`UPDATE pt SET v = 'changed' WHERE id <= 3`);
      await c.query(`DELETE FROM pt WHERE id = 4`);
      for (const [type, data] of [['U', `v='changed' where id='1' and d='2026-12-21'`], ['U', `v='changed' where id='2' and d='2026-12-22'`], ['U', `v='changed' where id='3' and d='2026-12-23'`], ['D', `id='4' and d='2026-12-24'`]]) {
        await c.query(`SELECT pgq.insert_event('q', $1, $2, 'public.pt', NULL, NULL, NULL)`, [type, data]);
      }
      await c.query('COMMIT');
    });
    await waitCaughtUp(src, 'root', dst, 'leaf', 'q', 'd_leaf', 60_000, diag);
    assert.deepEqual(await tableDigest(dst, 'leaf', 'SELECT * FROM pt'), await tableDigest(src, 'root', 'SELECT * FROM pt'));
    assert.equal((await dst.query<{ n: number }>('leaf', `SELECT count(*)::int AS n FROM pt WHERE v = 'changed'`))[0]?.n, 3);
    await src.query('root', `TRUNCATE pt; INSERT INTO pt VALUES (1, '2027-03-01', 'after')`);
    await waitCaughtUp(src, 'root', dst, 'leaf', 'q', 'd_leaf', 60_000, diag);
    assert.deepEqual(await tableDigest(dst, 'leaf', 'SELECT * FROM pt'), await tableDigest(src, 'root', 'SELECT * FROM pt'));
    assert.equal((await tableDigest(dst, 'leaf', 'SELECT * FROM pt_2027')).rows, 1);
  });
});
