// Tables several source queues merge into one (leaf nodes of part queues sharing a combined
// queue), as upstream's londiste_merge regression test expects them: add-table needs merge_all
// or no_merge when other sources exist, merge_all makes the table local in every part queue and
// in the combined root, and get_table_list gives each part its copy role (lead, wait-copy,
// wait-replay) from the states of all parts; a table removed with its structure dropped gets it
// back.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type pg from 'pg';
import { startCluster, testVersions, type PgCluster } from '@skytools/harness';
import { freshDatabase, scalar } from '../pgq/support.js';

const major = testVersions().at(-1) ?? 15;

/** A database holding a combined root and the merge leaves of `parts` part queues. */
async function mergeNode(c: pg.ClientBase, parts: number): Promise<void> {
  await c.query(`SELECT * FROM pgq_node.register_location('combined', 'croot', 'dbname=c', false)`);
  await c.query(`SELECT * FROM pgq_node.create_node('combined', 'root', 'croot', 'w_croot', NULL, NULL, NULL)`);
  for (let i = 1; i <= parts; i++) {
    await c.query(`SELECT * FROM pgq_node.register_location('part${i}', 'p${i}root', 'dbname=p${i}', false)`);
    await c.query(`SELECT * FROM pgq_node.register_location('part${i}', 'p${i}merge', 'dbname=c', false)`);
    await c.query(`SELECT * FROM pgq_node.create_node('part${i}', 'leaf', 'p${i}merge', 'w_p${i}merge', 'p${i}root', 100, 'combined')`);
  }
}

async function ret(c: pg.ClientBase, sql: string): Promise<string> {
  const r = await c.query<{ ret_code: number; ret_note: string }>(sql);
  return `${String(r.rows[0]?.ret_code)} ${r.rows[0]?.ret_note ?? ''}`;
}

/** table → "local state role pos" in a queue. */
async function tables(c: pg.ClientBase, queue: string): Promise<Record<string, string>> {
  const r = await c.query<{ table_name: string; local: boolean; merge_state: string | null; copy_role: string | null; copy_pos: number }>(
    'SELECT * FROM londiste.get_table_list($1)',
    [queue],
  );
  return Object.fromEntries(r.rows.map((t) => [t.table_name, `${t.local ? 'local' : '-'} ${t.merge_state ?? 'null'} ${t.copy_role ?? 'null'} ${String(t.copy_pos)}`]));
}

describe(`merged tables: add-table and copy roles, PostgreSQL ${major}`, () => {
  let cluster: PgCluster;
  before(async () => {
    cluster = await startCluster(major);
  });
  after(async () => {
    await cluster.stop();
  });

  it('adds a table from every part with merge_all, refuses it without, and coordinates the copies', async () => {
    const { client: c } = await freshDatabase(cluster, 'merge', ['pgq', 'pgq_node', 'londiste']);
    try {
      await c.query('CREATE TABLE tblmerge (id int4 PRIMARY KEY, data text); CREATE TABLE other (id int4 PRIMARY KEY)');
      await mergeNode(c, 2);
      for (const q of ['part1', 'part2']) for (const t of ['tblmerge', 'other']) assert.match(await ret(c, `SELECT * FROM londiste.global_add_table('${q}', '${t}')`), /^200/);

      // two sources and neither switch: refused, nothing changed
      assert.equal(await ret(c, `SELECT * FROM londiste.local_add_table('part1', 'other')`), '405 Found multiple sources for table public.other, use merge-all or no-merge to continue');
      assert.equal((await tables(c, 'part1'))['public.other'], '- null null 0');
      // no_merge: this queue only, and then the other queue is refused while it is local here
      assert.match(await ret(c, `SELECT * FROM londiste.local_add_table('part1', 'other', array['no_merge'])`), /^200 Table added: public.other/);
      assert.equal((await tables(c, 'part2'))['public.other'], '- null null 0');
      assert.equal(
        await ret(c, `SELECT * FROM londiste.local_add_table('part2', 'other', array['merge_all'])`),
        '405 Found local table public.other in queue part1, use remove-table first to remove all previous table subscriptions',
      );

      // merge_all: local in both parts (waiting for their copies) and in the combined root
      assert.equal(await ret(c, `SELECT * FROM londiste.local_add_table('part1', 'tblmerge', array['merge_all'])`), '200 Table added: public.tblmerge');
      assert.equal((await tables(c, 'part1'))['public.tblmerge'], 'local null null 0');
      assert.equal((await tables(c, 'part2'))['public.tblmerge'], 'local null null 0');
      assert.equal((await tables(c, 'combined'))['public.tblmerge'], 'local ok null 0');

      const set = async (q: string, state: string): Promise<void> => {
        assert.match(await ret(c, `SELECT * FROM londiste.local_set_table_state('${q}', 'public.tblmerge', NULL, '${state}')`), /^200/);
      };
      const struct = async (ddl: string | null): Promise<void> => {
        await c.query(`SELECT * FROM londiste.local_set_table_struct('part1', 'public.tblmerge', $1)`, [ddl]);
      };
      const roles = async (): Promise<string[]> => [(await tables(c, 'part1'))['public.tblmerge'] ?? '', (await tables(c, 'part2'))['public.tblmerge'] ?? ''];

      // both start: the first queue leads, the other waits for it to drop the structure
      await set('part1', 'in-copy');
      await set('part2', 'in-copy');
      assert.deepEqual(await roles(), ['local in-copy lead 0', 'local in-copy wait-copy 1']);
      // the lead dropped it: the other copies too, and waits before replaying
      await struct('CREATE INDEX x ON tblmerge (data)');
      assert.deepEqual(await roles(), ['local in-copy lead 0', 'local in-copy wait-replay 1']);
      await set('part2', 'catching-up');
      assert.deepEqual(await roles(), ['local in-copy lead 0', 'local catching-up wait-replay 0']);
      // every part copied: the lead has nothing to wait for and puts the structure back
      await set('part1', 'catching-up');
      assert.deepEqual(await roles(), ['local catching-up null 0', 'local catching-up wait-replay 0']);
      await struct(null);
      assert.deepEqual(await roles(), ['local catching-up null 0', 'local catching-up null 0']);

      // a virtual table added with merge_all: in sync at once everywhere, the combined root too
      for (const q of ['part1', 'part2']) await c.query(`SELECT * FROM londiste.global_add_table('${q}', 'tblauto')`);
      assert.equal(await ret(c, `SELECT * FROM londiste.local_add_table('part1', 'tblauto', array['merge_all', 'virtual_table'], 'handler=vtable')`), '200 Table added with no triggers: public.tblauto');
      assert.equal((await tables(c, 'part2'))['public.tblauto'], 'local ok null 0');
      assert.equal((await tables(c, 'combined'))['public.tblauto'], 'local ok null 0');
    } finally {
      await c.end();
    }
  });

  it('gives three parts their roles from every combination of states', async () => {
    const { client: c } = await freshDatabase(cluster, 'merge3', ['pgq', 'pgq_node', 'londiste']);
    try {
      await c.query('CREATE TABLE t3 (id int4 PRIMARY KEY)');
      await mergeNode(c, 3);
      for (const q of ['part1', 'part2', 'part3']) await c.query(`SELECT * FROM londiste.global_add_table('${q}', 't3')`);
      /** States ('!' = this part dropped the structure) → the three roles. */
      const roles = async (...states: string[]): Promise<string> => {
        for (const [i, s] of states.entries()) {
          await c.query(`UPDATE londiste.table_info SET local = true, merge_state = $1, dropped_ddl = $2 WHERE queue_name = $3 AND table_name = 'public.t3'`, [
            s.replace('!', ''),
            s.startsWith('!') ? 'x' : null,
            `part${String(i + 1)}`,
          ]);
        }
        const out: string[] = [];
        for (const q of ['part1', 'part2', 'part3']) {
          out.push(await scalar<string>(c, `SELECT coalesce(copy_role, 'NULL') AS r FROM londiste.get_table_list($1) WHERE table_name = 'public.t3'`, [q]));
        }
        return out.join(' ');
      };
      // nobody copied yet: the first queue leads, the others wait for it
      assert.equal(await roles('in-copy', 'in-copy', 'in-copy'), 'lead wait-copy wait-copy');
      // the lead dropped the structure: the others copy, then wait to replay
      assert.equal(await roles('!in-copy', 'in-copy', 'in-copy'), 'lead wait-replay wait-replay');
      // a part that dropped the structure leads, whatever its name
      assert.equal(await roles('in-copy', '!in-copy', 'in-copy'), 'wait-replay lead wait-replay');
      // the lead copied, one part still copying: the lead waits for it
      assert.equal(await roles('!catching-up', 'catching-up', 'in-copy'), 'wait-replay wait-replay wait-replay');
      // all copied: the lead puts the structure back, the others wait for that
      assert.equal(await roles('!catching-up', 'catching-up', 'catching-up'), 'NULL wait-replay wait-replay');
      // a late first part while the others copied with the structure in place: no lead at all
      assert.equal(await roles('in-copy', 'catching-up', 'catching-up'), 'wait-replay NULL NULL');
      // the structure is back: nothing to coordinate
      assert.equal(await roles('catching-up', 'catching-up', 'catching-up'), 'NULL NULL NULL');
      // a part in sync no longer takes part
      assert.equal(await roles('in-copy', 'ok', 'ok'), 'NULL NULL NULL');
    } finally {
      await c.end();
    }
  });

  it('puts back the dropped structure when a table in copy is removed', async () => {
    const { client: c } = await freshDatabase(cluster, 'mergerm', ['pgq', 'pgq_node', 'londiste']);
    try {
      await c.query('CREATE TABLE ddlrestore (id int4, data1 text, data2 text)');
      await mergeNode(c, 1);
      await c.query(`INSERT INTO londiste.table_info (queue_name, table_name, local, merge_state, dropped_ddl)
        VALUES ('part1', 'public.ddlrestore', true, 'in-copy',
                'ALTER TABLE ddlrestore ADD CONSTRAINT r_pkey PRIMARY KEY (id); CREATE INDEX r_data1 ON ddlrestore (data1); CREATE INDEX r_data2 ON ddlrestore (data2);')`);
      assert.equal(await scalar<number>(c, `SELECT count(*)::int AS n FROM pg_indexes WHERE tablename = 'ddlrestore'`), 0);
      assert.equal(await ret(c, `SELECT * FROM londiste.local_remove_table('part1', 'public.ddlrestore')`), '200 Table removed: public.ddlrestore');
      assert.equal(await scalar<number>(c, `SELECT count(*)::int AS n FROM pg_indexes WHERE tablename = 'ddlrestore'`), 3);
    } finally {
      await c.end();
    }
  });
});
