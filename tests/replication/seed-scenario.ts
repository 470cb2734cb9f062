// The seed scenario end to end, for any pair of major versions: a root on one major version, two leaves on another, initial
// copy, live changes, a renamed and filtered leaf, rows moving out of and into its condition,
// sequences; the targets end identical to the source (row counts and checksums), and the
// workers stop cleanly on SIGTERM.
//
// The `it`s below are ONE SCENARIO IN ORDER, as the seed runs it: the nodes, workers and tables
// set up by the first step are used by all later ones. Each step names the steps it builds on
// (ScenarioSteps) and fails at once with that name when one of them did not complete.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createSeedSchema, startCluster, type PgCluster } from '@skytools/harness';
import { jobDir, ok, runLondiste } from '../cli/run-londiste.js';
import { ScenarioSteps } from '../support/scenario-steps.js';
import { startTicker, startWorker, tableDigest, waitCaughtUp, waitFor, type RunningWorker } from './replication-env.js';

const TABLES = ['user_info', 'user_session', 'user_login_rec', 'user_logout_rec'];

async function workload(src: PgCluster, rounds: number, newIds: number): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    const uid = 1 + ((i * 37) % 3000);
    await src.query('digoal_01', `INSERT INTO digoal_01.user_login_rec (userid, login_time, ip) VALUES ($1, now(), '10.0.0.1')`, [uid]);
    await src.query('digoal_01', `UPDATE digoal_01.user_session SET logintime = now(), login_count = login_count + 1 WHERE userid = $1`, [uid]);
    await src.query('digoal_01', `INSERT INTO digoal_01.user_logout_rec (userid, logout_time, ip) VALUES ($1, now(), '10.0.0.2')`, [uid]);
    await src.query('digoal_01', `UPDATE digoal_01.user_session SET logouttime = now(), online_interval = online_interval + interval '1 second' WHERE userid = $1`, [uid]);
  }
  // multi-row statements, deletes, NULLs and non-ASCII text
  await src.query('digoal_01', `UPDATE digoal_01.user_info SET mod_time = now(), cnname = '德哥 ' || userid WHERE userid % 7 = 0`);
  await src.query('digoal_01', `DELETE FROM digoal_01.user_info WHERE userid BETWEEN 990 AND 1010`);
  await src.query('digoal_01', `INSERT INTO digoal_01.user_info (userid, engname, cnname) SELECT g, 'new', NULL FROM generate_series($1::int, $1::int + 99) g`, [newIds]);
}

/** The keys of a table, sorted. */
async function keys(c: PgCluster, db: string, table: string): Promise<number[]> {
  const r = await c.query<{ k: number }>(db, `SELECT userid AS k FROM ${table} ORDER BY 1`);
  return r.map((x) => x.k);
}

/** Declares the scenario as one `describe`: a root on `srcMajor`, both leaves on `dstMajor`. */
export function describeSeedScenario(srcMajor: number, dstMajor: number): void {
  describe(`seed replication, root on PostgreSQL ${srcMajor}, leaves on ${dstMajor}`, () => {
    let src: PgCluster;
    let dst: PgCluster;
    const jobs = jobDir();
    const workers: RunningWorker[] = [];
    let ticker: { stop: () => Promise<void> } | undefined;
    let srcJob = '';
    let dst1Job = '';
    let dst2Job = '';
    const diag = (): string => workers.map((w) => w.output().split('\n').slice(-15).join('\n')).join('\n----\n');
    const steps = new ScenarioSteps();

    before(async () => {
      [src, dst] = await Promise.all([startCluster(srcMajor), startCluster(dstMajor)]);
      await src.createDatabase('digoal_01');
      await dst.createDatabase('digoal_01');
      await dst.createDatabase('digoal_02');
      await src.withClient('digoal_01', async (c) => {
        await createSeedSchema(c, { users: 3000, keyedLogs: true });
        await c.query(`INSERT INTO digoal_01.user_login_rec (userid, login_time, ip) SELECT g, now(), ('192.168.1.' || (g % 250))::inet FROM generate_series(1, 500) g`);
      });
      await dst.withClient('digoal_01', async (c) => {
        await createSeedSchema(c, { users: 0, keyedLogs: true });
        // a secondary index: dropped for the copy and rebuilt after it
        await c.query('CREATE INDEX user_login_rec_userid_idx ON digoal_01.user_login_rec (userid)');
      });
      srcJob = jobs.write('src_digoal_01', { db: src.connectionString('digoal_01'), queue_name: 'replika', loop_delay: '200ms' });
      dst1Job = jobs.write('dst1_digoal_01', { db: dst.connectionString('digoal_01'), queue_name: 'replika', loop_delay: '200ms', parallel_copies: '2' });
      dst2Job = jobs.write('dst2_digoal_02', { db: dst.connectionString('digoal_02'), queue_name: 'replika', loop_delay: '200ms' });
    });
    after(async () => {
      for (const w of workers) await w.stop();
      await ticker?.stop();
      jobs.remove();
      await Promise.all([src.stop(), dst.stop()]);
    });

    it('sets up the nodes and tables as the seed does', steps.step('setup', [], async () => {
      ok(await runLondiste([srcJob, 'create-root', 'src_digoal_01', src.connectionString('digoal_01')]), 'create-root');
      await src.query('digoal_01', `SELECT pgq.set_queue_config('replika', 'ticker_max_lag', '0')`);
      ok(await runLondiste([dst1Job, 'create-leaf', 'dst1_digoal_01', dst.connectionString('digoal_01'), `--provider=${src.connectionString('digoal_01')}`]), 'create-leaf 1');
      ok(await runLondiste([dst2Job, 'create-leaf', 'dst2_digoal_02', dst.connectionString('digoal_02'), `--provider=${src.connectionString('digoal_01')}`]), 'create-leaf 2');
      ok(await runLondiste([srcJob, 'add-table', '--all']), 'add-table --all on root');
      ok(await runLondiste([srcJob, 'add-seq', '--all']), 'add-seq --all on root');
      ticker = startTicker(src, 'digoal_01', 100);
      workers.push(startWorker(srcJob), startWorker(dst1Job), startWorker(dst2Job));
      ok(await runLondiste([dst1Job, 'add-table', '--all']), 'add-table --all on leaf 1');
      ok(await runLondiste([dst1Job, 'add-seq', '--all']), 'add-seq --all on leaf 1');
      ok(await runLondiste([dst2Job, 'add-table', 'digoal_01.user_info', '--dest-table=digoal_02.user_info1', '--where=userid < 1000', '--create']), 'add-table renamed 1');
      ok(await runLondiste([dst2Job, 'add-table', 'digoal_01.user_session', '--dest-table=digoal_02.user_session1', '--where=userid < 1000', '--create']), 'add-table renamed 2');
    }));

    it('copies every table and brings it to ok while changes keep coming', steps.step('copy', ['setup'], async () => {
      await workload(src, 40, 5001);
      for (const [c, db, n] of [[dst, 'digoal_01', 4], [dst, 'digoal_02', 2]] as const) {
        await waitFor(`${db}: ${n} tables ok`, 60_000, async () => {
          const r = await c.query<{ n: number }>(db, `SELECT count(*)::int AS n FROM londiste.get_table_list('replika') WHERE local AND merge_state = 'ok'`);
          return r[0]?.n === n ? true : undefined;
        }, diag);
      }
      const idx = await dst.query<{ n: number }>('digoal_01', `SELECT count(*)::int AS n FROM pg_indexes WHERE indexname = 'user_login_rec_userid_idx'`);
      assert.equal(idx[0]?.n, 1, 'the secondary index is back after the copy');
    }));

    it('ends with identical data on both leaves', steps.step('identical', ['copy'], async () => {
      await workload(src, 60, 6001);
      await waitCaughtUp(src, 'digoal_01', dst, 'digoal_01', 'replika', 'dst1_digoal_01', 60_000, diag);
      await waitCaughtUp(src, 'digoal_01', dst, 'digoal_02', 'replika', 'dst2_digoal_02', 60_000, diag);
      for (const t of TABLES) {
        const a = await tableDigest(src, 'digoal_01', `SELECT * FROM digoal_01.${t}`);
        const b = await tableDigest(dst, 'digoal_01', `SELECT * FROM digoal_01.${t}`);
        assert.ok(a.rows > 0, `${t} has rows`);
        assert.deepEqual(b, a, `${t}: leaf 1 has ${b.rows} rows, source ${a.rows}`);
      }
      for (const [t, t1] of [['user_info', 'user_info1'], ['user_session', 'user_session1']]) {
        const a = await tableDigest(src, 'digoal_01', `SELECT * FROM digoal_01.${t} WHERE userid < 1000`);
        const b = await tableDigest(dst, 'digoal_02', `SELECT * FROM digoal_02.${t1}`);
        assert.deepEqual(b, a, `${t1}: leaf 2 has ${b.rows} rows, source has ${a.rows} matching`);
      }
    }));

    it('moves rows out of and into the filtered leaf\'s condition (delete and insert under other keys)', steps.step('moves', ['copy'], async () => {
      // the condition is on the key, and a key UPDATE is refused by the capture trigger: rows
      // cross it by being deleted and inserted under another key, in one transaction
      const moves: [number, number][] = [[5, 20005], [6, 20006], [2995, 0], [2996, -1]];
      const pairs = moves.map(([from, to]) => `(${from}, ${to})`).join(', ');
      const out = [5, 6];
      const into = [-1, 0];
      const touched = moves.flat();
      await waitCaughtUp(src, 'digoal_01', dst, 'digoal_02', 'replika', 'dst2_digoal_02', 60_000, diag);
      const before = { info: await keys(dst, 'digoal_02', 'digoal_02.user_info1'), session: await keys(dst, 'digoal_02', 'digoal_02.user_session1') };
      for (const k of [...before.info, ...before.session]) assert.ok(k < 1000, `leaf 2 holds key ${k} outside its condition`);
      for (const [name, ks] of Object.entries(before)) {
        assert.deepEqual(ks.filter((k) => touched.includes(k)), out, `leaf 2 ${name} before the moves: of the touched keys it holds exactly ${out.join(', ')}`);
      }

      await src.withClient('digoal_01', async (c) => {
        await c.query('BEGIN');
        await c.query(`WITH m(old_id, new_id) AS (VALUES ${pairs}),
            gone AS (DELETE FROM digoal_01.user_info u USING m WHERE u.userid = m.old_id RETURNING m.new_id, u.*)
          INSERT INTO digoal_01.user_info (userid, engname, cnname, occupation, birthday, signname, email, qq, crt_time, mod_time)
          SELECT new_id, 'moved from ' || userid, cnname, occupation, birthday, signname, email, qq, crt_time, now() FROM gone`);
        await c.query(`WITH m(old_id, new_id) AS (VALUES ${pairs}),
            gone AS (DELETE FROM digoal_01.user_session s USING m WHERE s.userid = m.old_id RETURNING m.new_id, s.*)
          INSERT INTO digoal_01.user_session (userid, logintime, login_count, logouttime, online_interval)
          SELECT new_id, now(), login_count + 1000, logouttime, online_interval FROM gone`);
        await c.query('COMMIT');
      });
      for (const t of ['user_info', 'user_session']) {
        assert.deepEqual(await keys(src, 'digoal_01', `(SELECT userid FROM digoal_01.${t} WHERE userid IN (${touched.join(', ')})) x`), [-1, 0, 20005, 20006], `source ${t} after the moves`);
      }

      await waitCaughtUp(src, 'digoal_01', dst, 'digoal_01', 'replika', 'dst1_digoal_01', 60_000, diag);
      await waitCaughtUp(src, 'digoal_01', dst, 'digoal_02', 'replika', 'dst2_digoal_02', 60_000, diag);
      // leaf 2 lost exactly the rows moved out and gained exactly the rows moved in
      const afterKeys = { info: await keys(dst, 'digoal_02', 'digoal_02.user_info1'), session: await keys(dst, 'digoal_02', 'digoal_02.user_session1') };
      for (const name of ['info', 'session'] as const) {
        const b = before[name];
        const a = afterKeys[name];
        assert.deepEqual(b.filter((k) => !a.includes(k)), out, `leaf 2 ${name}: rows lost`);
        assert.deepEqual(a.filter((k) => !b.includes(k)), into, `leaf 2 ${name}: rows gained`);
      }
      for (const [t, t1] of [['user_info', 'user_info1'], ['user_session', 'user_session1']]) {
        // the moved-in rows arrived with their content, and the whole table still equals the filtered source
        assert.deepEqual(
          await tableDigest(dst, 'digoal_02', `SELECT * FROM digoal_02.${t1} WHERE userid IN (${into.join(', ')})`),
          await tableDigest(src, 'digoal_01', `SELECT * FROM digoal_01.${t} WHERE userid IN (${into.join(', ')})`),
          `${t1}: the rows moved in`,
        );
        const a = await tableDigest(src, 'digoal_01', `SELECT * FROM digoal_01.${t} WHERE userid < 1000`);
        assert.deepEqual(await tableDigest(dst, 'digoal_02', `SELECT * FROM digoal_02.${t1}`), a, `${t1} after the moves`);
        // leaf 1 mirrors the source, moved rows included
        const whole = await tableDigest(src, 'digoal_01', `SELECT * FROM digoal_01.${t}`);
        assert.deepEqual(await tableDigest(dst, 'digoal_01', `SELECT * FROM digoal_01.${t}`), whole, `leaf 1 ${t} after the moves`);
        assert.deepEqual(await keys(dst, 'digoal_01', `(SELECT userid FROM digoal_01.${t} WHERE userid IN (${touched.join(', ')})) x`), [-1, 0, 20005, 20006], `leaf 1 ${t}: keys after the moves`);
      }
    }));

    it('keeps sequences ahead of the source', steps.step('sequences', ['setup'], async () => {
      await src.query('digoal_01', `SELECT nextval('digoal_01.user_login_rec_id_seq') FROM generate_series(1, 50)`);
      await src.query('digoal_01', `SELECT * FROM londiste.root_check_seqs('replika')`);
      await waitCaughtUp(src, 'digoal_01', dst, 'digoal_01', 'replika', 'dst1_digoal_01', 60_000, diag);
      const s = await src.query<{ v: string }>('digoal_01', `SELECT last_value::text AS v FROM digoal_01.user_login_rec_id_seq`);
      const d = await dst.query<{ v: string }>('digoal_01', `SELECT last_value::text AS v FROM digoal_01.user_login_rec_id_seq`);
      assert.ok(BigInt(d[0]?.v ?? '0') >= BigInt(s[0]?.v ?? '0'), `target sequence ${d[0]?.v} is not behind the source ${s[0]?.v}`);
    }));

    it('shows the tree with every table ok and stops the workers with exit 0', steps.step('status', ['copy'], async () => {
      const r = await runLondiste([srcJob, 'status']);
      ok(r, 'status');
      assert.match(r.stdout, /src_digoal_01 \(root\)\n {2}\| +Tables: 4\/0\/0\n/);
      assert.match(r.stdout, /\+--dst1_digoal_01 \(leaf\)\n {2}\| +Tables: 4\/0\/0\n/);
      assert.match(r.stdout, /\+--dst2_digoal_02 \(leaf\)\n +Tables: 2\/0\/2\n/);
      const codes = await Promise.all(workers.map((w) => w.stop()));
      workers.length = 0;
      assert.deepEqual(codes, [0, 0, 0]);
    }));
  });
}
