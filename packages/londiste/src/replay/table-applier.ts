/**
 * Set-based apply of one table's row events within a batch (docs/architecture.md, "Apply"): the
 * events of each primary key collapse to their net effect in event order (the row's last image,
 * or its absence), remembering whether the row existed before (its first event an update or a
 * delete). The survivors are loaded with COPY into a session temp table and applied with at most
 * three statements: DELETE of rows gone, UPDATE ... FROM of rows that existed, INSERT of new
 * ones (ON CONFLICT DO UPDATE, should the target have them anyway). A --where condition is
 * evaluated on the row images: rows that do not (or no longer) match are deleted instead, the
 * others upserted, since the target may or may not hold them. The applier flushes by itself when
 * a set grows large or an event brings other columns.
 */
import type pg from 'pg';
import { copyField, copyIn, copyLine, SkytoolsError, urlDecodePart } from '@skytools/core';
import { createStage, emptyStage, runStatements, stageCopySql, StageStatements } from '../sql/apply-statements.js';
import { decodeRow, encodedRowFields, type Row, type RowOp } from './event-parser.js';
import type { TableMeta } from './table-meta.js';

/** Keys held before a set is written: bounds memory whatever the batch size. */
const FLUSH_AT = 50_000;

interface Pending {
  present: boolean;
  /** The row existed before this set: its first event was an update or a delete. */
  existed: boolean;
  /** The row's last image: decoded, or (without a --where condition) as its COPY fields. */
  row?: Row;
  line?: string;
}

/** What the staged row asks for: d(elete), u(pdate an existing row), i(nsert a new one). */
type StageOp = 'd' | 'u' | 'i';

function stageOp(p: Pending): StageOp {
  return !p.present ? 'd' : p.existed ? 'u' : 'i';
}

let stageCounter = 0;

/** One staging table per destination table and column set, kept for the session. */
interface Stage {
  name: string;
  created: Promise<void>;
  /** Loaded in the current transaction: empty it before loading it again. */
  used: boolean;
}

export class TableApplier {
  private pending = new Map<string, Pending>();
  private columns: string[] | null = null;
  /** The columns as urlencoded in the events of the current set (when they came that way). */
  private rawKeys: string[] | null = null;
  /** Positions of the key columns in `columns`. */
  private keyAt: number[] = [];
  private readonly stages = new Map<string, Stage>();
  /** Rows written and deleted, and milliseconds spent loading the stage and in the statements. */
  written = 0;
  deleted = 0;
  copyMs = 0;
  sqlMs = 0;

  constructor(
    private readonly client: pg.ClientBase,
    readonly meta: TableMeta,
    private readonly where: string | null,
  ) {}

  private keyOf(row: Row): string {
    const parts: string[] = [];
    for (const k of this.meta.pkey) {
      const v = row[k];
      if (v === undefined || v === null) throw new SkytoolsError(`event for ${this.meta.fqname} lacks primary key column ${k}`);
      parts.push(v);
    }
    return parts.length === 1 ? (parts[0] as string) : JSON.stringify(parts);
  }

  private setColumns(cols: string[], rawKeys: string[] | null): void {
    for (const c of cols) if (!this.meta.types.has(c)) throw new SkytoolsError(`column ${c} of ${this.meta.fqname} is missing on this node`);
    this.columns = cols;
    this.rawKeys = rawKeys;
    this.keyAt = this.meta.pkey.map((k) => cols.indexOf(k));
  }

  private async remember(op: RowOp, key: string, image: { row: Row } | { line: string }): Promise<void> {
    const before = this.pending.get(key);
    this.pending.set(key, { present: op !== 'D', existed: before === undefined ? op !== 'I' : before.existed, ...image });
    if (this.pending.size >= FLUSH_AT) await this.flush();
  }

  /** Add one decoded row event. */
  async add(op: RowOp, row: Row): Promise<void> {
    if (op !== 'D') {
      const cols = Object.keys(row);
      const current = this.columns;
      if (current === null) {
        this.setColumns(cols, null);
      } else if (cols.length !== current.length || cols.some((c, i) => c !== current[i])) {
        // other columns than the current set's: the set is written first
        if (this.pending.size > 0) await this.flush();
        this.setColumns(cols, null);
      }
    }
    const key = this.keyOf(row);
    if (this.where === null && this.columns !== null) {
      await this.remember(op, key, { line: this.columns.map((c) => copyField(row[c])).join('\t') });
    } else {
      await this.remember(op, key, { row });
    }
  }

  /**
   * Add one urlencoded row event (logutriga): each value goes from the event text straight to its
   * COPY field. Sets that need decoded rows (a --where condition, rows that came decoded) decode it.
   */
  async addEncoded(op: RowOp, text: string): Promise<void> {
    if (this.where !== null || (this.columns !== null && this.rawKeys === null)) {
      await this.add(op, decodeRow(text));
      return;
    }
    const { fields, keys } = encodedRowFields(text, this.rawKeys);
    if (keys !== null) {
      // other columns than the current set's: the set is written first
      if (this.pending.size > 0) await this.flush();
      this.setColumns(keys.map(urlDecodePart), keys);
    }
    const parts = this.keyAt.map((at) => fields[at]);
    if (parts.some((p) => p === undefined || p === '\\N')) throw new SkytoolsError(`event for ${this.meta.fqname} lacks a primary key column (${this.meta.pkey.join(', ')})`);
    await this.remember(op, parts.length === 1 ? (parts[0] as string) : JSON.stringify(parts), { line: fields.join('\t') });
  }

  private stageFor(columns: readonly string[]): Stage {
    const sig = columns.join('\u0001');
    let s = this.stages.get(sig);
    if (s === undefined) {
      stageCounter += 1;
      const name = `ld_stage_${stageCounter}`;
      const created = createStage(this.client, name, columns.map((c) => ({ name: c, type: this.meta.types.get(c) ?? 'text' })));
      s = { name, created, used: false };
      this.stages.set(sig, s);
    }
    return s;
  }

  /** A new transaction: the stages are empty again (ON COMMIT DELETE ROWS). */
  newTransaction(): void {
    for (const st of this.stages.values()) st.used = false;
  }

  /** Apply what is pending, in the caller's transaction. */
  async flush(): Promise<void> {
    if (this.pending.size === 0) return;
    const columns = this.columns ?? this.meta.pkey;
    // a --where condition may name any column of the table, also for rows that only carry
    // their key (deletes): stage them all; only the event's own columns are written
    const stageCols = this.where === null ? columns : this.meta.columns;
    const stage = this.stageFor(stageCols);
    await stage.created;
    const pending = this.pending;
    this.pending = new Map();
    this.columns = null;
    this.rawKeys = null;

    const counts = { d: 0, u: 0, i: 0 };
    const chunks = (function* (): Generator<string> {
      let buf = '';
      for (const p of pending.values()) {
        const op = stageOp(p);
        counts[op] += 1;
        buf += p.line !== undefined ? `${op}\t${p.line}\n` : copyLine([op, ...stageCols.map((c) => p.row?.[c] ?? null)]);
        if (buf.length > 65536) {
          yield buf;
          buf = '';
        }
      }
      if (buf !== '') yield buf;
    })();
    const t0 = performance.now();
    // a second load in one transaction (a big batch) must not see the first one's rows
    if (stage.used) await emptyStage(this.client, stage.name);
    stage.used = true;
    await copyIn(this.client, stageCopySql(stage.name, stageCols), chunks);
    const t1 = performance.now();
    this.copyMs += t1 - t0;
    try {
      await this.applyStage(new StageStatements(this.meta.fqname, stage.name, columns, this.meta.pkey, this.meta.generated, this.meta.overriding), counts);
    } finally {
      this.sqlMs += performance.now() - t1;
    }
  }

  private async applyStage(sql: StageStatements, counts: Record<StageOp, number>): Promise<void> {
    if (this.where !== null) {
      // whether the target holds a row depends on the condition: delete what must not be
      // there, upsert the rest
      const [deleted, written] = await runStatements(this.client, [sql.deleteUnmatched(this.where), sql.upsertMatched(this.where)]);
      this.deleted += deleted ?? 0;
      this.written += written ?? 0;
      return;
    }
    const statements: string[] = [];
    if (counts.d > 0) statements.push(sql.deleteGone());
    const updating = counts.u > 0 && sql.canUpdate;
    if (updating) statements.push(sql.updateExisting());
    if (counts.i > 0) statements.push(sql.upsert('i'));
    const results = await runStatements(this.client, statements);
    let k = 0;
    if (counts.d > 0) this.deleted += results[k++] ?? 0;
    let missing = counts.u > 0 && !updating;
    if (updating) {
      const updated = results[k++] ?? 0;
      this.written += updated;
      missing = updated < counts.u;
    }
    if (counts.i > 0) this.written += results[k++] ?? 0;
    if (missing) {
      // rows the target should have had: write them anyway, the source is the truth
      this.written += (await runStatements(this.client, [sql.upsert('u')]))[0] ?? 0;
    }
  }

  /** Drop what is pending (a TRUNCATE makes it moot). */
  discard(): void {
    this.pending.clear();
    this.columns = null;
    this.rawKeys = null;
  }
}
