/** The local node's view of its tables (londiste.get_table_list) and their copy states. */
import type pg from 'pg';
import { londisteSql, TxidSnapshot, urlDecode, type Logger } from '@skytools/core';

export interface TableState {
  /** Name on the source (events carry it in ev_extra1). */
  name: string;
  /** Name on this node. */
  dest: string;
  local: boolean;
  /** NULL (copy needed), in-copy, catching-up, ok, ... */
  state: string | null;
  snapshot: TxidSnapshot | null;
  attrs: Record<string, string | null>;
  /** --where condition, if any. */
  where: string | null;
}

export async function loadTableStates(client: pg.ClientBase, queue: string): Promise<Map<string, TableState>> {
  const out = new Map<string, TableState>();
  for (const row of await londisteSql.getTableList(client, queue)) {
    const attrs = urlDecode(row.table_attrs);
    out.set(row.table_name, {
      name: row.table_name,
      dest: row.dest_table ?? row.table_name,
      local: row.local,
      state: row.merge_state,
      snapshot: row.custom_snapshot === null || row.custom_snapshot === '' ? null : TxidSnapshot.parse(row.custom_snapshot),
      attrs,
      where: attrs['where'] ?? null,
    });
  }
  return out;
}

/** Tables whose data must still be copied here (a crashed copy left 'in-copy' behind: redo it). */
export function needsCopy(t: TableState): boolean {
  return t.local && (t.state === null || t.state === 'in-copy');
}

export async function setTableState(client: pg.ClientBase, log: Logger, queue: string, table: string, snapshot: string | null, state: string | null): Promise<void> {
  await londisteSql.localSetTableState(client, log, queue, table, snapshot, state);
}
