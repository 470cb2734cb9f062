// The least-privilege set-up of docs/londiste.md, on real clusters (root on the oldest tested
// version, leaf on the newest): a DBA installs the nodes as a superuser; then the leaf's worker runs
// as `repl_dst` (member of pgq_admin, owner of the leaf's tables, SET on session_replication_role)
// and reads the root as `repl_src` (member of pgq_reader, SELECT on the tables), and replicates;
// check-privileges says ok for that set-up and, for a user without them, names every GRANT that is
// missing; a command failing on a missing privilege points at check-privileges; a monitoring user
// that is only a member of pgq_reader runs status.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startCluster, testVersions, type PgCluster } from '@skytools/harness';
import { jobDir, ok, refused, runLondiste, runLondisteIntoClosedPipe } from '../cli/run-londiste.js';
import { startTicker, startWorker, tableDigest, waitCaughtUp, waitFor, type RunningWorker } from './replication-env.js';

const versions = testVersions();
const rootMajor = versions[0] ?? 15;
const leafMajor = Math.max(versions.at(-1) ?? 15, 15);
const QUEUE = 'pq';

describe(`least privilege, ${rootMajor} -> ${leafMajor}`, () => {
  let root: PgCluster;
  let leaf: PgCluster;
  const jobs = jobDir();
  const as = (c: PgCluster, db: string, user: string): string => `host=${c.host} port=${String(c.port)} user=${user} dbname=${db}`;
  const job: Record<string, string> = {};
  const workers: RunningWorker[] = [];
  let ticker: { stop: () => Promise<void> } | undefined;
  const diag = (): string => workers.map((w) => w.output().split('\n').slice(-20).join('\n')).join('\n----\n');

  before(async () => {
    [root, leaf] = await Promise.all([startCluster(rootMajor), startCluster(leafMajor)]);
    await root.createDatabase('l_root');
    await leaf.createDatabase('l_leaf');
    await root.query('l_root', `CREATE ROLE repl_src LOGIN; CREATE ROLE bare LOGIN;
      CREATE TABLE public.acct (id int PRIMARY KEY, v text); INSERT INTO public.acct SELECT g, 'v' || g FROM generate_series(1, 500) g`);
    await leaf.query('l_leaf', `CREATE ROLE repl_dst LOGIN; CREATE ROLE bare LOGIN; CREATE ROLE monitor LOGIN;
      CREATE TABLE public.acct (id int PRIMARY KEY, v text); CREATE INDEX acct_v ON public.acct (v)`);
    // the DBA's jobs (superuser) install the nodes; the root's public location names repl_src
    job['root'] = jobs.write('l_root', { job_name: 'l_root', db: root.connectionString('l_root'), queue_name: QUEUE, loop_delay: '200ms' });
    job['leafSu'] = jobs.write('l_leaf_su', { job_name: 'l_leaf', db: leaf.connectionString('l_leaf'), queue_name: QUEUE, loop_delay: '200ms' });
    ok(await runLondiste([job['root'], 'create-root', 'l_root', as(root, 'l_root', 'repl_src')]), 'create-root');
    ok(await runLondiste([job['leafSu'], 'create-leaf', 'l_leaf', `--provider=${root.connectionString('l_root')}`]), 'create-leaf');
    ok(await runLondiste([job['root'], 'add-table', 'acct']), 'root add-table');
    // the same job as the replication user, and as users without the grants
    job['leaf'] = jobs.write('l_leaf', { job_name: 'l_leaf', db: as(leaf, 'l_leaf', 'repl_dst'), queue_name: QUEUE, loop_delay: '200ms' });
    job['bare'] = jobs.write('l_leaf_bare', { job_name: 'l_leaf', db: as(leaf, 'l_leaf', 'bare'), queue_name: QUEUE });
    job['monitor'] = jobs.write('l_leaf_monitor', { job_name: 'l_leaf', db: as(leaf, 'l_leaf', 'monitor'), queue_name: QUEUE });
    ticker = startTicker(root, 'l_root', 100);
    workers.push(startWorker(job['root']));
  });
  after(async () => {
    for (const w of workers) await w.stop();
    await ticker?.stop();
    jobs.remove();
    await Promise.all([root.stop(), leaf.stop()]);
  });

  it('without the grants: check-privileges names each missing one with its statement, a failing command points at it', async () => {
    ok(await runLondiste([job['leafSu'] ?? '', 'add-table', 'acct']), 'leaf add-table (DBA)');
    // nothing of the node can be read before the first grant: that one, then the rest
    const first = await runLondiste([job['leaf'] ?? '', 'check-privileges']);
    refused(first, 'check-privileges without any grant', /check-privileges: user repl_dst cannot read this node's state \(permission denied for function get_node_info\); run GRANT pgq_admin TO repl_dst; as a superuser here/);
    assert.match(first.stdout, /this node \(user repl_dst\):\n {2}MISSING member of pgq_admin: .*\n +fix: GRANT pgq_admin TO repl_dst;/);
    await leaf.query('l_leaf', 'GRANT pgq_admin TO repl_dst');
    const r = await runLondiste([job['leaf'] ?? '', 'check-privileges']);
    refused(r, 'check-privileges with pgq_admin only', /check-privileges: 4 privileges missing/);
    assert.match(r.stdout, /this node l_leaf \(user repl_dst\):\n {2}ok {6}member of pgq_admin: /);
    assert.match(r.stdout, /MISSING SET session_replication_role: .*\n +fix: GRANT SET ON PARAMETER session_replication_role TO repl_dst;/);
    assert.match(r.stdout, /MISSING owner of public\.acct \(now \S+\): .*\n +fix: ALTER TABLE public\.acct OWNER TO repl_dst;/);
    assert.match(r.stdout, /provider l_root at '.*user=repl_src.*' \(user repl_src\):\n {2}MISSING member of pgq_reader: .*\n +fix: GRANT pgq_reader TO repl_src;/);
    assert.match(r.stdout, /MISSING SELECT on public\.acct: .*\n +fix: GRANT SELECT ON public\.acct TO repl_src;/);
    // read by a program that stopped early (| head): the same verdict, exit code 1, no crash
    const piped = await runLondisteIntoClosedPipe([job['leaf'] ?? '', 'check-privileges']);
    assert.equal(piped.code, 1, piped.stderr);
    assert.match(piped.stderr, /check-privileges: 4 privileges missing/);
    assert.doesNotMatch(piped.stderr, /EPIPE/);
    refused(await runLondiste([job['bare'] ?? '', 'pause']), 'pause as a user without grants', /permission denied for function \S+; see what this job's users lack with: londiste \S+ check-privileges/);
  });

  it('with exactly the documented grants the worker replicates, check-privileges says ok, and a pgq_reader member runs status', async () => {
    await root.query('l_root', 'GRANT pgq_reader TO repl_src; GRANT SELECT ON public.acct TO repl_src');
    await leaf.query('l_leaf', `GRANT pgq_admin TO repl_dst; GRANT SET ON PARAMETER session_replication_role TO repl_dst;
      ALTER TABLE public.acct OWNER TO repl_dst; GRANT pgq_reader TO monitor`);
    const c = ok(await runLondiste([job['leaf'] ?? '', 'check-privileges']), 'check-privileges with the grants');
    assert.doesNotMatch(c.stdout, /MISSING/);
    // CREATE on public (not PUBLIC's since 15) is only advised: shown with its GRANT, no failure
    assert.match(c.stdout, /\n {2}advised CREATE on schema public: not needed; .*\n +fix: GRANT CREATE ON SCHEMA public TO repl_dst;/);
    workers.push(startWorker(job['leaf'] ?? ''));
    await waitFor('acct in sync', 90_000, async () => {
      const s = await leaf.query<{ s: string | null }>('l_leaf', `SELECT merge_state AS s FROM londiste.get_table_list($1) WHERE table_name = 'public.acct'`, [QUEUE]);
      return s[0]?.s === 'ok' ? true : undefined;
    }, diag);
    await root.query('l_root', `UPDATE public.acct SET v = v || '!' WHERE id % 4 = 0; DELETE FROM public.acct WHERE id % 9 = 0; INSERT INTO public.acct VALUES (1000, 'new')`);
    await waitCaughtUp(root, 'l_root', leaf, 'l_leaf', QUEUE, 'l_leaf', 60_000, diag);
    const a = await tableDigest(root, 'l_root', 'SELECT * FROM public.acct');
    assert.deepEqual(await tableDigest(leaf, 'l_leaf', 'SELECT * FROM public.acct'), a);
    // repl_dst owns the table but may not create in public (15+): the copy kept its key and index
    const idx = await leaf.query<{ name: string }>('l_leaf', `SELECT indexname AS name FROM pg_indexes WHERE tablename = 'acct' ORDER BY 1`);
    assert.deepEqual(idx.map((r) => r.name), ['acct_pkey', 'acct_v']);
    const st = ok(await runLondiste([job['monitor'] ?? '', 'status']), 'status as monitor').stdout;
    assert.match(st, /l_root \(root\)/, st);
    assert.match(st, /l_leaf \(leaf\)/, st);
  });
});
