/**
 * Everything pgqd does for one database: three independent loops as upstream pgqd runs them:
 * ticker (pgq.ticker() every ticker_period, on a connection of its own so ticks never wait for
 * maintenance), retry (pgq.maint_retry_events() until 0) and maintenance (each operation of
 * pgq.maint_operations(), repeated while it returns non-zero; VACUUM ones as VACUUM statements).
 * Every statement runs in its own short transaction. A failing database backs off and retries;
 * it never delays the others.
 */
import type pg from 'pg';
import { Backoff, connect, describeError, formatConnstr, parseConnstr, pgq, sleep, type Logger } from '@skytools/core';
import type { PgqdConfig } from './pgqd-config.js';
import { DatabaseStats } from './pgqd-metrics.js';

export interface Counters {
  ticks: number;
  maint: number;
  retry: number;
}

export function databaseConnstr(base: string, dbname: string): string {
  const params = base === '' ? {} : parseConnstr(base);
  return formatConnstr({ ...params, dbname });
}

class LoopConnection {
  private client: pg.Client | undefined;
  private since = 0;

  constructor(
    private readonly connstr: string,
    private readonly name: string,
    private readonly log: Logger,
  ) {}

  async get(lifetimeMs: number): Promise<pg.Client> {
    if (this.client !== undefined && Date.now() - this.since > lifetimeMs) await this.close();
    if (this.client === undefined) {
      this.client = await connect(this.connstr, { name: this.name, logger: this.log, applicationName: 'pgqd' });
      this.since = Date.now();
    }
    return this.client;
  }

  async close(): Promise<void> {
    const c = this.client;
    this.client = undefined;
    await c?.end().catch(() => undefined);
  }
}

export class DatabaseWorker {
  private readonly abort = new AbortController();
  /** Aborted (and replaced) to cut the current sleeps short after a reload. */
  private wakeup = new AbortController();
  private loops: Promise<void>[] = [];
  private readonly conns: LoopConnection[] = [];

  constructor(
    readonly dbname: string,
    private readonly connstr: string,
    private readonly config: () => PgqdConfig,
    private readonly counters: Counters,
    private readonly log: Logger,
    readonly stats = new DatabaseStats(),
  ) {}

  start(): void {
    this.loops = [
      this.loop('ticker', () => this.config().ticker_period, (c) => this.tick(c)),
      this.loop('retry', () => this.config().retry_period, (c) => this.retry(c)),
      this.loop('maint', () => this.config().maint_period, (c) => this.maint(c)),
    ];
  }

  /** New periods take effect now rather than after the sleep in progress. */
  wake(): void {
    const old = this.wakeup;
    this.wakeup = new AbortController();
    old.abort();
  }

  /** Stop after the statements in flight; connections are closed. */
  async stop(): Promise<void> {
    this.abort.abort();
    await Promise.all(this.loops);
    await Promise.all(this.conns.map((c) => c.close()));
  }

  private async loop(what: string, period: () => number, work: (c: pg.Client) => Promise<void>): Promise<void> {
    const conn = new LoopConnection(this.connstr, `${this.dbname}/${what}`, this.log);
    this.conns.push(conn);
    const signal = this.abort.signal;
    const backoff = new Backoff(1000, 30_000);
    let retryIn = 0;
    // the first maintenance and retry runs happen one period after start, as upstream
    if (what !== 'ticker') await sleep(period(), signal, this.wakeup.signal);
    while (!signal.aborted) {
      const started = Date.now();
      try {
        await work(await conn.get(this.config().connection_lifetime));
        this.stats.failing.delete(what);
        if (retryIn > 0) this.log.info(`${this.dbname}: ${what} works again`);
        retryIn = 0;
        backoff.reset();
      } catch (err) {
        await conn.close();
        this.stats.errors += 1;
        this.stats.failing.add(what);
        retryIn = backoff.take();
        this.log.error(`${this.dbname}: ${what} failed: ${describeError(err)} (retry in ${retryIn / 1000}s)`);
      }
      const p = period();
      const elapsed = Date.now() - started;
      // every database's ticker wakes on the same beat (multiples of the period on the clock): a
      // hundred databases then cost one timer wake-up and one burst of queries, not a hundred;
      // maintenance is spread instead, so that VACUUMs of many databases do not coincide
      const wait = retryIn > 0 ? retryIn : elapsed >= p ? 0 : what === 'ticker' ? p - (Date.now() % p) : p - elapsed;
      await sleep(wait, signal, this.wakeup.signal);
    }
  }

  private async tick(c: pg.Client): Promise<void> {
    const started = performance.now();
    const n = await pgq.tickAll(c);
    this.counters.ticks += n;
    this.stats.ticks += n;
    this.stats.tickerRuns += 1;
    this.stats.tickerSeconds += (performance.now() - started) / 1000;
    this.stats.lastTickerAt = Date.now();
  }

  private async retry(c: pg.Client): Promise<void> {
    while (!this.abort.signal.aborted) {
      const n = await pgq.maintRetryEvents(c);
      this.counters.retry += n;
      this.stats.retriedEvents += n;
      if (n === 0) return;
    }
  }

  private async maint(c: pg.Client): Promise<void> {
    this.stats.maintRuns += 1;
    for (const op of await pgq.maintOperations(c)) {
      if (this.abort.signal.aborted) return;
      if (pgq.isVacuumOperation(op)) {
        this.log.debug(`${this.dbname}: ${op.func_name} ${String(op.func_arg)}`);
        if (await pgq.runVacuumOperation(c, op)) {
          this.counters.maint += 1;
          this.stats.maintOperations += 1;
        }
        else this.log.warning(`${this.dbname}: skipping ${op.func_name} of unexpected table name ${String(op.func_arg)}`);
        continue;
      }
      // repeat while the function reports more to do: a number other than 0; anything else
      // (NULL, a record, a boolean) is a one-shot result
      for (let round = 0; round < 1000 && !this.abort.signal.aborted; round++) {
        const r = await pgq.callMaintFunction(c, op);
        if (r.kind === 'refused') {
          this.log.warning(`${this.dbname}: skipping maintenance operation with unexpected name ${op.func_name}`);
          break;
        }
        this.counters.maint += 1;
        this.stats.maintOperations += 1;
        if (!moreToDo(r.value)) break;
      }
    }
  }
}

/** A maintenance function's result that asks to be called again: a non-zero number. */
function moreToDo(v: unknown): boolean {
  if (typeof v === 'number') return v !== 0;
  // int8 arrives as text; a text result that is not a number is not a count
  if (typeof v === 'string') return /^-?\d+$/.test(v.trim()) && Number(v) !== 0;
  return false;
}

/** Is there a usable pgq schema (any 3.x version, with or without CREATE EXTENSION)? Its version, or null. */
export async function hasPgq(connstr: string, log: Logger): Promise<string | null> {
  const c = await connect(connstr, { name: 'check', logger: log, applicationName: 'pgqd' });
  try {
    return await pgq.installedVersion(c);
  } finally {
    await c.end().catch(() => undefined);
  }
}
