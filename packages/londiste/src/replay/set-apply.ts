/**
 * Set-based apply of one table's row events within a batch (DESIGN §5): the events of each
 * primary key collapse to their net effect in event order (the row's last image, or its
 * absence), remembering whether the row existed before (its first event an update or a
 * delete). The survivors are loaded with COPY into a session temp table and applied with at most
 * three statements: DELETE of rows gone, UPDATE ... FROM of rows that existed, INSERT of new
 * ones (ON CONFLICT DO UPDATE, should the target have them anyway). A --where condition is
 * evaluated on the row images: rows that do not (or no longer) match are deleted instead, the
 * others upserted, since the target may or may not hold them.
 */
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { quoteFqname, quoteIdent, SkytoolsError, urlDecodePart } from '@skytools/core';
import type { Row, RowOp } from './row-event.js';
import type { TableMeta } from './table-meta.js';
import { copyField, copyLine } from './copy-text.js';

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
class Stage {
  readonly name: string;
  /** Loaded in the current transaction: empty it before loading it again. */
  used = false;
  constructor(
    readonly columns: readonly string[],
    readonly created: Promise<void>,
    name: string,
  ) {
    this.name = name;
  }
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

  get size(): number {
    return this.pending.size;
  }

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

  private remember(op: RowOp, key: string, image: { row: Row } | { line: string }): void {
    const before = this.pending.get(key);
    this.pending.set(key, { present: op !== 'D', existed: before === undefined ? op !== 'I' : before.existed, ...image });
  }

  /** Add one event; returns false when it cannot join the current set (other columns): flush first. */
  add(op: RowOp, row: Row): boolean {
    if (op !== 'D') {
      const cols = Object.keys(row);
      if (this.columns === null) {
        this.setColumns(cols, null);
      } else if (cols.length !== this.columns.length || cols.some((c, i) => c !== this.columns?.[i])) {
        if (this.pending.size > 0) return false;
        this.setColumns(cols, null);
      }
    }
    const key = this.keyOf(row);
    if (this.where === null && this.columns !== null) {
      this.remember(op, key, { line: this.columns.map((c) => copyField(row[c])).join('\t') });
    } else {
      this.remember(op, key, { row });
    }
    return true;
  }

  /**
   * Add one urlencoded row event (logutriga) without building an object: each value goes from
   * the event text straight to its COPY field (a value without escapes is used as it is: it
   * cannot hold what COPY escapes). 'flush' when the event has other columns than the current
   * set; 'decode' when this set needs decoded rows (a --where condition, or rows that came
   * decoded): use add().
   */
  addEncoded(op: RowOp, text: string): 'ok' | 'flush' | 'decode' {
    if (this.where !== null || (this.columns !== null && this.rawKeys === null)) return 'decode';
    const fields: string[] = [];
    const raw = this.rawKeys;
    let layoutOk = raw !== null;
    let pos = 0;
    let i = 0;
    const seen: string[] = [];
    while (pos <= text.length) {
      let end = text.indexOf('&', pos);
      if (end < 0) end = text.length;
      if (end > pos) {
        let eq = text.indexOf('=', pos);
        if (eq < 0 || eq > end) eq = -1;
        const keyEnd = eq < 0 ? end : eq;
        if (layoutOk && raw !== null) {
          const k = raw[i];
          layoutOk = k !== undefined && keyEnd - pos === k.length && text.startsWith(k, pos);
        }
        if (!layoutOk) seen.push(text.slice(pos, keyEnd));
        if (eq < 0) fields.push('\\N');
        else {
          const v = text.slice(eq + 1, end);
          fields.push(v.includes('%') || v.includes('+') ? copyField(urlDecodePart(v)) : v);
        }
        i += 1;
      }
      pos = end + 1;
    }
    if (layoutOk && raw !== null && i !== raw.length) layoutOk = false;
    if (!layoutOk) {
      if (this.pending.size > 0) return 'flush';
      if (raw !== null) {
        // other columns than the last set's, with nothing pending: read this event afresh
        this.columns = null;
        this.rawKeys = null;
        return this.addEncoded(op, text);
      }
      // first event of a set: its keys are the set's columns
      this.setColumns(seen.map(urlDecodePart), seen);
    }
    const parts = this.keyAt.map((at) => fields[at]);
    if (parts.some((p) => p === undefined || p === '\\N')) throw new SkytoolsError(`event for ${this.meta.fqname} lacks a primary key column (${this.meta.pkey.join(', ')})`);
    this.remember(op, parts.length === 1 ? (parts[0] as string) : JSON.stringify(parts), { line: fields.join('\t') });
    return 'ok';
  }

  private stageFor(columns: readonly string[]): Stage {
    const sig = columns.join('\u0001');
    let s = this.stages.get(sig);
    if (s === undefined) {
      stageCounter += 1;
      const name = `ld_stage_${stageCounter}`;
      const cols = columns.map((c) => `${quoteIdent(c)} ${this.meta.types.get(c) ?? 'text'}`).join(', ');
      // ON COMMIT DELETE ROWS: every batch starts with an empty stage, at no cost
      const created = this.client
        .query(`CREATE TEMP TABLE ${name} (ld_op "char" NOT NULL, ${cols}) ON COMMIT DELETE ROWS`)
        .then(() => undefined);
      s = new Stage(columns, created, name);
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

    const counts = { d: 0, u: 0, i: 0 };
    const lines = (function* (): Generator<string> {
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
    const stageList = stageCols.map(quoteIdent).join(', ');
    const t0 = performance.now();
    // a second load in one transaction (a big batch) must not see the first one's rows
    if (stage.used) await this.client.query(`TRUNCATE ${stage.name}`);
    stage.used = true;
    await pipeline(Readable.from(lines), this.client.query(copyFrom(`COPY ${stage.name} (ld_op, ${stageList}) FROM STDIN`)));
    const t1 = performance.now();
    this.copyMs += t1 - t0;
    try {
      await this.applyStage(stage.name, columns, counts);
    } finally {
      this.sqlMs += performance.now() - t1;
      this.columns = null;
      this.rawKeys = null;
    }
  }

  private async applyStage(stage: string, columns: readonly string[], counts: Record<StageOp, number>): Promise<void> {
    const dest = quoteFqname(this.meta.fqname);
    const colList = columns.map(quoteIdent).join(', ');
    const keyList = this.meta.pkey.map(quoteIdent).join(', ');
    const pkJoin = this.meta.pkey.map((k) => `d.${quoteIdent(k)} = s.${quoteIdent(k)}`).join(' AND ');
    const nonKey = columns.filter((c) => !this.meta.pkey.includes(c));
    const upsert = `ON CONFLICT (${keyList}) ${nonKey.length === 0 ? 'DO NOTHING' : `DO UPDATE SET ${nonKey.map((c) => `${quoteIdent(c)} = EXCLUDED.${quoteIdent(c)}`).join(', ')}`}`;
    if (this.where !== null) {
      // whether the target holds a row depends on the condition: delete what must not be
      // there, upsert the rest
      const cond = `coalesce((${this.where}), false)`;
      const [deleted, written] = await this.runAll([
        `DELETE FROM ${dest} d USING (SELECT ${keyList} FROM ${stage} WHERE ld_op = 'd' OR NOT ${cond}) s WHERE ${pkJoin}`,
        `INSERT INTO ${dest} (${colList}) SELECT ${colList} FROM ${stage} WHERE ld_op <> 'd' AND ${cond} ${upsert}`,
      ]);
      this.deleted += deleted ?? 0;
      this.written += written ?? 0;
      return;
    }
    // one round trip: the statements take no parameters, so they go as one multi-statement query
    const statements: string[] = [];
    if (counts.d > 0) statements.push(`DELETE FROM ${dest} d USING ${stage} s WHERE s.ld_op = 'd' AND ${pkJoin}`);
    const updating = counts.u > 0 && nonKey.length > 0;
    if (updating) {
      statements.push(`UPDATE ${dest} d SET ${nonKey.map((c) => `${quoteIdent(c)} = s.${quoteIdent(c)}`).join(', ')} FROM ${stage} s WHERE s.ld_op = 'u' AND ${pkJoin}`);
    }
    if (counts.i > 0) statements.push(`INSERT INTO ${dest} (${colList}) SELECT ${colList} FROM ${stage} WHERE ld_op = 'i' ${upsert}`);
    const results = statements.length === 0 ? [] : await this.runAll(statements);
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
      const ins = await this.client.query(`INSERT INTO ${dest} (${colList}) SELECT ${colList} FROM ${stage} WHERE ld_op = 'u' ${upsert}`);
      this.written += ins.rowCount ?? 0;
    }
  }

  /** Run statements as one query; the row count of each. */
  private async runAll(statements: string[]): Promise<number[]> {
    const res = (await this.client.query(statements.join(';\n'))) as unknown as pg.QueryResult | pg.QueryResult[];
    return (Array.isArray(res) ? res : [res]).map((r) => r.rowCount ?? 0);
  }

  /** Drop what is pending (a TRUNCATE makes it moot). */
  discard(): void {
    this.pending.clear();
    this.columns = null;
    this.rawKeys = null;
  }
}
