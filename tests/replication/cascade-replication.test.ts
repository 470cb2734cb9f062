// Replication through a branch, TRUNCATE, rows crossing a --where boundary, a worker killed
// with SIGKILL in the middle of a load, and londisted reloading its jobs directory: after each,
// the targets equal the source.
//
// The cascade (root, branch, leaf under the branch, filtered leaf under the root), its tables,
// ticker and one worker per node are set up in `before` and shared. Every test makes its own
// changes and compares every target with the whole source, so it does not rely on the data of
// earlier tests; a test that replaces a worker or moves a node leaves the cascade running.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createSeedSchema, repoRoot, startCluster, testVersions, type PgCluster } from '@skytools/harness';
import { jobDir, ok, runLondiste } from '../cli/run-londiste.js';
import { startTicker, startWorker, tableDigest, waitCaughtUp, waitFor, type RunningWorker } from './replication-env.js';

const versions = testVersions();
const srcMajor = versions[0] ?? 15;
const dstMajor = versions[versions.length - 1] ?? 15;

describe(`cascade replication, root on PostgreSQL ${srcMajor}, branch and leaves on ${dstMajor}`, () => {
  let src: PgCluster;
  let dst: PgCluster;
  const jobs = jobDir();
  /** The running worker of each node, by node key (root, branch, leaf, part). */
  const workers = new Map<string, RunningWorker>();
  let ticker: { stop: () => Promise<void> } | undefined;
  const files: Record<string, string> = {};
  const diag = (): string => [...workers].map(([n, w]) => `[${n}]\n${w.output().split('\n').slice(-12).join('\n')}`).join('\n----\n');

  before(async () => {
    [src, dst] = await Promise.all([startCluster(srcMajor), startCluster(dstMajor)]);
    await src.createDatabase('db');
    for (const d of ['branch', 'leaf', 'part']) await dst.createDatabase(d);
    await src.withClient('db', (c) => createSeedSchema(c, { users: 2000, keyedLogs: true }));
    for (const d of ['branch', 'leaf']) await dst.withClient(d, (c) => createSeedSchema(c, { users: 0, keyedLogs: true }));
    files['root'] = jobs.write('n_root', { db: src.connectionString('db'), queue_name: 'q', loop_delay: '200ms' });
    files['branch'] = jobs.write('n_branch', { db: dst.connectionString('branch'), queue_name: 'q', loop_delay: '200ms' });
    files['leaf'] = jobs.write('n_leaf', { db: dst.connectionString('leaf'), queue_name: 'q', loop_delay: '200ms' });
    files['part'] = jobs.write('n_part', { db: dst.connectionString('part'), queue_name: 'q', loop_delay: '200ms' });
    ok(await runLondiste([files['root'], 'create-root', 'n_root', src.connectionString('db')]), 'create-root');
    await src.query('db', `SELECT pgq.set_queue_config('q', 'ticker_max_lag', '0')`);
    ok(await runLondiste([files['branch'], 'create-branch', 'n_branch', dst.connectionString('branch'), `--provider=${src.connectionString('db')}`]), 'create-branch');
    ok(await runLondiste([files['leaf'], 'create-leaf', 'n_leaf', dst.connectionString('leaf'), `--provider=${dst.connectionString('branch')}`]), 'create-leaf under branch');
    ok(await runLondiste([files['part'], 'create-leaf', 'n_part', dst.connectionString('part'), `--provider=${src.connectionString('db')}`]), 'create-leaf part');
    ok(await runLondiste([files['root'], 'add-table', '--all']), 'add-table root');
    ticker = startTicker(src, 'db', 100);
    for (const n of ['root', 'branch', 'leaf', 'part']) workers.set(n, startWorker(files[n] ?? ''));
    ok(await runLondiste([files['branch'], 'add-table', '--all']), 'add-table branch');
    ok(await runLondiste([files['leaf'], 'add-table', '--all']), 'add-table leaf');
    ok(await runLondiste([files['part'], 'add-table', 'digoal_01.user_info', '--where=userid % 2 = 0 OR qq = 1', '--create']), 'add-table part');
  });
  after(async () => {
    for (const w of workers.values()) await w.stop();
    await ticker?.stop();
    jobs.remove();
    await Promise.all([src.stop(), dst.stop()]);
  });

  const inSync = async (): Promise<void> => {
    for (const [db, n] of [['branch', 4], ['leaf', 4], ['part', 1]] as const) {
      await waitFor(`${db} in sync`, 90_000, async () => {
        const r = await dst.query<{ n: number }>(db, `SELECT count(*)::int AS n FROM londiste.get_table_list('q') WHERE local AND merge_state = 'ok'`);
        return r[0]?.n === n ? true : undefined;
      }, diag);
    }
    await waitCaughtUp(src, 'db', dst, 'branch', 'q', 'n_branch', 60_000, diag);
    // the leaf reads the branch queue: its ticks carry the root's tick ids
    await waitCaughtUp(src, 'db', dst, 'leaf', 'q', 'n_leaf', 60_000, diag);
    await waitCaughtUp(src, 'db', dst, 'part', 'q', 'n_part', 60_000, diag);
  };
  const compare = async (): Promise<void> => {
    for (const t of ['user_info', 'user_session', 'user_login_rec', 'user_logout_rec']) {
      const a = await tableDigest(src, 'db', `SELECT * FROM digoal_01.${t}`);
      for (const db of ['branch', 'leaf']) {
        assert.deepEqual(await tableDigest(dst, db, `SELECT * FROM digoal_01.${t}`), a, `${db}.${t} differs from the source`);
      }
    }
    assert.deepEqual(
      await tableDigest(dst, 'part', `SELECT * FROM digoal_01.user_info`),
      await tableDigest(src, 'db', `SELECT * FROM digoal_01.user_info WHERE userid % 2 = 0 OR qq = 1`),
      'the filtered leaf holds exactly the matching rows',
    );
  };

  it('replicates through a branch to its leaf', async () => {
    await src.query('db', `UPDATE digoal_01.user_info SET mod_time = now() WHERE userid < 500`);
    await src.query('db', `INSERT INTO digoal_01.user_login_rec (userid, login_time, ip) SELECT g, now(), '10.1.1.1' FROM generate_series(1, 300) g`);
    await inSync();
    await compare();
  });

  it('waits for sync and for the root through the CLI, and moves the leaf to another provider', async () => {
    ok(await runLondiste([files['leaf'] ?? '', 'wait-sync', '--wait-timeout=60']), 'wait-sync');
    await src.query('db', `UPDATE digoal_01.user_info SET mod_time = now() WHERE userid BETWEEN 500 AND 600`);
    const w = await runLondiste([files['leaf'] ?? '', 'wait-root', '--wait-timeout=60']);
    ok(w, 'wait-root');
    assert.match(w.stderr, /Got tick \d+, exiting/);
    // right after wait-root the leaf has the root's rows, without any other wait
    assert.deepEqual(
      await tableDigest(dst, 'leaf', `SELECT * FROM digoal_01.user_info`),
      await tableDigest(src, 'db', `SELECT * FROM digoal_01.user_info`),
    );
    ok(await runLondiste([files['leaf'] ?? '', 'change-provider', '--provider=n_root']), 'change-provider');
    const p = await dst.query<{ provider_node: string }>('leaf', `SELECT provider_node FROM pgq_node.get_node_info('q')`);
    assert.equal(p[0]?.provider_node, 'n_root');
    await src.query('db', `UPDATE digoal_01.user_info SET mod_time = now() WHERE userid BETWEEN 600 AND 700`);
    await inSync();
    await compare();
    const subs = await src.query<{ node_name: string }>('db', `SELECT node_name FROM pgq_node.get_subscriber_info('q') ORDER BY 1`);
    assert.deepEqual(subs.map((x) => x.node_name), ['n_branch', 'n_leaf', 'n_part']);
  });

  it('passes a run of location changes down the cascade in their order, rows between them', async () => {
    // one transaction: one tick, so the branch and the leaf get them all in one batch
    await src.withClient('db', async (c) => {
      await c.query('BEGIN');
      await c.query(`SELECT pgq_node.register_location('q', 'x1', 'dbname=x1', false)`);
      await c.query(`SELECT pgq_node.register_location('q', 'x2', 'dbname=x2', false)`);
      await c.query(`UPDATE digoal_01.user_info SET mod_time = now() WHERE userid BETWEEN 700 AND 720`);
      // a NULL location keeps the known one: only in order does x1 end up known and dead
      await c.query(`SELECT pgq_node.register_location('q', 'x1', NULL, true)`);
      await c.query(`SELECT pgq_node.unregister_location('q', 'x2')`);
      await c.query(`SELECT pgq_node.register_location('q', 'x3', 'dbname=x3', false)`);
      await c.query('COMMIT');
    });
    await inSync();
    await compare();
    for (const db of ['branch', 'leaf', 'part']) {
      const r = await dst.query<{ n: string }>(db, `SELECT node_name || ' ' || node_location || CASE WHEN dead THEN ' dead' ELSE '' END AS n FROM pgq_node.node_location WHERE node_name LIKE 'x%' ORDER BY 1`);
      assert.deepEqual(r.map((x) => x.n), ['x1 dbname=x1 dead', 'x3 dbname=x3'], `locations on ${db}`);
    }
    // upstream's worker registers them silently: no line per location in the log
    assert.doesNotMatch(workers.get('leaf')?.output() ?? '', /Location registered/);
  });

  it('replicates TRUNCATE and rows moving across a --where boundary', async () => {
    await src.query('db', `TRUNCATE digoal_01.user_login_rec`);
    await src.query('db', `INSERT INTO digoal_01.user_login_rec (userid, login_time, ip) VALUES (1, now(), '10.0.0.9')`);
    // the same keys deleted and inserted again with other content (10 is in the filtered leaf's
    // condition, 11 is not)
    await src.query('db', `DELETE FROM digoal_01.user_info WHERE userid IN (10, 11)`);
    await src.query('db', `INSERT INTO digoal_01.user_info (userid, engname) VALUES (10, 'even again'), (11, 'odd again')`);
    await src.query('db', `UPDATE digoal_01.user_info SET engname = 'changed' WHERE userid BETWEEN 20 AND 29`);
    // UPDATEs of odd keys moving rows into the filtered leaf's condition (qq = 1), then two out of it
    await src.query('db', `UPDATE digoal_01.user_info SET qq = 1 WHERE userid IN (31, 33, 35)`);
    await inSync();
    assert.equal((await tableDigest(dst, 'part', `SELECT * FROM digoal_01.user_info WHERE userid IN (31, 33, 35)`)).rows, 3, 'rows moved in');
    await src.query('db', `UPDATE digoal_01.user_info SET qq = 0 WHERE userid IN (31, 33)`);
    await inSync();
    await compare();
    assert.equal((await tableDigest(dst, 'leaf', `SELECT * FROM digoal_01.user_login_rec`)).rows, 1);
  });

  it('loses and duplicates nothing when the leaf worker is killed with SIGKILL during a load', async () => {
    // how much of this test's load the leaf has applied
    const applied = async (): Promise<number> => {
      const r = await dst.query<{ n: number }>('leaf', `SELECT count(*)::int AS n FROM digoal_01.user_logout_rec WHERE ip = '10.2.2.2'`);
      return r[0]?.n ?? 0;
    };
    let killing = true;
    // the load runs until the kills are over (and at least 120 rounds), so every kill hits it
    const load = (async () => {
      for (let i = 0; killing || i < 120; i++) {
        await src.query('db', `INSERT INTO digoal_01.user_logout_rec (userid, logout_time, ip) SELECT g, now(), '10.2.2.2' FROM generate_series(1, 20) g`);
        await src.query('db', `UPDATE digoal_01.user_session SET login_count = login_count + 1 WHERE userid % 50 = $1`, [i % 50]);
      }
    })();
    try {
      for (let k = 0; k < 3; k++) {
        // kill a worker in the middle of applying the load: once it has committed more of it
        const from = await applied();
        await waitFor(`the leaf worker applying the load (kill ${k + 1})`, 60_000, async () => ((await applied()) > from ? true : undefined), diag);
        const w = workers.get('leaf');
        w?.proc.kill('SIGKILL');
        await w?.stop();
        workers.set('leaf', startWorker(files['leaf'] ?? ''));
      }
    } finally {
      killing = false;
      await load;
    }
    await inSync();
    await compare();
  });

  it('londisted runs jobs from its directory, adds and removes them on SIGHUP, and stops with 0', async () => {
    // hand the part leaf over from its own worker to londisted, and back at the end
    await workers.get('part')?.stop();
    workers.delete('part');
    const jobsDir = join(jobs.dir, 'londisted.d');
    const cfg = join(jobs.dir, 'londisted.yaml');
    rmSync(jobsDir, { recursive: true, force: true });
    mkdirSync(jobsDir);
    writeFileSync(cfg, `jobs_dir: ${JSON.stringify(jobsDir)}\nlogfile: ${JSON.stringify(join(jobs.dir, 'londisted.log'))}\n`);
    const proc = spawn(process.execPath, [join(repoRoot(), 'packages', 'londiste', 'dist', 'bin', 'londisted.js'), '--config', cfg], { stdio: 'ignore' });
    const exited = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)));
    const log = (): string => {
      try {
        return readFileSync(join(jobs.dir, 'londisted.log'), 'utf8');
      } catch {
        return '';
      }
    };
    let code: number | null = null;
    try {
      // signals before the handlers are installed would kill it
      await waitFor('londisted started', 20_000, async () => (/londisted \S+ starting/.test(log()) ? true : undefined));
      await src.query('db', `UPDATE digoal_01.user_info SET qq = userid WHERE userid % 2 = 0 AND userid < 100`);
      copyFileSync(files['part'] ?? '', join(jobsDir, 'n_part.yaml'));
      proc.kill('SIGHUP');
      await waitCaughtUp(src, 'db', dst, 'part', 'q', 'n_part', 60_000, log);
      await compare();
      // the same job cannot run twice: a second worker for it fails to start
      const dup = await runLondiste([files['part'] ?? '', 'worker']);
      assert.notEqual(dup.code, 0);
      assert.match(dup.stderr, /already running/);
      rmSync(join(jobsDir, 'n_part.yaml'));
      proc.kill('SIGHUP');
      await waitFor('job stopped', 20_000, async () => {
        const r = await dst.query<{ n: number }>('part', `SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'londiste n_part'`);
        return r[0]?.n === 0 ? true : undefined;
      });
    } finally {
      proc.kill('SIGTERM');
      code = await exited;
      workers.set('part', startWorker(files['part'] ?? ''));
    }
    assert.equal(code, 0, 'londisted exits 0 on SIGTERM');
  });
});
