/**
 * On a branch node, the provider's events go into the local queue too (same ids, types and
 * data), in the transaction that applies them, so the branch's subscribers see the same
 * stream. Written with COPY into the queue's current event table.
 */
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { quoteFqname, type PgqEvent } from '@skytools/core';
import { copyLine } from './copy-text.js';

export class QueueCopier {
  private lines: string[] = [];
  private table: string | null = null;
  copied = 0;

  constructor(
    private readonly client: pg.ClientBase,
    private readonly queue: string,
  ) {}

  add(ev: PgqEvent): void {
    this.lines.push(copyLine([ev.ev_id, ev.ev_time, ev.ev_type, ev.ev_data, ev.ev_extra1, ev.ev_extra2, ev.ev_extra3, ev.ev_extra4]));
  }

  get size(): number {
    return this.lines.length;
  }

  async flush(): Promise<void> {
    if (this.lines.length === 0) return;
    if (this.table === null) {
      const r = await this.client.query<{ t: string }>('SELECT pgq.current_event_table($1) AS t', [this.queue]);
      this.table = r.rows[0]?.t ?? null;
      if (this.table === null) throw new Error(`queue ${this.queue} has no event table`);
    }
    const lines = this.lines;
    this.lines = [];
    await pipeline(
      Readable.from(lines),
      this.client.query(
        copyFrom(`COPY ${quoteFqname(this.table)} (ev_id, ev_time, ev_type, ev_data, ev_extra1, ev_extra2, ev_extra3, ev_extra4) FROM STDIN`),
      ),
    );
    this.copied += lines.length;
  }

  /** The current event table may change with rotation: look it up again for the next batch. */
  endBatch(): void {
    this.table = null;
  }
}
