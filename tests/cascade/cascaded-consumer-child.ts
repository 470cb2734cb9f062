// A CascadedConsumer for the takeover scenario: keeps its position on the node TARGET and records
// every ledger row the cascade's queue carries (its INSERT events) in public.ledger_seen there, in
// the batch's transaction; a row seen twice is a key violation. SIGTERM stops it.
// argv: TARGET QUEUE NAME
import { createLogger } from '@skytools/core';
import { CascadedConsumer, type Batch } from '@skytools/pgq';
import type pg from 'pg';

const [target, queue, name] = process.argv.slice(2);
if (target === undefined || queue === undefined || name === undefined) throw new Error('usage: TARGET QUEUE NAME');

/** A ledger row's id from its event (urlencoded or JSON row image). */
function ledgerId(data: string | null): number {
  if (data === null) throw new Error('an INSERT event without data');
  if (data.startsWith('{')) return Number((JSON.parse(data) as { data?: { id?: number }; id?: number }).data?.id ?? (JSON.parse(data) as { id?: number }).id);
  return Number(new URLSearchParams(data).get('id'));
}

const handler = async (batch: Batch, client: pg.ClientBase): Promise<void> => {
  const ids = batch.events.filter((ev) => ev.extra1 === 'public.ledger' && (ev.type ?? '').startsWith('I')).map((ev) => ledgerId(ev.data));
  if (ids.length > 0) await client.query('INSERT INTO public.ledger_seen (id, batch_id) SELECT unnest($1::int[]), $2', [ids, batch.id]);
};

const stop = new AbortController();
process.on('SIGTERM', () => stop.abort());
const consumer = new CascadedConsumer({ target, queue, name, handler, idleTimeoutMs: 500, errorBackoffMaxMs: 2000, logger: createLogger({ level: 'info' }) });
await consumer.register();
process.stdout.write('consuming\n');
await consumer.run(stop.signal);
process.stdout.write(`stopped: ${JSON.stringify(consumer.stats)}\n`);
