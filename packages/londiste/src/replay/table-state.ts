/** The local node's view of its tables (londiste.get_table_list) and their copy states. */
import type pg from 'pg';
import { londisteSql, SkytoolsError, TxidSnapshot, urlDecode, type Logger } from '@skytools/core';
import { checkHandler } from '../handlers/handler-registry.js';
import { defaultHandler } from '../handlers/default-handler.js';
import { parseHandler, type Handler, type HandlerArgs } from '../handlers/handler.js';

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
  /**
   * A table several source queues merge into (add-table --merge-all): how this queue's copy goes
   * along with the others' (londiste._coordinate_copy): lead, wait-copy, wait-replay or null.
   */
  copyRole: string | null;
  /** The structure the lead part dropped for the copies (restored once every part copied). */
  droppedDdl: string | null;
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
      copyRole: row.copy_role,
      droppedDdl: row.dropped_ddl,
    });
  }
  return out;
}

/**
 * A merged table copied from this queue whose other parts are still copying (or whose structure
 * is still dropped): its events wait in the copy backlog, as during a copy.
 */
export function waitsForParts(t: TableState): boolean {
  return t.state === 'catching-up' && (t.copyRole !== null || t.droppedDdl !== null);
}

/** A merged table every part of which has copied: the lead's dropped structure is put back now. */
export function needsStructureBack(t: TableState): boolean {
  return t.local && t.state === 'catching-up' && t.copyRole === null && t.droppedDdl !== null;
}

/** Tables whose data must still be copied here (a crashed copy left 'in-copy' behind: redo it). */
export function needsCopy(t: TableState): boolean {
  return t.local && (t.state === null || t.state === 'in-copy');
}

export async function setTableState(client: pg.ClientBase, log: Logger, queue: string, table: string, snapshot: string | null, state: string | null): Promise<void> {
  await londisteSql.localSetTableState(client, log, queue, table, snapshot, state);
}

/** Table attributes this worker implements. */
const KNOWN_ATTRS = new Set(['where', 'skip_truncate', 'max_parallel_copy', 'handler', 'copy_node']);

/**
 * A table whose attributes ask for something this worker does not do stops it (never copied or
 * applied as a plain table instead): upstream's handlers this worker does not have, keys it does not know.
 */
export function checkTableAttrs(t: TableState): void {
  for (const key of Object.keys(t.attrs)) {
    if (key === 'handler') {
      try {
        checkHandler(parseHandler(t.attrs[key] ?? ''));
      } catch (err) {
        throw new SkytoolsError(
          `table ${t.name} has handler=${t.attrs[key] ?? ''} in its attributes: ${(err as Error).message}; give it a handler this worker has (change-handler) or remove and add it again`,
          { cause: err },
        );
      }
      continue;
    }
    if (KNOWN_ATTRS.has(key)) continue;
    throw new SkytoolsError(
      `table ${t.name} has ${key}=${t.attrs[key] ?? ''} in its attributes, which this worker does not implement; remove the table (remove-table) and add it again without it`,
    );
  }
}

/** A table's handler and its arguments (the default when it names none); checkTableAttrs has checked it. */
export function tableHandler(t: TableState): { impl: Handler; args: HandlerArgs } {
  const text = t.attrs['handler'];
  if (text === undefined || text === null || text === '') return { impl: defaultHandler, args: {} };
  const choice = parseHandler(text);
  return { impl: checkHandler(choice), args: choice.args };
}

function allOf(conditions: readonly (string | null | undefined)[]): string | null {
  const parts = conditions.filter((c): c is string => c !== null && c !== undefined && c !== '');
  if (parts.length === 0) return null;
  return parts.length === 1 ? (parts[0] ?? null) : parts.map((c) => `(${c})`).join(' AND ');
}

/** The condition on a table's row images: its --where and its handler's row filter, both when both. */
export function rowCondition(t: TableState): string | null {
  const { impl, args } = tableHandler(t);
  return allOf([t.where, impl.rowFilter?.(args)]);
}

/** The condition on the provider's rows for the initial copy: its --where and its handler's copy condition. */
export function copyCondition(t: TableState): string | null {
  const { impl, args } = tableHandler(t);
  return allOf([t.where, typeof impl.copy === 'function' ? impl.copy(args) : null]);
}
