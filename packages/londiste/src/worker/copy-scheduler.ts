/**
 * Launches the initial copies of a job: the tables that need one are offered each round; at most
 * `parallel_copies` of the job run at once, and through a limiter shared across jobs (londisted's
 * max_parallel_copy). A table is never copied twice at the same time; a failed copy is retried
 * after `retryDelayMs`. Copies use connections of their own (the worker's are busy with batches).
 */
import PQueue from 'p-queue';
import { connect, describeError, pgq, type Logger } from '@skytools/core';
import { copyTable } from '../replay/table-copy.js';
import { loadTableStates, needsCopy, type TableState } from '../replay/table-state.js';

export type CopyLimiter = PQueue;

export function createCopyLimiter(concurrency: number): CopyLimiter {
  return new PQueue({ concurrency: Math.max(1, concurrency) });
}

export interface CopySchedulerOptions {
  queue: string;
  localConnstr: string;
  perJob: number;
  limiter: CopyLimiter;
  retryDelayMs: number;
  log: Logger;
  /** Called when a copy ends (successfully or not), to wake the worker. */
  onDone: () => void;
}

export class CopyScheduler {
  private readonly running = new Map<string, Promise<void>>();
  private readonly failedAt = new Map<string, number>();
  private readonly abort = new AbortController();

  constructor(private readonly o: CopySchedulerOptions) {}

  /** Start copies of the tables that need one, as far as the limits allow. */
  offer(tables: ReadonlyMap<string, TableState>, providerLocation: string): void {
    for (const t of tables.values()) {
      if (!needsCopy(t)) continue;
      if (this.running.size >= this.o.perJob) return;
      if (this.running.has(t.name)) continue;
      const failed = this.failedAt.get(t.name);
      if (failed !== undefined && Date.now() - failed < this.o.retryDelayMs) continue;
      const p = this.o.limiter
        .add(() => this.copy(t.name, providerLocation))
        .then(
          () => {
            this.failedAt.delete(t.name);
          },
          (err: unknown) => {
            this.failedAt.set(t.name, Date.now());
            this.o.log.error(`copy of ${t.name} failed: ${describeError(err)}`);
          },
        )
        .finally(() => {
          this.running.delete(t.name);
          this.o.onDone();
        });
      this.running.set(t.name, p);
    }
  }

  private async copy(name: string, providerLocation: string): Promise<void> {
    if (this.abort.signal.aborted) return;
    const { queue, log } = this.o;
    const db = await connect(this.o.localConnstr, { name: 'db', logger: log });
    const provider = await connect(providerLocation, { name: 'provider_db', logger: log });
    try {
      // the state may have moved on while the copy waited for its turn
      const fresh = (await loadTableStates(db, queue)).get(name);
      if (fresh === undefined || !needsCopy(fresh)) return;
      const src = (await loadTableStates(provider, queue)).get(name);
      log.info(`${name}: starting copy${fresh.dest !== name ? ` into ${fresh.dest}` : ''}`);
      await copyTable({
        queue,
        table: fresh,
        sourceName: src?.dest ?? name,
        providerConnstr: providerLocation,
        localConnstr: this.o.localConnstr,
        log,
        signal: this.abort.signal,
        // a tick now lets the table reach 'ok' without waiting for the next scheduled one
        onCommitted: () =>
          pgq.tickNow(provider, queue).then(
            () => undefined,
            (err: unknown) => log.warning(`${name}: no tick after the copy (${describeError(err)}); the next scheduled one will do`),
          ),
      });
      log.debug(`copy of ${name} done`);
    } finally {
      await db.end().catch(() => undefined);
      await provider.end().catch(() => undefined);
    }
  }

  /** Abort running copies (their transactions roll back) and wait for them to end. */
  async stop(): Promise<void> {
    this.abort.abort();
    await Promise.allSettled([...this.running.values()]);
  }
}
