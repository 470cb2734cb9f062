// A consumer process for the tests (killed with SIGKILL at will): consumes QUEUE as NAME and
// writes each event it handles into `consumed` — in the queue's database (local) or in the
// target's (remote, tracking batch or event) — sleeping a little per batch so that a kill lands
// mid-batch. Events typed `retry-once` are put back once for one second; events typed `poison`
// are given up on (ev.fail) the first time they come. SIGTERM stops it.
// argv: DB QUEUE NAME local|remote-batch|remote-event|coop-SUB|remote-coop-SUB [TARGET]
// (coop-SUB: sub-consumer SUB of NAME, local, taking over a sibling's batch after 5 s of silence,
// long enough that a live sibling stalled on a loaded machine (CI) is not taken for dead;
// remote-coop-SUB: sub-consumer SUB into the target, per-batch tracking)
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
    if (ev.type === 'poison' && ev.retryCount === 0) {
      ev.fail(`cannot handle ${ev.data ?? ''}`);
      continue;
    }
    await client.query('INSERT INTO consumed (ev_id, ev_type, retry_count, batch_id, who) VALUES ($1, $2, $3, $4, $5)', [ev.id, ev.type, ev.retryCount, batch.id, who]);
  }
  // a kill then lands mid-batch (a batch of one, in per-event tracking, needs no pause); with
  // HOLD_BATCH_MS the process sits on its first batch that long (to be killed holding it)
  if (batch.events.length > 1) await new Promise((r) => setTimeout(r, hold > 0 ? hold : 20));
};

const hold = Number(process.env['HOLD_BATCH_MS'] ?? 0);
const stop = new AbortController();
process.on('SIGTERM', () => stop.abort());
const coop = /^(remote-)?coop-(.+)$/.exec(mode);
const sub = coop?.[2];
const who = sub === undefined ? name : `${name}.${sub}`;
const options = { db, queue, name, handler, idleTimeoutMs: 500, errorBackoffMaxMs: 2000, logger: createLogger({ level: 'warning' }), ...(sub === undefined ? {} : { subconsumer: sub }) };
const consumer =
  mode === 'local'
    ? new Consumer(options)
    : coop !== null && coop[1] === undefined
      ? new Consumer({ ...options, deadSubconsumerMs: 5000 })
      : new RemoteConsumer({ ...options, target: target ?? '', tracking: mode === 'remote-event' ? 'event' : 'batch' });
await consumer.register();
process.stdout.write('consuming\n');
await consumer.run(stop.signal);
process.stdout.write(`stopped: ${JSON.stringify(consumer.stats)}\n`);
