#!/usr/bin/env node
// pgq [--db CONNSTR] COMMAND ...: administer PgQ queues (upstream's qadmin). Results on stdout;
// errors are one line on stderr and exit code 1. The database: --db, else PGQ_DB, else libpq's
// PG* environment.
// before anything that loads pg (see there)
import '@skytools/core/runtime-globals';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import type pg from 'pg';
import { connect, describeError, maskSecrets, SKYTOOLS_TS_VERSION, UsageError } from '@skytools/core';
import * as admin from '../admin-commands.js';

type Work = (c: pg.Client, out: admin.Out) => Promise<void>;

let work: Work | undefined;
const set = (w: Work): void => {
  work = w;
};
const str = (v: unknown): string => String(v);

const args = await yargs(hideBin(process.argv))
  .scriptName('pgq')
  // yargs' own messages in English, like ours, whatever LANG says
  .locale('en')
  .usage('$0 [--db CONNSTR] COMMAND\n\nAdminister PgQ queues: create and drop them, register consumers, look at lag and retries.')
  .option('db', { type: 'string', describe: 'connection string of the queue database (default: $PGQ_DB, else the PG* environment)' })
  .command('create-queue <queue>', 'create a queue', (y) => y.positional('queue', { type: 'string', demandOption: true }), (a) => set((c, out) => admin.createQueue(c, out, str(a.queue))))
  .command(
    'drop-queue <queue>',
    'drop a queue with its events (refused while consumers are registered, unless --force)',
    (y) => y.positional('queue', { type: 'string', demandOption: true }).option('force', { type: 'boolean', default: false, describe: 'unregister its consumers first' }),
    (a) => set((c, out) => admin.dropQueue(c, out, str(a.queue), a.force)),
  )
  .command(
    'install [schemas..]',
    `install or upgrade schemas in the database (${admin.INSTALLABLE.join(', ')}; default pgq)`,
    (y) => y.positional('schemas', { type: 'string', array: true }),
    (a) => set((c, out) => admin.install(c, out, (a.schemas ?? []).map(String))),
  )
  .command(
    'register <queue> <consumer>',
    'register a consumer at the queue’s newest tick (with --subconsumer: a sub-consumer of it, pgq_coop)',
    (y) =>
      y
        .positional('queue', { type: 'string', demandOption: true })
        .positional('consumer', { type: 'string', demandOption: true })
        .option('subconsumer', { type: 'string', describe: 'register sub-consumer NAME of the consumer (cooperative consuming)' }),
    (a) => set((c, out) => admin.register(c, out, str(a.queue), str(a.consumer), a.subconsumer)),
  )
  .command(
    'unregister <queue> <consumer>',
    'unregister a consumer (its position and retry events are gone), or with --subconsumer one sub-consumer',
    (y) =>
      y
        .positional('queue', { type: 'string', demandOption: true })
        .positional('consumer', { type: 'string', demandOption: true })
        .option('subconsumer', { type: 'string', describe: 'unregister only this sub-consumer of the consumer' })
        .option('drop-batch', { type: 'boolean', default: false, describe: 'a sub-consumer holding a batch: drop it with its batch (those events are lost to the consumer)' }),
    (a) => set((c, out) => admin.unregister(c, out, str(a.queue), str(a.consumer), a.subconsumer, a['drop-batch'])),
  )
  .command('queues [queue]', 'queues with ticker lag, event rate, new events, consumers', (y) => y.positional('queue', { type: 'string' }), (a) => set((c, out) => admin.showQueues(c, out, a.queue)))
  .command('consumers [queue]', 'consumers with lag, last seen, pending and retry events', (y) => y.positional('queue', { type: 'string' }), (a) => set((c, out) => admin.showConsumers(c, out, a.queue)))
  .command(
    'insert <queue> <type> [data]',
    'insert one event',
    (y) =>
      y
        .positional('queue', { type: 'string', demandOption: true })
        .positional('type', { type: 'string', demandOption: true })
        .positional('data', { type: 'string' })
        .option('extra1', { type: 'string' })
        .option('extra2', { type: 'string' })
        .option('extra3', { type: 'string' })
        .option('extra4', { type: 'string' }),
    (a) =>
      set((c, out) =>
        admin.insert(c, out, str(a.queue), str(a.type), a.data ?? null, {
          ...(a.extra1 === undefined ? {} : { extra1: a.extra1 }),
          ...(a.extra2 === undefined ? {} : { extra2: a.extra2 }),
          ...(a.extra3 === undefined ? {} : { extra3: a.extra3 }),
          ...(a.extra4 === undefined ? {} : { extra4: a.extra4 }),
        }),
      ),
  )
  .command(
    'config <queue> [settings..]',
    `show a queue's settings, or set KEY=VALUE (${admin.QUEUE_SETTINGS.join(', ')})`,
    (y) => y.positional('queue', { type: 'string', demandOption: true }).positional('settings', { type: 'string', array: true }),
    (a) => set((c, out) => admin.config(c, out, str(a.queue), a.settings ?? [])),
  )
  .command(
    'retries [queue] [consumer]',
    'events waiting in the retry queue, soonest first',
    (y) => y.positional('queue', { type: 'string' }).positional('consumer', { type: 'string' }).option('limit', { type: 'number', default: 100 }),
    (a) => set((c, out) => admin.showRetries(c, out, a.queue, a.consumer, a.limit)),
  )
  .command(
    'requeue <queue> <consumer> [ids..]',
    'move retry events of a consumer back into the queue now (all, or these event ids)',
    (y) => y.positional('queue', { type: 'string', demandOption: true }).positional('consumer', { type: 'string', demandOption: true }).positional('ids', { type: 'string', array: true }),
    (a) => set((c, out) => admin.requeue(c, out, str(a.queue), str(a.consumer), (a.ids ?? []).map(String))),
  )
  .command(
    'failed [queue] [consumer]',
    'events consumers gave up on (ev.fail), oldest first, with the reason',
    (y) => y.positional('queue', { type: 'string' }).positional('consumer', { type: 'string' }).option('limit', { type: 'number', default: 100 }),
    (a) => set((c, out) => admin.showFailed(c, out, a.queue, a.consumer, a.limit)),
  )
  .command(
    'failed-retry <queue> <consumer> [ids..]',
    'send failed events of a consumer back to it now (all, or these event ids)',
    (y) => y.positional('queue', { type: 'string', demandOption: true }).positional('consumer', { type: 'string', demandOption: true }).positional('ids', { type: 'string', array: true }),
    (a) => set((c, out) => admin.retryFailed(c, out, str(a.queue), str(a.consumer), (a.ids ?? []).map(String))),
  )
  .command(
    'failed-delete <queue> <consumer> [ids..]',
    'forget failed events of a consumer (these event ids, or --all)',
    (y) =>
      y
        .positional('queue', { type: 'string', demandOption: true })
        .positional('consumer', { type: 'string', demandOption: true })
        .positional('ids', { type: 'string', array: true })
        .option('all', { type: 'boolean', default: false, describe: 'every failed event of the consumer' }),
    (a) => set((c, out) => admin.deleteFailed(c, out, str(a.queue), str(a.consumer), (a.ids ?? []).map(String), a.all)),
  )
  .demandCommand(1, 'a command is required (pgq --help lists them)')
  .version(SKYTOOLS_TS_VERSION)
  .strict()
  .help()
  .fail((msg, err) => {
    process.stderr.write(`ERROR ${err === undefined ? msg : describeError(err)}\n`);
    process.exit(1);
  })
  .parseAsync();

if (work !== undefined) {
  const db = args.db ?? process.env['PGQ_DB'] ?? '';
  let client: pg.Client | undefined;
  try {
    client = await connect(db, { name: 'pgq', applicationName: 'pgq' });
    await work(client, (line) => process.stdout.write(`${line}\n`));
  } catch (err) {
    process.stderr.write(`ERROR ${maskSecrets(err instanceof UsageError ? err.message : describeError(err))}\n`);
    process.exitCode = 1;
  } finally {
    await client?.end().catch(() => undefined);
  }
}
