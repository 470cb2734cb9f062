// pgqd against a real cluster: ticking, discovery, rotation, retry, reload, shutdown, restarts
// of the server, and no password in its log.
//
// Every test starts a pgqd of its own (own config and log file) and stops it at its end, and
// creates the databases it looks at; pgqd discovers every database of the cluster, so a test
// only ever looks at its own databases.
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
  configFile: string;
  log: () => string;
  /** The log without the (many) connection lines, for failure messages. */
  logTail: () => string;
  writeConfig: (extra: Record<string, string>) => void;
  /** SIGTERM (SIGKILL if it does not exit); the exit code. */
  stop: () => Promise<number | null>;
}

describe(`pgqd, PostgreSQL ${major}`, () => {
  let cluster: PgCluster;
  const dir = mkdtempSync(join(tmpdir(), 'skytools-pgqd-'));
  const daemons: Pgqd[] = [];

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

  /** Start a pgqd with its own config and log file, and wait until it runs (signal handlers installed). */
  const startPgqd = async (name: string, extra: Record<string, string> = {}): Promise<Pgqd> => {
    const logFile = join(dir, `${name}.log`);
    const configFile = join(dir, `${name}.yaml`);
    const writeConfig = (more: Record<string, string>): void => {
      const cfg = {
        base_connstr: `host=127.0.0.1 port=${cluster.port} user=${cluster.user} password=${SECRET}`,
        initial_database: 'postgres',
        check_period: '300ms',
        ticker_period: '100ms',
        retry_period: '200ms',
        maint_period: '200ms',
        stats_period: '500ms',
        logfile: logFile,
        ...more,
      };
      writeFileSync(configFile, Object.entries(cfg).map(([k, v]) => `${k}: ${JSON.stringify(v)}`).join('\n') + '\n');
    };
    writeConfig(extra);
    const proc = spawn(process.execPath, [join(repoRoot(), 'packages', 'pgqd', 'dist', 'bin', 'pgqd.js'), '--config', configFile, '-v'], { stdio: 'ignore' });
    const exited = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)));
    const log = (): string => {
      try {
        return readFileSync(logFile, 'utf8');
      } catch {
        return '';
      }
    };
    const d: Pgqd = {
      proc,
      exited,
      configFile,
      log,
      logTail: () => log().split('\n').filter((l) => !l.includes('Connect')).slice(-20).join('\n'),
      writeConfig,
      stop: async () => {
        if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
        const timer = setTimeout(() => proc.kill('SIGKILL'), 20_000);
        const code = await exited;
        clearTimeout(timer);
        return code;
      },
    };
    daemons.push(d);
    // the start line is written after the signal handlers are installed: a signal before would kill it
    await waitFor(`pgqd ${name} started`, 20_000, async () => (/Starting pgqd/.test(log()) ? true : undefined), log);
    return d;
  };

  before(async () => {
    cluster = await startCluster(major);
  });
  after(async () => {
    for (const d of daemons) {
      if (d.proc.exitCode === null && d.proc.signalCode === null) {
        d.proc.kill('SIGKILL');
        await d.exited;
      }
    }
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('ticks the queues of a database with pgq, and ignores one without', async () => {
    await newPgqDb('tick_a');
    await cluster.createDatabase('no_pgq');
    const d = await startPgqd('tick');
    try {
      const t0 = await lastTick('tick_a');
      await waitFor('ticks in tick_a', 20_000, async () => ((await lastTick('tick_a')) >= t0 + 5 ? true : undefined), d.logTail);
      assert.match(d.log(), /tick_a: serving \(pgq 3\./);
      assert.doesNotMatch(d.log(), /no_pgq: serving/);
      const tables = await cluster.query<{ n: number }>('no_pgq', `SELECT count(*)::int AS n FROM pg_namespace WHERE nspname = 'pgq'`);
      assert.equal(tables[0]?.n, 0, 'pgqd changed nothing in the database without pgq');
    } finally {
      await d.stop();
    }
  });

  it('picks up a database created after start', async () => {
    await newPgqDb('early');
    const d = await startPgqd('late');
    try {
      await waitFor('early served', 20_000, async () => (/early: serving/.test(d.log()) ? true : undefined), d.logTail);
      assert.doesNotMatch(d.log(), /late_db: serving/);
      await newPgqDb('late_db');
      await waitFor('ticks in late_db', 20_000, async () => ((await lastTick('late_db')) >= 3 ? true : undefined), d.logTail);
      assert.match(d.log(), /late_db: serving/);
    } finally {
      await d.stop();
    }
  });

  it('rotates event tables and moves retry events back', async () => {
    await newPgqDb('rot');
    const d = await startPgqd('rot');
    const c = new pg.Client(cluster.clientConfig('rot'));
    await c.connect();
    try {
      await c.query(`SELECT pgq.set_queue_config('q', 'rotation_period', '1 second')`);
      const before = (await c.query<{ n: number }>(`SELECT queue_cur_table AS n FROM pgq.queue`)).rows[0]?.n;
      await waitFor('a rotation', 20_000, async () => {
        const now = (await c.query<{ n: number }>(`SELECT queue_cur_table AS n FROM pgq.queue`)).rows[0]?.n;
        return now !== before ? true : undefined;
      }, d.logTail);

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
      }, d.logTail);
      const evId = (await c.query<{ id: string }>(`SELECT ev_id::text AS id FROM pgq.get_batch_events($1) WHERE ev_type = 'retry-me'`, [batch])).rows[0]?.id;
      await c.query(`SELECT pgq.event_retry($1, $2, 0)`, [batch, evId]);
      await c.query(`SELECT pgq.finish_batch($1)`, [batch]);
      await waitFor('the retried event back in the queue', 20_000, async () => {
        const r = await c.query<{ n: number }>(`SELECT count(*)::int AS n FROM pgq.event_template WHERE ev_type = 'retry-me' AND ev_retry = 1`);
        return r.rows[0]?.n === 1 ? true : undefined;
      }, d.logTail);
      const rq = await c.query<{ n: number }>(`SELECT count(*)::int AS n FROM pgq.retry_queue`);
      assert.equal(rq.rows[0]?.n, 0);
    } finally {
      await c.end();
      await d.stop();
    }
  });

  it('reads each maintenance result by its type: a count repeats until 0, a record, boolean or NULL runs once a round', async () => {
    await newPgqDb('maint_types');
    // maintenance operations of every result type, each call recorded (upstream's londiste.root_check_seqs
    // returns a record: once a round, not a thousand times)
    await cluster.withClient('maint_types', async (c) => {
      await c.query(`CREATE SCHEMA tm;
        CREATE TABLE tm.calls (fn text NOT NULL);
        CREATE TABLE tm.budget (n int NOT NULL); INSERT INTO tm.budget VALUES (3);
        CREATE FUNCTION tm.rec(text, OUT ret_code int4, OUT ret_note text) LANGUAGE plpgsql AS
          $f$ BEGIN INSERT INTO tm.calls VALUES ('rec'); ret_code := 200; ret_note := 'ok'; END $f$;
        CREATE FUNCTION tm.flag(text) RETURNS boolean LANGUAGE plpgsql AS $f$ BEGIN INSERT INTO tm.calls VALUES ('flag'); RETURN true; END $f$;
        CREATE FUNCTION tm.nothing(text) RETURNS int LANGUAGE plpgsql AS $f$ BEGIN INSERT INTO tm.calls VALUES ('nothing'); RETURN NULL; END $f$;
        CREATE FUNCTION tm.countdown(text) RETURNS int8 LANGUAGE plpgsql AS $f$
          DECLARE v int; BEGIN INSERT INTO tm.calls VALUES ('countdown'); UPDATE tm.budget SET n = greatest(n - 1, 0) RETURNING n INTO v; RETURN v; END $f$;
        CREATE OR REPLACE FUNCTION pgq.maint_operations(OUT func_name text, OUT func_arg text) RETURNS SETOF record LANGUAGE plpgsql AS $f$
        BEGIN
          INSERT INTO tm.calls VALUES ('round');
          func_arg := 'q';
          FOREACH func_name IN ARRAY ARRAY['tm.rec', 'tm.flag', 'tm.nothing', 'tm.countdown'] LOOP RETURN NEXT; END LOOP;
        END $f$;`);
    });
    const calls = async (): Promise<Record<string, number>> => {
      const r = await cluster.query<{ fn: string; n: number }>('maint_types', `SELECT fn, count(*)::int AS n FROM tm.calls GROUP BY fn`);
      return Object.fromEntries(r.map((x) => [x.fn, x.n]));
    };
    const d = await startPgqd('maint_types', { database_list: 'maint_types' });
    try {
      await waitFor('four maintenance rounds', 20_000, async () => (((await calls())['round'] ?? 0) >= 4 ? true : undefined), d.logTail);
    } finally {
      assert.equal(await d.stop(), 0);
    }
    const n = await calls();
    const rounds = n['round'] ?? 0;
    for (const fn of ['rec', 'flag', 'nothing']) {
      const got = n[fn] ?? 0;
      assert.ok(got >= rounds - 1 && got <= rounds, `${fn}: ${got} calls in ${rounds} rounds (once a round)`);
    }
    // 3 -> 2 -> 1 -> 0 in the first round, then once a round finding 0
    const cd = n['countdown'] ?? 0;
    assert.ok(cd >= rounds + 1 && cd <= rounds + 2, `countdown: ${cd} calls in ${rounds} rounds (repeated while non-zero)`);
  });

  it('applies a new ticker_period on SIGHUP, and survives a broken file', async () => {
    await newPgqDb('hup');
    const d = await startPgqd('hup');
    try {
      await waitFor('ticks in hup', 20_000, async () => ((await lastTick('hup')) >= 3 ? true : undefined), d.logTail);
      d.writeConfig({ ticker_period: '1h' });
      d.proc.kill('SIGHUP');
      await waitFor('reload logged', 10_000, async () => (/configuration reloaded/.test(d.log()) ? true : undefined), d.logTail);
      const t1 = await lastTick('hup');
      // the point is that nothing happens: with the old 100 ms period this window holds about six
      // ticks. The ticker may run once more right after the reload woke it (a tick in flight, or
      // the one that follows the wake-up before the new period's sleep), hence t1 + 1.
      await new Promise((r) => setTimeout(r, 600));
      const t2 = await lastTick('hup');
      assert.ok(t2 <= t1 + 1, `ticks went from ${t1} to ${t2} in 600 ms with ticker_period 1h:\n${d.logTail()}`);

      writeFileSync(d.configFile, 'ticker_period: [oops\n');
      d.proc.kill('SIGHUP');
      await waitFor('reload failure logged', 10_000, async () => (/reload failed, keeping the running configuration/.test(d.log()) ? true : undefined), d.logTail);
      assert.equal(d.proc.exitCode, null, 'pgqd still runs');

      d.writeConfig({});
      d.proc.kill('SIGHUP');
      await waitFor('ticks again', 20_000, async () => ((await lastTick('hup')) >= t2 + 3 ? true : undefined), d.logTail);
    } finally {
      await d.stop();
    }
  });

  it('survives a server restart and resumes ticking', async () => {
    await newPgqDb('restart');
    const d = await startPgqd('restart');
    try {
      await waitFor('ticks in restart', 20_000, async () => ((await lastTick('restart')) >= 3 ? true : undefined), d.logTail);
      await cluster.stopServer('fast');
      // pgqd must notice the server is gone before it comes back
      await waitFor('the ticker failing while the server is down', 20_000, async () => (/restart: ticker failed/.test(d.log()) ? true : undefined), d.logTail);
      await cluster.startServer();
      const t = await lastTick('restart');
      await waitFor('ticks after restart', 30_000, async () => ((await lastTick('restart')) >= t + 3 ? true : undefined), d.logTail);
      // the log file is written asynchronously: under load the line may land after the ticks
      await waitFor('recovery logged', 10_000, async () => (/restart: ticker works again/.test(d.log()) ? true : undefined), d.logTail);
      assert.equal(d.proc.exitCode, null);
    } finally {
      await d.stop();
    }
  });

  it('logs stats, never the password, and exits 0 on SIGTERM', async () => {
    await newPgqDb('stats');
    const d = await startPgqd('stats');
    try {
      await waitFor('a stats line', 10_000, async () => (/\{ticks: [1-9]\d*, maint: \d+, retry: \d+\}/.test(d.log()) ? true : undefined), d.logTail);
      d.proc.kill('SIGTERM');
      assert.equal(await d.exited, 0);
      const log = d.log();
      assert.match(log, /Connect '/, 'connections are logged (debug)');
      assert.ok(!log.includes(SECRET), 'the password appears in the log');
    } finally {
      await d.stop();
    }
  });
});
