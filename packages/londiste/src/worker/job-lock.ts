/**
 * One running copy of a job at a time: a session advisory lock on the job's node database,
 * held on a dedicated connection for as long as the job runs (it is released when the process
 * dies, however it dies).
 */
import type pg from 'pg';
import { createHash } from 'node:crypto';
import { connect, session, SkytoolsError, type Logger } from '@skytools/core';

/** Two int4 keys derived from queue and job name (class 0x4c44 = "LD" keeps clear of other users). */
export function jobLockKeys(queue: string, job: string): [number, number] {
  const h = createHash('sha256').update(`${queue}\u0000${job}`).digest();
  return [0x4c44, h.readInt32BE(0)];
}

/**
 * The keys of a job's freeze lock: the worker holds it shared in each batch's transaction and
 * applies nothing while a session holds it exclusively (compare and repair reading a table). Held
 * by a session, it goes away with the session, so a killed compare leaves no worker stopped.
 */
export function freezeLockKeys(queue: string, job: string): [number, number] {
  const [, b] = jobLockKeys(queue, job);
  return [0x4c46, b];
}

export class JobAlreadyRunningError extends SkytoolsError {}

export class JobLock {
  private constructor(private readonly client: pg.Client) {}

  static async acquire(connstr: string, queue: string, job: string, log: Logger): Promise<JobLock> {
    const client = await connect(connstr, { name: 'lock_db', logger: log, applicationName: `londiste ${job} lock` });
    try {
      const [a, b] = jobLockKeys(queue, job);
      if (!(await session.tryAdvisoryLock(client, a, b))) {
        throw new JobAlreadyRunningError(`job ${job} is already running against this database (advisory lock held by another process); stop the other one first`);
      }
      return new JobLock(client);
    } catch (err) {
      await client.end().catch(() => undefined);
      throw err;
    }
  }

  async release(): Promise<void> {
    await this.client.end().catch(() => undefined);
  }
}
