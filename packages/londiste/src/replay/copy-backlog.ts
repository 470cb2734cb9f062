/**
 * Events of tables still waiting for (or in) their initial copy, parked in
 * londiste.copy_backlog so replication of the other tables never waits for a copy.
 */
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import type { PgqEvent } from '@skytools/core';
import { copyLine } from './copy-text.js';

export class CopyBacklog {
  private buffer: string[] = [];
  stored = 0;

  constructor(
    private readonly client: pg.ClientBase,
    private readonly queue: string,
  ) {}

  add(table: string, ev: PgqEvent): void {
    this.buffer.push(copyLine([this.queue, table, ev.ev_id, ev.ev_txid, ev.ev_type, ev.ev_data, ev.ev_extra1]));
  }

  get bufferedCount(): number {
    return this.buffer.length;
  }

  async flush(): Promise<void> {
    if (this.buffer.length === 0) return;
    const lines = this.buffer;
    this.buffer = [];
    await pipeline(
      Readable.from(lines),
      this.client.query(copyFrom('COPY londiste.copy_backlog (queue_name, table_name, ev_id, ev_txid, ev_type, ev_data, ev_extra1) FROM STDIN')),
    );
    this.stored += lines.length;
  }

  /** The parked events of a table, in arrival order, removed from the backlog in the same go. */
  async take(table: string): Promise<PgqEvent[]> {
    const r = await this.client.query<{ ev_id: string; ev_txid: string; ev_type: string; ev_data: string | null; ev_extra1: string | null }>(
      `WITH d AS (DELETE FROM londiste.copy_backlog WHERE queue_name = $1 AND table_name = $2
                  RETURNING ev_seq, ev_id, ev_txid, ev_type, ev_data, ev_extra1)
       SELECT ev_id, ev_txid, ev_type, ev_data, ev_extra1 FROM d ORDER BY ev_seq`,
      [this.queue, table],
    );
    return r.rows.map((x) => ({
      ev_id: x.ev_id,
      ev_time: '1970-01-01 00:00:00+00',
      ev_txid: x.ev_txid,
      ev_retry: null,
      ev_type: x.ev_type,
      ev_data: x.ev_data,
      ev_extra1: x.ev_extra1,
      ev_extra2: null,
      ev_extra3: null,
      ev_extra4: null,
    }));
  }

  async has(table: string): Promise<boolean> {
    const r = await this.client.query('SELECT 1 FROM londiste.copy_backlog WHERE queue_name = $1 AND table_name = $2 LIMIT 1', [this.queue, table]);
    return (r.rowCount ?? 0) > 0;
  }
}
