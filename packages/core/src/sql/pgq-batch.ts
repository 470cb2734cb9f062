/**
 * The consumer side of PgQ, as a library: open a batch, stream its events (through a cursor, or
 * as COPY text; memory stays bounded whatever the batch size), finish it.
 */
import type { Readable } from 'node:stream';
import pg from 'pg';
import Cursor from 'pg-cursor';
import { to as copyTo } from 'pg-copy-streams';
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
  /**
   * The closing tick's time on this host's clock: the tick's age as the provider saw it when the
   * batch was taken, counted back from this host's now. Lag figures made from it do not carry a
   * clock skew between the provider's host and this one, as `curTickTime` would (on a branch,
   * tick times are the root's: a skew between the root and the branch still shows).
   */
  curTickLocalTime: Date;
  prevTickTime: Date;
  curTickEventSeq: string;
  prevTickEventSeq: string;
  /** The closing tick's snapshot (null if rotated away meanwhile). */
  curTickSnapshot: string | null;
  /**
   * Taken with next_batch_merged: the batch reaches as far as the provider's ticks allowed (an
   * empty one ends at the last tick there was), rather than one tick further.
   */
  merged: boolean;
}

const TIMESTAMPTZ_OID = 1184;
function rawTimestamps(oid: number, format?: 'text' | 'binary'): (value: string) => unknown {
  if (oid === TIMESTAMPTZ_OID) return (v: string) => v;
  return pg.types.getTypeParser(oid, format ?? 'text') as (value: string) => unknown;
}
const RAW_TIMESTAMPS = { getTypeParser: rawTimestamps };

/** SQL: milliseconds from `tickTime` (an expression) to now on the database's clock. */
export function tickAgeMsSql(tickTime: string): string {
  return `(extract(epoch FROM clock_timestamp() - ${tickTime}) * 1000)::float8`;
}

/** A tick `ageMs` old on the database's clock, as a time on this host's (see BatchInfo.curTickLocalTime). */
export function tickLocalTime(ageMs: number | null): Date {
  return new Date(Date.now() - Math.max(0, ageMs ?? 0));
}

/** What each connection's pgq has of the functions ours adds to upstream's (asked once per connection). */
const known = new WeakMap<pg.ClientBase, Map<string, boolean>>();

/** Does the pgq on `client` have the function `signature` (regprocedure text)? Upstream's lacks ours. */
async function hasFunction(client: pg.ClientBase, signature: string): Promise<boolean> {
  let fns = known.get(client);
  if (fns === undefined) {
    fns = new Map();
    known.set(client, fns);
  }
  let has = fns.get(signature);
  if (has === undefined) {
    const r = await client.query<{ ok: boolean }>('SELECT to_regprocedure($1) IS NOT NULL AS ok', [signature]);
    has = r.rows[0]?.ok === true;
    fns.set(signature, has);
  }
  return has;
}

/**
 * The consumer's next batch, or null when no new tick exists yet, with the snapshot of its
 * closing tick. With `mergeEvents` > 0, a consumer that is behind gets as many pending ticks in
 * one batch as keep it within that many events (pgq.next_batch_merged; on a provider without it,
 * upstream PgQ, one tick at a time): far fewer round trips and commits while catching up.
 */
export async function nextBatch(client: pg.ClientBase, queue: string, consumer: string, mergeEvents = 0): Promise<BatchInfo | null> {
  const merged = mergeEvents > 0 && (await hasFunction(client, 'pgq.next_batch_merged(text,text,int8)'));
  const r = await client.query<{
    batch_id: string | null;
    cur_tick_id: string;
    prev_tick_id: string;
    cur_tick_time: Date;
    prev_tick_time: Date;
    cur_tick_event_seq: string;
    prev_tick_event_seq: string;
    cur_tick_snapshot: string | null;
    cur_tick_age_ms: number;
  }>(
    `SELECT b.*, t.tick_snapshot::text AS cur_tick_snapshot,
            ${tickAgeMsSql('b.cur_tick_time')} AS cur_tick_age_ms
       FROM ${merged ? 'pgq.next_batch_merged($1, $2, $3)' : 'pgq.next_batch_custom($1, $2, NULL, NULL, NULL)'} b
       LEFT JOIN pgq.queue q ON q.queue_name = $1
       LEFT JOIN pgq.tick t ON t.tick_queue = q.queue_id AND t.tick_id = b.cur_tick_id`,
    merged ? [queue, consumer, mergeEvents] : [queue, consumer],
  );
  const row = r.rows[0];
  if (row === undefined || row.batch_id === null) return null;
  return {
    batchId: row.batch_id,
    curTickId: row.cur_tick_id,
    prevTickId: row.prev_tick_id,
    curTickTime: row.cur_tick_time,
    curTickLocalTime: tickLocalTime(row.cur_tick_age_ms),
    prevTickTime: row.prev_tick_time,
    curTickEventSeq: row.cur_tick_event_seq,
    prevTickEventSeq: row.prev_tick_event_seq,
    curTickSnapshot: row.cur_tick_snapshot,
    merged,
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

/**
 * A batch's events as a stream of COPY text lines of ev_id, ev_time, ev_txid, ev_type, ev_data,
 * ev_extra1..4 (in no particular order: the reader orders by ev_id). The batch's own SELECT
 * (pgq.batch_event_sql) runs inside a COPY ... TO STDOUT: the rows stream as the server reads
 * them, and no row is ever parsed by the driver.
 */
export async function batchEventsStream(client: pg.ClientBase, batchId: string): Promise<Readable> {
  const sql = await client.query<{ q: string | null }>('SELECT pgq.batch_event_sql($1) AS q', [batchId]);
  const text = sql.rows[0]?.q;
  if (text === undefined || text === null) throw new SkytoolsError(`no SQL for batch ${batchId} (pgq.batch_event_sql returned nothing)`);
  return eventsCopy(client, text);
}

/** The events a SELECT of pgq (batch_event_sql, peek_next_batch) returns, as batchEventsStream gives them. */
export function eventsCopy(client: pg.ClientBase, eventSql: string): Readable {
  // the order is the reader's business: a sort of the whole batch here would only cost time
  const unordered = eventSql.replace(/\s+order\s+by\s+1\s*$/i, '');
  return client.query(copyTo(`COPY (SELECT ev_id, ev_time, ev_txid, ev_type, ev_data, ev_extra1, ev_extra2, ev_extra3, ev_extra4 FROM (${unordered}) e) TO STDOUT`));
}

/** The batch a consumer would get after its open one (pgq.peek_next_batch), and the SELECT of its events. */
export interface NextBatchPeek {
  prevTickId: string;
  curTickId: string;
  prevTickEventSeq: string;
  curTickEventSeq: string;
  curTickSnapshot: string;
  /** Events it spans, by the ticks' event positions. */
  events: number;
  eventSql: string;
}

/**
 * The batch next_batch_merged(queue, consumer, mergeEvents) would open once the consumer's open
 * batch is finished, were it finished now; null when there is none yet or the provider's pgq
 * cannot tell (upstream PgQ, or ours older than 3.5.2.7).
 */
export async function peekNextBatch(client: pg.ClientBase, queue: string, consumer: string, mergeEvents: number): Promise<NextBatchPeek | null> {
  // ours from 3.5.2.7
  if (!(await hasFunction(client, 'pgq.peek_next_batch(text,text,int8)'))) return null;
  const r = await client.query<{
    prev_tick_id: string | null;
    cur_tick_id: string | null;
    prev_tick_event_seq: string | null;
    cur_tick_event_seq: string | null;
    cur_tick_snapshot: string | null;
    event_sql: string | null;
  }>(
    `SELECT prev_tick_id::text, cur_tick_id::text, prev_tick_event_seq::text, cur_tick_event_seq::text, cur_tick_snapshot, event_sql
       FROM pgq.peek_next_batch($1, $2, $3)`,
    [queue, consumer, mergeEvents],
  );
  const row = r.rows[0];
  if (row === undefined || row.prev_tick_id === null || row.cur_tick_id === null || row.prev_tick_event_seq === null || row.cur_tick_event_seq === null || row.cur_tick_snapshot === null || row.event_sql === null) {
    return null;
  }
  return {
    prevTickId: row.prev_tick_id,
    curTickId: row.cur_tick_id,
    prevTickEventSeq: row.prev_tick_event_seq,
    curTickEventSeq: row.cur_tick_event_seq,
    curTickSnapshot: row.cur_tick_snapshot,
    events: Number(BigInt(row.cur_tick_event_seq) - BigInt(row.prev_tick_event_seq)),
    eventSql: row.event_sql,
  };
}

/** Close the batch; false when it was not open (another process with this consumer's name finished it). */
export async function finishBatch(client: pg.ClientBase, batchId: string): Promise<boolean> {
  const r = await client.query<{ n: number }>('SELECT pgq.finish_batch($1) AS n', [batchId]);
  return r.rows[0]?.n === 1;
}
