/**
 * compare: a subscriber's tables against the root's, each at the same point of the event stream,
 * while replication goes on.
 *
 * Per table: on the root, a SHARE lock (writers of that table wait, nothing else does) and the
 * snapshot exported under it; a tick forced after it, T. Every change of the table is in ticks up to
 * T and none comes after while the lock is held; so once this node has applied T its copy is the
 * root's as of the snapshot. Its worker is paused there (the ticks it applied past T hold no change of
 * the table), the lock released, and both sides are checksummed: the root in the exported snapshot,
 * this node frozen. Writers of the table wait for this node to catch up (its lag), not for the checksums.
 */
import type pg from 'pg';
import { catalog, connect, pgq, pgqNode, session, SkytoolsError, sleep, urlDecode, type Logger } from '@skytools/core';
import type { NodeAdmin } from '../node-admin.js';
import { setPausedAndWait } from '../cascade/worker-pause.js';

export interface CompareTarget {
  /** The table's name on the root. */
  table: string;
  /** Its name on this node. */
  local: string;
  where: string | null;
}

export interface CompareResult {
  target: CompareTarget;
  root: { rows: string; sum: string };
  local: { rows: string; sum: string };
  equal: boolean;
}

export function compareTarget(table: string, destTable: string | null, attrs: string | null): CompareTarget {
  const where = urlDecode(attrs)['where'] ?? null;
  return { table, local: destTable ?? table, where: where === '' ? null : where };
}

async function waitApplied(db: pg.ClientBase, queue: string, tick: string, ms: number, log: Logger, what: string): Promise<void> {
  const until = Date.now() + ms;
  let said = Date.now();
  for (;;) {
    const t = (await pgqNode.getNodeInfo(db, queue))?.worker_last_tick ?? null;
    if (t !== null && BigInt(t) >= BigInt(tick)) return;
    if (Date.now() > until) throw new SkytoolsError(`${what}: this node did not reach tick ${tick} within ${String(ms / 1000)}s (at ${t ?? 'none'}; is its worker running?); nothing was compared`);
    if (Date.now() - said > 2000) {
      log.info(`${what}: waiting for this node to apply tick ${tick} (at ${t ?? 'none'})`);
      said = Date.now();
    }
    await sleep(20);
  }
}

export async function compareTable(admin: NodeAdmin, target: CompareTarget, waitMs: number): Promise<CompareResult> {
  const log = admin.log;
  const db = await admin.db();
  const info = await admin.localNodeInfo();
  const worker = info.worker_name ?? '';
  const rootLoc = await admin.rootLocation();
  const tickDb = await admin.rootDb();
  const columns = (await catalog.tableColumns(tickDb, target.table)).map((c) => c.name);
  if (columns.length === 0) throw new SkytoolsError(`compare: ${target.table} does not exist on the root`);
  const lock = await connect(rootLoc, { name: 'compare_lock', logger: log, applicationName: `londiste ${admin.job.job_name} compare` });
  const read = await connect(rootLoc, { name: 'compare_read', logger: log, applicationName: `londiste ${admin.job.job_name} compare` });
  let paused = false;
  try {
    await session.setLockTimeout(lock, admin.job.lock_timeout);
    await session.setComparableOutput(read);
    await session.setComparableOutput(db);
    // catch up before the lock, so that writers of the table wait for little more than one tick
    const pre = await pgq.tickNow(tickDb, admin.queue);
    if (pre !== null) await waitApplied(db, admin.queue, pre, waitMs, log, target.local);
    await session.begin(lock);
    await session.lockTableShare(lock, target.table);
    const snapshot = await session.exportSnapshot(lock);
    const tick = await pgq.tickNow(tickDb, admin.queue);
    if (tick === null) throw new SkytoolsError(`compare: the root's queue ${admin.queue} has no tick`);
    try {
      await waitApplied(db, admin.queue, tick, waitMs, log, target.local);
      const outcome = await setPausedAndWait(db, log, admin.queue, info.node_name ?? '', worker, true, waitMs);
      paused = true;
      if (outcome === 'timeout') throw new SkytoolsError(`compare: the worker of this node did not stop within ${String(waitMs / 1000)}s; nothing was compared`);
      await session.beginWithSnapshot(read, snapshot);
    } finally {
      await session.commit(lock);
    }
    log.info(`${target.local}: checksumming (root at tick ${tick}${target.where === null ? '' : `, where ${target.where}`})`);
    const root = await catalog.tableChecksum(read, target.table, columns, target.where);
    await session.commit(read);
    const local = await catalog.tableChecksum(db, target.local, columns, null);
    return { target, root, local, equal: root.rows === local.rows && root.sum === local.sum };
  } finally {
    if (paused) await setPausedAndWait(db, log, admin.queue, info.node_name ?? '', worker, false, 0);
    await lock.end().catch(() => undefined);
    await read.end().catch(() => undefined);
  }
}
