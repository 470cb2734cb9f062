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

function fieldOf(ev: QueueEvent, f: EventField): string | null {
  switch (f) {
    case 'ev_id':
      return ev.id;
    case 'ev_time':
      return ev.time;
    case 'ev_txid':
      return ev.txid;
    case 'ev_type':
      return ev.type;
    case 'ev_data':
      return ev.data;
    case 'ev_extra1':
      return ev.extra1;
    case 'ev_extra2':
      return ev.extra2;
    case 'ev_extra3':
      return ev.extra3;
    case 'ev_extra4':
      return ev.extra4;
  }
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
