/**
 * One job inside londisted: runs its worker, restarts it with back-off when it cannot start
 * (or stops unexpectedly), and stops it on request. Nothing it does can take other jobs down.
 */
import { describeError, type Logger } from '@skytools/core';
import type { JobConfig } from '../job-config.js';
import type { CopyLimiter } from '../worker/copy-scheduler.js';
import { ReplicationWorker } from '../worker/replication-worker.js';

export class JobRunner {
  private readonly abort = new AbortController();
  private done: Promise<void> | undefined;
  restarts = 0;

  constructor(
    readonly job: JobConfig,
    /** Content hash of the job file: a changed file means restart. */
    readonly fingerprint: string,
    private readonly log: Logger,
    private readonly limiter: CopyLimiter,
    private readonly maxDelayMs: number,
  ) {}

  start(): void {
    this.done = this.supervise();
  }

  private async supervise(): Promise<void> {
    let delay = 1000;
    const signal = this.abort.signal;
    while (!signal.aborted) {
      const started = Date.now();
      try {
        await new ReplicationWorker(this.job, this.log, { copyLimiter: this.limiter }).run(signal);
        if (signal.aborted) return;
        this.log.warning('worker stopped by itself; restarting');
      } catch (err) {
        if (signal.aborted) return;
        this.log.error(`cannot run: ${describeError(err)}`);
      }
      if (Date.now() - started > 60_000) delay = 1000;
      this.restarts += 1;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, delay);
        signal.addEventListener('abort', () => { clearTimeout(t); resolve(); }, { once: true });
      });
      delay = Math.min(delay * 2, this.maxDelayMs);
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
