/**
 * resurrect: an old root that was failed over (takeover --dead-root) comes back as a branch of the
 * node that kept its gravestone, at the tick where the survivors lost it. What it captured after
 * that tick never reached any survivor: those events are listed (per table and operation) and
 * written to a dump file, never replayed or dropped silently; its worker stays paused until the
 * operator has dealt with them.
 */
import { existsSync, writeFileSync, appendFileSync } from 'node:fs';
import type pg from 'pg';
import { describeError, pgq, pgqNode, quietLogger, session, SkytoolsError, UsageError } from '@skytools/core';
import type { NodeAdmin } from '../node-admin.js';
import { gravestoneName } from './takeover.js';
import { StepLog } from './step-log.js';

export interface ResurrectOptions {
  /** Where the lost events go (JSON lines); refused when it exists. */
  dumpFile: string;
}

interface LostSummary {
  events: number;
  firstId: string | null;
  lastId: string | null;
  /** table → operation → count */
  byTable: Map<string, Map<string, number>>;
}

/** Read every event of the local queue after `fromTick` through a temporary consumer; dump and count them. */
async function dumpLostEvents(db: pg.ClientBase, queue: string, node: string, fromTick: string, file: string): Promise<LostSummary> {
  const consumer = `${node}.dumper`;
  const sum: LostSummary = { events: 0, firstId: null, lastId: null, byTable: new Map() };
  writeFileSync(file, '');
  await pgq.registerConsumerAt(db, queue, consumer, fromTick);
  try {
    for (;;) {
      const batch = await pgq.nextBatch(db, queue, consumer);
      if (batch === null) break;
      for await (const events of pgq.readBatchEvents(db, batch.batchId, 1000)) {
        const lines: string[] = [];
        for (const ev of events) {
          sum.events += 1;
          if (sum.firstId === null || BigInt(ev.ev_id) < BigInt(sum.firstId)) sum.firstId = ev.ev_id;
          if (sum.lastId === null || BigInt(ev.ev_id) > BigInt(sum.lastId)) sum.lastId = ev.ev_id;
          const table = ev.ev_extra1 ?? '(none)';
          const op = (ev.ev_type ?? '?').split(':')[0] ?? '?';
          const ops = sum.byTable.get(table) ?? new Map<string, number>();
          ops.set(op, (ops.get(op) ?? 0) + 1);
          sum.byTable.set(table, ops);
          lines.push(JSON.stringify({ batch_tick: batch.curTickId, ...ev }));
        }
        if (lines.length > 0) appendFileSync(file, lines.join('\n') + '\n');
      }
      await pgq.finishBatch(db, batch.batchId);
    }
  } finally {
    await pgq.unregisterConsumer(db, queue, consumer);
  }
  return sum;
}

function describeLost(sum: LostSummary): string {
  const tables = [...sum.byTable].map(([t, ops]) => `${t}: ${[...ops].map(([op, n]) => `${String(n)} ${op}`).join(', ')}`);
  return `${String(sum.events)} events (ids ${sum.firstId ?? '-'}..${sum.lastId ?? '-'}; ${tables.join('; ')})`;
}

async function tagAlive(admin: NodeAdmin, me: string): Promise<void> {
  for (const m of await admin.members()) {
    try {
      await pgqNode.registerLocation(await admin.nodeDatabase(m.name), quietLogger(admin.log), admin.queue, me, null, false);
    } catch (err) {
      admin.log.warning(`cannot tag ${me} alive on ${m.name}: ${describeError(err)}`);
    }
  }
}

export async function resurrect(admin: NodeAdmin, o: ResurrectOptions): Promise<void> {
  const info = await admin.localNodeInfo();
  const me = info.node_name ?? '';
  const worker = info.worker_name ?? '';
  if (info.node_type === 'leaf') throw new UsageError(`resurrect: ${me} is a leaf; a leaf has no queue of its own: re-subscribe it with change-provider`);
  const grave = gravestoneName(me);

  const steps = new StepLog(admin.log, 7);
  steps.step(`looking for ${grave} on the other nodes`);
  let holder: string | undefined;
  let failTick: string | undefined;
  let already: string | undefined;
  for (const m of await admin.members()) {
    if (m.name === me) continue;
    try {
      const ndb = await admin.nodeDatabase(m.name);
      const t = await pgqNode.consumerLastTick(ndb, admin.queue, grave);
      if (t !== undefined && t !== null) {
        if (holder !== undefined) throw new SkytoolsError(`resurrect: two gravestones of ${me}, on ${holder} and ${m.name}; drop one (pgq_node.unregister_subscriber) and retry`);
        holder = m.name;
        failTick = t;
      } else if ((await pgqNode.subscriberNames(ndb, admin.queue)).includes(me)) {
        already = m.name;
      }
    } catch (err) {
      if (err instanceof SkytoolsError && err.message.startsWith('resurrect:')) throw err;
      admin.log.warning(`cannot look on ${m.name}: ${describeError(err)}`);
      await admin.closeDatabase(`node_${m.name}`);
    }
  }
  if (holder === undefined || failTick === undefined) {
    if (already !== undefined && info.node_type !== 'root') {
      // an earlier run may have stopped before its last step
      await tagAlive(admin, me);
      admin.log.info(`${me} is a subscriber of ${already} already: nothing to resurrect (resurrect brings back an old root a failover left behind)`);
      return;
    }
    throw new UsageError(`resurrect: no node keeps a gravestone of ${me} (${grave}): it was not failed over with takeover --dead-root, or its gravestone was dropped; nothing was changed`);
  }
  if (o.dumpFile !== '' && existsSync(o.dumpFile)) throw new UsageError(`resurrect: dump file ${o.dumpFile} exists; move it away or give another --dump-file; nothing was changed`);
  const db = await admin.db();

  steps.step(info.node_type === 'root' ? `demoting ${me} to a branch of ${holder} (its writes are refused from now on), worker paused` : `pausing the worker of ${me}`);
  if (info.node_type === 'root') {
    await pgqNode.demoteRoot(db, quietLogger(admin.log), admin.queue, 1, holder);
    await pgqNode.demoteRoot(db, quietLogger(admin.log), admin.queue, 2, holder);
  }
  // a branch and paused in one go: its worker must not start reading from the holder at the old
  // root's last tick. Not waited for: it may be stuck on a dead provider; its next round sees the flag
  await session.withTransaction(db, async () => {
    if (info.node_type === 'root') await pgqNode.demoteRoot(db, quietLogger(admin.log), admin.queue, 3, holder);
    await pgqNode.setConsumerPaused(db, quietLogger(admin.log), admin.queue, worker, true);
  });

  steps.step(`dumping the events ${me} captured after tick ${failTick} to ${o.dumpFile}, then removing them and its ticks after ${failTick} from its queue`);
  const lost = await dumpLostEvents(db, admin.queue, me, failTick, o.dumpFile);
  // its queue continues with the new provider's ticks, whose ids follow the failover tick
  const lastOwn = await pgq.lastTickId(db, admin.queue);
  if (lastOwn !== null && BigInt(lastOwn) > BigInt(failTick)) {
    const dropped = await pgq.dropEventsAfterTick(db, admin.queue, failTick, lastOwn);
    admin.log.info(`removed ${String(dropped.events)} dumped events and ${String(dropped.ticks)} ticks after tick ${failTick} from ${me}'s queue`);
  }

  steps.step(`dropping ${me}'s old subscribers and consumers (they moved on)`);
  for (const s of await pgqNode.subscriberNames(db, admin.queue)) await pgqNode.unregisterSubscriber(db, quietLogger(admin.log), admin.queue, s);
  for (const c of await pgq.consumerNames(db, admin.queue)) if (!c.startsWith('.')) await pgq.unregisterConsumer(db, admin.queue, c);

  steps.step(`subscribing ${me} to ${holder} at tick ${failTick}, in place of its gravestone`);
  await pgqNode.setConsumerCompleted(db, quietLogger(admin.log), admin.queue, worker, failTick);
  const hdb = await admin.nodeDatabase(holder);
  // in one transaction: interrupted in between, the gravestone would be gone and the node not subscribed
  const wm = await session.withTransaction(hdb, async () => {
    await pgqNode.unregisterSubscriber(hdb, quietLogger(admin.log), admin.queue, me);
    return pgqNode.registerSubscriber(hdb, admin.log, admin.queue, me, worker, failTick);
  });
  if (wm !== null) await pgqNode.setGlobalWatermark(db, quietLogger(admin.log), admin.queue, wm);

  steps.step(`tagging ${me} alive on every reachable node`);
  await tagAlive(admin, me);

  steps.step('done');
  const lostText = lost.events === 0 ? `it captured nothing after tick ${failTick}` : `${describeLost(lost)} it captured after tick ${failTick} never reached ${holder}: those changes exist only on ${me} (dumped to ${o.dumpFile}); compare and repair or resync its tables`;
  admin.log.info(`resurrect done: ${me} is a branch of ${holder} from tick ${failTick}, its worker is paused; ${lostText}; then: londiste ${admin.job.file} resume`);
}
