/**
 * Writing events: on any connection, inside the caller's own transaction when there is one, so
 * that an event exists exactly when the data it describes was committed.
 */
import type pg from 'pg';
import { pgq, type NewEvent } from '@skytools/core';

export type { NewEvent };

/** One event; its id. `data` that is not a string is written as JSON. */
export async function insertEvent(client: pg.ClientBase, queue: string, type: string, data: unknown, extra: { extra1?: string | null; extra2?: string | null; extra3?: string | null; extra4?: string | null } = {}): Promise<string> {
  return pgq.insertFullEvent(client, queue, { type, data: asText(data), ...extra });
}

/** Many events in one statement (their order kept); their ids. */
export async function insertEvents(client: pg.ClientBase, queue: string, events: readonly (Omit<NewEvent, 'data'> & { data: unknown })[]): Promise<string[]> {
  return pgq.insertEvents(client, queue, events.map((e) => ({ ...e, data: asText(e.data) })));
}

function asText(data: unknown): string | null {
  if (data === null || data === undefined) return null;
  return typeof data === 'string' ? data : JSON.stringify(data);
}
