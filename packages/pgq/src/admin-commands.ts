/**
 * The `pgq` command's work (upstream's qadmin): each function takes a connected client and an
 * output line sink, and prints what it did or found. Bad input is refused before any change.
 */
import type pg from 'pg';
import { formatDisplayTable, installSchemas, pgq, pgqCoop, session, UsageError, type SchemaName } from '@skytools/core';
import { insertEvent } from './producer.js';

export type Out = (line: string) => void;

const seconds = (v: number | null): string => (v === null ? '' : `${v.toFixed(1)}s`);

/** The queue settings `config` may change (pgq.set_queue_config's parameters). */
export const QUEUE_SETTINGS = ['ticker_max_count', 'ticker_max_lag', 'ticker_idle_period', 'rotation_period', 'ticker_paused'] as const;

async function mustExist(c: pg.ClientBase, queue: string): Promise<void> {
  if (!(await pgq.queueExists(c, queue))) throw new UsageError(`queue ${queue} does not exist (pgq queues lists them; pgq create-queue ${queue} makes it)`);
}

export async function createQueue(c: pg.ClientBase, out: Out, queue: string): Promise<void> {
  out((await pgq.createQueue(c, queue)) ? `queue ${queue} created` : `queue ${queue} exists already`);
}

export async function dropQueue(c: pg.ClientBase, out: Out, queue: string, force: boolean): Promise<void> {
  await mustExist(c, queue);
  const consumers = await pgq.consumerNames(c, queue);
  if (consumers.length > 0 && !force) throw new UsageError(`queue ${queue} has consumers (${consumers.join(', ')}): unregister them, or drop with --force`);
  await pgq.dropQueue(c, queue, force);
  out(`queue ${queue} dropped${consumers.length > 0 ? ` with its consumers ${consumers.join(', ')}` : ''}`);
}

/** The schemas `pgq install` may install (londiste's own come with `londiste create-root/branch/leaf`). */
export const INSTALLABLE: readonly SchemaName[] = ['pgq', 'pgq_ext', 'pgq_coop'];

/** Install or upgrade schemas (their prerequisites first); each one's outcome on a line. */
export async function install(c: pg.ClientBase, out: Out, schemas: readonly string[]): Promise<void> {
  const wanted = schemas.length === 0 ? ['pgq'] : schemas;
  const bad = wanted.filter((s) => !(INSTALLABLE as readonly string[]).includes(s));
  if (bad.length > 0) throw new UsageError(`cannot install ${bad.join(', ')}: pgq install takes ${INSTALLABLE.join(', ')}`);
  for (const r of await installSchemas(c, wanted as SchemaName[])) out(`${r.schema} ${r.version}: ${r.action}${r.from !== null && r.from !== r.version ? ` (from ${r.from})` : ''}`);
}

async function mustHaveCoop(c: pg.ClientBase): Promise<void> {
  if (!(await pgqCoop.installed(c))) throw new UsageError('sub-consumers need the pgq_coop schema in this database: pgq install pgq_coop');
}

export async function register(c: pg.ClientBase, out: Out, queue: string, consumer: string, sub?: string): Promise<void> {
  await mustExist(c, queue);
  if (sub === undefined) {
    out((await pgq.registerConsumer(c, queue, consumer)) ? `consumer ${consumer} registered on ${queue}` : `consumer ${consumer} was registered on ${queue} already`);
    return;
  }
  await mustHaveCoop(c);
  const name = `${consumer}.${sub}`;
  out((await pgqCoop.registerSubconsumer(c, queue, consumer, sub)) ? `sub-consumer ${name} registered on ${queue}` : `sub-consumer ${name} was registered on ${queue} already`);
}

export async function unregister(c: pg.ClientBase, out: Out, queue: string, consumer: string, sub?: string, dropBatch = false): Promise<void> {
  await mustExist(c, queue);
  const name = sub === undefined ? consumer : `${consumer}.${sub}`;
  if (!(await pgq.consumerNames(c, queue)).includes(name)) throw new UsageError(`consumer ${name} is not registered on ${queue}`);
  if (sub === undefined) {
    if (dropBatch) throw new UsageError('--drop-batch is for a sub-consumer (--subconsumer); a consumer\'s open batch goes with it');
    await pgq.unregisterConsumer(c, queue, consumer);
    out(`consumer ${consumer} unregistered from ${queue}`);
    return;
  }
  await mustHaveCoop(c);
  const info = (await pgq.consumerInfo(c, queue)).find((r) => r.consumer_name === name);
  if (info?.current_batch !== null && info?.current_batch !== undefined && !dropBatch) {
    throw new UsageError(`sub-consumer ${name} holds batch ${info.current_batch}: stop it first, or give --drop-batch (that batch's events are then lost to ${consumer})`);
  }
  await pgqCoop.unregisterSubconsumer(c, queue, consumer, sub, dropBatch);
  out(`sub-consumer ${name} unregistered from ${queue}`);
}

export async function showQueues(c: pg.ClientBase, out: Out, queue?: string): Promise<void> {
  if (queue !== undefined) await mustExist(c, queue);
  const rows = await pgq.queueInfo(c, queue);
  if (rows.length === 0) out('no queues');
  const head = ['queue_name', 'ticker_lag', 'ev_per_sec', 'ev_new', 'last_tick_id', 'consumers', 'paused'];
  for (const l of formatDisplayTable('Queues', head, rows.map((r) => [r.queue_name, seconds(r.ticker_lag), r.ev_per_sec === null ? '' : r.ev_per_sec.toFixed(1), r.ev_new, r.last_tick_id, r.consumers, r.ticker_paused]))) out(l);
}

export async function showConsumers(c: pg.ClientBase, out: Out, queue?: string): Promise<void> {
  if (queue !== undefined) await mustExist(c, queue);
  const rows = await pgq.consumerInfo(c, queue);
  if (rows.length === 0) out('no consumers');
  const head = ['queue_name', 'consumer_name', 'lag', 'last_seen', 'last_tick', 'current_batch', 'pending_events', 'retry_events'];
  for (const l of formatDisplayTable('Consumers', head, rows.map((r) => [r.queue_name, r.consumer_name, seconds(r.lag), seconds(r.last_seen), r.last_tick, r.current_batch, r.pending_events, r.retry_events]))) out(l);
}

export async function insert(c: pg.ClientBase, out: Out, queue: string, type: string, data: string | null, extra: { extra1?: string; extra2?: string; extra3?: string; extra4?: string }): Promise<void> {
  await mustExist(c, queue);
  out(`event ${await insertEvent(c, queue, type, data, extra)} inserted into ${queue}`);
}

/** Show a queue's settings, or set `key=value` pairs (all or none). */
export async function config(c: pg.ClientBase, out: Out, queue: string, pairs: readonly string[]): Promise<void> {
  await mustExist(c, queue);
  const sets = pairs.map((p) => {
    const m = /^(\w+)=(.*)$/.exec(p);
    if (m === null) throw new UsageError(`${p}: write KEY=VALUE (keys: ${QUEUE_SETTINGS.join(', ')})`);
    const key = m[1] ?? '';
    if (!(QUEUE_SETTINGS as readonly string[]).includes(key)) throw new UsageError(`${key}: not a queue setting (keys: ${QUEUE_SETTINGS.join(', ')})`);
    return { key, value: m[2] ?? '' };
  });
  if (sets.length > 0) {
    await session.withTransaction(c, async () => {
      for (const s of sets) await pgq.setQueueConfig(c, queue, s.key, s.value);
    });
  }
  const q = (await pgq.queueInfo(c, queue))[0];
  if (q === undefined) return;
  for (const [k, v] of [
    ['ticker_max_count', String(q.ticker_max_count)],
    ['ticker_max_lag', seconds(q.ticker_max_lag)],
    ['ticker_idle_period', seconds(q.ticker_idle_period)],
    ['rotation_period', seconds(q.rotation_period)],
    ['ticker_paused', String(q.ticker_paused)],
  ] as const) {
    out(`${queue}.${k} = ${v}`);
  }
}

export async function showRetries(c: pg.ClientBase, out: Out, queue?: string, consumer?: string, limit = 100): Promise<void> {
  if (queue !== undefined) await mustExist(c, queue);
  const rows = await pgq.retryEvents(c, queue, consumer, limit);
  if (rows.length === 0) out('no events waiting for retry');
  const clip = (s: string | null): string | null => (s !== null && s.length > 60 ? `${s.slice(0, 57)}...` : s);
  for (const l of formatDisplayTable('Retry queue', ['queue_name', 'consumer_name', 'ev_id', 'ev_retry', 'retry_after', 'ev_type', 'ev_data'], rows.map((r) => [r.queue_name, r.consumer_name, r.ev_id, r.ev_retry, r.retry_after, r.ev_type, clip(r.ev_data)]))) out(l);
}

export async function requeue(c: pg.ClientBase, out: Out, queue: string, consumer: string, ids: readonly string[]): Promise<void> {
  await mustExist(c, queue);
  eventIds(ids, 'retries');
  const n = await pgq.requeueNow(c, queue, consumer, ids.length === 0 ? null : ids);
  out(`${String(n)} retry events of ${consumer} on ${queue} moved back into the queue`);
}

export async function showFailed(c: pg.ClientBase, out: Out, queue?: string, consumer?: string, limit = 100): Promise<void> {
  if (queue !== undefined) await mustExist(c, queue);
  const rows = await pgq.failedEvents(c, queue, consumer, limit);
  if (rows.length === 0) out('no failed events');
  const clip = (s: string | null): string | null => (s !== null && s.length > 60 ? `${s.slice(0, 57)}...` : s);
  for (const l of formatDisplayTable('Failed events', ['queue_name', 'consumer_name', 'ev_id', 'ev_retry', 'failed_at', 'reason', 'ev_type', 'ev_data'], rows.map((r) => [r.queue_name, r.consumer_name, r.ev_id, r.ev_retry, r.failed_time, clip(r.reason), r.ev_type, clip(r.ev_data)]))) out(l);
}

function eventIds(ids: readonly string[], list: string): void {
  for (const id of ids) if (!/^\d+$/.test(id)) throw new UsageError(`${id}: an event id is a number (pgq ${list} lists them)`);
}

export async function retryFailed(c: pg.ClientBase, out: Out, queue: string, consumer: string, ids: readonly string[]): Promise<void> {
  await mustExist(c, queue);
  eventIds(ids, 'failed');
  const n = await pgq.retryFailed(c, queue, consumer, ids.length === 0 ? null : ids);
  out(`${String(n)} failed events of ${consumer} on ${queue} moved back into the queue`);
}

export async function deleteFailed(c: pg.ClientBase, out: Out, queue: string, consumer: string, ids: readonly string[], all: boolean): Promise<void> {
  await mustExist(c, queue);
  eventIds(ids, 'failed');
  if (ids.length === 0 && !all) throw new UsageError('failed-delete needs the event ids to forget (pgq failed lists them), or --all');
  if (ids.length > 0 && all) throw new UsageError('failed-delete takes event ids or --all, not both');
  const n = await pgq.deleteFailed(c, queue, consumer, all ? null : ids);
  out(`${String(n)} failed events of ${consumer} on ${queue} deleted`);
}
