/** Read-only views of the cascade: status (the tree), node-status, node-info, members. */
import { formatDisplayTable, maskConnstr, pgq, pgqNode } from '@skytools/core';
import type { NodeAdmin } from '../node-admin.js';
import { loadAllNodes, readNodeStatus } from '../node-status-loader.js';
import { nodeInfoLines, renderStatusTree, renderStatusTreeCompact } from '../status-tree.js';

export type Output = (line: string) => void;

export async function cmdStatus(admin: NodeAdmin, out: Output, compact = false): Promise<void> {
  const info = await admin.localNodeInfo();
  const members = await admin.members();
  const nodes = await loadAllNodes(members, admin.queue, admin.log, out);
  const render = compact ? renderStatusTreeCompact : renderStatusTree;
  for (const line of render(admin.queue, info.node_name ?? '?', nodes)) out(line);
}

export async function cmdNodeStatus(admin: NodeAdmin, out: Output): Promise<void> {
  const info = await admin.localNodeInfo();
  const db = await admin.db();
  const node = await readNodeStatus(db, admin.queue);
  if (info.node_type !== 'root' && info.provider_node !== null && info.worker_name !== null) {
    try {
      const lags = await pgq.consumerLags(await admin.nodeDatabase(info.provider_node), admin.queue);
      node.status.lagSeconds = lags.get(info.worker_name) ?? null;
    } catch (err) {
      admin.log.warning(`cannot read lag from provider ${info.provider_node}: ${(err as Error).message}`);
    }
  }
  const subs = await pgqNode.subscriberNames(db, admin.queue);
  const offset = '    ';
  out(`${node.status.name} (${node.status.type})`);
  out(`${offset}Provider: ${info.provider_node ?? 'None'}`);
  out(`${offset}Subscribers: ${subs.join(', ')}`);
  for (const l of nodeInfoLines(node.status)) out(offset + l);
}

export async function cmdNodeInfo(admin: NodeAdmin, out: Output): Promise<void> {
  const n = await admin.localNodeInfo();
  const members = await admin.members();
  const me = members.find((m) => m.name === n.node_name);
  const states: string[] = [];
  if (me?.dead === true) states.push('DEAD');
  if (n.worker_paused === true) states.push('PAUSED');
  if (n.worker_uptodate === false) states.push('NON-UP-TO-DATE');
  out(`Node: ${n.node_name ?? '?'}  Type: ${n.node_type ?? '?'}  Queue: ${admin.queue}`);
  out(`Status: ${states.length === 0 ? 'OK' : states.join(', ')}`);
  out(`Provider: ${n.node_type === 'root' ? '--' : (n.provider_node ?? 'None')}`);
  out('Connect strings:');
  out(`  Local   : ${maskConnstr(admin.job.db)}`);
  if (me?.location != null) out(`  Public  : ${maskConnstr(me.location)}`);
  if (n.node_type !== 'root') out(`  Provider: ${n.provider_location === null ? 'None' : maskConnstr(n.provider_location)}`);
  if (n.combined_queue !== null) out(`Combined Queue: ${n.combined_queue}  (node type: ${n.combined_type ?? '?'})`);
}

export async function cmdMembers(admin: NodeAdmin, out: Output): Promise<void> {
  const n = await admin.localNodeInfo();
  const members = await admin.members();
  const rows = members.map((m) => [m.name, m.dead, m.location === null ? null : maskConnstr(m.location)] as const);
  for (const l of formatDisplayTable(`Member info on ${n.node_name ?? '?'}@${admin.queue}:`, ['node_name', 'dead', 'node_location'], rows)) out(l);
}
