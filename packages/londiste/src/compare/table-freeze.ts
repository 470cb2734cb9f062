/**
 * One table of a subscriber and of the root, each held at the same point of the event stream while
 * replication goes on: what compare and repair read.
 *
 * On the root, a SHARE lock (writers of that table wait, nothing else does) and the snapshot
 * exported under it; a tick forced after it, T. Every change of the table is in ticks up to T and
 * none comes after while the lock is held; so once this node has applied T its copy is the root's
 * as of the snapshot. Its worker is held there by the job's freeze lock (the ticks it applied past
 * T hold no change of the table; a user's pause is left as it is), the root's lock released, and the
 * caller reads both sides: the root in the exported snapshot, this node frozen until the caller is
 * done. Writers of the table wait for this node to catch up
 * (about one tick: it catches up to the newest tick before the lock), not for the reading.
 */
import type pg from 'pg';
import { catalog, connect, pgDiagnostics, pgq, pgqNode, session, SkytoolsError, sleep, SQLSTATE, urlDecode, type ColumnInfo, type Logger } from '@skytools/core';
import type { NodeAdmin } from '../node-admin.js';
import { freezeLockKeys } from '../worker/job-lock.js';

export interface FreezeTarget {
  /** The table's name on the root. */
  table: string;
  /** Its name on this node. */
  local: string;
  where: string | null;
}

export interface FrozenTable {
  /** A session on the root inside the exported snapshot (comparable output settings). */
  root: pg.ClientBase;
  /** A session on this node (comparable output settings); the table does not change while frozen. */
  local: pg.ClientBase;
  /** The root's tick this node has applied and stays at. */
  tick: string;
  /** The table's columns on the root. */
  columns: ColumnInfo[];
}

export function freezeTarget(table: string, destTable: string | null, attrs: string | null): FreezeTarget {
  const where = urlDecode(attrs)['where'] ?? null;
  return { table, local: destTable ?? table, where: where === '' ? null : where };
}

async function waitApplied(db: pg.ClientBase, queue: string, tick: string, ms: number, log: Logger, what: string): Promise<void> {
  const until = Date.now() + ms;
  let said = Date.now();
  for (;;) {
    const t = (await pgqNode.getNodeInfo(db, queue))?.worker_last_tick ?? null;
    if (t !== null && BigInt(t) >= BigInt(tick)) return;
    if (Date.now() > until) throw new SkytoolsError(`${what}: this node did not reach tick ${tick} within ${String(ms / 1000)}s (at ${t ?? 'none'}; is its worker running?); nothing was read`);
    if (Date.now() - said > 2000) {
      log.info(`${what}: waiting for this node to apply tick ${tick} (at ${t ?? 'none'})`);
      said = Date.now();
    }
    await sleep(20);
  }
}

/**
 * Hold the job's freeze lock on this node: its worker finishes the batch in flight and applies no
 * other until the lock's session ends (the caller's process ending included).
 */
async function freezeWorker(admin: NodeAdmin, worker: string, waitMs: number, command: string, appName: string): Promise<pg.Client> {
  const client = await connect(admin.job.db, { name: `${command}_freeze`, logger: admin.log, applicationName: appName });
  try {
    await session.setLockTimeout(client, waitMs);
    const [a, b] = freezeLockKeys(admin.queue, worker);
    await session.advisoryLock(client, a, b);
    return client;
  } catch (err) {
    await client.end().catch(() => undefined);
    if (pgDiagnostics(err).code === SQLSTATE.lockNotAvailable) {
      throw new SkytoolsError(`${command}: the worker of this node did not finish its batch within ${String(waitMs / 1000)}s; nothing was read`, { cause: err });
    }
    throw err;
  }
}

/**
 * Run `fn` with the table frozen on both sides; the worker goes on and the root's snapshot is
 * released afterwards, whatever happens. `command` names the caller in messages.
 */
export async function withFrozenTable<T>(admin: NodeAdmin, target: FreezeTarget, waitMs: number, command: string, fn: (f: FrozenTable) => Promise<T>): Promise<T> {
  const log = admin.log;
  const db = await admin.db();
  const info = await admin.localNodeInfo();
  const worker = info.worker_name ?? '';
  const rootLoc = await admin.rootLocation();
  const tickDb = await admin.rootDb();
  const columns = await catalog.tableColumns(tickDb, target.table);
  if (columns.length === 0) throw new SkytoolsError(`${command}: ${target.table} does not exist on the root`);
  const appName = `londiste ${admin.job.job_name} ${command}`;
  let lock: pg.Client | undefined;
  let read: pg.Client | undefined;
  let freeze: pg.Client | undefined;
  try {
    lock = await connect(rootLoc, { name: `${command}_lock`, logger: log, applicationName: appName });
    read = await connect(rootLoc, { name: `${command}_read`, logger: log, applicationName: appName });
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
    if (tick === null) throw new SkytoolsError(`${command}: the root's queue ${admin.queue} has no tick`);
    try {
      await waitApplied(db, admin.queue, tick, waitMs, log, target.local);
      freeze = await freezeWorker(admin, worker, waitMs, command, appName);
      await session.beginWithSnapshot(read, snapshot);
    } finally {
      await session.commit(lock);
    }
    const result = await fn({ root: read, local: db, tick, columns });
    await session.commit(read);
    return result;
  } finally {
    await freeze?.end().catch(() => undefined);
    await lock?.end().catch(() => undefined);
    await read?.end().catch(() => undefined);
  }
}
