/** Column names, types, primary key and self-filled columns of a local table, read once per worker session. */
import type pg from 'pg';
import { catalog, SkytoolsError } from '@skytools/core';

export interface TableMeta {
  fqname: string;
  columns: string[];
  types: Map<string, string>;
  pkey: string[];
  /** Generated columns: computed here, never written (the provider's values are dropped). */
  generated: ReadonlySet<string>;
  /** Has GENERATED ALWAYS identity columns: inserts give their values with OVERRIDING SYSTEM VALUE. */
  overriding: boolean;
  /** Partitioned by PostgreSQL (PARTITION BY): statements on it take no ONLY. */
  partitioned: boolean;
  /** The primary key is DEFERRABLE: no INSERT ... ON CONFLICT on it. */
  deferrableKey: boolean;
}

export async function loadTableMeta(client: pg.ClientBase, fqname: string): Promise<TableMeta> {
  const cols = await catalog.tableColumns(client, fqname);
  if (cols.length === 0) throw new SkytoolsError(`table ${fqname} does not exist on this node`);
  const pkey = cols.filter((c) => c.pk).map((c) => c.name);
  if (pkey.length === 0) throw new SkytoolsError(`Primary key missing on table: ${fqname}`);
  const computed = catalog.computedOf(cols);
  return {
    fqname,
    columns: cols.map((c) => c.name),
    types: new Map(cols.map((c) => [c.name, c.type])),
    pkey,
    generated: new Set(computed.generated),
    overriding: computed.identityAlways.length > 0,
    partitioned: await catalog.isPartitioned(client, fqname),
    deferrableKey: await catalog.primaryKeyDeferrable(client, fqname),
  };
}
