/**
 * Applies one batch of a provider's events to the local node, inside the caller's transaction
 * (docs/architecture.md, "Apply"). The events go from the provider's COPY through the event
 * stager into the batch stage (ld_batch) without becoming objects; then, in SQL, each table's row
 * events are applied set-wise, or parked in the copy backlog while the table is not copied yet.
 * The other events (cascade and londiste control events, EXECUTE, TRUNCATE, sqltriga) are read
 * and applied one by one, in order: the row events before one are applied first (all tables'
 * before a control event or EXECUTE, the table's own before its TRUNCATE or sqltriga event).
 * Tables in 'catching-up' get their backlog first, and only events their copy snapshot does not
 * contain.
 */
import type pg from 'pg';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { copyLine, londisteSql, pgq, pgqNode, SkytoolsError, TxidSnapshot, type BatchInfo, type Logger } from '@skytools/core';
import { applySqlEvent, truncateTable } from '../sql/apply-statements.js';
import {
  batchStageWriter, createBatchStage, dataEventsCondition, rangeLayouts, forwardToCombinedQueue, parkInBacklog, raiseWorkMem, republishBatch, setJsonLayouts, stagedSingles, stageGroups, type StagedEvent,
} from '../sql/batch-stage-statements.js';
import { ExecAttrs } from '../execute/exec-attrs.js';
import { runExecute } from '../execute/execute-script.js';
import { EventStager, type StagerOptions } from './event-stager.js';
import type { BatchSpan, ReadAhead } from './batch-read-ahead.js';
import { isDataEvent, parseDataEvent, type EventFields } from './event-parser.js';
import { loadTableMeta, type TableMeta } from './table-meta.js';
import { SAVEPOINTS_PER_BATCH, TableApplier, type SavepointBudget } from './table-applier.js';
import { checkTableAttrs, rowCondition, setTableState, tableHandler, waitsForParts, type TableState } from './table-state.js';
import type { HandlerApply, HandlerApplyContext } from '../handlers/handler.js';

/**
 * A table with this many row events in a batch gets APPLY_WORK_MEM_MB of work_mem for the batch's
 * transaction: the window over 200k events of user_info needs about 30 MB to sort in memory
 * (measured: 2.13 s spilling, 1.95 s in memory, for the whole apply statement).
 */
const BIG_RANGE = 20_000;
const APPLY_WORK_MEM_MB = 64;

const LOCATION_INFO = 'pgq.location-info';

/** Is a table's data applied on this node now (not another node's table, nor one waiting for its copy)? */
function applies(t: TableState | undefined): boolean {
  return t !== undefined && t.local && (t.state === 'ok' || t.state === 'catching-up') && !waitsForParts(t);
}

/** Events a table catching up must skip: those its copy's snapshot already holds. */
function copySnapshotToSkip(t: TableState): string | null {
  return t.state === 'catching-up' && t.snapshot !== null ? t.snapshot.text : null;
}

/** Do a table's events wait in the copy backlog (its copy, or the other parts' of a merged table)? */
function parks(t: TableState | undefined): boolean {
  return t !== undefined && t.local && (t.state === null || t.state === 'in-copy' || waitsForParts(t));
}

/**
 * How the stager writes this batch's row events. Their raw ev_data is kept only where something
 * reads it: the copy backlog, a branch's or merge leaf's queue, a handler applying events itself
 * (which also reads row images by column name: JSON then, not arrays). `handled`: how each table
 * applied here is applied.
 */
function stageForm(tables: Map<string, TableState>, handled: ReadonlyMap<string, HandlerApply>, outlets: BatchOutlets): StagerOptions {
  const custom = [...handled.values()].some((a) => a.kind === 'custom');
  const keepRowData = custom || outlets.republish || outlets.combinedQueue !== null || [...tables.values()].some(parks);
  return { keepRowData, rowValues: custom ? 'json' : 'array' };
}

/** A table whose handler applies its events: how, and up to which event it has (null: none yet). */
interface CustomApply {
  run: (ctx: HandlerApplyContext) => Promise<void>;
  done: string | null;
}

/** Where the batch goes besides this node's tables. */
export interface BatchOutlets {
  /** A branch re-publishes the batch in its own queue. */
  republish: boolean;
  /** A merge leaf passes the data events on into this combined queue. */
  combinedQueue: string | null;
}

export interface BatchStats {
  events: number;
  applied: number;
  backlogged: number;
  skipped: number;
  /** The events came from a read-ahead (read while the batch before was applied). */
  readAhead: boolean;
}

/** A column layout of a table's row events in the stage, and the span of its events' ids. */
interface Layout {
  cols: string;
  first: bigint;
  last: bigint;
}

/** A table's row events in the stage: their layouts and the span of their ids. */
interface TableRows {
  layouts: Layout[];
  events: number;
  first: bigint;
  last: bigint;
  /** Applied up to this event id (exclusive bound of the next range; null: nothing yet). */
  done: string | null;
}

export class BatchApplier {
  private readonly appliers = new Map<string, TableApplier>();
  private readonly metas = new Map<string, TableMeta>();
  private tables = new Map<string, TableState>();
  private stageReady = false;
  private batch = '';
  private tick = '';
  private tickTime = new Date(0);
  private node = '';
  private jsonRows = 0;
  private outlets: BatchOutlets = { republish: false, combinedQueue: null };
  private stagerOptions: StagerOptions = {};
  /** How each table applied here is applied (its handler's choice), for this batch. */
  private handled = new Map<string, HandlerApply>();
  stats: BatchStats = { events: 0, applied: 0, backlogged: 0, skipped: 0, readAhead: false };
  /** Shared by this batch's table appliers (plain inserts in savepoints). */
  private readonly savepoints: SavepointBudget = { left: SAVEPOINTS_PER_BATCH };

  constructor(
    private readonly client: pg.ClientBase,
    private readonly queue: string,
    private readonly log: Logger,
  ) {}

  /**
   * Start a batch with the current table states and where it goes besides the tables; `batch`
   * and `node` name the batch in errors.
   */
  begin(tables: Map<string, TableState>, outlets: BatchOutlets, batch: string, tick: string, tickTime: Date, node: string): void {
    this.tick = tick;
    this.tickTime = tickTime;
    for (const t of tables.values()) if (t.local) checkTableAttrs(t);
    this.tables = tables;
    this.outlets = outlets;
    this.handled = new Map();
    for (const t of tables.values()) {
      if (!applies(t)) continue;
      const how = tableHandler(t);
      this.handled.set(t.name, how.impl.apply(how.args));
    }
    this.stagerOptions = stageForm(tables, this.handled, outlets);
    this.batch = batch;
    this.node = node;
    this.jsonRows = 0;
    this.stats = { events: 0, applied: 0, backlogged: 0, skipped: 0, readAhead: false };
    this.savepoints.left = SAVEPOINTS_PER_BATCH;
  }

  /** Table `dest`'s columns, key and kind, read once per session. */
  private async meta(dest: string): Promise<TableMeta> {
    let meta = this.metas.get(dest);
    if (meta === undefined) {
      meta = await loadTableMeta(this.client, dest);
      this.metas.set(dest, meta);
    }
    return meta;
  }

  /** The applier of table `dest` (a table's own, or one a handler routes rows to) with row condition `where`. */
  private async applier(dest: string, where: string | null): Promise<TableApplier> {
    // a changed handler or --where (change-handler) gets an applier of its own
    const key = `${dest}\u0000${where ?? ''}`;
    let a = this.appliers.get(key);
    if (a === undefined) {
      a = new TableApplier(this.client, await this.meta(dest), where, this.savepoints);
      this.appliers.set(key, a);
    }
    return a;
  }

  /** Milliseconds the table appliers spent in their apply statements, so far. */
  get applyMs(): number {
    let sql = 0;
    for (const a of this.appliers.values()) sql += a.sqlMs;
    return sql;
  }

  /** Forget cached table structure (after DDL or a failed transaction). */
  reset(): void {
    this.appliers.clear();
    this.metas.clear();
  }

  /** Stream `source` (COPY text lines of the 9 event fields) through the stager into the batch stage; the number of events. */
  private async stage(source: NodeJS.ReadableStream): Promise<number> {
    if (!this.stageReady) {
      await createBatchStage(this.client);
      this.stageReady = true;
    }
    const stager = new EventStager(this.stagerOptions);
    await pipeline(source, stager, batchStageWriter(this.client));
    this.jsonRows += stager.jsonRows;
    return stager.events;
  }

  /**
   * Load the batch into the stage: first the copy backlog of tables catching up (events older
   * than the batch's), then the batch's events: those `ahead` read while the previous batch was
   * applied when they are this batch's, else streamed from the provider. Returns how many events
   * the batch has.
   */
  async load(provider: pg.ClientBase, batch: BatchSpan & Pick<BatchInfo, 'batchId'>, ahead: ReadAhead | null = null): Promise<number> {
    for (const t of this.tables.values()) {
      if (!t.local || t.state !== 'catching-up' || waitsForParts(t)) continue;
      const parked = await londisteSql.takeBacklog(this.client, this.queue, t.name);
      if (parked.length === 0) continue;
      // no ev_time: these passed (and were re-published) when they first came
      const lines = parked.map((ev) => copyLine([ev.ev_id, null, ev.ev_txid, ev.ev_type, ev.ev_data, ev.ev_extra1, null, null, null]));
      await this.stage(Readable.from(lines.map((l) => Buffer.from(l))));
    }
    const readAhead = ahead?.matches(provider, batch) === true;
    const events = await this.stage(readAhead ? Readable.from([ahead.events]) : await pgq.batchEventsStream(provider, batch.batchId));
    this.stats.readAhead = readAhead;
    this.stats.events = events;
    return events;
  }

  /** Apply the loaded batch; a branch also re-publishes it in its own queue, a merge leaf passes it on. */
  async apply(): Promise<void> {
    const outlets = this.outlets;
    if (this.jsonRows > 0) await setJsonLayouts(this.client);
    const rows = new Map<string, TableRows>();
    for (const g of await stageGroups(this.client)) {
      const r = rows.get(g.table) ?? { layouts: [], events: 0, first: BigInt(g.firstEvent), last: BigInt(g.lastEvent), done: null };
      r.layouts.push({ cols: g.cols, first: BigInt(g.firstEvent), last: BigInt(g.lastEvent) });
      r.events += g.events;
      if (BigInt(g.firstEvent) < r.first) r.first = BigInt(g.firstEvent);
      if (BigInt(g.lastEvent) > r.last) r.last = BigInt(g.lastEvent);
      rows.set(g.table, r);
    }
    if ([...rows.values()].some((r) => r.events >= BIG_RANGE)) await raiseWorkMem(this.client, APPLY_WORK_MEM_MB);
    const singles = await stagedSingles(this.client);
    // tables not copied yet: all their data events wait in the backlog, in order
    const parked = new Set<string>();
    const dataTables = new Set([...rows.keys(), ...singles.filter((e) => isDataEvent(e.ev_type)).map((e) => e.ev_extra1 ?? '')]);
    for (const name of dataTables) {
      if (!parks(this.tables.get(name))) continue;
      this.stats.backlogged += await parkInBacklog(this.client, this.queue, name);
      parked.add(name);
    }
    // only the tables applied here keep their row events: another node's table, or one parked, has nothing to do
    for (const [name, r] of rows) {
      if (applies(this.tables.get(name))) {
        this.stats.applied += r.events;
      } else {
        rows.delete(name);
        if (!parked.has(name)) this.stats.skipped += r.events;
      }
    }
    // location-info events touch no table: a run of them is registered in one statement, before
    // the next other event (they stay in order with unregister-location and the rest)
    const locations: pgqNode.LocationInfo[] = [];
    const flushLocations = async (): Promise<void> => {
      await pgqNode.registerLocations(this.client, this.log, this.queue, locations.splice(0));
    };
    // tables whose handler applies their events itself (all of them, row events or not), or not at all
    const custom = new Map<string, CustomApply>();
    const ignored = new Set<string>();
    for (const name of dataTables) {
      const apply = this.handled.get(name);
      if (apply === undefined || apply.kind === 'rows') continue;
      const r = rows.get(name);
      if (r !== undefined) {
        rows.delete(name);
        // a custom apply applies them (counted as applied); ignored ones are skipped
        if (apply.kind === 'ignore') {
          this.stats.applied -= r.events;
          this.stats.skipped += r.events;
        }
      }
      if (apply.kind === 'custom') custom.set(name, { run: apply.run, done: null });
      else ignored.add(name);
    }
    for (const ev of singles) {
      if (ev.ev_type === LOCATION_INFO) {
        locations.push({ node: ev.ev_data ?? '', location: ev.ev_extra2, dead: ev.ev_extra3 === 't' || ev.ev_extra3 === 'true' });
        continue;
      }
      await flushLocations();
      if (isDataEvent(ev.ev_type)) {
        const name = ev.ev_extra1 ?? '';
        if (parked.has(name) || custom.has(name)) continue;
        if (ignored.has(name)) {
          this.stats.skipped += 1;
          continue;
        }
        await this.applyRows(rows, name, ev.ev_id);
        await this.single(ev);
      } else {
        for (const name of rows.keys()) await this.applyRows(rows, name, ev.ev_id);
        for (const [name, c] of custom) await this.applyCustom(name, c, ev.ev_id);
        await this.controlEvent(ev);
      }
    }
    await flushLocations();
    for (const name of rows.keys()) await this.applyRows(rows, name, null);
    for (const [name, c] of custom) await this.applyCustom(name, c, null);
    if (outlets.republish) await republishBatch(this.client, this.queue);
    if (outlets.combinedQueue !== null) await forwardToCombinedQueue(this.client, outlets.combinedQueue);
  }

  /** The row events of `name` not applied yet that come before event `before` (null: all). */
  private async applyRows(rows: Map<string, TableRows>, name: string, before: string | null): Promise<void> {
    const r = rows.get(name);
    if (r === undefined) return;
    if (r.done !== null && BigInt(r.done) >= r.last) return;
    if (before !== null && BigInt(before) < r.first) return;
    const range = { after: r.done, before };
    r.done = before ?? r.last.toString();
    const t = this.tables.get(name);
    if (t === undefined) return;
    const skipSnapshot = copySnapshotToSkip(t);
    const applier = await this.applier(t.dest, rowCondition(t));
    // only the layouts with events in the range: a column added by an EXECUTE event further on in
    // the batch is not there yet, and the rows before it do not carry it
    const layouts = r.layouts
      .filter((l) => (range.before === null || l.first < BigInt(range.before)) && (range.after === null || l.last >= BigInt(range.after)))
      .map((l) => l.cols);
    try {
      await applier.apply({ table: name, ...range, skipSnapshot }, layouts, r.events);
    } catch (err) {
      throw new SkytoolsError(`cannot apply the row events of ${name} in batch ${this.batch}${range.before === null ? '' : ` before event ${range.before}`}: ${(err as Error).message}`, { cause: err });
    }
  }

  /** The data events of `name` not applied yet that come before `before` (null: all), by its handler. */
  private async applyCustom(name: string, c: CustomApply, before: string | null): Promise<void> {
    const t = this.tables.get(name);
    if (t === undefined) return;
    const skipSnapshot = copySnapshotToSkip(t);
    const range = { table: name, after: c.done, before, skipSnapshot };
    try {
      const applyRows = async (dest: string, events: string | null, rows: string | null = null): Promise<void> => {
        const part = { ...range, where: events, withEvent: rows !== null };
        const own = rowCondition(t);
        const where = rows === null ? own : own === null ? rows : `(${own}) AND (${rows})`;
        await (await this.applier(dest, where)).apply(part, await rangeLayouts(this.client, part));
      };
      await c.run({ client: this.client, table: name, dest: t.dest, events: dataEventsCondition(range), tick: this.tick, tickTime: this.tickTime, applyRows });
    } catch (err) {
      throw new SkytoolsError(`handler ${tableHandler(t).impl.name} of ${name} failed in batch ${this.batch}${before === null ? '' : ` before event ${before}`}: ${(err as Error).message}`, { cause: err });
    }
    // the next range starts at `before` (inclusive: that event is a control event, not the table's)
    if (before !== null) c.done = (BigInt(before) - 1n).toString();
  }

  /** A data event applied by itself: TRUNCATE or a sqltriga statement. */
  private async single(ev: StagedEvent): Promise<void> {
    const t = this.tables.get(ev.ev_extra1 ?? '');
    if (t === undefined || !applies(t)) {
      this.stats.skipped += 1;
      return;
    }
    if (t.state === 'catching-up' && t.snapshot !== null && t.snapshot.contains(ev.ev_txid)) {
      this.stats.skipped += 1;
      return;
    }
    const d = this.named(ev, () => parseDataEvent(ev));
    switch (d.kind) {
      case 'truncate':
        if (tableHandler(t).args['ignore_truncate'] === '1') {
          this.stats.skipped += 1;
          return;
        }
        await truncateTable(this.client, t.dest, (await this.meta(t.dest)).partitioned);
        break;
      case 'sql':
        await applySqlEvent(this.client, d.op, t.dest, (await this.meta(t.dest)).partitioned, d.sql);
        break;
      default:
        throw new SkytoolsError(`cannot apply event ${ev.ev_id} (${ev.ev_type ?? 'no type'}) of ${ev.ev_extra1 ?? 'no table'} in batch ${this.batch}: a row event without row data`);
    }
    this.stats.applied += 1;
  }

  private async controlEvent(ev: StagedEvent): Promise<void> {
    const type = ev.ev_type ?? '';
    const q = this.queue;
    const c = this.client;
    switch (type) {
      case 'londiste.add-table':
        return londisteSql.globalAddTable(c, this.log, q, ev.ev_data);
      case 'londiste.remove-table':
            return londisteSql.globalRemoveTable(c, this.log, q, ev.ev_data);
      case 'londiste.remove-seq':
        return londisteSql.globalRemoveSeq(c, this.log, q, ev.ev_data);
      case 'londiste.update-seq':
        return londisteSql.globalUpdateSeq(c, this.log, q, ev.ev_extra1, ev.ev_data);
      case 'pgq.unregister-location':
        return pgqNode.unregisterLocation(c, this.log, q, ev.ev_data ?? '');
      case 'pgq.global-watermark':
        return pgqNode.setGlobalWatermark(c, this.log, q, ev.ev_data);
      case 'pgq.tick-id':
        // a merge leaf's tick in a combined queue: a combined branch keeps it as the part's
        // watermark; a leaf has nothing to do with it (upstream's worker likewise)
        return this.outlets.republish ? pgqNode.setPartitionWatermark(c, this.log, q, ev.ev_extra1, ev.ev_data) : undefined;
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
  private async execute(ev: StagedEvent): Promise<void> {
    const file = ev.ev_extra1;
    if (file === null || ev.ev_data === null) throw new SkytoolsError(`EXECUTE event ${ev.ev_id} in batch ${this.batch} has no file name or no SQL`);
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

  /**
   * End of batch: tables in catching-up whose copy snapshot is now
   * entirely behind the batch's closing tick have nothing left to skip and become 'ok'.
   */
  async finish(curTickSnapshot: TxidSnapshot | null): Promise<string[]> {
    const nowOk: string[] = [];
    for (const t of this.tables.values()) {
      if (!t.local || t.state !== 'catching-up' || waitsForParts(t)) continue;
      if (t.snapshot === null || (curTickSnapshot !== null && curTickSnapshot.xmin >= t.snapshot.xmax)) {
        await setTableState(this.client, this.log, this.queue, t.name, null, 'ok');
        nowOk.push(t.name);
      }
    }
    return nowOk;
  }
}
