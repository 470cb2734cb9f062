/**
 * What every consumer shares: registration, the batch loop woken by the queue's tick
 * notification (no polling delay: pgq.ticker() notifies `pgq_tick` when a tick may carry
 * events), back-off after errors, pause and resume, and a graceful stop by AbortSignal (the
 * batch in hand finishes first). How a batch is applied is the subclass's business.
 */
import type pg from 'pg';
import { Backoff, connect, describeError, listenForTicks, maskSecrets, pgq, pgqCoop, silentLogger, SkytoolsError, UsageError, WakeLatch, type Logger, type PgqEvent } from '@skytools/core';
import { QueueEvent, type Batch } from './queue-event.js';

/** Handles one batch; a throw rolls it back and it comes again after a back-off. */
export type BatchHandler = (batch: Batch, client: pg.ClientBase) => Promise<void>;

export interface ConsumerOptions {
  /** Connection string of the queue's database. */
  db: string;
  queue: string;
  /** The consumer's name on the queue (its position is kept under this name). */
  name: string;
  handler: BatchHandler;
  logger?: Logger;
  /** Longest sleep when no tick notification comes (the provider might not notify); default 10 s. */
  idleTimeoutMs?: number;
  /** Longest wait between two tries after errors (doubling from 1 s); default 60 s. */
  errorBackoffMaxMs?: number;
  /**
   * Behind by several ticks, take as many in one batch as keep it within this many events
   * (pgq.next_batch_merged); 0: one tick per batch, as upstream PgQ. Default 0.
   */
  mergeEvents?: number;
  /**
   * Cooperative consuming (pgq_coop installed in the queue's database): this process is
   * sub-consumer SUB of consumer `name`. The consumer's batches are shared out among its
   * sub-consumers, each batch to one of them; each process needs a sub-consumer name of its own.
   */
  subconsumer?: string;
  /**
   * With `subconsumer`: a batch held by a sibling sub-consumer that has not been seen for this
   * long is taken over (it died holding it). Must be far longer than any batch takes.
   */
  deadSubconsumerMs?: number;
  /** Hears each failed round (after it was logged), e.g. for metrics. */
  onError?: (err: unknown) => void;
  /** Hears each batch once it is committed. */
  onBatch?: (batch: Batch) => void;
  /** Hears each look that found no new batch (the consumer is caught up). */
  onIdle?: () => void;
}

export interface ConsumerStats {
  batches: number;
  events: number;
  retried: number;
  failed: number;
  errors: number;
}

export abstract class BatchLoop {
  protected readonly log: Logger;
  private readonly latch = new WakeLatch();
  private paused = false;
  readonly stats: ConsumerStats = { batches: 0, events: 0, retried: 0, failed: 0, errors: 0 };

  constructor(protected readonly options: ConsumerOptions) {
    this.log = options.logger ?? silentLogger;
    const sub = options.subconsumer;
    if (sub !== undefined) {
      if (sub === '') throw new UsageError(`consumer ${options.name}: subconsumer is empty; give each cooperating process a name of its own, or leave it out`);
      if ((options.mergeEvents ?? 0) > 0) throw new UsageError(`consumer ${options.name}.${sub}: mergeEvents cannot be combined with subconsumer (pgq_coop cuts one tick per batch); leave one out`);
      const dead = options.deadSubconsumerMs;
      if (dead !== undefined && !(Number.isFinite(dead) && dead > 0)) throw new UsageError(`consumer ${options.name}.${sub}: deadSubconsumerMs must be a number of milliseconds > 0, not ${String(dead)}`);
    } else if (options.deadSubconsumerMs !== undefined) {
      throw new UsageError(`consumer ${options.name}: deadSubconsumerMs needs subconsumer (it takes over a silent sibling's batch)`);
    }
  }

  /**
   * Register on the queue (at its newest tick); false when registered already. A sub-consumer
   * registers itself (and the consumer, if new) with pgq_coop.
   */
  async register(): Promise<boolean> {
    const { queue, name, subconsumer } = this.options;
    return this.withConnection(this.options.db, 'queue', (c) => (subconsumer === undefined ? pgq.registerConsumer(c, queue, name) : pgqCoop.registerSubconsumer(c, queue, name, subconsumer)));
  }

  /**
   * Unregister: the queue forgets this consumer's position and its retry events. A sub-consumer
   * only drops itself, refused while it holds a batch (its siblings go on from the consumer's position).
   */
  async unregister(): Promise<void> {
    const { queue, name, subconsumer } = this.options;
    await this.withConnection(this.options.db, 'queue', async (c) => {
      if (subconsumer === undefined) await pgq.unregisterConsumer(c, queue, name);
      else await pgqCoop.unregisterSubconsumer(c, queue, name, subconsumer);
    });
  }

  /** No new batch until resume() (the batch in hand finishes). */
  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.latch.wake();
  }

  /** Consume until the signal is aborted; the batch in hand is finished (or rolled back) first. */
  async run(signal: AbortSignal): Promise<void> {
    const backoff = new Backoff(1000, this.options.errorBackoffMaxMs ?? 60_000);
    const idle = this.options.idleTimeoutMs ?? 10_000;
    let client: pg.Client | undefined;
    /** Where `client` is connected (a cascaded consumer's provider may move). */
    let clientDb = '';
    const abort = (): void => this.latch.wake();
    signal.addEventListener('abort', abort);
    try {
      while (!signal.aborted) {
        if (this.paused) {
          await this.latch.wait(idle, signal);
          continue;
        }
        try {
          const db = await this.queueDb();
          if (db === null) {
            // nothing to read now (e.g. a cascaded consumer on a paused node)
            await this.latch.wait(idle, signal);
            continue;
          }
          if (client !== undefined && clientDb !== db) {
            await client.end().catch(() => undefined);
            client = undefined;
          }
          if (client === undefined) {
            client = await this.open(db);
            clientDb = db;
          }
          const got = await this.round(client);
          backoff.reset();
          if (!got) await this.latch.wait(idle, signal);
        } catch (err) {
          if (signal.aborted) break;
          this.stats.errors += 1;
          const wait = backoff.take();
          this.log.error(`consumer ${this.options.name} on ${this.options.queue}: ${maskSecrets(describeError(err))} (again in ${String(wait / 1000)} s)`);
          this.options.onError?.(err);
          await client?.end().catch(() => undefined);
          client = undefined;
          await this.latch.wait(wait, signal);
        }
      }
    } finally {
      signal.removeEventListener('abort', abort);
      await client?.end().catch(() => undefined);
    }
  }

  /** One batch if there is one: true when a batch was handled. */
  private async round(client: pg.Client): Promise<boolean> {
    const info = await this.takeBatch(client);
    if (info === null) {
      this.options.onIdle?.();
      return false;
    }
    const rows: PgqEvent[] = [];
    for await (const chunk of pgq.readBatchEvents(client, info.batchId, 0, true)) rows.push(...chunk);
    const batch: Batch = { id: info.batchId, prevTickId: info.prevTickId, tickId: info.curTickId, tickTime: info.curTickTime, tickLocalTime: info.curTickLocalTime, events: rows.map((r) => new QueueEvent(r)) };
    await this.apply(client, batch);
    this.stats.batches += 1;
    this.stats.events += batch.events.length;
    this.options.onBatch?.(batch);
    // any batch: the next look finds nothing when the consumer has caught up (an empty merged
    // batch may stop short of a tick whose events exceed mergeEvents)
    return true;
  }

  /** The batch to work on: the consumer's next, or a sub-consumer's share. */
  private async takeBatch(client: pg.Client): Promise<pgqCoop.CoopBatch | null> {
    const { queue, name, subconsumer, deadSubconsumerMs } = this.options;
    if (subconsumer === undefined) return pgq.nextBatch(client, queue, name, this.options.mergeEvents ?? 0);
    return pgqCoop.nextBatch(client, queue, name, subconsumer, deadSubconsumerMs === undefined ? null : deadSubconsumerMs / 1000);
  }

  /**
   * Apply the batch and finish it on `queue` (the queue database's connection, no transaction
   * open): the events put aside for retry must be recorded before pgq.finish_batch.
   */
  protected abstract apply(queue: pg.ClientBase, batch: Batch): Promise<void>;

  /** Close the batch; one finished meanwhile by another process of this name rolls back the caller's work. */
  protected async finishBatch(queue: pg.ClientBase, batch: Batch): Promise<void> {
    const { subconsumer } = this.options;
    if (!(await (subconsumer === undefined ? pgq.finishBatch(queue, batch.id) : pgqCoop.finishBatch(queue, batch.id)))) {
      throw new SkytoolsError(`batch ${batch.id} of ${this.options.queue} was finished by another consumer named ${this.displayName}: run one process per consumer name (${this.finishRefusedOutcome})`);
    }
  }

  /** What became of the batch's work when finish_batch found it finished by another process. */
  protected get finishRefusedOutcome(): string {
    return "this batch's work is rolled back";
  }

  /** NAME, or NAME.SUB for a sub-consumer (as the queue lists it). */
  protected get displayName(): string {
    const { name, subconsumer } = this.options;
    return subconsumer === undefined ? name : `${name}.${subconsumer}`;
  }

  /** Put aside the events the handler asked to see again, or gave up on; within the caller's transaction. */
  protected async recordPutAside(queue: pg.ClientBase, batch: Batch): Promise<void> {
    for (const ev of batch.events) {
      const reason = ev.failedReason;
      if (reason !== null) {
        if (await pgq.eventFailed(queue, batch.id, ev.id, reason)) this.stats.failed += 1;
        continue;
      }
      const seconds = ev.retrySeconds;
      if (seconds === null) continue;
      if (await pgq.eventRetry(queue, batch.id, ev.id, seconds)) this.stats.retried += 1;
    }
  }

  /**
   * The queue's database for the next round (asked before each one); null: nothing to read now,
   * look again after the idle time.
   */
  protected queueDb(): Promise<string | null> {
    return Promise.resolve(this.options.db);
  }

  /** A connection of this consumer; `role` names it in errors (queue, target, provider). */
  protected connectTo(location: string, role: string): Promise<pg.Client> {
    return connect(location, { name: role, logger: this.log, applicationName: `pgq consumer ${this.displayName}` });
  }

  /** `work` on a connection of its own, closed afterwards. */
  protected async withConnection<T>(location: string, role: string, work: (c: pg.Client) => Promise<T>): Promise<T> {
    const c = await this.connectTo(location, role);
    try {
      return await work(c);
    } finally {
      await c.end().catch(() => undefined);
    }
  }

  private async open(db: string): Promise<pg.Client> {
    const client = await this.connectTo(db, 'queue');
    try {
      if (this.options.subconsumer !== undefined && !(await pgqCoop.installed(client))) {
        throw new UsageError(`consumer ${this.displayName}: sub-consumers need the pgq_coop schema in the queue's database (pgq install pgq_coop)`);
      }
      await listenForTicks(client, this.options.queue, () => this.latch.wake());
      return client;
    } catch (err) {
      await client.end().catch(() => undefined);
      throw err;
    }
  }
}
