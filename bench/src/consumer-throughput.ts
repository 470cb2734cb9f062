/**
 * @skytools/pgq for applications (issue 17): how fast events go in with insertEvents (batches of
 * 1000 in one transaction each) and with insertEvent (one event per transaction, as an
 * application writing one row and its event), and how fast a Consumer with a trivial handler
 * drains them (a ticker every 100 ms while they are written, as pgqd would). The anchor is a
 * plain SQL loop over the same batches (next_batch, get_batch_events, finish_batch) on one
 * connection: what the library adds on top of PgQ itself.
 */
import pg from 'pg';
import { installSchemas, pgq as pgqSql } from '@skytools/core';
import { Consumer, insertEvent, insertEvents } from '@skytools/pgq';
import { startCluster, type PgCluster } from '@skytools/harness';
import type { Benchmark, BenchOptions, BenchResult } from './result.js';
import { plainFigure, ratioFigure } from './result.js';
import { BATCH, loadPgBoss, measurePgBoss, PG_BOSS_VERSION, WORKERS } from './pg-boss-anchor.js';

async function produce(cluster: PgCluster, db: string, queue: string, total: number): Promise<number> {
  const c = new pg.Client({ connectionString: cluster.url(db) });
  await c.connect();
  const ticker = new pg.Client({ connectionString: cluster.url(db) });
  await ticker.connect();
  let ticking = true;
  const ticks = (async () => {
    while (ticking) {
      await pgqSql.tickAll(ticker);
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  try {
    const t0 = performance.now();
    for (let done = 0; done < total; done += 1000) {
      await c.query('BEGIN');
      await insertEvents(c, queue, Array.from({ length: Math.min(1000, total - done) }, (_, i) => ({ type: 'order.created', data: { id: done + i, total: 99.5, note: 'bench' } })));
      await c.query('COMMIT');
    }
    return total / ((performance.now() - t0) / 1000);
  } finally {
    ticking = false;
    await ticks;
    // the last events into a tick of their own
    await pgqSql.tickNow(ticker, queue);
    await Promise.all([c.end(), ticker.end()]);
  }
}

/** Events/s through a Consumer whose handler only counts. */
async function consume(cluster: PgCluster, db: string, queue: string, name: string, total: number): Promise<number> {
  let seen = 0;
  const stop = new AbortController();
  const consumer = new Consumer({
    db: cluster.connectionString(db),
    queue,
    name,
    mergeEvents: 20_000,
    handler: async (batch) => {
      seen += batch.events.length;
      if (seen >= total) stop.abort();
      await Promise.resolve();
    },
  });
  const t0 = performance.now();
  await consumer.run(stop.signal);
  return seen / ((performance.now() - t0) / 1000);
}

/** The same batches read and finished with plain SQL: PgQ's own cost. */
async function rawSql(cluster: PgCluster, db: string, queue: string, name: string, total: number): Promise<number> {
  const c = new pg.Client({ connectionString: cluster.url(db) });
  await c.connect();
  try {
    let seen = 0;
    const t0 = performance.now();
    while (seen < total) {
      const b = await c.query<{ id: string | null }>('SELECT batch_id::text AS id FROM pgq.next_batch_merged($1, $2, 20000)', [queue, name]);
      const id = b.rows[0]?.id ?? null;
      if (id === null) break;
      seen += (await c.query('SELECT * FROM pgq.get_batch_events($1::int8)', [id])).rows.length;
      await c.query('SELECT pgq.finish_batch($1::int8)', [id]);
    }
    return seen / ((performance.now() - t0) / 1000);
  } finally {
    await c.end();
  }
}

export const consumerThroughput: Benchmark = {
  name: 'consumer-throughput',
  description: '@skytools/pgq: insertEvents/insertEvent rates and a trivial Consumer draining a backlog, vs the same batches read with plain SQL',
  async run(opts: BenchOptions): Promise<BenchResult> {
    const total = opts.quick ? 50_000 : 500_000;
    const singles = opts.quick ? 2_000 : 10_000;
    const cluster = await startCluster(15);
    try {
      await cluster.createDatabase('cq');
      await cluster.withClient('cq', async (c) => {
        await installSchemas(c, ['pgq']);
        await pgqSql.createQueue(c, 'orders');
        await pgqSql.createQueue(c, 'singles');
        await pgqSql.registerConsumer(c, 'orders', 'lib');
        await pgqSql.registerConsumer(c, 'orders', 'raw');
      });
      const inRate = await produce(cluster, 'cq', 'orders', total);
      opts.log(`insertEvents: ${total} events at ${inRate.toFixed(0)}/s`);
      const single = await cluster.withClient('cq', async (c) => {
        const t0 = performance.now();
        for (let i = 0; i < singles; i++) {
          await c.query('BEGIN');
          await insertEvent(c, 'singles', 'order.created', { id: i });
          await c.query('COMMIT');
        }
        return singles / ((performance.now() - t0) / 1000);
      });
      opts.log(`insertEvent, one per transaction: ${single.toFixed(0)}/s`);
      const lib = await consume(cluster, 'cq', 'orders', 'lib', total);
      opts.log(`Consumer: ${lib.toFixed(0)} events/s`);
      const raw = await rawSql(cluster, 'cq', 'orders', 'raw', total);
      opts.log(`plain SQL batches: ${raw.toFixed(0)} events/s`);
      // pg-boss on the same cluster, in a database of its own
      const PgBoss = loadPgBoss();
      const boss = typeof PgBoss === 'string' ? PgBoss : await cluster.createDatabase('boss').then(() => measurePgBoss(PgBoss, cluster, 'boss', total));
      const bossFigures =
        typeof boss === 'string'
          ? []
          : [
              plainFigure(`pg-boss ${PG_BOSS_VERSION} insert (1000 jobs per call)`, boss.insertPerSecond, 'jobs/s'),
              plainFigure(`pg-boss ${PG_BOSS_VERSION}, ${String(WORKERS)} workers draining the backlog (batchSize ${String(BATCH)})`, boss.workPerSecond, 'jobs/s'),
              ratioFigure('Consumer vs pg-boss worker', lib, 'events/s', 'pg-boss', boss.workPerSecond),
              ratioFigure('insertEvents vs pg-boss insert', inRate, 'events/s', 'pg-boss', boss.insertPerSecond),
            ];
      opts.log(typeof boss === 'string' ? `pg-boss not measured: ${boss}` : `pg-boss: insert ${boss.insertPerSecond.toFixed(0)}/s, worker ${boss.workPerSecond.toFixed(0)} jobs/s`);
      return {
        name: this.name,
        description: this.description,
        figures: [
          plainFigure('insertEvents (1000 per transaction)', inRate, 'events/s'),
          plainFigure('insertEvent (one per transaction)', single, 'events/s'),
          plainFigure('Consumer draining a backlog (trivial handler)', lib, 'events/s', '>= 50000'),
          plainFigure('plain SQL over the same batches', raw, 'events/s'),
          ratioFigure('Consumer vs plain SQL', lib, 'events/s', 'plain SQL', raw, '>= 0.7'),
          ...bossFigures,
        ],
        notes: [
          `${total} events of ~60 bytes of JSON written with a ticker every 100 ms; the Consumer takes up to 20,000 events a batch (mergeEvents), one connection, PostgreSQL ${cluster.serverVersion}`,
          'published anchor (not measured here): graphile-worker states ~183,000 jobs/s executed and ~202,000 jobs/s queued from one add_jobs batch call, on a well-specced server with 4 workers x 24 concurrency (worker.graphile.org/docs/performance)',
          typeof boss === 'string'
            ? `pg-boss not measured: ${boss}`
            : `pg-boss ${PG_BOSS_VERSION} (installed by the benchmark into .scratch/, not a dependency of this project): the same number of jobs with the same data, inserted 1000 per call, drained by ${String(WORKERS)} workers (batchSize ${String(BATCH)}, polling every 0.5 s: a pg-boss worker sleeps out its interval even after a full batch) until all are completed; a job queue row per event, against PgQ's batches of a rotating event table`,
        ],
      };
    } finally {
      await cluster.stop();
    }
  },
};
