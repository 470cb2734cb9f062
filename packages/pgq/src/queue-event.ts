/**
 * One event of a batch as the handler sees it: PgQ's fields, typed, and what the handler decided
 * about it (done unless told otherwise; or retry after some seconds; or failed, with a reason).
 */
import type { PgqEvent } from '@skytools/core';

export class QueueEvent {
  /** ev_id: unique within the queue; a string because it is a bigint. */
  readonly id: string;
  /** ev_time as PostgreSQL printed it (microseconds kept). */
  readonly time: string;
  /** ev_txid: the producing transaction. */
  readonly txid: string;
  /** How many times it came back through retry (0 the first time). */
  readonly retryCount: number;
  readonly type: string | null;
  readonly data: string | null;
  readonly extra1: string | null;
  readonly extra2: string | null;
  readonly extra3: string | null;
  readonly extra4: string | null;
  private retryAfter: number | null = null;
  private failure: string | null = null;

  constructor(row: PgqEvent) {
    this.id = row.ev_id;
    this.time = row.ev_time;
    this.txid = row.ev_txid;
    this.retryCount = row.ev_retry ?? 0;
    this.type = row.ev_type;
    this.data = row.ev_data;
    this.extra1 = row.ev_extra1;
    this.extra2 = row.ev_extra2;
    this.extra3 = row.ev_extra3;
    this.extra4 = row.ev_extra4;
  }

  /** The data parsed as JSON (for events written with JSON data). */
  json<T = unknown>(): T {
    if (this.data === null) throw new TypeError(`event ${this.id} has no data to parse`);
    return JSON.parse(this.data) as T;
  }

  /** Deliver this event again, to this consumer only, in a batch at least `seconds` from now. */
  retry(seconds: number): void {
    if (!Number.isFinite(seconds) || seconds < 0) throw new RangeError(`retry of event ${this.id}: seconds must be a number >= 0, not ${String(seconds)}`);
    this.retryAfter = seconds;
    this.failure = null;
  }

  /**
   * Give up on this event: it is kept in the queue's failed events (pgq.failed_queue) with the
   * reason, for someone to look at and retry or delete (`pgq failed`), instead of being done.
   */
  fail(reason: string): void {
    this.failure = reason;
    this.retryAfter = null;
  }

  /** Take back a retry() or fail(): the event is done with the batch. */
  done(): void {
    this.retryAfter = null;
    this.failure = null;
  }

  /** Why it failed, or null when it did not. */
  get failedReason(): string | null {
    return this.failure;
  }

  /** Seconds until it comes back, or null when it is done. */
  get retrySeconds(): number | null {
    return this.retryAfter;
  }
}

/** A batch: the events between two ticks, as one consistent snapshot of the queue. */
export interface Batch {
  id: string;
  /** The tick the batch starts after (the consumer's position before it). */
  prevTickId: string;
  /** The tick that closes the batch, and its time (the queue database's clock). */
  tickId: string;
  tickTime: Date;
  /**
   * The same moment on this host's clock (the tick's age as the queue's database saw it when the
   * batch was taken, counted back from this host's now): for lag figures free of a clock skew
   * between the two hosts.
   */
  tickLocalTime: Date;
  events: QueueEvent[];
}
