/**
 * The statements of an initial copy, built per table: the COPY out of the provider (with the
 * --where condition, the only user text) and into the local table, emptying the local table
 * first, the keys and secondary indexes dropped for the load and rebuilt after it, ANALYZE.
 */
import type pg from 'pg';
import { quoteFqname, quoteIdent, splitFqname, type TableTraits } from '@skytools/core';
import { onlyKeyword } from './apply-statements.js';

/** Binary when both sides have the same built-in types (see table-copy's copyFormat), text otherwise. */
export type CopyFormat = 'text' | 'binary';

const formatOption = (format: CopyFormat): string => (format === 'binary' ? ' (FORMAT binary)' : '');

export function copyOutSql(source: string, columns: readonly string[], where: string | null, format: CopyFormat = 'text'): string {
  const cond = where === null ? '' : ` WHERE ${where}`;
  return `COPY (SELECT ${columns.map(quoteIdent).join(', ')} FROM ${quoteFqname(source)}${cond}) TO STDOUT${formatOption(format)}`;
}

export function copyInSql(dest: string, columns: readonly string[], format: CopyFormat = 'text'): string {
  return `COPY ${quoteFqname(dest)} (${columns.map(quoteIdent).join(', ')}) FROM STDIN${formatOption(format)}`;
}

/**
 * Empty the table before the copy: TRUNCATE, or, for a table other tables reference (TRUNCATE
 * refuses it), a DELETE, which under the replica role leaves their rows alone.
 */
export async function emptyTable(client: pg.ClientBase, fqname: string, traits: Pick<TableTraits, 'partitioned' | 'referencedByOthers'>, withChildren = false): Promise<void> {
  const only = withChildren ? '' : onlyKeyword(traits.partitioned);
  await client.query(traits.referencedByOthers ? `DELETE FROM ${only}${quoteFqname(fqname)}` : `TRUNCATE ${only}${quoteFqname(fqname)}`);
}

/** Drop an index of the table (named in the table's schema). */
export async function dropIndex(client: pg.ClientBase, table: string, index: string): Promise<void> {
  await client.query(`DROP INDEX ${quoteIdent(splitFqname(table).schema)}.${quoteIdent(index)}`);
}

/** Drop a constraint of the table (the lead part of a merged table's copy). */
export async function dropConstraint(client: pg.ClientBase, table: string, constraint: string): Promise<void> {
  await client.query(`ALTER TABLE ${quoteFqname(table)} DROP CONSTRAINT ${quoteIdent(constraint)}`);
}

/** The statement that puts a dropped constraint back. */
export function addConstraintSql(table: string, constraint: string, definition: string): string {
  return `ALTER TABLE ${quoteFqname(table)} ADD CONSTRAINT ${quoteIdent(constraint)} ${definition}`;
}

/**
 * Put back dropped keys and indexes: a statement of a copy's own list, or the ones a merged
 * table's lead kept when it dropped them (londiste.table_info.dropped_ddl).
 */
export async function restoreStructure(client: pg.ClientBase, ddl: string): Promise<void> {
  await client.query(ddl);
}

export async function analyze(client: pg.ClientBase, fqname: string): Promise<void> {
  await client.query(`ANALYZE ${quoteFqname(fqname)}`);
}
