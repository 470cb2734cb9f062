/** Changing nodes: pause, resume, tag-dead, drop-node. */
import { describeError, UsageError } from '@skytools/core';
import type { NodeAdmin } from '../node-admin.js';
import type { Output } from './status.js';

export interface PauseOptions {
  node?: string | undefined;
  consumer?: string | undefined;
  /** Seconds to wait for the worker to confirm; 0 = do not wait. */
  waitSeconds: number;
}

/** Pause or resume a node's worker (default: the local node's) and wait until the worker confirms. */
export async function cmdSetPaused(admin: NodeAdmin, paused: boolean, o: PauseOptions): Promise<void> {
  const info = await admin.localNodeInfo();
  const node = o.node ?? info.node_name ?? '';
  const db = await admin.nodeDatabase(node);
  let consumer = o.consumer;
  if (consumer === undefined) {
    const r = await db.query<{ worker_name: string | null }>('SELECT worker_name FROM pgq_node.get_node_info($1)', [admin.queue]);
    consumer = r.rows[0]?.worker_name ?? undefined;
    if (consumer === undefined) throw new UsageError(`node ${node} has no worker for queue ${admin.queue}`);
  }
  await admin.exec(db, 'SELECT * FROM pgq_node.set_consumer_paused($1, $2, $3)', [admin.queue, consumer, paused]);
  const op = paused ? 'paused' : 'resumed';
  if (o.waitSeconds <= 0) return;
  admin.log.info('Waiting for worker to accept');
  const deadline = Date.now() + o.waitSeconds * 1000;
  for (;;) {
    const st = await admin.exec(db, 'SELECT * FROM pgq_node.get_consumer_state($1, $2)', [admin.queue, consumer], true);
    const row = st[0];
    if (row?.['paused'] !== paused) throw new UsageError(`operation canceled: ${consumer} is now ${row?.['paused'] === true ? 'paused' : 'running'}`);
    if (row['uptodate'] === true) {
      admin.log.info(`Consumer '${consumer}' on node '${node}' ${op}`);
      return;
    }
    if (Date.now() > deadline) {
      admin.log.warning(`Consumer '${consumer}' on node '${node}' has not confirmed within ${o.waitSeconds}s (is its worker running?); it will be ${op} when it next runs`);
      return;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

export async function cmdTagDead(admin: NodeAdmin, deadNode: string, out: Output): Promise<void> {
  const info = await admin.localNodeInfo();
  const members = await admin.members();
  if (!members.some((m) => m.name === deadNode)) throw new UsageError(`Unknown node: ${deadNode}`);
  if (deadNode === info.node_name) throw new UsageError('cannot tag the local node dead from itself; run tag-dead on another node');
  admin.log.info(`Tagging node '${deadNode}' as dead`);
  const sql = 'SELECT * FROM pgq_node.register_location($1, $2, null, true)';
  await admin.exec(await admin.db(), sql, [admin.queue, deadNode]);
  for (const m of members) {
    if (m.dead || m.name === deadNode || m.name === info.node_name) continue;
    try {
      await admin.exec(await admin.nodeDatabase(m.name), sql, [admin.queue, deadNode]);
    } catch (err) {
      out(`Node ${m.name} failure: ${describeError(err).split('\n')[0] ?? ''}`);
      await admin.closeDatabase(`node_${m.name}`);
    }
  }
}

export async function cmdDropNode(admin: NodeAdmin, nodeName: string, force: boolean): Promise<void> {
  await admin.localNodeInfo();
  const members = await admin.members();
  const target = members.find((m) => m.name === nodeName);
  if (target === undefined) throw new UsageError(`Unknown node: ${nodeName}`);

  let nodeType: string | null = null;
  if (!target.dead) {
    try {
      const db = await admin.nodeDatabase(nodeName);
      const r = await db.query<{ node_type: string | null }>('SELECT node_type FROM pgq_node.get_node_info($1)', [admin.queue]);
      nodeType = r.rows[0]?.node_type ?? null;
      const subs = await db.query<{ node_name: string }>('SELECT node_name FROM pgq_node.get_subscriber_info($1)', [admin.queue]);
      if (subs.rows.length > 0 && !force) {
        throw new UsageError(`node still has subscribers (${subs.rows.map((s) => s.node_name).join(', ')}); move them with change-provider first`);
      }
    } catch (err) {
      if (err instanceof UsageError) throw err;
      admin.log.warning(`node ${nodeName} is unreachable: ${describeError(err)}`);
    }
  }

  if (nodeType !== 'root') {
    try {
      const root = await admin.rootDb();
      await admin.exec(root, 'SELECT * FROM pgq_node.unregister_location($1, $2)', [admin.queue, nodeName]);
    } catch (err) {
      admin.log.warning(`Unregister from root failed: ${describeError(err)}`);
    }
  }
  if (!target.dead) {
    try {
      await admin.exec(await admin.nodeDatabase(nodeName), 'SELECT * FROM pgq_node.drop_node($1, $2)', [admin.queue, nodeName]);
    } catch (err) {
      admin.log.warning(`Local drop failure: ${describeError(err)}`);
    }
  }
  for (const m of members) {
    if (m.dead || m.name === nodeName) continue;
    try {
      await admin.exec(await admin.nodeDatabase(m.name), 'SELECT * FROM pgq_node.drop_node($1, $2)', [admin.queue, nodeName], true);
    } catch (err) {
      admin.log.warning(`Failed to remove from '${m.name}': ${describeError(err)}`);
    }
  }
}
