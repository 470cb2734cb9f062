/**
 * Switchover: a root (source version) and a branch (target version) with default settings, pgqd on
 * both servers and both workers under londisted, the seed's login/logout load (W1) running on the
 * root; `londiste BRANCH.yaml takeover ROOT`. Measured: the write window (the longest time no write
 * commits anywhere, seen by an application that writes to the old root and, once refused, to the
 * new one) and the whole takeover command. Upstream londiste3 was not run here (it needs its
 * Python stack and C extensions); its documented procedure waits for several tick rounds and worker
 * loops of 1 s each, so its window is several seconds with default settings.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { createSeedSchema, seedPgbenchScript, startCluster, type PgCluster } from '@skytools/harness';
import type { Benchmark, BenchOptions, BenchResult } from './result.js';
import { plainFigure } from './result.js';
import { runPgbench } from './pgbench.js';
import { binPath, londiste, QUEUE, sleepMs, stopProcess, yamlOf } from './replication-rig.js';

/** Writes one row after another: to the old root until it refuses, then to the new root. Returns the longest gap between commits. */
async function writer(oldRoot: PgCluster, newRoot: PgCluster, db: string, stop: () => boolean): Promise<{ gap: number; writes: number }> {
  const clients = [new pg.Client(oldRoot.clientConfig(db)), new pg.Client(newRoot.clientConfig(db))];
  await Promise.all(clients.map((c) => c.connect()));
  let on = 0;
  let last = performance.now();
  let gap = 0;
  let writes = 0;
  try {
    while (!stop()) {
      try {
        await clients[on]?.query('INSERT INTO digoal_01.switch_probe (id) VALUES ($1)', [writes + 1]);
        const now = performance.now();
        gap = Math.max(gap, now - last);
        last = now;
        writes += 1;
      } catch {
        // refused: the old root is demoted, or the new one not promoted yet
        on = 1;
      }
      await sleepMs(2);
    }
  } finally {
    await Promise.all(clients.map((c) => c.end()));
  }
  return { gap: gap / 1000, writes };
}

export const switchover: Benchmark = {
  name: 'switchover',
  description: 'root switchover under the login/logout load: write window and total takeover time, default settings',
  async run(opts: BenchOptions): Promise<BenchResult> {
    const users = opts.quick ? 20_000 : 200_000;
    const work = mkdtempSync(join(tmpdir(), 'skytools-bench-switch-'));
    const [src, dst] = await Promise.all([startCluster(13), startCluster(17)]);
    const procs: ReturnType<typeof spawn>[] = [];
    try {
      const db = 'digoal_01';
      await src.createDatabase(db);
      await src.withClient(db, (c) => createSeedSchema(c, { users, keyedLogs: true, functions: true }));
      await dst.createDatabase(db);
      await dst.withClient(db, (c) => createSeedSchema(c, { users: 0, keyedLogs: true, functions: true }));
      for (const c of [src, dst]) await c.query(db, 'CREATE TABLE digoal_01.switch_probe (id int PRIMARY KEY, ts timestamptz NOT NULL DEFAULT clock_timestamp())');
      const jobs = join(work, 'jobs.d');
      mkdirSync(jobs);
      const rootJob = join(jobs, 'root.yaml');
      const branchJob = join(jobs, 'branch.yaml');
      writeFileSync(rootJob, yamlOf({ job_name: 'root', db: src.connectionString(db), queue_name: QUEUE, logfile: join(work, 'root.log') }));
      writeFileSync(branchJob, yamlOf({ job_name: 'branch', db: dst.connectionString(db), queue_name: QUEUE, logfile: join(work, 'branch.log') }));
      await londiste([rootJob, 'create-root', 'root']);
      await londiste([branchJob, 'create-branch', 'branch', `--provider=${src.connectionString(db)}`]);
      await londiste([rootJob, 'add-table', '--all']);
      await londiste([branchJob, 'add-table', '--all']);
      for (const [name, c] of [['src', src], ['dst', dst]] as const) {
        const conf = join(work, `pgqd-${name}.yaml`);
        writeFileSync(conf, yamlOf({ base_connstr: `host=127.0.0.1 port=${c.port} user=${c.user}`, logfile: join(work, `pgqd-${name}.log`) }));
        procs.push(spawn(process.execPath, [binPath('pgqd', 'pgqd'), '--config', conf], { stdio: 'ignore' }));
      }
      const sup = join(work, 'londisted.yaml');
      writeFileSync(sup, yamlOf({ jobs_dir: jobs, logfile: join(work, 'londisted.log') }));
      procs.push(spawn(process.execPath, [binPath('londiste', 'londisted'), '--config', sup], { stdio: 'ignore' }));
      await londiste([branchJob, 'wait-sync']);
      opts.log('   branch in sync; W1 load on the root, then takeover');

      // W1 on the old root: pgbench stops with errors once its writes are refused, as an application would
      const load = runPgbench(src, db, seedPgbenchScript(db, users), ['-c', '4', '-j', '2', '-T', opts.quick ? '6' : '20', '-M', 'prepared']).catch(() => undefined);
      let done = false;
      const w = writer(src, dst, db, () => done);
      await sleepMs(opts.quick ? 2000 : 5000);
      const t0 = performance.now();
      const out = await new Promise<string>((resolve, reject) => {
        const p = spawn(process.execPath, [binPath('londiste', 'londiste'), branchJob, 'takeover', 'root'], { stdio: ['ignore', 'pipe', 'pipe'] });
        let text = '';
        p.stdout.on('data', (d: Buffer) => (text += d.toString()));
        p.stderr.on('data', (d: Buffer) => (text += d.toString()));
        p.on('close', (code) => (code === 0 ? resolve(text) : reject(new Error(`takeover failed:\n${text}`))));
      });
      const total = (performance.now() - t0) / 1000;
      await sleepMs(1000);
      done = true;
      const { gap, writes } = await w;
      await load;
      for (const l of out.trimEnd().split('\n')) opts.log(`   | ${l}`);
      const reported = Number(/writes were refused for ([\d.]+)s/.exec(out)?.[1] ?? NaN);
      const steps = Number(/takeover done in ([\d.]+)s/.exec(out)?.[1] ?? NaN);
      opts.log(`   takeover: ${total.toFixed(2)}s; write window seen by the application ${gap.toFixed(2)}s (takeover says ${String(reported)}s); ${String(writes)} heartbeat writes`);
      return {
        name: this.name,
        description: this.description,
        figures: [
          plainFigure('write window seen by the application', gap, 's', '<= 1'),
          plainFigure('write window reported by takeover', reported, 's', '<= 1'),
          plainFigure('takeover, first step to done', steps, 's', '<= 5'),
          plainFigure('takeover command wall time (with node start-up on the loaded machine)', total, 's'),
        ],
        notes: [
          'the write window is what the application sees: from the old root refusing writes to the new root taking them',
          'upstream londiste3 not run here (Python stack and C extensions): its procedure waits for tick rounds and 1 s worker loops',
        ],
      };
    } finally {
      for (const p of procs) await stopProcess(p);
      await Promise.all([src.stop(), dst.stop()]);
      rmSync(work, { recursive: true, force: true });
    }
  },
};
