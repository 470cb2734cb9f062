/**
 * pgq_ext: a remote consumer's progress kept in the target database, in the same transaction as
 * what it wrote there, so that a batch (or an event) is applied there exactly once.
 */
import type pg from 'pg';

export async function isBatchDone(client: pg.ClientBase, consumer: string, subconsumer: string, batchId: string): Promise<boolean> {
  const r = await client.query<{ done: boolean }>('SELECT pgq_ext.is_batch_done($1, $2, $3::int8) AS done', [consumer, subconsumer, batchId]);
  return r.rows[0]?.done === true;
}

/**
 * Serialise this consumer's batch transactions on the target until the transaction ends: two
 * processes of one consumer name would otherwise both find a batch not done and both apply it.
 */
export async function lockConsumer(client: pg.ClientBase, consumer: string, subconsumer: string): Promise<void> {
  await client.query(`SELECT pg_advisory_xact_lock(hashtext('pgq_ext ' || $1), hashtext($2))`, [consumer, subconsumer]);
}

/**
 * The newest batch this consumer recorded on the target: the last finished one (per-batch
 * tracking) or the one whose events are being recorded (per-event); null when none. Batch ids
 * only grow on a queue's database, so a batch older than this one is stale in a process's hands.
 */
export async function recordedBatch(client: pg.ClientBase, consumer: string, subconsumer: string, tracking: 'batch' | 'event'): Promise<bigint | null> {
  const sql =
    tracking === 'batch'
      ? 'SELECT last_batch_id::text AS id FROM pgq_ext.completed_batch WHERE consumer_id = $1 AND subconsumer_id = $2'
      : 'SELECT cur_batch_id::text AS id FROM pgq_ext.partial_batch WHERE consumer_id = $1 AND subconsumer_id = $2';
  const r = await client.query<{ id: string }>(sql, [consumer, subconsumer]);
  const id = r.rows[0]?.id;
  return id === undefined ? null : BigInt(id);
}

/** Record the batch as applied; false when it already was (the caller rolls back its work). */
export async function setBatchDone(client: pg.ClientBase, consumer: string, subconsumer: string, batchId: string): Promise<boolean> {
  const r = await client.query<{ ok: boolean }>('SELECT pgq_ext.set_batch_done($1, $2, $3::int8) AS ok', [consumer, subconsumer, batchId]);
  return r.rows[0]?.ok === true;
}

/** Which of these events of the batch were applied already (per-event tracking). */
export async function doneEvents(client: pg.ClientBase, consumer: string, subconsumer: string, batchId: string, eventIds: readonly string[]): Promise<Set<string>> {
  const r = await client.query<{ id: string }>(
    `SELECT e.id FROM unnest($4::int8[]) AS e(id) WHERE pgq_ext.is_event_done($1, $2, $3::int8, e.id)`,
    [consumer, subconsumer, batchId, eventIds],
  );
  return new Set(r.rows.map((row) => String(row.id)));
}

/** Record the events as applied; false when one of them already was (the caller rolls back). */
export async function setEventsDone(client: pg.ClientBase, consumer: string, subconsumer: string, batchId: string, eventIds: readonly string[]): Promise<boolean> {
  if (eventIds.length === 0) return true;
  const r = await client.query<{ ok: boolean }>('SELECT bool_and(pgq_ext.set_event_done($1, $2, $3::int8, e.id)) AS ok FROM unnest($4::int8[]) AS e(id)', [consumer, subconsumer, batchId, eventIds]);
  return r.rows[0]?.ok === true;
}
