/**
 * Waiting that shutdown can cut short: every loop of the daemons sleeps through here, so a
 * SIGTERM never waits for a timer to run out. Backoff is the one doubling-delay policy used after
 * errors (worker, job restarts, pgqd loops).
 */

/** setTimeout as a promise that any of the given AbortSignals ends early. */
export function sleep(ms: number, ...signals: AbortSignal[]): Promise<void> {
  if (signals.some((s) => s.aborted)) return Promise.resolve();
  return new Promise((resolve) => {
    // plain listeners removed on completion: AbortSignal.any() would keep a derived signal per
    // call alive on long-lived sources, which adds up with a hundred databases ticking each second
    const done = (): void => {
      clearTimeout(t);
      for (const s of signals) s.removeEventListener('abort', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    for (const s of signals) s.addEventListener('abort', done, { once: true });
  });
}

/** A delay that doubles after each failure, from `initialMs` up to `maxMs`, and resets on success. */
export class Backoff {
  private next: number;

  constructor(
    private readonly initialMs: number,
    private readonly maxMs: number,
  ) {
    this.next = initialMs;
  }

  /** The delay to wait now; the one after it is twice as long (capped). */
  take(): number {
    const d = Math.min(this.next, this.maxMs);
    this.next = Math.min(this.next * 2, this.maxMs);
    return d;
  }

  reset(): void {
    this.next = this.initialMs;
  }

  /** Sleep for the next delay, or until a signal aborts. */
  wait(...signals: AbortSignal[]): Promise<void> {
    return sleep(this.take(), ...signals);
  }
}
