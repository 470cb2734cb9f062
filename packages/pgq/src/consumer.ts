/**
 * A consumer whose work lands in the queue's own database: the handler runs inside the batch's
 * transaction, on the same connection that finishes the batch, so what it writes and the
 * consumer's new position commit together. A crash at any point leaves neither done twice nor
 * lost: the batch comes again, and what the handler wrote for it was rolled back.
 */
import type pg from 'pg';
import { session } from '@skytools/core';
import { BatchLoop } from './batch-loop.js';
import type { Batch } from './queue-event.js';

export class Consumer extends BatchLoop {
  protected async apply(queue: pg.ClientBase, batch: Batch): Promise<void> {
    await session.withTransaction(queue, async () => {
      await this.options.handler(batch, queue);
      await this.recordPutAside(queue, batch);
      await this.finishBatch(queue, batch);
    });
  }
}
