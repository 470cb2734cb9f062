/** `londiste JOB.yaml worker`: one job's worker in the foreground, with its pidfile. */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { UsageError, type Logger } from '@skytools/core';
import type { JobConfig } from '../job-config.js';
import { ReplicationWorker } from './replication-worker.js';

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export async function runWorkerForeground(job: JobConfig, log: Logger, signal: AbortSignal): Promise<void> {
  const pidfile = job.pidfile;
  if (pidfile !== undefined) {
    if (existsSync(pidfile)) {
      const pid = Number(readFileSync(pidfile, 'utf8').trim());
      if (Number.isInteger(pid) && pid > 0 && pidAlive(pid)) {
        throw new UsageError(`job ${job.job_name} is already running (pid ${pid}, pidfile ${pidfile})`);
      }
    }
    writeFileSync(pidfile, `${process.pid}\n`);
  }
  try {
    await new ReplicationWorker(job, log).run(signal);
  } finally {
    if (pidfile !== undefined) rmSync(pidfile, { force: true });
  }
}
