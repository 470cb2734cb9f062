/**
 * The pgqd daemon: finds the databases to serve (database_list, or every connectable
 * non-template database that has pgq), runs a DatabaseWorker for each, lets dropped ones go,
 * and logs a stats line every stats_period. reload() swaps the configuration; new periods apply
 * at each loop's next sleep.
 */
import { catalog, connect, ConnectionError, describeError, maskConnstr, maskSecrets, sleep, WakeLatch, type Logger } from '@skytools/core';
import { DatabaseWorker, databaseConnstr, hasPgq, type Counters } from './database-worker.js';
import type { PgqdConfig } from './pgqd-config.js';
import type { DatabaseStats, PgqdReach } from './pgqd-metrics.js';

export class PgqdDaemon {
  private readonly workers = new Map<string, DatabaseWorker>();
  /** Databases seen without pgq: checked again at each discovery. */
  private readonly ignored = new Set<string>();
  private readonly counters: Counters = { ticks: 0, maint: 0, retry: 0 };
  private readonly abort = new AbortController();
  private loops: Promise<void>[] = [];
  private readonly discoveryLatch = new WakeLatch();
  private discoveryError: string | null = null;
  /** Databases the last discovery round could not check for pgq, with why. */
  private readonly unreachable = new Map<string, string>();

  constructor(
    private config: PgqdConfig,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.log.info(`Starting pgqd: ${this.config.database_list !== undefined ? `databases ${this.config.database_list.join(', ')}` : `discovery through ${this.config.initial_database}`}, ticker_period ${this.config.ticker_period}ms`);
    this.loops = [this.discoveryLoop(), this.statsLoop()];
  }

  reload(config: PgqdConfig): void {
    const discoveryChanged =
      config.base_connstr !== this.config.base_connstr ||
      config.initial_database !== this.config.initial_database ||
      JSON.stringify(config.database_list) !== JSON.stringify(this.config.database_list);
    this.config = config;
    this.log.info('configuration reloaded');
    for (const w of this.workers.values()) w.wake();
    if (discoveryChanged) this.discoveryLatch.wake();
  }

  /** Each served database's totals, by name. */
  databaseStats(): Map<string, DatabaseStats> {
    return new Map([...this.workers].map(([name, w]) => [name, w.stats]));
  }

  /** What the last discovery round could not reach (for the metrics and status page). */
  reach(): PgqdReach {
    return { discoveryError: this.discoveryError, unreachable: new Map(this.unreachable) };
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await Promise.all(this.loops);
    await Promise.all([...this.workers.values()].map((w) => w.stop()));
    this.workers.clear();
    this.logStats();
  }

  private async listDatabases(): Promise<string[]> {
    if (this.config.database_list !== undefined) return this.config.database_list;
    const connstr = databaseConnstr(this.config.base_connstr, this.config.initial_database);
    const c = await connect(connstr, { name: 'discovery', logger: this.log, applicationName: 'pgqd' });
    try {
      return await catalog.listDatabases(c);
    } finally {
      await c.end().catch(() => undefined);
    }
  }

  /** One discovery round: serve new databases with pgq, let dropped ones go. */
  async discover(): Promise<void> {
    let names: string[];
    try {
      names = await this.listDatabases();
    } catch (err) {
      this.discoveryError = servedReason(err);
      this.log.error(`cannot list databases through ${maskConnstr(databaseConnstr(this.config.base_connstr, this.config.initial_database))}: ${describeError(err)}`);
      return;
    }
    this.discoveryError = null;
    const wanted = new Set(names);
    for (const name of this.unreachable.keys()) if (!wanted.has(name)) this.unreachable.delete(name);
    for (const [name, w] of this.workers) {
      if (!wanted.has(name)) {
        this.workers.delete(name);
        this.log.info(`${name}: database gone, letting it go`);
        await w.stop();
      }
    }
    for (const name of names) {
      if (this.workers.has(name)) continue;
      const connstr = databaseConnstr(this.config.base_connstr, name);
      let version: string | null;
      try {
        version = await hasPgq(connstr, this.log);
      } catch (err) {
        this.unreachable.set(name, servedReason(err));
        this.log.warning(`${name}: cannot check for pgq: ${describeError(err)}`);
        continue;
      }
      this.unreachable.delete(name);
      if (version === null) {
        if (!this.ignored.has(name)) this.log.debug(`${name}: no pgq schema, ignoring`);
        this.ignored.add(name);
        continue;
      }
      this.ignored.delete(name);
      const w = new DatabaseWorker(name, connstr, () => this.config, this.counters, this.log);
      this.workers.set(name, w);
      w.start();
      this.log.info(`${name}: serving (pgq ${version})`);
    }
  }

  private async discoveryLoop(): Promise<void> {
    const signal = this.abort.signal;
    while (!signal.aborted) {
      await this.discover();
      await this.discoveryLatch.wait(this.config.check_period, signal);
    }
  }

  private logStats(): void {
    this.log.info(`{ticks: ${this.counters.ticks}, maint: ${this.counters.maint}, retry: ${this.counters.retry}}`);
    this.counters.ticks = 0;
    this.counters.maint = 0;
    this.counters.retry = 0;
  }

  private async statsLoop(): Promise<void> {
    const signal = this.abort.signal;
    for (;;) {
      await sleep(this.config.stats_period, signal);
      if (signal.aborted) return;
      this.logStats();
    }
  }
}

/**
 * Why a database could not be reached, as the metrics page may show it: the server's own reason,
 * without the connection string a ConnectionError names (the page shows none).
 */
function servedReason(err: unknown): string {
  if (err instanceof ConnectionError && err.cause instanceof Error) return maskSecrets(err.cause.message);
  // the server's own errors (with a SQLSTATE) name no connection settings; other errors (a
  // connection string that does not parse) may quote them
  if (err instanceof Error && typeof (err as { code?: unknown }).code === 'string') return maskSecrets(err.message);
  return 'invalid connection settings (see the log)';
}
