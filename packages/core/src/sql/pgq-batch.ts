/**
 * The consumer side of PgQ, as a library: open a batch, stream its events through a cursor
 * (memory stays bounded whatever the batch size), finish it.
 */
import pg from 'pg';
import Cursor from 'pg-cursor';
import { SkytoolsError } from '../errors.js';
import { begin, commit, rollback } from './session.js';

export interface PgqEvent {
  ev_id: string;
  /** As PostgreSQL prints it: a JS Date would lose the microseconds. */
  ev_time: string;
  ev_txid: string;
  ev_retry: number | null;
  ev_type: string | null;
  ev_data: string | null;
  ev_extra1: string | null;
  ev_extra2: string | null;
  ev_extra3: string | null;
  ev_extra4: string | null;
}

export interface BatchInfo {
  batchId: string;
  curTickId: string;
  prevTickId: string;
  curTickTime: Date;
  prevTickTime: Date;
  curTickEventSeq: string;
  prevTickEventSeq: string;
  /** The closing tick's snapshot (null if rotated away meanwhile). */
  curTickSnapshot: string | null;
}

const TIMESTAMPTZ_OID = 1184;
function rawTimestamps(oid: number, format?: 'text' | 'binary'): (value: string) => unknown {
  if (oid === TIMESTAMPTZ_OID) return (v: string) => v;
  return pg.types.getTypeParser(oid, format ?? 'text') as (value: string) => unknown;
}
const RAW_TIMESTAMPS = { getTypeParser: rawTimestamps };

/**
 * The consumer's next batch (pgq.next_batch_custom), or null when no new tick exists yet, with
 * the snapshot of its closing tick. With `mergeEvents` > 0, a consumer that is behind gets
 * several ticks in one batch, as many as keep it under that many events (by the ticks' event
 * sequence positions, an estimate): far fewer round trips and commits while catching up.
 */
export async function nextBatch(client: pg.ClientBase, queue: string, consumer: string, mergeEvents = 0): Promise<BatchInfo | null> {
  // the newest pending tick within the limit, asked for by its distance in time from the
  // consumer's position (next_batch_custom's min_interval opens the batch at the first tick that
  // far away): empty ticks merge too. No tick within the limit: the next tick alone.
  const minInterval =
    mergeEvents > 0
      ? `(SELECT max(t.tick_time) - p.tick_time
            FROM pgq.queue q
            JOIN pgq.consumer c ON c.co_name = $2
            JOIN pgq.subscription s ON s.sub_queue = q.queue_id AND s.sub_consumer = c.co_id
            JOIN pgq.tick p ON p.tick_queue = q.queue_id AND p.tick_id = s.sub_last_tick
            JOIN pgq.tick t ON t.tick_queue = q.queue_id AND t.tick_id > s.sub_last_tick
                           AND t.tick_event_seq - p.tick_event_seq <= $3
           WHERE q.queue_name = $1
           GROUP BY p.tick_time)`
      : 'NULL::interval';
  const r = await client.query<{
    batch_id: string | null;
    cur_tick_id: string;
    prev_tick_id: string;
    cur_tick_time: Date;
    prev_tick_time: Date;
    cur_tick_event_seq: string;
    prev_tick_event_seq: string;
    cur_tick_snapshot: string | null;
  }>(
    `SELECT b.*, t.tick_snapshot::text AS cur_tick_snapshot
       FROM pgq.next_batch_custom($1, $2, NULL, NULL, ${minInterval}) b
       LEFT JOIN pgq.queue q ON q.queue_name = $1
       LEFT JOIN pgq.tick t ON t.tick_queue = q.queue_id AND t.tick_id = b.cur_tick_id`,
    mergeEvents > 0 ? [queue, consumer, mergeEvents] : [queue, consumer],
  );
  const row = r.rows[0];
  if (row === undefined || row.batch_id === null) return null;
  return {
    batchId: row.batch_id,
    curTickId: row.cur_tick_id,
    prevTickId: row.prev_tick_id,
    curTickTime: row.cur_tick_time,
    prevTickTime: row.prev_tick_time,
    curTickEventSeq: row.cur_tick_event_seq,
    prevTickEventSeq: row.prev_tick_event_seq,
    curTickSnapshot: row.cur_tick_snapshot,
  };
}

/**
 * The batch's events in ev_id order, `fetchSize` at a time, through a cursor in its own
 * read-only transaction on `client` (which must not be used for anything else meanwhile), so
 * memory stays bounded whatever the batch size. A batch known to be small (`whole`) comes in one
 * query instead, saving the cursor's round trips.
 */
export async function* readBatchEvents(client: pg.ClientBase, batchId: string, fetchSize: number, whole = false): AsyncGenerator<PgqEvent[]> {
  if (whole) {
    const r = await client.query<PgqEvent>({ text: 'SELECT * FROM pgq.get_batch_events($1)', values: [batchId], types: RAW_TIMESTAMPS });
    if (r.rows.length > 0) yield r.rows;
    return;
  }
  await begin(client, { readOnly: true });
  let done = false;
  try {
    const sql = await client.query<{ q: string }>('SELECT pgq.batch_event_sql($1) AS q', [batchId]);
    const text = sql.rows[0]?.q;
    if (text === undefined) throw new SkytoolsError(`no SQL for batch ${batchId} (pgq.batch_event_sql returned nothing)`);
    const cursor = client.query(new Cursor<PgqEvent>(text, [], { types: RAW_TIMESTAMPS }));
    try {
      for (;;) {
        const rows = await cursor.read(fetchSize);
        if (rows.length === 0) break;
        yield rows;
        if (rows.length < fetchSize) break;
      }
    } finally {
      await cursor.close();
    }
    done = true;
  } finally {
    if (done) await commit(client);
    else await rollback(client);
  }
}

export async function finishBatch(client: pg.ClientBase, batchId: string): Promise<void> {
  await client.query('SELECT pgq.finish_batch($1)', [batchId]);
}
