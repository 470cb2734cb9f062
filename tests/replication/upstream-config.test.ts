// Upstream's configuration files used as they are (docs/londiste.md "Upstream's .ini job files"):
// the seed's job files written as upstream .ini ([londiste3], %(job_name)s, a dropped key), the
// nodes set up with them, pgqd started on a pgqd.ini, the root job run by londisted from an .ini
// in its jobs_dir, the leaf job run by `londiste dst.ini worker` and driven with upstream's -r
// (reload, unchanged and changed file) and -s (stop) through its pidfile; -d refused. The data
// checks are checksums of the table on both sides after each step.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startCluster, testVersions, type PgCluster } from '@skytools/harness';
import { londisteBin, ok, runLondiste } from '../cli/run-londiste.js';
import { londistedBin, pgqdBin, readTextFile, runScript, spawnDaemon, tail, type Daemon } from './daemon-env.js';
import { tableDigest, waitCaughtUp, waitFor } from './replication-env.js';

const major = testVersions().at(-1) ?? 15;

describe(`upstream .ini files in use, PostgreSQL ${major}`, () => {
  let cluster: PgCluster;
  const dir = mkdtempSync(join(tmpdir(), 'skytools-ini-'));
  const jobsDir = join(dir, 'jobs.d');
  const logDir = join(dir, 'log');
  const pidDir = join(dir, 'pid');
  let srcIni = '';
  let dstIni = '';
  let pgqd: Daemon | undefined;
  let londisted: Daemon | undefined;
  let worker: Daemon | undefined;
  const diag = (): string => [pgqd, londisted, worker].map((d) => tail(d?.output() ?? '', 15)).join('\n----\n');

  const dstIniText = (loopDelay: string): string =>
    `[londiste3]\njob_name = dst_ini\ndb = ${cluster.connectionString('dst_ini')}\nqueue_name = replika\n` +
    `logfile = ${logDir}/%(job_name)s.log\npidfile = ${pidDir}/%(job_name)s.pid\nloop_delay = ${loopDelay}\n`;

  before(async () => {
    cluster = await startCluster(major);
    mkdirSync(jobsDir);
    mkdirSync(logDir);
    mkdirSync(pidDir);
    await cluster.createDatabase('src_ini');
    await cluster.createDatabase('dst_ini');
    for (const db of ['src_ini', 'dst_ini']) {
      await cluster.query(db, `CREATE TABLE public.acct (id int PRIMARY KEY, owner text, balance numeric(12,2))`);
    }
    await cluster.query('src_ini', `INSERT INTO public.acct SELECT g, 'owner ' || g, g * 1.5 FROM generate_series(1, 2000) g`);
    srcIni = join(jobsDir, 'src_ini.ini');
    writeFileSync(
      srcIni,
      `[DEFAULT]\nbase = ${dir}\n\n[londiste3]\ndb = ${cluster.connectionString('src_ini')}\nqueue_name = replika\n` +
        `logfile = %(base)s/log/%(job_name)s.log\npidfile = %(base)s/pid/%(job_name)s.pid\nuse_skylog = 0\n`,
    );
    dstIni = join(dir, 'dst_ini.ini');
    writeFileSync(dstIni, dstIniText('0.2'));
    writeFileSync(
      join(dir, 'pgqd.ini'),
      `[pgqd]\nbase_connstr = ${cluster.connectionString('postgres').replace(/\s*dbname=\S+/, '')}\ndatabase_list = src_ini\n` +
        `logfile = ${logDir}/pgqd.log\npidfile = ${pidDir}/pgqd.pid\nsyslog = 1\nticker_period = 0.1\n`,
    );
    writeFileSync(join(dir, 'londisted.yaml'), `jobs_dir: jobs.d\npidfile: ${pidDir}/londisted.pid\n`);
  });
  after(async () => {
    for (const d of [worker, londisted, pgqd]) await d?.stop();
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('sets up root and leaf from .ini job files and replicates through pgqd.ini, londisted and a foreground worker', async () => {
    const root = ok(await runLondiste([srcIni, 'create-root', 'src_ini']), 'create-root');
    assert.match(root.stderr, /use_skylog has no effect here: logs go to logfile or stderr.*; remove it from the file to silence this/, 'the dropped key is warned about');
    ok(await runLondiste([dstIni, 'create-leaf', 'dst_ini', cluster.connectionString('dst_ini'), `--provider=${cluster.connectionString('src_ini')}`]), 'create-leaf');
    ok(await runLondiste([srcIni, 'add-table', 'public.acct']), 'add-table on the root');
    ok(await runLondiste([dstIni, 'add-table', 'public.acct']), 'add-table on the leaf');

    const refused = await runScript(pgqdBin(), ['-d', join(dir, 'pgqd.ini')]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /does not detach itself \(-d\)/);
    pgqd = spawnDaemon(pgqdBin(), [join(dir, 'pgqd.ini')]);
    londisted = spawnDaemon(londistedBin(), [join(dir, 'londisted.yaml')]);
    worker = spawnDaemon(londisteBin(), [dstIni, 'worker']);
    await waitFor('pgqd writes its log where pgqd.ini says', 20_000, async () => Promise.resolve(readTextFile(join(logDir, 'pgqd.log')).includes('syslog has no effect') ? true : undefined), diag);

    await cluster.query('src_ini', `UPDATE public.acct SET balance = balance + 1 WHERE id % 3 = 0`);
    await cluster.query('src_ini', `DELETE FROM public.acct WHERE id > 1990`);
    await waitFor('acct copied and ok on the leaf', 60_000, async () => {
      const r = await cluster.query<{ s: string }>('dst_ini', `SELECT merge_state AS s FROM londiste.get_table_list('replika') WHERE table_name = 'public.acct'`);
      return r[0]?.s === 'ok' ? true : undefined;
    }, diag);
    await waitCaughtUp(cluster, 'src_ini', cluster, 'dst_ini', 'replika', 'dst_ini', 60_000, diag);
    const a = await tableDigest(cluster, 'src_ini', 'SELECT * FROM public.acct');
    assert.equal(a.rows, 1990);
    assert.deepEqual(await tableDigest(cluster, 'dst_ini', 'SELECT * FROM public.acct'), a);
    assert.ok(existsSync(join(pidDir, 'dst_ini.pid')), 'the worker wrote the pidfile its .ini names');
    // the root job's line comes from its own start, which nothing above waits for (the leaf copies
    // from the root's database, not through its worker): on a slow machine it may still be on its way
    await waitFor('londisted to start the .ini job of its jobs_dir', 20_000, async () => Promise.resolve(/Job src_ini started/.test(londisted?.output() ?? '') ? true : undefined), diag);
    assert.match(londisted.output(), /Job src_ini started/, 'londisted runs the .ini job of its jobs_dir');
    assert.match(readTextFile(join(logDir, 'dst_ini.log')), /Job dst_ini started/, 'the worker logs where %(job_name)s points');
  });

  it('reloads the worker with -r (unchanged, then changed file) and stops it with -s, replicating throughout', async () => {
    ok(await runLondiste([dstIni, '-r']), '-r');
    await waitFor('reload of an unchanged file', 20_000, async () => Promise.resolve(/reload: the job file is unchanged/.test(worker?.output() ?? '') ? true : undefined), diag);
    writeFileSync(dstIni, dstIniText('0.3'));
    ok(await runLondiste([dstIni, '-r']), '-r after a change');
    await waitFor('the worker restarted on the changed file', 20_000, async () => Promise.resolve(/restarting the worker/.test(worker?.output() ?? '') ? true : undefined), diag);
    await cluster.query('src_ini', `INSERT INTO public.acct SELECT g, 'late ' || g, 0 FROM generate_series(5001, 5100) g`);
    await waitCaughtUp(cluster, 'src_ini', cluster, 'dst_ini', 'replika', 'dst_ini', 60_000, diag);
    const a = await tableDigest(cluster, 'src_ini', 'SELECT * FROM public.acct');
    assert.equal(a.rows, 2090);
    assert.deepEqual(await tableDigest(cluster, 'dst_ini', 'SELECT * FROM public.acct'), a);

    const d = await runLondiste([dstIni, '-d', 'worker']);
    assert.equal(d.code, 1);
    assert.match(d.stderr, /-d: londiste does not detach itself/);
    ok(await runLondiste([dstIni, '-s']), '-s');
    const exit = await worker?.exited;
    assert.deepEqual(exit, { code: 0, signal: null }, diag());
    assert.ok(!existsSync(join(pidDir, 'dst_ini.pid')), 'the pidfile is gone after a clean stop');
  });
});
