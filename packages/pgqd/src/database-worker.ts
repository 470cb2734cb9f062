/**
 * Everything pgqd does for one database: three independent loops as upstream pgqd runs them:
 * ticker (pgq.ticker() every ticker_period, on a connection of its own so ticks never wait for
 * maintenance), retry (pgq.maint_retry_events() until 0) and maintenance (each operation of
 * pgq.maint_operations(), repeated while it returns non-zero; VACUUM ones as VACUUM statements).
 * Every statement runs in its own short transaction. A failing database backs off and retries;
 * it never delays the others.
 */
import type pg from 'pg';
import { connect, describeError, formatConnstr, parseConnstr, type Logger } from '@skytools/core';
import { sleep } from './abortable-sleep.js';
import type { PgqdConfig } from './pgqd-config.js';

export interface Counters {
  ticks: number;
  maint: number;
  retry: number;
}

const FUNC_NAME = /^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*)?$/;

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
    let backoff = 0;
    // the first maintenance and retry runs happen one period after start, as upstream
    if (what !== 'ticker') await sleep(period(), signal);
    while (!signal.aborted) {
      const started = Date.now();
      try {
        await work(await conn.get(this.config().connection_lifetime));
        if (backoff > 0) this.log.info(`${this.dbname}: ${what} works again`);
        backoff = 0;
      } catch (err) {
        await conn.close();
        backoff = Math.min(backoff === 0 ? 1000 : backoff * 2, 30_000);
        this.log.error(`${this.dbname}: ${what} failed: ${describeError(err)} (retry in ${backoff / 1000}s)`);
      }
      const p = period();
      const elapsed = Date.now() - started;
      // every database's ticker wakes on the same beat (multiples of the period on the clock): a
      // hundred databases then cost one timer wake-up and one burst of queries, not a hundred;
      // maintenance is spread instead, so that VACUUMs of many databases do not coincide
      const wait = backoff > 0 ? backoff : elapsed >= p ? 0 : what === 'ticker' ? p - (Date.now() % p) : p - elapsed;
      await sleep(wait, signal, this.wakeup.signal);
    }
  }

  private async tick(c: pg.Client): Promise<void> {
    const r = await c.query<{ n: string | null }>('SELECT pgq.ticker() AS n');
    this.counters.ticks += Number(r.rows[0]?.n ?? 0);
  }

  private async retry(c: pg.Client): Promise<void> {
    for (;;) {
      if (this.abort.signal.aborted) return;
      const r = await c.query<{ n: number }>('SELECT pgq.maint_retry_events() AS n');
      const n = r.rows[0]?.n ?? 0;
      this.counters.retry += n;
      if (n === 0) return;
    }
  }

  private async maint(c: pg.Client): Promise<void> {
    const ops = await c.query<{ func_name: string; func_arg: string | null }>('SELECT func_name, func_arg FROM pgq.maint_operations()');
    for (const op of ops.rows) {
      if (this.abort.signal.aborted) return;
      const fn = op.func_name.trim();
      if (/^vacuum( analyze)?$/i.test(fn)) {
        if (op.func_arg === null || !FUNC_NAME.test(op.func_arg)) {
          this.log.warning(`${this.dbname}: skipping ${fn} of unexpected table name ${String(op.func_arg)}`);
          continue;
        }
        this.log.debug(`${this.dbname}: ${fn} ${op.func_arg}`);
        await c.query(`${fn.toUpperCase()} ${op.func_arg}`);
        this.counters.maint += 1;
        continue;
      }
      if (!FUNC_NAME.test(fn)) {
        this.log.warning(`${this.dbname}: skipping maintenance operation with unexpected name ${fn}`);
        continue;
      }
      const sql = op.func_arg === null ? `SELECT ${fn}() AS r` : `SELECT ${fn}($1) AS r`;
      const params = op.func_arg === null ? [] : [op.func_arg];
      // repeat while the function reports more to do
      for (let round = 0; round < 1000 && !this.abort.signal.aborted; round++) {
        const r = await c.query<{ r: unknown }>(sql, params);
        this.counters.maint += 1;
        const v = r.rows[0]?.r;
        if (v === null || v === undefined || Number(v) === 0 || typeof v === 'object') break;
      }
    }
  }
}

/** Is there a usable pgq schema (any 3.x version, with or without CREATE EXTENSION)? */
export async function hasPgq(connstr: string, log: Logger): Promise<string | null> {
  const c = await connect(connstr, { name: 'check', logger: log, applicationName: 'pgqd' });
  try {
    const r = await c.query<{ ok: boolean }>(`SELECT to_regprocedure('pgq.version()') IS NOT NULL AND to_regprocedure('pgq.ticker()') IS NOT NULL AS ok`);
    if (r.rows[0]?.ok !== true) return null;
    const v = await c.query<{ v: string | null }>('SELECT pgq.version() AS v');
    const version = v.rows[0]?.v ?? null;
    return version !== null && version.startsWith('3') ? version : null;
  } finally {
    await c.end().catch(() => undefined);
  }
}
