/**
 * Reading the next batch while this one is applied (docs/architecture.md, "Apply"). PgQ opens a
 * consumer's next batch only once the open one is finished, and finish_batch must follow the
 * local commit; but the events of the batch that comes next are already there on the provider.
 * While the local node applies batch N, the provider connection is free: it asks which batch
 * next_batch_merged would open after N (pgq.peek_next_batch) and reads its events (the
 * provider's COPY, as it comes) into memory; the next batch is then staged from there if it spans
 * the same two ticks. Otherwise what was read is dropped: the events between two ticks are fixed
 * once both ticks exist, so a match is exactly that batch, and reading them changed nothing on
 * the provider. What is hidden is the provider's part of the load (its query, the transfer);
 * the stager runs when the batch is loaded, as without a read-ahead, so it does not take the
 * process's time from the apply in flight. Only merged batches (ours, not upstream PgQ) of at
 * most `maxEvents` events are read ahead, and at most MAX_BYTES of them are kept: a bigger one
 * is read again when its turn comes.
 */
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { pgq } from '@skytools/core';

/** Bytes kept from one read-ahead at most; beyond, the rest is read and dropped. */
const MAX_BYTES = 64 * 1024 * 1024;

/** The next batch's events as the provider's COPY sent them, read while the batch before it was applied. */
export class ReadAhead {
  private constructor(
    private readonly provider: pg.ClientBase,
    readonly prevTickId: string,
    readonly curTickId: string,
    /** COPY text lines of the batch's events, as batchEventsStream gives them. */
    readonly chunks: readonly Buffer[],
  ) {}

  /**
   * Read the batch that follows `consumer`'s open one on `provider`; null when there is none yet,
   * it is bigger than `maxEvents`, or it does not fit MAX_BYTES (the batch is read in its turn
   * then). `provider` may be used again once this has settled; when it rejects, the connection
   * may be amid a COPY: the caller drops it.
   */
  static async read(provider: pg.ClientBase, queue: string, consumer: string, maxEvents: number): Promise<ReadAhead | null> {
    const next = await pgq.peekNextBatch(provider, queue, consumer, maxEvents);
    if (next === null || next.events > maxEvents) return null;
    const chunks: Buffer[] = [];
    let bytes = 0;
    await pipeline(
      pgq.eventsCopy(provider, next.eventSql),
      new Writable({
        write(chunk: Buffer, _enc, done): void {
          bytes += chunk.length;
          // the COPY is read to its end anyway: the connection is free only after it
          if (bytes <= MAX_BYTES) chunks.push(chunk);
          done();
        },
      }),
    );
    return bytes > MAX_BYTES ? null : new ReadAhead(provider, next.prevTickId, next.curTickId, chunks);
  }

  /**
   * Is this what the batch from `prevTickId` to `curTickId` on `provider` holds? Read on another
   * connection (the provider changed, or was connected again), it is not trusted.
   */
  matches(provider: pg.ClientBase, prevTickId: string, curTickId: string): boolean {
    return this.provider === provider && this.prevTickId === prevTickId && this.curTickId === curTickId;
  }
}
