/**
 * pgq_coop: cooperative consuming. Sub-consumers of one consumer share its events, each batch going
 * to one of them; a sub-consumer is the consumer "NAME.SUB" on the queue, sharing the consumer's
 * retried events.
 */
import type pg from 'pg';
import { tickAgeMsSql, tickLocalTime } from './pgq-batch.js';

/** Register sub-consumer `sub` of `consumer` (and the consumer, if new); false when it was already. */
export async function registerSubconsumer(client: pg.ClientBase, queue: string, consumer: string, sub: string): Promise<boolean> {
  const r = await client.query<{ n: number }>('SELECT pgq_coop.register_subconsumer($1, $2, $3) AS n', [queue, consumer, sub]);
  return r.rows[0]?.n === 1;
}

/**
 * Unregister a sub-consumer; refused ('subconsumer has active batch') while it holds a batch,
 * unless `dropBatch` (that batch's events are then lost to the consumer). False when there was none.
 */
export async function unregisterSubconsumer(client: pg.ClientBase, queue: string, consumer: string, sub: string, dropBatch = false): Promise<boolean> {
  const r = await client.query<{ n: number }>('SELECT pgq_coop.unregister_subconsumer($1, $2, $3, $4) AS n', [queue, consumer, sub, dropBatch ? 1 : 0]);
  return r.rows[0]?.n === 1;
}

/** A sub-consumer's batch: the one it holds, or the next cut from the consumer's position. */
export interface CoopBatch {
  batchId: string;
  prevTickId: string;
  curTickId: string;
  curTickTime: Date;
  /** As BatchInfo.curTickLocalTime. */
  curTickLocalTime: Date;
}

/**
 * The sub-consumer's open batch or a new one (null: nothing yet). With `deadSeconds`, a batch held
 * by a sibling silent for longer than that is taken over first.
 */
export async function nextBatch(client: pg.ClientBase, queue: string, consumer: string, sub: string, deadSeconds: number | null): Promise<CoopBatch | null> {
  const r = await client.query<{ batch_id: string | null; prev_tick_id: string | null; tick_id: string | null; batch_end: Date | null; age_ms: number | null }>(
    `SELECT b.id::text AS batch_id, i.prev_tick_id::text AS prev_tick_id, i.tick_id::text AS tick_id, i.batch_end,
            ${tickAgeMsSql('i.batch_end')} AS age_ms
       FROM pgq_coop.next_batch($1, $2, $3, $4 * interval '1 second') AS b(id)
       LEFT JOIN LATERAL pgq.get_batch_info(b.id) i ON true`,
    [queue, consumer, sub, deadSeconds],
  );
  const row = r.rows[0];
  if (row?.batch_id === null || row?.batch_id === undefined || row.tick_id === null || row.prev_tick_id === null || row.batch_end === null) return null;
  return { batchId: row.batch_id, prevTickId: row.prev_tick_id, curTickId: row.tick_id, curTickTime: row.batch_end, curTickLocalTime: tickLocalTime(row.age_ms) };
}

/** Close a sub-consumer's batch; false when no sub-consumer held it (another process took it over). */
export async function finishBatch(client: pg.ClientBase, batchId: string): Promise<boolean> {
  const r = await client.query<{ n: number }>('SELECT pgq_coop.finish_batch($1) AS n', [batchId]);
  return r.rows[0]?.n === 1;
}

/** Is pgq_coop installed in this database? */
export async function installed(client: pg.ClientBase): Promise<boolean> {
  const r = await client.query<{ yes: boolean }>(`SELECT to_regprocedure('pgq_coop.next_batch(text,text,text)') IS NOT NULL AS yes`);
  return r.rows[0]?.yes === true;
}
