// Every documented londiste command that the seed scenario does not run, through the binary, on a
// root -> branch -> leaf cascade with workers running: each check is on data (row counts and
// checksums on both sides, catalog rows, triggers, sequence values), and every failure exits 1 with
// exactly one ERROR line and changes nothing.
//
// Each `it` works on tables and sequences of its own, created by itself; the three nodes and their
// workers are the only shared state (set up in `before`).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { startCluster, testVersions, type PgCluster } from '@skytools/harness';
import { startTicker, startWorker, tableDigest, waitCaughtUp, waitFor, type RunningWorker } from '../replication/replication-env.js';
import { jobDir, ok, refused, runLondiste, type RunResult } from './run-londiste.js';

const major = testVersions().at(-1) ?? 15;
const QUEUE = 'mq';
const NODES = ['m_root', 'm_branch', 'm_leaf'] as const;
type NodeName = (typeof NODES)[number];

describe(`londiste command matrix, PostgreSQL ${major}`, () => {
  let cluster: PgCluster;
  const jobs = jobDir();
  const job: Record<NodeName, string> = { m_root: '', m_branch: '', m_leaf: '' };
  const workers: RunningWorker[] = [];
  let ticker: { stop: () => Promise<void> } | undefined;
  const diag = (): string => workers.map((w) => w.output().split('\n').slice(-15).join('\n')).join('\n----\n');

  const q = <R extends pg.QueryResultRow>(db: NodeName, sql: string, params: unknown[] = []): Promise<R[]> => cluster.query<R>(db, sql, params);
  const cli = (node: NodeName, ...args: string[]): Promise<RunResult> => runLondiste([job[node], ...args]);

  /** A table `name` (id primary key, v text, n int) in each of `dbs`, with `rows` rows on the root. */
  const table = async (name: string, dbs: readonly NodeName[], rows = 50): Promise<void> => {
    for (const db of dbs) {
      await q(db, `CREATE TABLE public.${name} (id int PRIMARY KEY, v text NOT NULL DEFAULT 'x', n int)`);
      if (db === 'm_root') await q(db, `INSERT INTO public.${name} SELECT g, 'row ' || g, g FROM generate_series(1, ${String(rows)}) g`);
    }
  };
  const digest = (db: NodeName, t: string): Promise<{ rows: number; md5: string }> => tableDigest(cluster, db, `SELECT * FROM public.${t}`);
  const state = async (db: NodeName, t: string): Promise<string | null | undefined> => {
    const r = await q<{ s: string | null }>(db, `SELECT merge_state AS s FROM londiste.get_table_list($1) WHERE table_name = $2 AND local`, [QUEUE, `public.${t}`]);
    return r.length === 0 ? undefined : (r[0]?.s ?? null);
  };
  const inSync = async (db: NodeName, t: string): Promise<void> => {
    await waitFor(`${db}: ${t} ok`, 60_000, async () => ((await state(db, t)) === 'ok' ? true : undefined), diag);
  };
  const caughtUp = async (...dbs: NodeName[]): Promise<void> => {
    for (const db of dbs) await waitCaughtUp(cluster, 'm_root', cluster, db, QUEUE, db, 60_000, diag);
  };
  const triggers = async (db: NodeName, t: string): Promise<string[]> =>
    (await q<{ n: string }>(db, `SELECT tgname AS n FROM pg_trigger WHERE tgrelid = $1::regclass AND NOT tgisinternal ORDER BY 1`, [`public.${t}`])).map((r) => r.n);

  before(async () => {
    cluster = await startCluster(major);
    for (const n of NODES) await cluster.createDatabase(n);
    for (const n of NODES) job[n] = jobs.write(n, { db: cluster.connectionString(n), queue_name: QUEUE, loop_delay: '200ms', lock_timeout: '1s' });
    ok(await cli('m_root', 'create-root', 'm_root'), 'create-root');
    ok(await cli('m_branch', 'create-branch', 'm_branch', `--provider=${cluster.connectionString('m_root')}`), 'create-branch');
    ok(await cli('m_leaf', 'create-leaf', 'm_leaf', `--provider=${cluster.connectionString('m_branch')}`), 'create-leaf');
    ticker = startTicker(cluster, 'm_root', 100);
    // the root's worker publishes sequence values and watermarks
    workers.push(startWorker(job.m_root), startWorker(job.m_branch), startWorker(job.m_leaf));
  });
  after(async () => {
    for (const w of workers) await w.stop();
    await ticker?.stop();
    jobs.remove();
    await cluster.stop();
  });

  it('add-table --create and --create-full build the missing table (indexes only with -full) and copy it', async () => {
    await table('t_create', ['m_root']);
    await q('m_root', `CREATE INDEX t_create_v_idx ON public.t_create (v)`);
    ok(await cli('m_root', 'add-table', 't_create'), 'root add-table');
    ok(await cli('m_branch', 'add-table', 't_create', '--create-full'), 'branch add-table --create-full');
    ok(await cli('m_leaf', 'add-table', 't_create', '--create'), 'leaf add-table --create');
    await inSync('m_branch', 't_create');
    await inSync('m_leaf', 't_create');
    await q('m_root', `UPDATE public.t_create SET n = n + 1 WHERE id % 3 = 0`);
    await caughtUp('m_branch', 'm_leaf');
    const want = await digest('m_root', 't_create');
    assert.equal(want.rows, 50);
    assert.deepEqual(await digest('m_branch', 't_create'), want);
    assert.deepEqual(await digest('m_leaf', 't_create'), want);
    const idx = async (db: NodeName): Promise<number> =>
      (await q<{ n: number }>(db, `SELECT count(*)::int AS n FROM pg_indexes WHERE tablename = 't_create' AND indexdef LIKE '%(v)%'`))[0]?.n ?? -1;
    assert.equal(await idx('m_branch'), 1, '--create-full: the secondary index too');
    assert.equal(await idx('m_leaf'), 0, '--create: columns and primary key only');
    const def = await q<{ d: string | null }>('m_branch', `SELECT column_default AS d FROM information_schema.columns WHERE table_name = 't_create' AND column_name = 'v'`);
    assert.match(def[0]?.d ?? '', /'x'/, '--create-full: the default too');
  });

  it('add-table --expect-sync copies nothing; --skip-truncate keeps local rows; --skip-non-existing adds nothing', async () => {
    await table('t_sync', ['m_root', 'm_branch'], 20);
    await table('t_keep', ['m_root', 'm_branch'], 20);
    // t_sync is "already in sync" by the operator's word, plus a row only the branch has: no copy touches it
    await q('m_branch', `INSERT INTO public.t_sync SELECT g, 'row ' || g, g FROM generate_series(1, 20) g`);
    await q('m_branch', `INSERT INTO public.t_sync VALUES (9999, 'branch only', 0)`);
    await q('m_branch', `INSERT INTO public.t_keep VALUES (9999, 'branch only', 0)`);
    ok(await cli('m_root', 'add-table', 't_sync', 't_keep'), 'root add-table');
    ok(await cli('m_branch', 'add-table', 't_sync', '--expect-sync'), 'add-table --expect-sync');
    assert.equal(await state('m_branch', 't_sync'), 'ok', 'in sync at once');
    ok(await cli('m_branch', 'add-table', 't_keep', '--skip-truncate'), 'add-table --skip-truncate');
    await inSync('m_branch', 't_keep');
    await caughtUp('m_branch');
    const keep = await q<{ n: number; extra: number }>('m_branch', `SELECT count(*)::int AS n, count(*) FILTER (WHERE id = 9999)::int AS extra FROM public.t_keep`);
    assert.deepEqual(keep[0], { n: 21, extra: 1 }, 'the copy added the root rows and kept the local one');
    assert.equal((await digest('m_branch', 't_sync')).rows, 21, 'no copy (no truncate) for --expect-sync');
    // replay still applies to both
    await q('m_root', `UPDATE public.t_sync SET n = -n WHERE id <= 5`);
    await q('m_root', `UPDATE public.t_keep SET n = -n WHERE id <= 5`);
    await caughtUp('m_branch');
    for (const t of ['t_sync', 't_keep']) {
      assert.equal((await q<{ n: number }>('m_branch', `SELECT count(*)::int AS n FROM public.${t} WHERE n < 0`))[0]?.n, 5, `${t} replays`);
    }

    const before = await q<{ n: number }>('m_branch', `SELECT count(*)::int AS n FROM londiste.table_info`);
    ok(await cli('m_branch', 'add-table', 'no_such_table', '--skip-non-existing'), 'add-table --skip-non-existing');
    assert.deepEqual(await q<{ n: number }>('m_branch', `SELECT count(*)::int AS n FROM londiste.table_info`), before);
  });

  it('add-table --trigger-flags and --no-triggers on the root decide what is captured', async () => {
    await table('t_ins', ['m_root', 'm_branch'], 10);
    await table('t_notrig', ['m_root'], 10);
    ok(await cli('m_root', 'add-table', 't_ins', '--trigger-flags=I'), 'add-table --trigger-flags=I');
    ok(await cli('m_root', 'add-table', 't_notrig', '--no-triggers'), 'add-table --no-triggers');
    assert.deepEqual(await triggers('m_root', 't_notrig'), [], 'no capture trigger');
    assert.equal((await triggers('m_root', 't_ins')).length > 0, true);
    ok(await cli('m_branch', 'add-table', 't_ins'), 'branch add-table');
    await inSync('m_branch', 't_ins');
    await q('m_root', `UPDATE public.t_ins SET n = 100 WHERE id <= 3`);
    await q('m_root', `INSERT INTO public.t_ins VALUES (11, 'new', 11)`);
    await caughtUp('m_branch');
    const b = await q<{ rows: number; updated: number }>('m_branch', `SELECT count(*)::int AS rows, count(*) FILTER (WHERE n = 100)::int AS updated FROM public.t_ins`);
    assert.deepEqual(b[0], { rows: 11, updated: 0 }, 'inserts captured, updates not');
    const listed = ok(await cli('m_root', 'tables', '--names-only'), 'tables').stdout;
    assert.match(listed, /public\.t_notrig/);
  });

  it('remove-table stops replication on that node only, and on the root drops the capture', async () => {
    await table('t_rm', ['m_root', 'm_branch', 'm_leaf'], 10);
    ok(await cli('m_root', 'add-table', 't_rm'), 'root');
    ok(await cli('m_branch', 'add-table', 't_rm'), 'branch');
    ok(await cli('m_leaf', 'add-table', 't_rm'), 'leaf');
    await inSync('m_leaf', 't_rm');

    ok(await cli('m_leaf', 'remove-table', 't_rm'), 'leaf remove-table');
    assert.equal(await state('m_leaf', 't_rm'), undefined, 'gone from the leaf');
    await q('m_root', `INSERT INTO public.t_rm VALUES (11, 'after', 11)`);
    await caughtUp('m_branch', 'm_leaf');
    assert.equal((await digest('m_branch', 't_rm')).rows, 11, 'the branch still replicates');
    assert.equal((await digest('m_leaf', 't_rm')).rows, 10, 'the leaf does not');

    ok(await cli('m_root', 'remove-table', 't_rm'), 'root remove-table');
    assert.deepEqual(await triggers('m_root', 't_rm'), [], 'capture triggers dropped');
    await q('m_root', `INSERT INTO public.t_rm VALUES (12, 'after removal', 12)`);
    await caughtUp('m_branch');
    assert.equal((await digest('m_branch', 't_rm')).rows, 11, 'nothing captured after removal');
  });

  it('add-seq follows the root past any jump; remove-seq stops following', async () => {
    for (const db of NODES) await q(db, `CREATE SEQUENCE public.s_matrix`);
    ok(await cli('m_root', 'add-seq', 's_matrix'), 'root add-seq');
    ok(await cli('m_branch', 'add-seq', 's_matrix'), 'branch add-seq');
    ok(await cli('m_leaf', 'add-seq', 's_matrix'), 'leaf add-seq');
    await q('m_root', `SELECT setval('public.s_matrix', 500000)`);
    const last = async (db: NodeName): Promise<number> => Number((await q<{ v: string }>(db, `SELECT last_value::text AS v FROM public.s_matrix`))[0]?.v);
    await waitFor('the leaf follows the sequence', 60_000, async () => ((await last('m_leaf')) >= 500000 ? true : undefined), diag);
    assert.ok((await last('m_branch')) >= 500000);
    assert.match(ok(await cli('m_leaf', 'seqs'), 'seqs').stdout, /public\.s_matrix/);

    ok(await cli('m_leaf', 'remove-seq', 's_matrix'), 'leaf remove-seq');
    // still listed (the provider has it), no longer local
    assert.match(ok(await cli('m_leaf', 'seqs'), 'seqs').stdout, /public\.s_matrix +False /);
    await q('m_root', `SELECT setval('public.s_matrix', 900000)`);
    await waitFor('the branch follows', 60_000, async () => ((await last('m_branch')) >= 900000 ? true : undefined), diag);
    await caughtUp('m_leaf');
    assert.ok((await last('m_leaf')) < 900000, 'the leaf no longer follows');
  });

  it('resync copies a damaged table again; wait-provider and wait-root return with the data applied', async () => {
    await table('t_resync', ['m_root', 'm_branch', 'm_leaf'], 200);
    for (const n of NODES) ok(await cli(n, 'add-table', 't_resync'), `${n} add-table`);
    ok(await cli('m_leaf', 'wait-sync', '--wait-timeout=60'), 'wait-sync');
    assert.equal(await state('m_leaf', 't_resync'), 'ok', 'wait-sync returns once the table is ok');

    // damage by hand, past the trigger that refuses local changes on a subscriber
    await cluster.withClient('m_leaf', async (c) => {
      await c.query('SET session_replication_role = replica');
      await c.query(`DELETE FROM public.t_resync WHERE id % 2 = 0`);
      await c.query(`UPDATE public.t_resync SET v = 'damaged'`);
    });
    assert.notDeepEqual(await digest('m_leaf', 't_resync'), await digest('m_root', 't_resync'));
    ok(await cli('m_leaf', 'resync', 't_resync'), 'resync');
    ok(await cli('m_leaf', 'wait-sync', '--wait-timeout=60'), 'wait-sync after resync');
    await caughtUp('m_leaf');
    assert.deepEqual(await digest('m_leaf', 't_resync'), await digest('m_root', 't_resync'));

    await q('m_root', `UPDATE public.t_resync SET n = n * 10 WHERE id <= 50`);
    ok(await cli('m_leaf', 'wait-root', '--wait-timeout=60'), 'wait-root');
    // no polling: wait-root returned, so the change is there
    assert.deepEqual(await digest('m_leaf', 't_resync'), await digest('m_root', 't_resync'));
    await q('m_root', `DELETE FROM public.t_resync WHERE id > 190`);
    ok(await cli('m_branch', 'wait-provider', '--wait-timeout=60'), 'wait-provider');
    assert.deepEqual(await digest('m_branch', 't_resync'), await digest('m_root', 't_resync'));
  });

  it('node-status, node-info and members describe the node and its neighbours', async () => {
    const ns = ok(await cli('m_branch', 'node-status'), 'node-status').stdout;
    assert.match(ns, /m_branch \(branch\)/);
    assert.match(ns, /Provider: m_root/);
    const info = ok(await cli('m_leaf', 'node-info'), 'node-info').stdout;
    assert.match(info, /m_leaf/);
    assert.match(info, /leaf/);
    const members = ok(await cli('m_root', 'members'), 'members').stdout;
    for (const n of NODES) assert.match(members, new RegExp(`\\b${n}\\b`));
  });

  it('drop-node refuses a node with subscribers unless --force; tag-dead marks a node dead on every member', async () => {
    await cluster.createDatabase('m_b2');
    await cluster.createDatabase('m_l2');
    const b2 = jobs.write('m_b2', { db: cluster.connectionString('m_b2'), queue_name: QUEUE });
    const l2 = jobs.write('m_l2', { db: cluster.connectionString('m_l2'), queue_name: QUEUE });
    ok(await runLondiste([b2, 'create-branch', 'm_b2', `--provider=${cluster.connectionString('m_root')}`]), 'create-branch m_b2');
    ok(await runLondiste([l2, 'create-leaf', 'm_l2', `--provider=${cluster.connectionString('m_b2')}`]), 'create-leaf m_l2');

    const members = async (): Promise<string[]> =>
      (await q<{ n: string }>('m_root', `SELECT node_name || CASE WHEN dead THEN ' dead' ELSE '' END AS n FROM pgq_node.node_location WHERE queue_name = $1 ORDER BY 1`, [QUEUE])).map((r) => r.n);
    const before = await members();
    refused(await cli('m_root', 'drop-node', 'm_b2'), 'drop-node with a subscriber', /m_b2.*subscribers \(m_l2\).*--force/);
    assert.deepEqual(await members(), before, 'nothing changed');

    ok(await cli('m_root', 'tag-dead', 'm_l2'), 'tag-dead');
    assert.ok((await members()).includes('m_l2 dead'), 'dead on the root');
    const onB2 = await cluster.query<{ dead: boolean }>('m_b2', `SELECT dead FROM pgq_node.node_location WHERE queue_name = $1 AND node_name = 'm_l2'`, [QUEUE]);
    assert.equal(onB2[0]?.dead, true, 'dead on the branch');
    assert.match(ok(await cli('m_root', 'status'), 'status').stdout, /m_l2 \(dead\)|m_l2.*dead/);

    ok(await cli('m_root', 'drop-node', 'm_b2', '--force'), 'drop-node --force');
    assert.ok(!(await members()).some((m) => m.startsWith('m_b2')), 'm_b2 is gone from the root');
    const consumers = await q<{ c: string }>('m_root', `SELECT consumer_name AS c FROM pgq.get_consumer_info($1)`, [QUEUE]);
    assert.ok(!consumers.some((c) => c.c === 'm_b2'), 'and no longer holds back the queue');
  });

  it('lock_timeout: a command that cannot get its lock fails with one ERROR line and changes nothing', async () => {
    await table('t_locked', ['m_root'], 5);
    const locker = new pg.Client(cluster.clientConfig('m_root'));
    await locker.connect();
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE public.t_locked IN ACCESS EXCLUSIVE MODE');
      refused(await cli('m_root', 'add-table', 't_locked'), 'add-table under a lock', /^ERROR add-table t_locked: .*lock timeout.*lock_timeout \(1s in .*m_root\.yaml\)/);
    } finally {
      await locker.query('ROLLBACK');
      await locker.end();
    }
    assert.deepEqual(await triggers('m_root', 't_locked'), [], 'no trigger created');
    assert.equal(await state('m_root', 't_locked'), undefined, 'not added');
    ok(await cli('m_root', 'add-table', 't_locked'), 'add-table once the lock is gone');
    assert.equal(await state('m_root', 't_locked'), 'ok');
  });

  it('every failure: exit 1, one ERROR line saying what and which object, nothing changed', async () => {
    await table('t_fail', ['m_root', 'm_branch'], 5);
    ok(await cli('m_root', 'add-table', 't_fail'), 'root add-table');
    // the subscribers learn of the new table from the queue: let that settle before the snapshot
    await caughtUp('m_branch', 'm_leaf');
    const snapshot = async (): Promise<unknown[]> => {
      const out: unknown[] = [];
      for (const db of NODES) {
        out.push(await q(db, `SELECT table_name, local, merge_state, dest_table, table_attrs FROM londiste.table_info ORDER BY 1`));
        out.push(await q(db, `SELECT seq_name, local FROM londiste.seq_info ORDER BY 1`));
        out.push(await q(db, `SELECT node_name, node_location, dead FROM pgq_node.node_location ORDER BY 1`));
        out.push(await q(db, `SELECT queue_name, consumer_name, provider_node, paused FROM pgq_node.local_state ORDER BY 1, 2`));
      }
      return out;
    };
    const before = await snapshot();
    const cases: [NodeName, string[], RegExp][] = [
      ['m_branch', ['add-table', 'no_such'], /no_such/],
      ['m_branch', ['remove-table', 'no_such'], /no_such/],
      ['m_branch', ['add-seq', 'no_such_seq'], /no_such_seq/],
      ['m_branch', ['remove-seq', 'no_such_seq'], /no_such_seq/],
      ['m_branch', ['resync', 't_fail'], /public\.t_fail is not replicated on node m_branch; add it with add-table/],
      ['m_branch', ['add-table', 't_fail', '--handler=nosuch'], /--handler=nosuch: unknown handler nosuch/],
      ['m_branch', ['add-table', 't_fail', '--dest-table=a', 't_create'], /dest-table/],
      ['m_leaf', ['add-table', 'no_such', '--create'], /^ERROR Table public\.no_such not replicated by provider m_branch: add it there first/],
      ['m_root', ['drop-node', 'no_such_node'], /no_such_node/],
      ['m_root', ['tag-dead', 'no_such_node'], /no_such_node/],
      ['m_leaf', ['change-provider', '--provider=no_such_node'], /no_such_node/],
      ['m_leaf', ['pause', '--node=no_such_node', '--wait-timeout=0'], /no_such_node/],
      ['m_root', ['execute', '/nonexistent/file.sql'], /\/nonexistent\/file\.sql/],
      ['m_root', ['create-root', 'other_name'], /m_root|already/],
      ['m_root', ['tables', 'extra'], /tables/],
    ];
    for (const [node, args, re] of cases) refused(await cli(node, ...args), args.join(' '), re);
    assert.deepEqual(await snapshot(), before, 'no failed command changed anything');
  });

  it('create-leaf that cannot reach its provider, or finds no node there, installs nothing', async () => {
    await cluster.createDatabase('m_fresh');
    const fresh = jobs.write('m_fresh', { db: cluster.connectionString('m_fresh'), queue_name: QUEUE });
    const schemas = async (): Promise<number> =>
      (await q<{ n: number }>('m_fresh' as NodeName, `SELECT count(*)::int AS n FROM pg_namespace WHERE nspname IN ('pgq', 'pgq_ext', 'pgq_node', 'londiste')`))[0]?.n ?? -1;
    refused(await runLondiste([fresh, 'create-leaf', 'm_fresh', '--provider=host=127.0.0.1 port=1 dbname=nowhere connect_timeout=2']), 'unreachable provider', /cannot connect to 'host=127\.0\.0\.1 port=1 dbname=nowhere/);
    assert.equal(await schemas(), 0, 'no schema installed after an unreachable provider');
    refused(await runLondiste([fresh, 'create-leaf', 'm_fresh', `--provider=${cluster.connectionString('postgres')}`]), 'provider without the queue', /m_fresh|provider node not found|pgq/);
    assert.equal(await schemas(), 0, 'no schema installed after a provider without the queue');
  });

  it('compare: equal under writes (filtered and renamed on the leaf), DIFFERENT after damage: exit 1, one ERROR line', async () => {
    await table('t_cmp', ['m_root', 'm_branch'], 400);
    await q('m_leaf', 'CREATE TABLE public.t_cmp_leaf (id int PRIMARY KEY, v text NOT NULL DEFAULT \'x\', n int)');
    ok(await cli('m_root', 'add-table', 't_cmp'), 'root add-table');
    ok(await cli('m_branch', 'add-table', 't_cmp'), 'branch add-table');
    ok(await cli('m_leaf', 'add-table', 't_cmp', '--dest-table=t_cmp_leaf', '--where=id <= 300'), 'leaf add-table');
    await inSync('m_leaf', 't_cmp');
    refused(await cli('m_root', 'compare'), 'compare on the root', /compare runs on a subscriber/);
    // writes go on during the compare
    let writing = true;
    const writer = (async () => {
      for (let i = 0; writing; i++) {
        await q('m_root', 'UPDATE public.t_cmp SET n = n + 1 WHERE id = $1', [1 + (i % 400)]);
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    try {
      const b = ok(await cli('m_branch', 'compare', 't_cmp'), 'compare on the branch').stdout;
      assert.match(b, /^public\.t_cmp: root 400 rows, checksum -?\d+; m_branch 400 rows, checksum -?\d+: equal$/m, b);
      const l = ok(await cli('m_leaf', 'compare', 't_cmp'), 'compare on the leaf').stdout;
      assert.match(l, /^public\.t_cmp_leaf: root 300 rows, checksum (-?\d+); m_leaf 300 rows, checksum \1: equal$/m, l);
    } finally {
      writing = false;
      await writer;
    }
    await cluster.withClient('m_leaf', async (c) => {
      await c.query('SET session_replication_role = replica');
      await c.query(`UPDATE public.t_cmp_leaf SET v = 'damaged' WHERE id = 7`);
    });
    const r = await cli('m_leaf', 'compare');
    refused(r, 'compare after damage', /compare: 1 of \d+ tables differ from the root: public\.t_cmp_leaf/);
    assert.match(r.stdout, /^public\.t_cmp_leaf: root 300 rows.*: DIFFERENT$/m);
    assert.equal((await q<{ p: boolean }>('m_leaf', 'SELECT worker_paused AS p FROM pgq_node.get_node_info($1)', [QUEUE]))[0]?.p, false, 'the worker runs again');
    ok(await cli('m_leaf', 'remove-table', 't_cmp'), 'leaf remove-table');
  });

  it('rename-node renames a node on every member while replication goes on; again is a no-op', async () => {
    await table('t_ren', ['m_root', 'm_branch', 'm_leaf'], 10);
    for (const n of NODES) ok(await cli(n, 'add-table', 't_ren'), `${n} add-table`);
    await inSync('m_leaf', 't_ren');
    const r = ok(await cli('m_root', 'rename-node', 'm_branch', 'm_mid'), 'rename-node');
    assert.match(r.stderr, /rename-node done: m_branch is m_mid on 3 nodes/);
    for (const n of NODES) {
      const names = (await q<{ n: string }>(n, 'SELECT node_name AS n FROM pgq_node.node_location WHERE queue_name = $1 ORDER BY 1', [QUEUE])).map((x) => x.n);
      assert.ok(names.includes('m_mid') && !names.includes('m_branch'), `${n} knows m_mid: ${names.join(',')}`);
    }
    assert.equal((await q<{ n: string }>('m_branch', 'SELECT node_name AS n FROM pgq_node.get_node_info($1)', [QUEUE]))[0]?.n, 'm_mid');
    assert.equal((await q<{ p: string }>('m_leaf', 'SELECT provider_node AS p FROM pgq_node.get_node_info($1)', [QUEUE]))[0]?.p, 'm_mid');
    const wm = (await q<{ c: string }>('m_root', `SELECT consumer_name AS c FROM pgq.get_consumer_info($1) WHERE consumer_name LIKE '.%.watermark'`, [QUEUE])).map((x) => x.c);
    assert.ok(wm.includes('.m_mid.watermark') && !wm.includes('.m_branch.watermark'), wm.join(','));
    await q('m_root', `INSERT INTO public.t_ren VALUES (11, 'after rename', 11)`);
    await caughtUp('m_branch', 'm_leaf');
    assert.deepEqual(await digest('m_leaf', 't_ren'), await digest('m_root', 't_ren'));
    assert.equal((await digest('m_leaf', 't_ren')).rows, 11);
    assert.match(ok(await cli('m_root', 'rename-node', 'm_branch', 'm_mid'), 'again').stderr, /rename-node done/);
    refused(await cli('m_root', 'rename-node', 'm_mid', 'm_leaf'), 'a name in use', /a node named m_leaf exists already/);
    ok(await cli('m_root', 'rename-node', 'm_mid', 'm_branch'), 'rename back');
  });
});
