// The set-based apply end to end (root on the oldest tested version, leaf on the newest), with
// batches made to be hard: one transaction that inserts, updates and deletes the same keys many
// times across two tables with a foreign key between them; a composite text key with spaces;
// values with NULLs, CJK, backslashes, tabs, newlines, bytea, jsonb, arrays and timestamps; a
// --where condition crossed both ways; sqltriga and jsontriga events (written with
// pgq.insert_event, as those triggers write them) among urlencoded ones; a TRUNCATE between
// writes in one transaction. Each table is compared on both sides by count and checksum. Initial copies
// of every built-in type in binary COPY, and in text where a type differs or is a user's.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ok, runLondiste } from '../cli/run-londiste.js';
import { tableDigest } from './replication-env.js';
import { RootLeaf } from './root-leaf.js';

const QUEUE = 'mq';
const DDL = `
  CREATE TABLE public.parent (id int PRIMARY KEY, name text NOT NULL);
  CREATE TABLE public.child (id int PRIMARY KEY, parent_id int NOT NULL REFERENCES public.parent, v text);
  CREATE TABLE public.ck (a text, b text, v text, PRIMARY KEY (a, b));
  CREATE TABLE public.awk (id int PRIMARY KEY, t text, bin bytea, doc jsonb, arr int[], ts timestamptz);
  CREATE TABLE public.wh (id int PRIMARY KEY, k int NOT NULL, v text);
  CREATE TABLE public.sq (id int PRIMARY KEY, v text, n int);`;

describe(`set-based apply of hard batches, ${String(RootLeaf.versions.root)} -> ${String(RootLeaf.versions.leaf)}`, () => {
  let rl: RootLeaf;
  before(async () => {
    rl = await RootLeaf.start('mx', QUEUE);
    await rl.root.query(rl.rootDb, DDL);
    await rl.leaf.query(rl.leafDb, DDL);
    ok(await runLondiste([rl.rootJob, 'add-table', 'parent', 'child', 'ck', 'awk', 'wh', 'sq']), 'root add-table');
    ok(await runLondiste([rl.leafJob, 'add-table', 'parent', 'child', 'ck', 'awk', 'sq']), 'leaf add-table');
    ok(await runLondiste([rl.leafJob, 'add-table', 'wh', '--where=k < 10']), 'leaf add-table --where');
    for (const t of ['parent', 'child', 'ck', 'awk', 'wh', 'sq']) await rl.inSync(`public.${t}`);
  });
  after(async () => {
    await rl.stop();
  });

  const same = async (table: string, where = ''): Promise<void> => {
    const a = await tableDigest(rl.root, rl.rootDb, `SELECT * FROM public.${table} ${where}`);
    assert.deepEqual(await tableDigest(rl.leaf, rl.leafDb, `SELECT * FROM public.${table}`), a, `${table} on the leaf`);
  };

  it('applies one transaction that changes the same keys many times across a foreign key', async () => {
    await rl.root.withClient(rl.rootDb, async (c) => {
      await c.query('BEGIN');
      for (let round = 1; round <= 5; round++) {
        await c.query(`INSERT INTO parent SELECT g, 'p' || g || ' r' || $1 FROM generate_series(1, 200) g ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name`, [round]);
        await c.query(`INSERT INTO child SELECT g, 1 + g % 200, 'c' || g FROM generate_series(1, 1000) g
          ON CONFLICT (id) DO UPDATE SET parent_id = EXCLUDED.parent_id, v = EXCLUDED.v`);
        await c.query(`UPDATE child SET v = v || ' u' || $1, parent_id = 1 + (parent_id + $1::int) % 200 WHERE id % 3 = 0`, [round]);
        await c.query('DELETE FROM child WHERE id % 2 = $1', [round % 2]);
        await c.query('DELETE FROM child');
        await c.query('DELETE FROM parent WHERE id % 5 = $1', [round % 5]);
        await c.query(`INSERT INTO child SELECT g, p.id, 'kept ' || g FROM generate_series(1, 300) g JOIN parent p ON p.id = 1 + g % 200`);
        if (round < 5) await c.query('DELETE FROM child WHERE id > 100');
      }
      // a composite text key with spaces, inserted, updated, deleted and back
      await c.query(`INSERT INTO ck VALUES ('a b', 'x y', 'one'), ('a', 'b x y', 'two'), ('a b x', 'y', 'three'), (' ', '', 'blank')`);
      await c.query(`UPDATE ck SET v = v || '!' WHERE a LIKE 'a%'`);
      await c.query(`DELETE FROM ck WHERE b = 'x y'`);
      await c.query(`INSERT INTO ck VALUES ('a b', 'x y', 'back')`);
      await c.query('COMMIT');
    });
    await rl.sameData('SELECT * FROM public.child', 'SELECT * FROM public.child');
    for (const t of ['parent', 'child', 'ck']) await same(t);
    const n = await rl.leaf.query<{ n: number; joined: number }>(rl.leafDb, 'SELECT (SELECT count(*)::int FROM child) AS n, (SELECT count(*)::int FROM child c JOIN parent p ON p.id = c.parent_id) AS joined');
    assert.ok((n[0]?.n ?? 0) > 0, 'children on the leaf');
    assert.equal(n[0]?.joined, n[0]?.n, 'every child has its parent on the leaf');
  });

  it('carries awkward values, --where crossings both ways, and a TRUNCATE between writes', async () => {
    await rl.root.withClient(rl.rootDb, async (c) => {
      await c.query('BEGIN');
      await c.query(`INSERT INTO awk VALUES
        (1, E'德哥 \\\\ back\\tslash\\nnew line ''q'' "dq" %41 +', '\\x00ff5c0a'::bytea, '{"k": [1, "二", null, {"x": "\\\\"}]}', '{1,NULL,3}', '2026-12-02 10:00:00.123456+09'),
        (2, NULL, NULL, NULL, NULL, NULL),
        (3, '', ''::bytea, '"str"', '{}', 'infinity'),
        (4, repeat('長', 3000), decode(repeat('ab', 5000), 'hex'), '[]', '{-1}', '1999-01-01 00:00:00+00')`);
      await c.query(`UPDATE awk SET t = t || E'\\r\\n' WHERE id = 1`);
      await c.query(`INSERT INTO wh SELECT g, g % 20, 'w' || g FROM generate_series(1, 100) g`);
      await c.query('UPDATE wh SET k = k + 10 WHERE id % 4 = 0');
      await c.query('UPDATE wh SET k = k - 10 WHERE id % 8 = 0 AND k >= 10');
      await c.query('DELETE FROM wh WHERE id % 7 = 0');
      await c.query('COMMIT');
    });
    await rl.root.withClient(rl.rootDb, async (c) => {
      await c.query('BEGIN');
      await c.query(`INSERT INTO awk VALUES (5, 'before truncate', NULL, NULL, NULL, NULL)`);
      await c.query('TRUNCATE awk');
      await c.query(`INSERT INTO awk VALUES (6, E'after\\ttruncate', '\\x01', '{"a": 1}', '{6}', now())`);
      await c.query(`UPDATE wh SET k = 5 WHERE id BETWEEN 10 AND 20`);
      await c.query('COMMIT');
    });
    await rl.sameData('SELECT * FROM public.awk', 'SELECT * FROM public.awk');
    await same('awk');
    await same('wh', 'WHERE k < 10');
  });

  it('applies sqltriga and jsontriga events in order with urlencoded ones', async () => {
    const json = (op: string): string => `{"op":"${op}","table":["public","sq"],"pkey":["id"]}`;
    await rl.root.withClient(rl.rootDb, async (c) => {
      await c.query('BEGIN');
      const ev = async (type: string, data: string): Promise<void> => {
        await c.query('SELECT pgq.insert_event($1, $2, $3, $4, NULL, NULL, NULL)', [QUEUE, type, data, 'public.sq']);
      };
      await ev('I:id', 'id=1&v=url&n=1');
      await ev('I', `(id,v,n) values ('2','sql','2')`);
      await ev('U:id', 'id=1&v=url2&n=10');
      await ev('U', `v='sql2', n=20 where id='2'`);
      await ev(json('INSERT'), '{"id":3,"v":"json","n":3}');
      await ev('D', `id='1'`);
      await ev('I:id', 'id=1&v=again&n=100');
      await ev(json('UPDATE'), '{"id":2,"v":"json over sql","n":22}');
      await ev('U', `n=n+1 where id='2'`);
      await ev(json('DELETE'), '{"id":3,"v":"json","n":3}');
      await c.query('COMMIT');
    });
    await rl.sameData('SELECT 1', 'SELECT 1');
    assert.deepEqual(
      await rl.leaf.query(rl.leafDb, 'SELECT id, v, n FROM sq ORDER BY id'),
      [
        { id: 1, v: 'again', n: 100 },
        { id: 2, v: 'json over sql', n: 23 },
      ],
    );
  });

  it('copies in binary where every column has the same built-in type on both sides, in text otherwise', async () => {
    const ddl = (leaf: boolean): string => `
      CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
      CREATE DOMAIN short_text AS text CHECK (length(VALUE) < 100);
      CREATE TABLE public.cb (id int PRIMARY KEY, t text, bin bytea, j json, jb jsonb, arr text[], ia int[], ts timestamptz,
        tsn timestamp, d date, iv interval, n numeric, f8 float8, f4 real, m money, ip inet, net cidr, u uuid, b bool,
        r tsrange, pt point, bits varbit, ch char(3), vc varchar(20), big bigint, sm smallint, tm time);
      CREATE TABLE public.ct (id int PRIMARY KEY, k ${leaf ? 'bigint' : 'int'}, e mood, s short_text);
      CREATE TABLE public.cr (id int PRIMARY KEY, rel regclass, cfg regconfig, typ regtype);`;
    await rl.root.query(rl.rootDb, ddl(false));
    await rl.leaf.query(rl.leafDb, ddl(true));
    // indexes here whose CREATE INDEX statement does not say everything are kept through the copy
    await rl.leaf.query(rl.leafDb, `
      CREATE INDEX cb_t ON cb (t); CREATE INDEX cb_n ON cb (n); COMMENT ON INDEX cb_n IS 'kept'; CREATE INDEX cb_f8 ON cb (f8);
      ALTER TABLE cb CLUSTER ON cb_t; CREATE UNIQUE INDEX ct_ri ON ct (id); ALTER TABLE ct REPLICA IDENTITY USING INDEX ct_ri;`);
    await rl.root.query(rl.rootDb, `
      INSERT INTO cb VALUES
        (1, E'德哥 \\\\ back\\tslash\\nnew line\\r ''q''', '\\x00ff5c0a0d09'::bytea, '{"k": [1, "二"], "z": 1}', '{"k": [1, "二", null]}',
         '{"a b", NULL, "德", "\\\\"}', '{1,NULL,-3}', '2026-12-02 10:00:00.123456+09', '2026-12-02 10:00:00.5', '2024-02-29', '1 year 2 mons 3 days 04:05:06.7',
         123456789012345678901234567890.123456789, 1.0000000000000002, 3.4e38, '$1,234.56', '192.168.0.1/24', '10.0.0.0/8', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', true,
         '[2026-01-01,2026-02-01)', '(1.5,-2.25)', B'10110', 'ab', 'varchar', 9223372036854775807, -32768, '23:59:59.999999'),
        (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
        (3, '', '', '""', '{}', '{}', '{}', 'infinity', '-infinity', 'infinity', '0', 'NaN', 'NaN', '-Infinity', 0, '::1', '::/0', '00000000-0000-0000-0000-000000000000', false,
         'empty', '(0,0)', B'', '', '', -9223372036854775808, 32767, '00:00');
      INSERT INTO cb (id, t, n, f8) SELECT g, repeat('長', g % 50), g / 7.0, g * 1e-300 FROM generate_series(4, 5000) g;
      INSERT INTO ct VALUES (1, 2147483647, 'happy', 'x'), (2, NULL, NULL, NULL), (3, -1, 'sad', E'德\\t');
      INSERT INTO cr VALUES (1, 'public.ct', 'english', 'mood'), (2, 'pg_class', 'simple', 'int4');`);
    ok(await runLondiste([rl.rootJob, 'add-table', 'cb', 'ct', 'cr']), 'root add-table');
    ok(await runLondiste([rl.leafJob, 'add-table', 'cb', 'ct', 'cr']), 'leaf add-table');
    for (const t of ['cb', 'ct', 'cr']) await rl.inSync(`public.${t}`);
    for (const t of ['cb', 'ct', 'cr']) await same(t);
    assert.deepEqual(
      await rl.leaf.query(rl.leafDb, `SELECT ic.relname AS name, i.indisclustered AS clustered, i.indisreplident AS ident, obj_description(ic.oid, 'pg_class') AS comment
        FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid WHERE ic.relname IN ('cb_t', 'cb_n', 'cb_f8', 'ct_ri') ORDER BY 1`),
      [
        { name: 'cb_f8', clustered: false, ident: false, comment: null },
        { name: 'cb_n', clustered: false, ident: false, comment: 'kept' },
        { name: 'cb_t', clustered: true, ident: false, comment: null },
        { name: 'ct_ri', clustered: false, ident: true, comment: null },
      ],
    );
    const out = rl.leafWorker?.output() ?? '';
    assert.match(out, /public\.cb: copied 5000 rows, [\d.]+ MB \(binary\)/, 'cb copied in binary');
    assert.match(out, /public\.ct: copied 3 rows, [\d.]+ MB \(text\)/, 'ct (int into bigint, an enum, a domain) copied in text');
    // a reg* value is an OID in binary and a name in text: the names are what must arrive
    assert.match(out, /public\.cr: copied 2 rows, [\d.]+ MB \(text\)/, 'cr (regclass, regconfig, regtype) copied in text');
  });
});
