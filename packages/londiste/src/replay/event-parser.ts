/**
 * The one reader of the events capture triggers write (ev_extra1 is always the source table):
 *   logutriga  ev_type 'I:pk1,pk2' / 'U:..' / 'D:..', ev_data an urlencoded row
 *   jsontriga  ev_type '{"op":"UPDATE",...,"pkey":[..]}', ev_data a JSON object
 *   sqltriga   ev_type 'I' / 'U' / 'D', ev_data an SQL fragment
 *   TRUNCATE   ev_type 'R' (or a JSON type with op TRUNCATE)
 * Row events (logutriga, jsontriga) are not read here: the event stager takes them to the batch stage.
 */
import { SkytoolsError, type PgqEvent } from '@skytools/core';

export type RowOp = 'I' | 'U' | 'D';
export type Row = Record<string, string | null>;

/** The fields of an event the apply reads (backlogged events keep only these). */
export type EventFields = Pick<PgqEvent, 'ev_id' | 'ev_txid' | 'ev_type' | 'ev_data' | 'ev_extra1'>;

export type DataEvent =
  | { kind: 'encoded'; table: string; op: RowOp; text: string }
  | { kind: 'row'; table: string; op: RowOp; row: Row }
  | { kind: 'sql'; table: string; op: RowOp; sql: string }
  | { kind: 'truncate'; table: string };

const JSON_OPS: Record<string, RowOp | 'R'> = { INSERT: 'I', UPDATE: 'U', DELETE: 'D', TRUNCATE: 'R' };

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

/** A data event (isDataEvent) by kind; throws for events that do not parse, naming the event. */
export function parseDataEvent(ev: EventFields): DataEvent {
  const type = ev.ev_type ?? '';
  const table = ev.ev_extra1;
  if (table === null) throw new SkytoolsError(`event ${ev.ev_id} (${type}) has no table name in ev_extra1`);
  if (type === 'R') return { kind: 'truncate', table };
  if (type === 'I' || type === 'U' || type === 'D') return { kind: 'sql', table, op: type, sql: ev.ev_data ?? '' };
  if (type.startsWith('{')) {
    const meta = JSON.parse(type) as { op?: string };
    const op = JSON_OPS[meta.op ?? ''];
    if (op === undefined) throw new SkytoolsError(`event ${ev.ev_id} of ${table}: unknown JSON operation ${String(meta.op)}`);
    if (op === 'R') return { kind: 'truncate', table };
    const data = JSON.parse(ev.ev_data ?? '{}') as Record<string, unknown>;
    const row: Row = {};
    for (const [k, v] of Object.entries(data)) row[k] = jsonValue(v);
    return { kind: 'row', table, op, row };
  }
  if (ev.ev_data === null) throw new SkytoolsError(`event ${ev.ev_id} (${type}) of ${table} has no row data`);
  return { kind: 'encoded', table, op: type[0] as RowOp, text: ev.ev_data };
}
