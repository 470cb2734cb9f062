/**
 * One job inside londisted: runs its worker, restarts it with back-off when it cannot start
 * (or stops unexpectedly), and stops it on request. Nothing it does can take other jobs down.
 */
import { Backoff, describeError, maskSecrets, type Logger, type TickHub } from '@skytools/core';
import type { JobConfig } from '../job-config.js';
import type { CopyLimiter } from '../worker/copy-scheduler.js';
import { ConsumerJob } from '../consumer-jobs/consumer-job.js';
import { isConsumerJob, type ConsumerJobConfig } from '../consumer-jobs/consumer-job-config.js';
import { JobAlreadyRunningError } from '../worker/job-lock.js';
import { JobStats } from '../worker/job-stats.js';
import { ReplicationWorker } from '../worker/replication-worker.js';

export class JobRunner {
  private readonly abort = new AbortController();
  private done: Promise<void> | undefined;
  /** Kept across the worker's restarts: metrics count over the job's life in this process. */
  readonly stats: JobStats;

  constructor(
    readonly job: JobConfig | ConsumerJobConfig,
    /** Content hash of the job file: a changed file means restart. */
    readonly fingerprint: string,
    private readonly log: Logger,
    private readonly limiter: CopyLimiter,
    private readonly maxDelayMs: number,
    private readonly tickHub: TickHub,
  ) {
    this.stats = new JobStats(job.job_name);
  }

  start(): void {
    this.done = this.supervise();
  }

  private async supervise(): Promise<void> {
    const backoff = new Backoff(1000, this.maxDelayMs);
    const signal = this.abort.signal;
    let first = true;
    while (!signal.aborted) {
      const started = Date.now();
      if (!first && !this.stats.standby) this.stats.restarts += 1;
      first = false;
      try {
        const job = this.job;
        if (isConsumerJob(job)) await new ConsumerJob(job, this.log, this.stats).run(signal);
        else await new ReplicationWorker(job, this.log, { copyLimiter: this.limiter, tickHub: this.tickHub, stats: this.stats }).run(signal);
        if (signal.aborted) return;
        this.log.warning('worker stopped by itself; restarting');
      } catch (err) {
        if (signal.aborted) return;
        const msg = maskSecrets(describeError(err));
        if (err instanceof JobAlreadyRunningError) {
          // a second londisted with the same job waits here as a warm standby: no failure
          if (!this.stats.standby) this.log.warning(`${msg}; waiting as a standby, trying again now and then`);
          this.stats.standby = true;
        } else {
          this.stats.failed(msg);
          this.log.error(`cannot run: ${msg}`);
        }
      }
      // a worker that ran for a while before failing starts over from the shortest delay
      if (Date.now() - started > 60_000) backoff.reset();
      await backoff.wait(signal);
    }
  }

  /** Ask the job to stop (the batch in flight commits) and wait for it, up to timeoutMs. */
  async stop(timeoutMs: number): Promise<boolean> {
    this.abort.abort();
    if (this.done === undefined) return true;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      this.done.then(() => false),
      new Promise<boolean>((r) => {
        timer = setTimeout(() => r(true), timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    return !timedOut;
  }
}
