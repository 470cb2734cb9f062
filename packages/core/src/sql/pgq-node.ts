/**
 * The pgq_node SQL API (cascade membership, node roles, worker state, watermarks). Calls that
 * return ret_code/ret_note rows go through execCmd: their notes are logged at the matching level
 * and a failure (4xx/5xx) throws CommandFailedError.
 */
import type pg from 'pg';
import { quoteLiteral } from '../identifiers.js';
import { execCmd, type RetRow } from '../exec-cmd.js';
import type { Logger } from '../logger.js';

export type NodeType = 'root' | 'branch' | 'leaf';

/** One row of pgq_node.get_node_info(). */
export interface NodeInfoRow {
  ret_code: number;
  ret_note: string;
  node_type: NodeType | null;
  node_name: string | null;
  global_watermark: string | null;
  local_watermark: string | null;
  provider_node: string | null;
  provider_location: string | null;
  combined_queue: string | null;
  combined_type: string | null;
  worker_name: string | null;
  worker_paused: boolean | null;
  worker_uptodate: boolean | null;
  worker_last_tick: string | null;
  node_attrs: string | null;
}

export interface MemberInfo {
  name: string;
  location: string | null;
  dead: boolean;
}

/** Does the database have the cascade schema at all? */
export async function isInstalled(client: pg.ClientBase): Promise<boolean> {
  const r = await client.query<{ ok: boolean }>(`SELECT to_regprocedure('pgq_node.get_node_info(text)') IS NOT NULL AS ok`);
  return r.rows[0]?.ok === true;
}

/** The node of `queue` in this database; node_type is null when there is none. */
export async function getNodeInfo(client: pg.ClientBase, queue: string): Promise<NodeInfoRow | undefined> {
  return (await client.query<NodeInfoRow>('SELECT * FROM pgq_node.get_node_info($1)', [queue])).rows[0];
}

/** The queues this database has nodes for. */
export async function nodeQueues(client: pg.ClientBase): Promise<string[]> {
  return (await client.query<{ queue_name: string }>('SELECT queue_name FROM pgq_node.node_info ORDER BY 1')).rows.map((r) => r.queue_name);
}

/** The members of the queue as this node knows them, by name. */
export async function getQueueLocations(client: pg.ClientBase, queue: string): Promise<MemberInfo[]> {
  const r = await client.query<{ node_name: string; node_location: string | null; dead: boolean }>(
    'SELECT node_name, node_location, dead FROM pgq_node.get_queue_locations($1) ORDER BY node_name',
    [queue],
  );
  return r.rows.map((row) => ({ name: row.node_name, location: row.node_location, dead: row.dead }));
}

/** Names of the nodes subscribed to this one. */
export async function subscriberNames(client: pg.ClientBase, queue: string): Promise<string[]> {
  const r = await client.query<{ node_name: string }>('SELECT node_name FROM pgq_node.get_subscriber_info($1) ORDER BY 1', [queue]);
  return r.rows.map((row) => row.node_name);
}

/** consumer name → its current error, for the consumers of this node that have one. */
export async function consumerErrors(client: pg.ClientBase, queue: string): Promise<Map<string, string>> {
  const r = await client.query<{ consumer_name: string; cur_error: string | null }>('SELECT consumer_name, cur_error FROM pgq_node.get_consumer_info($1)', [queue]);
  const out = new Map<string, string>();
  for (const row of r.rows) if (row.cur_error !== null && row.cur_error !== '') out.set(row.consumer_name, row.cur_error);
  return out;
}

/** What a worker needs at the start of each round: its consumer state and its node. */
export interface WorkerState {
  ret_code: number;
  ret_note: string;
  node_type: NodeType;
  node_name: string;
  completed_tick: string | null;
  provider_node: string | null;
  provider_location: string | null;
  paused: boolean;
  uptodate: boolean;
  cur_error: string | null;
  /** A leaf merging its queue into another one: that queue, and its node's type here. */
  combined_queue: string | null;
  combined_type: string | null;
  /** The provider the node's own worker reads from (null on a root): a cascaded consumer follows it. */
  node_provider: string | null;
  node_provider_location: string | null;
}

export async function getWorkerState(client: pg.ClientBase, queue: string, consumer: string): Promise<WorkerState | undefined> {
  const r = await client.query<WorkerState>(
    `SELECT s.*, n.node_type, n.node_name, n.combined_queue, n.combined_type,
            CASE WHEN n.node_type = 'root' THEN NULL ELSE n.provider_node END AS node_provider,
            CASE WHEN n.node_type = 'root' THEN NULL ELSE n.provider_location END AS node_provider_location
       FROM pgq_node.get_consumer_state($1, $2) s, pgq_node.get_node_info($1) n`,
    [queue, consumer],
  );
  return r.rows[0];
}

export interface ConsumerState extends RetRow {
  completed_tick: string | null;
  paused: boolean;
  uptodate: boolean;
}

export async function getConsumerState(client: pg.ClientBase, log: Logger, queue: string, consumer: string): Promise<ConsumerState | undefined> {
  return (await execCmd(client, log, 'SELECT * FROM pgq_node.get_consumer_state($1, $2)', [queue, consumer], { quiet: true }))[0] as ConsumerState | undefined;
}

export async function setConsumerUptodate(client: pg.ClientBase, log: Logger, queue: string, consumer: string, uptodate: boolean): Promise<void> {
  await execCmd(client, log, 'SELECT * FROM pgq_node.set_consumer_uptodate($1, $2, $3)', [queue, consumer, uptodate], { quiet: true });
}

/** Record (or with null, clear) the worker's current error, shown by `status`. */
export async function setConsumerError(client: pg.ClientBase, log: Logger, queue: string, consumer: string, error: string | null): Promise<void> {
  await execCmd(client, log, 'SELECT * FROM pgq_node.set_consumer_error($1, $2, $3)', [queue, consumer, error], { quiet: true });
}

export async function setConsumerPaused(client: pg.ClientBase, log: Logger, queue: string, consumer: string, paused: boolean): Promise<void> {
  await execCmd(client, log, 'SELECT * FROM pgq_node.set_consumer_paused($1, $2, $3)', [queue, consumer, paused]);
}

/**
 * Record the batch's closing tick as this node's position and COMMIT, in one round trip (a
 * multi-statement query takes no parameters, hence the literals).
 */
export async function setConsumerCompletedAndCommit(client: pg.ClientBase, queue: string, consumer: string, tickId: string): Promise<void> {
  await client.query(`SELECT * FROM pgq_node.set_consumer_completed(${quoteLiteral(queue)}, ${quoteLiteral(consumer)}, ${quoteLiteral(tickId)}); COMMIT`);
}

export async function changeConsumerProvider(client: pg.ClientBase, log: Logger, queue: string, consumer: string, provider: string): Promise<void> {
  await execCmd(client, log, 'SELECT * FROM pgq_node.change_consumer_provider($1, $2, $3)', [queue, consumer, provider]);
}

export async function registerLocation(client: pg.ClientBase, log: Logger, queue: string, node: string, location: string | null, dead: boolean): Promise<void> {
  await execCmd(client, log, 'SELECT * FROM pgq_node.register_location($1, $2, $3, $4)', [queue, node, location, dead]);
}

export interface LocationInfo {
  node: string;
  location: string | null;
  dead: boolean;
}

/**
 * A run of the queue's pgq.location-info events, registered in one statement and in their order
 * (a later event about a node overrides an earlier one; a NULL location keeps the known one).
 * A leaf of a busy cascade sees one per node created, moved or tagged dead: one round trip each
 * was most of a new leaf's first batches. Notes go to the debug level, as upstream's worker
 * registers them silently.
 */
export async function registerLocations(client: pg.ClientBase, log: Logger, queue: string, events: readonly LocationInfo[]): Promise<void> {
  if (events.length === 0) return;
  await execCmd(
    client,
    log,
    `SELECT r.* FROM unnest($2::text[], $3::text[], $4::bool[]) WITH ORDINALITY AS u(node, location, dead, ord),
            LATERAL pgq_node.register_location($1, u.node, u.location, u.dead) AS r
      ORDER BY u.ord`,
    [queue, events.map((e) => e.node), events.map((e) => e.location), events.map((e) => e.dead)],
    { quiet: true },
  );
}

export async function unregisterLocation(client: pg.ClientBase, log: Logger, queue: string, node: string): Promise<void> {
  await execCmd(client, log, 'SELECT * FROM pgq_node.unregister_location($1, $2)', [queue, node]);
}

export interface CreateNodeArgs {
  type: NodeType;
  node: string;
  worker: string;
  provider: string | null;
  globalWatermark: string | null;
  combinedQueue: string | null;
}

export async function createNode(client: pg.ClientBase, log: Logger, queue: string, a: CreateNodeArgs): Promise<void> {
  await execCmd(client, log, 'SELECT * FROM pgq_node.create_node($1, $2, $3, $4, $5, $6, $7)', [
    queue,
    a.type,
    a.node,
    a.worker,
    a.provider,
    a.globalWatermark,
    a.combinedQueue,
  ]);
}

export async function dropNode(client: pg.ClientBase, log: Logger, queue: string, node: string): Promise<void> {
  await execCmd(client, log, 'SELECT * FROM pgq_node.drop_node($1, $2)', [queue, node]);
}

/** Subscribe a node at `tick` (null: the newest); the provider's global watermark. */
export async function registerSubscriber(client: pg.ClientBase, log: Logger, queue: string, node: string, worker: string, tick: string | null): Promise<string | null> {
  const rows = await execCmd(client, log, 'SELECT * FROM pgq_node.register_subscriber($1, $2, $3, $4)', [queue, node, worker, tick]);
  const wm = rows[0]?.['global_watermark'];
  return typeof wm === 'string' || typeof wm === 'number' ? String(wm) : null;
}

export async function unregisterSubscriber(client: pg.ClientBase, log: Logger, queue: string, node: string): Promise<void> {
  await execCmd(client, log, 'SELECT * FROM pgq_node.unregister_subscriber($1, $2)', [queue, node]);
}

/** On the root: compute and publish the cascade's global watermark. */
export async function publishGlobalWatermark(client: pg.ClientBase, log: Logger, queue: string): Promise<void> {
  await execCmd(client, log, 'SELECT * FROM pgq_node.set_global_watermark($1, NULL)', [queue], { quiet: true });
}

export async function setGlobalWatermark(client: pg.ClientBase, log: Logger, queue: string, tick: string | null): Promise<void> {
  await execCmd(client, log, 'SELECT * FROM pgq_node.set_global_watermark($1, $2)', [queue, tick], { quiet: true });
}

/** On the provider: how far a subscriber has got (lets the provider rotate its event tables). */
export async function setSubscriberWatermark(client: pg.ClientBase, log: Logger, queue: string, node: string, tick: string): Promise<void> {
  await execCmd(client, log, 'SELECT * FROM pgq_node.set_subscriber_watermark($1, $2, $3)', [queue, node, tick], { quiet: true });
}

export async function setPartitionWatermark(client: pg.ClientBase, log: Logger, combinedQueue: string, partQueue: string | null, tick: string | null): Promise<void> {
  await execCmd(client, log, 'SELECT * FROM pgq_node.set_partition_watermark($1, $2, $3)', [combinedQueue, partQueue, tick], { quiet: true });
}

/**
 * One step of a root's demotion: 1 refuses new events (captured writes fail from now on), 2 inserts
 * the last tick and returns it, 3 turns the root into a branch of `newProvider` at that tick.
 */
export async function demoteRoot(client: pg.ClientBase, log: Logger, queue: string, step: 1 | 2 | 3, newProvider: string): Promise<string | null> {
  const rows = await execCmd(client, log, 'SELECT * FROM pgq_node.demote_root($1, $2, $3)', [queue, step, newProvider]);
  const t = rows[0]?.['last_tick'];
  return typeof t === 'string' || typeof t === 'number' ? String(t) : null;
}

/** Make a branch the root: its queue accepts events and ticks on its own from now on. */
export async function promoteBranch(client: pg.ClientBase, log: Logger, queue: string): Promise<void> {
  await execCmd(client, log, 'SELECT * FROM pgq_node.promote_branch($1)', [queue]);
}

/** The position of a plain consumer (not a node) on this node's queue, e.g. a failover gravestone. */
export async function consumerLastTick(client: pg.ClientBase, queue: string, consumer: string): Promise<string | null | undefined> {
  const r = await client.query<{ t: string | null }>('SELECT last_tick::text AS t FROM pgq.get_consumer_info($1, $2)', [queue, consumer]);
  return r.rows.length === 0 ? undefined : (r.rows[0]?.t ?? null);
}

/** Consumers a failover left in place of a dead node (name ending in .gravestone) and their ticks. */
export async function gravestones(client: pg.ClientBase, queue: string): Promise<Map<string, string>> {
  const r = await client.query<{ c: string; t: string | null }>(
    `SELECT consumer_name AS c, last_tick::text AS t FROM pgq.get_consumer_info($1) WHERE consumer_name LIKE '%.gravestone'`,
    [queue],
  );
  return new Map(r.rows.map((row) => [row.c, row.t ?? '?']));
}

/** Set a consumer's position on its node (resurrect: where the node continues from). */
export async function setConsumerCompleted(client: pg.ClientBase, log: Logger, queue: string, consumer: string, tick: string): Promise<void> {
  await execCmd(client, log, 'SELECT * FROM pgq_node.set_consumer_completed($1, $2, $3)', [queue, consumer, tick], { quiet: true });
}

/** Does this database's pgq_node have rename_node (this project's; upstream's has none)? */
export async function hasRenameNode(client: pg.ClientBase): Promise<boolean> {
  const r = await client.query<{ ok: boolean }>(`SELECT to_regprocedure('pgq_node.rename_node(text,text,text)') IS NOT NULL AS ok`);
  return r.rows[0]?.ok === true;
}

export async function renameNode(client: pg.ClientBase, log: Logger, queue: string, oldName: string, newName: string): Promise<void> {
  await execCmd(client, log, 'SELECT * FROM pgq_node.rename_node($1, $2, $3)', [queue, oldName, newName]);
}

/**
 * Inside the caller's transaction: lock this node's consumer row and read its completed tick
 * (undefined: no such consumer). Two processes of one consumer apply their batches one after the other.
 */
export async function lockConsumerTick(client: pg.ClientBase, queue: string, consumer: string): Promise<string | null | undefined> {
  const r = await client.query<{ t: string | null }>(
    'SELECT last_tick_id::text AS t FROM pgq_node.local_state WHERE queue_name = $1 AND consumer_name = $2 FOR UPDATE',
    [queue, consumer],
  );
  return r.rows.length === 0 ? undefined : (r.rows[0]?.t ?? null);
}

/** Record a consumer of this node reading `provider`'s queue after `tick`. */
export async function registerConsumer(client: pg.ClientBase, log: Logger, queue: string, consumer: string, provider: string, tick: string): Promise<void> {
  await execCmd(client, log, 'SELECT * FROM pgq_node.register_consumer($1, $2, $3, $4)', [queue, consumer, provider, tick]);
}

export async function unregisterConsumer(client: pg.ClientBase, log: Logger, queue: string, consumer: string): Promise<void> {
  await execCmd(client, log, 'SELECT * FROM pgq_node.unregister_consumer($1, $2)', [queue, consumer]);
}
