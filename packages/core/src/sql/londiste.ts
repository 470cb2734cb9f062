/**
 * The londiste SQL API: the node's tables and sequences, their copy states and attributes, and
 * the copy backlog (events of tables still being copied). ret_code calls go through execCmd.
 */
import type pg from 'pg';
import { execCmd } from '../exec-cmd.js';
import type { Logger } from '../logger.js';

/**
 * Channel add-table and resync notify (payload: queue name), so the node's worker starts copies at
 * once; pause/resume/takeover use it too, so that the worker sees its new state without sleeping first.
 */
export const TABLES_CHANNEL = 'londiste_tables';

/** Wake the workers of `queue` on this node (they re-read their state at once). */
export async function wakeWorkers(client: pg.ClientBase, queue: string): Promise<void> {
  await client.query('SELECT pg_notify($1, $2)', [TABLES_CHANNEL, queue]);
}

/** One row of londiste.get_table_list(). */
export interface TableRow {
  table_name: string;
  local: boolean;
  merge_state: string | null;
  custom_snapshot: string | null;
  table_attrs: string | null;
  dropped_ddl: string | null;
  copy_role: string | null;
  copy_pos: number | null;
  dest_table: string | null;
}

export interface SeqRow {
  seq_name: string;
  last_value: string;
  local: boolean;
}

export interface MissingObject {
  obj_kind: 'r' | 'S';
  obj_name: string;
}

export async function isInstalled(client: pg.ClientBase): Promise<boolean> {
  const r = await client.query<{ ok: boolean }>(`SELECT to_regprocedure('londiste.get_table_list(text)') IS NOT NULL AS ok`);
  return r.rows[0]?.ok === true;
}

export interface TableErrorRow {
  table_name: string;
  error: string;
  failures: number;
  first_failed: Date;
  last_failed: Date;
}

/** Does this node's londiste record table failures (ours does; upstream's schema does not)? */
export async function recordsTableErrors(client: pg.ClientBase): Promise<boolean> {
  const r = await client.query<{ ok: boolean }>(`SELECT to_regprocedure('londiste.get_table_errors(text)') IS NOT NULL AS ok`);
  return r.rows[0]?.ok === true;
}

/** Record one more failure of a table's copy; a null error clears the record. */
export async function setTableError(client: pg.ClientBase, queue: string, table: string, error: string | null): Promise<void> {
  await client.query('SELECT londiste.local_set_table_error($1, $2, $3)', [queue, table, error]);
}

/** The recorded copy failures of the tables this node replicates. */
export async function getTableErrors(client: pg.ClientBase, queue: string): Promise<TableErrorRow[]> {
  return (await client.query<TableErrorRow>('SELECT * FROM londiste.get_table_errors($1)', [queue])).rows;
}

/** Every table the queue carries, replicated here (local) or not, by name. */
export async function getTableList(client: pg.ClientBase, queue: string): Promise<TableRow[]> {
  return (await client.query<TableRow>('SELECT * FROM londiste.get_table_list($1) ORDER BY table_name', [queue])).rows;
}

export async function getSeqList(client: pg.ClientBase, queue: string): Promise<SeqRow[]> {
  return (await client.query<SeqRow>('SELECT seq_name, last_value::text AS last_value, local FROM londiste.get_seq_list($1) ORDER BY seq_name', [queue])).rows;
}

/** Tables and sequences present here or upstream but not replicated. */
export async function localShowMissing(client: pg.ClientBase, queue: string): Promise<MissingObject[]> {
  return (await client.query<MissingObject>('SELECT obj_kind, obj_name FROM londiste.local_show_missing($1) ORDER BY obj_kind, obj_name', [queue])).rows;
}

export async function localAddTable(
  client: pg.ClientBase,
  log: Logger,
  queue: string,
  table: string,
  triggerArgs: readonly string[],
  attrs: string | null,
  destTable: string | null,
): Promise<void> {
  await execCmd(client, log, 'SELECT * FROM londiste.local_add_table($1, $2, $3, $4, $5)', [queue, table, triggerArgs, attrs, destTable]);
}

export async function localRemoveTable(client: pg.ClientBase, log: Logger, queue: string, table: string): Promise<void> {
  await execCmd(client, log, 'SELECT * FROM londiste.local_remove_table($1, $2)', [queue, table]);
}

export async function localSetTableAttrs(client: pg.ClientBase, log: Logger, queue: string, table: string, attrs: string | null): Promise<void> {
  await execCmd(client, log, 'SELECT * FROM londiste.local_set_table_attrs($1, $2, $3)', [queue, table, attrs]);
}

/** Move a table in the copy state machine (null state: copy again); snapshot is the copy's. */
export async function localSetTableState(client: pg.ClientBase, log: Logger, queue: string, table: string, snapshot: string | null, state: string | null): Promise<void> {
  await execCmd(client, log, 'SELECT * FROM londiste.local_set_table_state($1, $2, $3, $4)', [queue, table, snapshot, state], { quiet: true });
}

/**
 * On a combined root (the queue `queue` that merge leaves on this database feed): is some part
 * of the local table `dest` still copying? Its subscribers must not copy it before: the parts'
 * copied rows never pass through the combined queue.
 */
export async function mergePartsPending(client: pg.ClientBase, queue: string, dest: string): Promise<boolean> {
  const r = await client.query(
    `SELECT 1 FROM pgq_node.node_info n JOIN londiste.table_info t ON t.queue_name = n.queue_name
      WHERE n.combined_queue = $1 AND coalesce(t.dest_table, t.table_name) = $2 AND t.local AND t.merge_state IS DISTINCT FROM 'ok' LIMIT 1`,
    [queue, dest],
  );
  return (r.rowCount ?? 0) > 0;
}

export async function localChangeHandler(client: pg.ClientBase, log: Logger, queue: string, table: string, triggerArgs: readonly string[], attrs: string | null): Promise<void> {
  await execCmd(client, log, 'SELECT * FROM londiste.local_change_handler($1, $2, $3, $4)', [queue, table, triggerArgs, attrs]);
}

/**
 * The parts (`p`) of the local table of queue $1's table $2: its rows, local, in every queue of this
 * node that shares the queue's combined queue (or has none, as it does not).
 */
const MERGE_PARTS = `londiste.table_info t JOIN pgq_node.node_info n ON n.queue_name = t.queue_name
       JOIN pgq_node.node_info n2 ON n2.combined_queue IS NOT DISTINCT FROM n.combined_queue
       JOIN londiste.table_info p ON p.queue_name = n2.queue_name AND p.local
                                 AND coalesce(p.dest_table, p.table_name) = coalesce(t.dest_table, t.table_name)
      WHERE t.queue_name = $1 AND t.table_name = $2`;

/** Is the local table of `table` also fed by other queues here (one part of a merged table)? */
export async function otherMergeParts(client: pg.ClientBase, queue: string, table: string): Promise<boolean> {
  const r = await client.query(`SELECT 1 FROM ${MERGE_PARTS} AND p.queue_name <> t.queue_name LIMIT 1`, [queue, table]);
  return (r.rowCount ?? 0) > 0;
}

/** The queue whose part leads the copies of a merged table (the first by name, as londiste._coordinate_copy). */
export async function mergeLeadQueue(client: pg.ClientBase, queue: string, table: string): Promise<string | null> {
  const r = await client.query<{ q: string | null }>(`SELECT min(p.queue_name) AS q FROM ${MERGE_PARTS} AND p.merge_state IS DISTINCT FROM 'ok'`, [queue, table]);
  return r.rows[0]?.q ?? null;
}

/** Keep (or, with null, forget) the structure a merged table's lead dropped for the copies. */
export async function localSetTableStruct(client: pg.ClientBase, log: Logger, queue: string, table: string, droppedDdl: string | null): Promise<void> {
  await execCmd(client, log, 'SELECT * FROM londiste.local_set_table_struct($1, $2, $3)', [queue, table, droppedDdl], { quiet: true });
}

export async function globalAddTable(client: pg.ClientBase, log: Logger, queue: string, table: string | null): Promise<void> {
  await execCmd(client, log, 'SELECT * FROM londiste.global_add_table($1, $2)', [queue, table], { quiet: true });
}

export async function globalRemoveTable(client: pg.ClientBase, log: Logger, queue: string, table: string | null): Promise<void> {
  await execCmd(client, log, 'SELECT * FROM londiste.global_remove_table($1, $2)', [queue, table], { quiet: true });
}

export async function localAddSeq(client: pg.ClientBase, log: Logger, queue: string, seq: string): Promise<void> {
  await execCmd(client, log, 'SELECT * FROM londiste.local_add_seq($1, $2)', [queue, seq]);
}

export async function localRemoveSeq(client: pg.ClientBase, log: Logger, queue: string, seq: string): Promise<void> {
  await execCmd(client, log, 'SELECT * FROM londiste.local_remove_seq($1, $2)', [queue, seq]);
}

export async function globalUpdateSeq(client: pg.ClientBase, log: Logger, queue: string, seq: string | null, value: string | null): Promise<void> {
  await execCmd(client, log, 'SELECT * FROM londiste.global_update_seq($1, $2, $3)', [queue, seq, value], { quiet: true });
}

export async function globalRemoveSeq(client: pg.ClientBase, log: Logger, queue: string, seq: string | null): Promise<void> {
  await execCmd(client, log, 'SELECT * FROM londiste.global_remove_seq($1, $2)', [queue, seq], { quiet: true });
}

/** On the root: publish the positions of replicated sequences that came near their last published one. */
export async function rootCheckSeqs(client: pg.ClientBase, log: Logger, queue: string): Promise<void> {
  await execCmd(client, log, 'SELECT * FROM londiste.root_check_seqs($1)', [queue], { quiet: true });
}

/** An event parked in the copy backlog while its table waits for its copy. */
export interface BacklogEvent {
  ev_id: string;
  ev_txid: string;
  ev_type: string;
  ev_data: string | null;
  ev_extra1: string | null;
}

/** The parked events of a table in arrival order, removed from the backlog in the same statement. */
export async function takeBacklog(client: pg.ClientBase, queue: string, table: string): Promise<BacklogEvent[]> {
  const r = await client.query<BacklogEvent>(
    `WITH d AS (DELETE FROM londiste.copy_backlog WHERE queue_name = $1 AND table_name = $2
                RETURNING ev_seq, ev_id, ev_txid, ev_type, ev_data, ev_extra1)
     SELECT ev_id, ev_txid, ev_type, ev_data, ev_extra1 FROM d ORDER BY ev_seq`,
    [queue, table],
  );
  return r.rows;
}

/**
 * Begin running an EXECUTE script (in the transaction that runs it): records the file as applied
 * on this node. 200: go on; 201: this node has applied that file already. `expectRoot` refuses
 * (401) on any node but the root. `attrs` (urlencoded meta attributes) travel in ev_extra2.
 */
export async function executeStart(
  client: pg.ClientBase,
  log: Logger,
  queue: string,
  file: string,
  sql: string,
  expectRoot: boolean,
  attrs: string | null,
): Promise<number> {
  const rows = await execCmd(client, log, 'SELECT * FROM londiste.execute_start($1, $2, $3, $4, $5)', [queue, file, sql, expectRoot, attrs], { quiet: true });
  return rows[0]?.ret_code ?? 500;
}

/** The script ran: on the root this queues the EXECUTE event for the other nodes. */
export async function executeFinish(client: pg.ClientBase, log: Logger, queue: string, file: string): Promise<void> {
  await execCmd(client, log, 'SELECT * FROM londiste.execute_finish($1, $2)', [queue, file], { quiet: true });
}

/** The text a file was applied with on this node, or null when it was not. */
export async function appliedExecuteSql(client: pg.ClientBase, file: string): Promise<string | null> {
  const r = await client.query<{ sql: string | null }>('SELECT execute_sql AS sql FROM londiste.applied_execute WHERE execute_file = $1', [file]);
  return r.rowCount === 0 ? null : (r.rows[0]?.sql ?? '');
}
