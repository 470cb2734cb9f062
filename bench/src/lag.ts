/**
 * Lag (docs/architecture.md, "Performance targets"): with default settings (pgqd's and create-root's), a heartbeat row written on
 * the source every 100 ms with clock_timestamp() and polled on the target, while the seed's
 * login/logout load runs; then at a trickle of one transaction a second; then the CPU pgqd and
 * londisted use while nothing changes.
 */
import pg from 'pg';
import { seedPgbenchScript } from '@skytools/harness';
import type { Benchmark, BenchOptions, BenchResult, Figure } from './result.js';
import { plainFigure } from './result.js';
import { runPgbench } from './pgbench.js';
import { cpuPercent } from './proc-stats.js';
import { percentile } from './sample-stats.js';
import { Rig, SEED_TABLES, sleepMs } from './replication-rig.js';
import { UpstreamReplica, upstreamMissing } from './upstream-replica.js';

/**
 * Write a heartbeat every `everyMs` on the source for `seconds`, and watch the target: the lag of
 * a heartbeat is when it became visible there minus when it was written (one clock: same host).
 */
async function heartbeats(rig: Rig, seconds: number, everyMs: number, targetDb = rig.leafDb): Promise<number[]> {
  const writer = new pg.Client(rig.src.clientConfig(rig.srcDb));
  const reader = new pg.Client(rig.dst.clientConfig(targetDb));
  await Promise.all([writer.connect(), reader.connect()]);
  const lags: number[] = [];
  let writing = true;
  try {
    const last = await reader.query<{ id: number | null }>('SELECT max(id)::int AS id FROM digoal_01.heartbeat');
    let seen = last.rows[0]?.id ?? 0;
    const write = (async () => {
      const end = Date.now() + seconds * 1000;
      while (Date.now() < end) {
        const t = Date.now();
        await writer.query('INSERT INTO digoal_01.heartbeat (ts) VALUES (clock_timestamp())');
        await sleepMs(Math.max(0, everyMs - (Date.now() - t)));
      }
      writing = false;
    })();
    const grace = Date.now() + 5000;
    while (writing || Date.now() < grace) {
      const r = await reader.query<{ id: number; ts: number }>(
        'SELECT id, extract(epoch FROM ts)::float8 * 1000 AS ts FROM digoal_01.heartbeat WHERE id > $1 ORDER BY id',
        [seen],
      );
      const now = Date.now();
      for (const row of r.rows) {
        lags.push((now - row.ts) / 1000);
        seen = row.id;
      }
      if (!writing && r.rows.length === 0 && lags.length > 0) break;
      await sleepMs(10);
    }
    await write;
  } finally {
    await Promise.all([writer.end(), reader.end()]);
  }
  return lags.sort((a, b) => a - b);
}

function lagFigures(label: string, lags: number[], judged = true): Figure[] {
  return [
    plainFigure(`${label}: lag p50`, percentile(lags, 50), 's'),
    plainFigure(`${label}: lag p95`, percentile(lags, 95), 's'),
    judged ? plainFigure(`${label}: lag p99`, percentile(lags, 99), 's', '<= 0.5', '<= 0.25') : plainFigure(`${label}: lag p99`, percentile(lags, 99), 's'),
    plainFigure(`${label}: lag max`, lags[lags.length - 1] ?? NaN, 's'),
  ];
}

export const lag: Benchmark = {
  name: 'lag',
  description: 'replication lag with default settings under the login/logout load and at a trickle; idle CPU of pgqd + londisted',
  async run(opts: BenchOptions): Promise<BenchResult> {
    const users = opts.quick ? 20_000 : 200_000;
    const loadSeconds = opts.quick ? 8 : 60;
    const trickleSeconds = opts.quick ? 5 : 30;
    const idleSeconds = opts.quick ? 5 : 30;
    const rig = await Rig.start({ srcMajor: 15, dstMajor: 15, users, supervisor: true });
    try {
      const heartbeat = 'CREATE TABLE digoal_01.heartbeat (id serial PRIMARY KEY, ts timestamptz NOT NULL)';
      await rig.src.query(rig.srcDb, heartbeat);
      await rig.dst.query(rig.leafDb, heartbeat);
      await rig.addTables([...SEED_TABLES, 'heartbeat']);
      await rig.waitCaughtUp();

      const load = runPgbench(rig.src, rig.srcDb, seedPgbenchScript('digoal_01', users), ['-c', '4', '-j', '2', '-T', String(loadSeconds), '-M', 'prepared']);
      const underLoad = await heartbeats(rig, loadSeconds, 100);
      const tps = (await load).tps;
      opts.log(`under load (${tps.toFixed(0)} tps): ${underLoad.length} heartbeats, p99 ${percentile(underLoad, 99).toFixed(3)}s`);
      await rig.waitCaughtUp();
      const trickle = await heartbeats(rig, trickleSeconds, 1000);
      opts.log(`trickle: ${trickle.length} heartbeats, p99 ${percentile(trickle, 99).toFixed(3)}s`);

      await sleepMs(5000);
      const { pgqd, worker } = rig.pids;
      const idle = await cpuPercent([pgqd, worker].filter((p): p is number => p !== undefined), idleSeconds * 1000);
      opts.log(`idle: pgqd + londisted ${idle.toFixed(2)}% of one core`);

      // upstream Londiste at its defaults, reading the same root, with our worker stopped
      const upMissing = upstreamMissing(15);
      const upFigures: Figure[] = [];
      if (upMissing === undefined) {
        const { replica } = await UpstreamReplica.create(rig, 'upstream', [...SEED_TABLES, 'heartbeat'], (dst, db) => dst.query(db, heartbeat).then(() => undefined));
        try {
          await rig.stopWorker();
          await replica.waitCaughtUp();
          const upLoad = runPgbench(rig.src, rig.srcDb, seedPgbenchScript('digoal_01', users), ['-c', '4', '-j', '2', '-T', String(loadSeconds), '-M', 'prepared']);
          const upUnderLoad = await heartbeats(rig, loadSeconds, 100, replica.db);
          const upTps = (await upLoad).tps;
          opts.log(`upstream Londiste under load (${upTps.toFixed(0)} tps): ${upUnderLoad.length} heartbeats, p99 ${percentile(upUnderLoad, 99).toFixed(3)}s`);
          await replica.waitCaughtUp();
          const upTrickle = await heartbeats(rig, trickleSeconds, 1000, replica.db);
          opts.log(`upstream Londiste at a trickle: p99 ${percentile(upTrickle, 99).toFixed(3)}s`);
          upFigures.push(
            ...lagFigures(`upstream Londiste, login/logout load, ${loadSeconds}s`, upUnderLoad, false),
            ...lagFigures('upstream Londiste, trickle, 1 transaction/s', upTrickle, false),
          );
        } finally {
          await replica.stop();
        }
      } else {
        opts.log(`upstream Londiste not measured: ${upMissing}`);
      }
      return {
        name: this.name,
        description: this.description,
        figures: [
          plainFigure('source TPS during the load', tps, 'tps'),
          ...lagFigures(`login/logout load, ${loadSeconds}s`, underLoad),
          ...lagFigures('trickle, 1 transaction/s', trickle),
          plainFigure('idle CPU of pgqd + londisted', idle, '% of one core', '< 2', '< 1'),
          ...upFigures,
        ],
        notes: [
          `defaults: pgqd ticker_period 100ms, queue ticker_max_lag 100ms (set by create-root), worker woken by the tick NOTIFY; PostgreSQL ${rig.src.serverVersion} on both sides`,
          `heartbeat: INSERT of clock_timestamp() every 100 ms on the source, target polled every 10 ms; ${underLoad.length} samples under load, ${trickle.length} at a trickle`,
          upMissing === undefined
            ? "upstream Londiste: Debian's python3-londiste worker at its defaults (loop_delay 1 s) on a leaf with upstream's extensions, the same root and our pgqd; measured after ours, with our worker stopped, under a second run of the same load"
            : `upstream Londiste not measured: ${upMissing}`,
        ],
      };
    } finally {
      await rig.stop();
    }
  },
};
