// The real upstream Skytools as a test peer (Debian's packages: PgQ 3.5 C extension, pgq_node,
// londiste SQL 3.8, pgqd 3.5, londiste 3.x in Python), installed by `make test` when missing
// (scripts/ensure-upstream-skytools.sh). The mixed setups a DBA migrating piece by piece goes
// through, each under a load with checksums of both sides at the end:
//   1. an upstream root (extensions, upstream root worker) ticked by OUR pgqd, feeding our leaf;
//   2. our root ticked by UPSTREAM pgqd, feeding an upstream leaf (its own schema and worker) and a
//      leaf our tools created run by the upstream worker (londiste.set_session_replication_role etc.);
//   3. our worker taking over the upstream leaf mid-stream, and the upstream worker taking it back;
//   4. an upstream branch in the middle, our execute through all of them, our takeover of the root
//      with upstream nodes among the subscribers that move, and upstream's compare on our leaf.
// Where the packages are not installed (not root, no apt) the suite is skipped, saying why.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { findInstall, startCluster, type PgCluster } from '@skytools/harness';
import { londisteBin, ok, runProgram, runScript, type RunResult } from '../cli/run-londiste.js';
import { pgqdBin, spawnDaemon, spawnProgram, tail, type Daemon } from '../replication/daemon-env.js';
import { tableDigest, waitCaughtUp, waitFor } from '../replication/replication-env.js';

const MAJOR = 15;
const UPSTREAM_LONDISTE = '/usr/bin/londiste';
const UPSTREAM_PGQD = '/usr/bin/pgqd';

/** Why the suite cannot run here, or undefined when upstream's packages are in place. */
function missingUpstream(): string | undefined {
  let share: string;
  try {
    const inst = findInstall(MAJOR);
    if (inst.source !== 'system') return `PostgreSQL ${MAJOR} is not the system's (Debian's extension packages need it)`;
    share = `/usr/share/postgresql/${MAJOR}/extension`;
  } catch (err) {
    return (err as Error).message;
  }
  for (const f of [UPSTREAM_LONDISTE, UPSTREAM_PGQD, `${share}/pgq.control`, `${share}/pgq_node.control`, `${share}/londiste.control`]) {
    if (!existsSync(f)) return `${f} is missing: run make test as root on Debian (scripts/ensure-upstream-skytools.sh installs the packages)`;
  }
  return undefined;
}

const skip = missingUpstream();

describe(`upstream Skytools as a peer, PostgreSQL ${MAJOR}`, { skip: skip ?? false }, () => {
  let c: PgCluster;
  const dir = mkdtempSync(join(tmpdir(), 'skytools-interop-'));
  const daemons: Daemon[] = [];
  const diag = (): string => daemons.map((d) => tail(d.output(), 12)).join('\n----\n');
  const start = (d: Daemon): Daemon => {
    daemons.push(d);
    return d;
  };
  const upstream = (args: string[]): Promise<RunResult> => runProgram(UPSTREAM_LONDISTE, args, { cwd: dir });
  const ours = (args: string[]): Promise<RunResult> => runScript(londisteBin(), args);
  /** A job file in upstream's format: both tools read it. */
  const iniJob = (name: string, queue: string): string => {
    const f = join(dir, `${name}.ini`);
    writeFileSync(f, `[londiste]\ndb = ${c.connectionString(name)}\nqueue_name = ${queue}\nlogfile = ${dir}/%(job_name)s.log\npidfile = ${dir}/%(job_name)s.pid\n`);
    return f;
  };
  const yamlJob = (name: string, queue: string): string => {
    const f = join(dir, `${name}.yaml`);
    writeFileSync(f, `db: "${c.connectionString(name)}"\nqueue_name: ${queue}\nloop_delay: 200ms\n`);
    return f;
  };
  /** A node set up under `provider` by one tool or the other, with the table added, as a DBA does it. */
  const subscribe = async (tool: 'ours' | 'upstream', job: string, type: 'leaf' | 'branch', name: string, provider: string): Promise<void> => {
    const run = tool === 'ours' ? ours : upstream;
    ok(await run([job, `create-${type}`, name, c.connectionString(name), `--provider=${c.connectionString(provider)}`]), `${tool} create-${type} ${name} under ${provider}`);
    ok(await run([job, 'add-table', 'public.acct']), `${tool} add-table on ${name}`);
  };
  /** Changes of every kind on the root's table, `rounds` transactions. */
  const load = async (db: string, base: number, rounds: number): Promise<void> => {
    for (let i = 0; i < rounds; i++) {
      await c.query(db, `UPDATE acct SET v = v || 'x', n = n + 1 WHERE id % 10 = ${i % 10}`);
      await c.query(db, `INSERT INTO acct (id, v, n) VALUES (${base + i}, 'new ' || ${i}, NULL)`);
      await c.query(db, `DELETE FROM acct WHERE id = ${1 + ((base + i * 7) % 900)}`);
    }
  };
  const same = async (root: string, leaves: string[]): Promise<void> => {
    const a = await tableDigest(c, root, 'SELECT * FROM acct');
    for (const leaf of leaves) assert.deepEqual(await tableDigest(c, leaf, 'SELECT * FROM acct'), a, `${leaf} equals ${root} (${a.rows} rows)`);
  };
  /** Each leaf (its node and database named alike) has applied all the root wrote; `compare` hold the root's rows. */
  const caughtUpAndSame = async (root: string, queue: string, leaves: string[], compare = leaves): Promise<void> => {
    for (const leaf of leaves) await waitCaughtUp(c, root, c, leaf, queue, leaf, 60_000, diag);
    await same(root, compare);
  };
  /** Load on the root while the leaves copy, more once their table is ok, then caughtUpAndSame. */
  const replicateUnderLoad = async (root: string, queue: string, leaves: string[], base: number, compare = leaves): Promise<void> => {
    await load(root, base, 30);
    for (const leaf of leaves) await tableOk(leaf, queue);
    await load(root, base + 1000, 30);
    await caughtUpAndSame(root, queue, leaves, compare);
  };
  const tableOk = async (db: string, queue: string): Promise<boolean> =>
    waitFor(`${db}: acct ok`, 60_000, async () => {
      const r = await c.query<{ s: string | null }>(db, `SELECT merge_state AS s FROM londiste.get_table_list($1) WHERE table_name = 'public.acct'`, [queue]);
      return r[0]?.s === 'ok' ? true : undefined;
    }, diag);

  before(async () => {
    c = await startCluster(MAJOR);
    for (const db of ['up_root', 'ours_leaf', 'ours_root', 'up_leaf', 'mixed_leaf', 'up_branch', 'ours_leaf2', 'ours_branch']) {
      await c.createDatabase(db);
      await c.query(db, 'CREATE TABLE acct (id int PRIMARY KEY, v text, n numeric)');
    }
    for (const db of ['up_root', 'ours_root']) await c.query(db, `INSERT INTO acct SELECT g, 'v' || g, g / 3.0 FROM generate_series(1, 1000) g`);
    for (const db of ['up_root', 'up_leaf', 'up_branch']) await c.query(db, 'CREATE EXTENSION pgq; CREATE EXTENSION pgq_node; CREATE EXTENSION londiste');
  });
  after(async () => {
    for (const d of daemons) await d.stop(10_000);
    await c.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('upstream root (C PgQ, upstream worker) ticked by our pgqd feeds our leaf', async () => {
    const root = iniJob('up_root', 'q_up');
    const leaf = yamlJob('ours_leaf', 'q_up');
    ok(await upstream([root, 'create-root', 'up_root', c.connectionString('up_root')]), 'upstream create-root');
    ok(await upstream([root, 'add-table', 'public.acct']), 'upstream add-table');
    await subscribe('ours', leaf, 'leaf', 'ours_leaf', 'up_root');
    writeFileSync(join(dir, 'pgqd-ours.yaml'), `base_connstr: "host=127.0.0.1 port=${c.port} user=postgres"\ndatabase_list: [up_root]\nlogfile: ${dir}/pgqd-ours.log\n`);
    start(spawnDaemon(pgqdBin(), [join(dir, 'pgqd-ours.yaml')]));
    start(spawnProgram(UPSTREAM_LONDISTE, [root, 'worker'], dir));
    start(spawnDaemon(londisteBin(), [leaf, 'worker']));
    await replicateUnderLoad('up_root', 'q_up', ['ours_leaf'], 2000);
  });

  let upLeafWorker: Daemon | undefined;

  it('our root ticked by upstream pgqd feeds an upstream leaf and a leaf of ours run by the upstream worker', async () => {
    const root = yamlJob('ours_root', 'q_ours');
    ok(await ours([root, 'create-root', 'ours_root', c.connectionString('ours_root')]), 'our create-root');
    ok(await ours([root, 'add-table', 'public.acct']), 'our add-table');
    const upLeaf = iniJob('up_leaf', 'q_ours');
    await subscribe('upstream', upLeaf, 'leaf', 'up_leaf', 'ours_root');
    const mixed = iniJob('mixed_leaf', 'q_ours');
    await subscribe('ours', mixed, 'leaf', 'mixed_leaf', 'ours_root');
    writeFileSync(join(dir, 'pgqd-up.ini'), `[pgqd]\nbase_connstr = host=127.0.0.1 port=${c.port} user=postgres\ndatabase_list = ours_root\nlogfile = ${dir}/pgqd-up.log\npidfile = ${dir}/pgqd-up.pid\nticker_period = 0.2\n`);
    start(spawnProgram(UPSTREAM_PGQD, [join(dir, 'pgqd-up.ini')], dir));
    start(spawnDaemon(londisteBin(), [root, 'worker']));
    upLeafWorker = start(spawnProgram(UPSTREAM_LONDISTE, [upLeaf, 'worker'], dir));
    start(spawnProgram(UPSTREAM_LONDISTE, [mixed, 'worker'], dir));
    await replicateUnderLoad('ours_root', 'q_ours', ['up_leaf', 'mixed_leaf'], 2000);
  });

  it('our worker takes the upstream leaf over mid-stream and hands it back', async () => {
    const upLeaf = join(dir, 'up_leaf.ini');
    assert.ok(upLeafWorker !== undefined, 'the upstream leaf worker of the previous step runs');
    const writer = load('ours_root', 4000, 60); // the switch happens while the root writes
    await upLeafWorker.stop(10_000);
    const oursOnIt = start(spawnDaemon(londisteBin(), [upLeaf, 'worker']));
    await writer;
    await caughtUpAndSame('ours_root', 'q_ours', ['up_leaf']);
    assert.match(oursOnIt.output(), /Job up_leaf started/);

    const writer2 = load('ours_root', 5000, 60);
    assert.deepEqual(await oursOnIt.stop(10_000), { code: 0, signal: null });
    start(spawnProgram(UPSTREAM_LONDISTE, [upLeaf, 'worker'], dir));
    await writer2;
    await caughtUpAndSame('ours_root', 'q_ours', ['up_leaf', 'mixed_leaf']);
  });

  it('an upstream branch between our root and our leaf passes everything on', async () => {
    const branch = iniJob('up_branch', 'q_ours');
    await subscribe('upstream', branch, 'branch', 'up_branch', 'ours_root');
    const leaf = yamlJob('ours_leaf2', 'q_ours');
    await subscribe('ours', leaf, 'leaf', 'ours_leaf2', 'up_branch');
    start(spawnProgram(UPSTREAM_LONDISTE, [branch, 'worker'], dir));
    start(spawnDaemon(londisteBin(), [leaf, 'worker']));
    await replicateUnderLoad('ours_root', 'q_ours', ['up_branch', 'ours_leaf2'], 6000, ['up_branch', 'ours_leaf2', 'up_leaf', 'mixed_leaf']);
  });

  it('our execute reaches every node of a cascade holding upstream nodes, in order with the rows that fill the column', async () => {
    const root = join(dir, 'ours_root.yaml');
    // a branch of ours beside the upstream nodes (it takes the root over in the next step)
    const branch = yamlJob('ours_branch', 'q_ours');
    await subscribe('ours', branch, 'branch', 'ours_branch', 'ours_root');
    start(spawnDaemon(londisteBin(), [branch, 'worker']));
    await tableOk('ours_branch', 'q_ours');
    const sql = join(dir, '001_acct_note.sql');
    writeFileSync(sql, 'ALTER TABLE public.acct ADD COLUMN note text;\n');
    for (const db of ['up_leaf', 'mixed_leaf', 'up_branch', 'ours_leaf2', 'ours_branch']) {
      assert.equal((await c.query(db, `SELECT 1 FROM pg_attribute WHERE attrelid = 'public.acct'::regclass AND attname = 'note'`)).length, 0);
    }
    const writer = load('ours_root', 8000, 20);
    ok(await ours([root, 'execute', sql]), 'our execute on the root');
    await writer;
    await c.query('ours_root', `UPDATE acct SET note = 'n' || id WHERE id % 7 = 0`);
    await caughtUpAndSame('ours_root', 'q_ours', ['up_leaf', 'mixed_leaf', 'up_branch', 'ours_leaf2', 'ours_branch']);
  });

  it('our takeover makes a branch of ours the root, and the upstream nodes under the old root follow it', async () => {
    const branch = join(dir, 'ours_branch.yaml');
    await load('ours_root', 10000, 30);
    await caughtUpAndSame('ours_root', 'q_ours', ['ours_branch', 'up_leaf', 'mixed_leaf', 'up_branch', 'ours_leaf2']);
    // the new root's ticker, idle until it is one (a branch's queue is ticked by its worker)
    writeFileSync(join(dir, 'pgqd-new.yaml'), `base_connstr: "host=127.0.0.1 port=${c.port} user=postgres"\ndatabase_list: [ours_branch]\nlogfile: ${dir}/pgqd-new.log\n`);
    start(spawnDaemon(pgqdBin(), [join(dir, 'pgqd-new.yaml')]));

    const t = ok(await ours([branch, 'takeover', 'ours_root']), 'our takeover of the root');
    assert.match(t.stderr, /takeover done in .*: ours_branch is the root; ours_root is a branch under it/);
    const providerOf = async (db: string): Promise<string | null> =>
      (await c.query<{ p: string | null }>(db, `SELECT provider_node AS p FROM pgq_node.get_node_info('q_ours')`))[0]?.p ?? null;
    // the old root's subscribers read from the new one, the upstream workers' nodes included
    for (const db of ['up_leaf', 'mixed_leaf', 'up_branch', 'ours_root']) assert.equal(await providerOf(db), 'ours_branch', `${db} reads from the new root`);
    assert.equal(await providerOf('ours_leaf2'), 'up_branch', 'a node under the upstream branch stays there');

    // writes on the new root reach every node, through the upstream branch and the old root too
    await load('ours_branch', 12000, 40);
    await caughtUpAndSame('ours_branch', 'q_ours', ['ours_root', 'up_leaf', 'mixed_leaf', 'up_branch', 'ours_leaf2']);
    // the old root refuses writes for good
    await assert.rejects(c.query('ours_root', `INSERT INTO acct (id, v) VALUES (99999, 'on the old root')`), /disallowed|refus|read-only|not allowed/i);
  });

  it("upstream's compare finds our leaf equal to its provider, and names a damaged row's table", async () => {
    const mixed = join(dir, 'mixed_leaf.ini');
    await waitCaughtUp(c, 'ours_branch', c, 'mixed_leaf', 'q_ours', 'mixed_leaf', 60_000, diag);
    const good = ok(await upstream([mixed, 'compare']), 'upstream compare');
    assert.match(good.stderr + good.stdout, /Counting public\.acct/);
    assert.doesNotMatch(good.stderr + good.stdout, /Results do not match/);
    // one row changed behind the worker's back: upstream's compare says so
    // (a leaf refuses direct changes: the damage is done as replication would do it)
    await c.query('mixed_leaf', `BEGIN; SET LOCAL session_replication_role = replica; UPDATE acct SET v = 'damaged' WHERE id = (SELECT min(id) FROM acct); COMMIT`);
    const bad = await upstream([mixed, 'compare']);
    assert.match(bad.stderr + bad.stdout, /public\.acct: Results do not match!/, bad.stderr);
  });
});
