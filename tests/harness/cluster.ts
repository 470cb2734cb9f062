/**
 * Throw-away PostgreSQL clusters for tests and benchmarks: initdb into a fresh temporary directory,
 * trust authentication, a private unix-socket directory, a free TCP port on 127.0.0.1 only.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { appendFileSync, chownSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { quoteIdent } from '@skytools/core';
import { findInstall } from './versions.js';
import { reachableBinDir, serverUser, type ServerUser } from './server-user.js';

export type SettingValue = string | number | boolean;

export interface ClusterOptions {
  /** Extra postgresql.conf settings, applied after the test defaults. */
  settings?: Record<string, SettingValue>;
}

/** Settings suited to tests: fast and disposable, logical decoding on for native-replication anchors. */
const TEST_SETTINGS: Record<string, SettingValue> = {
  listen_addresses: '127.0.0.1',
  fsync: false,
  synchronous_commit: false,
  full_page_writes: false,
  wal_level: 'logical',
  max_wal_senders: 20,
  max_replication_slots: 20,
  max_worker_processes: 16,
  max_logical_replication_workers: 8,
  max_connections: 400,
  shared_buffers: '128MB',
  log_line_prefix: '%m [%p] %q%u@%d ',
  log_min_messages: 'warning',
};

export const CLUSTER_DIR_PREFIX = 'skytools-testpg-';

const here = dirname(fileURLToPath(import.meta.url));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function confValue(v: SettingValue): string {
  if (typeof v === 'boolean') return v ? 'on' : 'off';
  if (typeof v === 'number') return String(v);
  return `'${v.replace(/'/g, "''")}'`;
}

async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => {
        if (addr !== null && typeof addr === 'object') resolvePort(addr.port);
        else reject(new Error('could not allocate a TCP port'));
      });
    });
  });
}

function chownTree(path: string, user: ServerUser): void {
  chownSync(path, user.uid, user.gid);
  for (const entry of readdirSync(path, { withFileTypes: true })) {
    const p = join(path, entry.name);
    if (entry.isDirectory()) chownTree(p, user);
    else chownSync(p, user.uid, user.gid);
  }
}

export class PgCluster {
  readonly host = '127.0.0.1';
  readonly user = 'postgres';
  readonly dataDir: string;
  readonly socketDir: string;
  readonly logFile: string;
  port = 0;
  /** Full server version string, e.g. "17.10". */
  serverVersion = '';
  private postmaster: ChildProcess | undefined;
  private postmasterExit: Promise<void> | undefined;
  private watchdog: ChildProcess | undefined;
  private removed = false;

  constructor(
    readonly major: number,
    readonly binDir: string,
    readonly baseDir: string,
    private readonly runAs: ServerUser | null,
  ) {
    this.dataDir = join(baseDir, 'data');
    this.socketDir = join(baseDir, 'sock');
    this.logFile = join(baseDir, 'server.log');
  }

  /** libpq key=value connection string over TCP. */
  connectionString(dbname = 'postgres'): string {
    return `host=${this.host} port=${this.port} user=${this.user} dbname=${dbname}`;
  }

  url(dbname = 'postgres'): string {
    return `postgres://${this.user}@${this.host}:${this.port}/${encodeURIComponent(dbname)}`;
  }

  clientConfig(dbname = 'postgres'): pg.ClientConfig {
    return { host: this.host, port: this.port, user: this.user, database: dbname };
  }

  /** Run fn with a connected client that is always closed afterwards. */
  async withClient<T>(dbname: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
    const client = new pg.Client(this.clientConfig(dbname));
    await client.connect();
    try {
      return await fn(client);
    } finally {
      await client.end();
    }
  }

  async query<R extends pg.QueryResultRow = pg.QueryResultRow>(dbname: string, sql: string, params: unknown[] = []): Promise<R[]> {
    return this.withClient(dbname, async (c) => (await c.query<R>(sql, params)).rows);
  }

  async createDatabase(name: string, options: { owner?: string; template?: string } = {}): Promise<void> {
    let sql = `CREATE DATABASE ${quoteIdent(name)} ENCODING 'UTF8' TEMPLATE ${quoteIdent(options.template ?? 'template0')}`;
    if (options.owner !== undefined) sql += ` OWNER ${quoteIdent(options.owner)}`;
    await this.query('postgres', sql);
  }

  /** The last lines of the server log, for failure messages. */
  logTail(lines = 40): string {
    try {
      return readFileSync(this.logFile, 'utf8').split('\n').slice(-lines - 1).join('\n');
    } catch {
      return '(no server log)';
    }
  }

  private spawnAsServer(cmd: string, args: string[], stdio: 'pipe' | number): ChildProcess {
    const ids = this.runAs === null ? {} : { uid: this.runAs.uid, gid: this.runAs.gid };
    return spawn(join(this.binDir, cmd), args, {
      ...ids,
      cwd: this.baseDir,
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', LC_ALL: 'C', TZ: process.env['TZ'] ?? 'UTC' },
      detached: true, // own process group: a Ctrl-C aimed at the tests must not hit the server first
      stdio: stdio === 'pipe' ? 'pipe' : ['ignore', stdio, stdio],
    });
  }

  async initdb(settings: Record<string, SettingValue>): Promise<void> {
    mkdirSync(this.socketDir, { mode: 0o700 });
    if (this.runAs !== null) chownTree(this.baseDir, this.runAs);
    const child = this.spawnAsServer(
      'initdb',
      ['-D', this.dataDir, '-U', this.user, '--auth=trust', '--encoding=UTF8', '--locale=C', '--no-sync'],
      'pipe',
    );
    let output = '';
    child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    const code = await new Promise<number | null>((r) => child.on('close', r));
    if (code !== 0) throw new Error(`initdb (PostgreSQL ${this.major}) failed with exit code ${code}:\n${output}`);
    const all = { ...TEST_SETTINGS, unix_socket_directories: this.socketDir, ...settings };
    appendFileSync(
      join(this.dataDir, 'postgresql.conf'),
      '\n# throw-away test cluster\n' + Object.entries(all).map(([k, v]) => `${k} = ${confValue(v)}`).join('\n') + '\n',
    );
  }

  startWatchdog(): void {
    this.watchdog = spawn(process.execPath, [join(here, 'watchdog.js'), String(process.pid), this.baseDir, this.dataDir], {
      detached: true,
      stdio: 'ignore',
    });
    this.watchdog.unref();
  }

  /** Start the server (first start or after stopServer), picking a new port if the old one was taken. */
  async startServer(): Promise<void> {
    const keepPort = this.port !== 0;
    for (let attempt = 1; ; attempt++) {
      if (!keepPort || attempt > 1) this.port = await freePort();
      const logFd = openSync(this.logFile, 'a');
      const child = this.spawnAsServer('postgres', ['-D', this.dataDir, '-p', String(this.port)], logFd);
      closeSync(logFd);
      this.postmaster = child;
      this.postmasterExit = new Promise((r) => child.on('exit', () => r()));
      child.unref();
      const ready = await this.waitReady(child);
      if (ready === 'ready') return;
      const tail = this.logTail();
      if (ready === 'port-in-use' && attempt < 5) continue;
      const msg = `PostgreSQL ${this.major} failed to start on port ${this.port}; server log tail:\n${tail}`;
      console.error(msg);
      throw new Error(msg);
    }
  }

  private async waitReady(child: ChildProcess): Promise<'ready' | 'port-in-use' | 'failed'> {
    let exited = false;
    child.once('exit', () => (exited = true));
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      if (exited) return /could not bind|Address already in use/.test(this.logTail(20)) ? 'port-in-use' : 'failed';
      const client = new pg.Client({ ...this.clientConfig(), connectionTimeoutMillis: 2000 });
      try {
        await client.connect();
        const r = await client.query<{ v: string }>('SELECT current_setting($1) AS v', ['server_version']);
        this.serverVersion = r.rows[0]?.v ?? '';
        await client.end();
        return 'ready';
      } catch {
        await client.end().catch(() => undefined);
        await sleep(100);
      }
    }
    return 'failed';
  }

  /** PID of the running postmaster, undefined when stopped. */
  get postmasterPid(): number | undefined {
    const child = this.postmaster;
    return child !== undefined && child.exitCode === null && child.signalCode === null ? child.pid : undefined;
  }

  /** Fast shutdown of the server only; the data directory stays for startServer(). */
  async stopServer(mode: 'fast' | 'immediate' = 'fast'): Promise<void> {
    const child = this.postmaster;
    if (child?.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exit = this.postmasterExit ?? Promise.resolve();
    child.kill(mode === 'fast' ? 'SIGINT' : 'SIGQUIT');
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      exit.then(() => false),
      new Promise<boolean>((r) => (timer = setTimeout(() => r(true), 30_000))),
    ]);
    clearTimeout(timer);
    if (timedOut) {
      child.kill('SIGKILL');
      await exit;
    }
    this.postmaster = undefined;
  }

  /** Stop the server and remove everything this cluster created. Safe to call twice. */
  async stop(): Promise<void> {
    if (this.removed) return;
    this.removed = true;
    try {
      await this.stopServer('fast');
    } finally {
      rmSync(this.baseDir, { recursive: true, force: true });
      this.watchdog?.kill('SIGTERM');
    }
  }
}

/**
 * Start a throw-away cluster of the given major version. The caller must `stop()` it; if the test
 * process dies first, a detached watchdog stops the server and removes its directory.
 */
export async function startCluster(major: number, options: ClusterOptions = {}): Promise<PgCluster> {
  const install = findInstall(major);
  const runAs = serverUser();
  const binDir = reachableBinDir(install);
  const baseDir = mkdtempSync(join(tmpdir(), `${CLUSTER_DIR_PREFIX}${major}-`));
  const cluster = new PgCluster(major, binDir, baseDir, runAs);
  cluster.startWatchdog();
  try {
    await cluster.initdb(options.settings ?? {});
    await cluster.startServer();
  } catch (err) {
    await cluster.stop().catch(() => undefined);
    throw err;
  }
  return cluster;
}

/** True when a cluster directory from this harness still exists (used by the leftover check). */
export function leftoverClusterDirs(): string[] {
  const base = tmpdir();
  if (!existsSync(base)) return [];
  return readdirSync(base)
    .filter((n) => n.startsWith(CLUSTER_DIR_PREFIX))
    .map((n) => join(base, n));
}

/** Used by tests that need to run a client tool (psql, pgbench) as a subprocess. */
export function runClientTool(binDir: string, tool: string, args: string[], env: NodeJS.ProcessEnv = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(join(binDir, tool), args, { encoding: 'utf8', env: { ...process.env, ...env } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

export function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
