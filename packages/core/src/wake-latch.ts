/**
 * A wake-up flag an idle loop sleeps on: wake() ends the current wait, or, when nobody waits, the
 * next one at once (a wake-up that arrives while the loop is busy is not lost).
 */
export class WakeLatch {
  private pending = false;
  private waiter: (() => void) | undefined;

  wake(): void {
    if (this.waiter !== undefined) this.waiter();
    else this.pending = true;
  }

  /** 'woken' on wake(), 'timeout' after timeoutMs, 'aborted' when the signal fires first. */
  wait(timeoutMs: number, signal?: AbortSignal): Promise<'woken' | 'timeout' | 'aborted'> {
    if (this.pending) {
      this.pending = false;
      return Promise.resolve('woken');
    }
    if (signal?.aborted === true) return Promise.resolve('aborted');
    return new Promise((resolve) => {
      const done = (why: 'woken' | 'timeout' | 'aborted'): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.waiter = undefined;
        resolve(why);
      };
      const onAbort = (): void => done('aborted');
      const timer = setTimeout(() => done('timeout'), timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiter = () => done('woken');
    });
  }
}
