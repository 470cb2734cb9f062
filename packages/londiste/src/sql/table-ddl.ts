/**
 * Statements that create a table shaped like one on the provider (`add-table --create`,
 * `--create-full`), possibly under another name. --create makes the columns, NOT NULLs and the
 * primary key; --create-full also defaults, other constraints and indexes.
 */
import type pg from 'pg';
import { catalog, quoteFqname, quoteIdent, splitFqname, SkytoolsError, type ColumnInfo, type ConstraintInfo, type IndexInfo, type Logger } from '@skytools/core';

export type CreateLevel = 'minimal' | 'full';

export interface TableDefinition {
  columns: ColumnInfo[];
  constraints: ConstraintInfo[];
  indexes: IndexInfo[];
}

export async function loadTableDefinition(client: pg.ClientBase, fqname: string): Promise<TableDefinition> {
  const columns = await catalog.tableColumns(client, fqname);
  if (columns.length === 0) throw new SkytoolsError(`Table ${fqname} not found on provider`);
  return { columns, constraints: await catalog.tableConstraints(client, fqname), indexes: await catalog.tableIndexes(client, fqname) };
}

/** Rename a constraint or index that carries the source table's name so it carries the target's. */
function renamed(name: string, sourceName: string, targetName: string): string {
  return targetName === sourceName ? name : name.replace(sourceName, targetName);
}

/** CREATE TABLE `target` like `source` (as described by `def`), then its constraints and indexes. */
export function createTableStatements(def: TableDefinition, source: string, target: string, level: CreateLevel): string[] {
  const targetSql = quoteFqname(target);
  const { name: sourceName } = splitFqname(source);
  const { schema: targetSchema, name: targetName } = splitFqname(target);
  const cols = def.columns.map((c) => {
    let s = `${quoteIdent(c.name)} ${c.type}`;
    // sequence defaults would point at sequences that do not exist here: full mode only, and not
    // nextval(); a generated column's expression is no default (it reads other columns: refused
    // as one), and its values arrive with the rows, so here it is a plain column
    if (level === 'full' && c.def !== null && !c.generated && !/nextval\(/i.test(c.def)) s += ` DEFAULT ${c.def}`;
    if (c.notnull) s += ' NOT NULL';
    return s;
  });
  const out = [`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(targetSchema)}`, `CREATE TABLE ${targetSql} (${cols.join(', ')})`];
  for (const c of def.constraints) {
    if (c.type !== 'p' && level !== 'full') continue;
    out.push(`ALTER TABLE ${targetSql} ADD CONSTRAINT ${quoteIdent(renamed(c.name, sourceName, targetName))} ${c.def}`);
  }
  if (level !== 'full') return out;
  for (const i of def.indexes) {
    if (i.ownConstraint) continue;
    // re-point the definition at the target table and give the index a name of its own there
    const onPart = / ON (ONLY )?\S+ USING /.exec(i.def);
    if (onPart === null) continue;
    const rest = i.def.slice(i.def.indexOf(onPart[0]) + onPart[0].length);
    const unique = /^CREATE UNIQUE INDEX/.test(i.def) ? 'UNIQUE ' : '';
    out.push(`CREATE ${unique}INDEX ${quoteIdent(renamed(i.name, sourceName, targetName))} ON ${targetSql} USING ${rest}`);
  }
  return out;
}

/** Create `target` like `source` of `def`, in the caller's transaction; statements logged at debug. */
export async function createTable(client: pg.ClientBase, log: Logger, def: TableDefinition, source: string, target: string, level: CreateLevel): Promise<void> {
  for (const stmt of createTableStatements(def, source, target, level)) {
    log.debug(stmt);
    await client.query(stmt);
  }
}

export async function createSequence(client: pg.ClientBase, fqname: string): Promise<void> {
  await client.query(`CREATE SEQUENCE ${quoteFqname(fqname)}`);
}
