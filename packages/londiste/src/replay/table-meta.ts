/** Column names, types and primary key of a local table, read once per worker session. */
import type pg from 'pg';
import { SkytoolsError, splitFqname } from '@skytools/core';

export interface TableMeta {
  fqname: string;
  columns: string[];
  types: Map<string, string>;
  pkey: string[];
}

export async function loadTableMeta(client: pg.ClientBase, fqname: string): Promise<TableMeta> {
  const { schema, name } = splitFqname(fqname);
  const r = await client.query<{ attname: string; typ: string; pk: boolean }>(
    `SELECT a.attname, format_type(a.atttypid, a.atttypmod) AS typ,
            coalesce(a.attnum = ANY (i.indkey::int2[]), false) AS pk
       FROM pg_class c
       JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
       LEFT JOIN pg_index i ON i.indrelid = c.oid AND i.indisprimary
      WHERE n.nspname = $1 AND c.relname = $2
      ORDER BY a.attnum`,
    [schema, name],
  );
  if (r.rows.length === 0) throw new SkytoolsError(`table ${fqname} does not exist on this node`);
  const pkey = r.rows.filter((x) => x.pk).map((x) => x.attname);
  if (pkey.length === 0) throw new SkytoolsError(`Primary key missing on table: ${fqname}`);
  return { fqname, columns: r.rows.map((x) => x.attname), types: new Map(r.rows.map((x) => [x.attname, x.typ])), pkey };
}
