/**
 * Applies one batch of a provider's events to the local node, inside the caller's transaction:
 * data events go set-wise to their tables (or into the copy backlog while a table is not
 * copied yet), cascade and londiste control events update the node's metadata. Tables in
 * 'catching-up' first get their backlog, then only events their copy snapshot does not contain.
 */
import type pg from 'pg';
import { quoteFqname, SkytoolsError, TxidSnapshot, type Logger, type PgqEvent } from '@skytools/core';
import { CopyBacklog } from './copy-backlog.js';
import { decodeDataEvent, isDataEvent, type RowOp } from './row-event.js';
import { loadTableMeta, type TableMeta } from './table-meta.js';
import { TableApplier } from './set-apply.js';
import { setTableState, type TableState } from './table-state.js';

const SQL_TEMPLATES = { I: 'INSERT INTO %s %s', U: 'UPDATE ONLY %s SET %s', D: 'DELETE FROM ONLY %s WHERE %s' } as const;

export interface BatchStats {
  events: number;
  applied: number;
  backlogged: number;
  skipped: number;
}

export class BatchApplier {
  private readonly appliers = new Map<string, TableApplier>();
  private readonly metas = new Map<string, TableMeta>();
  private tables = new Map<string, TableState>();
  private backlog: CopyBacklog;
  /** Tables whose backlog was replayed in this batch. */
  private replayed = new Set<string>();
  stats: BatchStats = { events: 0, applied: 0, backlogged: 0, skipped: 0 };

  constructor(
    private readonly client: pg.ClientBase,
    private readonly queue: string,
    private readonly log: Logger,
  ) {
    this.backlog = new CopyBacklog(client, queue);
  }

  /** Start a batch with the current table states. */
  begin(tables: Map<string, TableState>): void {
    this.tables = tables;
    for (const a of this.appliers.values()) a.newTransaction();
    this.replayed = new Set();
    this.stats = { events: 0, applied: 0, backlogged: 0, skipped: 0 };
  }

  private async applier(t: TableState): Promise<TableApplier> {
    let a = this.appliers.get(t.name);
    if (a === undefined) {
      let meta = this.metas.get(t.dest);
      if (meta === undefined) {
        meta = await loadTableMeta(this.client, t.dest);
        this.metas.set(t.dest, meta);
      }
      a = new TableApplier(this.client, meta, t.where);
      this.appliers.set(t.name, a);
    }
    return a;
  }

  /** Milliseconds the table appliers spent loading stages and running statements, so far. */
  get applyMs(): { copy: number; sql: number } {
    let copy = 0;
    let sql = 0;
    for (const a of this.appliers.values()) {
      copy += a.copyMs;
      sql += a.sqlMs;
    }
    return { copy, sql };
  }

  /** Forget cached table structure (after DDL or a failed transaction). */
  reset(): void {
    this.appliers.clear();
    this.metas.clear();
  }

  async process(ev: PgqEvent): Promise<void> {
    this.stats.events += 1;
    const type = ev.ev_type ?? '';
    if (isDataEvent(type)) {
      await this.dataEvent(ev);
      return;
    }
    await this.controlEvent(ev);
  }

  private async dataEvent(ev: PgqEvent): Promise<void> {
    const name = ev.ev_extra1 ?? '';
    const t = this.tables.get(name);
    if (t === undefined || !t.local) {
      this.stats.skipped += 1;
      return;
    }
    if (t.state === null || t.state === 'in-copy') {
      this.backlog.add(name, ev);
      this.stats.backlogged += 1;
      if (this.backlog.bufferedCount >= 10000) await this.backlog.flush();
      return;
    }
    if (t.state === 'catching-up') {
      if (!this.replayed.has(name)) {
        this.replayed.add(name);
        await this.backlog.flush();
        for (const old of await this.backlog.take(name)) await this.applyData(t, old);
      }
      await this.applyData(t, ev);
      return;
    }
    if (t.state === 'ok') {
      await this.applyData(t, ev);
      return;
    }
    this.stats.skipped += 1;
  }

  /** Apply one data event unless the table's copy already contains it. */
  private async applyData(t: TableState, ev: PgqEvent): Promise<void> {
    if (t.snapshot !== null && t.state === 'catching-up' && t.snapshot.contains(ev.ev_txid)) {
      this.stats.skipped += 1;
      return;
    }
    const a = await this.applier(t);
    const type = ev.ev_type ?? '';
    if (type.length > 1 && type[1] === ':' && ev.ev_data !== null) {
      // urlencoded rows (logutriga): straight to their COPY fields where possible
      const op = type[0] as RowOp;
      let r = a.addEncoded(op, ev.ev_data);
      if (r === 'flush') {
        await a.flush();
        r = a.addEncoded(op, ev.ev_data);
      }
      if (r === 'ok') {
        if (a.size >= 50000) await a.flush();
        this.stats.applied += 1;
        return;
      }
    }
    const d = decodeDataEvent(ev);
    if (d.kind === 'row') {
      if (!a.add(d.op, d.row)) {
        await a.flush();
        a.add(d.op, d.row);
      }
      if (a.size >= 50000) await a.flush();
    } else if (d.kind === 'truncate') {
      a.discard();
      await this.client.query(`TRUNCATE ONLY ${quoteFqname(t.dest)}`);
    } else {
      await a.flush();
      await this.client.query(SQL_TEMPLATES[d.op].replace('%s', quoteFqname(t.dest)).replace('%s', d.sql));
    }
    this.stats.applied += 1;
  }

  private async controlEvent(ev: PgqEvent): Promise<void> {
    const type = ev.ev_type ?? '';
    const q = this.queue;
    switch (type) {
      case 'londiste.add-table':
        await this.client.query('SELECT * FROM londiste.global_add_table($1, $2)', [q, ev.ev_data]);
        return;
      case 'londiste.remove-table':
        await this.flushAll();
        await this.client.query('SELECT * FROM londiste.global_remove_table($1, $2)', [q, ev.ev_data]);
        return;
      case 'londiste.remove-seq':
        await this.client.query('SELECT * FROM londiste.global_remove_seq($1, $2)', [q, ev.ev_data]);
        return;
      case 'londiste.update-seq':
        await this.client.query('SELECT * FROM londiste.global_update_seq($1, $2, $3)', [q, ev.ev_extra1, ev.ev_data]);
        return;
      case 'pgq.location-info':
        await this.client.query('SELECT * FROM pgq_node.register_location($1, $2, $3, $4)', [q, ev.ev_data, ev.ev_extra2, ev.ev_extra3]);
        return;
      case 'pgq.unregister-location':
        await this.client.query('SELECT * FROM pgq_node.unregister_location($1, $2)', [q, ev.ev_data]);
        return;
      case 'pgq.global-watermark':
        await this.client.query('SELECT * FROM pgq_node.set_global_watermark($1, $2)', [q, ev.ev_data]);
        return;
      case 'pgq.tick-id':
        await this.client.query('SELECT * FROM pgq_node.set_partition_watermark($1, $2, $3)', [q, ev.ev_extra1, ev.ev_data]);
        return;
      case 'EXECUTE':
        this.log.warning(`EXECUTE event ${ev.ev_id} (${ev.ev_extra1 ?? '?'}) skipped: not supported by this worker yet`);
        return;
      default:
        if (type.startsWith('pgq.') || type.startsWith('londiste.')) {
          this.log.warning(`unknown control event ${type} (id ${ev.ev_id}) ignored`);
          return;
        }
        throw new SkytoolsError(`Unhandled event type in queue: ${type} (event ${ev.ev_id})`);
    }
  }

  private async flushAll(): Promise<void> {
    for (const a of this.appliers.values()) await a.flush();
  }

  /**
   * End of batch: write what is pending; tables in catching-up whose copy snapshot is now
   * entirely behind the batch's closing tick have nothing left to skip and become 'ok'.
   */
  async finish(curTickSnapshot: TxidSnapshot | null): Promise<string[]> {
    await this.flushAll();
    await this.backlog.flush();
    const nowOk: string[] = [];
    for (const t of this.tables.values()) {
      if (!t.local || t.state !== 'catching-up') continue;
      if (!this.replayed.has(t.name) && (await this.backlog.has(t.name))) {
        for (const old of await this.backlog.take(t.name)) await this.applyData(t, old);
        await this.flushAll();
      }
      if (t.snapshot === null || (curTickSnapshot !== null && curTickSnapshot.xmin >= t.snapshot.xmax)) {
        await setTableState(this.client, this.queue, t.name, null, 'ok');
        nowOk.push(t.name);
      }
    }
    return nowOk;
  }
}
