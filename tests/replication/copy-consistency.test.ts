// Initial copy under concurrent writes: a transaction open while the copy takes its snapshot
// and committed during catch-up, inserts/updates/deletes running through the copy. The copied
// table must end identical to the source (nothing lost to the snapshot switch, nothing applied
// twice).
//
// One root (node, tables, ticker and root worker) is set up in `before` and shared; every test
// subscribes a leaf of its own, in its own target database, and stops its worker at the end.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { createSeedSchema, startCluster, testVersions, type PgCluster } from '@skytools/harness';
import { jobDir, ok, runLondiste } from '../cli/run-londiste.js';
import { startTicker, startWorker, tableDigest, waitCaughtUp, waitFor, type RunningWorker } from './replication-env.js';

const versions = testVersions();
const srcMajor = versions[0] ?? 15;
const dstMajor = versions[versions.length - 1] ?? 15;
const TABLES = ['user_info', 'user_session', 'user_login_rec', 'user_logout_rec'];

describe(`initial copy under load, PostgreSQL ${srcMajor} -> ${dstMajor}`, () => {
  let src: PgCluster;
  let dst: PgCluster;
  const jobs = jobDir();
  let rootWorker: RunningWorker | undefined;
  let ticker: { stop: () => Promise<void> } | undefined;

  before(async () => {
    [src, dst] = await Promise.all([startCluster(srcMajor), startCluster(dstMajor)]);
    await src.createDatabase('db');
    await src.withClient('db', (c) => createSeedSchema(c, { users: 50_000, keyedLogs: true }));
    const root = jobs.write('r', { db: src.connectionString('db'), queue_name: 'q', loop_delay: '200ms' });
    ok(await runLondiste([root, 'create-root', 'r', src.connectionString('db')]), 'create-root');
    await src.query('db', `SELECT pgq.set_queue_config('q', 'ticker_max_lag', '0')`);
    ok(await runLondiste([root, 'add-table', '--all']), 'add-table root');
    ticker = startTicker(src, 'db', 100);
    rootWorker = startWorker(root);
  });
  after(async () => {
    await rootWorker?.stop();
    await ticker?.stop();
    jobs.remove();
    await Promise.all([src.stop(), dst.stop()]);
  });

  /** A new target database with the seed's empty tables, subscribed as a leaf of the root; returns its job file. */
  const newLeaf = async (db: string, parallelCopies: number, keys: Record<string, string> = {}): Promise<string> => {
    await dst.createDatabase(db);
    await dst.withClient(db, (c) => createSeedSchema(c, { users: 0, keyedLogs: true }));
    const job = jobs.write(`leaf_${db}`, { db: dst.connectionString(db), queue_name: 'q', loop_delay: '200ms', parallel_copies: String(parallelCopies), ...keys });
    ok(await runLondiste([job, 'create-leaf', `leaf_${db}`, dst.connectionString(db), `--provider=${src.connectionString('db')}`]), `create-leaf ${db}`);
    return job;
  };
  const tablesOk = (db: string, w: () => RunningWorker): Promise<true> =>
    waitFor(`all tables ok on ${db}`, 90_000, async () => {
      const r = await dst.query<{ n: number }>(db, `SELECT count(*)::int AS n FROM londiste.get_table_list('q') WHERE local AND merge_state = 'ok'`);
      return r[0]?.n === 4 ? true : undefined;
    }, () => w().output().split('\n').slice(-15).join('\n'));
  const sameAsSource = async (db: string, what: string): Promise<void> => {
    for (const t of TABLES) {
      const a = await tableDigest(src, 'db', `SELECT * FROM digoal_01.${t}`);
      assert.deepEqual(await tableDigest(dst, db, `SELECT * FROM digoal_01.${t}`), a, `${t} differs ${what}`);
    }
  };

  it('keeps a long transaction and concurrent changes exactly once across the copy', async () => {
    const leaf = await newLeaf('long', 2);
    const w = startWorker(leaf);
    try {
      // a transaction that started before the copy and commits during it
      const longTx = new pg.Client(src.clientConfig('db'));
      await longTx.connect();
      await longTx.query('BEGIN');
      await longTx.query(`UPDATE digoal_01.user_info SET engname = 'long tx' WHERE userid % 100 = 0`);
      await longTx.query(`INSERT INTO digoal_01.user_login_rec (userid, login_time, ip) SELECT g, now(), '10.9.9.9' FROM generate_series(1, 200) g`);

      let writing = true;
      let rounds = 0;
      const writer = (async () => {
        while (writing) {
          rounds += 1;
          const i = rounds;
          await src.query('db', `UPDATE digoal_01.user_session SET login_count = login_count + 1 WHERE userid % 97 = $1`, [i % 97]);
          await src.query('db', `INSERT INTO digoal_01.user_logout_rec (userid, logout_time, ip) VALUES ($1, now(), '10.3.3.3')`, [i]);
          await src.query('db', `DELETE FROM digoal_01.user_info WHERE userid = $1`, [40_000 + i]);
        }
      })();
      try {
        ok(await runLondiste([leaf, 'add-table', '--all']), 'add-table leaf');
        await waitFor('a copy in progress or done', 30_000, async () => {
          const r = await dst.query<{ n: number }>('long', `SELECT count(*)::int AS n FROM londiste.get_table_list('q') WHERE merge_state IS NOT NULL`);
          return (r[0]?.n ?? 0) > 0 ? true : undefined;
        }, () => w.output());
        await longTx.query('COMMIT');
        await longTx.end();
        // keep writing through the rest of the copies and into catch-up: until every table is past
        // its copy, and the writer has run a few more rounds after the commit
        const atCommit = rounds;
        await waitFor('every table copied, and writes after the commit', 90_000, async () => {
          const r = await dst.query<{ n: number }>('long', `SELECT count(*)::int AS n FROM londiste.get_table_list('q') WHERE local AND merge_state IS NOT NULL AND merge_state <> 'in-copy'`);
          return r[0]?.n === 4 && rounds >= atCommit + 10 ? true : undefined;
        }, () => w.output().split('\n').slice(-15).join('\n'));
      } finally {
        writing = false;
        await writer;
      }

      await tablesOk('long', () => w);
      await waitCaughtUp(src, 'db', dst, 'long', 'q', 'leaf_long', 60_000, () => w.output());
      // the long transaction's changes, compared with what the source holds now (the writer's
      // deletes may have removed some of its rows)
      for (const [what, sql] of [
        ['long tx updates', `SELECT * FROM digoal_01.user_info WHERE engname = 'long tx'`],
        ['long tx inserts', `SELECT * FROM digoal_01.user_login_rec WHERE ip = '10.9.9.9'`],
      ] as const) {
        const a = await tableDigest(src, 'db', sql);
        assert.ok(a.rows > 0, `${what}: the source has rows`);
        assert.deepEqual(await tableDigest(dst, 'long', sql), a, `${what}: the target has ${a.rows} rows like the source`);
      }
      await sameAsSource('long', 'after the copy');
      const backlog = await dst.query<{ n: number }>('long', `SELECT count(*)::int AS n FROM londiste.copy_backlog`);
      assert.equal(backlog[0]?.n, 0, 'the copy backlog was replayed and emptied');
    } finally {
      await w.stop();
    }
  });

  it('copies one table at a time with parallel_copies 1, and a worker stopped with SIGTERM mid-load loses nothing', async () => {
    const leaf = await newLeaf('serial', 1);
    ok(await runLondiste([leaf, 'add-table', '--all']), 'add-table leaf serial');
    let w = startWorker(leaf);
    try {
      await tablesOk('serial', () => w);
      // with one copy at a time, every copy ends before the next one starts
      const events = [...w.output().matchAll(/(\S+): (starting copy|copied \d+ rows)/g)].map((m) => `${m[2]?.startsWith('starting') === true ? 'start' : 'end'} ${m[1] ?? ''}`);
      assert.equal(events.length, 8, events.join(', '));
      for (let i = 0; i < events.length; i += 2) {
        assert.equal(events[i]?.split(' ')[0], 'start');
        assert.equal(events[i + 1], `end ${events[i]?.split(' ')[1] ?? ''}`, `copies overlapped: ${events.join(', ')}`);
      }
      // the longest copies start first (the sync ends soonest with parallel copies): the two big
      // tables (200k rows each) before the logs, whatever the list's (alphabetical) order
      const sizes = await src.query<{ t: string }>('db', `SELECT 'digoal_01.' || relname AS t FROM pg_class WHERE relnamespace = 'digoal_01'::regnamespace AND relkind = 'r' ORDER BY pg_table_size(oid) DESC LIMIT 2`);
      assert.deepEqual([events[0], events[2]], sizes.map((r) => `start ${r.t}`), `the biggest tables first: ${events.join(', ')}`);

      // SIGTERM while changes stream in: the worker exits 0, a new one resumes, nothing is lost
      const applied = async (): Promise<number> =>
        (await dst.query<{ n: number }>('serial', `SELECT count(*)::int AS n FROM digoal_01.user_logout_rec WHERE ip = '10.4.4.4'`))[0]?.n ?? 0;
      let writing = true;
      const writer = (async () => {
        let i = 0;
        while (writing) {
          i += 1;
          await src.query('db', `INSERT INTO digoal_01.user_logout_rec (userid, logout_time, ip) SELECT g, now(), '10.4.4.4' FROM generate_series(1, 10) g`);
          await src.query('db', `UPDATE digoal_01.user_session SET login_count = login_count + 1 WHERE userid % 31 = $1`, [i % 31]);
        }
      })();
      try {
        const base = await applied();
        await waitFor('the worker applying the load', 60_000, async () => ((await applied()) > base ? true : undefined), () => w.output());
        assert.equal(await w.stop(), 0, 'SIGTERM exits 0');
        const atStop = await applied();
        w = startWorker(leaf);
        await waitFor('the new worker applying the load', 60_000, async () => ((await applied()) > atStop ? true : undefined), () => w.output());
      } finally {
        writing = false;
        await writer;
      }
      await waitCaughtUp(src, 'db', dst, 'serial', 'q', 'leaf_serial', 60_000, () => w.output());
      await sameAsSource('serial', 'after the SIGTERM');
    } finally {
      await w.stop();
    }
  });

  it('runs two copies at once with parallel_copies 2', async () => {
    const leaf = await newLeaf('par', 2);
    ok(await runLondiste([leaf, 'add-table', '--all']), 'add-table leaf par');
    // hold every target table so copies block at their start: what runs at once is then visible
    const holder = new pg.Client(dst.clientConfig('par'));
    await holder.connect();
    await holder.query('BEGIN');
    await holder.query('LOCK TABLE digoal_01.user_info, digoal_01.user_session, digoal_01.user_login_rec, digoal_01.user_logout_rec IN ACCESS EXCLUSIVE MODE');
    const w = startWorker(leaf);
    try {
      try {
        await waitFor('two copies started', 30_000, async () => ((w.output().match(/starting copy/g) ?? []).length >= 2 ? true : undefined), () => w.output());
        await waitFor('two tables in copy', 30_000, async () => {
          const r = await dst.query<{ n: number }>('par', `SELECT count(*)::int AS n FROM londiste.table_info WHERE merge_state = 'in-copy'`);
          return r[0]?.n === 2 ? true : undefined;
        });
        // the point is that nothing more starts: the worker looks for copies to start every
        // loop_delay (200 ms), so 500 ms give it two chances to start a third one wrongly
        await new Promise((r) => setTimeout(r, 500));
        const inCopy = await dst.query<{ n: number }>('par', `SELECT count(*)::int AS n FROM londiste.table_info WHERE merge_state = 'in-copy'`);
        assert.equal(inCopy[0]?.n, 2, 'still two, not more');
        assert.equal((w.output().match(/starting copy/g) ?? []).length, 2, 'no third copy while two run');
      } finally {
        await holder.query('COMMIT');
        await holder.end();
      }
      await tablesOk('par', () => w);
      await waitCaughtUp(src, 'db', dst, 'par', 'q', 'leaf_par', 60_000, () => w.output());
      await sameAsSource('par', 'after parallel copies');
      // the copied tables are analyzed once the job's copies have ended (analyze_count counts
      // ANALYZE statements, not autovacuum's); the statistics reach the view within a second or so
      await waitFor('every copied table analyzed', 30_000, async () => {
        const r = await dst.query<{ n: number }>('par', `SELECT count(*)::int AS n FROM pg_stat_user_tables WHERE schemaname = 'digoal_01' AND analyze_count > 0`);
        return r[0]?.n === TABLES.length ? true : undefined;
      }, () => w.output());
    } finally {
      await w.stop();
    }
  });

  it('keeps a job within its pool_size: copies wait for room in it', async () => {
    // room for the lock, the worker's two and one copy: parallel_copies 3 is cut to one at a time
    const leaf = await newLeaf('pool', 3, { pool_size: '5' });
    ok(await runLondiste([leaf, 'add-table', '--all']), 'add-table leaf pool');
    const holder = new pg.Client(dst.clientConfig('pool'));
    await holder.connect();
    await holder.query('BEGIN');
    await holder.query('LOCK TABLE digoal_01.user_info, digoal_01.user_session, digoal_01.user_login_rec, digoal_01.user_logout_rec IN ACCESS EXCLUSIVE MODE');
    const w = startWorker(leaf);
    const jobConnections = async (): Promise<number> => {
      const q = `SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name LIKE 'londiste leaf_pool%' AND datname = $1`;
      const onDst = await dst.query<{ n: number }>('postgres', q, ['pool']);
      const onSrc = await src.query<{ n: number }>('postgres', q, ['db']);
      return (onDst[0]?.n ?? 0) + (onSrc[0]?.n ?? 0);
    };
    try {
      try {
        await waitFor('a copy started', 30_000, async () => ((w.output().match(/starting copy/g) ?? []).length >= 1 ? true : undefined), () => w.output());
        await waitFor('the copy holding its two connections', 30_000, async () => ((await jobConnections()) === 5 ? true : undefined), () => w.output());
        // the worker offers copies every loop_delay (200 ms): 500 ms give it two chances to start a second one wrongly
        await new Promise((r) => setTimeout(r, 500));
        assert.equal((w.output().match(/starting copy/g) ?? []).length, 1, 'one copy at a time in a pool of 5');
        const inCopy = await dst.query<{ n: number }>('pool', `SELECT count(*)::int AS n FROM londiste.table_info WHERE merge_state = 'in-copy'`);
        assert.equal(inCopy[0]?.n, 1, 'one table in copy');
        assert.equal(await jobConnections(), 5, 'the lock, the worker two and the copy two');
      } finally {
        await holder.query('COMMIT');
        await holder.end();
      }
      await tablesOk('pool', () => w);
      const copies = [...w.output().matchAll(/(\S+): (starting copy|copied \d+ rows)/g)].map((m) => (m[2]?.startsWith('starting') === true ? 'start' : 'end'));
      assert.deepEqual(copies, ['start', 'end', 'start', 'end', 'start', 'end', 'start', 'end'], 'copies one after the other');
      await waitCaughtUp(src, 'db', dst, 'pool', 'q', 'leaf_pool', 60_000, () => w.output());
      await sameAsSource('pool', 'after copies within the pool');
    } finally {
      await w.stop();
    }
  });

  it('copies into tables that other tables reference by foreign key', async () => {
    const leaf = await newLeaf('fk', 2);
    // the target has foreign keys the source lacks: the copy must not trip over them
    await dst.query('fk', 'ALTER TABLE digoal_01.user_session ADD CONSTRAINT fk_user FOREIGN KEY (userid) REFERENCES digoal_01.user_info (userid)');
    await dst.query('fk', 'ALTER TABLE digoal_01.user_login_rec ADD CONSTRAINT fk_login FOREIGN KEY (userid) REFERENCES digoal_01.user_info (userid)');
    ok(await runLondiste([leaf, 'add-table', '--all']), 'add-table leaf fk');
    const w = startWorker(leaf);
    try {
      ok(await runLondiste([leaf, 'wait-sync', '--wait-timeout=90']), 'wait-sync');
      await waitCaughtUp(src, 'db', dst, 'fk', 'q', 'leaf_fk', 60_000, () => w.output());
      for (const t of ['user_info', 'user_session']) {
        const a = await tableDigest(src, 'db', `SELECT * FROM digoal_01.${t}`);
        assert.deepEqual(await tableDigest(dst, 'fk', `SELECT * FROM digoal_01.${t}`), a, `${t} differs`);
      }
      const fks = await dst.query<{ n: number }>('fk', `SELECT count(*)::int AS n FROM pg_constraint WHERE conname IN ('fk_user', 'fk_login')`);
      assert.equal(fks[0]?.n, 2, 'the foreign keys are still there');
    } finally {
      await w.stop();
    }
  });
});
