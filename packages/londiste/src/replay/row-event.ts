/**
 * Decoding the data events that capture triggers write:
 *   logutriga  ev_type 'I:pk1,pk2' / 'U:..' / 'D:..', ev_data urlencoded row
 *   jsontriga  ev_type '{"op":"UPDATE",...,"pkey":[..]}', ev_data a JSON object
 *   sqltriga   ev_type 'I' / 'U' / 'D', ev_data an SQL fragment
 *   TRUNCATE   ev_type 'R'
 * ev_extra1 is always the source table name.
 */
import { SkytoolsError, urlDecode, type PgqEvent } from '@skytools/core';

export type RowOp = 'I' | 'U' | 'D';
export type Row = Record<string, string | null>;

export type DataEvent =
  | { kind: 'row'; table: string; op: RowOp; row: Row }
  | { kind: 'sql'; table: string; op: RowOp; sql: string }
  | { kind: 'truncate'; table: string };

const JSON_OPS: Record<string, RowOp | 'R'> = { INSERT: 'I', UPDATE: 'U', DELETE: 'D', TRUNCATE: 'R' };

/** Decoded column names: the same few repeat in every event (bounded: cleared when it grows). */
const columnNames = new Map<string, string>();

export function isDataEvent(type: string | null): boolean {
  if (type === null) return false;
  if (type === 'I' || type === 'U' || type === 'D' || type === 'R') return true;
  const p = type.slice(0, 2);
  return p === 'I:' || p === 'U:' || p === 'D:' || p === '{"';
}

function jsonValue(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean') return v ? 't' : 'f';
  if (typeof v === 'number') return String(v);
  return JSON.stringify(v);
}

export function decodeDataEvent(ev: PgqEvent): DataEvent {
  const type = ev.ev_type ?? '';
  const table = ev.ev_extra1;
  if (table === null) throw new SkytoolsError(`event ${ev.ev_id} (${type}) has no table name in ev_extra1`);
  if (type === 'R') return { kind: 'truncate', table };
  if (type === 'I' || type === 'U' || type === 'D') return { kind: 'sql', table, op: type, sql: ev.ev_data ?? '' };
  if (type.startsWith('{')) {
    const meta = JSON.parse(type) as { op?: string };
    const op = JSON_OPS[meta.op ?? ''];
    if (op === undefined) throw new SkytoolsError(`event ${ev.ev_id}: unknown JSON operation ${String(meta.op)}`);
    if (op === 'R') return { kind: 'truncate', table };
    const data = JSON.parse(ev.ev_data ?? '{}') as Record<string, unknown>;
    const row: Row = {};
    for (const [k, v] of Object.entries(data)) row[k] = jsonValue(v);
    return { kind: 'row', table, op, row };
  }
  const op = type[0] as RowOp;
  if (columnNames.size > 10_000) columnNames.clear();
  return { kind: 'row', table, op, row: urlDecode(ev.ev_data, columnNames) };
}
