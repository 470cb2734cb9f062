/**
 * Reading the next batch while this one is applied (docs/architecture.md, "Read-ahead"). PgQ
 * opens a consumer's next batch only once the open one is finished, and finish_batch must follow
 * the local commit; but the events of the batch that comes next are already there on the
 * provider. While the local node applies batch N, the provider connection is free: it asks which
 * batch next_batch_merged would open after N (pgq.peek_next_batch) and reads its events (the
 * provider's COPY, as it comes) into memory; the next batch is then staged from there if it is
 * that batch (same ticks, event positions and snapshot, on the same connection). Otherwise what was read is dropped: the events between two ticks are fixed
 * once both ticks exist, so a match is exactly that batch, and reading them changed nothing on
 * the provider. What is hidden is the provider's part of the load (its query, the transfer);
 * the stager runs when the batch is loaded, as without a read-ahead, so it does not take the
 * process's time from the apply in flight. Only merged batches (ours, not upstream PgQ) of at
 * most `maxEvents` events are read ahead, and at most READ_AHEAD_MAX_BYTES of them are kept: a bigger one
 * is read again when its turn comes.
 */
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { pgq, type BatchInfo } from '@skytools/core';

/**
 * Bytes one job keeps from one read-ahead at most; beyond, the rest is read and dropped. Per
 * job: a londisted with N jobs catching up at once may hold N times this.
 */
export const READ_AHEAD_MAX_BYTES = 32 * 1024 * 1024;

/** What tells a batch apart: its ticks, their event positions and the closing snapshot. */
export type BatchSpan = Pick<BatchInfo, 'prevTickId' | 'curTickId' | 'prevTickEventSeq' | 'curTickEventSeq' | 'curTickSnapshot'>;

/** A read-ahead, or none: no batch to read, or (`overflow`) one too big to keep. */
export type ReadAheadResult = { ahead: ReadAhead; overflow?: undefined } | { ahead: null; overflow?: { ticks: string; bytes: number } };

/** The next batch's events as the provider's COPY sent them, read while the batch before it was applied. */
export class ReadAhead {
  private constructor(
    private readonly provider: pg.ClientBase,
    private readonly span: BatchSpan,
    /** COPY text lines of the batch's events, as batchEventsStream gives them. */
    readonly events: Buffer,
  ) {}

  /**
   * Read the batch that follows `consumer`'s open one on `provider`; null when there is none yet,
   * it is bigger than `maxEvents`, or it does not fit READ_AHEAD_MAX_BYTES (`overflow` then: the
   * batch is read in its turn). `provider` may be used again once this has settled.
   */
  static async read(provider: pg.ClientBase, queue: string, consumer: string, maxEvents: number): Promise<ReadAheadResult> {
    const next = await pgq.peekNextBatch(provider, queue, consumer, maxEvents);
    if (next === null || next.events > maxEvents) return { ahead: null };
    const chunks: Buffer[] = [];
    let bytes = 0;
    // The writer never fails: a COPY stream destroyed in the middle would leave the connection
    // unread (pg-copy-streams' COPY TO has no way to cancel), and finish_batch waiting behind it.
    await pipeline(
      pgq.eventsCopy(provider, next.eventSql),
      new Writable({
        write(chunk: Buffer, _enc, done): void {
          bytes += chunk.length;
          // the COPY is read to its end anyway: the connection is free only after it
          if (bytes <= READ_AHEAD_MAX_BYTES) chunks.push(chunk);
          done();
        },
      }),
    );
    if (bytes > READ_AHEAD_MAX_BYTES) return { ahead: null, overflow: { ticks: `${next.prevTickId}..${next.curTickId}`, bytes } };
    // one buffer: the chunks may be views of the socket's bigger buffers, which they would keep
    return { ahead: new ReadAhead(provider, next, Buffer.concat(chunks, bytes)) };
  }

  /** Its ticks, for the log. */
  get ticks(): string {
    return `${this.span.prevTickId}..${this.span.curTickId}`;
  }

  /**
   * Is this what `batch` on `provider` holds? Read on another connection (the provider changed,
   * or was connected again), it is not trusted; ticks of the same id but another position or
   * snapshot (a provider that lost its last ticks made new ones) are another batch.
   */
  matches(provider: pg.ClientBase, batch: BatchSpan): boolean {
    const a = this.span;
    return (
      this.provider === provider &&
      a.prevTickId === batch.prevTickId &&
      a.curTickId === batch.curTickId &&
      a.prevTickEventSeq === batch.prevTickEventSeq &&
      a.curTickEventSeq === batch.curTickEventSeq &&
      a.curTickSnapshot === batch.curTickSnapshot
    );
  }
}
