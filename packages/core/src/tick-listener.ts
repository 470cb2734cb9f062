/**
 * Waking a consumer when its queue gets a new tick: pgq.ticker() notifies `pgq_tick` with the
 * queue's name (ticks that may carry events; see the function). Replaces upstream's fixed
 * loop_delay sleep, which is what made its lag ~1 s; the consumer still sleeps with a timeout,
 * for housekeeping, quiet ticks, and providers that do not notify.
 */
import type pg from 'pg';
import { listen } from './sql/session.js';

export const TICK_CHANNEL = 'pgq_tick';

/** LISTEN on `client` (for as long as the connection lives) and call onTick for each tick of `queue`. */
export async function listenForTicks(client: pg.Client, queue: string, onTick: () => void): Promise<void> {
  client.on('notification', (msg: pg.Notification) => {
    if (msg.channel === TICK_CHANNEL && (msg.payload === undefined || msg.payload === queue)) onTick();
  });
  await listen(client, TICK_CHANNEL);
}
