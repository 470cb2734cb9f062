/** Running replication for tests: worker processes, a ticker, waits on table states, checksums. */
import { spawn, type ChildProcess } from 'node:child_process';
import pg from 'pg';
import type { PgCluster } from '@skytools/harness';
import { londisteBin } from '../cli/run-londiste.js';

export interface RunningWorker {
  proc: ChildProcess;
  output: () => string;
  stop: () => Promise<number | null>;
}

export function startWorker(jobFile: string): RunningWorker {
  const proc = spawn(process.execPath, [londisteBin(), jobFile, 'worker'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  return {
    proc,
    output: () => out,
    stop: async () => {
      if (proc.exitCode === null) proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 20_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/** What pgqd does, in-process: tick every queue of a database every `periodMs`. */
export function startTicker(cluster: PgCluster, db: string, periodMs: number): { stop: () => Promise<void> } {
  let running = true;
  const client = new pg.Client(cluster.clientConfig(db));
  // a test may stop the server under the ticker
  client.on('error', () => undefined);
  const loop = (async () => {
    await client.connect();
    while (running) {
      await client.query('SELECT pgq.ticker()').catch(() => undefined);
      await new Promise((r) => setTimeout(r, periodMs));
    }
    await client.end();
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

export async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>, diag?: () => string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${diag === undefined ? '' : `\n${diag()}`}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Row count and an order-independent checksum of a table (or of a query's rows). */
export async function tableDigest(cluster: PgCluster, db: string, from: string): Promise<{ rows: number; md5: string }> {
  const r = await cluster.query<{ rows: number; md5: string }>(
    db,
    `SELECT count(*)::int AS rows, coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '') AS md5 FROM (${from}) t`,
  );
  return r[0] ?? { rows: 0, md5: '' };
}

/** Wait until the leaf has applied everything the root has produced so far. */
export async function waitCaughtUp(root: PgCluster, rootDb: string, leaf: PgCluster, leafDb: string, queue: string, worker: string, timeoutMs: number, diag?: () => string): Promise<void> {
  // a tick that covers every event committed until now
  await root.query(rootDb, 'SELECT pgq.force_tick($1)', [queue]);
  await root.query(rootDb, 'SELECT pgq.ticker($1)', [queue]);
  const top = await root.query<{ t: string }>(rootDb, `SELECT max(tick_id)::text AS t FROM pgq.tick t JOIN pgq.queue q ON q.queue_id = t.tick_queue WHERE q.queue_name = $1`, [queue]);
  const target = BigInt(top[0]?.t ?? '0');
  await waitFor(`${worker} to reach tick ${target}`, timeoutMs, async () => {
    const r = await leaf.query<{ t: string | null }>(leafDb, 'SELECT last_tick_id::text AS t FROM pgq_node.local_state WHERE queue_name = $1 AND consumer_name = $2', [queue, worker]);
    const t = r[0]?.t;
    return t !== null && t !== undefined && BigInt(t) >= target ? true : undefined;
  }, diag);
}

/** The last lines of each worker's output, for a failure message. */
export function workersDiag(workers: Iterable<RunningWorker>, lines = 15): string {
  return [...workers].map((w) => w.output().split('\n').slice(-lines).join('\n')).join('\n----\n');
}

/** Wait until `n` local tables of queue `queue` on the node are ok. */
export async function waitTablesOk(cluster: PgCluster, db: string, n: number, diag: () => string, queue = 'q', timeoutMs = 60_000): Promise<void> {
  await waitFor(`${String(n)} tables of ${db} in sync`, timeoutMs, async () => {
    const r = await cluster.query<{ n: number }>(db, `SELECT count(*)::int AS n FROM londiste.get_table_list($1) WHERE local AND merge_state = 'ok'`, [queue]);
    return r[0]?.n === n ? true : undefined;
  }, diag);
}

/** The end of a test file: its workers and ticker stopped, its job files removed, its clusters stopped. */
export async function tearDown(workers: Iterable<RunningWorker>, ticker: { stop: () => Promise<void> } | undefined, jobs: { remove: () => void }, clusters: readonly (PgCluster | undefined)[]): Promise<void> {
  for (const w of workers) await w.stop();
  await ticker?.stop();
  jobs.remove();
  await Promise.all(clusters.map((c) => (c === undefined ? Promise.resolve() : c.stop())));
}
