/**
 * dst_query of the simple consumers: SQL with named placeholders (:ev_id, :ev_data, :data.NAME,
 * ...) turned into a parameterised statement once, then bound per event. Placeholders are
 * looked for outside single-quoted literals only, and `::type` casts are left alone; comments,
 * dollar-quoted bodies and E'' strings are not understood (keep a placeholder-like word and an
 * apostrophe out of them). A name that is no placeholder is refused when the job loads.
 */
import { UsageError, urlDecode } from '@skytools/core';
import type { QueueEvent } from '@skytools/pgq';

const EVENT_FIELDS = ['ev_id', 'ev_time', 'ev_txid', 'ev_type', 'ev_data', 'ev_extra1', 'ev_extra2', 'ev_extra3', 'ev_extra4'] as const;
type EventField = (typeof EVENT_FIELDS)[number];

export interface EventQuery {
  text: string;
  /** The statement's parameters for one event. */
  params(ev: QueueEvent): (string | null)[];
}

/** ev_id -> id, ev_extra1 -> extra1, ...: each placeholder names a QueueEvent field after its ev_ prefix. */
function fieldOf(ev: QueueEvent, f: EventField): string | null {
  return ev[f.slice(3) as 'id' | 'time' | 'txid' | 'type' | 'data' | 'extra1' | 'extra2' | 'extra3' | 'extra4'];
}

export function compileEventQuery(sql: string, where: string): EventQuery {
  const names: string[] = [];
  const index = (name: string): number => {
    let i = names.indexOf(name);
    if (i < 0) i = names.push(name) - 1;
    return i + 1;
  };
  // even pieces are outside quotes ('' inside a literal splits into two odd-adjacent pieces, which stays right)
  const text = sql
    .split("'")
    .map((piece, i) =>
      i % 2 === 1
        ? piece
        : piece.replace(/(?<![:\w]):([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?)/g, (_m, name: string) => {
            if (!(EVENT_FIELDS as readonly string[]).includes(name) && !name.startsWith('data.')) {
              throw new UsageError(`${where}: dst_query: unknown placeholder :${name} (known: ${EVENT_FIELDS.map((f) => `:${f}`).join(', ')}, :data.NAME)`);
            }
            return `$${String(index(name))}`;
          }),
    )
    .join("'");
  const usesData = names.some((n) => n.startsWith('data.'));
  return {
    text,
    params: (ev) => {
      const data = usesData ? urlDecode(ev.data) : {};
      return names.map((n) => (n.startsWith('data.') ? (Object.hasOwn(data, n.slice(5)) ? (data[n.slice(5)] ?? null) : null) : fieldOf(ev, n as EventField)));
    },
  };
}
