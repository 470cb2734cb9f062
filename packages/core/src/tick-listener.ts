/**
 * Waking a consumer when its queue gets a new tick: pgq.ticker() notifies `pgq_tick` with the
 * queue's name. Replaces upstream's fixed loop_delay sleep, which is what made its lag ~1 s; the
 * consumer still sleeps with a timeout, for housekeeping and for providers that do not notify.
 */
import type pg from 'pg';
import { listen } from './sql/session.js';

export const TICK_CHANNEL = 'pgq_tick';

export class TickListener {
  /** A tick notification has arrived at least once: the provider announces its ticks. */
  heard = false;

  private constructor(
    private readonly queue: string,
    private readonly onTick: () => void,
  ) {}

  /** LISTEN on `client` (kept for as long as the connection lives) and call onTick for each tick of `queue`. */
  static async start(client: pg.Client, queue: string, onTick: () => void): Promise<TickListener> {
    const l = new TickListener(queue, onTick);
    client.on('notification', (msg: pg.Notification) => {
      if (msg.channel === TICK_CHANNEL && (msg.payload === undefined || msg.payload === l.queue)) {
        l.heard = true;
        l.onTick();
      }
    });
    await listen(client, TICK_CHANNEL);
    return l;
  }
}
