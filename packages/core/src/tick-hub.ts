/**
 * One LISTEN connection per provider database for every consumer of a process (londisted): a
 * tick of a queue wakes the consumers of that queue on that database. Without it each of a
 * hundred leaf jobs on one root holds a connection there only to hear ticks; with it a job needs
 * its provider connection only while it works, and may give it back when idle.
 */
import type pg from 'pg';
import { connect, disconnect } from './db.js';
import { describeError } from './errors.js';
import { maskConnstr } from './connstr.js';
import { silentLogger, type Logger } from './logger.js';
import { Backoff } from './sleep.js';
import { listen } from './sql/session.js';
import { TICK_CHANNEL } from './tick-listener.js';

/** A consumer's interest in the ticks of one queue of one provider. */
export interface TickSubscription {
  /** The listener is connected and listening: ticks announced by the provider arrive. */
  readonly listening: boolean;
  /** Stop being woken; the listener closes with its last subscriber. */
  close(): void;
}

interface Subscriber {
  queue: string;
  onTick: () => void;
}

/** The listener of one provider database. */
class ProviderListener {
  readonly subscribers = new Set<Subscriber>();
  listening = false;
  private client: pg.Client | undefined;
  private closed = false;
  private readonly retry = new Backoff(1000, 30_000);
  private readonly stop = new AbortController();

  constructor(
    private readonly location: string,
    private readonly applicationName: string,
    private readonly log: Logger,
  ) {}

  start(): void {
    void this.keepListening();
  }

  /** Connect and LISTEN; when the connection breaks, wake everyone (they look for themselves) and connect again. */
  private async keepListening(): Promise<void> {
    while (!this.closed) {
      try {
        const client = await connect(this.location, { name: 'tick_listener', logger: this.log, applicationName: this.applicationName });
        const lost = new Promise<void>((resolve) => {
          client.on('error', () => resolve());
          client.on('end', () => resolve());
        });
        client.on('notification', (msg: pg.Notification) => {
          if (msg.channel !== TICK_CHANNEL) return;
          for (const s of this.subscribers) {
            if (msg.payload === undefined || msg.payload === s.queue) s.onTick();
          }
        });
        await listen(client, TICK_CHANNEL);
        if (this.closed) {
          await disconnect(client);
          return;
        }
        this.client = client;
        this.listening = true;
        this.retry.reset();
        await lost;
        this.listening = false;
        this.client = undefined;
        if (this.closed) return;
        this.log.warning(`tick listener on '${maskConnstr(this.location)}' lost its connection; connecting again`);
      } catch (err) {
        if (this.closed) return;
        this.log.warning(`tick listener on '${maskConnstr(this.location)}': ${describeError(err)}; trying again`);
      }
      // ticks may have been missed meanwhile: every consumer looks for itself
      for (const s of this.subscribers) s.onTick();
      await this.retry.wait(this.stop.signal);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.listening = false;
    this.stop.abort();
    const c = this.client;
    this.client = undefined;
    await disconnect(c);
  }
}

export class TickHub {
  private readonly listeners = new Map<string, ProviderListener>();

  constructor(
    private readonly log: Logger = silentLogger,
    private readonly applicationName = 'skytools tick listener',
  ) {}

  /** Call `onTick` on every tick of `queue` announced by the database at `location`. */
  subscribe(location: string, queue: string, onTick: () => void): TickSubscription {
    let l = this.listeners.get(location);
    if (l === undefined) {
      l = new ProviderListener(location, this.applicationName, this.log);
      this.listeners.set(location, l);
      l.start();
    }
    const listener = l;
    const s: Subscriber = { queue, onTick };
    listener.subscribers.add(s);
    return {
      get listening() {
        return listener.listening;
      },
      close: () => {
        listener.subscribers.delete(s);
        if (listener.subscribers.size === 0 && this.listeners.get(location) === listener) {
          this.listeners.delete(location);
          void listener.close();
        }
      },
    };
  }

  /** Connections held: one per provider database with subscribers. */
  get size(): number {
    return this.listeners.size;
  }

  async close(): Promise<void> {
    const all = [...this.listeners.values()];
    this.listeners.clear();
    await Promise.all(all.map((l) => l.close()));
  }
}
