/**
 * The batch stage (docs/architecture.md, "Apply"): a session temp table ld_batch holding one
 * batch's events as the provider sent them plus what the event stager added (ld_op, ld_cols,
 * ld_vals or ld_row). The apply is set work on it: which tables and column layouts the batch has, the events
 * applied one by one, the net effect per key of each table's row events loaded into a table's
 * stage, the events parked for tables in copy, and on a branch the events re-published.
 */
import type pg from 'pg';
import type { Writable } from 'node:stream';
import { from as copyFrom } from 'pg-copy-streams';
import { pgq, quoteFqname, quoteIdent, quoteLiteral, SkytoolsError, urlDecodePart, type PgqEvent } from '@skytools/core';

export const BATCH_STAGE = 'ld_batch';

/** ld_batch, created once per session; ON COMMIT DELETE ROWS empties it at every commit. */
export async function createBatchStage(client: pg.ClientBase): Promise<void> {
  await client.query(`CREATE TEMP TABLE IF NOT EXISTS ${BATCH_STAGE} (
      ev_id bigint NOT NULL, ev_time timestamptz, ev_txid bigint, ev_type text, ev_data text,
      ev_extra1 text, ev_extra2 text, ev_extra3 text, ev_extra4 text,
      ld_op "char", ld_cols text, ld_vals text[], ld_row jsonb) ON COMMIT DELETE ROWS`);
}

/** The COPY ... FROM STDIN the stager's output goes into, as a writable stream. */
export function batchStageWriter(client: pg.ClientBase): Writable {
  return client.query(
    copyFrom(`COPY ${BATCH_STAGE} (ev_id, ev_time, ev_txid, ev_type, ev_data, ev_extra1, ev_extra2, ev_extra3, ev_extra4, ld_op, ld_cols, ld_vals, ld_row) FROM STDIN`),
  );
}

/**
 * The column names of a stage layout: the raw urlencoded keys joined by '&' after 'a:' (values in
 * ld_vals, in this order) or 'u:' (values in ld_row), or a JSON array after 'j:' (a JSON row).
 */
export function layoutColumns(layout: string): string[] {
  if (layout.startsWith('a:') || layout.startsWith('u:')) return layout.slice(2).split('&').filter((k) => k !== '').map(urlDecodePart);
  if (layout.startsWith('j:')) return JSON.parse(layout.slice(2)) as string[];
  throw new SkytoolsError(`unknown row layout ${JSON.stringify(layout.slice(0, 40))} in the batch stage`);
}

/**
 * A column's value as text from a stage row `e` of `layout` (NULL when the layout lacks it). Of
 * a key given twice the last counts, as in JSON.
 */
export function layoutValueSql(layout: string, column: string): string {
  if (!layout.startsWith('a:')) return `(e.ld_row ->> ${quoteLiteral(column)})`;
  const at = layoutColumns(layout).lastIndexOf(column);
  return at < 0 ? 'NULL::text' : `e.ld_vals[${String(at + 1)}]`;
}

/** A column's value as text from a stage row `e` whose layout is any of `layouts`. */
function anyLayoutValueSql(layouts: readonly string[], column: string): string {
  const [only] = layouts;
  if (layouts.length === 1 && only !== undefined) return layoutValueSql(only, column);
  return `CASE e.ld_cols ${layouts.map((l) => `WHEN ${quoteLiteral(l)} THEN ${layoutValueSql(l, column)}`).join(' ')} END`;
}

/** A layout's row image as jsonb (the columns as text), for handlers that read it by name. */
function layoutImageSql(layout: string): string {
  if (!layout.startsWith('a:')) return 'e.ld_row';
  return `jsonb_object(ARRAY[${layoutColumns(layout).map(quoteLiteral).join(', ')}]::text[], e.ld_vals)`;
}

/**
 * JSON rows carry their column list inside: it becomes ld_cols ('j:' and the keys as a JSON
 * array, in jsonb's key order; urlencoded rows' layouts start with 'a:' or 'u:').
 */
export async function setJsonLayouts(client: pg.ClientBase): Promise<void> {
  await client.query(`UPDATE ${BATCH_STAGE} SET ld_cols = 'j:' || (SELECT coalesce(jsonb_agg(k), '[]') FROM jsonb_object_keys(ld_row) k)::text
    WHERE ld_op IS NOT NULL AND ld_cols IS NULL`);
}

/**
 * Give the rest of this transaction at least `mb` MB of work_mem (never less than the server's
 * setting): the net-effect window of a big batch then sorts in memory instead of on disk.
 */
export async function raiseWorkMem(client: pg.ClientBase, mb: number): Promise<void> {
  await client.query(`SELECT set_config('work_mem', $1, true) WHERE pg_size_bytes(current_setting('work_mem')) < pg_size_bytes($1)`, [`${String(mb)}MB`]);
}

/**
 * Let the planner use nested loops (`on`) or not for the statements that follow in this
 * transaction; returns the setting it had, to be given back.
 */
export async function setNestedLoops(client: pg.ClientBase, on: string): Promise<string> {
  const r = await client.query<{ was: string }>(`SELECT current_setting('enable_nestloop') AS was`);
  await client.query(`SELECT set_config('enable_nestloop', $1, true)`, [on]);
  return r.rows[0]?.was ?? 'on';
}

/** How many row events of its table a range of the stage holds. */
export async function countRangeEvents(client: pg.ClientBase, range: RowEventRange): Promise<number> {
  const r = await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${BATCH_STAGE} e WHERE ${rangeCondition(range)}`);
  return r.rows[0]?.n ?? 0;
}

export interface StageGroup {
  table: string;
  cols: string;
  events: number;
  firstEvent: string;
  lastEvent: string;
}

/** The column layouts of a range's row events. */
export async function rangeLayouts(client: pg.ClientBase, range: RowEventRange): Promise<string[]> {
  const r = await client.query<{ cols: string }>(`SELECT DISTINCT ld_cols AS cols FROM ${BATCH_STAGE} e WHERE ${rangeCondition(range)}`);
  return r.rows.map((x) => x.cols);
}

/** The tables of the batch's row events and their column layouts. */
export async function stageGroups(client: pg.ClientBase): Promise<StageGroup[]> {
  const r = await client.query<StageGroup>(`SELECT ev_extra1 AS "table", ld_cols AS cols, count(*)::int AS events, min(ev_id)::text AS "firstEvent", max(ev_id)::text AS "lastEvent"
    FROM ${BATCH_STAGE} WHERE ld_op IS NOT NULL GROUP BY 1, 2`);
  return r.rows;
}

/** An event of the stage read back as it came (its time and retry count are not needed). */
export type StagedEvent = Omit<PgqEvent, 'ev_time' | 'ev_retry'>;

/** The events that are not row events (control, TRUNCATE, sqltriga, EXECUTE), in order. */
export async function stagedSingles(client: pg.ClientBase): Promise<StagedEvent[]> {
  const r = await client.query<StagedEvent>(`SELECT ev_id::text, ev_txid::text, ev_type, ev_data, ev_extra1, ev_extra2, ev_extra3, ev_extra4
    FROM ${BATCH_STAGE} WHERE ld_op IS NULL ORDER BY ev_id`);
  return r.rows;
}

/** A data event of the stage: a row event, TRUNCATE, or a sqltriga statement. */
const DATA_EVENT = `(ld_op IS NOT NULL OR ev_type IN ('I', 'U', 'D', 'R') OR ev_type LIKE '{%')`;

/** The data events of `table` (the row events and the others) parked in the copy backlog, in order. */
export async function parkInBacklog(client: pg.ClientBase, queue: string, table: string): Promise<number> {
  const r = await client.query(
    `INSERT INTO londiste.copy_backlog (queue_name, table_name, ev_id, ev_txid, ev_type, ev_data, ev_extra1)
     SELECT $1, ev_extra1, ev_id, ev_txid, ev_type, ev_data, ev_extra1 FROM ${BATCH_STAGE}
      WHERE ev_extra1 = $2 AND ev_time IS NOT NULL
        AND ${DATA_EVENT}
      ORDER BY ev_id`,
    [queue, table],
  );
  return r.rowCount ?? 0;
}

/**
 * A branch re-publishes the batch in its own queue: every event as it came (same id, time, type,
 * data), into the queue's current event table. Events replayed from the copy backlog have no
 * ev_time (the backlog does not keep it): they were re-published when they first passed.
 */
export async function republishBatch(client: pg.ClientBase, queue: string): Promise<void> {
  const eventTable = await pgq.currentEventTable(client, queue);
  await client.query(`INSERT INTO ${quoteFqname(eventTable)} (ev_id, ev_time, ev_type, ev_data, ev_extra1, ev_extra2, ev_extra3, ev_extra4)
    SELECT ev_id, ev_time, ev_type, ev_data, ev_extra1, ev_extra2, ev_extra3, ev_extra4 FROM ${BATCH_STAGE}
     WHERE ev_time IS NOT NULL ORDER BY ev_id`);
}

/**
 * Events of the stage selected by `where` into `queue`'s current event table, in order, with new
 * event ids and the rest as they came (an event replayed from the copy backlog has no time: now).
 */
export async function stageIntoQueue(client: pg.ClientBase, queue: string, where: string): Promise<number> {
  const eventTable = await pgq.currentEventTable(client, queue);
  const r = await client.query(`INSERT INTO ${quoteFqname(eventTable)} (ev_time, ev_type, ev_data, ev_extra1, ev_extra2, ev_extra3, ev_extra4)
    SELECT coalesce(ev_time, now()), ev_type, ev_data, ev_extra1, ev_extra2, ev_extra3, ev_extra4 FROM ${BATCH_STAGE}
     WHERE ${where} ORDER BY ev_id`);
  return r.rowCount ?? 0;
}

/**
 * A leaf merging its queue into a combined queue passes the batch's events on into it (upstream's
 * merge leaf): data events and EXECUTE, not the cascade (pgq.*) and londiste control events (the
 * combined queue has its own). Events replayed from the copy backlog (no ev_time) were passed on
 * when they first came.
 */
export async function forwardToCombinedQueue(client: pg.ClientBase, combinedQueue: string): Promise<number> {
  return stageIntoQueue(client, combinedQueue, `ev_time IS NOT NULL AND ev_type NOT LIKE 'pgq.%' AND ev_type NOT LIKE 'londiste.%'`);
}

/** What decides which of a table's row events of the stage are applied in one go. */
export interface RowEventRange {
  table: string;
  /** Events after this id (exclusive; null: from the first). */
  after: string | null;
  /** Events before this id (exclusive; null: to the last). */
  before: string | null;
  /** A copy snapshot: events it already contains are left out (a table catching up). */
  skipSnapshot: string | null;
  /** Only the events satisfying this condition on the stage's row `e` (a handler's split). */
  where?: string | null;
  /**
   * Keep in the net effect, besides the table's columns, the last event's raw image and time
   * (ld_image, ld_ev_time), for row conditions that route by them (dispatch).
   */
  withEvent?: boolean;
  /** Every key has one event in the range (rangeRepeatsKeys said so): no window needed. */
  oneEventPerKey?: boolean;
}

/** The range's events of its table that satisfy `kind`. */
function rangeOf(r: RowEventRange, kind: string): string {
  const parts = [`ev_extra1 = ${quoteLiteral(r.table)}`, kind];
  if (r.after !== null) parts.push(`ev_id > ${BigInt(r.after).toString()}`);
  if (r.before !== null) parts.push(`ev_id < ${BigInt(r.before).toString()}`);
  if (r.skipSnapshot !== null) parts.push(`NOT txid_visible_in_snapshot(ev_txid, ${quoteLiteral(r.skipSnapshot)}::txid_snapshot)`);
  if (r.where !== undefined && r.where !== null) parts.push(`(${r.where})`);
  return parts.join(' AND ');
}

function rangeCondition(r: RowEventRange): string {
  return rangeOf(r, 'ld_op IS NOT NULL');
}

/**
 * Every data event of a range of a table in the stage (row events, TRUNCATE, sqltriga), for a
 * handler that applies them itself.
 */
export function dataEventsCondition(r: RowEventRange): string {
  return rangeOf(r, DATA_EVENT);
}


export interface NetCounts {
  /** Net rows gone, that existed, new (by what the events say). */
  d: number;
  u: number;
  i: number;
  /** Rows each write statement touched, in the order given. */
  written: number[];
  /** Net rows whose primary key came NULL or missing (left out of the writes). */
  noKey: number;
}

/** The name the net effect has inside the apply statement (what the write statements read). */
export const NET = 'ld_net';

/**
 * One statement that applies a range of a table's row events with layout `layout` (one of the
 * range's `layouts`, whose events all count for the net effect): per key the last event's image, as 'd' (gone), 'u' (the row existed before: its first event was not an
 * insert) or 'i' (new), with the values in the target's types (ld_net, computed once), then the
 * `writes` (statements reading ld_net, each given as text without RETURNING) as data-modifying
 * parts of the same statement. Keys compare in the target's types. A range with one event per
 * key is its own net effect: no window then.
 */
export function applyNetSql(
  range: RowEventRange,
  layout: string,
  layouts: readonly string[],
  stageCols: readonly string[],
  pkey: readonly string[],
  types: ReadonlyMap<string, string>,
  writes: readonly string[],
): string {
  const type = (c: string): string => types.get(c) ?? 'text';
  const keys = pkey.map((k, i) => `${anyLayoutValueSql(layouts, k)}::${type(k)} AS ld_k${String(i)}`).join(', ');
  const part = pkey.map((_, i) => `ld_k${String(i)}`).join(', ');
  const keyed = pkey.map((_, i) => `ld_k${String(i)} IS NOT NULL`).join(' AND ');
  const parts = writes.map((w, i) => `ld_w${String(i)} AS (${w} RETURNING 1)`);
  const values = `${stageCols.map((c) => `${layoutValueSql(layout, c)}::${type(c)} AS ${quoteIdent(c)}`).join(', ')}${
    range.withEvent === true ? `, ${layoutImageSql(layout)} AS ld_image, e.ev_time AS ld_ev_time` : ''
  }`;
  const counts = `count(*) FILTER (WHERE ld_op = 'd')::int AS d, count(*) FILTER (WHERE ld_op = 'u')::int AS u, count(*) FILTER (WHERE ld_op = 'i')::int AS i,
           ARRAY[${parts.length === 0 ? '' : writes.map((_, i) => `(SELECT count(*) FROM ld_w${String(i)})::int`).join(', ')}]::int[] AS written`;
  if (range.oneEventPerKey === true) {
    const ownKeys = pkey.map((k) => `${layoutValueSql(layout, k)} IS NOT NULL`).join(' AND ');
    const mine = `${rangeCondition(range)} AND e.ld_cols = ${quoteLiteral(layout)}`;
    return `WITH ${NET} AS (
      SELECT CASE e.ld_op WHEN 'D' THEN 'd' WHEN 'I' THEN 'i' ELSE 'u' END::"char" AS ld_op, ${values}
        FROM ${BATCH_STAGE} e WHERE ${mine} AND ${ownKeys}
    )${parts.map((p) => `, ${p}`).join('')}
    SELECT ${counts}, (SELECT count(*) FROM ${BATCH_STAGE} e WHERE ${mine} AND NOT (${ownKeys}))::int AS "noKey"
      FROM ${NET}`;
  }
  // The window sorts only what it needs (row address, id, op, keys): sorting whole staged rows
  // spilled to disk at the default work_mem. The last event of each key is then read back by
  // its address in the stage.
  return `WITH e AS (
      SELECT ctid AS ld_tid, ev_id, ld_op, ${keys} FROM ${BATCH_STAGE} e WHERE ${rangeCondition(range)}
    ), n AS (
      SELECT e.*, first_value(ld_op) OVER w AS ld_first, lead(ev_id) OVER w AS ld_next FROM e
      WINDOW w AS (PARTITION BY ${part} ORDER BY ev_id)
    ), ${NET} AS (
      SELECT CASE WHEN n.ld_op = 'D' THEN 'd' WHEN n.ld_first = 'I' THEN 'i' ELSE 'u' END::"char" AS ld_op, ${values}
        FROM n JOIN ${BATCH_STAGE} e ON e.ctid = n.ld_tid
       WHERE n.ld_next IS NULL AND e.ld_cols = ${quoteLiteral(layout)} AND ${keyed}
    )${parts.map((p) => `, ${p}`).join('')}
    SELECT ${counts},
           (SELECT count(*) FROM n JOIN ${BATCH_STAGE} e ON e.ctid = n.ld_tid WHERE n.ld_next IS NULL AND e.ld_cols = ${quoteLiteral(layout)} AND NOT (${keyed}))::int AS "noKey"
      FROM ${NET}`;
}

/** Does any key have more than one event in the range (the keys in the target's types)? */
export async function rangeRepeatsKeys(client: pg.ClientBase, range: RowEventRange, layouts: readonly string[], pkey: readonly string[], types: ReadonlyMap<string, string>): Promise<boolean> {
  const keys = pkey.map((k) => `${anyLayoutValueSql(layouts, k)}::${types.get(k) ?? 'text'}`).join(', ');
  const r = await client.query<{ repeats: boolean }>(`SELECT EXISTS (SELECT FROM ${BATCH_STAGE} e WHERE ${rangeCondition(range)} GROUP BY ${keys} HAVING count(*) > 1) AS repeats`);
  return r.rows[0]?.repeats ?? true;
}

export async function applyNet(client: pg.ClientBase, sql: string): Promise<NetCounts> {
  const r = await client.query<NetCounts>(sql);
  return r.rows[0] ?? { d: 0, u: 0, i: 0, written: [], noKey: 0 };
}

/** The first row event of a range whose key is missing, for the error message. */
export async function firstEventWithoutKey(client: pg.ClientBase, range: RowEventRange, layouts: readonly string[], pkey: readonly string[]): Promise<string | null> {
  const r = await client.query<{ id: string | null }>(
    `SELECT min(ev_id)::text AS id FROM ${BATCH_STAGE} e WHERE ${rangeCondition(range)} AND (${pkey.map((k) => `${anyLayoutValueSql(layouts, k)} IS NULL`).join(' OR ')})`,
  );
  return r.rows[0]?.id ?? null;
}
