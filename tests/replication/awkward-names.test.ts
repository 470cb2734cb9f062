// Awkward table, schema and column names, given on the command line as quoted identifiers, go
// through add-table, the initial copy, the capture triggers and the apply (root on the oldest
// tested version, leaf on the newest): dots, double quotes, commas, `=`, `&`, `%`, spaces,
// unicode, upper case and 63-byte names; a schema holding a dot is refused with the reason.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { PgCluster } from '@skytools/harness';
import { ok, runLondiste } from '../cli/run-londiste.js';
import { tableDigest, waitCaughtUp, waitFor } from './replication-env.js';
import { RootLeaf } from './root-leaf.js';

const { root: rootMajor, leaf: leafMajor } = RootLeaf.versions;
const QUEUE = 'nq';

/** [schema, table] pairs, as PostgreSQL holds them. */
const NAMES: [string, string][] = [
  ['public', 't.x'],
  ['public', 'we"ird'],
  ['public', 'a,b'],
  ['public', 'k=v'],
  ['public', 'a&b'],
  ['public', '50%'],
  ['public', 'with space'],
  ['public', '表格'],
  ['public', 'UpperCase'],
  ['public', `n${'x'.repeat(62)}`],
  ['my schema', 'Tab.le=1&2%'],
];

const ident = (s: string): string => `"${s.replace(/"/g, '""')}"`;
const qualified = ([s, t]: [string, string]): string => `${ident(s)}.${ident(t)}`;

describe(`awkward names, ${rootMajor} -> ${leafMajor}`, () => {
  let rl: RootLeaf;
  let root: PgCluster;
  let leaf: PgCluster;
  let rootJob = '';
  let leafJob = '';

  before(async () => {
    rl = await RootLeaf.start('n', QUEUE);
    ({ root, leaf, rootJob, leafJob } = rl);
  });
  after(async () => {
    await rl.stop();
  });

  it('replicates every awkward name given as a quoted identifier', async () => {
    for (const [c, db] of [[root, 'n_root'], [leaf, 'n_leaf']] as const) {
      await c.query(db, `CREATE SCHEMA ${ident('my schema')}`);
      for (const n of NAMES) await c.query(db, `CREATE TABLE ${qualified(n)} (id int PRIMARY KEY, ${ident('Col "x"=&%, y')} text, v int)`);
    }
    for (const n of NAMES) await root.query('n_root', `INSERT INTO ${qualified(n)} SELECT g, 'v' || g || E'\\t%&=', g FROM generate_series(1, 30) g`);
    const args = NAMES.map(qualified);
    ok(await runLondiste([rootJob, 'add-table', ...args]), 'root add-table');
    ok(await runLondiste([leafJob, 'add-table', ...args]), 'leaf add-table');
    const stored = NAMES.map(([s, t]) => `${s}.${t}`);
    await waitFor('every table ok', 120_000, async () => {
      const r = await leaf.query<{ n: number }>('n_leaf', `SELECT count(*)::int AS n FROM londiste.get_table_list($1) WHERE local AND merge_state = 'ok' AND table_name = ANY ($2)`, [QUEUE, stored]);
      return r[0]?.n === NAMES.length ? true : undefined;
    }, rl.diag);
    for (const n of NAMES) {
      await root.query('n_root', `INSERT INTO ${qualified(n)} VALUES (100, 'new', 100)`);
      await root.query('n_root', `UPDATE ${qualified(n)} SET v = v * 2, ${ident('Col "x"=&%, y')} = 'changed' WHERE id % 3 = 0`);
      await root.query('n_root', `DELETE FROM ${qualified(n)} WHERE id % 5 = 0`);
    }
    await waitCaughtUp(root, 'n_root', leaf, 'n_leaf', QUEUE, 'n_leaf', 60_000, rl.diag);
    for (const n of NAMES) {
      const a = await tableDigest(root, 'n_root', `SELECT * FROM ${qualified(n)}`);
      assert.equal(a.rows, 24, qualified(n));
      assert.deepEqual(await tableDigest(leaf, 'n_leaf', `SELECT * FROM ${qualified(n)}`), a, qualified(n));
    }
    const tables = ok(await runLondiste([leafJob, 'tables', '--names-only']), 'tables').stdout.split('\n').filter((l) => l !== '');
    for (const s of stored) assert.ok(tables.includes(s), `tables lists ${s}:\n${tables.join('\n')}`);
  });

  it('refuses a schema holding a dot, and names what it read for a quoted name it cannot find', async () => {
    const r = await runLondiste([rootJob, 'add-table', '"a.b"."t.x"']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /ERROR name "a\.b"\."t\.x": schema "a\.b" holds a dot, which londiste cannot store/);
    const m = await runLondiste([rootJob, 'add-table', '"No Such"."t.x"']);
    assert.equal(m.code, 1);
    assert.match(m.stderr, /ERROR table No Such\.t\.x \(read from "No Such"\."t\.x"\) not found in the local database/);
  });
});
