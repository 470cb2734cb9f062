/**
 * The connections of one replication worker: the local node ('db'), which also hears add-table
 * and resync on this node (NOTIFY londiste_tables), and the provider ('provider_db'), which
 * announces its ticks (NOTIFY pgq_tick). Both wake the worker's latch. After an error everything
 * is dropped, so the next round starts on fresh connections.
 */
import type pg from 'pg';
import { connect, disconnect, guardStalls, londisteSql, session, TickListener, type Logger, type WakeLatch } from '@skytools/core';

export class WorkerConnections {
  private db: pg.Client | undefined;
  private provider: pg.Client | undefined;
  private providerLocation: string | null = null;
  private ticks: TickListener | undefined;

  constructor(
    private readonly localConnstr: string,
    private readonly queue: string,
    private readonly applicationName: string,
    private readonly log: Logger,
    private readonly latch: WakeLatch,
    /** A provider query waiting this long with nothing received is cut (provider_timeout). */
    private readonly providerTimeoutMs: number,
  ) {}

  /** Has the provider been heard announcing ticks (so an idle worker may sleep longer)? */
  get providerNotifies(): boolean {
    return this.ticks?.heard === true;
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

  /** The provider at `location` (a new connection when the location changed). */
  async providerAt(location: string): Promise<pg.Client> {
    if (this.provider !== undefined && this.providerLocation === location) return this.provider;
    await this.closeProvider();
    const provider = await connect(location, { name: 'provider_db', logger: this.log, applicationName: this.applicationName, connectTimeoutMs: this.providerTimeoutMs });
    guardStalls(provider, this.providerTimeoutMs, (ms) =>
      this.log.warning(`provider_db: no answer for ${(ms / 1000).toFixed(0)} s (provider_timeout): connection cut, the round is retried on a new one`),
    );
    this.provider = provider;
    this.providerLocation = location;
    this.ticks = await TickListener.start(provider, this.queue, () => this.latch.wake());
    return provider;
  }

  private async closeProvider(): Promise<void> {
    const p = this.provider;
    this.provider = undefined;
    this.providerLocation = null;
    this.ticks = undefined;
    await disconnect(p);
  }

  async closeAll(): Promise<void> {
    await this.closeProvider();
    const d = this.db;
    this.db = undefined;
    await disconnect(d);
  }
}
