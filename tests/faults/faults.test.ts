// Fault injection: root -> branch -> leaf on three major versions, pgqd on each cluster and one
// londisted hosting the three jobs, a writer on the root the whole time. Faults are drawn by a
// seeded generator (the seed is printed; FAULT_SEED=n replays a run): kill -9 of londisted or of a
// pgqd, fast and immediate restarts of each server, every ticker stopped for a while, a long
// transaction on the root holding its snapshot, the network between nodes (each provider is reached
// through a TCP proxy of the test) dropping, delaying or half-opening its connections, a disk
// full on a subscriber (a trigger raising SQLSTATE 53100, fired under the replica role too), and a
// column added on the root without `execute` (the subscribers stop with an error naming the column
// until the DBA adds it there too). After each fault, with the writer paused: every node
// converges to the root's data (row counts and checksums of both tables: nothing lost, nothing
// applied twice, since each ledger row is written once and each account's version counts its
// updates), and status shows no error. FAULTS=n (default 20; `make test-faults` runs 200).
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { startCluster, TcpProxy, testVersions, type PgCluster } from '@skytools/harness';
import { ok, runLondiste } from '../cli/run-londiste.js';
import { londistedBin, pgqdBin, readTextFile, spawnDaemon, tail, type Daemon } from '../replication/daemon-env.js';
import { tableDigest, waitCaughtUp, waitFor } from '../replication/replication-env.js';

const FAULTS = Number(process.env['FAULTS'] ?? 20);
const SEED = Number(process.env['FAULT_SEED'] ?? Math.floor(Math.random() * 2 ** 31));
const QUEUE = 'fq';
const KINDS = [
  'kill londisted', 'kill pgqd', 'restart fast', 'restart immediate', 'ticker stopped', 'long transaction',
  'network drop', 'network delay', 'network half-open', 'disk full', 'ddl without execute',
] as const;
/** Faults that hit one node: which one is named in the report line. */
const PER_NODE: readonly Kind[] = ['kill pgqd', 'restart fast', 'restart immediate', 'network drop', 'network delay', 'network half-open', 'disk full'];
type Kind = (typeof KINDS)[number];
/** FAULT_KINDS='disk full,network drop' draws from those kinds only (to chase one). */
const ONLY: readonly Kind[] = process.env['FAULT_KINDS'] === undefined ? KINDS : KINDS.filter((k) => process.env['FAULT_KINDS']?.split(',').includes(k));

/** mulberry32: a small seeded generator, so that a failing run can be replayed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function rssMb(pid: number): number {
  try {
    return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${String(pid)}/status`, 'utf8'))?.[1] ?? NaN) / 1024;
  } catch {
    return NaN;
  }
}

describe(`fault injection: ${String(FAULTS)} faults, seed ${String(SEED)}`, () => {
  const versions = testVersions();
  const v = (i: number): number => versions[Math.min(i, versions.length - 1)] ?? 15;
  const work = mkdtempSync(join(tmpdir(), 'skytools-faults-'));
  const jobsDir = join(work, 'jobs.d');
  const nodes = [
    { name: 'f_root', type: 'root' },
    { name: 'f_branch', type: 'branch' },
    { name: 'f_leaf', type: 'leaf' },
  ] as const;
  const clusters: PgCluster[] = [];
  /** proxies[i] is how the other nodes reach node i (its public location). */
  const proxies: TcpProxy[] = [];
  let ddlColumns = 0;
  const jobFiles: string[] = [];
  let londisted: Daemon | undefined;
  const pgqds: (Daemon | undefined)[] = [];
  let writing = true;
  let paused = false;
  let writer: Promise<void> | undefined;
  let written = 0;
  let lastWriteError = '';
  const diag = (): string =>
    `londisted log:\n${tail(readTextFile(join(work, 'londisted.log')), 40)}\nstatus of the leaf's node tables:\n` +
    clusters.map((c, i) => `${nodes[i]?.name ?? ''} on port ${String(c.port)}`).join(', ');
  const conn = (i: number): string => clusters[i]?.connectionString(nodes[i]?.name) ?? '';
  const viaProxy = (i: number): string => `host=127.0.0.1 port=${String(proxies[i]?.port)} user=${clusters[i]?.user ?? ''} dbname=${nodes[i]?.name ?? ''}`;

  const startLondisted = (): void => {
    londisted = spawnDaemon(londistedBin(), ['--config', join(work, 'londisted.yaml')]);
  };
  const startPgqd = (i: number): void => {
    pgqds[i] = spawnDaemon(pgqdBin(), ['--config', join(work, `pgqd-${String(i)}.yaml`)]);
  };

  before(async () => {
    clusters.push(...(await Promise.all([startCluster(v(0)), startCluster(v(1)), startCluster(v(2))])));
    for (const c of clusters) proxies.push(await TcpProxy.start(c.host, c.port));
    mkdirSync(jobsDir);
    for (const [i, n] of nodes.entries()) {
      const c = clusters[i];
      if (c === undefined) throw new Error('no cluster');
      await c.createDatabase(n.name);
      await c.query(n.name, `CREATE TABLE acct (id int PRIMARY KEY, version int NOT NULL, balance bigint NOT NULL);
        CREATE TABLE ledger (id bigint PRIMARY KEY, acct int NOT NULL, amount int NOT NULL, note text)`);
      const file = join(work, `${n.name}.yaml`);
      writeFileSync(
        file,
        `job_name: ${n.name}\ndb: ${JSON.stringify(conn(i))}\npublic_node_location: ${JSON.stringify(viaProxy(i))}\n` +
          `queue_name: ${QUEUE}\nloop_delay: 200ms\nprovider_timeout: 5s\n`,
      );
      jobFiles.push(file);
      writeFileSync(join(work, `pgqd-${String(i)}.yaml`), `base_connstr: ${JSON.stringify(`host=${c.host} port=${String(c.port)} user=${c.user}`)}\ndatabase_list: [${n.name}]\nticker_period: 200ms\nlogfile: ${JSON.stringify(join(work, `pgqd-${String(i)}.log`))}\n`);
    }
    await clusters[0]?.query('f_root', 'INSERT INTO acct SELECT g, 0, 0 FROM generate_series(1, 200) g');
    ok(await runLondiste([jobFiles[0] ?? '', 'create-root', 'f_root']), 'create-root');
    ok(await runLondiste([jobFiles[1] ?? '', 'create-branch', 'f_branch', `--provider=${viaProxy(0)}`]), 'create-branch');
    ok(await runLondiste([jobFiles[2] ?? '', 'create-leaf', 'f_leaf', `--provider=${viaProxy(1)}`]), 'create-leaf');
    for (const f of jobFiles) ok(await runLondiste([f, 'add-table', 'acct', 'ledger']), `add-table ${f}`);
    for (const f of jobFiles) writeFileSync(join(jobsDir, f.slice(f.lastIndexOf('/') + 1)), readFileSync(f));
    writeFileSync(join(work, 'londisted.yaml'), `jobs_dir: ${JSON.stringify(jobsDir)}\nlogfile: ${JSON.stringify(join(work, 'londisted.log'))}\nrestart_delay_max: 5s\n`);
    for (const i of [0, 1, 2]) startPgqd(i);
    startLondisted();
    // the writer: one ledger row and one account update per transaction, on through root restarts
    writer = (async () => {
      let client: pg.Client | undefined;
      while (writing) {
        if (paused) {
          await sleep(20);
          continue;
        }
        try {
          if (client === undefined) {
            client = new pg.Client(clusters[0]?.clientConfig('f_root'));
            client.on('error', () => undefined);
            await client.connect();
          }
          const id = written + 1;
          // one statement: a retry after a commit whose answer was lost changes nothing twice
          await client.query(
            `WITH ins AS (INSERT INTO ledger VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING RETURNING acct, amount)
             UPDATE acct SET version = version + 1, balance = balance + ins.amount FROM ins WHERE acct.id = ins.acct`,
            [id, (id % 200) + 1, id % 97, `row ${String(id)}`],
          );
          written = id;
        } catch (err) {
          lastWriteError = (err as Error).message;
          await client?.end().catch(() => undefined);
          client = undefined;
          await sleep(200);
        }
        await sleep(5);
      }
      await client?.end().catch(() => undefined);
    })();
  });

  after(async () => {
    writing = false;
    await writer;
    await londisted?.stop(20_000);
    for (const d of pgqds) await d?.stop(10_000);
    await Promise.all(clusters.map((c) => c.stop()));
    for (const p of proxies) await p.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('every node converges after every fault, with nothing lost or doubled', async () => {
    const next = rng(SEED);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)] as T;
    const counts = new Map<Kind, number>();
    const converge: number[] = [];
    await waitFor('both tables ok on the leaf', 180_000, async () => {
      const r = await clusters[2]?.query<{ n: number }>('f_leaf', `SELECT count(*)::int AS n FROM londiste.get_table_list($1) WHERE local AND merge_state = 'ok'`, [QUEUE]);
      return r?.[0]?.n === 2 ? true : undefined;
    }, diag);
    const rssStart = rssMb(londisted?.pid ?? 0);
    let londistedRestarts = 0;

    for (let f = 1; f <= FAULTS; f++) {
      const before = written;
      const kind = pick(ONLY);
      let node = Math.floor(next() * 3);
      // the network faults hit a provider's proxy (root or branch), a full disk a subscriber
      if (kind.startsWith('network')) node = node % 2;
      if (kind === 'disk full') node = 1 + (node % 2);
      counts.set(kind, (counts.get(kind) ?? 0) + 1);
      const what = `fault ${String(f)}/${String(FAULTS)}: ${kind}${PER_NODE.includes(kind) ? ` (${nodes[node]?.name ?? ''})` : ''}`;
      switch (kind) {
        case 'kill londisted':
          londisted?.proc.kill('SIGKILL');
          await londisted?.exited;
          await sleep(500 + next() * 2000);
          startLondisted();
          londistedRestarts += 1;
          break;
        case 'kill pgqd':
          pgqds[node]?.proc.kill('SIGKILL');
          await pgqds[node]?.exited;
          await sleep(500 + next() * 2000);
          startPgqd(node);
          break;
        case 'restart fast':
        case 'restart immediate': {
          const c = clusters[node];
          const port = c?.port;
          await c?.stopServer(kind === 'restart fast' ? 'fast' : 'immediate');
          await sleep(200 + next() * 1500);
          await c?.startServer();
          // the nodes know each other by host and port: a server back on another port is a harness failure
          assert.equal(c?.port, port, `${nodes[node]?.name ?? ''} came back on another port`);
          break;
        }
        case 'ticker stopped':
          for (const d of pgqds) {
            d?.proc.kill('SIGTERM');
            await d?.exited;
          }
          await sleep(3000 + next() * 5000);
          for (const i of [0, 1, 2]) startPgqd(i);
          break;
        case 'long transaction':
          await clusters[0]?.withClient('f_root', async (c) => {
            await c.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
            await c.query('SELECT txid_current(), count(*) FROM ledger');
            await sleep(3000 + next() * 5000);
            await c.query('COMMIT');
          });
          break;
        case 'network drop':
          proxies[node]?.drop();
          break;
        case 'network delay':
          proxies[node]?.delay(50 + Math.floor(next() * 450));
          await sleep(3000 + next() * 5000);
          proxies[node]?.delay(0);
          break;
        case 'network half-open':
          proxies[node]?.halfOpen();
          break;
        case 'disk full': {
          const c = clusters[node];
          const db = nodes[node]?.name ?? '';
          await c?.query(db, `CREATE FUNCTION disk_full() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION 'could not extend file: No space left on device' USING ERRCODE = 'disk_full'; END $$;
            CREATE TRIGGER disk_full BEFORE INSERT OR UPDATE ON ledger FOR EACH ROW EXECUTE PROCEDURE disk_full();
            ALTER TABLE ledger ENABLE ALWAYS TRIGGER disk_full`);
          // the job stops on it, and says so in status
          await waitFor(`${what}: status shows the error`, 60_000, async () => {
            const st = await runLondiste([jobFiles[0] ?? '', 'status']);
            return st.stdout.includes('No space left on device') ? true : undefined;
          }, diag);
          await sleep(next() * 3000);
          await c?.query(db, 'DROP TRIGGER disk_full ON ledger; DROP FUNCTION disk_full()');
          break;
        }
        case 'ddl without execute': {
          ddlColumns += 1;
          const col = `ddl_${String(ddlColumns)}`;
          await clusters[0]?.query('f_root', `ALTER TABLE ledger ADD COLUMN ${col} text`);
          // the change reaches the branch with the next rows and stops it there, visibly, naming the column
          await waitFor(`${what}: the branch stops naming ${col}`, 60_000, async () => {
            const st = await runLondiste([jobFiles[0] ?? '', 'status']);
            return st.stdout.includes('ERR') && st.stdout.includes(col) ? true : undefined;
          }, diag);
          // what the DBA does then: the same change on the subscribers
          for (const i of [1, 2]) await clusters[i]?.query(nodes[i]?.name ?? '', `ALTER TABLE ledger ADD COLUMN ${col} text`);
          break;
        }
      }
      await waitFor(`${what}: the writer commits again`, 120_000, async () => (written > before + 20 ? true : undefined), () => `last write error: ${lastWriteError}`);
      // converge with the writer paused: the root's data is then fixed
      paused = true;
      const t0 = Date.now();
      try {
        await sleep(50);
        for (const i of [1, 2]) {
          const c = clusters[i];
          if (c === undefined || clusters[0] === undefined) continue;
          await waitCaughtUp(clusters[0], 'f_root', c, nodes[i]?.name ?? '', QUEUE, nodes[i]?.name ?? '', 240_000, () => `${what}\n${diag()}`);
        }
        converge.push((Date.now() - t0) / 1000);
        for (const t of ['acct', 'ledger']) {
          const want = await tableDigest(clusters[0] as PgCluster, 'f_root', `SELECT * FROM ${t}`);
          for (const i of [1, 2]) {
            assert.deepEqual(await tableDigest(clusters[i] as PgCluster, nodes[i]?.name ?? '', `SELECT * FROM ${t}`), want, `${what}: ${t} on ${nodes[i]?.name ?? ''} (seed ${String(SEED)})`);
          }
        }
        // the ledger holds each row once and the versions count every update: nothing doubled or lost
        const sums = await clusters[0]?.query<{ rows: number; versions: number }>('f_root', 'SELECT (SELECT count(*)::int FROM ledger) AS rows, (SELECT sum(version)::int FROM acct) AS versions');
        assert.equal(sums?.[0]?.rows, sums?.[0]?.versions, `${what}: ledger rows equal account versions on the root`);
        await waitFor(`${what}: status without ERR`, 60_000, async () => {
          const st = await runLondiste([jobFiles[2] ?? '', 'status']);
          return st.code === 0 && !/ERR:/.test(st.stdout) ? true : undefined;
        }, diag);
      } finally {
        paused = false;
      }
    }
    const sorted = [...converge].sort((a, b) => a - b);
    const p50 = sorted[Math.floor(sorted.length / 2)] ?? NaN;
    const max = sorted.at(-1) ?? NaN;
    const rssEnd = rssMb(londisted?.pid ?? 0);
    console.log(
      `fault report (seed ${String(SEED)}): ${[...counts].map(([k, n]) => `${k} ${String(n)}`).join(', ')}; ` +
        `${String(written)} root transactions; time to converge p50 ${p50.toFixed(1)}s max ${max.toFixed(1)}s; lost 0, duplicates 0; ` +
        `londisted RSS ${rssStart.toFixed(0)} MB at start, ${rssEnd.toFixed(0)} MB at the end (${String(londistedRestarts)} kill -9 restarts in between)`,
    );
  });
});
