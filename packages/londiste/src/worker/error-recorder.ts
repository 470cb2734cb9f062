/**
 * A worker's errors, recorded on its node (pgq_node.set_consumer_error) so that `status` shows
 * them as ERR: lines, and cleared once the worker works again. Recording uses a connection of its
 * own: the worker's may be what failed.
 */
import type pg from 'pg';
import { connect, pgqNode, type Logger } from '@skytools/core';

export class ErrorRecorder {
  /** This worker recorded the error now on the node. */
  private recorded = false;

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
        this.recorded = true;
      } finally {
        await c.end();
      }
    } catch {
      this.log.warning('Failure to call pgq_node.set_consumer_error()');
    }
  }

  /** After a successful round start: clear the error this worker recorded, if the node still shows one. */
  async clear(db: pg.ClientBase, current: string | null): Promise<void> {
    if (current === null || !this.recorded) return;
    await pgqNode.setConsumerError(db, this.log, this.queue, this.consumer, null);
    this.recorded = false;
  }
}
