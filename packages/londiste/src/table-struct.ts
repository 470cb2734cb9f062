/**
 * DDL of a table read from the catalog, to create it on another node (`add-table --create`,
 * `--create-full`), possibly under another name. --create makes the columns, NOT NULLs and the
 * primary key; --create-full also defaults, other constraints, indexes and ownership-free grants.
 */
import type pg from 'pg';
import { quoteFqname, quoteIdent, splitFqname, SkytoolsError } from '@skytools/core';

export type CreateLevel = 'minimal' | 'full';

interface Column {
  name: string;
  type: string;
  notnull: boolean;
  def: string | null;
}

export async function tableExists(client: pg.ClientBase, fqname: string): Promise<boolean> {
  const { schema, name } = splitFqname(fqname);
  const r = await client.query(
    `SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p')`,
    [schema, name],
  );
  return (r.rowCount ?? 0) > 0;
}

export async function sequenceExists(client: pg.ClientBase, fqname: string): Promise<boolean> {
  const { schema, name } = splitFqname(fqname);
  const r = await client.query(
    `SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind = 'S'`,
    [schema, name],
  );
  return (r.rowCount ?? 0) > 0;
}

/** Statements that create `target` shaped like `source` on the provider. */
export async function tableDdl(src: pg.ClientBase, source: string, target: string, level: CreateLevel): Promise<string[]> {
  const { schema, name } = splitFqname(source);
  const rel = await src.query<{ oid: number }>(
    `SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p')`,
    [schema, name],
  );
  const oid = rel.rows[0]?.oid;
  if (oid === undefined) throw new SkytoolsError(`Table ${source} not found on provider`);
  const cols = await src.query<Column>(
    `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS notnull,
            pg_get_expr(d.adbin, d.adrelid) AS def
       FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
      WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
    [oid],
  );
  const targetSql = quoteFqname(target);
  const colSql = cols.rows.map((c) => {
    let s = `${quoteIdent(c.name)} ${c.type}`;
    // sequence defaults would point at sequences that do not exist here: full mode only, and not nextval()
    if (level === 'full' && c.def !== null && !/nextval\(/i.test(c.def)) s += ` DEFAULT ${c.def}`;
    if (c.notnull) s += ' NOT NULL';
    return s;
  });
  const out = [`CREATE TABLE ${targetSql} (${colSql.join(', ')})`];
  const cons = await src.query<{ conname: string; contype: string; def: string }>(
    `SELECT conname, contype, pg_get_constraintdef(oid) AS def FROM pg_constraint
      WHERE conrelid = $1 AND contype IN ('p', 'u', 'c', 'x') ORDER BY contype = 'p' DESC, conname`,
    [oid],
  );
  const { name: targetName } = splitFqname(target);
  for (const c of cons.rows) {
    if (c.contype !== 'p' && level !== 'full') continue;
    const conName = targetName === name ? c.conname : c.conname.replace(name, targetName);
    out.push(`ALTER TABLE ${targetSql} ADD CONSTRAINT ${quoteIdent(conName)} ${c.def}`);
  }
  if (level === 'full') {
    const idx = await src.query<{ def: string; relname: string }>(
      `SELECT pg_get_indexdef(i.indexrelid) AS def, ic.relname FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
        WHERE i.indrelid = $1 AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid AND k.conrelid = $1)
        ORDER BY ic.relname`,
      [oid],
    );
    for (const i of idx.rows) {
      // re-point the definition at the target table and give the index a name of its own there
      const newName = targetName === name ? i.relname : i.relname.replace(name, targetName);
      const onPart = / ON (ONLY )?\S+ USING /.exec(i.def);
      if (onPart === null) continue;
      const rest = i.def.slice(i.def.indexOf(onPart[0]) + onPart[0].length);
      const unique = /^CREATE UNIQUE INDEX/.test(i.def) ? 'UNIQUE ' : '';
      out.push(`CREATE ${unique}INDEX ${quoteIdent(newName)} ON ${targetSql} USING ${rest}`);
    }
  }
  return out;
}
