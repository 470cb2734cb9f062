/**
 * Sleeping until a queue gets a new tick: LISTEN on the channel pgq.ticker() notifies
 * (`pgq_tick`, payload: queue name), with a timeout so an idle worker still wakes up to do
 * housekeeping. Replaces upstream's fixed loop_delay sleep, which is what made its lag ~1 s.
 */
import type pg from 'pg';

export const TICK_CHANNEL = 'pgq_tick';

export class TickWaiter {
  private pending = false;
  /** A tick notification has arrived at least once: the provider announces its ticks. */
  heard = false;
  private wake: (() => void) | undefined;
  private readonly onNotify = (msg: pg.Notification): void => {
    if (msg.channel === TICK_CHANNEL && (msg.payload === undefined || msg.payload === this.queue)) {
      this.pending = true;
      this.heard = true;
      this.wake?.();
    }
  };

  private constructor(
    private readonly client: pg.Client,
    private readonly queue: string,
  ) {}

  static async listen(client: pg.Client, queue: string): Promise<TickWaiter> {
    const w = new TickWaiter(client, queue);
    client.on('notification', w.onNotify);
    await client.query(`LISTEN ${TICK_CHANNEL}`);
    return w;
  }

  /** Resolve at the next tick notification (or at once if one arrived since last time), or after timeoutMs. */
  wait(timeoutMs: number, abort?: AbortSignal): Promise<'tick' | 'timeout' | 'aborted'> {
    if (this.pending) {
      this.pending = false;
      return Promise.resolve('tick');
    }
    if (abort?.aborted === true) return Promise.resolve('aborted');
    return new Promise((resolve) => {
      const done = (why: 'tick' | 'timeout' | 'aborted'): void => {
        clearTimeout(timer);
        abort?.removeEventListener('abort', onAbort);
        this.wake = undefined;
        if (why === 'tick') this.pending = false;
        resolve(why);
      };
      const onAbort = (): void => done('aborted');
      const timer = setTimeout(() => done('timeout'), timeoutMs);
      abort?.addEventListener('abort', onAbort);
      this.wake = () => done('tick');
    });
  }

  async close(): Promise<void> {
    this.client.removeListener('notification', this.onNotify);
    await this.client.query(`UNLISTEN ${TICK_CHANNEL}`).catch(() => undefined);
  }
}
