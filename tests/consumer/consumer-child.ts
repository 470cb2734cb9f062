// A consumer process for the tests (killed with SIGKILL at will): consumes QUEUE as NAME and
// writes each event it handles into `consumed` — in the queue's database (local) or in the
// target's (remote, tracking batch or event) — sleeping a little per batch so that a kill lands
// mid-batch. Events typed `retry-once` are put back once for one second. SIGTERM stops it.
// argv: DB QUEUE NAME local|remote-batch|remote-event [TARGET]
import { createLogger } from '@skytools/core';
import { Consumer, RemoteConsumer, type Batch, type BatchHandler } from '@skytools/pgq';
import type pg from 'pg';

const [db, queue, name, mode, target] = process.argv.slice(2);
if (db === undefined || queue === undefined || name === undefined || mode === undefined) throw new Error('usage: DB QUEUE NAME MODE [TARGET]');

const handler: BatchHandler = async (batch: Batch, client: pg.ClientBase) => {
  for (const ev of batch.events) {
    if (ev.type === 'retry-once' && ev.retryCount === 0) {
      ev.retry(1);
      continue;
    }
    await client.query('INSERT INTO consumed (ev_id, ev_type, retry_count, batch_id) VALUES ($1, $2, $3, $4)', [ev.id, ev.type, ev.retryCount, batch.id]);
  }
  // a kill then lands mid-batch (a batch of one, in per-event tracking, needs no pause)
  if (batch.events.length > 1) await new Promise((r) => setTimeout(r, 20));
};

const stop = new AbortController();
process.on('SIGTERM', () => stop.abort());
const options = { db, queue, name, handler, idleTimeoutMs: 500, errorBackoffMaxMs: 2000, logger: createLogger({ level: 'warning' }) };
const consumer = mode === 'local' ? new Consumer(options) : new RemoteConsumer({ ...options, target: target ?? '', tracking: mode === 'remote-event' ? 'event' : 'batch' });
await consumer.register();
process.stdout.write('consuming\n');
await consumer.run(stop.signal);
process.stdout.write(`stopped: ${JSON.stringify(consumer.stats)}\n`);
