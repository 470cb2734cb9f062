/**
 * One consumer job of londisted: the @skytools/pgq consumer its job_type calls for, with the
 * handler that does the type's work. Every type applies each event exactly once: into another
 * database through pgq_ext (queue_mover, queue_splitter: per batch; simple_consumer: per event,
 * each statement committed on its own as upstream's), or in the queue's own database within the
 * batch's transaction (simple_local_consumer, a module without dst_db). What a job cannot do with
 * an event (a splitter's event naming no queue or a missing one) stops it with an error naming
 * the event: nothing is skipped.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type pg from 'pg';
import { describeError, maskSecrets, pgq, SkytoolsError, UsageError, type Logger } from '@skytools/core';
import { Consumer, insertEvents, RemoteConsumer, type Batch, type BatchHandler, type ConsumerOptions, type NewEvent, type QueueEvent } from '@skytools/pgq';
import { JobLock } from '../worker/job-lock.js';
import type { JobStats } from '../worker/job-stats.js';
import type { ConsumerJobConfig } from './consumer-job-config.js';
import { compileEventQuery } from './event-query.js';

/** An event as it goes into another queue: its fields and its time kept, a new id there. */
function moved(ev: QueueEvent): NewEvent {
  return { type: ev.type ?? '', data: ev.data, extra1: ev.extra1, extra2: ev.extra2, extra3: ev.extra3, extra4: ev.extra4, time: ev.time };
}

async function loadModuleHandler(job: ConsumerJobConfig): Promise<BatchHandler> {
  const file = resolve(job.module ?? '');
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (err) {
    throw new UsageError(`${job.file}: module ${file} cannot be loaded: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  const handler = mod['handler'];
  if (typeof handler !== 'function') throw new UsageError(`${job.file}: module ${file} exports no function named handler (async handler(batch, client))`);
  return handler as BatchHandler;
}

/** The handler of a job type (module: loaded from its file). */
async function handlerOf(job: ConsumerJobConfig): Promise<BatchHandler> {
  switch (job.job_type) {
    case 'queue_mover': {
      const into = job.dst_queue_name ?? job.queue_name;
      return async (batch, target) => {
        if (batch.events.length > 0) await insertEvents(target, into, batch.events.map(moved));
      };
    }
    case 'queue_splitter': {
      const field = job.queue_field;
      return async (batch, target) => {
        const byQueue = new Map<string, QueueEvent[]>();
        for (const ev of batch.events) {
          const queue = field === 'type' ? ev.type : ev[field];
          if (queue === null || queue === '') throw new SkytoolsError(`event ${ev.id} of batch ${batch.id} names no queue in its ${field}: queue_splitter ${job.job_name} stops here`);
          const list = byQueue.get(queue);
          if (list === undefined) byQueue.set(queue, [ev]);
          else list.push(ev);
        }
        for (const [queue, events] of byQueue) {
          if (!(await pgq.queueExists(target, queue))) {
            throw new SkytoolsError(`event ${events[0]?.id ?? '?'} of batch ${batch.id} is for queue ${queue}, which the target does not have: create it there (pgq create-queue ${queue}); queue_splitter ${job.job_name} stops here`);
          }
          await insertEvents(target, queue, events.map(moved));
        }
      };
    }
    case 'simple_consumer':
    case 'simple_local_consumer': {
      const query = compileEventQuery(job.dst_query ?? '', job.file);
      const types = job.event_types === undefined ? undefined : new Set(job.event_types);
      return async (batch, client) => {
        for (const ev of batch.events) {
          if (types !== undefined && !types.has(ev.type ?? '')) continue;
          await client.query(query.text, query.params(ev));
        }
      };
    }
    case 'module':
      return loadModuleHandler(job);
  }
}

export class ConsumerJob {
  constructor(
    private readonly job: ConsumerJobConfig,
    private readonly log: Logger,
    private readonly stats: JobStats,
  ) {}

  /** Register on the queue (once) and consume until the signal is aborted. */
  async run(signal: AbortSignal): Promise<void> {
    const job = this.job;
    const inner = await handlerOf(job);
    const handler = async (batch: Batch, client: pg.ClientBase): Promise<void> => {
      this.stats.batchStarted();
      await inner(batch, client);
    };
    const options: ConsumerOptions = {
      db: job.src_db,
      queue: job.queue_name,
      name: job.job_name,
      handler,
      logger: this.log,
      idleTimeoutMs: job.loop_delay,
      mergeEvents: job.batch_merge_events,
      onError: (err) => this.stats.failed(maskSecrets(describeError(err))),
      // progress for londisted's metrics and status page, once committed
      onBatch: (batch) => this.stats.batchDone(batch.events.length, batch.tickId, batch.tickLocalTime),
      onIdle: () => this.stats.idle(),
    };
    const consumer =
      job.dst_db === undefined
        ? new Consumer(options)
        : new RemoteConsumer({ ...options, target: job.dst_db, tracking: job.job_type === 'simple_consumer' ? 'event' : 'batch' });
    // one process per job, as for Londiste jobs: two consumers of one name would take the same batch
    const lock = await JobLock.acquire(job.src_db, job.queue_name, job.job_name, this.log);
    try {
      if (await consumer.register()) this.log.info(`registered as consumer ${job.job_name} on queue ${job.queue_name}`);
      this.stats.seenNode({ queue: job.queue_name, name: job.job_name, type: job.job_type, provider: null, paused: false });
      this.stats.up = true;
      this.stats.standby = false;
      this.log.info(`Job ${job.job_name} started (${job.job_type}, queue ${job.queue_name})`);
      await consumer.run(signal);
    } finally {
      this.stats.up = false;
      await lock.release();
    }
    this.log.info(`Job ${job.job_name} stopped after ${String(consumer.stats.batches)} batches, ${String(consumer.stats.events)} events`);
  }
}
