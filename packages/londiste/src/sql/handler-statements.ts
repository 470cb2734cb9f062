/** Statements of the table handlers that apply events themselves (handlers/*). */
import type pg from 'pg';
import { quoteLiteral, SkytoolsError } from '@skytools/core';
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
