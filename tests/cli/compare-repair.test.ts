// compare and repair across major versions (root on the oldest tested version, leaf on the newest):
// differences injected on the leaf (deleted, changed and extra rows, with NULLs, CJK text, bytea,
// json, arrays, text and composite keys, a renamed and filtered table) are named by compare, listed
// exactly by repair while the root keeps writing, and fixed by the SQL repair prints (run as a
// script) and by repair --apply; compare then says equal and both sides' checksums agree. repair of
// a table larger than the heap it is given shows that memory does not grow with the table.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { PgCluster } from '@skytools/harness';
import { tableDigest, waitFor } from '../replication/replication-env.js';
import { RootLeaf } from '../replication/root-leaf.js';
import { londisteBin, ok, refused, runLondiste, type RunResult } from './run-londiste.js';

const { root: rootMajor, leaf: leafMajor } = RootLeaf.versions;
const QUEUE = 'rq';

/** The fixing statements of a repair output, as `KIND key` strings (key: the first key literal). */
function fixes(sql: string, table: string): string[] {
  const out: string[] = [];
  for (const line of sql.split('\n')) {
    if (!line.includes(`${table} `)) continue;
    const ins = /^INSERT INTO \S+ \([^)]*\) VALUES \(E?'((?:[^']|'')*)'/.exec(line);
    const key = /^(?:UPDATE|DELETE FROM) .* WHERE \S+ = E?'((?:[^']|'')*)'/.exec(line);
    if (ins !== null) out.push(`INSERT ${ins[1] ?? ''}`);
    else if (key !== null) out.push(`${line.startsWith('UPDATE') ? 'UPDATE' : 'DELETE'} ${key[1] ?? ''}`);
  }
  return out.sort();
}

describe(`compare and repair, root on PostgreSQL ${rootMajor}, leaf on ${leafMajor}`, () => {
  let rl: RootLeaf;
  let root: PgCluster;
  let leaf: PgCluster;
  const tmp = mkdtempSync(join(tmpdir(), 'skytools-repair-'));
  let rootJob = '';
  let leafJob = '';

  const onLeaf = async (sql: string): Promise<void> => {
    await leaf.withClient('r_leaf', async (c) => {
      await c.query('SET session_replication_role = replica');
      await c.query(sql);
    });
  };
  const inSync = (t: string): Promise<void> => rl.inSync(t);
  const sameData = (rootFrom: string, leafFrom: string): Promise<void> => rl.sameData(rootFrom, leafFrom);
  const paused = async (): Promise<boolean | undefined> =>
    (await leaf.query<{ p: boolean }>('r_leaf', 'SELECT worker_paused AS p FROM pgq_node.get_node_info($1)', [QUEUE]))[0]?.p;

  before(async () => {
    rl = await RootLeaf.start('r', QUEUE);
    ({ root, leaf, rootJob, leafJob } = rl);

    await root.query('r_root', `
      CREATE TABLE public.t_mix (id bigint PRIMARY KEY, name text NOT NULL, cjk text, data bytea, doc jsonb, n numeric, ts timestamptz, arr int[], note text);
      INSERT INTO public.t_mix SELECT g, 'name ' || g, CASE WHEN g % 7 = 0 THEN NULL ELSE '数据 ' || g || E' 行\\t' END,
             CASE WHEN g % 5 = 0 THEN NULL ELSE decode(md5(g::text), 'hex') END, jsonb_build_object('g', g, 's', 'x''y\\z'),
             g / 3.0, timestamptz '2024-01-01 00:00:00+00' + g * interval '1 minute', ARRAY[g, g + 1], CASE WHEN g % 3 = 0 THEN NULL ELSE 'note ' || g END
        FROM generate_series(1, 3000) g;
      CREATE TABLE public.t_txt (region text, code int, val text, PRIMARY KEY (region, code));
      INSERT INTO public.t_txt SELECT r, c, r || '/' || c FROM unnest(ARRAY['apple', 'Apple', 'Zürich', '北京', '東京', '😀', 'a b', 'a', 'ab', 'Ω', 'ｱ']) r, generate_series(1, 5) c;
      CREATE TABLE public.t_where (id int PRIMARY KEY, v text);
      INSERT INTO public.t_where SELECT g, 'w' || g FROM generate_series(1, 600) g;
      CREATE TABLE public.t_big (id int PRIMARY KEY, pad text);
      INSERT INTO public.t_big SELECT g, repeat(md5(g::text), 12) FROM generate_series(1, 200000) g;`);
    await leaf.query('r_leaf', 'CREATE TABLE public.t_where_local (id int PRIMARY KEY, v text)');
    ok(await runLondiste([rootJob, 'add-table', 't_mix', 't_txt', 't_where', 't_big']), 'root add-table');
    ok(await runLondiste([leafJob, 'add-table', 't_mix', 't_txt', 't_big', '--create']), 'leaf add-table');
    ok(await runLondiste([leafJob, 'add-table', 't_where', '--dest-table=public.t_where_local', '--where=id % 3 <> 0']), 'leaf add-table t_where');
    for (const t of ['public.t_mix', 'public.t_txt', 'public.t_where', 'public.t_big']) await inSync(t);
  });
  after(async () => {
    await rl.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('equal tables: compare exits 0, repair finds nothing, --count-only counts', async () => {
    const c = ok(await runLondiste([leafJob, 'compare', 't_mix', 't_txt', 't_where']), 'compare');
    assert.match(c.stdout, /^public\.t_mix: root 3000 rows, checksum (-?\d+); r_leaf 3000 rows, checksum \1: equal$/m, c.stdout);
    assert.match(c.stdout, /^public\.t_where_local: root 400 rows, checksum (-?\d+); r_leaf 400 rows, checksum \1: equal$/m, c.stdout);
    const n = ok(await runLondiste([leafJob, 'compare', 't_txt', '--count-only']), 'compare --count-only');
    assert.match(n.stdout, /^public\.t_txt: root 55 rows; r_leaf 55 rows: equal$/m, n.stdout);
    const r = ok(await runLondiste([leafJob, 'repair', 't_mix', 't_txt', 't_where']), 'repair');
    assert.deepEqual(fixes(r.stdout, 'public.t_mix'), []);
    assert.doesNotMatch(r.stdout, /^(INSERT|UPDATE|DELETE|BEGIN)/m, r.stdout);
    assert.match(r.stdout, /^-- public\.t_mix: 3000 rows on the root at tick \d+, 3000 here; 0 missing here, 0 different, 0 not on the root$/m);
  });

  it('injected differences: compare names the tables, repair lists exactly those rows while the root writes, its SQL and --apply fix them', async () => {
    await onLeaf(`
      DELETE FROM public.t_mix WHERE id IN (5, 777);
      UPDATE public.t_mix SET note = NULL WHERE id = 10;
      UPDATE public.t_mix SET cjk = '改变了的值' WHERE id = 11;
      UPDATE public.t_mix SET data = '\\xdeadbeef' WHERE id = 12;
      UPDATE public.t_mix SET doc = '{"changed": true}' WHERE id = 13;
      UPDATE public.t_mix SET ts = ts + interval '1 second', arr = NULL WHERE id = 14;
      INSERT INTO public.t_mix (id, name) VALUES (100001, 'extra 1'), (100002, E'extra\\ttwo');
      DELETE FROM public.t_txt WHERE region = '北京' AND code = 1;
      UPDATE public.t_txt SET val = 'changed' WHERE region = '😀' AND code = 2;
      UPDATE public.t_txt SET val = NULL WHERE region = 'Apple' AND code = 5;
      INSERT INTO public.t_txt VALUES ('zzz ' || chr(12354), 9, 'extra');
      DELETE FROM public.t_where_local WHERE id = 1;
      UPDATE public.t_where_local SET v = 'changed' WHERE id = 2;
      INSERT INTO public.t_where_local VALUES (3, 'filtered out on the root');`);
    const c = await runLondiste([leafJob, 'compare']);
    refused(c, 'compare after damage', /compare: 3 of 4 tables differ from the root: public\.t_mix, public\.t_txt, public\.t_where_local; see the differing rows with: repair/);
    assert.match(c.stdout, /^public\.t_big: root 200000 rows.*: equal$/m);
    assert.equal(await paused(), false, 'compare resumed the worker');

    // the root keeps writing other rows while repair reads
    let writing = true;
    const writer = (async () => {
      for (let i = 0; writing; i++) {
        await root.query('r_root', 'UPDATE public.t_mix SET n = n + 1 WHERE id = $1', [2001 + (i % 1000)]);
        await root.query('r_root', 'UPDATE public.t_where SET v = v || $2 WHERE id = $1', [100 + (i % 500), '.']);
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    let listed: RunResult;
    try {
      const before = await tableDigest(leaf, 'r_leaf', 'SELECT * FROM public.t_mix WHERE id < 2000 OR id > 3000');
      listed = ok(await runLondiste([leafJob, 'repair']), 'repair');
      assert.deepEqual(await tableDigest(leaf, 'r_leaf', 'SELECT * FROM public.t_mix WHERE id < 2000 OR id > 3000'), before, 'repair without --apply changes nothing');
    } finally {
      writing = false;
      await writer;
    }
    assert.deepEqual(fixes(listed.stdout, 'public.t_mix'), ['DELETE 100001', 'DELETE 100002', 'INSERT 5', 'INSERT 777', 'UPDATE 10', 'UPDATE 11', 'UPDATE 12', 'UPDATE 13', 'UPDATE 14']);
    assert.deepEqual(fixes(listed.stdout, 'public.t_txt'), ['DELETE zzz あ', 'INSERT 北京', 'UPDATE Apple', 'UPDATE 😀']);
    assert.deepEqual(fixes(listed.stdout, 'public.t_where_local'), ['DELETE 3', 'INSERT 1', 'UPDATE 2']);
    assert.match(listed.stdout, /^-- public\.t_big: 200000 rows on the root at tick \d+, 200000 here; 0 missing here, 0 different, 0 not on the root$/m);
    assert.match(listed.stdout, /^-- public\.t_mix: 3000 rows on the root at tick \d+, 3000 here; 2 missing here, 5 different, 2 not on the root$/m);
    assert.equal(await paused(), false, 'repair resumed the worker');

    // the printed SQL, run as a script, fixes t_mix (its other blocks fix the rest)
    const block = /BEGIN;\nSET LOCAL session_replication_role = 'replica';\nSET LOCAL TimeZone[^\n]*\n(?:(?:INSERT INTO|UPDATE|DELETE FROM) public\.t_mix [^\n]*\n)+COMMIT;/.exec(listed.stdout);
    assert.ok(block !== null, `a transaction fixing t_mix:\n${listed.stdout}`);
    // a row the root changes again after the listing: its listed UPDATE must not undo the newer change
    await root.query('r_root', `UPDATE public.t_mix SET note = 'newer than the listing' WHERE id = 10`);
    await sameData('SELECT note FROM public.t_mix WHERE id = 10', 'SELECT note FROM public.t_mix WHERE id = 10');
    await leaf.withClient('r_leaf', (cl) => cl.query(block[0]));
    assert.equal((await leaf.query<{ note: string }>('r_leaf', 'SELECT note FROM public.t_mix WHERE id = 10'))[0]?.note, 'newer than the listing', 'the guarded UPDATE left the newer row alone');
    ok(await runLondiste([leafJob, 'compare', 't_mix']), 'compare t_mix after its SQL ran');
    await sameData('SELECT * FROM public.t_mix', 'SELECT * FROM public.t_mix');

    const file = join(tmp, 'fix.sql');
    const applied = ok(await runLondiste([leafJob, 'repair', '--apply', `--output=${file}`]), 'repair --apply');
    assert.match(applied.stdout, /^public\.t_txt: fixed 1 missing, 2 different and 1 extra rows; now equal to the root$/m, applied.stdout);
    assert.match(applied.stdout, /^public\.t_where_local: fixed 1 missing, 1 different and 1 extra rows; now equal to the root$/m);
    assert.match(applied.stdout, /^public\.t_mix: equal to the root, nothing to fix$/m);
    assert.deepEqual(fixes(readFileSync(file, 'utf8'), 'public.t_txt'), ['DELETE zzz あ', 'INSERT 北京', 'UPDATE Apple', 'UPDATE 😀'], 'the file records what was applied');
    ok(await runLondiste([leafJob, 'compare']), 'compare after repair --apply');
    await sameData('SELECT * FROM public.t_txt', 'SELECT * FROM public.t_txt');
    await sameData('SELECT * FROM public.t_where WHERE id % 3 <> 0', 'SELECT * FROM public.t_where_local');
  });

  it('repair of a table larger than its heap: memory stays flat, the fix is exact', async () => {
    await onLeaf(`DELETE FROM public.t_big WHERE id % 20000 = 7; UPDATE public.t_big SET pad = 'x' WHERE id % 20000 = 11; INSERT INTO public.t_big VALUES (300000, 'extra')`);
    // about 80 MB of rows on each side through a process whose heap may not exceed 64 MB
    const r = ok(await runLondiste([leafJob, 'repair', 't_big', '--apply'], { NODE_OPTIONS: '--max-old-space-size=64' }), 'repair --apply t_big');
    assert.match(r.stdout, /^public\.t_big: fixed 10 missing, 10 different and 1 extra rows; now equal to the root$/m, r.stdout);
    await sameData('SELECT * FROM public.t_big', 'SELECT * FROM public.t_big');
  });

  it('a repair killed while it reads leaves the worker running: nothing changed, replication goes on', async () => {
    const child = spawn(process.execPath, [londisteBin(), leafJob, 'repair', 't_big'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise((r) => child.on('exit', r));
    // the freeze lock (class 0x4c46) held by the repair's session: it is reading both sides
    await waitFor('repair holding the freeze lock', 60_000, async () => {
      const r = await leaf.query<{ n: number }>('r_leaf', `SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = 19526 AND mode = 'ExclusiveLock'`);
      return (r[0]?.n ?? 0) > 0 ? true : undefined;
    }, () => `${err}\n${rl.diag()}`);
    child.kill('SIGKILL');
    await exited;
    await root.query('r_root', `UPDATE public.t_big SET pad = 'after the kill' WHERE id <= 50`);
    await sameData('SELECT * FROM public.t_big', 'SELECT * FROM public.t_big');
    assert.equal(await paused(), false);
  });

  it('refusals: one ERROR line, nothing changed, the worker keeps running', async () => {
    refused(await runLondiste([rootJob, 'repair']), 'repair on the root', /repair runs on a subscriber/);
    refused(await runLondiste([leafJob, 'repair', 't_mix', '--output=/nonexistent/dir/fix.sql']), 'repair to a missing directory', /repair --output \/nonexistent\/dir\/fix\.sql: .*ENOENT/);
    refused(await runLondiste([leafJob, 'repair', 'no_such_table']), 'repair of an unknown table', /no_such_table/);
    assert.equal(await paused(), false);
    await sameData('SELECT * FROM public.t_mix', 'SELECT * FROM public.t_mix');
  });
});
