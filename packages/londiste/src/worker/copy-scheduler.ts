/**
 * Runs initial copies for a job: at most `parallel_copies` of the job at once, and through a
 * shared limiter (londisted's max_parallel_copy) across jobs. A table is never copied twice at
 * the same time; a failed copy is retried when the worker asks again.
 */
import PQueue from 'p-queue';
import { describeError, type Logger } from '@skytools/core';

export type CopyLimiter = PQueue;

export function createCopyLimiter(concurrency: number): CopyLimiter {
  return new PQueue({ concurrency: Math.max(1, concurrency) });
}

export class CopyScheduler {
  private readonly running = new Map<string, Promise<void>>();
  private readonly failedAt = new Map<string, number>();

  constructor(
    private readonly perJob: number,
    private readonly shared: CopyLimiter,
    private readonly log: Logger,
    /** Called when a copy ends (successfully or not), to wake the worker. */
    private readonly onDone: (table: string, ok: boolean) => void,
  ) {}

  get active(): number {
    return this.running.size;
  }

  isRunning(table: string): boolean {
    return this.running.has(table);
  }

  /** Start copies for the given tables, as far as the limits allow. */
  offer(tables: readonly string[], start: (table: string) => Promise<void>, retryDelayMs: number): void {
    for (const t of tables) {
      if (this.running.size >= this.perJob) return;
      if (this.running.has(t)) continue;
      const failed = this.failedAt.get(t);
      if (failed !== undefined && Date.now() - failed < retryDelayMs) continue;
      const p = this.shared
        .add(() => start(t))
        .then(
          () => {
            this.failedAt.delete(t);
            this.onDone(t, true);
          },
          (err: unknown) => {
            this.failedAt.set(t, Date.now());
            this.log.error(`copy of ${t} failed: ${describeError(err)}`);
            this.onDone(t, false);
          },
        )
        .finally(() => {
          this.running.delete(t);
        });
      this.running.set(t, p);
    }
  }

  /** Wait for running copies to end (they are aborted through their signal by the owner). */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.running.values()]);
  }
}
