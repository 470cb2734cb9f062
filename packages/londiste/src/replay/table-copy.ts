/**
 * Initial copy of one table from the provider: a COPY stream from a repeatable-read snapshot
 * on the provider straight into the local table, in one local transaction that also records
 * the snapshot and moves the table to 'catching-up'. Secondary indexes are dropped before the
 * load and rebuilt after it (one sort instead of per-row index maintenance). Progress (rows,
 * MB, rate) is logged while it runs.
 */
import type pg from 'pg';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import { connect, quoteFqname, quoteIdent, splitFqname, type Logger } from '@skytools/core';
import { setTableState, type TableState } from './table-state.js';

export interface CopyResult {
  rows: number;
  bytes: number;
  seconds: number;
}

export interface CopyTask {
  queue: string;
  table: TableState;
  /** Name of the table on the provider (its dest_table there). */
  sourceName: string;
  providerConnstr: string;
  localConnstr: string;
  log: Logger;
  progressEveryMs?: number;
  signal?: AbortSignal;
  /** Called once the copy is committed, before the statistics are gathered. */
  onCommitted?: () => Promise<void>;
}

/**
 * Counts what passes, and passes it on in chunks of about 256 kB: COPY TO delivers a row at a
 * time, and handing each on as a message of its own costs more than the data.
 */
class Meter extends Transform {
  bytes = 0;
  rows = 0;
  private held: Buffer[] = [];
  private heldBytes = 0;
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.bytes += chunk.length;
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) this.rows += 1;
    this.held.push(chunk);
    this.heldBytes += chunk.length;
    if (this.heldBytes >= 262_144) this.release();
    cb();
  }
  override _flush(cb: TransformCallback): void {
    this.release();
    cb();
  }
  private release(): void {
    if (this.held.length === 0) return;
    this.push(this.held.length === 1 ? this.held[0] : Buffer.concat(this.held, this.heldBytes));
    this.held = [];
    this.heldBytes = 0;
  }
}

async function columnsOf(client: pg.ClientBase, fqname: string): Promise<string[]> {
  const { schema, name } = splitFqname(fqname);
  const r = await client.query<{ attname: string }>(
    `SELECT a.attname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relname = $2 AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
    [schema, name],
  );
  return r.rows.map((x) => x.attname);
}

export async function copyTable(task: CopyTask): Promise<CopyResult> {
  const { log, table } = task;
  const started = Date.now();
  const src = await connect(task.providerConnstr, { name: 'copy_src', logger: log, applicationName: `londiste copy ${table.name}` });
  const dst = await connect(task.localConnstr, { name: 'copy_dst', logger: log, applicationName: `londiste copy ${table.name}` });
  const onAbort = (): void => {
    // closing the connections aborts the COPY; both transactions roll back
    void src.end().catch(() => undefined);
    void dst.end().catch(() => undefined);
  };
  task.signal?.addEventListener('abort', onAbort);
  try {
    await setTableState(dst, task.queue, table.name, null, 'in-copy');
    const srcCols = await columnsOf(src, task.sourceName);
    const dstCols = new Set(await columnsOf(dst, table.dest));
    const cols = srcCols.filter((c) => dstCols.has(c));
    const colList = cols.map(quoteIdent).join(', ');

    await src.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const snap = await src.query<{ s: string }>('SELECT txid_current_snapshot()::text AS s');
    const snapshot = snap.rows[0]?.s ?? null;

    await dst.query('BEGIN');
    await dst.query(`SET LOCAL session_replication_role = 'replica'`);
    const dest = quoteFqname(table.dest);
    const { schema, name } = splitFqname(table.dest);
    const idx = await dst.query<{ name: string; def: string }>(
      `SELECT ic.relname AS name, pg_get_indexdef(i.indexrelid) AS def
         FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_class c ON c.oid = i.indrelid
         JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = $1 AND c.relname = $2 AND NOT i.indisprimary
          AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)`,
      [schema, name],
    );
    for (const i of idx.rows) await dst.query(`DROP INDEX ${quoteFqname(`${schema}.${i.name}`)}`);
    if (table.attrs['skip_truncate'] !== '1') {
      // TRUNCATE refuses a table other tables reference; with replica role a DELETE leaves their
      // rows alone, and the copy puts the referenced rows back
      const referenced = await dst.query(
        `SELECT 1 FROM pg_constraint c JOIN pg_class t ON t.oid = c.confrelid JOIN pg_namespace n ON n.oid = t.relnamespace
          WHERE c.contype = 'f' AND n.nspname = $1 AND t.relname = $2 AND c.conrelid <> c.confrelid LIMIT 1`,
        [schema, name],
      );
      await dst.query((referenced.rowCount ?? 0) > 0 ? `DELETE FROM ONLY ${dest}` : `TRUNCATE ONLY ${dest}`);
    }

    const where = table.where === null ? '' : ` WHERE ${table.where}`;
    const meter = new Meter();
    const every = task.progressEveryMs ?? 5000;
    const timer = setInterval(() => {
      const s = (Date.now() - started) / 1000;
      log.info(`${table.name}: copying, ${meter.rows} rows, ${(meter.bytes / 1048576).toFixed(1)} MB, ${(meter.bytes / 1048576 / s).toFixed(1)} MB/s`);
    }, every);
    try {
      await pipeline(
        src.query(copyTo(`COPY (SELECT ${colList} FROM ${quoteFqname(task.sourceName)}${where}) TO STDOUT`)),
        meter,
        dst.query(copyFrom(`COPY ${dest} (${colList}) FROM STDIN`)),
      );
    } finally {
      clearInterval(timer);
    }
    for (const i of idx.rows) await dst.query(i.def);
    await setTableState(dst, task.queue, table.name, snapshot, 'catching-up');
    await dst.query('COMMIT');
    await src.query('COMMIT');
    const seconds = (Date.now() - started) / 1000;
    log.info(
      `${table.name}: copied ${meter.rows} rows, ${(meter.bytes / 1048576).toFixed(1)} MB in ${seconds.toFixed(2)}s` +
        (seconds > 0 ? ` (${Math.round(meter.rows / seconds)} rows/s)` : ''),
    );
    await task.onCommitted?.();
    // statistics for the planner of the apply statements; the table does not wait for them
    await dst.query(`ANALYZE ${dest}`).catch((err: unknown) => log.warning(`${table.name}: ANALYZE after the copy failed: ${(err as Error).message}`));
    return { rows: meter.rows, bytes: meter.bytes, seconds };
  } catch (err) {
    await dst.query('ROLLBACK').catch(() => undefined);
    await src.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    task.signal?.removeEventListener('abort', onAbort);
    await src.end().catch(() => undefined);
    await dst.end().catch(() => undefined);
  }
}
