/**
 * repair's work on one frozen table: the rows that differ from the root's, found by merging both
 * sides streamed in key order, each turned into the statement that fixes it; with `apply`, those
 * statements run here in one transaction under the replica role, which commits only when the
 * table's checksum then equals the root's (still the same snapshot and tick).
 */
import type pg from 'pg';
import { catalog, connect, describeError, copyOutLines, session, SkytoolsError, UsageError, type Logger } from '@skytools/core';
import { keyOrder, RowFixer, sortedRowsCopySql, type StreamKey } from '../sql/repair-statements.js';
import { diffSortedRows, type DiffCounts, type RowDifference } from './row-diff.js';
import type { FreezeTarget, FrozenTable } from './table-freeze.js';

export interface RepairOptions {
  /** Apply the fixes here (else only write them). */
  apply: boolean;
  /** Receives the SQL text, statement by statement (awaited: a slow writer slows the reading). */
  write: (sql: string) => Promise<void>;
  /** Connect string of this node, for the reading and applying sessions. */
  localConnstr: string;
  appName: string;
  log: Logger;
  progressEveryMs?: number;
}

export interface RepairResult extends DiffCounts {
  /** Statements applied here (0 without apply). */
  applied: number;
}

/** Statements sent to the server together when applying. */
const APPLY_BATCH = 500;

class FixApplier {
  private pending: string[] = [];
  applied = 0;

  constructor(
    private readonly client: pg.ClientBase,
    private readonly table: string,
  ) {}

  async add(statement: string): Promise<void> {
    this.pending.push(statement);
    if (this.pending.length >= APPLY_BATCH) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    const script = this.pending.join('\n');
    this.applied += this.pending.length;
    this.pending = [];
    try {
      await session.runUserScript(this.client, script);
    } catch (err) {
      throw new SkytoolsError(`repair: applying the fixes of ${this.table} failed: ${describeError(err)}; rolled back, nothing was changed (the statements so far were written out)`, { cause: err });
    }
  }
}

function describeCounts(c: DiffCounts): string {
  return `${String(c.missing)} missing here, ${String(c.changed)} different, ${String(c.extra)} not on the root`;
}

export async function repairTable(f: FrozenTable, target: FreezeTarget, o: RepairOptions): Promise<RepairResult> {
  const names = f.columns.map((c) => c.name);
  const keys: StreamKey[] = f.columns.filter((c) => c.pk).map((c) => ({ name: c.name, order: keyOrder(c.type) }));
  if (keys.length === 0) throw new UsageError(`repair: ${target.table} has no primary key on the root, so its rows cannot be matched; resync it instead`);
  const computed = await catalog.computedColumns(f.local, target.local);
  const fixer = new RowFixer(
    target.local,
    names,
    keys.map((k) => k.name),
    new Set(computed.generated),
    computed.identityAlways.some((c) => names.includes(c)),
    await catalog.primaryKeyDeferrable(f.local, target.local),
  );
  const estimate = await catalog.estimatedRows(f.local, target.local);

  const reader = await connect(o.localConnstr, { name: 'repair_read', logger: o.log, applicationName: o.appName });
  const writer = o.apply ? await connect(o.localConnstr, { name: 'repair_apply', logger: o.log, applicationName: o.appName }) : null;
  const counts: DiffCounts = { rootRows: 0, localRows: 0, missing: 0, changed: 0, extra: 0 };
  const timer = setInterval(() => {
    o.log.info(`${target.local}: compared ${String(counts.rootRows)} rows${estimate === null ? '' : ` of about ${String(estimate)}`}; ${describeCounts(counts)}`);
  }, o.progressEveryMs ?? 5000);
  try {
    await session.setComparableOutput(reader);
    const applier = writer === null ? null : new FixApplier(writer, target.local);
    if (writer !== null) {
      await session.setComparableOutput(writer);
      await session.beginReplica(writer);
    }
    let opened = false;
    const emit = async (statement: string): Promise<void> => {
      if (!opened) {
        await o.write(fixer.begin(f.tick));
        opened = true;
      }
      await o.write(statement);
      await applier?.add(statement);
    };
    const onDiff = async (d: RowDifference): Promise<void> => {
      const statement = d.kind === 'missing' ? fixer.insert(d.row) : d.kind === 'changed' ? fixer.update(d.row, d.localHash) : fixer.delete(d.key, d.localHash);
      if (statement !== null) await emit(statement);
    };
    await diffSortedRows(
      copyOutLines(f.root, sortedRowsCopySql(target.table, keys, names, target.where, true)),
      copyOutLines(reader, sortedRowsCopySql(target.local, keys, names, null, false)),
      keys.map((k) => k.order),
      `repair of ${target.local}`,
      onDiff,
      counts,
    );
    const summary = `${target.local}: ${String(counts.rootRows)} rows on the root at tick ${f.tick}, ${String(counts.localRows)} here; ${describeCounts(counts)}`;
    if (opened) await o.write(fixer.commit());
    await o.write(`-- ${summary}`);
    o.log.info(summary);
    if (writer === null || applier === null) return { ...counts, applied: 0 };
    await applier.flush();
    // the fixed table against the root, before anything is committed
    const [root, local] = await Promise.all([
      catalog.tableChecksum(f.root, target.table, names, target.where),
      catalog.tableChecksum(writer, target.local, names, null),
    ]);
    if (root.rows !== local.rows || root.sum !== local.sum) {
      await session.rollback(writer);
      throw new SkytoolsError(
        `repair: ${target.local} still differs from the root after the fixes (root ${root.rows} rows, checksum ${String(root.sum)}; here ${local.rows} rows, checksum ${String(local.sum)}); rolled back, nothing was changed`,
      );
    }
    await session.commit(writer);
    return { ...counts, applied: applier.applied };
  } finally {
    clearInterval(timer);
    await reader.end().catch(() => undefined);
    await writer?.end().catch(() => undefined);
  }
}
