/**
 * A consumer whose work lands in another database (the target): the handler writes there in a
 * transaction that also records the batch as done in pgq_ext (`tracking: 'batch'`), or each
 * event in a transaction of its own that records that event (`tracking: 'event'`, for handlers
 * that must commit event by event). Only then is the batch finished on the queue. A batch that
 * comes again after a crash between the two is recognised on the target and not applied twice.
 *
 * Events put aside with retry() are recorded on the queue before the target commits: after a
 * crash between the two, such an event may be delivered once more than asked (at least once,
 * which is what a retry means), never lost; every other event is applied exactly once.
 */
import type pg from 'pg';
import { pgqExt, session, SkytoolsError, UsageError } from '@skytools/core';
import type { ConsumerOptions } from './batch-loop.js';
import { TargetBatchLoop } from './target-batch-loop.js';
import type { Batch } from './queue-event.js';

export interface RemoteConsumerOptions extends ConsumerOptions {
  /** Connection string of the target database (pgq_ext installed there). */
  target: string;
  /** Where progress is kept on the target: per batch (default) or per event. */
  tracking?: 'batch' | 'event';
}

export class RemoteConsumer extends TargetBatchLoop {
  constructor(private readonly remote: RemoteConsumerOptions) {
    super(remote);
    // a "dead" sibling that was only slow would record the batch under its own name on the
    // target: both would apply it, and pgq_ext could not tell
    if (remote.deadSubconsumerMs !== undefined) {
      throw new UsageError(`consumer ${this.displayName}: deadSubconsumerMs is not available for a RemoteConsumer (a taken-over batch could be applied twice on the target); leave it out`);
    }
  }

  protected async apply(queue: pg.ClientBase, batch: Batch): Promise<void> {
    const target = await this.target();
    try {
      if ((this.remote.tracking ?? 'batch') === 'batch') await this.applyBatch(queue, target, batch);
      else await this.applyEvents(queue, target, batch);
    } catch (err) {
      // the target connection may be mid-transaction or broken: a fresh one next time
      await this.closeTarget();
      throw err;
    }
    await this.finishBatch(queue, batch);
  }

  private async applyBatch(queue: pg.ClientBase, target: pg.Client, batch: Batch): Promise<void> {
    const { name } = this.options;
    const sub = this.options.subconsumer ?? '';
    await session.withTransaction(target, async () => {
      await pgqExt.lockConsumer(target, name, sub);
      await this.refuseStale(target, batch, 'batch');
      if (await pgqExt.isBatchDone(target, name, sub, batch.id)) {
        this.log.info(`consumer ${name}: batch ${batch.id} was applied on the target already; finishing it`);
        return;
      }
      await this.options.handler(batch, target);
      if (!(await pgqExt.setBatchDone(target, name, sub, batch.id))) throw new SkytoolsError(`batch ${batch.id} was applied on the target meanwhile (another process named ${name}?): rolled back`);
      // committed on the queue before the target commits: a crash in between redelivers the
      // batch (the target rolled back), never loses a retry
      await session.withTransaction(queue, () => this.recordPutAside(queue, batch));
    });
  }

  private async applyEvents(queue: pg.ClientBase, target: pg.Client, batch: Batch): Promise<void> {
    const { name } = this.options;
    const sub = this.options.subconsumer ?? '';
    for (const ev of batch.events) {
      const one = { ...batch, events: [ev] };
      await session.withTransaction(target, async () => {
        await pgqExt.lockConsumer(target, name, sub);
        await this.refuseStale(target, batch, 'event');
        if ((await pgqExt.doneEvents(target, name, sub, batch.id, [ev.id])).size > 0) return;
        await this.options.handler(one, target);
        if (!(await pgqExt.setEventsDone(target, name, sub, batch.id, [ev.id]))) throw new SkytoolsError(`event ${ev.id} was applied on the target meanwhile (another process named ${name}?): rolled back`);
        await session.withTransaction(queue, () => this.recordPutAside(queue, one));
      });
    }
  }

  /**
   * A batch older than the one the target recorded last was finished by another process of this
   * name while this one waited for the lock: its "done" marks may be gone (per-event tracking
   * keeps only the newest batch's), so applying it would apply it twice. Refused, never skipped:
   * the next round takes the queue's current batch.
   */
  private async refuseStale(target: pg.Client, batch: Batch, tracking: 'batch' | 'event'): Promise<void> {
    const { name, queue } = this.options;
    const sub = this.options.subconsumer ?? '';
    const recorded = await pgqExt.recordedBatch(target, name, sub, tracking);
    if (recorded === null || recorded <= BigInt(batch.id)) return;
    throw new SkytoolsError(
      `batch ${batch.id} of ${queue} is older than batch ${String(recorded)} that consumer ${name} recorded on the target: another process of this name ran ahead (run one per name), this name also consumes another queue into this target (give each its own name), or the queue's database was recreated (then clear the consumer's rows in pgq_ext on the target); rolled back`,
    );
  }

  protected get targetLocation(): string {
    return this.remote.target;
  }
}
