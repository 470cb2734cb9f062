/**
 * `make demo`: the blog's scenario on this machine, and the upgrade finished. PostgreSQL 13
 * (source) and 17 (targets), the seed schema with 200,000 users, a root, a branch and a leaf (renamed
 * and filtered), pgqd and londisted running from generated config files, a pgbench load of the blog's
 * login/logout functions, `status` and a per-table comparison; then the switchover: the PostgreSQL 17
 * node becomes the root, the old one a branch under it, a few transactions on the new root, `status`
 * and the comparison again. Everything started is stopped at the end.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { clientBinDir, createSeedSchema, repoRoot, seedPgbenchScript, startCluster, type PgCluster } from '@skytools/harness';

const SRC_MAJOR = Number(process.env['DEMO_SOURCE_VERSION'] ?? 13);
const DST_MAJOR = Number(process.env['DEMO_TARGET_VERSION'] ?? 17);
const USERS = Number(process.env['DEMO_USERS'] ?? 200_000);
const LOAD_SECONDS = Number(process.env['DEMO_LOAD_SECONDS'] ?? 20);

const say = (s: string): void => {
  process.stdout.write(`${s}\n`);
};
const bin = (pkg: string, name: string): string => join(repoRoot(), 'packages', pkg, 'dist', 'bin', `${name}.js`);

function londiste(args: string[]): string {
  const r = spawnSync(process.execPath, [bin('londiste', 'londiste'), ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`londiste ${args.slice(1).join(' ')} failed:\n${r.stderr}${r.stdout}`);
  return r.stdout;
}

/** A command whose log lines (stderr) are part of what the demo shows. */
function londisteLog(args: string[]): string[] {
  const r = spawnSync(process.execPath, [bin('londiste', 'londiste'), ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`londiste ${args.slice(1).join(' ')} failed:\n${r.stderr}${r.stdout}`);
  return r.stderr.trimEnd().split('\n').map((l) => l.replace(/^\S+ \S+ \d+ /, ''));
}

function yaml(values: Record<string, string | number>): string {
  return Object.entries(values).map(([k, v]) => `${k}: ${typeof v === 'number' ? v : JSON.stringify(v)}`).join('\n') + '\n';
}

async function digest(c: PgCluster, db: string, from: string): Promise<{ rows: number; md5: string }> {
  const r = await c.query<{ rows: number; md5: string }>(db, `SELECT count(*)::int AS rows, coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '-') AS md5 FROM (${from}) t`);
  return r[0] ?? { rows: 0, md5: '-' };
}

async function until(what: string, timeoutMs: number, probe: () => Promise<boolean>): Promise<number> {
  const start = Date.now();
  while (!(await probe())) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return (Date.now() - start) / 1000;
}

async function main(): Promise<number> {
  const work = mkdtempSync(join(tmpdir(), 'skytools-demo-'));
  const procs: ChildProcess[] = [];
  const clusters: PgCluster[] = [];
  try {
    say(`== Starting PostgreSQL ${SRC_MAJOR} (source) and ${DST_MAJOR} (targets)`);
    const [src, dst] = await Promise.all([startCluster(SRC_MAJOR), startCluster(DST_MAJOR)]);
    clusters.push(src, dst);
    say(`   source: PostgreSQL ${src.serverVersion} on port ${src.port}; targets: PostgreSQL ${dst.serverVersion} on port ${dst.port}`);

    say(`== Source database digoal_01: the seed schema with ${USERS} users`);
    await src.createDatabase('digoal_01');
    await src.withClient('digoal_01', (c) => createSeedSchema(c, { users: USERS, keyedLogs: true, functions: true }));
    await dst.createDatabase('digoal_01');
    await dst.withClient('digoal_01', (c) => createSeedSchema(c, { users: 0, keyedLogs: true }));
    await dst.createDatabase('digoal_02');

    const srcLoc = src.connectionString('digoal_01');
    const dst1Loc = dst.connectionString('digoal_01');
    const dst2Loc = dst.connectionString('digoal_02');
    const jobsDir = join(work, 'jobs.d');
    mkdirSync(jobsDir);
    mkdirSync(join(work, 'log'));
    const job = (name: string, db: string, extra: Record<string, string | number> = {}): string => {
      const file = join(jobsDir, `${name}.yaml`);
      writeFileSync(file, yaml({ job_name: name, db, queue_name: 'replika', logfile: join(work, 'log', `${name}.log`), ...extra }));
      return file;
    };
    const srcJob = job('src_digoal_01', srcLoc);
    const dst1Job = job('dst1_digoal_01', dst1Loc, { parallel_copies: 2 });
    const dst2Job = job('dst2_digoal_02', dst2Loc, { parallel_copies: 2 });
    writeFileSync(join(work, 'londisted.yaml'), yaml({ jobs_dir: jobsDir, max_parallel_copy: 4, logfile: join(work, 'log', 'londisted.log') }));
    // one pgqd per server: after the switchover the root's queue is on the PostgreSQL 17 one
    for (const [name, c] of [['pgqd-src', src], ['pgqd-dst', dst]] as const) {
      writeFileSync(join(work, `${name}.yaml`), yaml({ base_connstr: `host=127.0.0.1 port=${c.port} user=${c.user}`, initial_database: 'postgres', ticker_period: '100ms', logfile: join(work, 'log', `${name}.log`), pidfile: join(work, `${name}.pid`) }));
    }
    say(`   config files in ${work}`);

    say('== Nodes: create-root, create-branch (it will take over the root), create-leaf');
    londiste([srcJob, 'create-root', 'src_digoal_01', srcLoc]);
    await src.query('digoal_01', `SELECT pgq.set_queue_config('replika', 'ticker_max_lag', '100 milliseconds')`);
    londiste([dst1Job, 'create-branch', 'dst1_digoal_01', dst1Loc, `--provider=${srcLoc}`]);
    londiste([dst2Job, 'create-leaf', 'dst2_digoal_02', dst2Loc, `--provider=${srcLoc}`]);
    londiste([srcJob, 'add-table', '--all']);
    londiste([srcJob, 'add-seq', '--all']);

    say('== Starting pgqd and londisted');
    const start = (args: string[]): void => {
      procs.push(spawn(process.execPath, args, { stdio: 'ignore' }));
    };
    start([bin('pgqd', 'pgqd'), '--config', join(work, 'pgqd-src.yaml')]);
    start([bin('pgqd', 'pgqd'), '--config', join(work, 'pgqd-dst.yaml')]);
    start([bin('londiste', 'londisted'), '--config', join(work, 'londisted.yaml')]);

    say('== Subscribers: all tables and sequences on dst1; two renamed, filtered tables on dst2');
    const copyStart = Date.now();
    londiste([dst1Job, 'add-table', '--all']);
    londiste([dst1Job, 'add-seq', '--all']);
    londiste([dst2Job, 'add-table', 'digoal_01.user_info', '--dest-table=digoal_02.user_info1', '--where=userid < 1000', '--create']);
    londiste([dst2Job, 'add-table', 'digoal_01.user_session', '--dest-table=digoal_02.user_session1', '--where=userid < 1000', '--create']);
    for (const [db, n] of [['digoal_01', 4], ['digoal_02', 2]] as const) {
      await until(`${db} in sync`, 600_000, async () => {
        const r = await dst.query<{ n: number }>(db, `SELECT count(*)::int AS n FROM londiste.get_table_list('replika') WHERE local AND merge_state = 'ok'`);
        return r[0]?.n === n;
      });
    }
    say(`   every table copied and in sync after ${((Date.now() - copyStart) / 1000).toFixed(1)}s`);
    const logs = readFileSync(join(work, 'log', 'londisted.log'), 'utf8');
    for (const m of logs.matchAll(/(\S+): copied (\d+) rows, ([\d.]+) MB (?:\(\w+\) )?in ([\d.]+)s/g)) say(`   copy ${m[1]}: ${m[2]} rows, ${m[3]} MB in ${m[4]}s`);

    say(`== Load: pgbench -n -c 4 -j 2 -T ${LOAD_SECONDS} -M prepared, the blog's login/logout over TCP`);
    const script = join(work, 'login_logout.sql');
    writeFileSync(script, seedPgbenchScript('digoal_01', USERS));
    const seqBefore = await src.query<{ v: string }>('digoal_01', `SELECT pgq.seq_getval(queue_event_seq)::text AS v FROM pgq.queue WHERE queue_name = 'replika'`);
    const lags: number[] = [];
    const sampler = new pg.Client(src.clientConfig('digoal_01'));
    await sampler.connect();
    let sampling = true;
    const sampling$ = (async () => {
      while (sampling) {
        const r = await sampler.query<{ s: number | null }>(`SELECT max(extract(epoch FROM lag))::float8 AS s FROM pgq.get_consumer_info('replika') WHERE consumer_name IN ('dst1_digoal_01', 'dst2_digoal_02')`);
        if (r.rows[0]?.s != null) lags.push(r.rows[0].s);
        await new Promise((res) => setTimeout(res, 250));
      }
    })();
    // in the background: the lag sampler runs meanwhile
    const bench = await new Promise<{ stdout: string }>((resolve, reject) => {
      const p = spawn(join(clientBinDir(), 'pgbench'), ['-n', '-c', '4', '-j', '2', '-T', String(LOAD_SECONDS), '-M', 'prepared', '-f', script, '-h', '127.0.0.1', '-p', String(src.port), '-U', src.user, 'digoal_01'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      p.on('error', reject);
      p.on('close', (code) => (code === 0 ? resolve({ stdout }) : reject(new Error(`pgbench failed: ${stderr}`))));
    });
    sampling = false;
    await sampling$;
    await sampler.end();
    const tps = /tps = ([\d.]+)/.exec(bench.stdout)?.[1] ?? '?';
    const seqAfter = await src.query<{ v: string }>('digoal_01', `SELECT pgq.seq_getval(queue_event_seq)::text AS v FROM pgq.queue WHERE queue_name = 'replika'`);
    const events = Number(seqAfter[0]?.v ?? 0) - Number(seqBefore[0]?.v ?? 0);
    say(`   source: ${tps} tps, ${events} events captured`);

    say('== Waiting for the leaves to catch up');
    const loadEnd = Date.now();
    // the root publishes sequence positions every loop_delay; do it now rather than wait for it
    await src.query('digoal_01', `SELECT * FROM londiste.root_check_seqs('replika')`);
    await src.query('digoal_01', `SELECT pgq.force_tick('replika')`);
    const top = await src.query<{ t: string }>('digoal_01', `SELECT pgq.ticker('replika')::text AS t`);
    const topTick = BigInt((await src.query<{ t: string }>('digoal_01', `SELECT max(tick_id)::text AS t FROM pgq.tick`))[0]?.t ?? top[0]?.t ?? '0');
    for (const [db, w] of [['digoal_01', 'dst1_digoal_01'], ['digoal_02', 'dst2_digoal_02']] as const) {
      await until(`${w} caught up`, 600_000, async () => {
        const r = await dst.query<{ t: string | null }>(db, `SELECT last_tick_id::text AS t FROM pgq_node.local_state WHERE consumer_name = $1`, [w]);
        return r[0]?.t != null && BigInt(r[0].t) >= topTick;
      });
    }
    const catchUp = (Date.now() - loadEnd) / 1000;
    lags.sort((a, b) => a - b);
    const pct = (p: number): string => (lags.length === 0 ? '?' : (lags[Math.min(lags.length - 1, Math.floor((lags.length * p) / 100))] ?? 0).toFixed(2));
    say(`   caught up ${catchUp.toFixed(1)}s after the load; lag during the load (consumer lag on the root): p50 ${pct(50)}s, p95 ${pct(95)}s, max ${pct(100)}s`);
    say(`   throughput: ${events} events in ${LOAD_SECONDS}s of load + ${catchUp.toFixed(1)}s catch-up = ${(events / (LOAD_SECONDS + catchUp)).toFixed(0)} events/s applied per leaf`);

    say('== londiste status');
    for (const l of londiste([srcJob, 'status']).trimEnd().split('\n')) say(l);

    // the comparison, from whichever node is the root: src before the switchover, dst1 after it
    const compareAll = async (root: PgCluster, rootDb: string, rootName: string): Promise<boolean> => {
      say(`== Comparison with the root ${rootName} (rows, md5 of all rows)`);
      let equal = true;
      const compare = async (label: string, a: Promise<{ rows: number; md5: string }>, b: Promise<{ rows: number; md5: string }>): Promise<void> => {
        const [x, y] = await Promise.all([a, b]);
        const same = x.rows === y.rows && x.md5 === y.md5;
        equal &&= same;
        say(`   ${label.padEnd(58)} ${String(x.rows).padStart(7)} ${x.md5.slice(0, 12)}  ${String(y.rows).padStart(7)} ${y.md5.slice(0, 12)}  ${same ? 'equal' : 'DIFFERENT'}`);
      };
      const others: [string, PgCluster, string][] = [['src', src, 'digoal_01'], ['dst1', dst, 'digoal_01']];
      for (const [label, c, db] of others) {
        if (c === root && db === rootDb) continue;
        for (const t of ['user_info', 'user_session', 'user_login_rec', 'user_logout_rec']) {
          await compare(`${rootName} digoal_01.${t} -> ${label} digoal_01.${t}`, digest(root, rootDb, `SELECT * FROM digoal_01.${t}`), digest(c, db, `SELECT * FROM digoal_01.${t}`));
        }
      }
      for (const [t, t1] of [['user_info', 'user_info1'], ['user_session', 'user_session1']]) {
        await compare(`${rootName} digoal_01.${t} (userid < 1000) -> dst2 digoal_02.${t1}`, digest(root, rootDb, `SELECT * FROM digoal_01.${t} WHERE userid < 1000`), digest(dst, 'digoal_02', `SELECT * FROM digoal_02.${t1}`));
      }
      for (const [label, c] of others) {
        if (c === root) continue;
        for (const sq of ['user_login_rec_id_seq', 'user_logout_rec_id_seq']) {
          const a = await root.query<{ v: string }>(rootDb, `SELECT last_value::text AS v FROM digoal_01.${sq}`);
          const b = await c.query<{ v: string }>('digoal_01', `SELECT last_value::text AS v FROM digoal_01.${sq}`);
          const ok = BigInt(b[0]?.v ?? '0') >= BigInt(a[0]?.v ?? '0');
          equal &&= ok;
          say(`   sequence digoal_01.${sq}: ${rootName} ${a[0]?.v ?? '?'}, ${label} ${b[0]?.v ?? '?'} (${ok ? 'not behind' : 'BEHIND'})`);
        }
      }
      return equal;
    };
    let allEqual = await compareAll(src, 'digoal_01', 'src');

    say('== Switchover: dst1 (PostgreSQL ' + String(DST_MAJOR) + ') takes over the root; src becomes a branch under it');
    for (const l of londisteLog([dst1Job, 'takeover', 'src_digoal_01'])) say(`   ${l}`);
    say('== A few transactions on the new root dst1');
    await dst.withClient('digoal_01', async (c) => {
      for (let i = 1; i <= 50; i++) {
        await c.query(`INSERT INTO digoal_01.user_login_rec (userid, login_time, ip) VALUES ($1, now(), '10.0.17.1')`, [i]);
        await c.query(`UPDATE digoal_01.user_session SET logintime = now(), login_count = login_count + 1 WHERE userid = $1`, [i]);
      }
    });
    for (const [c, db, w] of [[src, 'digoal_01', 'src_digoal_01'], [dst, 'digoal_02', 'dst2_digoal_02']] as const) {
      await dst.query('digoal_01', `SELECT * FROM londiste.root_check_seqs('replika')`);
      await dst.query('digoal_01', `SELECT pgq.force_tick('replika')`);
      const t = (await dst.query<{ t: string }>('digoal_01', `SELECT pgq.ticker('replika')::text AS t`))[0]?.t ?? '0';
      await until(`${w} caught up with the new root`, 120_000, async () => {
        const r = await c.query<{ t: string | null }>(db, `SELECT last_tick_id::text AS t FROM pgq_node.local_state WHERE consumer_name = $1`, [w]);
        return r[0]?.t != null && BigInt(r[0].t) >= BigInt(t);
      });
    }
    say('== londiste status (from the new root)');
    for (const l of londiste([dst1Job, 'status']).trimEnd().split('\n')) say(l);
    allEqual = (await compareAll(dst, 'digoal_01', 'dst1')) && allEqual;
    say(allEqual ? '== Every comparison is equal.' : '== Some comparisons differ!');
    return allEqual ? 0 : 1;
  } finally {
    say('== Stopping everything');
    for (const p of procs) p.kill('SIGTERM');
    await Promise.all(procs.map((p) => new Promise((r) => (p.exitCode !== null ? r(null) : p.on('exit', r)))));
    await Promise.all(clusters.map((c) => c.stop()));
    rmSync(work, { recursive: true, force: true });
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`ERROR ${(err as Error).message}\n`);
    process.exitCode = 1;
  },
);
