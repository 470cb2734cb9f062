// pgq_node and londiste at the SQL level: node set-up as the admin tool does it, return codes
// and notes, watermarks, pause flags, switchover primitives, table and sequence bookkeeping,
// foreign-key stashing, execute bookkeeping.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type pg from 'pg';
import { startCluster, testVersions, type PgCluster } from '@skytools/harness';
import { freshDatabase, scalar } from '../pgq/support.js';

type Ret = { ret_code: number; ret_note: string };

async function ret(c: pg.ClientBase, sql: string, params: unknown[] = []): Promise<Ret> {
  const r = await c.query<Ret>(sql, params);
  const row = r.rows[0];
  if (row === undefined) throw new Error(`no row from ${sql}`);
  return { ret_code: row.ret_code, ret_note: row.ret_note };
}

for (const major of testVersions()) {
  describe(`pgq_node and londiste SQL, PostgreSQL ${major}`, () => {
    let cluster: PgCluster;
    before(async () => {
      cluster = await startCluster(major);
    });
    after(async () => {
      await cluster.stop();
    });

    it('creates a root, a branch and a leaf, with watermarks and states', async () => {
      const { client: root } = await freshDatabase(cluster, 'root', ['pgq', 'pgq_node', 'londiste']);
      const { client: branch } = await freshDatabase(cluster, 'branch', ['pgq', 'pgq_node', 'londiste']);
      const { client: leaf } = await freshDatabase(cluster, 'leaf', ['pgq', 'pgq_node', 'londiste']);
      try {
        assert.deepEqual(await ret(root, `SELECT * FROM pgq_node.register_location('q', 'n_root', 'dbname=root', false)`), { ret_code: 200, ret_note: 'Location registered' });
        assert.deepEqual(await ret(root, `SELECT * FROM pgq_node.create_node('q', 'root', 'n_root', 'w_root', NULL, NULL, NULL)`),
          { ret_code: 200, ret_note: 'Node "n_root" initialized for queue "q" with type "root"' });
        assert.equal((await ret(root, `SELECT * FROM pgq_node.create_node('q', 'root', 'n_root', 'w_root', NULL, NULL, NULL)`)).ret_note, 'Node already initialized');
        assert.equal((await ret(root, `SELECT * FROM pgq_node.get_node_info('nosuch')`)).ret_note, 'Unknown queue: nosuch');

        // the branch, as the admin tool does it: locations on root, subscriber on provider, then the node
        await root.query(`SELECT * FROM pgq_node.register_location('q', 'n_branch', 'dbname=branch', false)`);
        const sub = await root.query<Ret & { global_watermark: string }>(`SELECT * FROM pgq_node.register_subscriber('q', 'n_branch', 'w_branch', NULL)`);
        assert.equal(sub.rows[0]?.ret_note, 'Subscriber registered: n_branch');
        const gwm = sub.rows[0]?.global_watermark;
        for (const [n, l] of [['n_root', 'dbname=root'], ['n_branch', 'dbname=branch']]) {
          await branch.query(`SELECT * FROM pgq_node.register_location('q', $1, $2, false)`, [n, l]);
        }
        assert.equal((await ret(branch, `SELECT * FROM pgq_node.create_node('q', 'branch', 'n_branch', 'w_branch', 'n_root', $1, NULL)`, [gwm])).ret_code, 200);
        const bq = await branch.query<{ queue_external_ticker: boolean; queue_disable_insert: boolean }>(`SELECT queue_external_ticker, queue_disable_insert FROM pgq.queue`);
        assert.deepEqual(bq.rows[0], { queue_external_ticker: true, queue_disable_insert: true }, 'a branch queue is fed by its worker only');
        assert.equal((await ret(branch, `SELECT * FROM pgq_node.create_node('q', 'branch', 'x', 'w', NULL, 1, NULL)`)).ret_code, 401);

        // the leaf under the branch
        await branch.query(`SELECT * FROM pgq_node.register_location('q', 'n_leaf', 'dbname=leaf', false)`);
        await branch.query(`SELECT * FROM pgq_node.register_subscriber('q', 'n_leaf', 'w_leaf', NULL)`);
        for (const [n, l] of [['n_root', 'dbname=root'], ['n_branch', 'dbname=branch'], ['n_leaf', 'dbname=leaf']]) {
          await leaf.query(`SELECT * FROM pgq_node.register_location('q', $1, $2, false)`, [n, l]);
        }
        assert.equal((await ret(leaf, `SELECT * FROM pgq_node.create_node('q', 'leaf', 'n_leaf', 'w_leaf', 'n_branch', $1, NULL)`, [gwm])).ret_code, 200);
        assert.equal(await scalar(leaf, `SELECT pgq_node.is_leaf_node('q')`), true);
        assert.equal(await scalar(root, `SELECT pgq_node.is_root_node('q')`), true);
        assert.equal((await ret(leaf, `SELECT * FROM pgq_node.register_subscriber('q', 'x', 'w', NULL)`)).ret_note, 'Cannot subscribe to leaf node');

        const info: unknown = (await leaf.query(`SELECT node_type, node_name, provider_node, provider_location, worker_name, worker_paused, worker_uptodate FROM pgq_node.get_node_info('q')`)).rows[0];
        assert.deepEqual(info, { node_type: 'leaf', node_name: 'n_leaf', provider_node: 'n_branch', provider_location: 'dbname=branch', worker_name: 'w_leaf', worker_paused: false, worker_uptodate: false });

        // worker state flags
        assert.deepEqual(await ret(leaf, `SELECT * FROM pgq_node.set_consumer_paused('q', 'w_leaf', true)`), { ret_code: 200, ret_note: 'Consumer w_leaf tagged as paused' });
        assert.deepEqual(await ret(leaf, `SELECT * FROM pgq_node.set_consumer_paused('q', 'w_leaf', true)`), { ret_code: 201, ret_note: 'Consumer w_leaf already paused' });
        assert.equal((await ret(leaf, `SELECT * FROM pgq_node.set_consumer_uptodate('q', 'w_leaf', true)`)).ret_note, 'Consumer uptodate = 1');
        assert.equal((await ret(leaf, `SELECT * FROM pgq_node.set_consumer_error('q', 'w_leaf', 'boom')`)).ret_code, 100);
        const st: unknown = (await leaf.query(`SELECT paused, uptodate, cur_error, completed_tick::text FROM pgq_node.get_consumer_state('q', 'w_leaf')`)).rows[0];
        assert.deepEqual(st, { paused: true, uptodate: true, cur_error: 'boom', completed_tick: gwm });
        assert.equal((await ret(leaf, `SELECT * FROM pgq_node.set_consumer_completed('q', 'w_leaf', 99)`)).ret_note, 'Consumer w_leaf completed tick = 99');
        assert.equal(await scalar(leaf, `SELECT cur_error FROM pgq_node.get_consumer_info('q')`), null, 'completing a batch clears the error');

        // watermarks: the subscriber reports, never backwards; the root publishes
        await root.query(`SELECT pgq.force_tick('q')`);
        await root.query(`SELECT pgq.ticker('q')`);
        const top = await scalar<string>(root, `SELECT max(tick_id)::text FROM pgq.tick`);
        assert.equal((await ret(root, `SELECT * FROM pgq_node.set_subscriber_watermark('q', 'n_branch', $1)`, [top])).ret_note, `.n_branch.watermark set to ${top}`);
        assert.equal((await ret(root, `SELECT * FROM pgq_node.set_subscriber_watermark('q', 'n_branch', 1)`)).ret_code, 405);
        const gw = await ret(root, `SELECT * FROM pgq_node.set_global_watermark('q', NULL)`);
        assert.equal(gw.ret_code, 200);
        assert.equal(await scalar(root, `SELECT count(*)::int FROM pgq.event_template WHERE ev_type = 'pgq.global-watermark'`), 1);
        assert.equal((await ret(leaf, `SELECT * FROM pgq_node.set_global_watermark('q', 5)`)).ret_note, 'Ignoring global watermark in leaf');
        assert.equal(await scalar(root, `SELECT pgq_node.maint_watermark('q')`), 0);

        // switchover primitives on the root and the branch
        assert.equal((await ret(root, `SELECT * FROM pgq_node.demote_root('q', 1, 'n_branch')`)).ret_note, 'Step 1: Writing disabled for: q');
        assert.equal((await ret(root, `SELECT * FROM pgq_node.demote_root('q', 2, 'n_branch')`)).ret_note, 'Step 2: Inserted last tick: q');
        assert.equal((await ret(root, `SELECT * FROM pgq_node.demote_root('q', 3, 'n_branch')`)).ret_note, 'Step 3: Demoted root to branch: q');
        assert.equal(await scalar(root, `SELECT node_type FROM pgq_node.get_node_info('q')`), 'branch');
        assert.equal((await ret(branch, `SELECT * FROM pgq_node.promote_branch('q')`)).ret_note, 'Branch node promoted to root');
        assert.equal(await scalar(branch, `SELECT queue_external_ticker FROM pgq.queue`), false);

        // dropping a subscriber node from its provider
        assert.equal((await ret(branch, `SELECT * FROM pgq_node.drop_node('q', 'n_leaf')`)).ret_note, 'Node dropped: n_leaf');
        assert.equal(await scalar(branch, `SELECT count(*)::int FROM pgq_node.subscriber_info`), 0);
        assert.equal((await ret(leaf, `SELECT * FROM pgq_node.unregister_location('q', 'n_leaf')`)).ret_note, 'Cannot drop node\'s own location');
        assert.equal((await ret(leaf, `SELECT * FROM pgq_node.unregister_location('q', 'n_branch')`)).ret_note, 'Cannot drop location of node\'s parent');
      } finally {
        await Promise.all([root.end(), branch.end(), leaf.end()]);
      }
    });

    it('keeps the table and sequence lists, triggers and foreign keys of londiste', async () => {
      const { client: root } = await freshDatabase(cluster, 'ltabs', ['pgq', 'pgq_node', 'londiste']);
      try {
        await root.query(`SELECT * FROM pgq_node.register_location('q', 'r', 'dbname=x', false)`);
        await root.query(`SELECT * FROM pgq_node.create_node('q', 'root', 'r', 'w', NULL, NULL, NULL)`);
        await root.query(`CREATE TABLE parent (id int PRIMARY KEY)`);
        await root.query(`CREATE TABLE child (id serial PRIMARY KEY, pid int REFERENCES parent (id), v text)`);
        await root.query(`CREATE TABLE nokey (v text)`);
        assert.deepEqual(await ret(root, `SELECT * FROM londiste.local_add_table('q', 'parent')`), { ret_code: 200, ret_note: 'Table added: public.parent' });
        assert.deepEqual(await ret(root, `SELECT * FROM londiste.local_add_table('q', 'public.parent')`), { ret_code: 200, ret_note: 'Table already added: public.parent' });
        assert.deepEqual(await ret(root, `SELECT * FROM londiste.local_add_table('q', 'nokey')`), { ret_code: 400, ret_note: 'Primary key missing on table: public.nokey' });
        assert.deepEqual(await ret(root, `SELECT * FROM londiste.local_add_table('q', 'nosuch')`), { ret_code: 404, ret_note: 'Table does not exist: public.nosuch' });
        assert.equal((await ret(root, `SELECT * FROM londiste.local_add_table('q', 'child', '{tgflags=BIUDQ}')`)).ret_code, 200);
        const trg = await root.query<{ tgname: string }>(`SELECT tgname FROM pg_trigger WHERE tgrelid IN ('parent'::regclass, 'child'::regclass) AND NOT tgisinternal ORDER BY 1`);
        assert.deepEqual(trg.rows.map((r) => r.tgname), ['_londiste_q', '_londiste_q_d', '_londiste_q_i', '_londiste_q_k', '_londiste_q_truncate', '_londiste_q_truncate', '_londiste_q_u']);
        await root.query(`INSERT INTO parent VALUES (1)`);
        await root.query(`INSERT INTO child (pid, v) VALUES (1, 'x')`);
        const ev = await root.query<{ ev_type: string }>(`SELECT ev_type FROM pgq.event_template WHERE ev_extra1 IN ('public.parent', 'public.child') ORDER BY ev_id`);
        assert.deepEqual(ev.rows.map((r) => r.ev_type), ['I:id', 'I'], 'logutriga on parent, sqltriga (flag Q) on child');
        assert.equal(await scalar(root, `SELECT count(*)::int FROM pgq.event_template WHERE ev_type = 'londiste.add-table'`), 2);

        // sequences
        assert.deepEqual(await ret(root, `SELECT * FROM londiste.local_add_seq('q', 'child_id_seq')`), { ret_code: 200, ret_note: 'Sequence added: public.child_id_seq' });
        assert.equal((await ret(root, `SELECT * FROM londiste.local_add_seq('q', 'child_id_seq')`)).ret_code, 201);
        assert.equal((await ret(root, `SELECT * FROM londiste.local_add_seq('q', 'nosuch_seq')`)).ret_note, 'Sequence not found: public.nosuch_seq');
        assert.equal(await scalar(root, `SELECT last_value::text FROM londiste.get_seq_list('q')`), '30001', 'published with headroom');
        assert.deepEqual((await root.query(`SELECT obj_kind, obj_name FROM londiste.local_show_missing('q')`)).rows, [{ obj_kind: 'r', obj_name: 'public.nokey' }]);

        // states and attributes
        assert.equal((await ret(root, `SELECT * FROM londiste.local_set_table_state('q', 'public.parent', '1:2:', 'catching-up')`)).ret_note, `Table public.parent state set to 'catching-up'`);
        assert.equal((await ret(root, `SELECT * FROM londiste.local_set_table_attrs('q', 'public.parent', 'skip_truncate=1')`)).ret_code, 200);
        const t: unknown = (await root.query(`SELECT merge_state, custom_snapshot, table_attrs FROM londiste.get_table_list('q') WHERE table_name = 'public.parent'`)).rows[0];
        assert.deepEqual(t, { merge_state: 'catching-up', custom_snapshot: '1:2:', table_attrs: 'skip_truncate=1' });

        // foreign keys put aside for a copy and restored
        const fks = await root.query<{ fkey_name: string }>(`SELECT fkey_name FROM londiste.find_table_fkeys('public.child')`);
        assert.deepEqual(fks.rows.map((r) => r.fkey_name), ['child_pid_fkey']);
        assert.equal(await scalar(root, `SELECT londiste.drop_table_fkey('public.child', 'child_pid_fkey')`), 1);
        assert.equal(await scalar(root, `SELECT count(*)::int FROM pg_constraint WHERE conname = 'child_pid_fkey'`), 0);
        assert.equal(await scalar(root, `SELECT count(*)::int FROM londiste.get_table_pending_fkeys('public.parent')`), 1);
        assert.equal(await scalar(root, `SELECT londiste.restore_table_fkey('public.child', 'child_pid_fkey')`), '');
        assert.equal(await scalar(root, `SELECT count(*)::int FROM pg_constraint WHERE conname = 'child_pid_fkey'`), 1);

        // execute bookkeeping
        assert.equal((await ret(root, `SELECT * FROM londiste.execute_start('q', 'a.sql', 'select 1', true)`)).ret_note, 'Executing: a.sql');
        assert.equal((await ret(root, `SELECT * FROM londiste.execute_start('q', 'a.sql', 'select 1', true)`)).ret_code, 201);
        assert.equal((await ret(root, `SELECT * FROM londiste.execute_finish('q', 'a.sql')`)).ret_note, 'Execute finished: a.sql');
        assert.equal(await scalar(root, `SELECT count(*)::int FROM pgq.event_template WHERE ev_type = 'EXECUTE'`), 1);

        // removal drops the triggers and announces it
        assert.deepEqual(await ret(root, `SELECT * FROM londiste.local_remove_table('q', 'public.parent')`), { ret_code: 200, ret_note: 'Table removed: public.parent' });
        assert.equal(await scalar(root, `SELECT count(*)::int FROM pg_trigger WHERE tgrelid = 'parent'::regclass AND NOT tgisinternal`), 0);
        assert.equal(await scalar(root, `SELECT count(*)::int FROM pgq.event_template WHERE ev_type = 'londiste.remove-table'`), 1);
        assert.equal(await scalar(root, `SELECT londiste.periodic_maintenance()`), 0);
        assert.deepEqual((await root.query(`SELECT * FROM pgq.maint_operations()`)).rows.map((r: { func_name: string }) => r.func_name),
          ['pgq_node.maint_watermark', 'londiste.root_check_seqs', 'londiste.periodic_maintenance']);
      } finally {
        await root.end();
      }
    });
  });
}
