/**
 * The consumer side of PgQ, as a library: open a batch, stream its events through a cursor
 * (memory stays bounded whatever the batch size), finish it.
 */
import pg from 'pg';
import Cursor from 'pg-cursor';

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
}

const TIMESTAMPTZ_OID = 1184;
function rawTimestamps(oid: number, format?: 'text' | 'binary'): (value: string) => unknown {
  if (oid === TIMESTAMPTZ_OID) return (v: string) => v;
  return pg.types.getTypeParser(oid, format ?? 'text') as (value: string) => unknown;
}
const RAW_TIMESTAMPS = { getTypeParser: rawTimestamps };

/** pgq.next_batch_info: the consumer's next batch, or null when no new tick exists yet. */
export async function nextBatch(client: pg.ClientBase, queue: string, consumer: string): Promise<BatchInfo | null> {
  const r = await client.query<{
    batch_id: string | null;
    cur_tick_id: string;
    prev_tick_id: string;
    cur_tick_time: Date;
    prev_tick_time: Date;
    cur_tick_event_seq: string;
    prev_tick_event_seq: string;
  }>('SELECT * FROM pgq.next_batch_info($1, $2)', [queue, consumer]);
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
  };
}

/**
 * The batch's events in ev_id order, `fetchSize` at a time. Runs in its own read-only
 * transaction on `client`, which must not be used for anything else meanwhile.
 */
export async function* readBatchEvents(client: pg.ClientBase, batchId: string, fetchSize: number): AsyncGenerator<PgqEvent[]> {
  await client.query('BEGIN READ ONLY');
  let done = false;
  try {
    const sql = await client.query<{ q: string }>('SELECT pgq.batch_event_sql($1) AS q', [batchId]);
    const text = sql.rows[0]?.q;
    if (text === undefined) throw new Error(`no SQL for batch ${batchId}`);
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
    await client.query(done ? 'COMMIT' : 'ROLLBACK');
  }
}

export async function finishBatch(client: pg.ClientBase, batchId: string): Promise<void> {
  await client.query('SELECT pgq.finish_batch($1)', [batchId]);
}

/** The snapshot of one tick of a queue (null when rotated away). */
export async function tickSnapshot(client: pg.ClientBase, queue: string, tickId: string): Promise<string | null> {
  const r = await client.query<{ s: string }>(
    `SELECT t.tick_snapshot::text AS s FROM pgq.tick t JOIN pgq.queue q ON q.queue_id = t.tick_queue
      WHERE q.queue_name = $1 AND t.tick_id = $2`,
    [queue, tickId],
  );
  return r.rows[0]?.s ?? null;
}
