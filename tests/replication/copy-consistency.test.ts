// Initial copy under concurrent writes: a transaction open while the copy takes its snapshot
// and committed during catch-up, inserts/updates/deletes running through the copy. The copied
// table must end identical to the source (nothing lost to the snapshot switch, nothing applied
// twice).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { createSeedSchema, startCluster, testVersions, type PgCluster } from '@skytools/harness';
import { jobDir, runLondiste, type RunResult } from '../cli/run-londiste.js';
import { startTicker, startWorker, tableDigest, waitCaughtUp, waitFor, type RunningWorker } from './replication-env.js';

const versions = testVersions();
const srcMajor = versions[0] ?? 15;
const dstMajor = versions[versions.length - 1] ?? 15;

function ok(r: RunResult, what: string): void {
  assert.equal(r.code, 0, `${what} failed (exit ${String(r.code)}):\n${r.stderr}${r.stdout}`);
}

describe(`initial copy under load, PostgreSQL ${srcMajor} -> ${dstMajor}`, () => {
  let src: PgCluster;
  let dst: PgCluster;
  const jobs = jobDir();
  const workers: RunningWorker[] = [];
  let ticker: { stop: () => Promise<void> } | undefined;

  before(async () => {
    [src, dst] = await Promise.all([startCluster(srcMajor), startCluster(dstMajor)]);
    await src.createDatabase('db');
    await dst.createDatabase('db');
    await src.withClient('db', (c) => createSeedSchema(c, { users: 50_000, keyedLogs: true }));
    await dst.withClient('db', (c) => createSeedSchema(c, { users: 0, keyedLogs: true }));
  });
  after(async () => {
    for (const w of workers) await w.stop();
    await ticker?.stop();
    jobs.remove();
    await Promise.all([src.stop(), dst.stop()]);
  });

  it('keeps a long transaction and concurrent changes exactly once across the copy', async () => {
    const root = jobs.write('r', { db: src.connectionString('db'), queue_name: 'q', loop_delay: '200ms' });
    const leaf = jobs.write('l', { db: dst.connectionString('db'), queue_name: 'q', loop_delay: '200ms', parallel_copies: '2' });
    ok(await runLondiste([root, 'create-root', 'r', src.connectionString('db')]), 'create-root');
    await src.query('db', `SELECT pgq.set_queue_config('q', 'ticker_max_lag', '0')`);
    ok(await runLondiste([leaf, 'create-leaf', 'l', dst.connectionString('db'), `--provider=${src.connectionString('db')}`]), 'create-leaf');
    ok(await runLondiste([root, 'add-table', '--all']), 'add-table root');
    ticker = startTicker(src, 'db', 100);
    workers.push(startWorker(root), startWorker(leaf));

    // a transaction that started before the copy and commits during it
    const longTx = new pg.Client(src.clientConfig('db'));
    await longTx.connect();
    await longTx.query('BEGIN');
    await longTx.query(`UPDATE digoal_01.user_info SET engname = 'long tx' WHERE userid % 100 = 0`);
    await longTx.query(`INSERT INTO digoal_01.user_login_rec (userid, login_time, ip) SELECT g, now(), '10.9.9.9' FROM generate_series(1, 200) g`);

    let writing = true;
    const writer = (async () => {
      let i = 0;
      while (writing) {
        i += 1;
        await src.query('db', `UPDATE digoal_01.user_session SET login_count = login_count + 1 WHERE userid % 97 = $1`, [i % 97]);
        await src.query('db', `INSERT INTO digoal_01.user_logout_rec (userid, logout_time, ip) VALUES ($1, now(), '10.3.3.3')`, [i]);
        await src.query('db', `DELETE FROM digoal_01.user_info WHERE userid = $1`, [40_000 + i]);
      }
    })();
    ok(await runLondiste([leaf, 'add-table', '--all']), 'add-table leaf');
    await waitFor('a copy in progress or done', 30_000, async () => {
      const r = await dst.query<{ n: number }>('db', `SELECT count(*)::int AS n FROM londiste.get_table_list('q') WHERE merge_state IS NOT NULL`);
      return (r[0]?.n ?? 0) > 0 ? true : undefined;
    });
    await longTx.query('COMMIT');
    await longTx.end();
    await new Promise((r) => setTimeout(r, 1500));
    writing = false;
    await writer;

    await waitFor('all tables ok', 90_000, async () => {
      const r = await dst.query<{ n: number }>('db', `SELECT count(*)::int AS n FROM londiste.get_table_list('q') WHERE local AND merge_state = 'ok'`);
      return r[0]?.n === 4 ? true : undefined;
    }, () => workers.map((w) => w.output().split('\n').slice(-10).join('\n')).join('\n---\n'));
    await waitCaughtUp(src, 'db', dst, 'db', 'q', 'l', 60_000);
    for (const t of ['user_info', 'user_session', 'user_login_rec', 'user_logout_rec']) {
      const a = await tableDigest(src, 'db', `SELECT * FROM digoal_01.${t}`);
      assert.deepEqual(await tableDigest(dst, 'db', `SELECT * FROM digoal_01.${t}`), a, `${t} differs after the copy`);
    }
    assert.equal((await tableDigest(dst, 'db', `SELECT * FROM digoal_01.user_info WHERE engname = 'long tx'`)).rows, 500);
    const backlog = await dst.query<{ n: number }>('db', `SELECT count(*)::int AS n FROM londiste.copy_backlog`);
    assert.equal(backlog[0]?.n, 0, 'the copy backlog was replayed and emptied');
  });

  it('copies one table at a time with parallel_copies 1, and a worker stopped with SIGTERM mid-load loses nothing', async () => {
    await dst.createDatabase('serial');
    await dst.withClient('serial', (c) => createSeedSchema(c, { users: 0, keyedLogs: true }));
    const leaf2 = jobs.write('l2', { db: dst.connectionString('serial'), queue_name: 'q', loop_delay: '200ms', parallel_copies: '1' });
    ok(await runLondiste([leaf2, 'create-leaf', 'l2', dst.connectionString('serial'), `--provider=${src.connectionString('db')}`]), 'create-leaf 2');
    ok(await runLondiste([leaf2, 'add-table', '--all']), 'add-table leaf 2');
    let w = startWorker(leaf2);
    workers.push(w);
    await waitFor('all tables ok on the serial leaf', 90_000, async () => {
      const r = await dst.query<{ n: number }>('serial', `SELECT count(*)::int AS n FROM londiste.get_table_list('q') WHERE local AND merge_state = 'ok'`);
      return r[0]?.n === 4 ? true : undefined;
    }, () => w.output());
    // with one copy at a time, every copy ends before the next one starts
    const events = [...w.output().matchAll(/(\S+): (starting copy|copied \d+ rows)/g)].map((m) => `${m[2]?.startsWith('starting') === true ? 'start' : 'end'} ${m[1] ?? ''}`);
    assert.equal(events.length, 8, events.join(', '));
    for (let i = 0; i < events.length; i += 2) {
      assert.equal(events[i]?.split(' ')[0], 'start');
      assert.equal(events[i + 1], `end ${events[i]?.split(' ')[1] ?? ''}`, `copies overlapped: ${events.join(', ')}`);
    }

    // SIGTERM while changes stream in: the worker exits 0, a new one resumes, nothing is lost
    let writing = true;
    const writer = (async () => {
      let i = 0;
      while (writing) {
        i += 1;
        await src.query('db', `INSERT INTO digoal_01.user_logout_rec (userid, logout_time, ip) SELECT g, now(), '10.4.4.4' FROM generate_series(1, 10) g`);
        await src.query('db', `UPDATE digoal_01.user_session SET login_count = login_count + 1 WHERE userid % 31 = $1`, [i % 31]);
      }
    })();
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(await w.stop(), 0, 'SIGTERM exits 0');
    await new Promise((r) => setTimeout(r, 500));
    w = startWorker(leaf2);
    workers.push(w);
    await new Promise((r) => setTimeout(r, 1000));
    writing = false;
    await writer;
    await waitCaughtUp(src, 'db', dst, 'serial', 'q', 'l2', 60_000, () => w.output());
    for (const t of ['user_info', 'user_session', 'user_login_rec', 'user_logout_rec']) {
      const a = await tableDigest(src, 'db', `SELECT * FROM digoal_01.${t}`);
      assert.deepEqual(await tableDigest(dst, 'serial', `SELECT * FROM digoal_01.${t}`), a, `${t} differs after the SIGTERM`);
    }
  });

  it('runs two copies at once with parallel_copies 2', async () => {
    await dst.createDatabase('par');
    await dst.withClient('par', (c) => createSeedSchema(c, { users: 0, keyedLogs: true }));
    const leaf3 = jobs.write('l3', { db: dst.connectionString('par'), queue_name: 'q', loop_delay: '200ms', parallel_copies: '2' });
    ok(await runLondiste([leaf3, 'create-leaf', 'l3', dst.connectionString('par'), `--provider=${src.connectionString('db')}`]), 'create-leaf 3');
    ok(await runLondiste([leaf3, 'add-table', '--all']), 'add-table leaf 3');
    // hold every target table so copies block at their start: what runs at once is then visible
    const holder = new pg.Client(dst.clientConfig('par'));
    await holder.connect();
    await holder.query('BEGIN');
    await holder.query('LOCK TABLE digoal_01.user_info, digoal_01.user_session, digoal_01.user_login_rec, digoal_01.user_logout_rec IN ACCESS EXCLUSIVE MODE');
    const w = startWorker(leaf3);
    workers.push(w);
    try {
      await waitFor('two copies started', 30_000, async () => ((w.output().match(/starting copy/g) ?? []).length >= 2 ? true : undefined), () => w.output());
      await waitFor('two tables in copy', 30_000, async () => {
        const r = await dst.query<{ n: number }>('par', `SELECT count(*)::int AS n FROM londiste.table_info WHERE merge_state = 'in-copy'`);
        return r[0]?.n === 2 ? true : undefined;
      });
      await new Promise((r) => setTimeout(r, 500));
      const inCopy = await dst.query<{ n: number }>('par', `SELECT count(*)::int AS n FROM londiste.table_info WHERE merge_state = 'in-copy'`);
      assert.equal(inCopy[0]?.n, 2, 'still two, not more');
      assert.equal((w.output().match(/starting copy/g) ?? []).length, 2, 'no third copy while two run');
    } finally {
      await holder.query('COMMIT');
      await holder.end();
    }
    await waitFor('all tables ok on the parallel leaf', 90_000, async () => {
      const r = await dst.query<{ n: number }>('par', `SELECT count(*)::int AS n FROM londiste.get_table_list('q') WHERE local AND merge_state = 'ok'`);
      return r[0]?.n === 4 ? true : undefined;
    }, () => w.output());
    await waitCaughtUp(src, 'db', dst, 'par', 'q', 'l3', 60_000, () => w.output());
    for (const t of ['user_info', 'user_session', 'user_login_rec', 'user_logout_rec']) {
      const a = await tableDigest(src, 'db', `SELECT * FROM digoal_01.${t}`);
      assert.deepEqual(await tableDigest(dst, 'par', `SELECT * FROM digoal_01.${t}`), a, `${t} differs after parallel copies`);
    }
  });

  it('copies into tables that other tables reference by foreign key', async () => {
    await dst.createDatabase('fk');
    await dst.withClient('fk', async (c) => {
      await createSeedSchema(c, { users: 0, keyedLogs: true });
      // the target has foreign keys the source lacks: the copy must not trip over them
      await c.query('ALTER TABLE digoal_01.user_session ADD CONSTRAINT fk_user FOREIGN KEY (userid) REFERENCES digoal_01.user_info (userid)');
      await c.query('ALTER TABLE digoal_01.user_login_rec ADD CONSTRAINT fk_login FOREIGN KEY (userid) REFERENCES digoal_01.user_info (userid)');
    });
    const leaf4 = jobs.write('l4', { db: dst.connectionString('fk'), queue_name: 'q', loop_delay: '200ms', parallel_copies: '2' });
    ok(await runLondiste([leaf4, 'create-leaf', 'l4', dst.connectionString('fk'), `--provider=${src.connectionString('db')}`]), 'create-leaf 4');
    ok(await runLondiste([leaf4, 'add-table', '--all']), 'add-table leaf 4');
    const w = startWorker(leaf4);
    workers.push(w);
    ok(await runLondiste([leaf4, 'wait-sync', '--wait-timeout=90']), 'wait-sync');
    await waitCaughtUp(src, 'db', dst, 'fk', 'q', 'l4', 60_000, () => w.output());
    for (const t of ['user_info', 'user_session']) {
      const a = await tableDigest(src, 'db', `SELECT * FROM digoal_01.${t}`);
      assert.deepEqual(await tableDigest(dst, 'fk', `SELECT * FROM digoal_01.${t}`), a, `${t} differs`);
    }
    const fks = await dst.query<{ n: number }>('fk', `SELECT count(*)::int AS n FROM pg_constraint WHERE conname IN ('fk_user', 'fk_login')`);
    assert.equal(fks[0]?.n, 2, 'the foreign keys are still there');
  });
});
