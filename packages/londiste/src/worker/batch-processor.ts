/**
 * One batch from the provider, applied on the local node (docs/architecture.md, "One event's
 * way"): the events stream from the provider while this node applies them, in one local
 * transaction under the replica role that also records the batch's closing tick; then, after
 * the commit, the branch's own tick and finish_batch on the provider. A crash anywhere neither
 * loses nor duplicates: a batch whose tick is already recorded locally is only finished.
 */
import type pg from 'pg';
import { describeError, pgq, pgqNode, session, SkytoolsError, TxidSnapshot, type BatchInfo, type Logger } from '@skytools/core';
import { BatchApplier } from '../replay/batch-applier.js';
import { READ_AHEAD_MAX_BYTES, ReadAhead, type ReadAheadResult } from '../replay/batch-read-ahead.js';
import { freezeLockKeys } from './job-lock.js';
import type { TableState } from '../replay/table-state.js';

/** Batches a job goes without reading ahead after one that was too big to keep. */
const READ_AHEAD_PAUSE_BATCHES = 10;

export interface BatchTarget {
  db: pg.Client;
  provider: pg.Client;
  /** The local node re-publishes the events (a branch). */
  isBranch: boolean;
  /** A merge leaf: the combined queue it passes the data events on into. */
  combinedQueue: string | null;
  /** The tick this node last completed. */
  completedTick: string | null;
  tables: Map<string, TableState>;
  /** This node's name, for error messages. */
  node: string;
  /** batch_merge_events the batch was taken with (0: tick by tick); the next one is read ahead within it. */
  mergeEvents: number;
  /** The job's read_ahead key: the next batch is read while this one is applied. */
  readAhead: boolean;
}

export class BatchProcessor {
  private applier: BatchApplier | undefined;
  private applierDb: pg.Client | undefined;
  /** The next batch's events, read while the last one was applied. */
  private ahead: ReadAhead | null = null;
  /** Batches to go without a read-ahead (after one too big to keep). */
  private skipReadAhead = 0;

  constructor(
    private readonly queue: string,
    private readonly consumer: string,
    private readonly log: Logger,
  ) {}

  /** The applier of this connection: it keeps the session's staging tables and table structures. */
  private applierFor(db: pg.Client): BatchApplier {
    if (this.applier === undefined || this.applierDb !== db) {
      this.applier = new BatchApplier(db, this.queue, this.log);
      this.applierDb = db;
    }
    return this.applier;
  }

  /** Forget what was cached about the local tables (after an error or DDL). */
  reset(): void {
    this.applier = undefined;
    this.applierDb = undefined;
    this.ahead = null;
  }

  /** Drop a batch read ahead (the job rests or is paused: it would only hold memory). */
  forgetReadAhead(): void {
    this.ahead = null;
  }

  /**
   * Apply and finish one batch; the number of events it had, or 'frozen' when compare or repair
   * holds the job's freeze lock (nothing applied; the batch stays open for the next round).
   */
  async process(t: BatchTarget, batch: BatchInfo): Promise<number | 'frozen'> {
    if (t.completedTick === batch.curTickId) {
      // applied before a crash, not finished on the provider yet
      await this.close(t, batch);
      return 0;
    }
    if (t.completedTick !== batch.prevTickId) {
      // this node applied past the batch's start, but the provider hands out older ticks again: it
      // lost the end of an earlier batch (a crash before that commit reached its disk, as with
      // synchronous_commit off). What this node applied is recorded with its data, so the
      // subscription moves up to it; a provider that no longer has that tick cannot be resumed.
      const done = t.completedTick;
      if (done !== null && BigInt(done) > BigInt(batch.prevTickId) && (await pgq.tickExists(t.provider, this.queue, done))) {
        this.ahead = null;
        this.log.warning(`the provider is behind this node (batch ${batch.prevTickId}..${batch.curTickId}, this node has applied tick ${done}): moving the subscription there to tick ${done}`);
        await pgq.registerConsumerAt(t.provider, this.queue, this.consumer, done);
        return 0;
      }
      throw new SkytoolsError(`Lost position: batch ${batch.prevTickId}..${batch.curTickId}, dst has ${done ?? 'NULL'}`);
    }
    const t0 = performance.now();
    const applier = this.applierFor(t.db);
    const before = applier.applyMs;
    let count = 0;
    let t1 = t0;
    await session.beginReplica(t.db);
    const [fa, fb] = freezeLockKeys(this.queue, this.consumer);
    if (!(await session.tryAdvisoryXactLockShared(t.db, fa, fb))) {
      await session.rollback(t.db);
      return 'frozen';
    }
    let reading: Promise<ReadAheadResult> | null = null;
    try {
      applier.begin(t.tables, { republish: t.isBranch, combinedQueue: t.combinedQueue }, batch.batchId, batch.curTickId, batch.curTickTime, t.node);
      // the provider's COPY streams the batch into this node's batch stage (or it was read ahead)
      const ahead = this.ahead;
      this.ahead = null;
      count = await applier.load(t.provider, batch, ahead);
      if (ahead !== null && !applier.stats.readAhead) this.log.debug(`read ahead of ticks ${ahead.ticks} dropped: the batch spans ticks ${batch.prevTickId}..${batch.curTickId}`);
      t1 = performance.now();
      // the provider connection is free until finish_batch: the next batch is read meanwhile
      if (this.readsAhead(t, batch)) {
        reading = ReadAhead.read(t.provider, this.queue, this.consumer, t.mergeEvents).then((r) => {
          if (r.ahead !== null) this.log.debug(`read ahead: ticks ${r.ahead.ticks}, ${String(r.ahead.events.length)} bytes`);
          return r;
        });
        // settled below on every path; a rejection must not go unhandled meanwhile
        reading.catch(() => undefined);
      }
      await applier.apply();
      // the combined queue learns how far this part's queue has come (upstream's merge leaf)
      if (t.combinedQueue !== null) await pgq.insertEvent(t.db, t.combinedQueue, 'pgq.tick-id', batch.curTickId, this.queue);
      const nowOk = await applier.finish(batch.curTickSnapshot === null ? null : TxidSnapshot.parse(batch.curTickSnapshot));
      await pgqNode.setConsumerCompletedAndCommit(t.db, this.queue, this.consumer, batch.curTickId);
      for (const name of nowOk) this.log.info(`${name}: in sync (ok)`);
    } catch (err) {
      await session.rollback(t.db);
      // the provider connection is free again only when the read-ahead has ended
      await reading?.catch(() => null);
      this.reset();
      throw err;
    }
    const t2 = performance.now();
    if (reading !== null) {
      // the batch is applied: a failed read-ahead costs only the next batch's read in its turn
      // (a connection that broke fails finish_batch below, as it would have anyway)
      const r = await reading.catch((err: unknown): ReadAheadResult => {
        this.log.warning(`reading the next batch ahead failed; it is read in its turn: ${describeError(err)}`);
        return { ahead: null };
      });
      this.ahead = r.ahead;
      if (r.overflow !== undefined) {
        // a batch of rows too wide to keep: the next ones likely are too, so a while without
        this.skipReadAhead = READ_AHEAD_PAUSE_BATCHES;
        this.log.debug(
          `read ahead of ticks ${r.overflow.ticks} dropped: ${String(r.overflow.bytes)} bytes, over the ${String(READ_AHEAD_MAX_BYTES >> 20)} MB kept; the next ${String(READ_AHEAD_PAUSE_BATCHES)} batches are read in their turn`,
        );
      }
    }
    await this.close(t, batch);
    if (count > 0 && this.log.isDebugEnabled()) {
      const s = applier.stats;
      const after = applier.applyMs;
      const ms = (a: number, b: number): string => (b - a).toFixed(0);
      this.log.debug(
        `batch ${batch.batchId} (tick ${batch.curTickId}): ${count} events, ${s.applied} applied, ${s.backlogged} kept for copy, ${s.skipped} skipped; ` +
          `ms: load ${ms(t0, t1)}${s.readAhead ? ' (read ahead)' : ''}, apply+commit ${ms(t1, t2)} (row statements ${ms(before, after)}), close ${ms(t2, performance.now())}`,
      );
    }
    return count;
  }

  /**
   * Is the next batch read while this one is applied? For a merged batch of a job that is behind
   * (this batch holds at least half of batch_merge_events): a job keeping up would mostly read a
   * batch that ends up spanning one more tick, i.e. read everything twice.
   */
  private readsAhead(t: BatchTarget, batch: BatchInfo): boolean {
    if (!t.readAhead || !batch.merged || t.mergeEvents <= 0) return false;
    if (this.skipReadAhead > 0) {
      this.skipReadAhead -= 1;
      return false;
    }
    return (BigInt(batch.curTickEventSeq) - BigInt(batch.prevTickEventSeq)) * 2n >= BigInt(t.mergeEvents);
  }

  /** After the commit: a branch ticks its own queue at the batch's tick, then the provider forgets the batch. */
  private async close(t: BatchTarget, batch: BatchInfo): Promise<void> {
    if (t.isBranch && (await pgq.lastTickId(t.db, this.queue)) !== batch.curTickId) {
      await pgq.tickAs(t.db, this.queue, batch.curTickId, batch.curTickTime, batch.curTickEventSeq);
    }
    await pgq.finishBatch(t.provider, batch.batchId);
  }
}
