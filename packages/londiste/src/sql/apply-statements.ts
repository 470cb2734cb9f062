/**
 * The statements of the set-based apply, built per table from its names: the DELETE / UPDATE ...
 * FROM / INSERT that apply a table's net effect (ld_net, or any relation of ld_op and the columns), TRUNCATE,
 * and the statements of sqltriga events. Identifiers go through quoteIdent; the only text taken
 * as is is what the user gave as SQL (--where) or what a capture trigger wrote as SQL (sqltriga).
 */
import type pg from 'pg';
import { quoteFqname, quoteIdent } from '@skytools/core';
import type { RowOp } from '../replay/event-parser.js';

/** How a loaded stage is applied to its table; each statement reports its row count. */
export class StageStatements {
  private readonly dest: string;
  private readonly stage: string;
  private readonly colList: string;
  private readonly pkJoin: string;
  private readonly onConflict: string;
  private readonly nonKey: string[];
  private readonly keyList: string;

  private readonly overriding: string;

  /**
   * @param skip generated columns of the target: staged but never written
   * @param overriding the target has GENERATED ALWAYS identity columns (inserts override them)
   * @param deferrableKey the target's primary key is DEFERRABLE: no ON CONFLICT arbiter (merge)
   */
  constructor(
    dest: string,
    stage: string,
    staged: readonly string[],
    pkey: readonly string[],
    skip: ReadonlySet<string> = new Set(),
    overriding = false,
    private readonly deferrableKey = false,
  ) {
    const columns = staged.filter((c) => !skip.has(c));
    this.dest = quoteFqname(dest);
    this.stage = quoteIdent(stage);
    this.overriding = overriding ? ' OVERRIDING SYSTEM VALUE' : '';
    this.colList = columns.map(quoteIdent).join(', ');
    this.pkJoin = pkey.map((k) => `d.${quoteIdent(k)} = s.${quoteIdent(k)}`).join(' AND ');
    this.nonKey = columns.filter((c) => !pkey.includes(c));
    this.keyList = pkey.map(quoteIdent).join(', ');
    this.onConflict = `ON CONFLICT (${this.keyList}) ${
      this.nonKey.length === 0 ? 'DO NOTHING' : `DO UPDATE SET ${this.nonKey.map((c) => `${quoteIdent(c)} = EXCLUDED.${quoteIdent(c)}`).join(', ')}`
    }`;
  }

  /** Can rows that existed be updated (are there columns besides the key)? */
  get canUpdate(): boolean {
    return this.nonKey.length > 0;
  }

  deleteGone(): string {
    return `DELETE FROM ${this.dest} d USING ${this.stage} s WHERE s.ld_op = 'd' AND ${this.pkJoin}`;
  }

  updateExisting(): string {
    return `UPDATE ${this.dest} d SET ${this.nonKey.map((c) => `${quoteIdent(c)} = s.${quoteIdent(c)}`).join(', ')} FROM ${this.stage} s WHERE s.ld_op = 'u' AND ${this.pkJoin}`;
  }

  /** The new rows (staged with 'i'), as plain inserts: a row the target has already fails the statement. */
  insertNew(): string {
    return `INSERT INTO ${this.dest} (${this.colList})${this.overriding} SELECT ${this.colList} FROM ${this.stage} WHERE ld_op = 'i'`;
  }

  /** New rows (staged 'i') written whether or not the target has them. */
  upsertNew(): string[] {
    return this.merge(`ld_op = 'i'`);
  }

  /**
   * Rows staged with 'u' that the target lacks (an UPDATE before this one wrote those it has):
   * inserted; the others left as that UPDATE made them.
   */
  insertMissing(): string {
    const rows = `(SELECT * FROM ${this.stage} WHERE ld_op = 'u') s`;
    return this.deferrableKey
      ? this.insertAbsent(rows)
      : `INSERT INTO ${this.dest} (${this.colList})${this.overriding} SELECT ${this.colList} FROM ${rows} ON CONFLICT (${this.keyList}) DO NOTHING`;
  }

  /** With a --where condition: delete the rows that are gone or do not (any longer) match. */
  deleteUnmatched(where: string): string {
    return `DELETE FROM ${this.dest} d USING (SELECT ${this.keyList} FROM ${this.stage} WHERE ld_op = 'd' OR NOT ${matches(where)}) s WHERE ${this.pkJoin}`;
  }

  /** With a --where condition: write the rows that match (the target may or may not have them). */
  upsertMatched(where: string): string[] {
    return this.merge(`ld_op <> 'd' AND ${matches(where)}`);
  }

  /**
   * The parts writing the staged rows that meet `condition` (on the stage's columns), whether or
   * not the target has them: INSERT ... ON CONFLICT on the key. A DEFERRABLE key cannot be an
   * arbiter: then an UPDATE of the rows the target has and an INSERT of the others, parts of one
   * statement, which both see the target as it was before it (so no row is written twice).
   */
  private merge(condition: string): string[] {
    if (!this.deferrableKey) {
      return [`INSERT INTO ${this.dest} (${this.colList})${this.overriding} SELECT ${this.colList} FROM ${this.stage} WHERE ${condition} ${this.onConflict}`];
    }
    const rows = `(SELECT * FROM ${this.stage} WHERE ${condition}) s`;
    const missing = this.insertAbsent(rows);
    if (!this.canUpdate) return [missing];
    return [`UPDATE ${this.dest} d SET ${this.nonKey.map((c) => `${quoteIdent(c)} = s.${quoteIdent(c)}`).join(', ')} FROM ${rows} WHERE ${this.pkJoin}`, missing];
  }

  /** Insert the rows of `rows` (a subquery aliased s) whose key the target does not have. */
  private insertAbsent(rows: string): string {
    return `INSERT INTO ${this.dest} (${this.colList})${this.overriding} SELECT ${this.colList} FROM ${rows} WHERE NOT EXISTS (SELECT 1 FROM ${this.dest} d WHERE ${this.pkJoin})`;
  }
}

/** A user's condition evaluated on a row image: NULL counts as not matching. */
function matches(where: string): string {
  return `coalesce((${where}), false)`;
}

/**
 * ONLY for a plain table (its inheritance children are tables of their own), nothing for a table
 * partitioned by PostgreSQL: there ONLY would find no rows (UPDATE ONLY and DELETE FROM ONLY
 * change nothing, without an error) or be refused (TRUNCATE ONLY).
 */
export function onlyKeyword(partitioned: boolean): string {
  return partitioned ? '' : 'ONLY ';
}

/** `partitioned`: the table is partitioned by PostgreSQL (TableMeta.partitioned). */
export async function truncateTable(client: pg.ClientBase, fqname: string, partitioned: boolean): Promise<void> {
  await client.query(`TRUNCATE ${onlyKeyword(partitioned)}${quoteFqname(fqname)}`);
}

/** A sqltriga event: the fragment the trigger wrote, completed for the target table. */
export async function applySqlEvent(client: pg.ClientBase, op: RowOp, dest: string, partitioned: boolean, fragment: string): Promise<void> {
  const t = quoteFqname(dest);
  const only = onlyKeyword(partitioned);
  await client.query(op === 'I' ? `INSERT INTO ${t} ${fragment}` : op === 'U' ? `UPDATE ${only}${t} SET ${fragment}` : `DELETE FROM ${only}${t} WHERE ${fragment}`);
}
