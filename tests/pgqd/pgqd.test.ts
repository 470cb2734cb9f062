// pgqd against a real cluster: ticking, discovery, rotation, retry, reload, shutdown, restarts
// of the server, and no password in its log.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { installSchemas } from '@skytools/core';
import { repoRoot, startCluster, testVersions, type PgCluster } from '@skytools/harness';
import { waitFor } from '../replication/replication-env.js';

const major = testVersions()[testVersions().length - 1] ?? 15;
const SECRET = 'pgqd-Secret-9';

interface Pgqd {
  proc: ChildProcess;
  exited: Promise<number | null>;
  log: () => string;
  writeConfig: (extra: Record<string, string>) => void;
}

describe(`pgqd, PostgreSQL ${major}`, () => {
  let cluster: PgCluster;
  const dir = mkdtempSync(join(tmpdir(), 'skytools-pgqd-'));
  const logFile = join(dir, 'pgqd.log');
  const configFile = join(dir, 'pgqd.yaml');
  let daemon: Pgqd | undefined;

  const base = (): Record<string, string> => ({
    base_connstr: `host=127.0.0.1 port=${cluster.port} user=${cluster.user} password=${SECRET}`,
    initial_database: 'postgres',
    check_period: '300ms',
    ticker_period: '100ms',
    retry_period: '200ms',
    maint_period: '200ms',
    stats_period: '500ms',
    logfile: logFile,
  });
  const writeConfig = (extra: Record<string, string>): void => {
    const cfg = { ...base(), ...extra };
    writeFileSync(configFile, Object.entries(cfg).map(([k, v]) => `${k}: ${JSON.stringify(v)}`).join('\n') + '\n');
  };
  const lastTick = async (db: string): Promise<number> => {
    // the tick sequence, not pgq.tick: rotation deletes old ticks
    const r = await cluster.query<{ t: number | null }>(db, `SELECT pgq.seq_getval(queue_tick_seq)::int AS t FROM pgq.queue`);
    return r[0]?.t ?? 0;
  };
  const newPgqDb = async (name: string): Promise<void> => {
    await cluster.createDatabase(name);
    await cluster.withClient(name, async (c) => {
      await installSchemas(c, ['pgq']);
      await c.query(`SELECT pgq.create_queue('q')`);
      // tick at every ticker run, busy or idle
      await c.query(`UPDATE pgq.queue SET queue_ticker_max_lag = '0', queue_ticker_idle_period = '0'`);
    });
  };

  before(async () => {
    cluster = await startCluster(major);
    await newPgqDb('db_a');
    await cluster.createDatabase('no_pgq');
    writeConfig({});
    const proc = spawn(process.execPath, [join(repoRoot(), 'packages', 'pgqd', 'dist', 'bin', 'pgqd.js'), '--config', configFile, '-v'], { stdio: 'ignore' });
    daemon = {
      proc,
      exited: new Promise((r) => proc.on('exit', (code) => r(code))),
      log: () => {
        try {
          return readFileSync(logFile, 'utf8');
        } catch {
          return '';
        }
      },
      writeConfig,
    };
  });
  after(async () => {
    if (daemon !== undefined && daemon.proc.exitCode === null) {
      daemon.proc.kill('SIGKILL');
      await daemon.exited;
    }
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('ticks the queues of a database with pgq, and ignores one without', async () => {
    const d = daemon as Pgqd;
    const t0 = await lastTick('db_a');
    await waitFor('ticks in db_a', 20_000, async () => ((await lastTick('db_a')) >= t0 + 5 ? true : undefined), d.log);
    assert.match(d.log(), /db_a: serving \(pgq 3\./);
    assert.doesNotMatch(d.log(), /no_pgq: serving/);
    const tables = await cluster.query<{ n: number }>('no_pgq', `SELECT count(*)::int AS n FROM pg_namespace WHERE nspname = 'pgq'`);
    assert.equal(tables[0]?.n, 0, 'pgqd changed nothing in the database without pgq');
  });

  it('picks up a database created after start', async () => {
    const d = daemon as Pgqd;
    await newPgqDb('db_b');
    await waitFor('ticks in db_b', 20_000, async () => ((await lastTick('db_b')) >= 3 ? true : undefined), d.log);
  });

  it('rotates event tables and moves retry events back', async () => {
    const d = daemon as Pgqd;
    const c = new pg.Client(cluster.clientConfig('db_a'));
    await c.connect();
    try {
      await c.query(`SELECT pgq.set_queue_config('q', 'rotation_period', '1 second')`);
      const before = (await c.query<{ n: number }>(`SELECT queue_cur_table AS n FROM pgq.queue`)).rows[0]?.n;
      await waitFor('a rotation', 20_000, async () => {
        const now = (await c.query<{ n: number }>(`SELECT queue_cur_table AS n FROM pgq.queue`)).rows[0]?.n;
        return now !== before ? true : undefined;
      }, d.log);

      await c.query(`SELECT pgq.register_consumer('q', 'c')`);
      await c.query(`SELECT pgq.insert_event('q', 'retry-me', 'payload')`);
      const batch = await waitFor('a batch', 20_000, async () => {
        const r = await c.query<{ b: string | null }>(`SELECT pgq.next_batch('q', 'c') AS b`);
        const b = r.rows[0]?.b;
        if (b === null || b === undefined) return undefined;
        const n = await c.query(`SELECT 1 FROM pgq.get_batch_events($1) WHERE ev_type = 'retry-me'`, [b]);
        if ((n.rowCount ?? 0) === 0) {
          await c.query(`SELECT pgq.finish_batch($1)`, [b]);
          return undefined;
        }
        return b;
      });
      const evId = (await c.query<{ id: string }>(`SELECT ev_id::text AS id FROM pgq.get_batch_events($1) WHERE ev_type = 'retry-me'`, [batch])).rows[0]?.id;
      await c.query(`SELECT pgq.event_retry($1, $2, 0)`, [batch, evId]);
      await c.query(`SELECT pgq.finish_batch($1)`, [batch]);
      await waitFor('the retried event back in the queue', 20_000, async () => {
        const r = await c.query<{ n: number }>(`SELECT count(*)::int AS n FROM pgq.event_template WHERE ev_type = 'retry-me' AND ev_retry = 1`);
        return r.rows[0]?.n === 1 ? true : undefined;
      }, d.log);
      const rq = await c.query<{ n: number }>(`SELECT count(*)::int AS n FROM pgq.retry_queue`);
      assert.equal(rq.rows[0]?.n, 0);
      await c.query(`SELECT pgq.unregister_consumer('q', 'c')`);
      await c.query(`SELECT pgq.set_queue_config('q', 'rotation_period', '2 hours')`);
    } finally {
      await c.end();
    }
  });

  it('applies a new ticker_period on SIGHUP, and survives a broken file', async () => {
    const d = daemon as Pgqd;
    d.writeConfig({ ticker_period: '1h' });
    d.proc.kill('SIGHUP');
    await waitFor('reload logged', 10_000, async () => (/configuration reloaded/.test(d.log()) ? true : undefined));
    await new Promise((r) => setTimeout(r, 500));
    const t1 = await lastTick('db_a');
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(await lastTick('db_a'), t1, `no ticks with ticker_period 1h:\n${d.log().split('\n').filter((l) => !l.includes('Connect')).slice(-15).join('\n')}`);

    writeFileSync(configFile, 'ticker_period: [oops\n');
    d.proc.kill('SIGHUP');
    await waitFor('reload failure logged', 10_000, async () => (/reload failed, keeping the running configuration/.test(d.log()) ? true : undefined));
    assert.equal(d.proc.exitCode, null, 'pgqd still runs');

    d.writeConfig({});
    d.proc.kill('SIGHUP');
    await waitFor('ticks again', 20_000, async () => ((await lastTick('db_a')) >= t1 + 3 ? true : undefined), d.log);
  });

  it('survives a server restart and resumes ticking', async () => {
    const d = daemon as Pgqd;
    await cluster.stopServer('fast');
    await new Promise((r) => setTimeout(r, 1500));
    await cluster.startServer();
    const t = await lastTick('db_a');
    await waitFor('ticks after restart', 30_000, async () => ((await lastTick('db_a')) >= t + 3 ? true : undefined), d.log);
    assert.equal(d.proc.exitCode, null);
  });

  it('logs stats, never the password, and exits 0 on SIGTERM', async () => {
    const d = daemon as Pgqd;
    await waitFor('a stats line', 10_000, async () => (/\{ticks: \d+, maint: \d+, retry: \d+\}/.test(d.log()) ? true : undefined));
    d.proc.kill('SIGTERM');
    assert.equal(await d.exited, 0);
    const log = d.log();
    assert.match(log, /Connect '/, 'connections are logged (debug)');
    assert.ok(!log.includes(SECRET), 'the password appears in the log');
  });
});
