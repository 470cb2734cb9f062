/**
 * rename-node: every member's view of one node under a new name, with the node's worker paused
 * meanwhile. Members that cannot be reached now are named at the end; running the same command
 * again when they are back renames it there too (the rename is a no-op where it is done).
 */
import { CommandFailedError, describeError, pgqNode, UsageError } from '@skytools/core';
import type { NodeAdmin } from '../node-admin.js';
import { pauseOrFail, resumeWorker } from './provider-switch.js';
import { StepLog } from './step-log.js';

export async function renameNode(admin: NodeAdmin, oldName: string, newName: string, waitMs: number): Promise<void> {
  if (!/^[A-Za-z0-9_.-]+$/.test(newName)) throw new UsageError(`rename-node: "${newName}" is not a usable node name (letters, digits, _ . -)`);
  const members = await admin.members();
  const alreadyDone = !members.some((m) => m.name === oldName) && members.some((m) => m.name === newName);
  if (!alreadyDone && !members.some((m) => m.name === oldName)) throw new UsageError(`rename-node: unknown node ${oldName}`);
  if (!alreadyDone && members.some((m) => m.name === newName)) throw new UsageError(`rename-node: a node named ${newName} exists already`);
  const steps = new StepLog(admin.log, 4);

  steps.step('checking that every reachable member can rename');
  const reachable: string[] = [];
  const unreachable: string[] = [];
  for (const m of members) {
    if (m.dead) {
      unreachable.push(`${m.name} (tagged dead)`);
      continue;
    }
    try {
      const db = await admin.nodeDatabase(m.name);
      if (!(await pgqNode.hasRenameNode(db))) throw new UsageError(`rename-node: ${m.name} runs a pgq_node without rename_node (upstream's); install this project's schema there first; nothing was changed`);
      reachable.push(m.name);
    } catch (err) {
      if (err instanceof UsageError) throw err;
      unreachable.push(`${m.name} (${describeError(err).split('\n')[0] ?? ''})`);
      await admin.closeDatabase(`node_${m.name}`);
    }
  }
  const target = alreadyDone ? newName : oldName;
  const targetDb = reachable.includes(target) ? await admin.nodeDatabase(target) : undefined;
  const worker = targetDb === undefined ? null : ((await pgqNode.getNodeInfo(targetDb, admin.queue))?.worker_name ?? null);

  steps.step(worker === null || targetDb === undefined ? `${target} is not reachable: its worker cannot be paused` : `pausing the worker of ${target}`);
  if (worker !== null && targetDb !== undefined) await pauseOrFail(admin, targetDb, target, worker, waitMs);

  try {
    steps.step(`renaming ${oldName} to ${newName} on ${reachable.join(', ')}`);
    for (const name of reachable) {
      try {
        await pgqNode.renameNode(await admin.nodeDatabase(name), admin.log, admin.queue, oldName, newName);
      } catch (err) {
        // a member that never knew the node has nothing to rename
        if (!(err instanceof CommandFailedError && err.retCode === 404)) throw err;
        admin.log.warning(`${name} does not know ${oldName}: nothing to rename there`);
      }
    }
    admin.refresh();
  } finally {
    steps.step(`resuming the worker of ${newName}`);
    if (worker !== null && targetDb !== undefined) await resumeWorker(admin, targetDb, newName, worker);
  }
  const rest = unreachable.length === 0 ? '' : `; not renamed on ${unreachable.join(', ')}: run the same command again once they are back`;
  admin.log.info(`rename-node done: ${oldName} is ${newName} on ${String(reachable.length)} nodes${rest}`);
}
