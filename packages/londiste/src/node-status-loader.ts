/**
 * Reads one node's state for `status` / `node-status`: node info, how far each of its
 * consumers got (for its subscribers' lag), worker errors, and the londiste table counts.
 */
import type pg from 'pg';
import { connect, urlDecode, type Logger } from '@skytools/core';
import type { MemberInfo, NodeInfoRow, NodeStatus } from './queue-info.js';

export interface LoadedNode {
  status: NodeStatus;
  /** consumer name → age of its last finished tick, in seconds, measured on this node. */
  consumerLag: Map<string, number>;
  /** Age of this node's newest tick (root: the lag shown for it). */
  tickerLag: number | null;
}

export function deadNode(name: string): LoadedNode {
  return {
    status: { name, type: 'dead', providerNode: null, workerName: null, lastTick: null, paused: true, uptodate: false, lagSeconds: null, infoLines: [] },
    consumerLag: new Map(),
    tickerLag: null,
  };
}

export async function readNodeStatus(client: pg.ClientBase, queue: string): Promise<LoadedNode> {
  const info = (await client.query<NodeInfoRow>('SELECT * FROM pgq_node.get_node_info($1)', [queue])).rows[0];
  if (info === undefined || info.node_name === null || info.node_type === null) throw new Error(`no node for queue ${queue}`);
  const consumers = await client.query<{ consumer_name: string; lag_s: number | null }>(
    'SELECT consumer_name, extract(epoch FROM lag)::float8 AS lag_s FROM pgq.get_consumer_info($1)',
    [queue],
  );
  const q = await client.query<{ lag_s: number | null }>('SELECT extract(epoch FROM ticker_lag)::float8 AS lag_s FROM pgq.get_queue_info($1)', [queue]);
  const errors = await client.query<{ consumer_name: string; cur_error: string | null }>(
    'SELECT consumer_name, cur_error FROM pgq_node.get_consumer_info($1)',
    [queue],
  );
  const infoLines: string[] = [];
  const hasLondiste = await client.query<{ ok: boolean }>(`SELECT to_regprocedure('londiste.get_table_list(text)') IS NOT NULL AS ok`);
  if (hasLondiste.rows[0]?.ok === true) {
    const t = await client.query<{ ok: number; half: number; ign: number }>(
      `SELECT count(*) FILTER (WHERE local AND merge_state = 'ok')::int AS ok,
              count(*) FILTER (WHERE local AND merge_state IS DISTINCT FROM 'ok')::int AS half,
              count(*) FILTER (WHERE NOT local)::int AS ign
         FROM londiste.get_table_list($1)`,
      [queue],
    );
    const c = t.rows[0];
    infoLines.push(`Tables: ${c?.ok ?? 0}/${c?.half ?? 0}/${c?.ign ?? 0}`);
  }
  for (const [k, v] of Object.entries(urlDecode(info.node_attrs))) infoLines.push(`Attr: ${k}=${v ?? ''}`);
  for (const e of errors.rows) {
    if (e.cur_error !== null && e.cur_error !== '') infoLines.push(`ERR: ${e.consumer_name}: ${e.cur_error.split('\n')[0] ?? ''}`);
  }
  const consumerLag = new Map<string, number>();
  for (const c of consumers.rows) if (c.lag_s !== null) consumerLag.set(c.consumer_name, c.lag_s);
  const tickerLag = q.rows[0]?.lag_s ?? null;
  return {
    status: {
      name: info.node_name,
      type: info.node_type,
      providerNode: info.provider_node,
      workerName: info.worker_name,
      lastTick: info.worker_last_tick,
      paused: info.worker_paused === true,
      uptodate: info.worker_uptodate !== false,
      lagSeconds: info.node_type === 'root' ? tickerLag : null,
      infoLines,
    },
    consumerLag,
    tickerLag,
  };
}

/**
 * Load every member (a few at a time); a node that cannot be read is reported and shown as dead.
 * A non-root node's lag is how old, on its provider, the tick it last finished is.
 */
export async function loadAllNodes(members: readonly MemberInfo[], queue: string, log: Logger, report: (line: string) => void): Promise<NodeStatus[]> {
  const loaded = new Map<string, LoadedNode>();
  const todo = [...members];
  const worker = async (): Promise<void> => {
    for (let m = todo.shift(); m !== undefined; m = todo.shift()) {
      if (m.dead || m.location === null) {
        loaded.set(m.name, deadNode(m.name));
        continue;
      }
      let client: pg.Client | undefined;
      try {
        client = await connect(m.location, { name: `node_${m.name}`, logger: log, connectTimeoutMs: 10_000 });
        loaded.set(m.name, await readNodeStatus(client, queue));
      } catch (err) {
        const msg = ((err as Error).message.split('\n')[0] ?? '').trim();
        report(`Node '${m.name}' failure: ${msg}`);
        loaded.set(m.name, deadNode(m.name));
      } finally {
        await client?.end().catch(() => undefined);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(8, Math.max(1, members.length)) }, worker));
  const nodes = [...loaded.values()];
  for (const n of nodes) {
    const s = n.status;
    if (s.type === 'root' || s.providerNode === null || s.workerName === null) continue;
    const lag = loaded.get(s.providerNode)?.consumerLag.get(s.workerName);
    if (lag !== undefined) s.lagSeconds = lag;
  }
  return members.map((m) => loaded.get(m.name)?.status).filter((s): s is NodeStatus => s !== undefined);
}
