/**
 * Initial copy of one table from the provider: a COPY stream from a repeatable-read snapshot
 * on the provider straight into the local table (its CopyData relayed unchanged, see
 * CopyRelay), in one local transaction that also records the snapshot and moves the table to
 * 'catching-up'. Keys and secondary indexes are dropped before the load and rebuilt after it
 * where the privileges allow (one sort instead of per-row index maintenance, see dropForLoad).
 * Progress (rows, MB, rate) is logged while it runs.
 *
 * A table several queues merge into (add-table --merge-all) is copied by every part: the lead
 * first drops the table's indexes and key constraints and empties it in a transaction of its
 * own (the structure is kept in dropped_ddl and put back once every part has copied), then each
 * part copies its rows into the bare table without touching it (londiste._coordinate_copy).
 */
import type pg from 'pg';
import { catalog, CopyRelay, londisteSql, pgDiagnostics, session, SkytoolsError, SQLSTATE, type ColumnInfo, type CopyRelayResult, type Logger, type TableTraits } from '@skytools/core';
import type { CopyProgress } from '../worker/job-stats.js';
import { columnProblems } from './column-check.js';
import { addConstraintSql, copyInSql, copyOutSql, dropConstraint, dropIndex, emptyTable, restoreStructure, type CopyFormat } from '../sql/copy-statements.js';
import { copyCondition, setTableState, tableHandler, type TableState } from './table-state.js';

export interface CopyResult {
  rows: number;
  bytes: number;
  seconds: number;
}

/**
 * How the copy treats the local table: 'alone' empties it and, where it may, builds its keys and
 * secondary indexes after the rows, in the copy's transaction; a merged table's 'lead' part drops
 * its structure and empties it first;
 * another part ('join') copies into it as it is.
 */
export type CopyMode = 'alone' | 'lead' | 'join';

export interface CopyTask {
  queue: string;
  mode: CopyMode;
  table: TableState;
  /** Name of the table on the provider (its dest_table there). */
  sourceName: string;
  /** The provider ('copy_src') and this node ('copy_dst'), idle; closed when the signal aborts (and the provider's when the target fails mid-copy). */
  src: pg.Client;
  dst: pg.Client;
  log: Logger;
  progressEveryMs?: number;
  signal?: AbortSignal;
  /**
   * The copy snapshot, read first in the source's repeatable-read transaction (default: its
   * txid_current_snapshot(); a copy from another node than the provider maps it to a tick).
   */
  snapshot?: (src: pg.ClientBase) => Promise<string>;
  /** Called once the copy is committed (a tick, so that the table reaches 'ok' soon). */
  onCommitted?: () => Promise<void>;
  /** Called when the rows start to flow, with a live count of them (londisted's metrics). */
  onStreaming?: (progress: CopyProgress) => void;
}

/**
 * Binary when every column has the same built-in type on both sides and the target is not older
 * than the source: the target then reads values without parsing text (timestamps, numerics:
 * about 1.6 times the rows per second of a text COPY). A newer server reads an older one's binary
 * forms, not always the other way round (an infinite interval of 17 is a huge finite one to 16's
 * receive function, where its text is refused). Text otherwise: it converts between types (int4
 * into int8, anything into text) and carries a user's types, whose binary form holds OIDs or an
 * extension version's layout.
 */
function copyFormat(src: readonly ColumnInfo[], dst: readonly ColumnInfo[], cols: readonly string[], srcVersion: number, dstVersion: number): CopyFormat {
  if (Math.floor(dstVersion / 10000) < Math.floor(srcVersion / 10000)) return 'text';
  const there = new Map(src.map((c) => [c.name, c]));
  const here = new Map(dst.map((c) => [c.name, c]));
  const same = cols.every((name) => {
    const s = there.get(name);
    const d = here.get(name);
    return s !== undefined && d !== undefined && s.builtin && d.builtin && s.type === d.type;
  });
  return same ? 'binary' : 'text';
}

export async function copyTable(task: CopyTask): Promise<CopyResult> {
  const { log, table, src, dst } = task;
  const started = Date.now();
  const onAbort = (): void => {
    // closing the connections aborts the COPY; both transactions roll back
    void src.end().catch(() => undefined);
    void dst.end().catch(() => undefined);
  };
  task.signal?.addEventListener('abort', onAbort);
  try {
    // a listener added after the abort never hears it: the copy would run to its end
    if (task.signal?.aborted === true) throw new SkytoolsError(`${table.name}: copy not started, the job is stopping`);
    // both sides' reads at once: each connection runs its own in turn, the two side by side
    const [, dstColumns, dstServer, traits, srcColumns, srcServer] = await Promise.all([
      table.state === 'in-copy' ? undefined : setTableState(dst, log, task.queue, table.name, null, 'in-copy'),
      catalog.tableColumns(dst, table.dest),
      session.whoAmI(dst),
      catalog.tableTraits(dst, table.dest),
      catalog.tableColumns(src, task.sourceName),
      session.whoAmI(src),
    ]);
    // generated columns here compute their own values; COPY refuses to write them
    const computed = catalog.computedOf(dstColumns);
    const skip = new Set(computed.generated);
    const problems = columnProblems(srcColumns, dstColumns, computed);
    if (problems.length > 0) {
      throw new SkytoolsError(`${table.name}: cannot copy into ${table.dest}: ${problems.join(', ')}; alter the table here to match (the copy is retried)`);
    }
    const dstCols = new Set(dstColumns.map((c) => c.name).filter((c) => !skip.has(c)));
    const cols = srcColumns.map((c) => c.name).filter((c) => dstCols.has(c));
    const format = copyFormat(srcColumns, dstColumns, cols, srcServer.serverVersion, dstServer.serverVersion);

    if (task.mode === 'lead' && table.droppedDdl === null) await dropForMerge(task, traits);

    // each phase's milliseconds, for the debug line at the end (where a slow copy spends its time)
    const phases: [string, number][] = [];
    let mark = started;
    const phase = (name: string): void => {
      const now = Date.now();
      phases.push([name, now - mark]);
      mark = now;
    };
    phase('checks');
    await session.begin(src, { isolation: 'repeatable read', readOnly: true });
    const snapshot = await (task.snapshot ?? catalog.currentSnapshot)(src);

    await session.beginReplica(dst);
    const empties = task.mode === 'alone' && table.attrs['skip_truncate'] !== '1';
    // rows kept (skip_truncate) would be sorted again for nothing, and would fail a key only at the end
    const dropped = empties && traits.mayRebuildIndexes ? await dropForLoad(dst, table.dest) : { restore: [], keys: 0 };
    if (empties) {
      // the copy puts back the referenced rows that a DELETE (replica role) takes away
      await emptyTable(dst, table.dest, traits, tableHandler(table).impl.copyEmptiesChildren === true);
    }
    phase(`snapshot, ${String(dropped.keys)} keys and ${String(dropped.restore.length - dropped.keys)} indexes dropped${empties ? ', table emptied' : ''}`);

    const meter = new CopyRelay();
    task.onStreaming?.(meter);
    const every = task.progressEveryMs ?? 5000;
    const timer = setInterval(() => {
      const s = (Date.now() - started) / 1000;
      log.info(`${table.name}: copying, ${meter.rows} rows, ${(meter.bytes / 1048576).toFixed(1)} MB, ${(meter.bytes / 1048576 / s).toFixed(1)} MB/s`);
    }, every);
    let copied: CopyRelayResult;
    try {
      copied = await meter.run(src, copyOutSql(task.sourceName, cols, copyCondition(table), format), dst, copyInSql(table.dest, cols, format));
    } finally {
      clearInterval(timer);
    }
    phase('COPY');
    if (copied.sourceRows !== undefined && copied.sourceRows !== copied.rows) {
      log.warning(`${table.name}: the provider sent ${String(copied.sourceRows)} rows and ${table.dest} took ${String(copied.rows)}: a trigger enabled ALWAYS or REPLICA on it here changes the rows a copy writes`);
    }
    await restoreAfterLoad(dst, table, dropped.restore);
    phase('keys and indexes built');
    await setTableState(dst, log, task.queue, table.name, snapshot, 'catching-up');
    await session.commit(dst);
    await session.commit(src);
    phase('commit');
    if (log.isDebugEnabled()) log.debug(`${table.name}: copy phases, ms: ${phases.map(([n, ms]) => `${n} ${String(ms)}`).join(', ')}`);
    const seconds = (Date.now() - started) / 1000;
    log.info(
      `${table.name}: copied ${copied.rows} rows, ${(copied.bytes / 1048576).toFixed(1)} MB (${format}) in ${seconds.toFixed(2)}s` +
        (seconds > 0 ? ` (${Math.round(copied.rows / seconds)} rows/s)` : ''),
    );
    await task.onCommitted?.();
    return { rows: copied.rows, bytes: copied.bytes, seconds };
  } catch (err) {
    await session.rollback(dst);
    await session.rollback(src);
    throw err;
  } finally {
    task.signal?.removeEventListener('abort', onAbort);
  }
}

/**
 * The lead part of a merged table, before any part copies: its primary key, unique and exclusion
 * constraints (those no foreign key points at) and its other indexes dropped, the table emptied,
 * and the statements that put them back kept in dropped_ddl, committed so the other parts see
 * it. A retry after a failed copy finds dropped_ddl set and does not empty the table again: the
 * other parts may have copied into it meanwhile.
 */
async function dropForMerge(task: CopyTask, traits: TableTraits): Promise<void> {
  const { dst, table, log } = task;
  await session.beginReplica(dst);
  try {
    // whatever mayRebuildIndexes says: whether the lead dropped anything (dropped_ddl) steers the parts' states
    const { restore, keys } = await dropForLoad(dst, table.dest);
    if (table.attrs['skip_truncate'] !== '1') await emptyTable(dst, table.dest, traits);
    await londisteSql.localSetTableStruct(dst, log, task.queue, table.name, restore.length === 0 ? null : `${restore.join(';\n')};`);
    await session.commit(dst);
    log.info(`${table.name}: leads the copies of merged table ${table.dest}: ${String(keys)} constraints and ${String(restore.length - keys)} indexes dropped until every part has copied`);
  } catch (err) {
    await session.rollback(dst);
    throw err;
  }
}

/**
 * For a load: one sort per index after it instead of per-row index maintenance (the 5M-row copy
 * of the benchmark took 30 % less time with its primary key built after the rows). Dropped in
 * the caller's transaction: the table's primary key, unique and exclusion constraints, unless a
 * foreign key points at their index, the index carries more than the constraint says (replica
 * identity, ...) or another object depends on the constraint (a view grouping by the key); then
 * its other indexes. Returns the statements that put them back, in order, and how many of them
 * are constraints (the first ones). A copy into the emptied table calls it only when
 * TableTraits.mayRebuildIndexes (the privileges to build them again; not for a partitioned table);
 * a merged table's lead part whatever that says (dropForMerge).
 */
async function dropForLoad(dst: pg.Client, dest: string): Promise<{ restore: string[]; keys: number }> {
  const indexes = await catalog.tableIndexes(dst, dest);
  const fkTargets = new Set(indexes.filter((i) => i.foreignKeyTarget).map((i) => i.name));
  const kept = new Set(indexes.filter((i) => i.keepsMore).map((i) => i.name));
  const constraints = (await catalog.tableConstraints(dst, dest)).filter((c) => c.type !== 'c' && (c.index === null || (!fkTargets.has(c.index) && !kept.has(c.index))));
  const restore: string[] = [];
  for (const c of constraints) {
    const gone = await session.unlessFails(dst, SQLSTATE.dependentObjectsStillExist, () => dropConstraint(dst, dest, c.name).then(() => true));
    if (gone === true) restore.push(addConstraintSql(dest, c.name, c.def));
  }
  const keys = restore.length;
  // no constraint is behind these (that makes an index needed): the drops above left them as they were
  for (const i of indexes.filter((x) => !x.needed)) {
    restore.push(i.def);
    await dropIndex(dst, dest, i.name);
  }
  return { restore, keys };
}

/** The keys and indexes dropped for the load built again; a key the copied rows break is named with the rows. */
async function restoreAfterLoad(dst: pg.Client, table: TableState, restore: readonly string[]): Promise<void> {
  for (const ddl of restore) {
    try {
      await restoreStructure(dst, ddl);
    } catch (err) {
      const { code, detail } = pgDiagnostics(err);
      if (code !== SQLSTATE.uniqueViolation && code !== SQLSTATE.exclusionViolation) throw err;
      throw new SkytoolsError(
        `${table.name}: the copied rows break a key of ${table.dest} here (${(err as Error).message}${detail === undefined ? '' : `: ${detail}`}); the provider's rows do not satisfy it: drop or change that key here, or clean the provider's rows (the copy is retried)`,
        { cause: err },
      );
    }
  }
}
