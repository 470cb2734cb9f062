// A subscriber's table must hold what its provider sends (root on the oldest tested version, leaf on
// the newest): a table missing a column is refused at add-table with the difference named, and a
// copy into a table that lost a column after add-table fails, is retried with back-off, and succeeds
// once the column is back, with every row's value (never NULLs left behind). Generated columns on the
// target are computed there (copy and apply leave them out), and GENERATED ALWAYS identity keys take
// the provider's values.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { PgCluster } from '@skytools/harness';
import { ok, runLondiste } from '../cli/run-londiste.js';
import { waitFor } from './replication-env.js';
import { RootLeaf } from './root-leaf.js';

const { root: rootMajor, leaf: leafMajor } = RootLeaf.versions;
const QUEUE = 'fq';

describe(`schema fit between provider and subscriber, ${rootMajor} -> ${leafMajor}`, () => {
  let rl: RootLeaf;
  let root: PgCluster;
  let leaf: PgCluster;
  let rootJob = '';
  let leafJob = '';
  const state = (t: string): Promise<string | null | undefined> => rl.state(t);
  const inSync = (t: string): Promise<void> => rl.inSync(t);
  const same = (rootSql: string, leafSql: string): Promise<void> => rl.sameData(rootSql, leafSql);

  before(async () => {
    rl = await RootLeaf.start('f', QUEUE);
    ({ root, leaf, rootJob, leafJob } = rl);
  });
  after(async () => {
    await rl.stop();
  });

  it('add-table refuses a table missing a column or with a type that cannot hold it, naming each; nothing is added', async () => {
    await root.query('f_root', `CREATE TABLE public.mism (id int PRIMARY KEY, a int, b text, ts timestamptz);
      INSERT INTO public.mism SELECT g, g, 'b' || g, now() FROM generate_series(1, 200) g;
      CREATE TABLE public.fits (id int PRIMARY KEY, v varchar(20));
      INSERT INTO public.fits SELECT g, 'v' || g FROM generate_series(1, 20) g`);
    await leaf.query('f_leaf', `CREATE TABLE public.mism (id bigint PRIMARY KEY, a int, ts int, must int NOT NULL);
      CREATE TABLE public.fits (id bigint PRIMARY KEY, v text, extra text, d int NOT NULL DEFAULT 0)`);
    ok(await runLondiste([rootJob, 'add-table', 'mism', 'fits']), 'root add-table');
    const r = await runLondiste([leafJob, 'add-table', 'mism', 'fits']);
    assert.equal(r.code, 1, r.stderr);
    const errors = r.stderr.split('\n').filter((l) => /ERROR/.test(l));
    assert.equal(errors.length, 1, r.stderr);
    assert.match(
      errors[0] ?? '',
      /the provider's columns do not fit here: public\.mism: column b \(text\) is missing here, column ts is timestamp with time zone on the provider but integer here, column must here is NOT NULL without a default and not on the provider; nothing was changed/,
    );
    assert.equal(await state('public.mism'), undefined, 'mism not added');
    assert.equal(await state('public.fits'), undefined, 'fits not added either: nothing was changed');
    await leaf.query('f_leaf', 'ALTER TABLE public.mism ADD COLUMN b text, DROP COLUMN ts, ADD COLUMN ts timestamptz, DROP COLUMN must');
    ok(await runLondiste([leafJob, 'add-table', 'mism', 'fits']), 'leaf add-table once the columns fit');
    await inSync('public.mism');
    await inSync('public.fits');
    await same('SELECT id, a, b, ts FROM public.mism', 'SELECT id, a, b, ts FROM public.mism');
    await same('SELECT id, v FROM public.fits', 'SELECT id, v FROM public.fits');
  });

  it('a copy into a table that lost a column fails visibly, retries with back-off, and copies every value once the column is back', async () => {
    await root.query('f_root', `CREATE TABLE public.lost (id int PRIMARY KEY, a int, b text);
      INSERT INTO public.lost SELECT g, g, 'b' || g FROM generate_series(1, 300) g`);
    await leaf.query('f_leaf', 'CREATE TABLE public.lost (id int PRIMARY KEY, a int, b text)');
    ok(await runLondiste([rootJob, 'add-table', 'lost']), 'root add-table');
    await rl.stopLeafWorker();
    ok(await runLondiste([leafJob, 'add-table', 'lost']), 'leaf add-table (the columns fit now)');
    await leaf.query('f_leaf', 'ALTER TABLE public.lost DROP COLUMN b');
    const w = rl.startLeafWorker();
    await waitFor('two failed copies', 60_000, async () => ((w.output().match(/copy of public\.lost failed/g) ?? []).length >= 2 ? true : undefined), rl.diag);
    assert.match(w.output(), /copy of public\.lost failed \(1 in a row; next try in 2s\): public\.lost: cannot copy into public\.lost: column b \(text\) is missing here/);
    assert.match(w.output(), /copy of public\.lost failed \(2 in a row; next try in 4s\)/);
    assert.notEqual(await state('public.lost'), 'ok');
    assert.equal((await leaf.query<{ n: number }>('f_leaf', 'SELECT count(*)::int AS n FROM public.lost'))[0]?.n, 0, 'nothing copied');
    // the failure is visible where an operator looks: status and tables
    const status = ok(await runLondiste([leafJob, 'status']), 'status').stdout;
    assert.match(status, /ERR: public\.lost: copy failed [2-9] times since \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(last [^)]+\): public\.lost: cannot copy into public\.lost: column b \(text\) is missing here/, status);
    const tables = ok(await runLondiste([leafJob, 'tables']), 'tables').stdout;
    assert.match(tables, /table_name +merge_state +table_attrs +last_error/, tables);
    assert.match(tables, /public\.lost +\S+ +copy failed \d+ times? since/, tables);
    await leaf.query('f_leaf', 'ALTER TABLE public.lost ADD COLUMN b text');
    await inSync('public.lost');
    assert.doesNotMatch(ok(await runLondiste([leafJob, 'status']), 'status').stdout, /ERR:/, 'the error is gone once the copy succeeded');
    assert.doesNotMatch(ok(await runLondiste([leafJob, 'tables']), 'tables').stdout, /last_error/);
    await root.query('f_root', `UPDATE public.lost SET b = b || '!' WHERE id % 10 = 0`);
    await same('SELECT * FROM public.lost', 'SELECT * FROM public.lost');
    assert.equal((await leaf.query<{ n: number }>('f_leaf', 'SELECT count(*)::int AS n FROM public.lost WHERE b IS NULL'))[0]?.n, 0, 'no NULL left by the copy');
  });

  it('generated columns on the target are computed there; identity keys take the provider values', async () => {
    await root.query('f_root', `CREATE TABLE public.gen (id int PRIMARY KEY, a int, g int);
      INSERT INTO public.gen SELECT i, i, -1 FROM generate_series(1, 100) i;
      CREATE TABLE public.ident (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, v text);
      INSERT INTO public.ident (v) SELECT 'v' || i FROM generate_series(1, 100) i`);
    await leaf.query('f_leaf', `CREATE TABLE public.gen (id int PRIMARY KEY, a int, g int GENERATED ALWAYS AS (a * 2) STORED);
      CREATE TABLE public.ident (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, v text)`);
    ok(await runLondiste([rootJob, 'add-table', 'gen', 'ident']), 'root add-table');
    ok(await runLondiste([leafJob, 'add-table', 'gen', 'ident']), 'leaf add-table');
    await inSync('public.gen');
    await inSync('public.ident');
    // events: inserts, updates and deletes through the apply path
    await root.query('f_root', `INSERT INTO public.gen SELECT i, i, -1 FROM generate_series(101, 150) i;
      UPDATE public.gen SET a = a + 1000 WHERE id % 3 = 0; DELETE FROM public.gen WHERE id % 7 = 0;
      INSERT INTO public.ident (v) SELECT 'w' || i FROM generate_series(1, 50) i;
      UPDATE public.ident SET v = v || '!' WHERE id % 3 = 0; DELETE FROM public.ident WHERE id % 7 = 0`);
    await same('SELECT id, a, a * 2 AS g FROM public.gen', 'SELECT id, a, g FROM public.gen');
    await same('SELECT * FROM public.ident', 'SELECT * FROM public.ident');
  });

  it('--create-full makes a generated column of the provider a plain one here, filled by the copy and the events', async () => {
    await root.query('f_root', `CREATE TABLE public.gen_full (id int PRIMARY KEY, a int, g int GENERATED ALWAYS AS (a * 2) STORED, d text DEFAULT 'x');
      INSERT INTO public.gen_full (id, a) SELECT i, i FROM generate_series(1, 100) i`);
    ok(await runLondiste([rootJob, 'add-table', 'gen_full']), 'root add-table');
    // its expression as a DEFAULT was refused ("cannot use column reference in DEFAULT expression")
    ok(await runLondiste([leafJob, 'add-table', 'gen_full', '--create-full']), 'leaf add-table --create-full');
    const made = await leaf.query<{ name: string; generated: string; def: string | null }>('f_leaf', `SELECT attname AS name, attgenerated::text AS generated, pg_get_expr(d.adbin, d.adrelid) AS def
      FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
      WHERE a.attrelid = 'public.gen_full'::regclass AND a.attnum > 0 ORDER BY a.attnum`);
    assert.deepEqual(made.map((c) => [c.name, c.generated, c.def]), [['id', '', null], ['a', '', null], ['g', '', null], ['d', '', "'x'::text"]]);
    await inSync('public.gen_full');
    await root.query('f_root', `INSERT INTO public.gen_full (id, a) SELECT i, i FROM generate_series(101, 120) i;
      UPDATE public.gen_full SET a = a + 1000 WHERE id % 3 = 0; DELETE FROM public.gen_full WHERE id % 7 = 0`);
    await same('SELECT id, a, g, d FROM public.gen_full', 'SELECT id, a, g, d FROM public.gen_full');
  });

  it('a copy builds the keys it dropped for the load again as they were, and leaves those a foreign key or a view needs in place', async () => {
    await root.query('f_root', `CREATE TABLE public.keyed (id int PRIMARY KEY, code text, span int4range, n int);
      INSERT INTO public.keyed SELECT g, 'c' || g, int4range(g * 10, g * 10 + 5), g FROM generate_series(1, 3000) g;
      CREATE TABLE public.viewed (id int PRIMARY KEY, v text);
      INSERT INTO public.viewed SELECT g, 'v' || g FROM generate_series(1, 300) g`);
    await leaf.query('f_leaf', `CREATE TABLE public.keyed (id int, code text, span int4range, n int,
        CONSTRAINT keyed_pk PRIMARY KEY (id) DEFERRABLE INITIALLY DEFERRED,
        CONSTRAINT keyed_code UNIQUE (code),
        CONSTRAINT keyed_span EXCLUDE USING gist (span WITH &&),
        CONSTRAINT keyed_n CHECK (n > 0));
      CREATE INDEX keyed_n_idx ON public.keyed (n DESC);
      CREATE TABLE public.keyed_child (id int PRIMARY KEY, code text REFERENCES public.keyed (code));
      CREATE TABLE public.viewed (id int PRIMARY KEY, v text);
      -- v is grouped through the key: the view depends on the constraint
      CREATE VIEW public.viewed_by_id AS SELECT id, v FROM public.viewed GROUP BY id`);
    const structure = `SELECT c.relname || ' ' || k.conname AS name, k.oid::int8::text AS oid, pg_get_constraintdef(k.oid) AS def
        FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid WHERE c.relname IN ('keyed', 'viewed')
      UNION ALL SELECT tablename || ' ' || indexname, '', indexdef FROM pg_indexes WHERE tablename IN ('keyed', 'viewed') ORDER BY 1, 3`;
    type Row = { name: string; oid: string; def: string };
    const before = await leaf.query<Row>('f_leaf', structure);
    ok(await runLondiste([rootJob, 'add-table', 'keyed', 'viewed']), 'root add-table');
    ok(await runLondiste([leafJob, 'add-table', 'keyed', 'viewed']), 'leaf add-table');
    await inSync('public.keyed');
    await inSync('public.viewed');
    await same('SELECT * FROM public.keyed', 'SELECT * FROM public.keyed');
    await same('SELECT * FROM public.viewed', 'SELECT * FROM public.viewed');
    const after = await leaf.query<Row>('f_leaf', structure);
    assert.deepEqual(after.map((r) => [r.name, r.def]), before.map((r) => [r.name, r.def]), 'the same keys and indexes, defined the same way');
    const oid = (rows: Row[], name: string): string | undefined => rows.find((r) => r.name === name && r.oid !== '')?.oid;
    // a key built again is a new constraint; one left in place keeps its identity
    assert.notEqual(oid(after, 'keyed keyed_pk'), oid(before, 'keyed keyed_pk'), 'the primary key was dropped for the load');
    assert.notEqual(oid(after, 'keyed keyed_span'), oid(before, 'keyed keyed_span'), 'the exclusion constraint was dropped for the load');
    assert.equal(oid(after, 'keyed keyed_code'), oid(before, 'keyed keyed_code'), 'the unique key a foreign key points at stayed');
    assert.equal(oid(after, 'keyed keyed_n'), oid(before, 'keyed keyed_n'), 'the check constraint stayed');
    assert.equal(oid(after, 'viewed viewed_pkey'), oid(before, 'viewed viewed_pkey'), 'the primary key a view depends on stayed');
  });

  it('a copy whose rows break a key of the target names the key and the rows, and succeeds once the key is gone', async () => {
    await root.query('f_root', `CREATE TABLE public.dupes (id int PRIMARY KEY, code text);
      INSERT INTO public.dupes SELECT g, 'c' || (g % 50) FROM generate_series(1, 500) g`);
    await leaf.query('f_leaf', 'CREATE TABLE public.dupes (id int PRIMARY KEY, code text CONSTRAINT dupes_code UNIQUE)');
    ok(await runLondiste([rootJob, 'add-table', 'dupes']), 'root add-table');
    ok(await runLondiste([leafJob, 'add-table', 'dupes']), 'leaf add-table');
    const w = rl.leafWorker;
    await waitFor('a failed copy', 60_000, async () => (/copy of public\.dupes failed/.test(w?.output() ?? '') ? true : undefined), rl.diag);
    assert.match(
      w?.output() ?? '',
      /copy of public\.dupes failed \(1 in a row; next try in 2s\): public\.dupes: the copied rows break a key of public\.dupes here \(could not create unique index "dupes_code": Key \(code\)=\(c\d+\) is duplicated\.\); the provider's rows do not satisfy it: drop or change that key here, or clean the provider's rows \(the copy is retried\)/,
    );
    assert.equal((await leaf.query<{ n: number }>('f_leaf', 'SELECT count(*)::int AS n FROM public.dupes'))[0]?.n, 0, 'nothing copied');
    await leaf.query('f_leaf', 'ALTER TABLE public.dupes DROP CONSTRAINT dupes_code');
    await inSync('public.dupes');
    await same('SELECT * FROM public.dupes', 'SELECT * FROM public.dupes');
  });
});
