/** Changing nodes: pause, resume, tag-dead, drop-node. */
import { describeError, pgqNode, quietLogger, UsageError } from '@skytools/core';
import { setPausedAndWait } from '../cascade/worker-pause.js';
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
    consumer = (await pgqNode.getNodeInfo(db, admin.queue))?.worker_name ?? undefined;
    if (consumer === undefined) throw new UsageError(`node ${node} has no worker for queue ${admin.queue}`);
  }
  const op = paused ? 'paused' : 'resumed';
  if (o.waitSeconds <= 0) {
    await pgqNode.setConsumerPaused(db, admin.log, admin.queue, consumer, paused);
    return;
  }
  admin.log.info('Waiting for worker to accept');
  const outcome = await setPausedAndWait(db, admin.log, admin.queue, node, consumer, paused, o.waitSeconds * 1000);
  if (outcome === 'confirmed') admin.log.info(`Consumer '${consumer}' on node '${node}' ${op}`);
  else if (outcome === 'not running') admin.log.info(`Consumer '${consumer}' on node '${node}' ${op} (its worker is not running)`);
  else admin.log.warning(`Consumer '${consumer}' on node '${node}' has not confirmed within ${o.waitSeconds}s; it will be ${op} when it next runs`);
}

export async function cmdTagDead(admin: NodeAdmin, deadNode: string, out: Output): Promise<void> {
  await setDeadFlag(admin, deadNode, true, out);
}

/** Undo tag-dead: the node is contacted again by status, takeover and the other commands. */
export async function cmdTagAlive(admin: NodeAdmin, node: string, out: Output): Promise<void> {
  await setDeadFlag(admin, node, false, out);
}

async function setDeadFlag(admin: NodeAdmin, target: string, dead: boolean, out: Output): Promise<void> {
  const info = await admin.localNodeInfo();
  const members = await admin.members();
  const m0 = members.find((m) => m.name === target);
  if (m0 === undefined) throw new UsageError(`Unknown node: ${target}`);
  if (dead && target === info.node_name) throw new UsageError('cannot tag the local node dead from itself; run tag-dead on another node');
  if (!dead && !m0.dead) {
    admin.log.info(`Node '${target}' is not tagged dead here; tagging it alive on the other nodes anyway`);
  }
  admin.log.info(`Tagging node '${target}' as ${dead ? 'dead' : 'alive'}`);
  await pgqNode.registerLocation(await admin.db(), admin.log, admin.queue, target, null, dead);
  admin.refresh();
  for (const m of members) {
    if ((m.dead && m.name !== target) || m.name === info.node_name || (dead && m.name === target)) continue;
    try {
      await pgqNode.registerLocation(await admin.nodeDatabase(m.name), admin.log, admin.queue, target, null, dead);
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
      nodeType = (await pgqNode.getNodeInfo(db, admin.queue))?.node_type ?? null;
      const subs = await pgqNode.subscriberNames(db, admin.queue);
      if (subs.length > 0 && !force) {
        throw new UsageError(`node ${nodeName} still has subscribers (${subs.join(', ')}): move them with change-provider first, or drop it anyway with --force`);
      }
    } catch (err) {
      if (err instanceof UsageError) throw err;
      admin.log.warning(`node ${nodeName} is unreachable: ${describeError(err)}`);
    }
  }

  if (nodeType !== 'root') {
    try {
      await pgqNode.unregisterLocation(await admin.rootDb(), admin.log, admin.queue, nodeName);
    } catch (err) {
      admin.log.warning(`Unregister from root failed: ${describeError(err)}`);
    }
  }
  if (!target.dead) {
    try {
      await pgqNode.dropNode(await admin.nodeDatabase(nodeName), admin.log, admin.queue, nodeName);
    } catch (err) {
      admin.log.warning(`Local drop failure: ${describeError(err)}`);
    }
  }
  for (const m of members) {
    if (m.dead || m.name === nodeName) continue;
    try {
      await pgqNode.dropNode(await admin.nodeDatabase(m.name), quietLogger(admin.log), admin.queue, nodeName);
    } catch (err) {
      admin.log.warning(`Failed to remove from '${m.name}': ${describeError(err)}`);
    }
  }
}
