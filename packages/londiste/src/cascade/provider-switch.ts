/**
 * Moving a node to another provider (change-provider, and the moves inside a takeover): pause its
 * worker and wait until it stopped, subscribe it on the new provider at exactly the tick it stands
 * on, switch, resume, unsubscribe from the old provider. Every step can be run again: a switch
 * interrupted anywhere is finished by repeating the command.
 */
import type pg from 'pg';
import { describeError, pgq, pgqNode, quietLogger, SkytoolsError, sleep, UsageError } from '@skytools/core';
import type { NodeAdmin } from '../node-admin.js';
import { StepLog } from './step-log.js';
import { setPausedAndWait } from './worker-pause.js';

export interface SwitchOptions {
  /** How long to wait for a worker to stop (its batch in flight to commit). */
  waitMs: number;
  /** Prefix of the step lines when the switch is part of a larger operation. */
  prefix?: string;
  /** A branch provider behind the node: wait this long for it to catch up (the node stays paused) before refusing. */
  catchUpMs?: number;
}

export class SwitchRefused extends UsageError {}

/**
 * Pause `node`'s worker, waiting for it. When it does not stop in time: without `stopped`, its flag
 * is restored and nothing has changed; with `stopped` (an operation already under way), it stays
 * paused and the error says where the operation stands.
 */
export async function pauseOrFail(admin: NodeAdmin, db: pg.ClientBase, node: string, worker: string, waitMs: number, stopped?: string): Promise<void> {
  const outcome = await setPausedAndWait(db, admin.log, admin.queue, node, worker, true, waitMs);
  if (outcome !== 'timeout') return;
  if (stopped !== undefined) throw new SkytoolsError(`the worker of ${node} did not stop within ${String(waitMs / 1000)}s (a long batch?); ${stopped}`);
  await pgqNode.setConsumerPaused(db, quietLogger(admin.log), admin.queue, worker, false);
  throw new SkytoolsError(`the worker of ${node} did not stop within ${String(waitMs / 1000)}s (a long batch?); it was resumed and nothing was changed: retry, or raise --wait-timeout`);
}

export async function resumeWorker(admin: NodeAdmin, db: pg.ClientBase, node: string, worker: string): Promise<void> {
  // no need to wait: the worker resumes on its next round
  await setPausedAndWait(db, admin.log, admin.queue, node, worker, false, 0);
}

/** Nodes other than `except` that list `node` as a subscriber (stale registrations hold back their queue). */
export async function providersOf(admin: NodeAdmin, node: string, except = ''): Promise<string[]> {
  const out: string[] = [];
  for (const m of await admin.members()) {
    if (m.dead || m.name === node || m.name === except || admin.isTreatedDead(m.name)) continue;
    try {
      if ((await pgqNode.subscriberNames(await admin.nodeDatabase(m.name), admin.queue)).includes(node)) out.push(m.name);
    } catch (err) {
      admin.log.warning(`cannot read the subscribers of ${m.name}: ${describeError(err)}`);
    }
  }
  return out;
}

export async function switchProvider(admin: NodeAdmin, node: string, newProvider: string, o: SwitchOptions): Promise<void> {
  if (node === newProvider) throw new SwitchRefused(`change-provider: ${node} cannot be its own provider`);
  const db = await admin.nodeDatabase(node);
  const info = await pgqNode.getNodeInfo(db, admin.queue);
  if (info?.node_type === null || info?.node_type === undefined || info.worker_name === null) throw new SwitchRefused(`change-provider: ${node} is not a node of queue ${admin.queue}`);
  if (info.node_type === 'root') throw new SwitchRefused(`change-provider: ${node} is the root and has no provider (use takeover to make another node the root)`);
  const worker = info.worker_name;
  const oldProvider = info.provider_node;
  const steps = new StepLog(admin.log, 6, o.prefix ?? '');

  if (oldProvider === newProvider) {
    // already switched (maybe by an interrupted run): finish what may be left
    if (info.worker_paused === true) await resumeWorker(admin, db, node, worker);
    for (const stale of await providersOf(admin, node, newProvider)) {
      admin.log.info(`${o.prefix ?? ''}${node} is still subscribed on ${stale}: unsubscribing`);
      await pgqNode.unregisterSubscriber(await admin.nodeDatabase(stale), admin.log, admin.queue, node);
    }
    admin.log.info(`${o.prefix ?? ''}${node} reads from ${newProvider}`);
    return;
  }

  if (admin.isTreatedDead(newProvider) || (await admin.member(newProvider)).dead) throw new SwitchRefused(`change-provider: ${newProvider} is tagged dead; tag-alive it first or choose another provider`);
  const provDb = await admin.nodeDatabase(newProvider);
  const provInfo = await pgqNode.getNodeInfo(provDb, admin.queue);
  if (provInfo?.node_type !== 'root' && provInfo?.node_type !== 'branch') {
    throw new SwitchRefused(`change-provider: ${newProvider} cannot be a provider: it is ${provInfo?.node_type ?? 'not a node of this queue'} (only a root or a branch keeps the events for subscribers)`);
  }
  if (await dependsOn(admin, newProvider, node)) throw new SwitchRefused(`change-provider: ${newProvider} reads (directly or further down) from ${node}: that would make a loop`);

  steps.step(`pausing the worker of ${node}`);
  await pauseOrFail(admin, db, node, worker, o.waitMs);
  const tick = (await pgqNode.getConsumerState(db, admin.log, admin.queue, worker))?.completed_tick ?? null;
  if (tick === null) throw new SkytoolsError(`${node} has no position in the queue yet (has its worker ever run?)`);

  steps.step(`checking that ${newProvider} has tick ${tick}, where ${node} stands`);
  // a root promoted by a failover numbers its ticks on from where it was promoted: a node beyond that
  // stands on a tick id of the dead root that means other events here
  for (const [grave, at] of await pgqNode.gravestones(provDb, admin.queue)) {
    if (BigInt(tick) > BigInt(at)) {
      await resumeWorker(admin, db, node, worker);
      throw new SwitchRefused(`change-provider: ${node} stands on tick ${tick}, beyond tick ${at} where ${newProvider} took over from a failed root (${grave}): it applied events ${newProvider} never had; re-create ${node} under ${newProvider}, or resync its tables after dropping it; nothing was changed`);
    }
  }
  // a branch's tick ids are its root's: one that is behind gets there; a root's new ticks would not be the same ticks
  if (o.catchUpMs !== undefined && provInfo.node_type === 'branch' && !(await pgq.tickExists(provDb, admin.queue, tick))) {
    const until = Date.now() + o.catchUpMs;
    for (;;) {
      const last = await pgq.lastTickId(provDb, admin.queue);
      if (last !== null && BigInt(last) >= BigInt(tick)) break;
      if (Date.now() >= until) break;
      admin.log.info(`${o.prefix ?? ''}waiting for ${newProvider} to reach tick ${tick} (at ${last ?? 'none'})`);
      await sleep(1000);
    }
  }
  if (!(await pgq.tickExists(provDb, admin.queue, tick))) {
    await resumeWorker(admin, db, node, worker);
    const last = await pgq.lastTickId(provDb, admin.queue);
    if (last === null || BigInt(last) < BigInt(tick)) {
      throw new SwitchRefused(`change-provider: ${newProvider} is behind ${node} (its last tick ${last ?? 'none'}, ${node} at ${tick}${o.catchUpMs === undefined ? '' : ` after waiting ${String(o.catchUpMs / 1000)}s`}): is its worker running? retry once it has caught up (wait-root on ${newProvider}); nothing was changed`);
    }
    throw new SwitchRefused(`change-provider: ${newProvider} no longer has tick ${tick} where ${node} stands (cleaned up); ${node} must be re-created under ${newProvider}; nothing was changed`);
  }

  steps.step(`subscribing ${node} on ${newProvider} at tick ${tick}`);
  const location = (await admin.member(node)).location;
  await pgqNode.registerLocation(provDb, quietLogger(admin.log), admin.queue, node, location, false);
  await subscribeAt(admin, provDb, node, worker, tick);

  steps.step(`switching ${node} to ${newProvider}`);
  await pgqNode.changeConsumerProvider(db, admin.log, admin.queue, worker, newProvider);

  steps.step(`resuming the worker of ${node}`);
  await resumeWorker(admin, db, node, worker);

  steps.step(oldProvider === null ? 'no old provider to unsubscribe from' : `unsubscribing ${node} from ${oldProvider}`);
  if (oldProvider !== null && !admin.isTreatedDead(oldProvider) && !(await admin.member(oldProvider)).dead) {
    try {
      await pgqNode.unregisterSubscriber(await admin.nodeDatabase(oldProvider), admin.log, admin.queue, node);
    } catch (err) {
      admin.log.warning(`failed to unregister ${node} from old provider ${oldProvider}: ${describeError(err)}; run change-provider again to finish`);
    }
  }
  admin.log.info(`${o.prefix ?? ''}${node} reads from ${newProvider} (was ${oldProvider ?? 'none'}), from tick ${tick}`);
}

/** Does `node` read from `ancestor`, directly or through its providers? */
export async function dependsOn(admin: NodeAdmin, node: string, ancestor: string): Promise<boolean> {
  let cur = node;
  for (let hops = 0; hops < 50; hops++) {
    if (cur === ancestor) return true;
    if (admin.isTreatedDead(cur) || (await admin.member(cur)).dead) return false;
    const info = await pgqNode.getNodeInfo(await admin.nodeDatabase(cur), admin.queue);
    if (info?.node_type === 'root' || info?.provider_node === null || info?.provider_node === undefined) return false;
    cur = info.provider_node;
  }
  return false;
}

/**
 * Subscribe `node` on a provider at `tick`. A registration left by an interrupted run is replaced:
 * the caller has the node's worker stopped at `tick`, so nothing between is lost.
 */
export async function subscribeAt(admin: NodeAdmin, provDb: pg.ClientBase, node: string, worker: string, tick: string): Promise<void> {
  if ((await pgqNode.subscriberNames(provDb, admin.queue)).includes(node)) {
    await pgqNode.unregisterSubscriber(provDb, quietLogger(admin.log), admin.queue, node);
  }
  await pgqNode.registerSubscriber(provDb, admin.log, admin.queue, node, worker, tick);
}
