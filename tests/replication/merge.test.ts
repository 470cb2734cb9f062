// Two root queues (part1, part2) on their own databases and servers merged into one table
// through merge leaves of a combined root, as upstream's "merge" setup does: create-leaf
// --merge=combined, add-table --merge-all. Both parts copy while their roots take writes; the
// lead part drops the table's structure, the other copies after it, the structure comes back
// once both copied, and only then do the parts replay. The combined queue passes the parts'
// events on to a leaf of its own. At the end the merged table is the union of the parts, the
// combined leaf equals it, and the table has its key and index again.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startCluster, testVersions, type PgCluster } from '@skytools/harness';
import { jobDir, ok, refused, runLondiste } from '../cli/run-londiste.js';
import { startTicker, startWorker, tableDigest, waitCaughtUp, waitFor, type RunningWorker } from './replication-env.js';

const versions = testVersions();
const p1Major = versions[0] ?? 15;
const p2Major = versions[1] ?? p1Major;
const fullMajor = versions[versions.length - 1] ?? 15;

const TABLE = `CREATE TABLE public.acct (id int4 PRIMARY KEY, part int4 NOT NULL, val text, n int4 NOT NULL DEFAULT 0)`;

describe(`merge of two queues into one table, parts on PostgreSQL ${p1Major} and ${p2Major}, combined on ${fullMajor}`, () => {
  let p1: PgCluster;
  let p2: PgCluster;
  let full: PgCluster;
  const jobs = jobDir();
  const files: Record<string, string> = {};
  const workers = new Map<string, RunningWorker>();
  const tickers: { stop: () => Promise<void> }[] = [];
  const diag = (): string => [...workers].map(([n, w]) => `[${n}]\n${w.output().split('\n').slice(-15).join('\n')}`).join('\n----\n');

  before(async () => {
    [p1, p2, full] = await Promise.all([startCluster(p1Major), startCluster(p2Major), startCluster(fullMajor)]);
    await p1.createDatabase('p1');
    await p2.createDatabase('p2');
    await full.createDatabase('full');
    await full.createDatabase('sub');
    // disjoint keys: odd ids in part 1, even ids in part 2
    await p1.query('p1', TABLE);
    await p1.query('p1', `INSERT INTO acct SELECT 2 * g - 1, 1, 'p1-' || g, 0 FROM generate_series(1, 20000) g`);
    await p2.query('p2', TABLE);
    await p2.query('p2', `INSERT INTO acct SELECT 2 * g, 2, 'p2-' || g, 0 FROM generate_series(1, 20000) g`);
    for (const db of ['full', 'sub']) {
      await full.query(db, TABLE);
      await full.query(db, 'CREATE INDEX acct_val ON acct (val)');
    }
    files['p1'] = jobs.write('p1root', { db: p1.connectionString('p1'), queue_name: 'part1', loop_delay: '200ms' });
    files['p2'] = jobs.write('p2root', { db: p2.connectionString('p2'), queue_name: 'part2', loop_delay: '200ms' });
    files['croot'] = jobs.write('croot', { db: full.connectionString('full'), queue_name: 'combined', loop_delay: '200ms' });
    files['m1'] = jobs.write('m1', { db: full.connectionString('full'), queue_name: 'part1', loop_delay: '200ms' });
    files['m2'] = jobs.write('m2', { db: full.connectionString('full'), queue_name: 'part2', loop_delay: '200ms' });
    files['sub'] = jobs.write('sub', { db: full.connectionString('sub'), queue_name: 'combined', loop_delay: '200ms' });
    ok(await runLondiste([files['p1'], 'create-root', 'p1root', p1.connectionString('p1')]), 'create-root p1');
    ok(await runLondiste([files['p2'], 'create-root', 'p2root', p2.connectionString('p2')]), 'create-root p2');
    ok(await runLondiste([files['p1'], 'add-table', 'acct']), 'add-table p1');
    ok(await runLondiste([files['p2'], 'add-table', 'acct']), 'add-table p2');
    ok(await runLondiste([files['croot'], 'create-root', 'croot', full.connectionString('full')]), 'create-root combined');
  });
  after(async () => {
    for (const w of workers.values()) await w.stop();
    for (const t of tickers) await t.stop();
    jobs.remove();
    await Promise.all([p1.stop(), p2.stop(), full.stop()]);
  });

  it('refuses --merge where it cannot work, with nothing changed', async () => {
    refused(await runLondiste([files['m1'] ?? '', 'create-leaf', 'm1', full.connectionString('full'), `--provider=${p1.connectionString('p1')}`, '--merge=nosuch']), 'merge into a missing queue', /no node for queue "nosuch" on this database/);
    refused(await runLondiste([files['m1'] ?? '', 'create-branch', 'm1', full.connectionString('full'), `--provider=${p1.connectionString('p1')}`, '--merge=combined']), 'merge on a branch', /--merge=QUEUE is for create-leaf only/);
    refused(await runLondiste([files['p1'] ?? '', 'add-table', 'acct', '--merge=combined']), 'add-table --merge=QUEUE', /--merge=QUEUE is for create-leaf .*add-table takes --merge-all or --no-merge/);
    const members = await p1.query<{ n: string }>('p1', `SELECT node_name AS n FROM pgq_node.node_location WHERE queue_name = 'part1'`);
    assert.deepEqual(members.map((m) => m.n), ['p1root'], 'the root did not learn of a node');
  });

  it('copies both parts into one table under writes, restores its structure, and passes the events on', async () => {
    ok(await runLondiste([files['m1'] ?? '', 'create-leaf', 'm1', full.connectionString('full'), `--provider=${p1.connectionString('p1')}`, '--merge=combined']), 'create-leaf m1');
    ok(await runLondiste([files['m2'] ?? '', 'create-leaf', 'm2', full.connectionString('full'), `--provider=${p2.connectionString('p2')}`, '--merge=combined']), 'create-leaf m2');
    // the other part's queue has the table too: one of the two switches is needed
    refused(await runLondiste([files['m1'] ?? '', 'add-table', 'acct']), 'add-table without --merge-all', /multiple sources for table public\.acct, use merge-all or no-merge/);
    ok(await runLondiste([files['m1'] ?? '', 'add-table', 'acct', '--merge-all']), 'add-table --merge-all');
    const states = await full.query<{ q: string; local: boolean }>('full', `SELECT queue_name AS q, local FROM londiste.table_info WHERE table_name = 'public.acct' ORDER BY 1`);
    assert.deepEqual(states, [{ q: 'combined', local: true }, { q: 'part1', local: true }, { q: 'part2', local: true }]);
    ok(await runLondiste([files['sub'] ?? '', 'create-leaf', 'sub', full.connectionString('sub'), `--provider=${full.connectionString('full')}`]), 'create-leaf sub');
    ok(await runLondiste([files['sub'] ?? '', 'add-table', 'acct']), 'add-table sub');

    tickers.push(startTicker(p1, 'p1', 100), startTicker(p2, 'p2', 100), startTicker(full, 'full', 100));
    let writing = true;
    const writer = async (c: PgCluster, db: string, part: number): Promise<void> => {
      let i = 0;
      while (writing) {
        i += 1;
        const base = 2 * (20000 + i * 10) - (part === 1 ? 1 : 0);
        await c.query(db, `INSERT INTO acct SELECT $1::int + 2 * g, $2, 'new', 0 FROM generate_series(0, 9) g`, [base, part]);
        await c.query(db, `UPDATE acct SET n = n + 1, val = val || '.' WHERE id % 97 = $1`, [i % 97]);
        await c.query(db, `DELETE FROM acct WHERE id % 211 = $1`, [i % 211]);
      }
    };
    const writers = [writer(p1, 'p1', 1), writer(p2, 'p2', 2)];
    for (const n of ['m1', 'm2', 'croot', 'sub']) workers.set(n, startWorker(files[n] ?? ''));
    try {
      await waitFor('both parts and the combined leaf in sync', 120_000, async () => {
        const r = await full.query<{ n: number }>('full', `SELECT count(*)::int AS n FROM londiste.table_info WHERE table_name = 'public.acct' AND queue_name IN ('part1', 'part2') AND merge_state = 'ok'`);
        const s = await full.query<{ n: number }>('sub', `SELECT count(*)::int AS n FROM londiste.table_info WHERE table_name = 'public.acct' AND local AND merge_state = 'ok'`);
        return r[0]?.n === 2 && s[0]?.n === 1 ? true : undefined;
      }, diag);
      // let the load run on a little after the copies
      await new Promise((r) => setTimeout(r, 1000));
    } finally {
      writing = false;
      await Promise.all(writers);
    }
    await waitCaughtUp(p1, 'p1', full, 'full', 'part1', 'm1', 60_000, diag);
    await waitCaughtUp(p2, 'p2', full, 'full', 'part2', 'm2', 60_000, diag);
    await waitCaughtUp(full, 'full', full, 'sub', 'combined', 'sub', 60_000, diag);

    const parts = await Promise.all([tableDigest(p1, 'p1', 'SELECT * FROM acct'), tableDigest(p2, 'p2', 'SELECT * FROM acct')]);
    const merged = await tableDigest(full, 'full', 'SELECT * FROM acct');
    assert.equal(merged.rows, (parts[0]?.rows ?? 0) + (parts[1]?.rows ?? 0), 'every row of both parts, nothing else');
    assert.deepEqual(await tableDigest(full, 'full', 'SELECT * FROM acct WHERE part = 1'), parts[0], 'part 1 as on its root');
    assert.deepEqual(await tableDigest(full, 'full', 'SELECT * FROM acct WHERE part = 2'), parts[1], 'part 2 as on its root');
    assert.deepEqual(await tableDigest(full, 'sub', 'SELECT * FROM acct'), merged, 'the combined queue\'s leaf equals the merged table');

    // the lead dropped the key and the index for the copies; both are back
    const indexes = await full.query<{ i: string }>('full', `SELECT indexname AS i FROM pg_indexes WHERE tablename = 'acct' ORDER BY 1`);
    assert.deepEqual(indexes.map((x) => x.i), ['acct_pkey', 'acct_val']);
    const info = await full.query<{ d: string | null }>('full', `SELECT dropped_ddl AS d FROM londiste.table_info WHERE table_name = 'public.acct' AND dropped_ddl IS NOT NULL`);
    assert.equal(info.length, 0, 'no part keeps dropped structure');
    const log = diag();
    assert.match(log, /leads the copies of merged table public\.acct: 1 constraints and 1 indexes dropped/);
    assert.match(log, /every part of merged table public\.acct has copied: putting back/);
    // the combined queue got each part's progress as pgq.tick-id events
    const pfx = await full.query<{ t: string }>('full', `SELECT queue_data_pfx AS t FROM pgq.queue WHERE queue_name = 'combined'`);
    const tickIds = await full.query<{ q: string }>('full', `SELECT DISTINCT ev_extra1 AS q FROM ${pfx[0]?.t ?? 'missing'} WHERE ev_type = 'pgq.tick-id' ORDER BY 1`);
    assert.deepEqual(tickIds.map((x) => x.q), ['part1', 'part2']);
    // one part copied again by itself would empty the table of the other's rows: refused
    refused(await runLondiste([files['m2'] ?? '', 'resync', 'acct']), 'resync of one part', /resync: public\.acct is one part of a table other queues here also feed.*nothing was changed/);
    assert.deepEqual(await tableDigest(full, 'full', 'SELECT * FROM acct'), merged, 'nothing changed');
  });
});
