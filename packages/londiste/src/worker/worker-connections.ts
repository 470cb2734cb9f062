/**
 * The connections of one replication worker: the local node ('db'), which also hears add-table
 * and resync on this node (NOTIFY londiste_tables), and the provider ('provider_db'). Ticks the
 * provider announces (NOTIFY pgq_tick) wake the worker's latch: heard on the provider connection
 * itself, or, under londisted, through the process's TickHub (one listener per provider
 * database), which lets an idle worker give its provider connection back. After an error
 * everything is dropped, so the next round starts on fresh connections.
 */
import type pg from 'pg';
import { connect, disconnect, guardStalls, listenForTicks, londisteSql, pgq, session, type Logger, type TickHub, type TickSubscription, type WakeLatch } from '@skytools/core';

export class WorkerConnections {
  private db: pg.Client | undefined;
  private provider: pg.Client | undefined;
  private providerLocation: string | null = null;
  /** The provider's PgQ announces ticks (ours does, upstream's does not). */
  private announces = false;
  private ticks: TickSubscription | undefined;
  private ticksLocation: string | null = null;

  constructor(
    private readonly localConnstr: string,
    private readonly queue: string,
    private readonly applicationName: string,
    private readonly log: Logger,
    private readonly latch: WakeLatch,
    /** A provider query waiting this long with nothing received is cut (provider_timeout). */
    private readonly providerTimeoutMs: number,
    /** londisted's shared tick listeners; absent: the provider connection listens itself. */
    private readonly hub?: TickHub,
  ) {}

  /** Will a tick of the provider wake the worker (so an idle worker may sleep longer)? */
  get providerNotifies(): boolean {
    if (!this.announces) return false;
    return this.hub === undefined ? this.provider !== undefined : this.ticks?.listening === true;
  }

  /** Can the provider connection be closed while idle without missing ticks? */
  get canReleaseProvider(): boolean {
    return this.hub !== undefined && this.provider !== undefined && this.providerNotifies;
  }

  async local(): Promise<pg.Client> {
    if (this.db !== undefined) return this.db;
    const db = await connect(this.localConnstr, { name: 'db', logger: this.log, applicationName: this.applicationName });
    // add-table and resync on this node announce themselves: copies start at once
    db.on('notification', (msg) => {
      if (msg.channel === londisteSql.TABLES_CHANNEL && msg.payload === this.queue) this.latch.wake();
    });
    await session.listen(db, londisteSql.TABLES_CHANNEL);
    // a batch is finished on the provider only after it committed here: that commit must be on
    // disk by then, whatever the server's synchronous_commit, or a crash here loses events for good
    await session.setSynchronousCommit(db);
    this.db = db;
    return db;
  }

  /** The provider at `location` (a new connection when the location changed or it was released). */
  async providerAt(location: string): Promise<pg.Client> {
    if (this.provider !== undefined && this.providerLocation === location) return this.provider;
    await this.closeProvider();
    const provider = await connect(location, { name: 'provider_db', logger: this.log, applicationName: this.applicationName, connectTimeoutMs: this.providerTimeoutMs });
    guardStalls(provider, this.providerTimeoutMs, (ms) =>
      this.log.warning(`provider_db: no answer for ${(ms / 1000).toFixed(0)} s (provider_timeout): connection cut, the round is retried on a new one`),
    );
    this.provider = provider;
    this.providerLocation = location;
    this.announces = await pgq.announcesTicks(provider);
    if (this.hub === undefined) {
      await listenForTicks(provider, this.queue, () => this.latch.wake());
    } else if (this.ticksLocation !== location) {
      this.ticks?.close();
      this.ticks = this.hub.subscribe(location, this.queue, () => this.latch.wake());
      this.ticksLocation = location;
    }
    return provider;
  }

  /** The provider connection was given back while the hub listens for its ticks. */
  get providerReleased(): boolean {
    return this.provider === undefined && this.hub !== undefined && this.ticks?.listening === true;
  }

  /** Close the provider connection while idle; the hub still wakes the worker on a tick. */
  async releaseProvider(): Promise<void> {
    if (this.canReleaseProvider) await this.closeProvider();
  }

  private async closeProvider(): Promise<void> {
    const p = this.provider;
    this.provider = undefined;
    this.providerLocation = null;
    await disconnect(p);
  }

  async closeAll(): Promise<void> {
    await this.closeProvider();
    this.ticks?.close();
    this.ticks = undefined;
    this.ticksLocation = null;
    const d = this.db;
    this.db = undefined;
    await disconnect(d);
  }
}
