/** Statements of the table handlers that apply events themselves (handlers/*). */
import type pg from 'pg';
import { quoteFqname, quoteLiteral, SkytoolsError } from '@skytools/core';
import { BATCH_STAGE } from './batch-stage-statements.js';

/** The argument types of the function `name` (a name as written in SQL, possibly schema-qualified). */
export async function functionArgTypes(client: pg.ClientBase, name: string): Promise<string[]> {
  const r = await client.query<{ types: string[] }>(
    `SELECT (SELECT array_agg(format_type(t, NULL) ORDER BY i) FROM unnest(x.proargtypes) WITH ORDINALITY AS a(t, i)) AS types
       FROM pg_catalog.pg_proc x JOIN pg_catalog.pg_namespace ns ON ns.oid = x.pronamespace
      WHERE x.proname = (parse_ident($1))[cardinality(parse_ident($1))]
        AND CASE cardinality(parse_ident($1)) WHEN 1 THEN pg_catalog.pg_function_is_visible(x.oid) ELSE ns.nspname = (parse_ident($1))[1] END`,
    [name],
  );
  const row = r.rows[0];
  if (row === undefined) throw new SkytoolsError(`function ${name} does not exist on this node`);
  if (r.rows.length > 1) throw new SkytoolsError(`function ${name} is overloaded (${String(r.rows.length)} functions): applyfn needs exactly one of that name`);
  return row.types;
}

/**
 * Call `fn` once per event of `events` in the stage, in event order, with upstream applyfn's
 * arguments (conf, tick, ev_id, ev_time, ev_txid, ev_retry, ev_type, ev_data, ev_extra1..4),
 * each cast to the function's own argument type.
 */
export async function callPerEvent(client: pg.ClientBase, fn: string, types: readonly string[], conf: string, tick: string, events: string): Promise<number> {
  const values = [quoteLiteral(conf), quoteLiteral(tick), 'ev_id', 'ev_time', 'ev_txid', 'NULL', 'ev_type', 'ev_data', 'ev_extra1', 'ev_extra2', 'ev_extra3', 'ev_extra4'];
  if (types.length !== values.length) throw new SkytoolsError(`function ${fn} takes ${String(types.length)} arguments; applyfn calls it with ${String(values.length)} (conf, tick, ev_id, ev_time, ev_txid, ev_retry, ev_type, ev_data, ev_extra1..4)`);
  const args = values.map((v, i) => `(${v})::${types[i] ?? 'text'}`).join(', ');
  // volatile calls in the select list are made after the sort, in ev_id order
  const r = await client.query(`SELECT ${fn}(${args}) FROM ${BATCH_STAGE} WHERE ${events} ORDER BY ev_id`);
  return r.rowCount ?? 0;
}

/** The events of `events` in the stage that are not row events (TRUNCATE, SQL statements), in order. */
export async function stagedNonRowEvents(client: pg.ClientBase, events: string): Promise<{ id: string; type: string }[]> {
  const r = await client.query<{ id: string; type: string }>(`SELECT ev_id::text AS id, ev_type AS type FROM ${BATCH_STAGE} e WHERE ${events} AND e.ld_op IS NULL ORDER BY ev_id`);
  return r.rows;
}

export interface StagedPeriod {
  /** The period's start, 'YYYY-MM-DD HH24:MI:SS' in this session's time zone. */
  start: string;
  year: string;
  month: string;
  day: string;
  hour: string;
}

/** The text of a period start for `key` (an expression on the stage's row `e`) truncated to `period`. */
function periodStartSql(key: string, period: string): string {
  return `to_char(date_trunc(${quoteLiteral(period)}, ${key}), 'YYYY-MM-DD HH24:MI:SS')`;
}

/**
 * The time dispatch files an event under (`mode`: batch_time, event_time, date_field of `field`,
 * current_time), as SQL over an event's stage row `e` ('event'), or over a key's net row
 * (`ld_image`, `ld_ev_time`: its last event; 'net'). The same expression both ways: a row is
 * routed to a partition its events listed.
 */
export function filingTimeSql(mode: string, field: string | undefined, tickTime: Date, over: 'event' | 'net'): string {
  switch (mode) {
    case 'event_time':
      return over === 'event' ? 'e.ev_time' : 'ld_ev_time';
    case 'current_time':
      return 'now()';
    case 'date_field':
      // the wall-clock time as the row carries it (upstream reads its first 19 characters)
      return `left(${over === 'event' ? 'e.ld_row' : 'ld_image'} ->> ${quoteLiteral(field ?? '')}, 19)::timestamp`;
    default:
      return `${quoteLiteral(tickTime.toISOString())}::timestamptz`;
  }
}

/** The stage's row events of kinds `ops` (I, U, D) between two event ids (exclusive; null: open). */
export function rowEventsSql(ops: readonly string[], after: string | null, before: string | null): string {
  const parts = [`e.ld_op IN (${ops.map(quoteLiteral).join(', ')})`];
  if (after !== null) parts.push(`e.ev_id > ${BigInt(after).toString()}`);
  if (before !== null) parts.push(`e.ev_id < ${BigInt(before).toString()}`);
  return parts.join(' AND ');
}

/** Net rows whose `key` (filingTimeSql over 'net') falls in the period starting at `start`. */
export function inPeriodSql(key: string, period: string, start: string): string {
  return `${periodStartSql(key, period)} = ${quoteLiteral(start)}`;
}

/** Row conditions for applyRows: none of the net rows (every key deleted), or all of them. */
export const NO_NET_ROW = 'false';
export const EVERY_NET_ROW = 'true';

/** The periods the row events of `events` and `where` that leave a row (not deletes) fall into by `key`, in order. */
export async function stagedPeriods(client: pg.ClientBase, events: string, where: string, key: string, period: string): Promise<StagedPeriod[]> {
  const t = `date_trunc(${quoteLiteral(period)}, ${key})`;
  const r = await client.query<StagedPeriod>(
    `SELECT DISTINCT ${periodStartSql(key, period)} AS start, to_char(${t}, 'YYYY') AS year, to_char(${t}, 'MM') AS month,
            to_char(${t}, 'DD') AS day, to_char(${t}, 'HH24') AS hour
       FROM ${BATCH_STAGE} e WHERE (${events}) AND ${where} AND e.ld_op IS NOT NULL AND e.ld_op <> 'D' ORDER BY 1`,
  );
  return r.rows;
}

/** The first row event of `events` and `where` whose `key` is NULL, if any. */
export async function firstEventWithNull(client: pg.ClientBase, events: string, where: string, key: string): Promise<string | null> {
  const r = await client.query<{ id: string | null }>(`SELECT min(ev_id)::text AS id FROM ${BATCH_STAGE} e WHERE (${events}) AND ${where} AND e.ld_op IS NOT NULL AND (${key}) IS NULL`);
  return r.rows[0]?.id ?? null;
}

/** londiste.create_partition: the partition of `parent` for the period holding `time`; true when it was created now. */
export async function createPartition(client: pg.ClientBase, parent: string, part: string, pkeys: readonly string[], partField: string, time: string, period: string): Promise<boolean> {
  const r = await client.query<{ n: number }>('SELECT londiste.create_partition($1, $2, $3, $4, $5::timestamptz, $6) AS n', [parent, part, pkeys.join(','), partField, time, period]);
  return r.rows[0]?.n === 1;
}

/** TRUNCATE of a table with its partitions (inheritance children or declarative partitions). */
export async function truncateWithPartitions(client: pg.ClientBase, table: string): Promise<void> {
  await client.query(`TRUNCATE ${quoteFqname(table)}`);
}
