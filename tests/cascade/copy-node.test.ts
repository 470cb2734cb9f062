// Initial copies from another node than the provider (add-table/resync --copy-node=NODE and
// --find-copy-node), under writes on the root: the copied tables end equal to the root's.
//
// The cascade: root; branch b1 under it with the tables; branch b2 under b1 without them (it
// only passes events on); leaf l1 under the root with the tables; leaf l2 under b2. l2's provider
// has none of the tables, so a plain add-table there is refused; it copies two tables from l1
// (named) and the other two from b1 (found walking up from b2), each matched to b2's ticks by the
// tick the copy node had applied, while l1 is stopped at a tick behind b2. Then l1 is stopped
// behind l2: a copy from it waits rather than read rows older than what l2 has passed.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createSeedSchema, startCluster, testVersions, type PgCluster } from '@skytools/harness';
import { jobDir, ok, runLondiste } from '../cli/run-londiste.js';
import { startTicker, startWorker, tableDigest, waitCaughtUp, waitFor, type RunningWorker } from '../replication/replication-env.js';

const versions = testVersions();
const major = versions[versions.length - 1] ?? 15;
const TABLES = ['user_info', 'user_session', 'user_login_rec', 'user_logout_rec'];
const NODES = ['root', 'b1', 'b2', 'l1', 'l2'] as const;
type NodeKey = (typeof NODES)[number];

describe(`copy from another node than the provider (PostgreSQL ${major})`, () => {
  let pg: PgCluster;
  const jobs = jobDir();
  const files = {} as Record<NodeKey, string>;
  const workers = new Map<NodeKey, RunningWorker>();
  let ticker: { stop: () => Promise<void> } | undefined;
  const diag = (): string => [...workers].map(([n, w]) => `[${n}]\n${w.output().split('\n').slice(-15).join('\n')}`).join('\n----\n');
  const londiste = (node: NodeKey, ...args: string[]): ReturnType<typeof runLondiste> => runLondiste([files[node], ...args]);
  const okStates = async (db: NodeKey): Promise<number> =>
    (await pg.query<{ n: number }>(db, `SELECT count(*)::int AS n FROM londiste.get_table_list('q') WHERE local AND merge_state = 'ok'`))[0]?.n ?? 0;
  /** Writes on the root for a while: updates, inserts and deletes on every table. */
  const load = async (rounds: number): Promise<void> => {
    for (let i = 0; i < rounds; i++) {
      await pg.query('root', `UPDATE digoal_01.user_info SET mod_time = now(), signname = md5(random()::text) WHERE userid % 10 = ${i % 10}`);
      await pg.query('root', `INSERT INTO digoal_01.user_login_rec (userid, login_time, ip) SELECT g, now(), '10.0.0.${i % 250}' FROM generate_series(1, 50) g`);
      await pg.query('root', `INSERT INTO digoal_01.user_logout_rec (userid, logout_time, ip) SELECT g, now(), '10.0.1.${i % 250}' FROM generate_series(1, 50) g`);
      await pg.query('root', `UPDATE digoal_01.user_session SET logintime = now(), login_count = login_count + 1 WHERE userid BETWEEN ${(i * 37) % 3000} AND ${((i * 37) % 3000) + 20}`);
      await pg.query('root', `DELETE FROM digoal_01.user_login_rec WHERE id IN (SELECT id FROM digoal_01.user_login_rec ORDER BY id LIMIT 5)`);
      await new Promise((r) => setTimeout(r, 40));
    }
  };
  const compare = async (db: NodeKey): Promise<void> => {
    for (const t of TABLES) {
      assert.deepEqual(await tableDigest(pg, db, `SELECT * FROM digoal_01.${t}`), await tableDigest(pg, 'root', `SELECT * FROM digoal_01.${t}`), `${db}: digoal_01.${t} differs from the root`);
    }
  };

  before(async () => {
    pg = await startCluster(major);
    for (const n of NODES) await pg.createDatabase(n);
    await pg.withClient('root', (c) => createSeedSchema(c, { users: 3000, keyedLogs: true }));
    for (const n of NODES.filter((x) => x !== 'root')) await pg.withClient(n, (c) => createSeedSchema(c, { users: 0, keyedLogs: true }));
    for (const n of NODES) files[n] = jobs.write(`n_${n}`, { db: pg.connectionString(n), queue_name: 'q', loop_delay: '200ms' });
    ok(await londiste('root', 'create-root', 'n_root', pg.connectionString('root')), 'create-root');
    await pg.query('root', `SELECT pgq.set_queue_config('q', 'ticker_max_lag', '0')`);
    ok(await londiste('b1', 'create-branch', 'n_b1', pg.connectionString('b1'), `--provider=${pg.connectionString('root')}`), 'create-branch b1');
    ok(await londiste('b2', 'create-branch', 'n_b2', pg.connectionString('b2'), `--provider=${pg.connectionString('b1')}`), 'create-branch b2');
    ok(await londiste('l1', 'create-leaf', 'n_l1', pg.connectionString('l1'), `--provider=${pg.connectionString('root')}`), 'create-leaf l1');
    ok(await londiste('l2', 'create-leaf', 'n_l2', pg.connectionString('l2'), `--provider=${pg.connectionString('b2')}`), 'create-leaf l2');
    ok(await londiste('root', 'add-table', '--all'), 'add-table root');
    ticker = startTicker(pg, 'root', 100);
    for (const n of NODES) workers.set(n, startWorker(files[n]));
    ok(await londiste('b1', 'add-table', '--all'), 'add-table b1');
    ok(await londiste('l1', 'add-table', '--all'), 'add-table l1');
    await load(5);
    for (const n of ['b1', 'l1'] as const) await waitFor(`${n} in sync`, 90_000, async () => ((await okStates(n)) === 4 ? true : undefined), diag);
  });
  after(async () => {
    for (const w of workers.values()) await w.stop();
    await ticker?.stop();
    jobs.remove();
    await pg.stop();
  });

  it('refuses what cannot work, before changing anything', async () => {
    const plain = await londiste('l2', 'add-table', 'digoal_01.user_info');
    assert.notEqual(plain.code, 0);
    assert.match(plain.stderr, /not replicated by provider n_b2/);
    const fromRoot = await londiste('l2', 'add-table', 'digoal_01.user_info', '--copy-node=n_root');
    assert.notEqual(fromRoot.code, 0);
    assert.match(fromRoot.stderr, /--copy-node=n_root: a root is a copy source only for its own subscribers/);
    const unknown = await londiste('l2', 'add-table', 'digoal_01.user_info', '--copy-node=n_nowhere');
    assert.notEqual(unknown.code, 0);
    assert.match(unknown.stderr, /--copy-node=n_nowhere: no such member of queue q/);
    const both = await londiste('l2', 'add-table', 'digoal_01.user_info', '--copy-node=n_l1', '--find-copy-node');
    assert.match(both.stderr, /give one of them/);
    const misplaced = await londiste('l2', 'tables', '--copy-node=n_l1');
    assert.notEqual(misplaced.code, 0);
    assert.match(misplaced.stderr, /--copy-node is for add-table and resync, not tables/);
    const onRoot = await londiste('root', 'add-table', 'digoal_01.user_info', '--find-copy-node');
    assert.match(onRoot.stderr, /the root copies nothing/);
    assert.equal(await okStates('l2'), 0);
    const local = await pg.query<{ n: number }>('l2', `SELECT count(*)::int AS n FROM londiste.get_table_list('q') WHERE local`);
    assert.equal(local[0]?.n, 0, 'nothing was added on l2');
  });

  it('copies from a named leaf and from a branch found upwards, under writes, and catches up exactly', async () => {
    // l2 stops first, l1 a little later: l1's rows are ahead of l2 but behind b2's queue, whose
    // events after l1's tick the catch-up must apply (and the ones before it skip)
    await workers.get('l2')?.stop();
    workers.delete('l2');
    await load(5);
    await waitCaughtUp(pg, 'root', pg, 'l1', 'q', 'n_l1', 60_000, diag);
    await workers.get('l1')?.stop();
    workers.delete('l1');
    await load(10);
    await waitCaughtUp(pg, 'root', pg, 'b2', 'q', 'n_b2', 60_000, diag);

    ok(await londiste('l2', 'add-table', 'digoal_01.user_info', 'digoal_01.user_session', '--copy-node=n_l1'), 'add-table --copy-node');
    ok(await londiste('l2', 'add-table', 'digoal_01.user_login_rec', 'digoal_01.user_logout_rec', '--find-copy-node'), 'add-table --find-copy-node');
    const attrs = await pg.query<{ table_name: string; table_attrs: string }>('l2', `SELECT table_name, table_attrs FROM londiste.get_table_list('q') WHERE local ORDER BY 1`);
    assert.deepEqual(attrs.map((a) => `${a.table_name} ${a.table_attrs}`), [
      'digoal_01.user_info copy_node=n_l1',
      'digoal_01.user_login_rec copy_node=%3F',
      'digoal_01.user_logout_rec copy_node=%3F',
      'digoal_01.user_session copy_node=n_l1',
    ]);
    // l1 still stopped: its rows are older than what b2 has, and the copy uses them
    workers.set('l2', startWorker(files.l2));
    await load(10);
    await waitFor('l2 in sync', 120_000, async () => ((await okStates('l2')) === 4 ? true : undefined), diag);
    await waitCaughtUp(pg, 'root', pg, 'l2', 'q', 'n_l2', 60_000, diag);
    await compare('l2');
    const out = workers.get('l2')?.output() ?? '';
    assert.match(out, /digoal_01\.user_info: starting copy from node n_l1/);
    assert.match(out, /digoal_01\.user_info: reading node n_l1's rows as of tick \d+/);
    assert.match(out, /digoal_01\.user_login_rec: starting copy from node n_b1/);
    workers.set('l1', startWorker(files.l1));
    await load(5);
    await waitCaughtUp(pg, 'root', pg, 'l1', 'q', 'n_l1', 60_000, diag);
    await waitCaughtUp(pg, 'root', pg, 'l2', 'q', 'n_l2', 60_000, diag);
    await compare('l1');
    await compare('l2');
  });

  it('waits for a copy node behind this node; resync changes where a table copies from', async () => {
    // l1 falls behind l2: a copy from it now would lack changes l2 has already passed
    await workers.get('l1')?.stop();
    workers.delete('l1');
    await load(10);
    await waitCaughtUp(pg, 'root', pg, 'l2', 'q', 'n_l2', 60_000, diag);
    ok(await londiste('l2', 'resync', 'digoal_01.user_session'), 'resync (copy_node=n_l1 kept)');
    await waitFor('the copy to wait for l1', 60_000, async () => (/digoal_01\.user_session: copy node n_l1 is at tick \d+, behind tick \d+ from which this node keeps the table's events: waiting/.test(workers.get('l2')?.output() ?? '') ? true : undefined), diag);
    const waiting = await pg.query<{ merge_state: string }>('l2', `SELECT merge_state FROM londiste.get_table_list('q') WHERE table_name = 'digoal_01.user_session'`);
    assert.equal(waiting[0]?.merge_state, 'in-copy', 'the copy waits, nothing copied yet');

    const toProvider = await londiste('l2', 'resync', 'digoal_01.user_info', '--copy-node=n_b2');
    assert.notEqual(toProvider.code, 0);
    assert.match(toProvider.stderr, /not replicated by provider n_b2/);
    ok(await londiste('l2', 'resync', 'digoal_01.user_info', '--copy-node=n_b1'), 'resync --copy-node=n_b1');
    const a = await pg.query<{ table_attrs: string }>('l2', `SELECT table_attrs FROM londiste.get_table_list('q') WHERE table_name = 'digoal_01.user_info'`);
    assert.equal(a[0]?.table_attrs, 'copy_node=n_b1');
    workers.set('l1', startWorker(files.l1));
    ok(await londiste('l1', 'resync', 'digoal_01.user_session', '--find-copy-node'), 'resync --find-copy-node on l1');
    await load(20);
    for (const n of ['l1', 'l2'] as const) await waitFor(`${n} in sync`, 120_000, async () => ((await okStates(n)) === 4 ? true : undefined), diag);
    await waitCaughtUp(pg, 'root', pg, 'l1', 'q', 'n_l1', 60_000, diag);
    await waitCaughtUp(pg, 'root', pg, 'l2', 'q', 'n_l2', 60_000, diag);
    await compare('l1');
    await compare('l2');
    assert.match(workers.get('l2')?.output() ?? '', /digoal_01\.user_info: starting copy from node n_b1/);
    // l1's provider is the root, which has the table: an ordinary copy
    assert.match(workers.get('l1')?.output() ?? '', /digoal_01\.user_session: starting copy\n/);
  });
});
