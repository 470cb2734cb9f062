/**
 * On a branch node, the provider's events go into the local queue too (same ids, types and
 * data), in the transaction that applies them, so the branch's subscribers see the same
 * stream. Written with COPY into the queue's current event table (looked up at each write: it
 * changes with rotation).
 */
import type pg from 'pg';
import { CopyBuffer, copyLine, pgq, type PgqEvent } from '@skytools/core';

export class QueueCopier {
  private readonly buffer: CopyBuffer;

  constructor(client: pg.ClientBase, queue: string) {
    this.buffer = new CopyBuffer(client, () => pgq.eventCopySql(client, queue));
  }

  add(ev: PgqEvent): Promise<void> {
    return this.buffer.add(copyLine([ev.ev_id, ev.ev_time, ev.ev_type, ev.ev_data, ev.ev_extra1, ev.ev_extra2, ev.ev_extra3, ev.ev_extra4]));
  }

  flush(): Promise<void> {
    return this.buffer.flush();
  }
}
