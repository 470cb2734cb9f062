/**
 * A replication set-up for benchmarks: a source and a target cluster, the seed schema, a root
 * and a leaf made with the londiste CLI, pgqd ticking the source and the leaf's worker as a
 * separate process, as a user runs them; plus the native logical replication anchor
 * (publication and subscription) between the same two clusters.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { createSeedSchema, repoRoot, startCluster, type PgCluster } from '@skytools/harness';
import { pgqNode, silentLogger } from '@skytools/core';

export const SEED_TABLES = ['user_info', 'user_session', 'user_login_rec', 'user_logout_rec'];
export const QUEUE = 'replika';

/** Path of a built binary of the project, e.g. binPath('pgqd', 'pgqd'). */
export const binPath = (pkg: string, name: string): string => join(repoRoot(), 'packages', pkg, 'dist', 'bin', `${name}.js`);

export function sleepMs(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Poll until probe() is true; returns the seconds it took. */
export async function until(what: string, timeoutMs: number, probe: () => Promise<boolean>, everyMs = 50): Promise<number> {
  const t0 = performance.now();
  for (;;) {
    if (await probe()) return (performance.now() - t0) / 1000;
    if (performance.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}`);
    await sleepMs(everyMs);
  }
}

/** A flat YAML file of the project's configs. */
export function yamlOf(values: Record<string, string | number>): string {
  return Object.entries(values).map(([k, v]) => `${k}: ${typeof v === 'number' ? v : JSON.stringify(v)}`).join('\n') + '\n';
}

/** Run the londiste CLI; resolves with stdout, rejects with its output on a non-zero exit. */
export function londiste(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [binPath('londiste', 'londiste'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('error', reject);
    p.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`londiste ${args.slice(1).join(' ')} exited ${String(code)}:\n${err}${out}`))));
  });
}

export async function stopProcess(p: ChildProcess | undefined): Promise<void> {
  if (p === undefined || p.exitCode !== null || p.signalCode !== null) return;
  const exited = new Promise((r) => p.once('exit', r));
  p.kill('SIGTERM');
  const t = setTimeout(() => p.kill('SIGKILL'), 30_000);
  await exited;
  clearTimeout(t);
}

export interface RigOptions {
  srcMajor: number;
  dstMajor: number;
  users: number;
  /** Extra settings for both clusters. */
  settings?: Record<string, string | number>;
  /** pgqd's ticker_period; its default when absent. */
  tickerPeriod?: string;
  /** Run the leaf's job under londisted (its jobs_dir holds the job) instead of `londiste JOB worker`. */
  supervisor?: boolean;
  /** More keys for the leaf's job file. */
  leafJob?: Record<string, string | number>;
}

export class Rig {
  readonly work = mkdtempSync(join(tmpdir(), 'skytools-bench-rig-'));
  readonly srcDb = 'digoal_01';
  readonly leafDb = 'ours';
  readonly srcJob = join(this.work, 'src.yaml');
  readonly jobsDir = join(this.work, 'jobs.d');
  readonly leafJob = join(this.jobsDir, 'leaf.yaml');
  readonly leafLogFile = join(process.env['BENCH_LOG_DIR'] ?? this.work, 'leaf.log');
  private pgqd: ChildProcess | undefined;
  private worker: ChildProcess | undefined;

  private constructor(
    readonly src: PgCluster,
    readonly dst: PgCluster,
    private readonly options: RigOptions,
  ) {}

  /** Clusters, the seed schema with `users` users on the source, empty tables on the target, root and leaf nodes. */
  static async start(options: RigOptions): Promise<Rig> {
    const settings = { shared_buffers: '256MB', max_wal_size: '2GB', ...options.settings };
    const [src, dst] = await Promise.all([startCluster(options.srcMajor, { settings }), startCluster(options.dstMajor, { settings })]);
    const rig = new Rig(src, dst, options);
    try {
      await rig.setUp();
    } catch (err) {
      await rig.stop();
      throw err;
    }
    return rig;
  }

  private async setUp(): Promise<void> {
    const { src, dst } = this;
    await src.createDatabase(this.srcDb);
    await src.withClient(this.srcDb, async (c) => {
      await createSeedSchema(c, { users: this.options.users, keyedLogs: true, functions: true });
      await c.query('VACUUM ANALYZE');
    });
    await dst.createDatabase(this.leafDb);
    await dst.withClient(this.leafDb, (c) => createSeedSchema(c, { users: 0, keyedLogs: true }));
    mkdirSync(this.jobsDir);
    writeFileSync(this.srcJob, yamlOf({ job_name: 'src', db: src.connectionString(this.srcDb), queue_name: QUEUE, logfile: join(this.work, 'src.log') }));
    this.writeLeafJob({});
    await londiste([this.srcJob, 'create-root', 'src', src.connectionString(this.srcDb)]);
    await londiste([this.leafJob, 'create-leaf', 'leaf', dst.connectionString(this.leafDb), `--provider=${src.connectionString(this.srcDb)}`]);
    // running before tables are added, as a deployed londisted would be
    this.startWorker();
    const pgqdConf = join(this.work, 'pgqd.yaml');
    writeFileSync(pgqdConf, [
      `base_connstr: "host=127.0.0.1 port=${src.port} user=${src.user}"`,
      `database_list: [${this.srcDb}]`,
      `logfile: ${JSON.stringify(join(this.work, 'pgqd.log'))}`,
      ...(this.options.tickerPeriod === undefined ? [] : [`ticker_period: ${this.options.tickerPeriod}`]),
    ].join('\n') + '\n');
    this.pgqd = spawn(process.execPath, [binPath('pgqd', 'pgqd'), '--config', pgqdConf], { stdio: 'ignore' });
  }

  /**
   * Add tables on the root and the leaf (with the leaf's worker running) and wait until all are ok;
   * the seconds from the leaf's add-table on, after `prepare` (e.g. letting the clusters settle).
   */
  async addTables(tables: string[], timeoutMs = 900_000, prepare?: () => Promise<void>): Promise<number> {
    const names = tables.map((t) => (t.includes('.') ? t : `digoal_01.${t}`));
    await londiste([this.srcJob, 'add-table', ...names]);
    this.startWorker();
    if (prepare !== undefined) await prepare();
    // one connection for the whole wait, opened before the clock starts: a new one every 20 ms
    // forks a backend on the target it is timing
    return this.dst.withClient(this.leafDb, async (probe) => {
      const t0 = performance.now();
      await londiste([this.leafJob, 'add-table', ...names]);
      await until('tables in sync', timeoutMs, async () => (await tablesInSync(probe, names)) >= names.length, 20);
      return (performance.now() - t0) / 1000;
    });
  }

  /**
   * The leaf's job file again with `keys` on top of the rig's (the worker reads it when it starts),
   * and the root's location as the leaf sees it: `port` instead of the source's own (a proxy in
   * front of it), or the source again when absent.
   */
  async reconfigureLeaf(keys: Record<string, string | number>, port?: number): Promise<void> {
    this.writeLeafJob(keys);
    const own = this.src.connectionString(this.srcDb);
    const via = port === undefined ? own : own.replace(`port=${this.src.port}`, `port=${port}`);
    // the worker connects to the provider location registered on the leaf; the root announces
    // its own to the queue, so it is changed there too
    for (const [cluster, db] of [[this.src, this.srcDb], [this.dst, this.leafDb]] as const) {
      await cluster.withClient(db, (c) => pgqNode.registerLocation(c, silentLogger, QUEUE, 'src', via, false));
    }
  }

  private writeLeafJob(keys: Record<string, string | number>): void {
    // BENCH_LOG_DIR keeps the leaf's log there, at debug level (per-batch timings)
    const logDir = process.env['BENCH_LOG_DIR'];
    writeFileSync(this.leafJob, yamlOf({
      job_name: 'leaf', db: this.dst.connectionString(this.leafDb), queue_name: QUEUE,
      logfile: this.leafLogFile, ...(logDir === undefined ? {} : { loglevel: 'debug' }), ...this.options.leafJob, ...keys,
    }));
  }

  /** Copy `tables` of the leaf again (resync) and wait until all are ok again. */
  async resync(tables: string[], timeoutMs = 900_000): Promise<void> {
    const names = tables.map((t) => (t.includes('.') ? t : `digoal_01.${t}`));
    await this.dst.withClient(this.leafDb, async (probe) => {
      await londiste([this.leafJob, 'resync', ...names]);
      await until('tables in sync again', timeoutMs, async () => (await tablesInSync(probe, names)) >= names.length, 20);
    });
  }

  startWorker(): void {
    if (this.worker !== undefined && this.worker.exitCode === null && this.worker.signalCode === null) return;
    // BENCH_WORKER_FLAGS passes node options to the worker, e.g. --cpu-prof to see where its time goes
    const flags = (process.env['BENCH_WORKER_FLAGS'] ?? '').split(' ').filter((x) => x !== '');
    if (this.options.supervisor === true) {
      const conf = join(this.work, 'londisted.yaml');
      writeFileSync(conf, yamlOf({ jobs_dir: this.jobsDir, logfile: join(this.work, 'londisted.log') }));
      this.worker = spawn(process.execPath, [...flags, binPath('londiste', 'londisted'), '--config', conf], { stdio: 'ignore' });
      return;
    }
    this.worker = spawn(process.execPath, [...flags, binPath('londiste', 'londiste'), this.leafJob, 'worker'], { stdio: 'ignore' });
  }

  async stopWorker(): Promise<void> {
    await stopProcess(this.worker);
    this.worker = undefined;
  }

  /** The newest tick on the root, after ticking now so it covers everything committed so far. */
  async tickNow(): Promise<bigint> {
    await this.src.query(this.srcDb, 'SELECT pgq.force_tick($1)', [QUEUE]);
    await this.src.query(this.srcDb, 'SELECT pgq.ticker($1)', [QUEUE]);
    const r = await this.src.query<{ t: string }>(this.srcDb, `SELECT max(tick_id)::text AS t FROM pgq.tick t JOIN pgq.queue q ON q.queue_id = t.tick_queue WHERE q.queue_name = $1`, [QUEUE]);
    return BigInt(r[0]?.t ?? '0');
  }

  /** Wait until the leaf has applied every event committed so far. */
  async waitCaughtUp(timeoutMs = 900_000): Promise<number> {
    return waitApplied(this, this.leafDb, 'leaf', timeoutMs);
  }

  /** Seconds of each copy of `table` the leaf has logged ("TABLE: copied N rows, M MB in Ss"), in order. */
  copySeconds(table: string): number[] {
    const text = existsSync(this.leafLogFile) ? readFileSync(this.leafLogFile, 'utf8') : '';
    return [...text.matchAll(/ (\S+): copied \d+ rows, [\d.]+ MB (?:\(\w+\) )?in ([\d.]+)s/g)].filter((m) => m[1] === table).map((m) => Number(m[2]));
  }

  /** Process ids of pgqd and of the leaf's worker (or londisted), for CPU and memory readings. */
  get pids(): { pgqd: number | undefined; worker: number | undefined } {
    return { pgqd: this.pgqd?.pid, worker: this.worker?.pid };
  }

  async eventSeq(): Promise<number> {
    const r = await this.src.query<{ v: string }>(this.srcDb, `SELECT pgq.seq_getval(queue_event_seq)::text AS v FROM pgq.queue WHERE queue_name = $1`, [QUEUE]);
    return Number(r[0]?.v ?? 0);
  }

  async stop(): Promise<void> {
    await this.stopWorker();
    await stopProcess(this.pgqd);
    await Promise.all([this.src.stop(), this.dst.stop()]);
    rmSync(this.work, { recursive: true, force: true });
  }
}

/**
 * How many of `names` (all the queue's tables when absent) are local and ok in `db` of `dst`.
 * Read from londiste.table_info itself, as native's probe reads pg_subscription_rel: asked every
 * 20 ms while a sync is timed, londiste.get_table_list (PL/pgSQL, a copy role worked out per
 * table) cost the target's CPU a few milliseconds each time, beside the copies being timed.
 */
export async function tablesInSync(probe: pg.ClientBase, names?: readonly string[]): Promise<number> {
  const r = await probe.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM londiste.table_info WHERE queue_name = $1 AND local AND merge_state = 'ok' AND ($2::text[] IS NULL OR table_name = ANY ($2))`,
    [QUEUE, names ?? null],
  );
  return r.rows[0]?.n ?? 0;
}

/** Seconds until `consumer`, the worker of a leaf in `db` of the target, has applied every event committed so far. */
export async function waitApplied(rig: Rig, db: string, consumer: string, timeoutMs: number): Promise<number> {
  const target = await rig.tickNow();
  // one connection for the whole wait: a new one every 20 ms forks a backend on the target it is timing
  return rig.dst.withClient(db, (c) =>
    until(`${consumer} to catch up`, timeoutMs, async () => {
      const r = await c.query<{ t: string | null }>(`SELECT last_tick_id::text AS t FROM pgq_node.local_state WHERE queue_name = $1 AND consumer_name = $2`, [QUEUE, consumer]);
      const t = r.rows[0]?.t;
      return t !== null && t !== undefined && BigInt(t) >= target;
    }, 20),
  );
}

/** Native logical replication of the same tables into another database of the target cluster. */
export class NativeReplica {
  private constructor(
    private readonly rig: Rig,
    readonly db: string,
    private readonly name: string,
  ) {}

  /** Publication on the source, subscription on the target; resolves once the initial sync is done. */
  static async create(rig: Rig, db: string, tables: string[], prepare?: (dst: PgCluster, db: string) => Promise<void>): Promise<{ replica: NativeReplica; syncSeconds: number }> {
    const name = `bench_${db}`;
    await rig.dst.createDatabase(db);
    await rig.dst.withClient(db, (c) => createSeedSchema(c, { users: 0, keyedLogs: true }));
    if (prepare !== undefined) await prepare(rig.dst, db);
    const list = tables.map((t) => (t.includes('.') ? t : `digoal_01.${t}`)).join(', ');
    await rig.src.query(rig.srcDb, `CREATE PUBLICATION ${name} FOR TABLE ${list}`);
    const replica = new NativeReplica(rig, db, name);
    // the probe's connection opened before the clock starts, as for ours (Rig.addTables)
    const syncSeconds = await rig.dst.withClient(db, async (probe) => {
      const t0 = performance.now();
      await probe.query(`CREATE SUBSCRIPTION ${name} CONNECTION '${rig.src.connectionString(rig.srcDb)}' PUBLICATION ${name}`);
      await replica.waitReady(tables.length, undefined, probe);
      return (performance.now() - t0) / 1000;
    });
    return { replica, syncSeconds };
  }

  /** Until n tables are ready, asked every 20 ms on one connection (`probe`, else one opened for the wait). */
  async waitReady(n: number, timeoutMs = 900_000, probe?: pg.ClientBase): Promise<void> {
    const wait = (c: pg.ClientBase): Promise<unknown> =>
      until('the native subscription to be ready', timeoutMs, async () => {
        const r = await c.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_subscription_rel WHERE srsubstate = 'r'`);
        return (r.rows[0]?.n ?? 0) >= n;
      }, 20);
    await (probe === undefined ? this.rig.dst.withClient(this.db, wait) : wait(probe));
  }

  /** Add a table to publication and subscription; resolves once it is synchronised. */
  async addTable(table: string, total: number): Promise<void> {
    await this.rig.src.query(this.rig.srcDb, `ALTER PUBLICATION ${this.name} ADD TABLE ${table}`);
    await this.rig.dst.query(this.db, `ALTER SUBSCRIPTION ${this.name} REFRESH PUBLICATION`);
    await this.waitReady(total);
  }

  async enable(on: boolean): Promise<void> {
    await this.rig.dst.query(this.db, `ALTER SUBSCRIPTION ${this.name} ${on ? 'ENABLE' : 'DISABLE'}`);
  }

  /** The subscription and its slot on the source dropped: nothing of it runs any more. */
  async drop(): Promise<void> {
    await this.rig.dst.query(this.db, `DROP SUBSCRIPTION ${this.name}`);
  }

  /** Wait until the subscriber has confirmed everything the source has written so far. */
  async waitCaughtUp(timeoutMs = 900_000): Promise<number> {
    const r = await this.rig.src.query<{ lsn: string }>(this.rig.srcDb, 'SELECT pg_current_wal_lsn()::text AS lsn');
    const lsn = r[0]?.lsn ?? '0/0';
    return until('the native subscriber to catch up', timeoutMs, async () => {
      const s = await this.rig.src.query<{ ok: boolean | null }>(this.rig.srcDb, `SELECT confirmed_flush_lsn >= $1::pg_lsn AS ok FROM pg_replication_slots WHERE slot_name = $2`, [lsn, this.name]);
      return s[0]?.ok === true;
    }, 20);
  }
}
