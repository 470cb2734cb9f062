/**
 * Bulk apply (docs/architecture.md, "Performance targets"): one transaction updating every row of user_info (200,000 events), and
 * of a wider 1,000,000-row table: seconds from the source commit until the target has the new
 * rows, with our replication and with native logical replication between the same two clusters
 * in the same run (each measured while the other is stopped). And the drain rate of a backlog:
 * the worker stopped during the seed's login/logout load, then timed until caught up.
 */
import { seedPgbenchScript, TcpProxy } from '@skytools/harness';
import type { Benchmark, BenchOptions, BenchResult, Figure } from './result.js';
import { plainFigure, ratioFigure, speedupFigure } from './result.js';
import { runPgbench } from './pgbench.js';
import { peakRssMb, resetPeakRss } from './proc-stats.js';
import { NativeReplica, Rig, SEED_TABLES, until } from './replication-rig.js';
import { UpstreamReplica, upstreamMissing } from './upstream-replica.js';

/** One way of the slower link of the second drain (a round trip is twice this). */
const LINK_DELAY_MS = 10;

const WIDE = `(id bigint PRIMARY KEY, a int, b bigint, c numeric, d text, e text, f timestamptz, g date, h boolean, i double precision, run int)`;

interface Case {
  label: string;
  table: string;
  rows: number;
  /** The statement changing every row; $1 is a marker the target is polled for. */
  update: string;
  /**
   * Whether the row of the highest key carries marker $1. One index lookup: a count over the
   * table every 50 ms would take CPU from the replication it is timing (the source
   * transaction is applied as one transaction by both, so one row shows when all are there).
   */
  probe: string;
  /** Rows of the target carrying marker $1, checked once the probe says done. */
  count: string;
}

/** Every row must carry the marker once the probe has seen the last one. */
async function expectRows(rig: Rig, db: string, c: Case, marker: string | number): Promise<void> {
  const r = await rig.dst.query<{ n: number }>(db, c.count, [marker]);
  if (r[0]?.n !== c.rows) throw new Error(`${c.table} in ${db}: ${String(r[0]?.n)} rows carry the marker, expected ${c.rows}`);
}

export function bulkApply(name: string, srcMajor: number, dstMajor: number): Benchmark {
  return {
    name,
    description: `one-transaction UPDATE of every row, PostgreSQL ${srcMajor} -> ${dstMajor}: commit-to-applied time, ours vs native logical replication; backlog drain rate`,
    async run(opts: BenchOptions): Promise<BenchResult> {
      const users = opts.quick ? 20_000 : 200_000;
      const wideRows = opts.quick ? 40_000 : 1_000_000;
      const drainSeconds = opts.quick ? 4 : 30;
      const rig = await Rig.start({ srcMajor, dstMajor, users, tickerPeriod: '100ms' });
      let upstream: UpstreamReplica | undefined;
      try {
        await rig.src.query(rig.srcDb, `SELECT pgq.set_queue_config('replika', 'ticker_max_lag', '100 milliseconds')`);
        const createWide = `CREATE TABLE digoal_01.wide ${WIDE}`;
        await rig.src.query(rig.srcDb, createWide);
        await rig.src.query(rig.srcDb, `INSERT INTO digoal_01.wide SELECT g, g, g * 1000, g / 7.0, 'text ' || g, md5(g::text), now(), current_date, g % 2 = 0, g / 3.0, 0 FROM generate_series(1, $1) g`, [wideRows]);
        await rig.src.query(rig.srcDb, 'VACUUM ANALYZE digoal_01.wide');
        await rig.dst.query(rig.leafDb, createWide);
        opts.log(`source: ${users} users, wide table of ${wideRows} rows`);
        const oursCopy = await rig.addTables([...SEED_TABLES, 'wide']);
        opts.log(`ours: tables copied and in sync in ${oursCopy.toFixed(1)}s`);
        const { replica: native, syncSeconds } = await NativeReplica.create(rig, 'native', [...SEED_TABLES, 'wide'], (dst, db) => dst.query(db, createWide).then(() => undefined));
        opts.log(`native: subscription ready in ${syncSeconds.toFixed(1)}s`);
        // upstream Londiste, a second anchor where its packages are installed; its worker runs only while measured
        const upMissing = upstreamMissing(dstMajor);
        let upSync = NaN;
        if (upMissing === undefined) {
          const made = await UpstreamReplica.create(rig, 'upstream', [...SEED_TABLES, 'wide'], (dst, db) => dst.query(db, createWide).then(() => undefined));
          upstream = made.replica;
          upSync = made.syncSeconds;
          await upstream.stop();
          opts.log(`upstream Londiste: tables copied and in sync in ${upSync.toFixed(1)}s`);
        } else {
          opts.log(`upstream Londiste not measured: ${upMissing}`);
        }

        const cases: Case[] = [
          { label: `UPDATE of ${users} user_info rows`, table: 'user_info', rows: users,
            update: `UPDATE digoal_01.user_info SET mod_time = $1`,
            probe: `SELECT mod_time = $1 AS done FROM digoal_01.user_info WHERE userid = (SELECT max(userid) FROM digoal_01.user_info)`,
            count: `SELECT count(*)::int AS n FROM digoal_01.user_info WHERE mod_time = $1` },
          { label: `UPDATE of ${wideRows} rows of an 11-column table`, table: 'wide', rows: wideRows,
            update: `UPDATE digoal_01.wide SET run = $1, i = i + 1`,
            probe: `SELECT run = $1 AS done FROM digoal_01.wide WHERE id = (SELECT max(id) FROM digoal_01.wide)`,
            count: `SELECT count(*)::int AS n FROM digoal_01.wide WHERE run = $1` },
        ];
        const figures: Figure[] = [];
        let marker = 0;
        for (const c of cases) {
          const value = (m: number): string | number => (c.table === 'user_info' ? `2030-01-01 00:00:${String(m).padStart(2, '0')}` : m);
          // ours, with the native subscription stopped
          await native.enable(false);
          rig.startWorker();
          await rig.waitCaughtUp();
          // the catch-up (the anchors' events of the case before, in merged batches)
          // is not the one batch this case measures: its peak is reported apart
          const catchUpPid = rig.pids.worker;
          const catchUpPeak = catchUpPid === undefined ? NaN : peakRssMb(catchUpPid);
          const peakFromHere = catchUpPid !== undefined && resetPeakRss(catchUpPid);
          marker += 1;
          let v = value(marker);
          // the probe's connection is opened first and kept: a new one per probe would fork a backend
          // on the target being timed
          const ours = await rig.dst.withClient(rig.leafDb, async (probe) => {
            await rig.src.query(rig.srcDb, c.update, [v]);
            return until(`${c.table} applied by ours`, 1_800_000, async () => (await probe.query<{ done: boolean }>(c.probe, [v])).rows[0]?.done === true);
          });
          await expectRows(rig, rig.leafDb, c, v);
          const workerPid = rig.pids.worker;
          const peak = workerPid === undefined ? NaN : peakRssMb(workerPid);
          opts.log(`${c.label}: ours ${ours.toFixed(2)}s, worker peak RSS ${peak.toFixed(0)} MB${peakFromHere ? '' : ' (since its start: the kernel refused to reset the peak)'}; ${catchUpPeak.toFixed(0)} MB while it caught up before`);
          // native, with our worker stopped
          await rig.stopWorker();
          await native.enable(true);
          await native.waitCaughtUp();
          marker += 1;
          v = value(marker);
          // the probe's connection is opened first and kept: a new one per probe would fork a backend
          // on the target being timed
          const nat = await rig.dst.withClient(native.db, async (probe) => {
            await rig.src.query(rig.srcDb, c.update, [v]);
            return until(`${c.table} applied by native replication`, 1_800_000, async () => (await probe.query<{ done: boolean }>(c.probe, [v])).rows[0]?.done === true);
          });
          await expectRows(rig, native.db, c, v);
          opts.log(`${c.label}: native ${nat.toFixed(2)}s`);
          figures.push(plainFigure(`${c.label}: native logical replication`, nat, 's'));
          figures.push(speedupFigure(`${c.label}: ours`, ours, 's', 'native', nat, '>= 2', '>= 3'));
          if (upstream !== undefined) {
            // upstream Londiste, with the native subscription stopped again
            await native.enable(false);
            upstream.start();
            await upstream.waitCaughtUp();
            marker += 1;
            v = value(marker);
            const db = upstream.db;
            const up = await rig.dst.withClient(db, async (probe) => {
              await rig.src.query(rig.srcDb, c.update, [v]);
              return until(`${c.table} applied by upstream Londiste`, 3_600_000, async () => (await probe.query<{ done: boolean }>(c.probe, [v])).rows[0]?.done === true);
            });
            await expectRows(rig, db, c, v);
            await upstream.stop();
            opts.log(`${c.label}: upstream Londiste ${up.toFixed(2)}s`);
            figures.push(plainFigure(`${c.label}: upstream Londiste`, up, 's'));
            figures.push(speedupFigure(`${c.label}: ours vs upstream Londiste`, ours, 's', 'upstream Londiste', up));
          }
          figures.push(plainFigure(`${c.label}: ours, events applied per second`, c.rows / ours, 'events/s'));
          // the peak was reset once the worker had caught up: the most it held from then on (what
          // its heap kept from the catch-up included)
          figures.push(plainFigure(`${c.label}: worker peak RSS (one batch of ${c.rows} events)`, peak, 'MB', '<= 200', '<= 100'));
          figures.push(plainFigure(`${c.label}: worker peak RSS catching up before it (merged batches)`, catchUpPeak, 'MB'));
        }

        // backlog: the worker stopped during the login/logout load
        await native.enable(false);
        rig.startWorker();
        await rig.waitCaughtUp();
        await rig.stopWorker();
        if (upstream !== undefined) {
          // upstream starts from the same place: the backlog of both is the load's events
          upstream.start();
          await upstream.waitCaughtUp();
          await upstream.stop();
        }
        const before = await rig.eventSeq();
        const load = await runPgbench(rig.src, rig.srcDb, seedPgbenchScript('digoal_01', users), ['-c', '4', '-j', '2', '-T', String(drainSeconds), '-M', 'prepared']);
        const backlog = (await rig.eventSeq()) - before;
        opts.log(`backlog: ${backlog} events from ${drainSeconds}s of load at ${load.tps.toFixed(0)} tps`);
        rig.startWorker();
        const drain = await rig.waitCaughtUp();
        const rate = backlog / drain;
        opts.log(`backlog drained in ${drain.toFixed(2)}s: ${rate.toFixed(0)} events/s`);
        figures.push(plainFigure('backlog drain rate (login/logout events)', rate, 'events/s', '>= 100000', '>= 150000'));
        if (upstream !== undefined) {
          await rig.stopWorker();
          upstream.start();
          const upDrain = await upstream.waitCaughtUp();
          await upstream.stop();
          opts.log(`backlog drained by upstream Londiste in ${upDrain.toFixed(2)}s: ${(backlog / upDrain).toFixed(0)} events/s`);
          figures.push(plainFigure('backlog drain rate, upstream Londiste', backlog / upDrain, 'events/s'));
          figures.push(ratioFigure('backlog drain rate: ours vs upstream Londiste', rate, 'events/s', 'upstream Londiste', backlog / upDrain));
        }
        // the same backlog over a slower link: the worker's provider connection through a proxy
        // delaying every chunk LINK_DELAY_MS each way, with and without the read-ahead
        await rig.stopWorker();
        const proxy = await TcpProxy.start('127.0.0.1', rig.src.port);
        const linked: number[] = [];
        try {
          proxy.delay(LINK_DELAY_MS);
          for (const readAhead of [true, false]) {
            await rig.reconfigureLeaf({ read_ahead: String(readAhead) }, proxy.port);
            const seq0 = await rig.eventSeq();
            await runPgbench(rig.src, rig.srcDb, seedPgbenchScript('digoal_01', users), ['-c', '4', '-j', '2', '-T', String(drainSeconds), '-M', 'prepared']);
            const events = (await rig.eventSeq()) - seq0;
            rig.startWorker();
            const seconds = await rig.waitCaughtUp();
            await rig.stopWorker();
            linked.push(events / seconds);
            opts.log(`backlog of ${events} events over a ${2 * LINK_DELAY_MS} ms round trip, read_ahead ${String(readAhead)}: ${seconds.toFixed(2)}s, ${(events / seconds).toFixed(0)} events/s`);
          }
        } finally {
          await proxy.stop();
          await rig.reconfigureLeaf({});
        }
        const [withAhead = NaN, without = NaN] = linked;
        figures.push(plainFigure(`backlog drain rate over a ${2 * LINK_DELAY_MS} ms round trip to the provider`, withAhead, 'events/s'));
        figures.push(ratioFigure(`backlog drain rate over a ${2 * LINK_DELAY_MS} ms round trip: read_ahead on vs off`, withAhead, 'events/s', 'read_ahead false', without));
        return {
          name,
          description: this.description,
          figures,
          notes: [
            `source PostgreSQL ${rig.src.serverVersion}, target PostgreSQL ${rig.dst.serverVersion}; ours: pgqd ticker_period 100ms, queue ticker_max_lag 100ms; ratio = native time / our time`,
            `initial sync of the four seed tables and the wide table: ours ${oursCopy.toFixed(1)}s, native ${syncSeconds.toFixed(1)}s (the initial-copy benchmark measures this properly)`,
            `backlog: ${backlog} events (${drainSeconds}s of pgbench -c 4 -j 2 at ${load.tps.toFixed(0)} tps) applied in ${drain.toFixed(2)}s`,
            `round trip to the provider: the leaf's provider connection through a TCP proxy on this machine delaying every chunk ${LINK_DELAY_MS} ms each way (no bandwidth limit); each backlog made by ${drainSeconds}s of the same load`,
            upstream === undefined
              ? `upstream Londiste not measured: ${upMissing ?? ''}`
              : `upstream Londiste: Debian's python3-londiste worker on a leaf with upstream's extensions in a third target database, reading the same root; initial sync ${upSync.toFixed(1)}s; each figure measured with the others stopped`,
          ],
        };
      } finally {
        await upstream?.stop();
        await rig.stop();
      }
    },
  };
}
