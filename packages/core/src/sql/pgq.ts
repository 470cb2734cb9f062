/**
 * The PgQ SQL API besides batches (see pgq-batch.ts): ticks, maintenance, queue and consumer
 * figures. Functions take a connected client and return typed rows.
 */
import type pg from 'pg';
import { UsageError } from '../errors.js';
import { quoteFqname } from '../identifiers.js';
import { begin, commit, rollback } from './session.js';

/** Is there a usable pgq schema (any 3.x version, with or without CREATE EXTENSION)? Its version, or null. */
export async function installedVersion(client: pg.ClientBase): Promise<string | null> {
  const r = await client.query<{ ok: boolean }>(`SELECT to_regprocedure('pgq.version()') IS NOT NULL AND to_regprocedure('pgq.ticker()') IS NOT NULL AS ok`);
  if (r.rows[0]?.ok !== true) return null;
  const v = await client.query<{ v: string | null }>('SELECT pgq.version() AS v');
  const version = v.rows[0]?.v ?? null;
  return version !== null && version.startsWith('3') ? version : null;
}

/** Tick every queue that is due (pgqd's call); the number of queues ticked. */
export async function tickAll(client: pg.ClientBase): Promise<number> {
  const r = await client.query<{ n: string | null }>('SELECT pgq.ticker() AS n');
  return Number(r.rows[0]?.n ?? 0);
}

/**
 * Tick one queue now, whatever its thresholds say (force_tick, then ticker), and return its
 * newest tick id. A queue ticked from outside (a branch repeats its provider's ticks) or paused
 * is left as it is. `quiet` (skytools.quiet_tick): the tick is announced (NOTIFY pgq_tick) only
 * if it holds events, so a tick one consumer needs does not wake every consumer of the queue;
 * the caller wakes its own.
 */
export async function tickNow(client: pg.ClientBase, queue: string, options: { quiet?: boolean } = {}): Promise<string | null> {
  const q = await client.query<{ own: boolean }>('SELECT NOT (queue_external_ticker OR queue_ticker_paused) AS own FROM pgq.queue WHERE queue_name = $1', [queue]);
  if (q.rows[0]?.own === true) {
    // quiet: pgq.ticker ticks at once and announces only events (upstream's ignores the
    // setting and may find no tick due: then the plain way, which upstream never announces)
    let ticked = false;
    if (options.quiet === true) {
      // the setting lasts for the statement's transaction; the CTE (volatile: never inlined) sets it first
      const r = await client.query<{ t: string | null }>(
        `WITH s AS (SELECT set_config('skytools.quiet_tick', 'on', true)) SELECT pgq.ticker($1)::text AS t FROM s`,
        [queue],
      );
      ticked = r.rows[0]?.t !== null && r.rows[0]?.t !== undefined;
    }
    if (!ticked) {
      await client.query('SELECT pgq.force_tick($1)', [queue]);
      await client.query('SELECT pgq.ticker($1)', [queue]);
    }
  }
  return lastTickId(client, queue);
}

/** Does the database's PgQ announce its ticks (NOTIFY pgq_tick from pgq.ticker)? Ours does, upstream's does not. */
export async function announcesTicks(client: pg.ClientBase): Promise<boolean> {
  const r = await client.query<{ yes: boolean }>(
    `SELECT coalesce((SELECT prosrc LIKE '%pg_notify%' FROM pg_proc WHERE oid = to_regprocedure('pgq.ticker(text)')), false) AS yes`,
  );
  return r.rows[0]?.yes === true;
}

/** A tick with the given id, time and event position (a branch repeating its provider's tick). */
export async function tickAs(client: pg.ClientBase, queue: string, tickId: string, tickTime: Date, eventSeq: string): Promise<void> {
  await client.query('SELECT pgq.ticker($1, $2, $3, $4)', [queue, tickId, tickTime, eventSeq]);
}

/** The newest tick id of a queue, or null when it has none. */
export async function lastTickId(client: pg.ClientBase, queue: string): Promise<string | null> {
  const r = await client.query<{ t: string | null }>(
    'SELECT max(t.tick_id)::text AS t FROM pgq.tick t JOIN pgq.queue q ON q.queue_id = t.tick_queue WHERE q.queue_name = $1',
    [queue],
  );
  return r.rows[0]?.t ?? null;
}

export async function queueExists(client: pg.ClientBase, queue: string): Promise<boolean> {
  const r = await client.query('SELECT 1 FROM pgq.queue WHERE queue_name = $1', [queue]);
  return (r.rowCount ?? 0) > 0;
}

export async function setQueueConfig(client: pg.ClientBase, queue: string, key: string, value: string): Promise<void> {
  await client.query('SELECT pgq.set_queue_config($1, $2, $3)', [queue, key, value]);
}

/** An event into `queue` (pgq.insert_event with extra1 only); its id. */
export async function insertEvent(client: pg.ClientBase, queue: string, type: string, data: string | null, extra1: string | null = null): Promise<string> {
  return insertFullEvent(client, queue, { type, data, extra1 });
}

/** An event with every field given, as written by an application (pgq.insert_event). */
export interface NewEvent {
  type: string;
  data: string | null;
  extra1?: string | null;
  extra2?: string | null;
  extra3?: string | null;
  extra4?: string | null;
  /** Its ev_time (as PostgreSQL prints a timestamptz): kept when events move between queues; default now(). */
  time?: string | null;
}

/** An event into `queue` with all its extra fields; its id. */
export async function insertFullEvent(client: pg.ClientBase, queue: string, ev: NewEvent): Promise<string> {
  const r = await client.query<{ id: string }>('SELECT pgq.insert_event($1, $2, $3, $4, $5, $6, $7)::text AS id', [
    queue,
    ev.type,
    ev.data,
    ev.extra1 ?? null,
    ev.extra2 ?? null,
    ev.extra3 ?? null,
    ev.extra4 ?? null,
  ]);
  return r.rows[0]?.id ?? '';
}

/**
 * Many events into `queue`, in the order given; their ids. As upstream's bulk producer does, the
 * rows go straight into the queue's current event table in one INSERT (pgq.insert_event costs a
 * function call and a dynamic statement per event), in the same transaction that read which table
 * is current: the caller's, or one of its own when the client is not in one (a rotation between
 * the two would leave events where readers no longer look). A queue whose inserts are disabled or
 * that limits events per transaction goes through pgq.insert_event, which enforces both.
 */
export async function insertEvents(client: pg.ClientBase, queue: string, events: readonly NewEvent[]): Promise<string[]> {
  if (events.length === 0) return [];
  const own = (client as pg.ClientBase & { getTransactionStatus?: () => string | null }).getTransactionStatus?.() === 'I';
  if (own) await begin(client);
  try {
    const ids = await insertEventRows(client, queue, events);
    if (own) await commit(client);
    return ids;
  } catch (err) {
    if (own) await rollback(client);
    throw err;
  }
}

async function insertEventRows(client: pg.ClientBase, queue: string, events: readonly NewEvent[]): Promise<string[]> {
  // the transaction id first: a rotation that commits after this reads it as running and keeps
  // readers on the old table for it, whatever table the next statement finds current
  await client.query('SELECT txid_current()');
  const q = await client.query<{ tbl: string; checked: boolean }>(
    `SELECT pgq.current_event_table(queue_name) AS tbl,
            (queue_disable_insert AND current_setting('session_replication_role') <> 'replica') OR queue_per_tx_limit IS NOT NULL AS checked
       FROM pgq.queue WHERE queue_name = $1`,
    [queue],
  );
  const row = q.rows[0];
  if (row === undefined) throw new UsageError(`queue ${queue} does not exist: create it with pgq.create_queue('${queue}') (or pgq create-queue ${queue})`);
  const col = (f: (e: NewEvent) => string | null | undefined): (string | null)[] => events.map((e) => f(e) ?? null);
  const args = [col((e) => e.type), col((e) => e.data), col((e) => e.extra1), col((e) => e.extra2), col((e) => e.extra3), col((e) => e.extra4), col((e) => e.time)];
  const rows = 'unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::timestamptz[]) WITH ORDINALITY AS e(t, d, x1, x2, x3, x4, tm, n)';
  const r = row.checked
    ? await client.query<{ id: string }>(`SELECT pgq.insert_event_raw($8, NULL, coalesce(e.tm, now()), NULL, NULL, e.t, e.d, e.x1, e.x2, e.x3, e.x4)::text AS id FROM ${rows} ORDER BY e.n`, [...args, queue])
    : await client.query<{ id: string }>(
        `INSERT INTO ${quoteFqname(row.tbl)} (ev_time, ev_type, ev_data, ev_extra1, ev_extra2, ev_extra3, ev_extra4)
         SELECT coalesce(e.tm, now()), e.t, e.d, e.x1, e.x2, e.x3, e.x4 FROM ${rows} ORDER BY e.n
         RETURNING ev_id::text AS id`,
        args,
      );
  return r.rows.map((x) => x.id).sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0));
}

/** Register a consumer at the queue's newest tick; false when it was registered already. */
export async function registerConsumer(client: pg.ClientBase, queue: string, consumer: string): Promise<boolean> {
  const r = await client.query<{ n: number }>('SELECT pgq.register_consumer($1, $2) AS n', [queue, consumer]);
  return r.rows[0]?.n === 1;
}

/** Put one event of the open batch aside, to come back to this consumer after `seconds`; false when it was already. */
export async function eventRetry(client: pg.ClientBase, batchId: string, eventId: string, seconds: number): Promise<boolean> {
  const r = await client.query<{ n: number }>('SELECT pgq.event_retry($1::int8, $2::int8, $3::int4) AS n', [batchId, eventId, Math.max(0, Math.round(seconds))]);
  return r.rows[0]?.n === 1;
}

/** Give up on one event of the open batch: kept in pgq.failed_queue with `reason`; false when it was already. */
export async function eventFailed(client: pg.ClientBase, batchId: string, eventId: string, reason: string): Promise<boolean> {
  const r = await client.query<{ n: number }>('SELECT pgq.event_failed($1::int8, $2::int8, $3) AS n', [batchId, eventId, reason]);
  return r.rows[0]?.n === 1;
}

/** The event table events are written to now (it changes with rotation). */
export async function currentEventTable(client: pg.ClientBase, queue: string): Promise<string> {
  const r = await client.query<{ t: string | null }>('SELECT pgq.current_event_table($1) AS t', [queue]);
  const t = r.rows[0]?.t ?? null;
  if (t === null) throw new UsageError(`queue ${queue} has no event table (does the queue exist?)`);
  return t;
}

/** Seconds since the queue's newest tick, or null for an unknown queue. */
export async function tickerLag(client: pg.ClientBase, queue: string): Promise<number | null> {
  const r = await client.query<{ lag_s: number | null }>('SELECT extract(epoch FROM ticker_lag)::float8 AS lag_s FROM pgq.get_queue_info($1)', [queue]);
  return r.rows[0]?.lag_s ?? null;
}

/** consumer name → seconds since the tick it last finished. */
export async function consumerLags(client: pg.ClientBase, queue: string): Promise<Map<string, number>> {
  const r = await client.query<{ consumer_name: string; lag_s: number | null }>(
    'SELECT consumer_name, extract(epoch FROM lag)::float8 AS lag_s FROM pgq.get_consumer_info($1)',
    [queue],
  );
  const out = new Map<string, number>();
  for (const row of r.rows) if (row.lag_s !== null) out.set(row.consumer_name, row.lag_s);
  return out;
}

/** Move due retry events back into their queues; how many were moved in this call. */
export async function maintRetryEvents(client: pg.ClientBase): Promise<number> {
  const r = await client.query<{ n: number }>('SELECT pgq.maint_retry_events() AS n');
  return r.rows[0]?.n ?? 0;
}

export interface MaintOperation {
  func_name: string;
  func_arg: string | null;
}

export async function maintOperations(client: pg.ClientBase): Promise<MaintOperation[]> {
  const r = await client.query<MaintOperation>('SELECT func_name, func_arg FROM pgq.maint_operations()');
  return r.rows;
}

/** Names pgq.maint_operations() may return: checked before they are put into a statement. */
const QUALIFIED_NAME = /^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*)?$/;

export function isVacuumOperation(op: MaintOperation): boolean {
  return /^vacuum( analyze)?$/i.test(op.func_name.trim());
}

/** A VACUUM [ANALYZE] operation; false (and nothing run) when the table name is not a plain name. */
export async function runVacuumOperation(client: pg.ClientBase, op: MaintOperation): Promise<boolean> {
  if (op.func_arg === null || !QUALIFIED_NAME.test(op.func_arg)) return false;
  await client.query(`${op.func_name.trim().toUpperCase()} ${op.func_arg}`);
  return true;
}

export type MaintResult = { kind: 'refused' } | { kind: 'value'; value: unknown };

/**
 * One call of a maintenance function; its result as returned (a number: more to do while not 0;
 * a record or NULL: done). 'refused' when the name is not a plain function name.
 */
export async function callMaintFunction(client: pg.ClientBase, op: MaintOperation): Promise<MaintResult> {
  const fn = op.func_name.trim();
  if (!QUALIFIED_NAME.test(fn)) return { kind: 'refused' };
  const r = op.func_arg === null ? await client.query<{ r: unknown }>(`SELECT ${fn}() AS r`) : await client.query<{ r: unknown }>(`SELECT ${fn}($1) AS r`, [op.func_arg]);
  return { kind: 'value', value: r.rows[0]?.r };
}

export { nextBatch, readBatchEvents, batchEventsStream, eventsCopy, peekNextBatch, finishBatch } from './pgq-batch.js';
export { createQueue, dropQueue, queueInfo, consumerInfo, retryEvents, requeueNow, failedEvents, retryFailed, deleteFailed, type QueueRow, type ConsumerRow, type RetryRow, type FailedRow } from './pgq-admin.js';

/** Is tick `tick` still in the queue's tick table (a consumer can be registered at it)? */
/** The oldest tick id a queue still has (older ones were rotated away), or null when it has none. */
export async function oldestTickId(client: pg.ClientBase, queue: string): Promise<string | null> {
  const r = await client.query<{ t: string | null }>(
    'SELECT min(t.tick_id)::text AS t FROM pgq.tick t JOIN pgq.queue q ON q.queue_id = t.tick_queue WHERE q.queue_name = $1',
    [queue],
  );
  return r.rows[0]?.t ?? null;
}

export async function tickExists(client: pg.ClientBase, queue: string, tick: string): Promise<boolean> {
  const r = await client.query<{ ok: boolean }>(
    'SELECT EXISTS (SELECT 1 FROM pgq.tick t JOIN pgq.queue q ON q.queue_id = t.tick_queue WHERE q.queue_name = $1 AND t.tick_id = $2) AS ok',
    [queue, tick],
  );
  return r.rows[0]?.ok === true;
}

/**
 * The snapshot of tick `tick` of the queue (txid_snapshot text), or null when this database has
 * no such tick (not reached yet, or rotated away).
 */
export async function tickSnapshot(client: pg.ClientBase, queue: string, tick: string): Promise<string | null> {
  const r = await client.query<{ snap: string }>(
    'SELECT t.tick_snapshot::text AS snap FROM pgq.tick t JOIN pgq.queue q ON q.queue_id = t.tick_queue WHERE q.queue_name = $1 AND t.tick_id = $2',
    [queue, tick],
  );
  return r.rows[0]?.snap ?? null;
}

/** A demoted root's queue refuses inserts and is not ticked by pgqd. */
export async function insertsDisabled(client: pg.ClientBase, queue: string): Promise<boolean> {
  const r = await client.query<{ off: boolean }>('SELECT queue_disable_insert AS off FROM pgq.queue WHERE queue_name = $1', [queue]);
  return r.rows[0]?.off === true;
}

/** Register (or move) a plain consumer at a tick. */
export async function registerConsumerAt(client: pg.ClientBase, queue: string, consumer: string, tick: string): Promise<void> {
  await client.query('SELECT pgq.register_consumer_at($1, $2, $3)', [queue, consumer, tick]);
}

export async function unregisterConsumer(client: pg.ClientBase, queue: string, consumer: string): Promise<void> {
  await client.query('SELECT pgq.unregister_consumer($1, $2)', [queue, consumer]);
}

/** Names of the consumers registered on the queue. */
export async function consumerNames(client: pg.ClientBase, queue: string): Promise<string[]> {
  const r = await client.query<{ c: string }>('SELECT consumer_name AS c FROM pgq.get_consumer_info($1) ORDER BY 1', [queue]);
  return r.rows.map((row) => row.c);
}

/**
 * Remove from the queue the events between two ticks (committed after `fromTick`'s snapshot and by
 * `toTick`'s) and the ticks after `fromTick`: a resurrected old root gives up what it captured after
 * its failover (dumped before), so that its queue can take its new provider's ticks. One transaction.
 */
export async function dropEventsAfterTick(client: pg.ClientBase, queue: string, fromTick: string, toTick: string): Promise<{ events: number; ticks: number }> {
  await client.query('BEGIN');
  try {
    const r = await client.query<{ id: number; pfx: string; n: number; s1: string; s2: string }>(
      `SELECT q.queue_id AS id, q.queue_data_pfx AS pfx, q.queue_ntables AS n, t1.tick_snapshot::text AS s1, t2.tick_snapshot::text AS s2
         FROM pgq.queue q
         JOIN pgq.tick t1 ON t1.tick_queue = q.queue_id AND t1.tick_id = $2
         JOIN pgq.tick t2 ON t2.tick_queue = q.queue_id AND t2.tick_id = $3
        WHERE q.queue_name = $1`,
      [queue, fromTick, toTick],
    );
    const q = r.rows[0];
    if (q === undefined) throw new Error(`queue ${queue} has no ticks ${fromTick} and ${toTick}`);
    let events = 0;
    for (let i = 0; i < q.n; i++) {
      const d = await client.query(
        `DELETE FROM ${quoteFqname(`${q.pfx}_${String(i)}`)} WHERE txid_visible_in_snapshot(ev_txid, $2::txid_snapshot) AND NOT txid_visible_in_snapshot(ev_txid, $1::txid_snapshot)`,
        [q.s1, q.s2],
      );
      events += d.rowCount ?? 0;
    }
    const t = await client.query('DELETE FROM pgq.tick WHERE tick_queue = $1 AND tick_id > $2 AND tick_id <= $3', [q.id, fromTick, toTick]);
    await client.query('COMMIT');
    return { events, ticks: t.rowCount ?? 0 };
  } catch (err) {
    await client.query('ROLLBACK');
    throw err;
  }
}

/** Seconds the oldest tick after `afterTick` has existed: how far behind a consumer at `afterTick` is (0 when none). */
export async function pendingTickAge(client: pg.ClientBase, queue: string, afterTick: string): Promise<number> {
  const r = await client.query<{ s: number }>(
    `SELECT coalesce((SELECT extract(epoch FROM now() - t.tick_time)::float8 FROM pgq.tick t JOIN pgq.queue q ON q.queue_id = t.tick_queue
                       WHERE q.queue_name = $1 AND t.tick_id > $2 ORDER BY t.tick_id LIMIT 1), 0) AS s`,
    [queue, afterTick],
  );
  return r.rows[0]?.s ?? 0;
}
