/** Shared setup for the PgQ SQL tests: a fresh database with the schemas installed, and small queries. */
import pg from 'pg';
import { installSchemas, type SchemaName } from '@skytools/core';
import type { PgCluster } from '@skytools/harness';

let dbCounter = 0;

/** Create a new database on the cluster, install the schemas, and return a connected client. */
export async function freshDatabase(cluster: PgCluster, prefix: string, schemas: readonly SchemaName[] = ['pgq']): Promise<{ db: string; client: pg.Client }> {
  dbCounter += 1;
  const db = `${prefix}_${process.pid}_${dbCounter}`;
  await cluster.createDatabase(db);
  const client = new pg.Client(cluster.clientConfig(db));
  await client.connect();
  await installSchemas(client, schemas);
  return { db, client };
}

export async function connect(cluster: PgCluster, db: string): Promise<pg.Client> {
  const client = new pg.Client(cluster.clientConfig(db));
  await client.connect();
  return client;
}

/** The single value of a one-row, one-column query. */
export async function scalar<T = unknown>(client: pg.ClientBase, sql: string, params: unknown[] = []): Promise<T> {
  const res = await client.query(sql, params);
  const row = res.rows[0] as Record<string, unknown> | undefined;
  if (row === undefined) throw new Error(`no row from: ${sql}`);
  const first = Object.values(row)[0];
  return first as T;
}

/** Tick the queue now, whatever its ticker thresholds say. Returns the new tick id. */
export async function tickNow(client: pg.ClientBase, queue: string): Promise<string> {
  await client.query('SELECT pgq.force_tick($1)', [queue]);
  const id = await scalar<string | null>(client, 'SELECT pgq.ticker($1)', [queue]);
  if (id === null) throw new Error(`queue ${queue} did not tick`);
  return id;
}

export interface EventRow {
  ev_id: string;
  ev_txid: string;
  ev_retry: number | null;
  ev_type: string | null;
  ev_data: string | null;
  ev_extra1: string | null;
}

/** Open the next batch and read it whole; null when there is none. The batch stays open. */
export async function readBatch(client: pg.ClientBase, queue: string, consumer: string): Promise<{ batchId: string; events: EventRow[] } | null> {
  const batchId = await scalar<string | null>(client, 'SELECT pgq.next_batch($1, $2)', [queue, consumer]);
  if (batchId === null) return null;
  const res = await client.query<EventRow>('SELECT * FROM pgq.get_batch_events($1)', [batchId]);
  return { batchId, events: res.rows };
}

/** Read and finish batches until the consumer has caught up with the last tick; returns all events. */
export async function drain(client: pg.ClientBase, queue: string, consumer: string): Promise<EventRow[]> {
  const all: EventRow[] = [];
  for (;;) {
    const batch = await readBatch(client, queue, consumer);
    if (batch === null) return all;
    all.push(...batch.events);
    await client.query('SELECT pgq.finish_batch($1)', [batch.batchId]);
  }
}

/** The error message a statement fails with (the test fails when it succeeds). */
export async function errorOf(client: pg.ClientBase, sql: string, params: unknown[] = []): Promise<string> {
  try {
    await client.query(sql, params);
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error(`expected an error from: ${sql}`);
}
