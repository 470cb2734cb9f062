/**
 * Applies one batch of a provider's events to the local node, inside the caller's transaction:
 * data events go set-wise to their tables (or into the copy backlog while a table is not
 * copied yet), cascade and londiste control events update the node's metadata. Tables in
 * 'catching-up' first get their backlog, then only events their copy snapshot does not contain.
 */
import type pg from 'pg';
import { londisteSql, pgqNode, SkytoolsError, TxidSnapshot, type Logger, type PgqEvent } from '@skytools/core';
import { applySqlEvent, truncateTable } from '../sql/apply-statements.js';
import { ExecAttrs } from '../execute/exec-attrs.js';
import { runExecute } from '../execute/execute-script.js';
import { CopyBacklog } from './copy-backlog.js';
import { isDataEvent, parseDataEvent, type EventFields } from './event-parser.js';
import { loadTableMeta, type TableMeta } from './table-meta.js';
import { TableApplier } from './table-applier.js';
import { checkTableAttrs, setTableState, type TableState } from './table-state.js';

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
  private readonly backlog: CopyBacklog;
  private batch = '';
  private node = '';
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

  /** Start a batch with the current table states; `batch` and `node` name the batch in errors. */
  begin(tables: Map<string, TableState>, batch: string, node: string): void {
    for (const t of tables.values()) if (t.local) checkTableAttrs(t);
    this.tables = tables;
    this.batch = batch;
    this.node = node;
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
    if (isDataEvent(ev.ev_type)) await this.dataEvent(ev);
    else await this.controlEvent(ev);
  }

  private async dataEvent(ev: EventFields): Promise<void> {
    const name = ev.ev_extra1 ?? '';
    const t = this.tables.get(name);
    if (t === undefined || !t.local) {
      this.stats.skipped += 1;
      return;
    }
    if (t.state === null || t.state === 'in-copy') {
      await this.backlog.add(name, ev);
      this.stats.backlogged += 1;
      return;
    }
    if (t.state === 'catching-up') {
      await this.replayBacklog(t);
      await this.applyData(t, ev);
      return;
    }
    if (t.state === 'ok') {
      await this.applyData(t, ev);
      return;
    }
    this.stats.skipped += 1;
  }

  /** Once per batch, before a catching-up table's first event: the events parked during its copy. */
  private async replayBacklog(t: TableState): Promise<void> {
    if (this.replayed.has(t.name)) return;
    this.replayed.add(t.name);
    for (const old of await this.backlog.take(t.name)) await this.applyData(t, old);
  }

  /** Apply one data event unless the table's copy already contains it. */
  private async applyData(t: TableState, ev: EventFields): Promise<void> {
    if (t.snapshot !== null && t.state === 'catching-up' && t.snapshot.contains(ev.ev_txid)) {
      this.stats.skipped += 1;
      return;
    }
    const d = this.named(ev, () => parseDataEvent(ev));
    const a = await this.applier(t);
    switch (d.kind) {
      case 'encoded':
        await a.addEncoded(d.op, d.text);
        break;
      case 'row':
        await a.add(d.op, d.row);
        break;
      case 'truncate':
        a.discard();
        await truncateTable(this.client, t.dest);
        break;
      case 'sql':
        await a.flush();
        await applySqlEvent(this.client, d.op, t.dest, d.sql);
        break;
    }
    this.stats.applied += 1;
  }

  private async controlEvent(ev: PgqEvent): Promise<void> {
    const type = ev.ev_type ?? '';
    const q = this.queue;
    const c = this.client;
    switch (type) {
      case 'londiste.add-table':
        return londisteSql.globalAddTable(c, this.log, q, ev.ev_data);
      case 'londiste.remove-table':
        await this.flushAll();
        return londisteSql.globalRemoveTable(c, this.log, q, ev.ev_data);
      case 'londiste.remove-seq':
        return londisteSql.globalRemoveSeq(c, this.log, q, ev.ev_data);
      case 'londiste.update-seq':
        return londisteSql.globalUpdateSeq(c, this.log, q, ev.ev_extra1, ev.ev_data);
      case 'pgq.location-info':
        return pgqNode.registerLocation(c, this.log, q, ev.ev_data ?? '', ev.ev_extra2, ev.ev_extra3 === 't' || ev.ev_extra3 === 'true');
      case 'pgq.unregister-location':
        return pgqNode.unregisterLocation(c, this.log, q, ev.ev_data ?? '');
      case 'pgq.global-watermark':
        return pgqNode.setGlobalWatermark(c, this.log, q, ev.ev_data);
      case 'pgq.tick-id':
        return pgqNode.setPartitionWatermark(c, this.log, q, ev.ev_extra1, ev.ev_data);
      case 'EXECUTE':
        return this.execute(ev);
      default:
        // never skipped: a later event may depend on it (a column, a table, a sequence)
        throw new SkytoolsError(
          `cannot apply event ${ev.ev_id} of type "${type}"${ev.ev_extra1 === null ? '' : ` (${ev.ev_extra1})`} in batch ${this.batch}: this worker does not know that event type; the node stops here until it is handled`,
        );
    }
  }

  /** An EXECUTE script, in order with the data events around it. */
  private async execute(ev: PgqEvent): Promise<void> {
    const file = ev.ev_extra1;
    if (file === null || ev.ev_data === null) throw new SkytoolsError(`EXECUTE event ${ev.ev_id} in batch ${this.batch} has no file name or no SQL`);
    await this.flushAll();
    const script = { file, sql: ev.ev_data, attrs: ExecAttrs.fromEncoded(ev.ev_extra2, file) };
    try {
      await runExecute(this.client, this.log, this.queue, script, { expectRoot: false, roleAfter: 'replica' });
    } catch (err) {
      throw new SkytoolsError(`EXECUTE ${file} (event ${ev.ev_id}, batch ${this.batch}) failed on node ${this.node}: ${(err as Error).message}`, { cause: err });
    }
    // the script may have changed the tables: their structure is read again
    this.appliers.clear();
    this.metas.clear();
  }

  /** Run fn; an error it throws names the event, its table and the batch. */
  private named<T>(ev: EventFields, fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      throw new SkytoolsError(`cannot apply event ${ev.ev_id} (${ev.ev_type ?? 'no type'}) of ${ev.ev_extra1 ?? 'no table'} in batch ${this.batch}: ${(err as Error).message}`, {
        cause: err,
      });
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
        await this.replayBacklog(t);
        await this.flushAll();
      }
      if (t.snapshot === null || (curTickSnapshot !== null && curTickSnapshot.xmin >= t.snapshot.xmax)) {
        await setTableState(this.client, this.log, this.queue, t.name, null, 'ok');
        nowOk.push(t.name);
      }
    }
    return nowOk;
  }
}
