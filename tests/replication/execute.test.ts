// `londiste execute` through a cascade (root -> branch -> leaf, and a second leaf under the root
// that replicates only t1), and the rule that a worker never skips what it does not understand:
// DDL reaches every node in order with the data, Local-Table scripts run only where the table is
// replicated, a re-run is a no-op and a changed file under an old name is refused, a script that
// fails on one node stops that node only until it is fixed, an unknown event stops the workers
// until it is gone, and options that are not implemented are refused. Each step checks the data
// on every node against the root. The steps share one cascade and run in order.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startCluster, testVersions, type PgCluster } from '@skytools/harness';
import { jobDir, ok, runLondiste, type RunResult } from '../cli/run-londiste.js';
import { startTicker, startWorker, tableDigest, waitCaughtUp, waitFor, type RunningWorker } from './replication-env.js';

const versions = testVersions();
const srcMajor = versions[0] ?? 15;
const dstMajor = versions[versions.length - 1] ?? 15;
const SUBSCRIBERS = ['branch', 'leaf', 'other'] as const;
type Sub = (typeof SUBSCRIBERS)[number];

/** Exit 1 and exactly one ERROR line, which matches `re`. */
function refused(r: RunResult, re: RegExp): void {
  assert.equal(r.code, 1, `expected exit 1:\n${r.stderr}${r.stdout}`);
  const errors = r.stderr.split('\n').filter((l) => l.includes('ERROR'));
  assert.equal(errors.length, 1, `exactly one ERROR line:\n${r.stderr}`);
  assert.match(errors[0] ?? '', re);
}

describe(`execute through the cascade, root on PostgreSQL ${srcMajor}, subscribers on ${dstMajor}`, () => {
  let src: PgCluster;
  let dst: PgCluster;
  const jobs = jobDir();
  const sqlDir = mkdtempSync(join(tmpdir(), 'skytools-exec-'));
  const files: Record<string, string> = {};
  const workers = new Map<string, RunningWorker>();
  let ticker: { stop: () => Promise<void> } | undefined;
  const diag = (): string => [...workers].map(([n, w]) => `${n}:\n${w.output().split('\n').slice(-8).join('\n')}`).join('\n----\n');
  const script = (name: string, body: string): string => {
    const p = join(sqlDir, name);
    writeFileSync(p, body);
    return p;
  };
  const columns = async (c: PgCluster, db: string, table: string): Promise<string[]> =>
    (await c.query<{ a: string }>(db, `SELECT attname AS a FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum`, [table])).map((r) => r.a);

  /** Every subscriber has applied everything the root has now, and holds the same rows. */
  const allEqual = async (tables: Record<Sub, string[]> = { branch: ['t1', 't2'], leaf: ['t1', 't2'], other: ['t1'] }): Promise<void> => {
    for (const s of SUBSCRIBERS) {
      await waitCaughtUp(src, 'root', dst, s, 'q', `n_${s}`, 90_000, diag);
      for (const t of tables[s]) {
        assert.deepEqual(await tableDigest(dst, s, `SELECT * FROM public.${t}`), await tableDigest(src, 'root', `SELECT * FROM public.${t}`), `${s}.${t} differs from the root`);
      }
    }
  };

  before(async () => {
    [src, dst] = await Promise.all([startCluster(srcMajor), startCluster(dstMajor)]);
    await src.createDatabase('root');
    for (const s of SUBSCRIBERS) await dst.createDatabase(s);
    const ddl = 'CREATE TABLE public.t1 (id int PRIMARY KEY, v text); CREATE TABLE public.t2 (id int PRIMARY KEY, v text)';
    await src.query('root', ddl);
    await src.query('root', `INSERT INTO public.t1 SELECT g, 'v' || g FROM generate_series(1, 2000) g; INSERT INTO public.t2 SELECT g, 'w' || g FROM generate_series(1, 500) g`);
    for (const s of SUBSCRIBERS) await dst.query(s, ddl);
    files['root'] = jobs.write('n_root', { db: src.connectionString('root'), queue_name: 'q', loop_delay: '200ms' });
    for (const s of SUBSCRIBERS) files[s] = jobs.write(`n_${s}`, { db: dst.connectionString(s), queue_name: 'q', loop_delay: '200ms' });
    ok(await runLondiste([files['root'] ?? '', 'create-root', 'n_root', src.connectionString('root')]), 'create-root');
    // the capture functions without the DDL event trigger (as on a managed service without
    // superuser): they must notice the new column by themselves
    await src.query('root', 'ALTER EVENT TRIGGER pgq_capture_ddl DISABLE');
    await src.query('root', `SELECT pgq.set_queue_config('q', 'ticker_max_lag', '0')`);
    ok(await runLondiste([files['branch'] ?? '', 'create-branch', 'n_branch', dst.connectionString('branch'), `--provider=${src.connectionString('root')}`]), 'create-branch');
    ok(await runLondiste([files['leaf'] ?? '', 'create-leaf', 'n_leaf', dst.connectionString('leaf'), `--provider=${dst.connectionString('branch')}`]), 'create-leaf');
    ok(await runLondiste([files['other'] ?? '', 'create-leaf', 'n_other', dst.connectionString('other'), `--provider=${src.connectionString('root')}`]), 'create-leaf other');
    ok(await runLondiste([files['root'] ?? '', 'add-table', 'public.t1', 'public.t2']), 'add-table root');
    ok(await runLondiste([files['branch'] ?? '', 'add-table', 'public.t1', 'public.t2']), 'add-table branch');
    ok(await runLondiste([files['leaf'] ?? '', 'add-table', 'public.t1', 'public.t2']), 'add-table leaf');
    ok(await runLondiste([files['other'] ?? '', 'add-table', 'public.t1']), 'add-table other');
    ticker = startTicker(src, 'root', 100);
    for (const n of ['root', ...SUBSCRIBERS]) workers.set(n, startWorker(files[n] ?? ''));
    for (const s of SUBSCRIBERS) {
      const n = s === 'other' ? 1 : 2;
      await waitFor(`${s} in sync`, 90_000, async () => {
        const r = await dst.query<{ n: number }>(s, `SELECT count(*)::int AS n FROM londiste.get_table_list('q') WHERE local AND merge_state = 'ok'`);
        return r[0]?.n === n ? true : undefined;
      }, diag);
    }
  });
  after(async () => {
    for (const w of workers.values()) await w.stop();
    await ticker?.stop();
    jobs.remove();
    rmSync(sqlDir, { recursive: true, force: true });
    await Promise.all([src.stop(), dst.stop()]);
  });

  it('adds a column on every node before the first row event that fills it, while a load runs', async () => {
    let loading = true;
    const load = (async () => {
      for (let i = 0; loading; i++) await src.query('root', `UPDATE public.t1 SET v = 'load ' || $1::int WHERE id = 1 + ($1::int * 37) % 2000`, [i]);
    })();
    const add = script('001_add_extra.sql', '-- a plain script: runs on every node\nALTER TABLE public.t1 ADD COLUMN extra text;\n');
    ok(await runLondiste([files['root'] ?? '', 'execute', add]), 'execute');
    // right after: row events that carry the new column
    await src.query('root', `UPDATE public.t1 SET extra = 'x' || id WHERE id <= 300`);
    await src.query('root', `INSERT INTO public.t1 (id, v, extra) SELECT g, 'new', 'e' || g FROM generate_series(2001, 2100) g`);
    loading = false;
    await load;
    await allEqual();
    for (const s of SUBSCRIBERS) assert.deepEqual(await columns(dst, s, 'public.t1'), ['id', 'v', 'extra'], `${s} got the column`);
    assert.equal((await dst.query<{ n: number }>('leaf', `SELECT count(*)::int AS n FROM public.t1 WHERE extra IS NOT NULL`))[0]?.n, 400);
  });

  it('runs a Local-Table script only where the table is replicated, under its local name', async () => {
    const local = script('002_t2_note.sql', '--*-- Local-Table: public.t2\n\nALTER TABLE @public.t2@ ADD COLUMN note text;\n');
    ok(await runLondiste([files['root'] ?? '', 'execute', local]), 'execute Local-Table');
    await src.query('root', `UPDATE public.t2 SET note = 'n' || id WHERE id <= 50`);
    await allEqual();
    for (const s of ['branch', 'leaf'] as const) assert.deepEqual(await columns(dst, s, 'public.t2'), ['id', 'v', 'note'], `${s} replicates t2: the script ran`);
    assert.deepEqual(await columns(dst, 'other', 'public.t2'), ['id', 'v'], 'other does not replicate t2: the script did not run there');
    const applied = await dst.query<{ f: string }>('other', `SELECT execute_file AS f FROM londiste.applied_execute ORDER BY 1`);
    assert.deepEqual(applied.map((r) => r.f), ['001_add_extra.sql', '002_t2_note.sql'], 'other recorded the script as handled');
  });

  it('treats a re-run as a no-op and refuses the same name with other content', async () => {
    const again = ok(await runLondiste([files['root'] ?? '', 'execute', join(sqlDir, '001_add_extra.sql')]), 're-run');
    assert.match(again.stderr, /001_add_extra\.sql: already applied on this node, skipping/);
    const changed = script('001_add_extra.sql', 'ALTER TABLE public.t1 ADD COLUMN extra2 text;\n');
    refused(await runLondiste([files['root'] ?? '', 'execute', changed]), /001_add_extra\.sql was applied on this node with other content/);
    assert.deepEqual(await columns(src, 'root', 'public.t1'), ['id', 'v', 'extra'], 'nothing changed');
    refused(await runLondiste([files['root'] ?? '', 'execute', join(sqlDir, 'missing.sql')]), /cannot read .*missing\.sql: ENOENT/);
    const badAttr = script('003_bad_attr.sql', '--*-- Local-Tabel: public.t1\nSELECT 1;\n');
    refused(await runLondiste([files['root'] ?? '', 'execute', badAttr]), /unknown attribute "Local-Tabel"/);
  });

  it('stops only the node where a script fails, and goes on once it is fixed by hand', async () => {
    // the leaf has an object in the way of the script
    await dst.query('leaf', 'CREATE TABLE public.t1_v_idx (x int)');
    const idx = script('004_index.sql', 'CREATE INDEX t1_v_idx ON public.t1 (v);\n');
    ok(await runLondiste([files['root'] ?? '', 'execute', idx]), 'execute index');
    await src.query('root', `UPDATE public.t1 SET v = 'after index' WHERE id <= 20`);
    await waitFor('the leaf reports the failed script', 60_000, async () => {
      const st = await runLondiste([files['root'] ?? '', 'status']);
      return /ERR: n_leaf: EXECUTE 004_index\.sql .*failed on node n_leaf.*already exists/.test(st.stdout) ? true : undefined;
    }, diag);
    // the others went on
    for (const s of ['branch', 'other'] as const) {
      await waitCaughtUp(src, 'root', dst, s, 'q', `n_${s}`, 60_000, diag);
      assert.equal((await dst.query<{ n: number }>(s, `SELECT count(*)::int AS n FROM public.t1 WHERE v = 'after index'`))[0]?.n, 20);
    }
    assert.equal((await dst.query<{ n: number }>('leaf', `SELECT count(*)::int AS n FROM public.t1 WHERE v = 'after index'`))[0]?.n, 0, 'the leaf stopped before the rows after the script');
    await dst.query('leaf', 'DROP TABLE public.t1_v_idx');
    await allEqual();
    const hasIndex = await dst.query('leaf', `SELECT 1 FROM pg_indexes WHERE indexname = 't1_v_idx'`);
    assert.equal(hasIndex.length, 1, 'the script ran on the leaf after the fix');
  });

  it('stops at an event it does not know, applies nothing after it, and loses nothing once it is gone', async () => {
    const lastTick = async (): Promise<unknown> => dst.query<{ t: string }>('other', `SELECT last_tick_id::text AS t FROM pgq_node.local_state WHERE consumer_name = 'n_other'`);
    await src.query('root', `SELECT pgq.insert_event('q', 'londiste.bogus-event', 'x', 'public.t1', NULL, NULL, NULL)`);
    await src.query('root', `UPDATE public.t1 SET v = 'after bogus' WHERE id <= 10`);
    const named = /cannot apply event \d+ of type "londiste\.bogus-event" \(public\.t1\) in batch \d+/g;
    const times = (): number => (workers.get('other')?.output() ?? '').match(named)?.length ?? 0;
    await waitFor('the worker names the unknown event', 60_000, async () => (times() >= 1 ? true : undefined), diag);
    // read once the worker is stuck (idle ticks may have been applied before), and again after its retry
    const stuckAt = await lastTick();
    await waitFor('the worker to retry and stop again', 60_000, async () => (times() >= 2 ? true : undefined), diag);
    assert.equal((await dst.query<{ n: number }>('other', `SELECT count(*)::int AS n FROM public.t1 WHERE v = 'after bogus'`))[0]?.n, 0, 'nothing after the event');
    assert.deepEqual(await lastTick(), stuckAt, 'the node did not move past the batch');
    // the operator removes the event (here: from the queue's event tables); the batch is read again
    await src.query('root', `DELETE FROM pgq.event_template WHERE ev_type = 'londiste.bogus-event'`);
    await allEqual();
  });

  it('refuses options that cannot apply, changing nothing, and stops at table attributes it does not implement', async () => {
    await src.query('root', 'CREATE TABLE public.t3 (id int PRIMARY KEY)');
    for (const opt of ['--copy-node=n_branch', '--find-copy-node']) {
      refused(await runLondiste([files['root'] ?? '', 'add-table', 'public.t3', opt]), new RegExp(`${opt}: the root copies nothing \\(its tables are the source\\); nothing was changed`));
    }
    // merging is for a leaf fed by several queues: on the root it would mean nothing
    refused(await runLondiste([files['root'] ?? '', 'add-table', 'public.t3', '--merge-all']), /--merge-all is for a leaf that merges several queues into one table; this node is a root; nothing was changed/);
    refused(await runLondiste([files['other'] ?? '', 'resync', 'public.t1', '--copy-node=n_other']), /--copy-node=n_other: that is this node; nothing was changed/);
    assert.equal((await src.query('root', `SELECT 1 FROM londiste.table_info WHERE table_name = 'public.t3'`)).length, 0, 't3 was not added');
    // an attribute written by another tool (upstream's handlers): the worker stops, naming the table
    await dst.query('other', `SELECT * FROM londiste.local_set_table_attrs('q', 'public.t1', 'handler=obfuscate')`);
    await src.query('root', `UPDATE public.t1 SET v = 'after attr' WHERE id <= 5`);
    await waitFor('the worker names the table attribute', 60_000, async () =>
      /table public\.t1 has handler=obfuscate in its attributes: handler obfuscate: column obfuscation is not implemented yet/.test(workers.get('other')?.output() ?? '') ? true : undefined,
    diag);
    assert.equal((await dst.query<{ n: number }>('other', `SELECT count(*)::int AS n FROM public.t1 WHERE v = 'after attr'`))[0]?.n, 0);
    await dst.query('other', `SELECT * FROM londiste.local_set_table_attrs('q', 'public.t1', NULL)`);
    await allEqual();
  });

  it('applies in one batch the rows of the old layout, the EXECUTE adding a column, and the rows that fill it', async () => {
    // no tick while the three go in: the branch (tick by tick) and the leaves get them in one batch
    await ticker?.stop();
    await src.query('root', `UPDATE public.t1 SET v = 'before extra_b' WHERE id <= 40`);
    ok(await runLondiste([files['root'] ?? '', 'execute', script('005_extra_b.sql', 'ALTER TABLE public.t1 ADD COLUMN extra_b int;\n')]), 'execute');
    await src.query('root', `UPDATE public.t1 SET extra_b = id WHERE id BETWEEN 20 AND 60`);
    const one = await src.query<{ t: string }>('root', `SELECT pgq.ticker('q')::text AS t`);
    assert.notEqual(one[0]?.t, null, 'one tick holds all three');
    ticker = startTicker(src, 'root', 100);
    await allEqual();
    for (const sub of SUBSCRIBERS) assert.deepEqual(await columns(dst, sub, 'public.t1'), ['id', 'v', 'extra', 'extra_b'], `${sub} got the column`);
    assert.equal((await dst.query<{ n: number }>('leaf', `SELECT count(*)::int AS n FROM public.t1 WHERE extra_b IS NOT NULL`))[0]?.n, 41);
  });
});
