// The seed's admin sequence, run through the londiste binary against a root and two leaves on
// clusters of different major versions: node creation, members, status, tables, sequences,
// the missing-primary-key error and its fix, a renamed and filtered leaf.
//
// The `it`s below are ONE SCENARIO IN ORDER, as the seed runs it (each command builds on the
// nodes and tables of the ones before; `status` and `missing` show what has been added so far).
// Each step names the steps it builds on (ScenarioSteps) and fails at once with that name when
// one of them did not complete.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createSeedSchema, startCluster, testVersions, type PgCluster } from '@skytools/harness';
import { ScenarioSteps } from '../support/scenario-steps.js';
import { jobDir, runLondiste, type RunResult } from './run-londiste.js';

const versions = testVersions();
const srcMajor = versions[0] ?? 15;
const dstMajor = versions[versions.length - 1] ?? 15;
const SECRET = 'Sekr1t-pw';

function ok(r: RunResult, what: string): RunResult {
  assert.equal(r.code, 0, `${what} failed (exit ${String(r.code)}):\n${r.stderr}${r.stdout}`);
  assert.ok(!r.stdout.includes(SECRET) && !r.stderr.includes(SECRET), `${what} printed the password`);
  return r;
}

function failed(r: RunResult, what: string): RunResult {
  assert.notEqual(r.code, 0, `${what} should have failed:\n${r.stderr}${r.stdout}`);
  assert.ok(!r.stdout.includes(SECRET) && !r.stderr.includes(SECRET), `${what} printed the password`);
  return r;
}

describe(`londiste admin sequence, root on PostgreSQL ${srcMajor}, leaves on ${dstMajor}`, () => {
  let src: PgCluster;
  let dst: PgCluster;
  const jobs = jobDir();
  // trust authentication ignores the password: it is there to prove it never shows
  const loc = (c: PgCluster, db: string): string => `${c.connectionString(db)} password=${SECRET}`;
  let srcJob = '';
  let dst1Job = '';
  let dst2Job = '';
  const steps = new ScenarioSteps();

  before(async () => {
    [src, dst] = await Promise.all([startCluster(srcMajor), startCluster(dstMajor)]);
    await src.createDatabase('digoal_01');
    await dst.createDatabase('digoal_01');
    await dst.createDatabase('digoal_02');
    await src.withClient('digoal_01', (c) => createSeedSchema(c, { users: 200 }));
    await dst.withClient('digoal_01', (c) => createSeedSchema(c, { users: 0 }));
    srcJob = jobs.write('src_digoal_01', { db: loc(src, 'digoal_01'), queue_name: 'replika' });
    dst1Job = jobs.write('dst1_digoal_01', { db: loc(dst, 'digoal_01'), queue_name: 'replika' });
    dst2Job = jobs.write('dst2_digoal_02', { db: loc(dst, 'digoal_02'), queue_name: 'replika' });
  });
  after(async () => {
    jobs.remove();
    await Promise.all([src.stop(), dst.stop()]);
  });

  it('creates the root and two leaves, with the upstream log lines', steps.step('nodes', [], async () => {
    const root = ok(await runLondiste(['-v', srcJob, 'create-root', 'src_digoal_01', loc(src, 'digoal_01')]), 'create-root');
    assert.match(root.stderr, /INFO Installing pgq\b/);
    assert.match(root.stderr, /INFO Location registered/);
    assert.match(root.stderr, /INFO Node "src_digoal_01" initialized for queue "replika" with type "root"/);
    assert.match(root.stderr, /DEBUG Connect 'db' to 'host=\S+ port=\d+ user=\S+ dbname=digoal_01 \[\.\.\.\]'/);
    ok(await runLondiste([srcJob, 'create-root', 'src_digoal_01', loc(src, 'digoal_01')]), 'create-root again is a no-op');

    const leaf = ok(await runLondiste([dst1Job, 'create-leaf', 'dst1_digoal_01', loc(dst, 'digoal_01'), `--provider=${loc(src, 'digoal_01')}`]), 'create-leaf');
    assert.match(leaf.stderr, /Subscriber registered: dst1_digoal_01/);
    assert.match(leaf.stderr, /Node "dst1_digoal_01" initialized for queue "replika" with type "leaf"/);
    ok(await runLondiste([dst2Job, 'create-leaf', 'dst2_digoal_02', loc(dst, 'digoal_02'), `--provider=${loc(src, 'digoal_01')}`]), 'create-leaf 2');

    const nodes = await src.query<{ node_name: string; dead: boolean }>('digoal_01', `SELECT node_name, dead FROM pgq_node.node_location WHERE queue_name = 'replika' ORDER BY 1`);
    assert.deepEqual(nodes.map((n) => n.node_name), ['dst1_digoal_01', 'dst2_digoal_02', 'src_digoal_01']);
    const subs = await src.query<{ consumer_name: string }>('digoal_01', `SELECT consumer_name FROM pgq.get_consumer_info('replika')`);
    assert.deepEqual(subs.map((s) => s.consumer_name).sort(), [
      '.dst1_digoal_01.watermark', '.dst2_digoal_02.watermark', '.global_watermark', 'dst1_digoal_01', 'dst2_digoal_02',
    ], 'each leaf worker reads the root queue, with a watermark of its own');
  }));

  it('members and status look like the seed', steps.step('members', ['nodes'], async () => {
    const members = ok(await runLondiste([srcJob, 'members']), 'members').stdout.split('\n');
    assert.equal(members[0], 'Member info on src_digoal_01@replika:');
    assert.match(members[1] ?? '', /^node_name {8}dead {13}node_location$/);
    assert.match(members[2] ?? '', /^-{15} {2}-{15} {2}-+$/);
    assert.match(members[3] ?? '', /^dst1_digoal_01 {3}False {12}host=127\.0\.0\.1 port=\d+ user=\S+ dbname=digoal_01 \[\.\.\.\]$/);
    assert.match(members[5] ?? '', /^src_digoal_01 {4}False {12}host=/);

    const status = ok(await runLondiste([srcJob, 'status']), 'status').stdout.split('\n');
    assert.equal(status[0], 'Queue: replika   Local node: src_digoal_01');
    assert.equal(status[1], '');
    assert.equal(status[2], 'src_digoal_01 (root)');
    assert.equal(status[3], `  |${' '.repeat(27)}Tables: 0/0/0`);
    // no worker has run yet: the nodes have not acknowledged their state
    assert.match(status[4] ?? '', /^ {2}\| {27}Lag: \d+s, Tick: \d+, NOT UPTODATE$/);
    assert.equal(status[5], '  +--dst1_digoal_01 (leaf)');
    assert.equal(status[6], `  |${' '.repeat(27)}Tables: 0/0/0`);
    assert.equal(status[8], '  +--dst2_digoal_02 (leaf)');
    assert.equal(status[9], `${' '.repeat(30)}Tables: 0/0/0`);

    const info = ok(await runLondiste([dst1Job, 'node-info']), 'node-info').stdout;
    assert.match(info, /^Node: dst1_digoal_01 {2}Type: leaf {2}Queue: replika\nStatus: (OK|NON-UP-TO-DATE)\nProvider: src_digoal_01\n/);
  }));

  it('adds tables with primary keys, refuses the log tables without, then adds them once keyed', steps.step('tables', ['nodes'], async () => {
    const r = ok(await runLondiste([srcJob, 'add-table', 'digoal_01.user_info', 'digoal_01.user_session']), 'add-table on root');
    assert.match(r.stderr, /INFO Table added: digoal_01\.user_info\n[^\n]*INFO Table added: digoal_01\.user_session/);
    ok(await runLondiste([dst1Job, 'add-table', 'digoal_01.user_info', 'digoal_01.user_session']), 'add-table on leaf');

    const trg = await src.query<{ tgname: string }>('digoal_01', `SELECT tgname FROM pg_trigger WHERE tgrelid = 'digoal_01.user_info'::regclass AND NOT tgisinternal ORDER BY 1`);
    assert.ok(trg.some((t) => t.tgname.startsWith('_londiste_replika')), `root table has the capture trigger: ${trg.map((t) => t.tgname).join(', ')}`);
    // the capture trigger really produces events
    await src.query('digoal_01', `UPDATE digoal_01.user_info SET mod_time = now() WHERE userid <= 10`);
    const ev = await src.query<{ n: number }>('digoal_01', `SELECT count(*)::int AS n FROM pgq.event_template e JOIN pgq.queue q ON true WHERE q.queue_name = 'replika' AND e.ev_extra1 = 'digoal_01.user_info'`);
    assert.equal(ev[0]?.n, 10);

    const tables = ok(await runLondiste([srcJob, 'tables']), 'tables').stdout.split('\n');
    assert.deepEqual(tables.slice(0, 5), [
      'Tables on node',
      'table_name              merge_state      table_attrs',
      '----------------------  ---------------  ---------------',
      'digoal_01.user_info     ok               ',
      'digoal_01.user_session  ok               ',
    ]);

    const bad = failed(await runLondiste([srcJob, 'add-table', 'digoal_01.user_login_rec', 'digoal_01.user_logout_rec']), 'add-table without pkey');
    assert.match(bad.stderr, /ERROR Primary key missing on table: digoal_01\.user_login_rec/);
    const after = await src.query<{ n: number }>('digoal_01', `SELECT count(*)::int AS n FROM londiste.table_info WHERE local`);
    assert.equal(after[0]?.n, 2, 'nothing was added');

    const missing = ok(await runLondiste([srcJob, 'missing']), 'missing').stdout.split('\n');
    assert.deepEqual(missing.slice(0, 5), [
      'Missing objects on node',
      'obj_kind         obj_name',
      '---------------  -------------------------',
      'r                digoal_01.user_login_rec',
      'r                digoal_01.user_logout_rec',
    ]);

    for (const c of [src, dst]) {
      await c.query('digoal_01', 'ALTER TABLE digoal_01.user_login_rec ADD COLUMN id serial8 PRIMARY KEY');
      await c.query('digoal_01', 'ALTER TABLE digoal_01.user_logout_rec ADD COLUMN id serial8 PRIMARY KEY');
    }
    ok(await runLondiste([srcJob, 'add-table', 'digoal_01.user_login_rec', 'digoal_01.user_logout_rec']), 'add-table keyed');
    ok(await runLondiste([dst1Job, 'add-table', 'digoal_01.user_login_rec', 'digoal_01.user_logout_rec']), 'add-table keyed on leaf');

    const seqMissing = ok(await runLondiste([srcJob, 'missing']), 'missing seqs').stdout.split('\n');
    assert.deepEqual(seqMissing.slice(0, 5), [
      'Missing objects on node',
      'obj_kind         obj_name',
      '---------------  --------------------------------',
      'S                digoal_01.user_login_rec_id_seq',
      'S                digoal_01.user_logout_rec_id_seq',
    ]);
  }));

  it('adds sequences and lists them', steps.step('seqs', ['tables'], async () => {
    const r = ok(await runLondiste([srcJob, 'add-seq', 'digoal_01.user_login_rec_id_seq', 'digoal_01.user_logout_rec_id_seq']), 'add-seq');
    assert.match(r.stderr, /Sequence added: digoal_01\.user_login_rec_id_seq/);
    ok(await runLondiste([dst1Job, 'add-seq', 'digoal_01.user_login_rec_id_seq', 'digoal_01.user_logout_rec_id_seq']), 'add-seq on leaf');
    const seqs = ok(await runLondiste([srcJob, 'seqs']), 'seqs').stdout.split('\n');
    assert.equal(seqs[0], 'Sequences on node');
    assert.equal(seqs[1], 'seq_name                          local            last_value');
    assert.match(seqs[3] ?? '', /^digoal_01\.user_login_rec_id_seq {3}True {13}\d+$/);
    assert.match(seqs[4] ?? '', /^digoal_01\.user_logout_rec_id_seq {2}True {13}\d+$/);
  }));

  it('adds a renamed, filtered table on the second leaf, creating it', steps.step('renamed', ['tables'], async () => {
    ok(await runLondiste([dst2Job, 'add-table', 'digoal_01.user_info', '--dest-table=digoal_02.user_info1', '--where=userid < 1000', '--create']), 'add-table renamed');
    ok(await runLondiste([dst2Job, 'add-table', 'digoal_01.user_session', '--dest-table=digoal_02.user_session1', '--where=userid < 1000', '--create']), 'add-table renamed 2');
    const cols = await dst.query<{ n: number }>('digoal_02', `SELECT count(*)::int AS n FROM information_schema.columns WHERE table_schema = 'digoal_02' AND table_name = 'user_info1'`);
    assert.equal(cols[0]?.n, 10, 'created with all columns');
    const pk = await dst.query<{ n: number }>('digoal_02', `SELECT count(*)::int AS n FROM pg_index WHERE indrelid = 'digoal_02.user_info1'::regclass AND indisprimary`);
    assert.equal(pk[0]?.n, 1);
    const t = ok(await runLondiste([dst2Job, 'tables']), 'tables dst2').stdout;
    assert.match(t, /digoal_01\.user_info +None +\{'where': 'userid < 1000'\}/);
    const info = await dst.query<{ dest_table: string }>('digoal_02', `SELECT dest_table FROM londiste.get_table_list('replika') WHERE table_name = 'digoal_01.user_info'`);
    assert.equal(info[0]?.dest_table, 'digoal_02.user_info1');

    const status = ok(await runLondiste([srcJob, 'status']), 'status').stdout;
    assert.match(status, /src_digoal_01 \(root\)\n {2}\| +Tables: 4\/0\/0\n/);
    assert.match(status, /\+--dst1_digoal_01 \(leaf\)\n {2}\| +Tables: 0\/4\/0\n/);
    assert.match(status, /\+--dst2_digoal_02 \(leaf\)\n +Tables: 0\/2\/2\n/);
  }));

  it('says clearly what is wrong, and changes nothing', steps.step('errors', ['nodes'], async () => {
    const before = await dst.query<{ n: number }>('digoal_01', `SELECT count(*)::int AS n FROM londiste.table_info WHERE local`);
    let r = failed(await runLondiste([dst1Job, 'add-table', 'digoal_01.no_such_table']), 'unknown table');
    assert.match(r.stderr, /no_such_table/);
    assert.equal(r.stderr.trim().split('\n').filter((l) => /ERROR/.test(l)).length, 1, `one error line:\n${r.stderr}`);
    const afterRows = await dst.query<{ n: number }>('digoal_01', `SELECT count(*)::int AS n FROM londiste.table_info WHERE local`);
    assert.deepEqual(afterRows, before);

    const other = jobs.write('wrong_queue', { db: loc(dst, 'digoal_01'), queue_name: 'replica' });
    r = failed(await runLondiste([other, 'tables']), 'queue mismatch');
    assert.match(r.stderr, /queue "replica" has no node in .* \(it has: replika\); check queue_name in /);

    r = failed(await runLondiste([dst2Job, 'create-leaf', 'dst1_digoal_01', loc(dst, 'digoal_02'), `--provider=${loc(src, 'digoal_01')}`]), 'node exists');
    assert.match(r.stderr, /already/);

    const down = jobs.write('down', { db: `host=127.0.0.1 port=1 dbname=x user=u password=${SECRET}`, queue_name: 'replika' });
    r = failed(await runLondiste([down, 'status']), 'connection failure');
    assert.match(r.stderr, /ERROR cannot connect to 'host=127\.0\.0\.1 port=1 dbname=x user=u \[\.\.\.\]': .*ECONNREFUSED/);

    const bad = jobs.write('badkey', { db: loc(dst, 'digoal_01'), queue_name: 'replika', queue: 'x' });
    r = failed(await runLondiste([bad, 'status']), 'unknown key');
    assert.match(r.stderr, /badkey\.yaml: unknown key "queue"/);

    await dst.query('postgres', `CREATE ROLE app LOGIN`);
    await dst.createDatabase('digoal_03', { owner: 'app' });
    const nonSuper = jobs.write('dst3', { db: `host=127.0.0.1 port=${dst.port} dbname=digoal_03 user=app`, queue_name: 'replika' });
    r = failed(await runLondiste([nonSuper, 'create-leaf', 'dst3', `--provider=${loc(src, 'digoal_01')}`]), 'non-superuser leaf');
    assert.match(r.stderr, /permission denied to set parameter "session_replication_role" for user app on '.*dbname=digoal_03 user=app': (connect as a superuser|connect as a superuser, or run: GRANT SET ON PARAMETER session_replication_role TO app)/);
    const schemas = await dst.query<{ n: number }>('digoal_03', `SELECT count(*)::int AS n FROM pg_namespace WHERE nspname IN ('pgq', 'pgq_node', 'londiste')`);
    assert.equal(schemas[0]?.n, 0, 'nothing installed');

    r = failed(await runLondiste([srcJob, 'frobnicate']), 'unknown command');
    assert.match(r.stderr, /unknown command "frobnicate"/);
  }));

  it('pauses and resumes the worker, tags a node dead and drops it', steps.step('pause', ['nodes'], async () => {
    ok(await runLondiste([dst2Job, 'pause', '--wait-timeout=0']), 'pause');
    let n = await dst.query<{ p: boolean }>('digoal_02', `SELECT worker_paused AS p FROM pgq_node.get_node_info('replika')`);
    assert.equal(n[0]?.p, true);
    assert.match(ok(await runLondiste([srcJob, 'status']), 'status').stdout, /dst2_digoal_02 \(leaf\)\n.*\n.*PAUSED/);
    ok(await runLondiste([dst2Job, 'resume', '--wait-timeout=0']), 'resume');
    n = await dst.query<{ p: boolean }>('digoal_02', `SELECT worker_paused AS p FROM pgq_node.get_node_info('replika')`);
    assert.equal(n[0]?.p, false);

    ok(await runLondiste([srcJob, 'drop-node', 'dst2_digoal_02']), 'drop-node');
    const left = await src.query<{ node_name: string }>('digoal_01', `SELECT node_name FROM pgq_node.node_location WHERE queue_name = 'replika' ORDER BY 1`);
    assert.deepEqual(left.map((l) => l.node_name), ['dst1_digoal_01', 'src_digoal_01']);
    const consumers = await src.query<{ consumer_name: string }>('digoal_01', `SELECT consumer_name FROM pgq.get_consumer_info('replika')`);
    assert.deepEqual(consumers.map((c) => c.consumer_name).sort(), ['.dst1_digoal_01.watermark', '.global_watermark', 'dst1_digoal_01'],
      'the dropped leaf no longer holds back the queue');
  }));

  it('draws a member it cannot reach as a dead node, as upstream does', steps.step('unreachable', ['nodes'], async () => {
    await src.query('digoal_01', `SELECT * FROM pgq_node.register_location('replika', 'ghost', $1, false)`, [`host=127.0.0.1 port=1 dbname=x user=u password=${SECRET}`]);
    try {
      const lines = ok(await runLondiste([srcJob, 'status']), 'status with an unreachable member').stdout.split('\n');
      assert.ok(lines.some((l) => /^Node 'ghost' failure: .*ECONNREFUSED/.test(l)), `the failure is reported:\n${lines.join('\n')}`);
      const top = lines.findIndex((l) => l.startsWith('Queue: replika'));
      assert.equal(lines[top + 2], 'src_digoal_01 (root)', `the root's tree comes first:\n${lines.join('\n')}`);
      const at = lines.indexOf('ghost (dead)');
      assert.ok(at > top + 2, `ghost drawn as a dead node of its own, after the root's tree:\n${lines.join('\n')}`);
      // upstream knows nothing of an unreachable node: no lag, and not PAUSED (skytools 3 prints
      // "Lag: (n/a)", later python-pgq adds "NOT UPTODATE")
      assert.match(lines[at + 1] ?? '', /^ {30}Lag: \(n\/a\)(, NOT UPTODATE)?$/, `the dead node's line:\n${lines.join('\n')}`);
    } finally {
      await src.query('digoal_01', `SELECT * FROM pgq_node.unregister_location('replika', 'ghost')`);
    }
  }));
});
