/**
 * The `pgq` command's work (upstream's qadmin): each function takes a connected client and an
 * output line sink, and prints what it did or found. Bad input is refused before any change.
 */
import type pg from 'pg';
import { formatDisplayTable, pgq, session, UsageError } from '@skytools/core';
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

export async function register(c: pg.ClientBase, out: Out, queue: string, consumer: string): Promise<void> {
  await mustExist(c, queue);
  out((await pgq.registerConsumer(c, queue, consumer)) ? `consumer ${consumer} registered on ${queue}` : `consumer ${consumer} was registered on ${queue} already`);
}

export async function unregister(c: pg.ClientBase, out: Out, queue: string, consumer: string): Promise<void> {
  await mustExist(c, queue);
  if (!(await pgq.consumerNames(c, queue)).includes(consumer)) throw new UsageError(`consumer ${consumer} is not registered on ${queue}`);
  await pgq.unregisterConsumer(c, queue, consumer);
  out(`consumer ${consumer} unregistered from ${queue}`);
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
  for (const id of ids) if (!/^\d+$/.test(id)) throw new UsageError(`${id}: an event id is a number (pgq retries lists them)`);
  const n = await pgq.requeueNow(c, queue, consumer, ids.length === 0 ? null : ids);
  out(`${String(n)} retry events of ${consumer} on ${queue} moved back into the queue`);
}
