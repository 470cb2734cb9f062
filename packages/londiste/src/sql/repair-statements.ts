/**
 * repair's statements, built per table: the sorted streams read from both sides, and the SQL that
 * makes one row of this node equal to the root's.
 *
 * Both streams are ordered the same way whatever the servers' collations: an integer key by its
 * value, any other key by the bytes of its text in UTF-8 (sent as hex, so that comparing the hex
 * strings compares the bytes). Each line is the sort keys, a 64-bit hash of the row's text (the
 * row compare checksums), and, from the root only, the row's columns.
 */
import { quoteFqname, quoteIdent, quoteLiteral } from '@skytools/core';

/** integer: ordered by value, sent as its text; bytes: ordered by the UTF-8 bytes of its text, sent as hex. */
export type KeyOrder = 'integer' | 'bytes';

const INTEGER_TYPES = new Set(['smallint', 'integer', 'bigint']);

export function keyOrder(type: string): KeyOrder {
  return INTEGER_TYPES.has(type) ? 'integer' : 'bytes';
}

export interface StreamKey {
  name: string;
  order: KeyOrder;
}

/**
 * COPY of a table's rows ordered by key: the sort keys, the row hash and (withRow) every column.
 * `columns` are the compared columns (the root's), `where` the table's filter (root side only).
 */
export function sortedRowsCopySql(table: string, keys: readonly StreamKey[], columns: readonly string[], where: string | null, withRow: boolean): string {
  const sortExpr = (k: StreamKey): string => (k.order === 'integer' ? `x.${quoteIdent(k.name)}` : `convert_to(x.${quoteIdent(k.name)}::text, 'UTF8')`);
  const sent = keys.map((k) => (k.order === 'integer' ? sortExpr(k) : `encode(${sortExpr(k)}, 'hex')`));
  const row = withRow ? columns.map((c) => `x.${quoteIdent(c)}`) : [];
  const inner = `SELECT ${columns.map(quoteIdent).join(', ')} FROM ${quoteFqname(table)}${where === null ? '' : ` WHERE ${where}`}`;
  return `COPY (SELECT ${[...sent, 'hashtextextended(x::text, 0)', ...row].join(', ')} FROM (${inner}) x ORDER BY ${keys.map(sortExpr).join(', ')}) TO STDOUT`;
}

/** A value as SQL: NULL or a string literal (the column's type gives it its meaning). */
function literal(v: string | null): string {
  return v === null ? 'NULL' : quoteLiteral(v);
}

/** The statements that fix rows of one table of this node. */
export class RowFixer {
  private readonly target: string;
  private readonly insertCols: number[];
  private readonly updateCols: number[];
  private readonly keyCols: number[];
  private readonly keyList: string;
  private readonly rowHash: string;

  /**
   * @param columns the compared columns, in the order of the root's row fields
   * @param keys the primary key columns
   * @param skip columns this node computes itself (generated): never written
   * @param overriding this node has GENERATED ALWAYS identity columns among `columns`
   * @param deferrableKey this node's primary key is DEFERRABLE: no ON CONFLICT arbiter
   */
  constructor(
    table: string,
    private readonly columns: readonly string[],
    keys: readonly string[],
    skip: ReadonlySet<string>,
    private readonly overriding: boolean,
    private readonly deferrableKey = false,
  ) {
    this.target = quoteFqname(table);
    const idx = columns.map((_c, i) => i);
    this.keyCols = keys.map((k) => columns.indexOf(k));
    this.insertCols = idx.filter((i) => !skip.has(columns[i] ?? ''));
    this.updateCols = this.insertCols.filter((i) => !keys.includes(columns[i] ?? ''));
    this.keyList = keys.map(quoteIdent).join(', ');
    // the row's text as compare and repair hash it (a record of the compared columns)
    this.rowHash = `hashtextextended(ROW(${columns.map((c) => `t.${quoteIdent(c)}`).join(', ')})::text, 0)`;
  }

  /**
   * Opens the fixes of a table: one transaction, this node's triggers and foreign keys quiet as for
   * replicated changes, and the output settings under which the row hashes of the guards were taken.
   */
  begin(tick: string): string {
    return [
      `-- ${this.target} as the root had it at tick ${tick}. UPDATE and DELETE act only on rows still as they were then`,
      '-- (their hash); INSERT skips a key present by now. A row the root deleted after that tick is put back by',
      '-- its INSERT: run this soon, or use repair --apply, which applies at the tick itself.',
      'BEGIN;',
      `SET LOCAL session_replication_role = 'replica';`,
      `SET LOCAL TimeZone = 'UTC'; SET LOCAL DateStyle = 'ISO, YMD'; SET LOCAL IntervalStyle = 'postgres'; SET LOCAL extra_float_digits = 3; SET LOCAL bytea_output = 'hex';`,
    ].join('\n');
  }

  commit(): string {
    return 'COMMIT;';
  }

  private where(keyValues: readonly (string | null)[], localHash: string): string {
    const keys = this.keyCols.map((c, i) => `${quoteIdent(this.columns[c] ?? '')} = ${literal(keyValues[i] ?? null)}`).join(' AND ');
    return `${keys} AND ${this.rowHash} = ${BigInt(localHash).toString()}`;
  }

  /** The root's row, absent here (still absent when this runs). */
  insert(row: readonly (string | null)[]): string {
    const cols = this.insertCols.map((i) => quoteIdent(this.columns[i] ?? '')).join(', ');
    const vals = this.insertCols.map((i) => literal(row[i] ?? null)).join(', ');
    const into = `INSERT INTO ${this.target} (${cols})${this.overriding ? ' OVERRIDING SYSTEM VALUE' : ''}`;
    if (!this.deferrableKey) return `${into} VALUES (${vals}) ON CONFLICT (${this.keyList}) DO NOTHING;`;
    // a DEFERRABLE key cannot be an ON CONFLICT arbiter
    const keys = this.keyCols.map((c) => `t.${quoteIdent(this.columns[c] ?? '')} = ${literal(row[c] ?? null)}`).join(' AND ');
    return `${into} SELECT ${vals} WHERE NOT EXISTS (SELECT 1 FROM ${this.target} t WHERE ${keys});`;
  }

  /** The root's row, different here (still as `localHash` says when this runs); null when only computed columns differ. */
  update(row: readonly (string | null)[], localHash: string): string | null {
    if (this.updateCols.length === 0) return null;
    const set = this.updateCols.map((i) => `${quoteIdent(this.columns[i] ?? '')} = ${literal(row[i] ?? null)}`).join(', ');
    return `UPDATE ${this.target} t SET ${set} WHERE ${this.where(this.keyCols.map((c) => row[c] ?? null), localHash)};`;
  }

  /** A row of this node the root does not have, by its key values (still as `localHash` says). */
  delete(keyValues: readonly string[], localHash: string): string {
    return `DELETE FROM ${this.target} t WHERE ${this.where(keyValues, localHash)};`;
  }
}
