// A root -> branch -> leaf cascade run as in production: the real pgqd binary ticks and
// maintains every node database with its default settings (only base_connstr and
// database_list set), and each node has its `londiste JOB.yaml worker` process. The tests never
// tick a queue themselves: to know what a node must have applied, they change a row on the
// root and wait for the pgqd tick whose snapshot contains that transaction.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type pg from 'pg';
import { createSeedSchema, startCluster, testVersions, type PgCluster } from '@skytools/harness';
import { jobDir, ok, runLondiste } from '../cli/run-londiste.js';
import { pgqdBin, spawnDaemon, tail, type Daemon } from './daemon-env.js';
import { startWorker, tableDigest, waitFor, type RunningWorker } from './replication-env.js';

const versions = testVersions();
const srcMajor = versions[0] ?? 15;
const dstMajor = versions.at(-1) ?? 15;
const QUEUE = 'q';
const TABLES = ['user_info', 'user_session', 'user_login_rec', 'user_logout_rec'] as const;
const NODES = ['root', 'branch', 'leaf'] as const;
type NodeName = (typeof NODES)[number];

describe(`cascade driven by pgqd, root on PostgreSQL ${srcMajor}, branch and leaf on ${dstMajor}`, () => {
  let src: PgCluster;
  let dst: PgCluster;
  const jobs = jobDir();
  const dir = mkdtempSync(join(tmpdir(), 'skytools-pgqd-cascade-'));
  const files: Record<string, string> = {};
  const workers = new Map<NodeName, RunningWorker>();
  /** One pgqd per cluster, as deployed: the root's cluster and the branch and leaf's. */
  const pgqd: { src?: Daemon; dst?: Daemon; probe?: Daemon } = {};
  let loadRound = 0;

  const clusterOf = (n: NodeName): PgCluster => (n === 'root' ? src : dst);
  const job = (n: NodeName): string => `n_${n}`;
  const fileOf = (n: NodeName): string => files[n] ?? '';
  const diag = (): string =>
    [
      ...NODES.map((n) => `--- worker ${n}:\n${tail(workers.get(n)?.output() ?? '', 12)}`),
      `--- pgqd (root cluster):\n${tail(pgqd.src?.output() ?? '', 8)}`,
      `--- pgqd (branch/leaf cluster):\n${tail(pgqd.dst?.output() ?? '', 8)}`,
    ].join('\n');

  /** pgqd with nothing but the connection and the databases set, plus `extra` lines. */
  const startPgqd = async (cluster: PgCluster, name: string, dbs: readonly string[], extra = ''): Promise<Daemon> => {
    const file = join(dir, `pgqd-${name}.yaml`);
    writeFileSync(
      file,
      `base_connstr: ${JSON.stringify(`host=${cluster.host} port=${cluster.port} user=${cluster.user}`)}\ndatabase_list: [${dbs.join(', ')}]\n${extra}`,
    );
    const d = spawnDaemon(pgqdBin(), ['--config', file]);
    await waitFor(`pgqd ${name} serving ${dbs[0] ?? ''}`, 30_000, async () => {
      if (!d.running()) throw new Error(`pgqd ${name} exited:\n${d.output()}`);
      return new RegExp(`${dbs[0] ?? ''}: serving`).test(d.output()) ? true : undefined;
    });
    return d;
  };

  const lastTick = async (n: NodeName): Promise<bigint> => {
    const r = await clusterOf(n).query<{ t: string | null }>(n, 'SELECT last_tick_id::text AS t FROM pgq_node.local_state WHERE queue_name = $1 AND consumer_name = $2', [QUEUE, job(n)]);
    return BigInt(r[0]?.t ?? '0');
  };

  const tablesOk = async (): Promise<void> => {
    for (const n of ['branch', 'leaf'] as const) {
      await waitFor(`${n}: every table ok`, 120_000, async () => {
        const r = await dst.query<{ n: number }>(n, `SELECT count(*)::int AS n FROM londiste.get_table_list($1) WHERE local AND merge_state = 'ok'`, [QUEUE]);
        return r[0]?.n === TABLES.length ? true : undefined;
      }, diag);
    }
  };

  /**
   * Branch and leaf have applied everything committed on the root so far: a marker change on the
   * root, the first tick pgqd makes whose snapshot contains it, and both nodes past that tick.
   */
  const synced = async (timeoutMs = 180_000): Promise<void> => {
    const m = await src.query<{ x: string }>('root', `UPDATE digoal_01.user_info SET mod_time = clock_timestamp() WHERE userid = 1 RETURNING txid_current()::text AS x`);
    const x = m[0]?.x;
    assert.ok(x !== undefined, 'marker row present');
    const tick = await waitFor(`a pgqd tick containing txid ${x}`, timeoutMs, async () => {
      const r = await src.query<{ t: string | null }>(
        'root',
        `SELECT min(t.tick_id)::text AS t FROM pgq.tick t JOIN pgq.queue q ON q.queue_id = t.tick_queue
          WHERE q.queue_name = $1 AND txid_visible_in_snapshot($2::text::bigint, t.tick_snapshot)`,
        [QUEUE, x],
      );
      return r[0]?.t ?? undefined;
    }, diag);
    for (const n of ['branch', 'leaf'] as const) {
      let seen = 0n;
      await waitFor(`${n} past tick ${tick}`, timeoutMs, async () => {
        seen = await lastTick(n);
        return seen >= BigInt(tick) ? true : undefined;
      }, () => `${n} is at tick ${seen}\n${diag()}`);
    }
  };

  const assertSame = async (): Promise<void> => {
    for (const t of TABLES) {
      const want = await tableDigest(src, 'root', `SELECT * FROM digoal_01.${t}`);
      for (const n of ['branch', 'leaf'] as const) {
        assert.deepEqual(await tableDigest(dst, n, `SELECT * FROM digoal_01.${t}`), want, `${n}: digoal_01.${t} differs from the root`);
      }
    }
  };

  /**
   * One round of the seed's kind of traffic, with rows that live for one round only. One
   * transaction per round: pgqd ticks by time, and a branch applies tick by tick, so rounds of
   * many small transactions on a slow machine would turn into hundreds of small batches.
   */
  const loadOnce = async (c: pg.ClientBase): Promise<void> => {
    const i = ++loadRound;
    await c.query('BEGIN');
    try {
      await c.query(`INSERT INTO digoal_01.user_login_rec (userid, login_time, ip) SELECT g, now(), '10.1.1.1' FROM generate_series(1, 20) g`);
      await c.query(`UPDATE digoal_01.user_session SET logintime = now(), login_count = login_count + 1 WHERE userid % 50 = $1`, [i % 50]);
      await c.query(`INSERT INTO digoal_01.user_logout_rec (userid, logout_time, ip) SELECT g, now(), '10.2.2.2' FROM generate_series(1, 10) g`);
      await c.query(`INSERT INTO digoal_01.user_info (userid, engname, cnname) VALUES ($1, 'short-lived', '德哥')`, [100_000 + i]);
      await c.query(`DELETE FROM digoal_01.user_info WHERE userid = $1`, [100_000 + i - 1]);
      await c.query(`DELETE FROM digoal_01.user_login_rec WHERE id IN (SELECT id FROM digoal_01.user_login_rec ORDER BY id DESC LIMIT 3)`);
      await c.query('COMMIT');
    } catch (err) {
      await c.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  };

  /**
   * A load on the root in the background: at least `minRounds` rounds, then on until `stop()`,
   * but never more than `maxRounds`. A branch applies tick by tick, so an unbounded load on a
   * busy machine only builds a backlog that the test then waits for.
   */
  const backgroundLoad = (minRounds: number, maxRounds: number): { stop: () => Promise<number> } => {
    let stopping = false;
    let rounds = 0;
    const done = src.withClient('root', async (c) => {
      while ((!stopping || rounds < minRounds) && rounds < maxRounds) {
        await loadOnce(c);
        rounds++;
      }
    });
    return {
      stop: async () => {
        stopping = true;
        await done;
        return rounds;
      },
    };
  };

  const queueState = async (cluster: PgCluster, db: string): Promise<{ cur: number; table: string }> => {
    const r = await cluster.query<{ cur: number; t: string }>(db, `SELECT queue_cur_table AS cur, queue_data_pfx || '_' || queue_cur_table AS t FROM pgq.queue WHERE queue_name = $1`, [QUEUE]);
    const row = r[0];
    if (row === undefined) throw new Error(`no queue ${QUEUE} in ${db}`);
    return { cur: row.cur, table: row.t };
  };

  /** Row events per table in a node's queue from event id `fromId` on: total and distinct ids. */
  const rowEvents = async (cluster: PgCluster, db: string, fromId: string): Promise<Record<string, string>> => {
    const r = await cluster.query<{ tbl: string; n: string; ids: string }>(
      db,
      `SELECT ev_extra1 AS tbl, count(*)::text AS n, count(DISTINCT ev_id)::text AS ids FROM pgq.event_template
        WHERE ev_id > $1::bigint AND ev_type NOT LIKE '%.%' AND ev_extra1 LIKE 'digoal_01.%' GROUP BY 1 ORDER BY 1`,
      [fromId],
    );
    return Object.fromEntries(r.map((x) => [x.tbl, `${x.n} events, ${x.ids} ids`]));
  };

  before(async () => {
    [src, dst] = await Promise.all([startCluster(srcMajor), startCluster(dstMajor)]);
    await src.createDatabase('root');
    await dst.createDatabase('branch');
    await dst.createDatabase('leaf');
    await src.withClient('root', (c) => createSeedSchema(c, { users: 2000, keyedLogs: true }));
    for (const n of ['branch', 'leaf'] as const) await dst.withClient(n, (c) => createSeedSchema(c, { users: 0, keyedLogs: true }));
    await src.query('root', `INSERT INTO digoal_01.user_login_rec (userid, login_time, ip) SELECT g, now(), '192.168.0.1' FROM generate_series(1, 300) g`);
    // job files with the defaults: only the node database and the queue
    for (const n of NODES) files[n] = jobs.write(job(n), { db: clusterOf(n).connectionString(n), queue_name: QUEUE });
    ok(await runLondiste([fileOf('root'), 'create-root', job('root'), src.connectionString('root')]), 'create-root');
    ok(await runLondiste([fileOf('branch'), 'create-branch', job('branch'), dst.connectionString('branch'), `--provider=${src.connectionString('root')}`]), 'create-branch');
    ok(await runLondiste([fileOf('leaf'), 'create-leaf', job('leaf'), dst.connectionString('leaf'), `--provider=${dst.connectionString('branch')}`]), 'create-leaf');
    ok(await runLondiste([fileOf('root'), 'add-table', '--all']), 'add-table on the root');
    ok(await runLondiste([fileOf('root'), 'add-seq', '--all']), 'add-seq on the root');
    pgqd.src = await startPgqd(src, 'src', ['root']);
    pgqd.dst = await startPgqd(dst, 'dst', ['branch', 'leaf']);
    for (const n of NODES) workers.set(n, startWorker(fileOf(n)));
    for (const n of ['branch', 'leaf'] as const) {
      ok(await runLondiste([fileOf(n), 'add-table', '--all']), `add-table on the ${n}`);
      ok(await runLondiste([fileOf(n), 'add-seq', '--all']), `add-seq on the ${n}`);
    }
  });

  after(async () => {
    for (const w of workers.values()) await w.stop();
    for (const d of [pgqd.src, pgqd.dst, pgqd.probe]) if (d !== undefined) await d.stop(5_000);
    jobs.remove();
    rmSync(dir, { recursive: true, force: true });
    await Promise.all([src.stop(), dst.stop()]);
  });

  it('copies every table to the branch and the leaf, then replicates a load through the branch', async () => {
    await tablesOk();
    await src.withClient('root', async (c) => {
      for (let i = 0; i < 10; i++) await loadOnce(c);
      await c.query(`UPDATE digoal_01.user_info SET mod_time = now(), qq = userid WHERE userid % 3 = 0`);
    });
    await synced();
    await assertSame();
    for (const t of TABLES) assert.ok((await tableDigest(dst, 'leaf', `SELECT * FROM digoal_01.${t}`)).rows > 0, `leaf ${t} has rows`);
  });

  it('moves the leaf sequence past a setval far beyond the published margin on the root', async () => {
    await tablesOk();
    const r = await src.query<{ v: string }>('root', `SELECT setval('digoal_01.user_login_rec_id_seq', last_value + 1000000)::text AS v FROM digoal_01.user_login_rec_id_seq`);
    const target = BigInt(r[0]?.v ?? '0');
    assert.ok(target > 1_000_000n);
    for (const n of ['branch', 'leaf'] as const) {
      await waitFor(`${n} sequence at ${target}`, 60_000, async () => {
        const s = await dst.query<{ v: string }>(n, `SELECT last_value::text AS v FROM digoal_01.user_login_rec_id_seq`);
        return BigInt(s[0]?.v ?? '0') >= target ? true : undefined;
      }, diag);
    }
    // rows inserted on the root from now on carry ids the leaf's sequence has already passed
    await src.query('root', `INSERT INTO digoal_01.user_login_rec (userid, login_time, ip) VALUES (7, now(), '10.9.9.9')`);
    await synced();
    await assertSame();
    const leafSeq = await dst.query<{ v: string }>('leaf', `SELECT last_value::text AS v FROM digoal_01.user_login_rec_id_seq`);
    const maxId = await dst.query<{ m: string }>('leaf', `SELECT max(id)::text AS m FROM digoal_01.user_login_rec`);
    assert.ok(BigInt(leafSeq[0]?.v ?? '0') >= BigInt(maxId[0]?.m ?? '0'), 'the leaf sequence is not behind the ids it holds');
  });

  it('carries a TRUNCATE on the root through the branch to the leaf', async () => {
    await tablesOk();
    await src.query('root', `INSERT INTO digoal_01.user_logout_rec (userid, logout_time, ip) SELECT g, now(), '10.3.3.3' FROM generate_series(1, 50) g`);
    await synced();
    assert.ok((await tableDigest(dst, 'leaf', 'SELECT * FROM digoal_01.user_logout_rec')).rows >= 50, 'the leaf has rows to lose');
    await src.query('root', 'TRUNCATE digoal_01.user_logout_rec');
    await src.query('root', `INSERT INTO digoal_01.user_logout_rec (userid, logout_time, ip) VALUES (1, now(), '10.4.4.4'), (2, now(), '10.4.4.4'), (3, now(), '10.4.4.4')`);
    await synced();
    await assertSame();
    assert.equal((await tableDigest(dst, 'leaf', 'SELECT * FROM digoal_01.user_logout_rec')).rows, 3);
    assert.equal((await tableDigest(dst, 'branch', 'SELECT * FROM digoal_01.user_logout_rec')).rows, 3);
  });

  it('loses and duplicates nothing when the branch worker is killed with SIGKILL during a load', async () => {
    await tablesOk();
    await synced();
    const seq = await src.query<{ s: string }>('root', `SELECT pgq.seq_getval(queue_event_seq)::text AS s FROM pgq.queue WHERE queue_name = $1`, [QUEUE]);
    const fromId = seq[0]?.s ?? '0';
    const load = backgroundLoad(40, 80);
    try {
      for (let k = 0; k < 3; k++) {
        // each kill after the (re)started worker has applied something of the load
        const t0 = await lastTick('branch');
        await waitFor('the branch applying batches', 120_000, async () => ((await lastTick('branch')) > t0 ? true : undefined), diag);
        const w = workers.get('branch');
        w?.proc.kill('SIGKILL');
        await w?.stop();
        workers.set('branch', startWorker(fileOf('branch')));
      }
    } finally {
      const rounds = await load.stop();
      assert.ok(rounds >= 40);
    }
    await synced();
    await assertSame();
    // the branch re-published each root event exactly once
    const rootEvents = await rowEvents(src, 'root', fromId);
    assert.ok(Object.keys(rootEvents).length >= 3, `events of the load on the root: ${JSON.stringify(rootEvents)}`);
    assert.deepEqual(await rowEvents(dst, 'branch', fromId), rootEvents, 'row events in the branch queue equal the root queue');
    const dup = await dst.query<{ n: number }>('branch', `SELECT (count(*) - count(DISTINCT ev_id))::int AS n FROM pgq.event_template`);
    assert.equal(dup[0]?.n, 0, 'no event twice in the branch queue');
  });

  it('takes a shorter maint_period from a SIGHUP at once (docs/pgqd.md: new periods apply at once)', async () => {
    // a database of its own with a plain queue that nothing consumes: it rotates whenever
    // maintenance runs after its rotation period
    await src.createDatabase('probe');
    const probeJob = jobs.write('probe', { db: src.connectionString('probe'), queue_name: 'pq' });
    ok(await runLondiste([probeJob, 'create-root', 'probe', src.connectionString('probe')]), 'create-root probe');
    await src.query('probe', `SELECT pgq.create_queue('plain')`);
    await src.query('probe', `SELECT pgq.set_queue_config('plain', 'rotation_period', '1 second')`);
    const cur = async (): Promise<number | undefined> => (await src.query<{ c: number }>('probe', `SELECT queue_cur_table AS c FROM pgq.queue WHERE queue_name = 'plain'`))[0]?.c;
    const before = await cur();
    const started = Date.now();
    const d = await startPgqd(src, 'probe', ['probe']);
    pgqd.probe = d;
    writeFileSync(join(dir, 'pgqd-probe.yaml'), `base_connstr: ${JSON.stringify(`host=${src.host} port=${src.port} user=${src.user}`)}\ndatabase_list: [probe]\nmaint_period: 1s\n`);
    d.proc.kill('SIGHUP');
    await waitFor('the reload', 20_000, async () => (/configuration reloaded/.test(d.output()) ? true : undefined), () => d.output());
    // with a 1 s period the first maintenance is due within a second or two; 30 s is generous,
    // and still far from the 120 s of the default period the daemon started with
    await waitFor('a rotation by maintenance', 30_000, async () => ((await cur()) !== before ? true : undefined),
      () => `pgqd started ${((Date.now() - started) / 1000).toFixed(0)} s ago with the default maint_period (120 s), reloaded with 1 s; queue_cur_table still ${String(before)}\n${tail(d.output(), 10)}`);
    assert.deepEqual(await d.stop(), { code: 0, signal: null });
  });

  it('rotates the event tables of the root and the branch under load while replication keeps everything', async () => {
    await tablesOk();
    // pgqd's first maintenance comes one maint_period (120 s by default) after start: restart
    // both with a short one (a stop in the middle of replication must be harmless, too)
    for (const [k, cluster, dbs] of [['src', src, ['root']], ['dst', dst, ['branch', 'leaf']]] as const) {
      const old = pgqd[k];
      assert.deepEqual(await old?.stop(), { code: 0, signal: null }, `pgqd ${k} stops with 0`);
      pgqd[k] = await startPgqd(cluster, k, dbs, 'maint_period: 1s\n');
    }
    const before = { root: await queueState(src, 'root'), branch: await queueState(dst, 'branch') };
    await src.query('root', `SELECT pgq.set_queue_config($1, 'rotation_period', '1 second')`, [QUEUE]);
    await dst.query('branch', `SELECT pgq.set_queue_config($1, 'rotation_period', '1 second')`, [QUEUE]);

    const load = backgroundLoad(20, 60);
    try {
      // a rotation waits until every consumer (the global watermark included, which the root
      // publishes every 30 s) is past the previous one
      await waitFor('rotations on the root and the branch', 120_000, async () => {
        const r = await queueState(src, 'root');
        const b = await queueState(dst, 'branch');
        return r.cur !== before.root.cur && b.cur !== before.branch.cur ? true : undefined;
      }, diag);
    } finally {
      await load.stop();
    }
    await src.withClient('root', async (c) => {
      for (let i = 0; i < 5; i++) await loadOnce(c);
    });
    await synced();
    await assertSame();
    // events written after the rotation went to the new tables, on the root and on the branch
    for (const [cluster, db] of [[src, 'root'], [dst, 'branch']] as const) {
      const q = await queueState(cluster, db);
      const n = await cluster.query<{ n: number }>(db, `SELECT count(*)::int AS n FROM ${q.table}`);
      assert.ok((n[0]?.n ?? 0) > 0, `${db}: the current event table ${q.table} holds the new events`);
    }
  });
});
