/**
 * Events of tables still waiting for (or in) their initial copy, parked in
 * londiste.copy_backlog so replication of the other tables never waits for a copy.
 */
import type pg from 'pg';
import { CopyBuffer, copyLine, londisteSql } from '@skytools/core';
import type { EventFields } from './event-parser.js';

export class CopyBacklog {
  private readonly buffer: CopyBuffer;

  constructor(
    private readonly client: pg.ClientBase,
    private readonly queue: string,
  ) {
    this.buffer = new CopyBuffer(client, () => londisteSql.COPY_BACKLOG_IN);
  }

  add(table: string, ev: EventFields): Promise<void> {
    return this.buffer.add(copyLine([this.queue, table, ev.ev_id, ev.ev_txid, ev.ev_type, ev.ev_data, ev.ev_extra1]));
  }

  flush(): Promise<void> {
    return this.buffer.flush();
  }

  /** The parked events of a table, in arrival order, removed from the backlog in the same go. */
  async take(table: string): Promise<EventFields[]> {
    await this.flush();
    return londisteSql.takeBacklog(this.client, this.queue, table);
  }

  async has(table: string): Promise<boolean> {
    await this.flush();
    return londisteSql.hasBacklog(this.client, this.queue, table);
  }
}
