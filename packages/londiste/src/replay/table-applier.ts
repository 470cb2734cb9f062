/**
 * Set-based apply of one table's row events of a batch (docs/architecture.md, "Apply"), all in
 * SQL on this node: from the batch stage, the events of each primary key collapse to their net
 * effect in event order (the row's last image, or its absence), remembering whether the row
 * existed before (its first event an update or a delete). The survivors go into a session temp
 * table of the table's types, applied with at most three statements: DELETE of rows gone,
 * UPDATE ... FROM of rows that existed, INSERT of new ones (ON CONFLICT DO UPDATE, should the
 * target have them anyway). A --where condition is evaluated on the row images: rows that do not
 * (or no longer) match are deleted instead, the others upserted, since the target may or may not
 * hold them. Rows of another column layout (ignored columns, a column added at the source) are
 * staged and written apart, each with its own columns.
 */
import type pg from 'pg';
import { SkytoolsError, urlDecodePart } from '@skytools/core';
import { createStage, emptyStage, runStatements, StageStatements } from '../sql/apply-statements.js';
import { fillStage, fillStageSql, firstEventWithoutKey, type FillCounts, type RowEventRange } from '../sql/batch-stage-statements.js';
import type { TableMeta } from './table-meta.js';

/** What the staged row asks for: d(elete), u(pdate an existing row), i(nsert a new one). */
type StageOp = 'd' | 'u' | 'i';

let stageCounter = 0;

/** One staging table per destination table and column set, kept for the session. */
interface Stage {
  name: string;
  created: Promise<void>;
  /** Loaded in the current transaction: empty it before loading it again. */
  used: boolean;
}

/** The column names of a stage layout: 'u:' urlencoded keys joined by '&', or 'j:' a JSON array. */
export function layoutColumns(layout: string): string[] {
  if (layout.startsWith('u:')) return layout.slice(2).split('&').filter((k) => k !== '').map(urlDecodePart);
  if (layout.startsWith('j:')) return JSON.parse(layout.slice(2)) as string[];
  throw new SkytoolsError(`unknown row layout ${JSON.stringify(layout.slice(0, 40))} in the batch stage`);
}

export class TableApplier {
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

  /** The columns of a layout, checked against this table. */
  private columnsOf(layout: string): string[] {
    const cols = layoutColumns(layout);
    for (const c of cols) if (!this.meta.types.has(c)) throw new SkytoolsError(`column ${c} of ${this.meta.fqname} is missing on this node`);
    const missing = this.meta.pkey.filter((k) => !cols.includes(k));
    if (missing.length > 0) throw new SkytoolsError(`row events of ${this.meta.fqname} lack primary key column ${missing.join(', ')}`);
    return cols;
  }

  /** Apply the row events of `range` in the batch stage, whose layouts are `layouts`, in the caller's transaction. */
  async apply(range: RowEventRange, layouts: readonly string[]): Promise<void> {
    for (const layout of layouts) {
      const columns = this.columnsOf(layout);
      // a --where condition may name any column of the table, also for rows that only carry
      // their key (deletes): stage them all; only the event's own columns are written
      const stageCols = this.where === null ? columns : this.meta.columns;
      const stage = this.stageFor(stageCols);
      await stage.created;
      const t0 = performance.now();
      // a second load in one transaction must not see the first one's rows
      if (stage.used) await emptyStage(this.client, stage.name);
      stage.used = true;
      const counts = await fillStage(this.client, fillStageSql(range, layout, stage.name, stageCols, this.meta.pkey, this.meta.types));
      if (counts.noKey > 0) {
        const ev = await firstEventWithoutKey(this.client, range, this.meta.pkey);
        throw new SkytoolsError(`event ${ev ?? '?'} for ${this.meta.fqname} lacks a primary key column (${this.meta.pkey.join(', ')})`);
      }
      const t1 = performance.now();
      this.copyMs += t1 - t0;
      try {
        await this.applyStage(new StageStatements(this.meta.fqname, stage.name, columns, this.meta.pkey, this.meta.generated, this.meta.overriding), counts);
      } finally {
        this.sqlMs += performance.now() - t1;
      }
    }
  }

  private async applyStage(sql: StageStatements, counts: Record<StageOp, number> & Partial<FillCounts>): Promise<void> {
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
}
