/**
 * A worker's errors, recorded on its node (pgq_node.set_consumer_error) so that `status` shows
 * them as ERR: lines, and cleared once the worker works again. Recording uses a connection of its
 * own: the worker's may be what failed.
 */
import type pg from 'pg';
import { connect, pgqNode, type Logger } from '@skytools/core';

export class ErrorRecorder {
  /** The node shows an error of this consumer (recorded by this worker or by an earlier run). */
  private shown = false;

  constructor(
    private readonly connstr: string,
    private readonly queue: string,
    private readonly consumer: string,
    private readonly log: Logger,
  ) {}

  async record(message: string): Promise<void> {
    try {
      const c = await connect(this.connstr, { name: 'db', logger: this.log });
      try {
        await pgqNode.setConsumerError(c, this.log, this.queue, this.consumer, message);
        this.shown = true;
      } finally {
        await c.end();
      }
    } catch {
      this.log.warning('Failure to call pgq_node.set_consumer_error()');
    }
  }

  /** The error the node shows, as read at the start of a round. */
  seen(current: string | null): void {
    if (current !== null) this.shown = true;
  }

  /**
   * After a round that succeeded: clear the error the node shows. Not at the start of a round: a
   * retry that fails again would leave the error off the node (and off `status`) meanwhile.
   */
  async clear(db: pg.ClientBase): Promise<void> {
    if (!this.shown) return;
    await pgqNode.setConsumerError(db, this.log, this.queue, this.consumer, null);
    this.shown = false;
  }
}
