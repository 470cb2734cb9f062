/**
 * Supervisor footprint (docs/architecture.md, "Performance targets"): one londisted hosting many idle leaf jobs, each replicating
 * the seed's tables from one root into a database of its own: resident memory and CPU per second
 * once warmed up.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import pg from 'pg';
import { createSeedSchema, startCluster } from '@skytools/harness';
import type { Benchmark, BenchOptions, BenchResult } from './result.js';
import { plainFigure } from './result.js';
import { cpuPercent, rssMb } from './proc-stats.js';
import { binPath, londiste, QUEUE, SEED_TABLES, sleepMs, stopProcess, until, yamlOf } from './replication-rig.js';

/** Run `fn` over `items`, `width` at a time. */
async function inParallel<T>(items: T[], width: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await fn(item);
    }
  }));
}

export const supervisorFootprint: Benchmark = {
  name: 'supervisor-footprint',
  description: 'one londisted hosting many idle leaf jobs: resident memory and CPU after warm-up',
  async run(opts: BenchOptions): Promise<BenchResult> {
    const jobs = opts.quick ? 8 : 100;
    const measureSeconds = opts.quick ? 5 : 30;
    // the jobs' connections, their copies' and the probe's one per leaf
    const settings = { max_connections: jobs * 3 + 50 };
    const [src, dst] = await Promise.all([startCluster(15, { settings }), startCluster(15, { settings })]);
    // BENCH_LOG_DIR keeps londisted's and the jobs' logs there
    const work = process.env['BENCH_LOG_DIR'] ?? mkdtempSync(join(tmpdir(), 'skytools-bench-sup-'));
    const jobsDir = join(work, 'jobs.d');
    mkdirSync(jobsDir, { recursive: true });
    const procs: ReturnType<typeof spawn>[] = [];
    try {
      await src.createDatabase('digoal_01');
      await src.withClient('digoal_01', (c) => createSeedSchema(c, { users: 1000, keyedLogs: true }));
      const rootJob = join(work, 'root.yaml');
      writeFileSync(rootJob, yamlOf({ job_name: 'root', db: src.connectionString('digoal_01'), queue_name: QUEUE }));
      await londiste([rootJob, 'create-root', 'root', src.connectionString('digoal_01')]);
      await londiste([rootJob, 'add-table', ...SEED_TABLES.map((t) => `digoal_01.${t}`)]);
      // the target databases come from a template holding the empty tables
      await dst.createDatabase('leaf_template');
      await dst.withClient('leaf_template', (c) => createSeedSchema(c, { users: 0, keyedLogs: true }));
      const names = Array.from({ length: jobs }, (_, i) => `leaf${i}`);
      for (const n of names) await dst.query('postgres', `CREATE DATABASE ${n} TEMPLATE leaf_template`);
      await inParallel(names, 4, async (n) => {
        const file = join(jobsDir, `${n}.yaml`);
        writeFileSync(file, yamlOf({ job_name: n, db: dst.connectionString(n), queue_name: QUEUE, logfile: join(work, `${n}.log`), ...(process.env['BENCH_LOG_DIR'] === undefined ? {} : { loglevel: 'debug' }) }));
        await londiste([file, 'create-leaf', n, dst.connectionString(n), `--provider=${src.connectionString('digoal_01')}`]);
        await londiste([file, 'add-table', '--all']);
      });
      opts.log(`${jobs} leaf nodes created`);

      const pgqdConf = join(work, 'pgqd.yaml');
      writeFileSync(pgqdConf, `base_connstr: "host=127.0.0.1 port=${src.port} user=${src.user}"\ndatabase_list: [digoal_01]\nlogfile: "${join(work, 'pgqd.log')}"\n`);
      procs.push(spawn(process.execPath, [binPath('pgqd', 'pgqd'), '--config', pgqdConf], { stdio: 'ignore' }));
      const supConf = join(work, 'londisted.yaml');
      writeFileSync(supConf, yamlOf({ jobs_dir: jobsDir, logfile: join(work, 'londisted.log'), ...(process.env['BENCH_LOG_DIR'] === undefined ? {} : { loglevel: 'debug' }) }));
      // BENCH_WORKER_FLAGS passes node options to londisted (e.g. --cpu-prof)
      const flags = (process.env['BENCH_WORKER_FLAGS'] ?? '').split(' ').filter((f) => f !== '');
      const sup = spawn(process.execPath, [...flags, binPath('londiste', 'londisted'), '--config', supConf], { stdio: 'ignore' });
      procs.push(sup);
      // The probe keeps one connection per leaf and asks only those not in sync yet: a fresh
      // connection per leaf and round (a hundred backends forked every round) took a good part
      // of the two cores from the replication it was timing.
      const probes = new Map<string, pg.Client>();
      for (const n of names) {
        const c = new pg.Client(dst.clientConfig(n));
        await c.connect();
        probes.set(n, c);
      }
      const started = performance.now();
      try {
        await until('every leaf in sync', 600_000, async () => {
          for (const [n, c] of probes) {
            const r = await c.query<{ n: number }>(`SELECT count(*)::int AS n FROM londiste.get_table_list($1) WHERE local AND merge_state = 'ok'`, [QUEUE]);
            if (r.rows[0]?.n !== SEED_TABLES.length) return false;
            await c.end();
            probes.delete(n);
          }
          return true;
        }, 500);
      } finally {
        for (const c of probes.values()) await c.end().catch(() => undefined);
      }
      const syncSeconds = (performance.now() - started) / 1000;
      opts.log(`every job in sync after ${syncSeconds.toFixed(1)}s`);
      // warm-up: let copies' memory settle and idle loops reach their rhythm
      await sleepMs(opts.quick ? 2000 : 15_000);
      const pid = sup.pid ?? 0;
      const cpu = await cpuPercent([pid], measureSeconds * 1000);
      const rss = rssMb(pid);
      // every backend on the root but this query's own and the server's background processes
      const conns = await src.query<{ n: number }>('postgres', `SELECT count(*)::int AS n FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()`);
      const rootConnections = conns[0]?.n ?? NaN;
      opts.log(`londisted with ${jobs} idle jobs: ${rss.toFixed(0)} MB RSS, ${cpu.toFixed(2)}% of one core, ${rootConnections} connections to the root (pgqd's included)`);
      return {
        name: this.name,
        description: this.description,
        figures: [
          plainFigure(`londisted RSS with ${jobs} idle jobs`, rss, 'MB', opts.quick ? undefined : '<= 300'),
          plainFigure(`londisted CPU with ${jobs} idle jobs`, cpu, '% of one core', opts.quick ? undefined : '<= 5'),
          plainFigure('RSS per job', rss / jobs, 'MB'),
          plainFigure(`initial sync of ${jobs} jobs x ${SEED_TABLES.length} tables, londisted started to every table ok`, syncSeconds, 's', opts.quick ? undefined : '<= 30', opts.quick ? undefined : '<= 10'),
          plainFigure(`connections to the root with ${jobs} idle leaf jobs (pgqd's included)`, rootConnections, '', opts.quick ? undefined : '<= 10', opts.quick ? undefined : '<= 2'),
        ],
        notes: [`${jobs} leaf jobs (4 tables each) on PostgreSQL ${dst.serverVersion}, one root on ${src.serverVersion}; pgqd at its default ticker_period; measured over ${measureSeconds}s`],
      };
    } finally {
      for (const p of procs) await stopProcess(p);
      if (process.env['BENCH_LOG_DIR'] === undefined) rmSync(work, { recursive: true, force: true });
      await Promise.all([src.stop(), dst.stop()]);
    }
  },
};
