/**
 * `londiste JOB worker`: one job's worker in the foreground, with its pidfile. A reload (SIGHUP,
 * `londiste JOB -r`) re-reads the job file: a broken file is logged and the worker keeps running;
 * a changed one stops the worker after its batch in flight and starts it again on the new file,
 * as londisted does with a changed file in its jobs_dir.
 */
import { describeError, PidFile, type ConfigWarn, type Logger } from '@skytools/core';
import { jobFileFingerprint, loadJobConfig, type JobConfig } from '../job-config.js';
import { ReplicationWorker } from './replication-worker.js';

/** `warn` hears the upstream keys dropped from the job file when it is read again. */
export async function runWorkerForeground(
  job: JobConfig,
  log: Logger,
  signal: AbortSignal,
  onReload?: (reload: () => void) => void,
  warn: ConfigWarn = (m) => log.warning(m),
): Promise<void> {
  const pidfile = job.pidfile === undefined ? undefined : PidFile.claim(job.pidfile, `job ${job.job_name}`);
  let current = job;
  let print = jobFileFingerprint(job.file);
  let round: AbortController | undefined;
  onReload?.(() => {
    log.info(`reload: reading ${current.file}`);
    try {
      const next = loadJobConfig(current.file, warn);
      const nextPrint = jobFileFingerprint(current.file);
      if (nextPrint === print) {
        log.info('reload: the job file is unchanged');
        return;
      }
      if (next.job_name !== current.job_name || next.pidfile !== current.pidfile) {
        log.error(`reload: job_name and pidfile cannot change under a running worker (restart it instead); keeping the running configuration`);
        return;
      }
      current = next;
      print = nextPrint;
      log.info('reload: the job file changed; restarting the worker after its batch in flight');
      round?.abort();
    } catch (err) {
      log.error(`reload failed, keeping the running configuration: ${describeError(err)}`);
    }
  });
  try {
    while (!signal.aborted) {
      round = new AbortController();
      const stop = (): void => round?.abort();
      signal.addEventListener('abort', stop, { once: true });
      try {
        await new ReplicationWorker(current, log).run(round.signal);
      } finally {
        signal.removeEventListener('abort', stop);
      }
      // the worker returns on its own only when it has nothing more to do
      if (!round.signal.aborted) break;
    }
  } finally {
    pidfile?.release();
  }
}
