/**
 * Reads one node's state for `status` / `node-status`: node info, how far each of its
 * consumers got (for its subscribers' lag), worker errors, and the londiste table counts.
 */
import type pg from 'pg';
import { connect, londisteSql, pgq, pgqNode, SkytoolsError, urlDecode, type Logger, type MemberInfo, type TableErrorRow } from '@skytools/core';
import type { NodeStatus } from './node-status.js';

export interface LoadedNode {
  status: NodeStatus;
  /** consumer name → age of its last finished tick, in seconds, measured on this node. */
  consumerLag: Map<string, number>;
  /** Age of this node's newest tick (root: the lag shown for it). */
  tickerLag: number | null;
}

/** A table's recorded copy failure on one line: what, how often since when, the error's first line. */
export function tableErrorLine(e: TableErrorRow): string {
  const at = (d: Date): string => d.toISOString().replace('T', ' ').slice(0, 19);
  return `${e.table_name}: copy failed ${String(e.failures)} time${e.failures === 1 ? '' : 's'} since ${at(e.first_failed)} UTC (last ${at(e.last_failed)}): ${e.error.split('\n')[0] ?? ''}`;
}

export function deadNode(name: string): LoadedNode {
  return {
    status: { name, type: 'dead', providerNode: null, workerName: null, lastTick: null, paused: false, uptodate: true, lagSeconds: null, infoLines: [] },
    consumerLag: new Map(),
    tickerLag: null,
  };
}

export async function readNodeStatus(client: pg.ClientBase, queue: string): Promise<LoadedNode> {
  const info = await pgqNode.getNodeInfo(client, queue);
  if (info === undefined || info.node_name === null || info.node_type === null) throw new SkytoolsError(`no node for queue ${queue}`);
  const consumerLag = await pgq.consumerLags(client, queue);
  const tickerLag = await pgq.tickerLag(client, queue);
  const errors = await pgqNode.consumerErrors(client, queue);
  const infoLines: string[] = [];
  if (await londisteSql.isInstalled(client)) {
    const tables = await londisteSql.getTableList(client, queue);
    const ok = tables.filter((t) => t.local && t.merge_state === 'ok').length;
    const half = tables.filter((t) => t.local && t.merge_state !== 'ok').length;
    infoLines.push(`Tables: ${ok}/${half}/${tables.length - ok - half}`);
    if (await londisteSql.recordsTableErrors(client)) {
      for (const e of await londisteSql.getTableErrors(client, queue)) infoLines.push(`ERR: ${tableErrorLine(e)}`);
    }
  }
  for (const [k, v] of Object.entries(urlDecode(info.node_attrs))) infoLines.push(`Attr: ${k}=${v ?? ''}`);
  for (const [consumer, error] of errors) infoLines.push(`ERR: ${consumer}: ${error.split('\n')[0] ?? ''}`);
  if (info.node_type === 'root' && (await pgq.insertsDisabled(client, queue))) {
    infoLines.push('WRITES REFUSED: demoted by a takeover that has not finished; run the same takeover again');
  }
  for (const [consumer, tick] of await pgqNode.gravestones(client, queue)) infoLines.push(`Gravestone: ${consumer} at tick ${tick} (a failed-over node)`);
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
