/**
 * pgqd at scale: one daemon serving 100 databases, each with a queue, at ticker_period 1s.
 * Figures: CPU used by pgqd per second of wall time (from /proc), and the worst gap between two
 * consecutive ticks of any database (target: under 2x the period).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { installSchemas } from '@skytools/core';
import { startCluster } from '@skytools/harness';
import type { Benchmark, BenchOptions, BenchResult } from './result.js';
import { plainFigure } from './result.js';
import { cpuSeconds } from './proc-stats.js';
import { binPath } from './replication-rig.js';

export const tickerScale: Benchmark = {
  name: 'ticker-scale',
  description: 'one pgqd serving 100 databases (30 when quick) at ticker_period 1s: CPU per second and worst tick gap',
  async run(opts: BenchOptions): Promise<BenchResult> {
    const dbs = opts.quick ? 30 : 100;
    const seconds = opts.quick ? 8 : 60;
    const cluster = await startCluster(15, { settings: { max_connections: 400 } });
    const dir = mkdtempSync(join(tmpdir(), 'skytools-bench-pgqd-'));
    try {
      await cluster.createDatabase('tmpl');
      await cluster.withClient('tmpl', async (c) => {
        await installSchemas(c, ['pgq']);
        await c.query(`SELECT pgq.create_queue('q')`);
        // a tick at every ticker run, so every gap is measurable
        await c.query(`UPDATE pgq.queue SET queue_ticker_max_lag = '0', queue_ticker_idle_period = '0'`);
      });
      for (let i = 0; i < dbs; i++) await cluster.query('postgres', `CREATE DATABASE db${i} TEMPLATE tmpl`);
      const config = join(dir, 'pgqd.yaml');
      writeFileSync(config, [
        `base_connstr: "host=127.0.0.1 port=${cluster.port} user=${cluster.user}"`,
        'initial_database: postgres',
        'ticker_period: 1s',
        `database_list: [${Array.from({ length: dbs }, (_, i) => `db${i}`).join(', ')}]`,
        `logfile: ${join(dir, 'pgqd.log')}`,
      ].join('\n') + '\n');
      const proc = spawn(process.execPath, [...(process.env['PGQD_NODE_FLAGS'] ?? '').split(' ').filter((x) => x !== ''), binPath('pgqd', 'pgqd'), '--config', config], { stdio: 'ignore' });
      const pid = proc.pid ?? 0;
      // let it connect everywhere, then measure a steady window
      await new Promise((r) => setTimeout(r, opts.quick ? 3000 : 5000));
      const cpu0 = cpuSeconds(pid);
      const t0 = Date.now();
      const since = new Date();
      await new Promise((r) => setTimeout(r, seconds * 1000));
      const cpu1 = cpuSeconds(pid);
      const wall = (Date.now() - t0) / 1000;
      proc.kill('SIGTERM');
      await new Promise((r) => proc.on('exit', r));
      let worst = 0;
      let ticks = 0;
      for (let i = 0; i < dbs; i++) {
        const r = await cluster.query<{ gap: number | null; n: number }>(
          `db${i}`,
          `SELECT max(extract(epoch FROM tick_time - prev))::float8 AS gap, count(*)::int AS n
             FROM (SELECT tick_time, lag(tick_time) OVER (ORDER BY tick_id) AS prev FROM pgq.tick WHERE tick_time >= $1) t`,
          [since],
        );
        worst = Math.max(worst, r[0]?.gap ?? Infinity);
        ticks += r[0]?.n ?? 0;
      }
      const cpuPct = ((cpu1 - cpu0) / wall) * 100;
      opts.log(`${dbs} databases, ${wall.toFixed(0)}s: ${ticks} ticks, pgqd CPU ${cpuPct.toFixed(2)}% of one core, worst tick gap ${worst.toFixed(2)}s`);
      return {
        name: this.name,
        description: this.description,
        figures: [
          plainFigure(`pgqd CPU per second of wall time (${dbs} databases)`, cpuPct, '% of one core', opts.quick ? undefined : '< 5'),
          plainFigure('worst tick gap of any database (period 1s)', worst, 's', '<= 2'),
          plainFigure('ticks per database per second', ticks / dbs / wall, 'ticks/s'),
        ],
        notes: [`${dbs} databases on one PostgreSQL ${cluster.serverVersion} cluster, measured over ${wall.toFixed(0)}s after a warm-up`],
      };
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await cluster.stop();
    }
  },
};
