/**
 * Administering PgQ queues (the `pgq` command, upstream's qadmin): queues, consumers and the
 * retry queue, as rows ready to print. Intervals come as seconds.
 */
import type pg from 'pg';
import { withTransaction } from './session.js';

export async function createQueue(client: pg.ClientBase, queue: string): Promise<boolean> {
  const r = await client.query<{ n: number }>('SELECT pgq.create_queue($1) AS n', [queue]);
  return r.rows[0]?.n === 1;
}

export async function dropQueue(client: pg.ClientBase, queue: string, force: boolean): Promise<void> {
  await client.query('SELECT pgq.drop_queue($1, $2)', [queue, force]);
}

export interface QueueRow {
  queue_name: string;
  ticker_lag: number | null;
  ev_per_sec: number | null;
  ev_new: string | null;
  last_tick_id: string | null;
  ticker_paused: boolean;
  ticker_max_count: number;
  ticker_max_lag: number;
  ticker_idle_period: number;
  rotation_period: number;
  ntables: number;
  consumers: number;
}

export async function queueInfo(client: pg.ClientBase, queue?: string): Promise<QueueRow[]> {
  const r = await client.query<QueueRow>(
    `SELECT i.queue_name, extract(epoch FROM i.ticker_lag)::float8 AS ticker_lag, i.ev_per_sec, i.ev_new::text AS ev_new,
            i.last_tick_id::text AS last_tick_id, i.queue_ticker_paused AS ticker_paused, i.queue_ticker_max_count AS ticker_max_count,
            extract(epoch FROM i.queue_ticker_max_lag)::float8 AS ticker_max_lag, extract(epoch FROM i.queue_ticker_idle_period)::float8 AS ticker_idle_period,
            extract(epoch FROM i.queue_rotation_period)::float8 AS rotation_period, i.queue_ntables AS ntables,
            (SELECT count(*)::int FROM pgq.get_consumer_info(i.queue_name)) AS consumers
       FROM pgq.get_queue_info() i
      WHERE $1::text IS NULL OR i.queue_name = $1
      ORDER BY 1`,
    [queue ?? null],
  );
  return r.rows;
}

export interface ConsumerRow {
  queue_name: string;
  consumer_name: string;
  lag: number | null;
  last_seen: number | null;
  last_tick: string | null;
  current_batch: string | null;
  pending_events: string | null;
  retry_events: number;
}

export async function consumerInfo(client: pg.ClientBase, queue?: string): Promise<ConsumerRow[]> {
  const r = await client.query<ConsumerRow>(
    `SELECT c.queue_name, c.consumer_name, extract(epoch FROM c.lag)::float8 AS lag, extract(epoch FROM c.last_seen)::float8 AS last_seen,
            c.last_tick::text AS last_tick, c.current_batch::text AS current_batch, c.pending_events::text AS pending_events,
            (SELECT count(*)::int FROM pgq.retry_queue rq JOIN pgq.subscription s ON s.sub_id = rq.ev_owner
               JOIN pgq.queue q ON q.queue_id = s.sub_queue JOIN pgq.consumer co ON co.co_id = s.sub_consumer
              WHERE q.queue_name = c.queue_name AND co.co_name = c.consumer_name) AS retry_events
       FROM pgq.get_consumer_info() c
      WHERE $1::text IS NULL OR c.queue_name = $1
      ORDER BY 1, 2`,
    [queue ?? null],
  );
  return r.rows;
}

export interface RetryRow {
  queue_name: string;
  consumer_name: string;
  ev_id: string;
  ev_retry: number | null;
  retry_after: string;
  ev_type: string | null;
  ev_data: string | null;
}

/**
 * The rows of a per-consumer event table (pgq.retry_queue, pgq.failed_queue) as `t`, with their
 * queue `q` and consumer `co`, of queue $1 (all when NULL) and consumer $2. Sub-consumers
 * (pgq_coop) share their consumer's rows: without $2 each row is listed once, under the consumer.
 */
function perConsumerRows(table: string): string {
  return `pgq.${table} t
       JOIN pgq.subscription s ON s.sub_id = t.ev_owner AND s.sub_queue = t.ev_queue
       JOIN pgq.queue q ON q.queue_id = s.sub_queue
       JOIN pgq.consumer co ON co.co_id = s.sub_consumer
      WHERE ($1::text IS NULL OR q.queue_name = $1)
        AND CASE WHEN $2::text IS NULL
                 THEN NOT EXISTS (SELECT 1 FROM pgq.subscription m JOIN pgq.consumer mc ON mc.co_id = m.sub_consumer
                                   WHERE m.sub_id = s.sub_id AND m.sub_queue = s.sub_queue AND m.sub_consumer <> s.sub_consumer
                                     AND left(co.co_name, length(mc.co_name) + 1) = mc.co_name || '.')
                 ELSE co.co_name = $2 END`;
}

/** Events waiting in the retry queue (of a queue, of one consumer), soonest first. */
export async function retryEvents(client: pg.ClientBase, queue?: string, consumer?: string, limit = 100): Promise<RetryRow[]> {
  const r = await client.query<RetryRow>(
    `SELECT q.queue_name, co.co_name AS consumer_name, t.ev_id::text AS ev_id, t.ev_retry, t.ev_retry_after::text AS retry_after, t.ev_type, t.ev_data
       FROM ${perConsumerRows('retry_queue')}
      ORDER BY t.ev_retry_after, t.ev_id
      LIMIT $3`,
    [queue ?? null, consumer ?? null, limit],
  );
  return r.rows;
}

/**
 * Make retry events of a consumer due now (all of them, or these ids) and move every due one
 * back into its queue; how many were made due.
 */
export async function requeueNow(client: pg.ClientBase, queue: string, consumer: string, ids: readonly string[] | null): Promise<number> {
  // all or nothing: events made due but not moved would wait for pgqd's next retry run
  return withTransaction(client, () => requeueRows(client, queue, consumer, ids));
}

async function requeueRows(client: pg.ClientBase, queue: string, consumer: string, ids: readonly string[] | null): Promise<number> {
  const r = await client.query(
    `UPDATE pgq.retry_queue rq SET ev_retry_after = now()
       FROM pgq.subscription s, pgq.queue q, pgq.consumer co
      WHERE s.sub_id = rq.ev_owner AND q.queue_id = s.sub_queue AND co.co_id = s.sub_consumer
        AND q.queue_name = $1 AND co.co_name = $2 AND ($3::int8[] IS NULL OR rq.ev_id = ANY ($3::int8[]))`,
    [queue, consumer, ids],
  );
  await moveDueRetries(client);
  return r.rowCount ?? 0;
}

export interface FailedRow {
  queue_name: string;
  consumer_name: string;
  ev_id: string;
  failed_time: string;
  reason: string;
  ev_retry: number | null;
  ev_type: string | null;
  ev_data: string | null;
}

/** Events consumers gave up on (of a queue, of one consumer), oldest failure first. */
export async function failedEvents(client: pg.ClientBase, queue?: string, consumer?: string, limit = 100): Promise<FailedRow[]> {
  const r = await client.query<FailedRow>(
    `SELECT q.queue_name, co.co_name AS consumer_name, t.ev_id::text AS ev_id, t.ev_failed_time::text AS failed_time, t.ev_failed_reason AS reason,
            t.ev_retry, t.ev_type, t.ev_data
       FROM ${perConsumerRows('failed_queue')}
      ORDER BY t.ev_failed_time, t.ev_id
      LIMIT $3`,
    [queue ?? null, consumer ?? null, limit],
  );
  return r.rows;
}

/**
 * Failed events of a consumer (all, or these ids) back to it now: through the retry queue, moved
 * into the queue at once; how many. All or nothing.
 */
export async function retryFailed(client: pg.ClientBase, queue: string, consumer: string, ids: readonly string[] | null): Promise<number> {
  return withTransaction(client, async () => {
    const r = await client.query<{ n: number }>(
      `SELECT count(pgq.failed_event_retry($1, $2, f.ev_id))::int AS n FROM pgq.failed_event_list($1, $2) f WHERE $3::int8[] IS NULL OR f.ev_id = ANY ($3::int8[])`,
      [queue, consumer, ids],
    );
    await moveDueRetries(client);
    return r.rows[0]?.n ?? 0;
  });
}

/** Forget failed events of a consumer (all, or these ids); how many. */
export async function deleteFailed(client: pg.ClientBase, queue: string, consumer: string, ids: readonly string[] | null): Promise<number> {
  const r = await client.query<{ n: number }>(
    `SELECT coalesce(sum(pgq.failed_event_delete($1, $2, f.ev_id)), 0)::int AS n FROM pgq.failed_event_list($1, $2) f WHERE $3::int8[] IS NULL OR f.ev_id = ANY ($3::int8[])`,
    [queue, consumer, ids],
  );
  return r.rows[0]?.n ?? 0;
}

/** Move every due retry event back into its queue now (pgqd would within its retry period). */
async function moveDueRetries(client: pg.ClientBase): Promise<void> {
  for (;;) {
    const moved = await client.query<{ n: number }>('SELECT pgq.maint_retry_events() AS n');
    if ((moved.rows[0]?.n ?? 0) === 0) break;
  }
}
