/**
 * Pausing a node's worker and knowing it has stopped: the worker marks itself up to date at the
 * start of each round, after the batch in flight committed, so a paused flag plus `uptodate` means
 * nothing is being applied. A worker that is not running at all (no process holds its job lock)
 * applies nothing either, and is not waited for.
 */
import type pg from 'pg';
import { londisteSql, pgqNode, session, sleep, type Logger } from '@skytools/core';
import { jobLockKeys } from '../worker/job-lock.js';

export type PauseOutcome = 'confirmed' | 'not running' | 'timeout';

export async function workerRunning(db: pg.ClientBase, queue: string, consumer: string): Promise<boolean> {
  const [a, b] = jobLockKeys(queue, consumer);
  return session.advisoryLockHeld(db, a, b);
}

/** Set the pause flag of `consumer` on its node and wait up to `timeoutMs` for its worker to act on it. */
export async function setPausedAndWait(
  db: pg.ClientBase,
  log: Logger,
  queue: string,
  node: string,
  consumer: string,
  paused: boolean,
  timeoutMs: number,
): Promise<PauseOutcome> {
  await pgqNode.setConsumerPaused(db, log, queue, consumer, paused);
  await londisteSql.wakeWorkers(db, queue);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const st = await pgqNode.getConsumerState(db, log, queue, consumer);
    if (st?.paused !== paused) throw new Error(`operation canceled: ${consumer} on ${node} is now ${st?.paused === true ? 'paused' : 'running'} (changed by someone else)`);
    if (st.uptodate) return 'confirmed';
    if (!(await workerRunning(db, queue, consumer))) return 'not running';
    if (Date.now() >= deadline) return 'timeout';
    await sleep(20);
  }
}
