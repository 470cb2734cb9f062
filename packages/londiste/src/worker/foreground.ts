/** `londiste JOB.yaml worker`: one job's worker in the foreground, with its pidfile. */
import { PidFile, type Logger } from '@skytools/core';
import type { JobConfig } from '../job-config.js';
import { ReplicationWorker } from './replication-worker.js';

export async function runWorkerForeground(job: JobConfig, log: Logger, signal: AbortSignal): Promise<void> {
  const pidfile = job.pidfile === undefined ? undefined : PidFile.claim(job.pidfile, `job ${job.job_name}`);
  try {
    await new ReplicationWorker(job, log).run(signal);
  } finally {
    pidfile?.release();
  }
}
