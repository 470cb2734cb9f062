// londisted, the supervisor, through its life (docs/londisted.md): SIGHUP with a changed, an
// unchanged, a broken (bad YAML, an unknown key, a file named otherwise than its job), a new and
// a removed job file; jobs whose apply fails while the others keep replicating; --reload/--stop through the pidfile; SIGTERM letting the batch in flight
// commit; a second SIGTERM during a shutdown held up by a lock. Every check is on data (row
// counts and checksums against the root) or on the database backends of the jobs' workers.
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { startCluster, testVersions, type PgCluster } from '@skytools/harness';
import { ok, runLondiste } from '../cli/run-londiste.js';
import { backends, countMatches, londistedBin, readTextFile, runScript, spawnDaemon, tail, within, type Daemon } from './daemon-env.js';
import { startTicker, tableDigest, waitCaughtUp, waitFor } from './replication-env.js';

const major = testVersions().at(-1) ?? 15;
const QUEUE = 'q';
const TABLES = ['acct', 'note'] as const;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface JobNode {
  name: string;
  db: string;
  /** The job file as first written; the CLI uses this copy, londisted the one in jobs_dir. */
  spare: string;
  body: string;
}

/**
 * A root and some leaves in databases of their own, each a job of one londisted whose jobs_dir
 * holds whichever job files a test puts there; an in-process ticker on the root.
 */
class Cascade {
  readonly dir = mkdtempSync(join(tmpdir(), 'skytools-londisted-'));
  readonly jobsDir = join(this.dir, 'jobs.d');
  readonly spareDir = join(this.dir, 'spare');
  readonly configFile = join(this.dir, 'londisted.yaml');
  readonly logFile = join(this.dir, 'londisted.log');
  readonly pidFile = join(this.dir, 'londisted.pid');
  readonly root: JobNode;
  readonly leaves: JobNode[];
  daemon: Daemon | undefined;
  private ticker: { stop: () => Promise<void> } | undefined;
  private round = 0;

  constructor(
    readonly cluster: PgCluster,
    readonly prefix: string,
    leafNames: readonly string[],
  ) {
    mkdirSync(this.jobsDir);
    mkdirSync(this.spareDir);
    const node = (n: string): JobNode => {
      const name = `${prefix}_${n}`;
      const body = `db: ${JSON.stringify(cluster.connectionString(name))}\nqueue_name: ${QUEUE}\nloop_delay: 200ms\n`;
      const spare = join(this.spareDir, `${name}.yaml`);
      writeFileSync(spare, body);
      return { name, db: name, spare, body };
    };
    this.root = node('root');
    this.leaves = leafNames.map(node);
    writeFileSync(
      this.configFile,
      [
        `jobs_dir: ${JSON.stringify(this.jobsDir)}`,
        `logfile: ${JSON.stringify(this.logFile)}`,
        `pidfile: ${JSON.stringify(this.pidFile)}`,
        // long enough never to cut a batch short here: the tests decide when batches finish
        'shutdown_timeout: 10min',
        'restart_delay_max: 5s',
      ].join('\n') + '\n',
    );
  }

  leaf(n: string): JobNode {
    const l = this.leaves.find((x) => x.name === `${this.prefix}_${n}`);
    if (l === undefined) throw new Error(`no leaf ${n}`);
    return l;
  }

  /** Databases, tables, nodes and table registrations; no worker runs yet. */
  async build(): Promise<void> {
    for (const n of [this.root, ...this.leaves]) {
      await this.cluster.createDatabase(n.db);
      await this.cluster.query(n.db, `CREATE TABLE acct (id int PRIMARY KEY, owner text NOT NULL, balance numeric(12,2) NOT NULL DEFAULT 0, touched timestamptz)`);
      await this.cluster.query(n.db, `CREATE TABLE note (id bigserial PRIMARY KEY, acct int NOT NULL, body text)`);
    }
    await this.cluster.query(this.root.db, `INSERT INTO acct SELECT g, 'owner ' || g, g * 1.5, now() FROM generate_series(1, 300) g`);
    await this.cluster.query(this.root.db, `INSERT INTO note (acct, body) SELECT g % 300 + 1, 'note ' || g FROM generate_series(1, 200) g`);
    const rootLoc = this.cluster.connectionString(this.root.db);
    ok(await runLondiste([this.root.spare, 'create-root', this.root.name, rootLoc]), `create-root ${this.root.name}`);
    const leafRuns = await Promise.all(
      this.leaves.map((l) => runLondiste([l.spare, 'create-leaf', l.name, this.cluster.connectionString(l.db), `--provider=${rootLoc}`])),
    );
    leafRuns.forEach((r, i) => ok(r, `create-leaf ${this.leaves[i]?.name ?? ''}`));
    ok(await runLondiste([this.root.spare, 'add-table', 'acct', 'note']), 'add-table on the root');
    const adds = await Promise.all(this.leaves.map((l) => runLondiste([l.spare, 'add-table', 'acct', 'note'])));
    adds.forEach((r, i) => ok(r, `add-table on ${this.leaves[i]?.name ?? ''}`));
    this.ticker = startTicker(this.cluster, this.root.db, 100);
  }

  jobFile(n: JobNode): string {
    return join(this.jobsDir, `${n.name}.yaml`);
  }

  enable(...nodes: JobNode[]): void {
    for (const n of nodes) copyFileSync(n.spare, this.jobFile(n));
  }

  log(): string {
    return readTextFile(this.logFile);
  }

  diag = (): string => `londisted log:\n${tail(this.log(), 30)}${this.daemon === undefined ? '' : `\nlondisted output:\n${tail(this.daemon.output(), 10)}`}`;

  /** Start londisted and wait until its signal handlers are in place (its "starting" line). */
  /** Every node built and enabled, londisted started, every leaf in sync. */
  async startAll(): Promise<void> {
    await this.build();
    this.enable(this.root, ...this.leaves);
    await this.startDaemon();
    await this.synced(this.leaves);
  }

  async startDaemon(): Promise<Daemon> {
    const before = countMatches(this.log(), /londisted \S+ starting/);
    const d = spawnDaemon(londistedBin(), ['--config', this.configFile]);
    this.daemon = d;
    await waitFor('londisted to start', 30_000, async () => {
      if (!d.running()) throw new Error(`londisted exited at start:\n${d.output()}\n${tail(this.log())}`);
      return countMatches(this.log(), /londisted \S+ starting/) > before ? true : undefined;
    }, this.diag);
    return d;
  }

  /** SIGHUP, then wait until the supervisor has taken it (its reload line). */
  async sighup(): Promise<void> {
    const d = this.daemon;
    assert.ok(d?.running() === true, 'londisted is running');
    const before = countMatches(this.log(), /SIGHUP: reloading/);
    d.proc.kill('SIGHUP');
    await waitFor('the SIGHUP to be taken', 20_000, async () => (countMatches(this.log(), /SIGHUP: reloading/) > before ? true : undefined), this.diag);
  }

  /** The pid of the job's backend on its own database (there is exactly one while it runs). */
  async workerPid(n: JobNode, other?: number): Promise<number> {
    return waitFor(`one worker backend of ${n.name}${other === undefined ? '' : ` other than ${other}`}`, 60_000, async () => {
      const b = await backends(this.cluster, n.db, `londiste ${n.name}`);
      return b.length === 1 && b[0] !== undefined && b[0].pid !== other ? b[0].pid : undefined;
    }, this.diag);
  }

  /** Every connection of the job (worker, provider, lock) is gone. */
  async jobGone(n: JobNode): Promise<void> {
    await waitFor(`no backend of ${n.name}`, 30_000, async () => {
      for (const [db, app] of [[n.db, `londiste ${n.name}`], [n.db, `londiste ${n.name} lock`], [this.root.db, `londiste ${n.name}`]] as const) {
        if ((await backends(this.cluster, db, app)).length > 0) return undefined;
      }
      return true;
    }, this.diag);
  }

  async lastTick(n: JobNode): Promise<string | null> {
    const r = await this.cluster.query<{ t: string | null }>(n.db, 'SELECT last_tick_id::text AS t FROM pgq_node.local_state WHERE queue_name = $1 AND consumer_name = $2', [QUEUE, n.name]);
    return r[0]?.t ?? null;
  }

  /** One round of changes on the root: inserts, updates, deletes, a key inserted and later updated. */
  async load(): Promise<void> {
    const r = ++this.round;
    await this.cluster.withClient(this.root.db, async (c) => {
      await c.query(`INSERT INTO note (acct, body) SELECT ($1::int * 7 + g) % 300 + 1, 'round ' || $1 || ' note ' || g FROM generate_series(1, 40) g`, [r]);
      await c.query(`UPDATE acct SET balance = balance + $1, touched = now() WHERE id % 10 = $1 % 10`, [r]);
      await c.query(`DELETE FROM note WHERE id IN (SELECT id FROM note ORDER BY id LIMIT 5)`);
      await c.query(`INSERT INTO acct (id, owner) VALUES (1000 + $1, 'new ' || $1)`, [r]);
      await c.query(`UPDATE acct SET owner = owner || ' (renamed)' WHERE id = 1000 + $1`, [r]);
    });
  }

  /** Every table of each node ok, and the node has applied everything the root has now. */
  async synced(nodes: readonly JobNode[], timeoutMs = 90_000): Promise<void> {
    for (const n of nodes) {
      await waitFor(`${n.name}: both tables ok`, timeoutMs, async () => {
        const r = await this.cluster.query<{ n: number }>(n.db, `SELECT count(*)::int AS n FROM londiste.get_table_list($1) WHERE local AND merge_state = 'ok'`, [QUEUE]);
        return r[0]?.n === TABLES.length ? true : undefined;
      }, this.diag);
      await waitCaughtUp(this.cluster, this.root.db, this.cluster, n.db, QUEUE, n.name, timeoutMs, this.diag);
    }
  }

  /** Row counts and checksums of every table equal the root's. */
  async assertEqual(nodes: readonly JobNode[]): Promise<void> {
    for (const t of TABLES) {
      const want = await tableDigest(this.cluster, this.root.db, `SELECT * FROM ${t}`);
      assert.ok(want.rows > 0, `root ${t} has rows`);
      for (const n of nodes) {
        assert.deepEqual(await tableDigest(this.cluster, n.db, `SELECT * FROM ${t}`), want, `${n.name}.${t} differs from the root`);
      }
    }
  }

  async close(): Promise<void> {
    if (this.daemon?.running() === true) {
      this.daemon.proc.kill('SIGKILL');
      await this.daemon.exited;
    }
    await this.ticker?.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

describe(`londisted lifecycle, PostgreSQL ${major}`, () => {
  let cluster: PgCluster;

  before(async () => {
    cluster = await startCluster(major);
  });
  after(async () => {
    await cluster.stop();
  });

  it('refuses to start without its jobs_dir: exit 1, one ERROR line naming the directory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'skytools-londisted-nodir-'));
    try {
      const conf = join(dir, 'londisted.yaml');
      writeFileSync(conf, `jobs_dir: ${JSON.stringify(join(dir, 'no-such-dir'))}\n`);
      const d = spawnDaemon(londistedBin(), ['--config', conf]);
      const e = await d.exited;
      assert.equal(e.code, 1, d.output());
      const errors = d.output().split('\n').filter((l) => /ERROR/.test(l));
      assert.equal(errors.length, 1, d.output());
      assert.match(errors[0] ?? '', /jobs_dir \S+no-such-dir does not exist: create it/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  describe('idle jobs on one root', () => {
    let c: Cascade;
    before(async () => {
      c = new Cascade(cluster, 'i', ['l1', 'l2', 'l3']);
      for (const l of c.leaves) {
        l.body += 'provider_idle_release: 1s\n';
        writeFileSync(l.spare, l.body);
      }
      await c.startAll();
    });
    after(async () => {
      await c.close();
    });

    /** The leaves' connections on the root, and londisted's tick listeners there. */
    const onRoot = async (): Promise<{ jobs: number; listeners: number }> => {
      let jobs = 0;
      for (const l of c.leaves) jobs += (await backends(cluster, c.root.db, `londiste ${l.name}`)).length;
      return { jobs, listeners: (await backends(cluster, c.root.db, 'londisted tick listener')).length };
    };

    it('hold no connection on their root once idle; the one tick listener wakes them for new events', async () => {
      for (let round = 0; round < 2; round++) {
        let seen = { jobs: -1, listeners: -1 };
        await waitFor('the idle leaves to give their root connections back', 60_000, async () => {
          seen = await onRoot();
          return seen.jobs === 0 && seen.listeners === 1 ? true : undefined;
        }, () => `on the root: ${JSON.stringify(seen)}\n${c.diag()}`);
        await c.load();
        await c.synced(c.leaves);
        await c.assertEqual(c.leaves);
      }
    });
  });

  describe('SIGHUP on a jobs directory', () => {
    let c: Cascade;
    const l5File = (): string => join(c.jobsDir, 'leaf-five.yaml');
    const l5Good = (): string => `job_name: ${c.leaf('l5').name}\n${c.leaf('l5').body}`;
    before(async () => {
      c = new Cascade(cluster, 'h', ['l1', 'l2', 'l3', 'l4', 'l5']);
      await c.build();
      c.enable(c.root, c.leaf('l1'), c.leaf('l2'), c.leaf('l3'));
      // l5's job is named in its file, and the file otherwise
      writeFileSync(l5File(), l5Good());
      await c.startDaemon();
      await c.synced([c.leaf('l1'), c.leaf('l2'), c.leaf('l3'), c.leaf('l5')]);
    });
    after(async () => {
      await c.close();
    });

    it('restarts a changed job, leaves an unchanged one alone, keeps a broken one on its old file, starts a new one', async () => {
      const [l1, l2, l3, l4] = [c.leaf('l1'), c.leaf('l2'), c.leaf('l3'), c.leaf('l4')];
      const [p1, p2, p3] = [await c.workerPid(l1), await c.workerPid(l2), await c.workerPid(l3)];
      const from = c.log().length;

      writeFileSync(c.jobFile(l1), l1.body.replace('loop_delay: 200ms', 'loop_delay: 300ms'));
      writeFileSync(c.jobFile(l3), 'db: [this is not yaml\nqueue_name: q\n');
      rmSync(c.jobFile(l4), { force: true });
      c.enable(l4);
      await c.sighup();

      await waitFor('the changed job to restart', 30_000, async () => (/job h_l1 changed: restarting/.test(c.log().slice(from)) ? true : undefined), c.diag);
      const p1b = await c.workerPid(l1, p1);
      assert.notEqual(p1b, p1, 'the changed job has a new worker backend');
      assert.match(c.log().slice(from), /h_l3\.yaml: [\s\S]*?job skipped/, 'the broken file is reported');
      await c.synced([l4]);

      await c.load();
      await c.synced([l1, l2, l3, l4]);
      await c.assertEqual([l1, l2, l3, l4]);
      assert.equal(await c.workerPid(l2), p2, 'the unchanged job kept its worker backend');
      assert.equal(await c.workerPid(l3), p3, 'the job with a broken file kept its worker backend (and replicated)');
      const log = c.log().slice(from);
      assert.doesNotMatch(log, /job h_l2 (changed|removed)/);
      assert.doesNotMatch(log, /job h_l3 (changed|removed)/);
      assert.equal(c.daemon?.running(), true);
    });

    it('refuses a job file with an unknown key, naming key and file, and the job runs on; restoring the file changes nothing', async () => {
      const l3 = c.leaf('l3');
      // from a known start: the job runs on its original file
      writeFileSync(c.jobFile(l3), l3.body);
      await c.sighup();
      const p3 = await c.workerPid(l3);
      const from = c.log().length;

      writeFileSync(c.jobFile(l3), `${l3.body}bogus_key: 1\n`);
      await c.sighup();
      await waitFor('the unknown key reported', 20_000, async () => (/bogus_key/.test(c.log().slice(from)) ? true : undefined), c.diag);
      const report = c.log().slice(from).split('\n').filter((l) => l.includes('bogus_key')).join('\n');
      assert.match(report, /h_l3\.yaml/, `the error names the file: ${report}`);

      await c.load();
      await c.synced([l3]);
      await c.assertEqual([l3]);
      assert.equal(await c.workerPid(l3), p3, 'same worker backend while the file is bad');

      writeFileSync(c.jobFile(l3), l3.body);
      await c.sighup();
      // the point is that nothing happens: give a restart the time it would need to show
      await sleep(1500);
      assert.equal(await c.workerPid(l3), p3, 'restoring the file it runs on does not restart the job');
      assert.doesNotMatch(c.log().slice(from), /job h_l3 (changed|removed|started)/);
    });

    it('a jobs_dir that disappears at a reload keeps every job running, with the reason logged', async () => {
      const l3 = c.leaf('l3');
      const p3 = await c.workerPid(l3);
      const from = c.log().length;
      const moved = `${c.jobsDir}.away`;
      renameSync(c.jobsDir, moved);
      try {
        await c.sighup();
        await waitFor('the missing jobs_dir reported', 20_000, async () => (/jobs_dir \S+ does not exist: .*; the running jobs are kept/.test(c.log().slice(from)) ? true : undefined), c.diag);
        await c.load();
        await c.synced([l3]);
        await c.assertEqual([l3]);
        assert.equal(await c.workerPid(l3), p3, 'the job was not stopped');
      } finally {
        renameSync(moved, c.jobsDir);
      }
      assert.doesNotMatch(c.log().slice(from), /job \S+ removed/);
    });

    it('keeps a job on its old file when that file, named otherwise than the job, turns broken', async () => {
      const l5 = c.leaf('l5');
      if (readTextFile(l5File()) !== l5Good()) {
        writeFileSync(l5File(), l5Good());
        await c.sighup();
      }
      const p5 = await c.workerPid(l5);
      const from = c.log().length;

      writeFileSync(l5File(), `${l5Good()}bogus_key: 1\n`);
      await c.sighup();
      await waitFor('the bad file reported', 20_000, async () => (/leaf-five\.yaml: [\s\S]*?job skipped/.test(c.log().slice(from)) ? true : undefined), c.diag);
      // the point is that nothing happens: a stop would be logged right after the report
      await sleep(1000);
      assert.doesNotMatch(c.log().slice(from), /job h_l5 (removed|changed)/, 'the job with a broken file must keep running on its old file');

      await c.load();
      await c.synced([l5]);
      await c.assertEqual([l5]);
      assert.equal(await c.workerPid(l5), p5, 'same worker backend while the file is bad');
    });

    it('stops a job whose file is removed: its connections go and it falls behind while the others replicate', async () => {
      const l4 = c.leaf('l4');
      const others = [c.leaf('l1'), c.leaf('l2'), c.leaf('l3')];
      if (!existsSync(c.jobFile(l4))) {
        c.enable(l4);
        await c.sighup();
      }
      await c.workerPid(l4);
      await c.synced([l4]);
      const from = c.log().length;

      rmSync(c.jobFile(l4));
      await c.sighup();
      await waitFor('the removed job to stop', 30_000, async () => (/job h_l4 removed: stopping/.test(c.log().slice(from)) ? true : undefined), c.diag);
      await c.jobGone(l4);
      const tick = await c.lastTick(l4);
      const notes = await tableDigest(cluster, l4.db, 'SELECT * FROM note');

      await c.load();
      await c.synced(others);
      await c.assertEqual(others);
      assert.equal(await c.lastTick(l4), tick, 'the stopped job applied nothing more');
      assert.deepEqual(await tableDigest(cluster, l4.db, 'SELECT * FROM note'), notes, 'the stopped job changed nothing');
      assert.notDeepEqual(notes, await tableDigest(cluster, c.root.db, 'SELECT * FROM note'), 'the root moved on');
      assert.equal((await backends(cluster, l4.db, `londiste ${l4.name}`)).length, 0);
      assert.equal(c.daemon?.running(), true);
    });
  });

  describe('a failing job', () => {
    let c: Cascade;
    before(async () => {
      c = new Cascade(cluster, 'f', ['f1', 'f2', 'f3', 'f4']);
      await c.startAll();
    });
    after(async () => {
      await c.close();
    });

    const nodeBlock = (status: string, node: string): string => {
      const lines = status.split('\n');
      const start = lines.findIndex((l) => l.includes(`${node} (`));
      if (start < 0) return '';
      const end = lines.findIndex((l, i) => i > start && /\w+ \((root|branch|leaf)\)$/.test(l));
      return lines.slice(start, end < 0 ? undefined : end).join('\n');
    };

    const curError = async (n: JobNode): Promise<string | null | undefined> => {
      const r = await cluster.query<{ e: string | null }>(n.db, `SELECT cur_error AS e FROM pgq_node.get_consumer_info($1) WHERE consumer_name = $2`, [QUEUE, n.name]);
      return r[0] === undefined ? undefined : r[0].e;
    };

    it('shows ERR in status for failing jobs, retries them, and the other jobs keep replicating', async () => {
      const [f1, f2, f3, f4] = [c.leaf('f1'), c.leaf('f2'), c.leaf('f3'), c.leaf('f4')];
      const [p2, p4] = [await c.workerPid(f2), await c.workerPid(f4)];
      // f1: the apply fails from the next new note on, on a constraint only the target has
      const maxId = (await cluster.query<{ m: string }>(f1.db, 'SELECT max(id)::text AS m FROM note'))[0]?.m ?? '0';
      await cluster.query(f1.db, `ALTER TABLE note ADD CONSTRAINT note_frozen CHECK (id <= ${maxId}) NOT VALID`);
      // f3: a column the events carry is missing on the target
      await cluster.query(f3.db, 'ALTER TABLE note DROP COLUMN body');
      const from = c.log().length;

      await c.load();
      for (const [n, re] of [[f1, /note_frozen/], [f3, /body/]] as const) {
        const err = await waitFor(`the error recorded on ${n.name}`, 60_000, async () => (await curError(n)) ?? undefined, c.diag);
        assert.match(err, re);
      }

      const st = ok(await runLondiste([c.root.spare, 'status']), 'status').stdout;
      assert.match(nodeBlock(st, f1.name), /ERR: f_f1: .*note_frozen/, `status:\n${st}`);
      assert.match(nodeBlock(st, f3.name), /ERR: f_f3: .*body/, `status:\n${st}`);
      for (const n of [c.root.name, f2.name, f4.name]) {
        assert.notEqual(nodeBlock(st, n), '', `${n} in status:\n${st}`);
        assert.doesNotMatch(nodeBlock(st, n), /ERR:/, `status:\n${st}`);
      }

      await c.load();
      await c.synced([f2, f4]);
      await c.assertEqual([f2, f4]);
      assert.deepEqual([await c.workerPid(f2), await c.workerPid(f4)], [p2, p4], 'the other jobs were never restarted');
      await waitFor('the failing jobs retried', 30_000, async () => {
        const log = c.log().slice(from);
        return countMatches(log, /Job f_f1 got error/) >= 2 && countMatches(log, /Job f_f3 got error/) >= 2 ? true : undefined;
      }, c.diag);
      const rootNotes = await tableDigest(cluster, c.root.db, 'SELECT * FROM note');
      for (const n of [f1, f3]) {
        const notes = await tableDigest(cluster, n.db, 'SELECT * FROM note');
        assert.ok(notes.rows < rootNotes.rows, `${n.name} is behind (${notes.rows} notes, root ${rootNotes.rows})`);
      }
      assert.equal(c.daemon?.running(), true, 'londisted runs on');

      // once the causes are gone the retries apply everything (f3 after a resync of the
      // table whose column was lost) and the errors are cleared
      await cluster.query(f1.db, 'ALTER TABLE note DROP CONSTRAINT note_frozen');
      await cluster.query(f3.db, 'ALTER TABLE note ADD COLUMN body text');
      ok(await runLondiste([f3.spare, 'resync', 'note']), 'resync on f3');
      await c.synced([f1, f3], 150_000);
      await c.assertEqual([f1, f2, f3, f4]);
      for (const n of [f1, f3]) {
        await waitFor(`the error of ${n.name} cleared`, 30_000, async () => ((await curError(n)) === null ? true : undefined), c.diag);
      }
      assert.doesNotMatch(ok(await runLondiste([c.root.spare, 'status']), 'status').stdout, /ERR:/);
    });
  });

  describe('pidfile control and shutdown', () => {
    let c: Cascade;
    let s1: JobNode;
    let s2: JobNode;
    const locker: { client?: pg.Client } = {};
    before(async () => {
      c = new Cascade(cluster, 's', ['s1', 's2']);
      await c.build();
      [s1, s2] = [c.leaf('s1'), c.leaf('s2')];
      c.enable(c.root, s1, s2);
    });
    after(async () => {
      await locker.client?.end().catch(() => undefined);
      await c.close();
    });

    const allJobsGone = async (): Promise<void> => {
      for (const n of [c.root, s1, s2]) await c.jobGone(n);
    };

    /** Hold a lock on s1's acct that the apply needs, change acct on the root, and wait until s1's worker waits for it. */
    const batchHeldByLock = async (marker: string): Promise<pg.Client> => {
      const lc = new pg.Client(cluster.clientConfig(s1.db));
      await lc.connect();
      locker.client = lc;
      await lc.query('BEGIN');
      await lc.query('LOCK TABLE acct IN SHARE MODE');
      await cluster.query(c.root.db, `UPDATE acct SET owner = $1 || id WHERE id <= 20`, [marker]);
      await waitFor(`s1's worker waiting for the lock`, 60_000, async () => {
        const b = await backends(cluster, s1.db, `londiste ${s1.name}`);
        return b.some((x) => x.waitEventType === 'Lock') ? true : undefined;
      }, c.diag);
      return lc;
    };

    /** Each test starts from the same place: no supervisor running, no lock held, all three job files in place. */
    const fresh = async (): Promise<Daemon> => {
      if (c.daemon?.running() === true) await c.daemon.stop();
      await releaseLock();
      c.enable(c.root, s1, s2);
      return c.startDaemon();
    };

    const releaseLock = async (): Promise<void> => {
      const lc = locker.client;
      delete locker.client;
      if (lc === undefined) return;
      await lc.query('ROLLBACK');
      await lc.end();
    };

    it('--reload and --stop reach the running supervisor through its pidfile', async () => {
      const d = await fresh();
      await waitFor('the pidfile', 10_000, async () => (existsSync(c.pidFile) ? true : undefined));
      assert.equal(readFileSync(c.pidFile, 'utf8').trim(), String(d.pid));
      await c.synced([s1, s2]);

      rmSync(c.jobFile(s2));
      const from = c.log().length;
      const r1 = await runScript(londistedBin(), ['--config', c.configFile, '--reload']);
      assert.equal(r1.code, 0, `--reload: ${r1.stderr}`);
      await waitFor('s2 stopped by the reload', 30_000, async () => (/job s_s2 removed: stopping/.test(c.log().slice(from)) ? true : undefined), c.diag);
      await c.jobGone(s2);

      c.enable(s2);
      const r2 = await runScript(londistedBin(), ['--config', c.configFile, '--reload']);
      assert.equal(r2.code, 0, `--reload: ${r2.stderr}`);
      await c.workerPid(s2);
      await c.load();
      await c.synced([s1, s2]);
      await c.assertEqual([s1, s2]);

      const r3 = await runScript(londistedBin(), ['--config', c.configFile, '--stop']);
      assert.equal(r3.code, 0, `--stop: ${r3.stderr}`);
      assert.deepEqual(await d.exited, { code: 0, signal: null });
      assert.equal(existsSync(c.pidFile), false, 'the pidfile is removed');
      await allJobsGone();

      const r4 = await runScript(londistedBin(), ['--config', c.configFile, '--reload']);
      assert.equal(r4.code, 1, 'nothing to reload');
      assert.match(r4.stderr, /^ERROR .*pidfile.*does not exist/m);
    });

    it('SIGTERM lets the batch in flight commit, then exits 0 with every job stopped and the pidfile gone', async () => {
      const d = await fresh();
      await c.synced([s1, s2]);
      await batchHeldByLock('term ');
      const tick = await c.lastTick(s1);
      const from = c.log().length;

      d.proc.kill('SIGTERM');
      await waitFor('the shutdown to begin', 20_000, async () => (/SIGTERM: stopping/.test(c.log().slice(from)) ? true : undefined), c.diag);
      // the idle jobs stop at once; s1's batch waits for the lock, and so does the exit
      await c.jobGone(c.root);
      await c.jobGone(s2);
      await sleep(1000);
      assert.equal(d.running(), true, 'londisted waits for the batch in flight');
      assert.ok((await backends(cluster, s1.db, `londiste ${s1.name}`)).some((x) => x.waitEventType === 'Lock'), 's1 still waits for the lock');

      await releaseLock();
      assert.deepEqual(await d.exited, { code: 0, signal: null }, c.diag());
      assert.equal(existsSync(c.pidFile), false, 'the pidfile is removed');
      await allJobsGone();
      // the batch that was in flight was committed, not dropped
      assert.notEqual(await c.lastTick(s1), tick);
      assert.equal((await cluster.query<{ n: number }>(s1.db, `SELECT count(*)::int AS n FROM acct WHERE owner LIKE 'term %'`))[0]?.n, 20);
      await c.assertEqual([s1]);
      for (const n of [c.root, s1, s2]) assert.match(c.log().slice(from), new RegExp(`Job ${n.name} stopped after`));
      assert.match(c.log().slice(from), /londisted stopped/);
    });

    it('a second SIGTERM during a slow shutdown exits at once with a non-zero code; the interrupted batch is not half-applied', async () => {
      const d = await fresh();
      await c.synced([s1, s2]);
      const before = await tableDigest(cluster, s1.db, 'SELECT * FROM acct');
      await batchHeldByLock('twice ');
      // read once the batch waits for the lock: an idle tick may have been applied since synced()
      const tick = await c.lastTick(s1);
      const from = c.log().length;

      d.proc.kill('SIGTERM');
      await waitFor('the shutdown to begin', 20_000, async () => (/SIGTERM: stopping/.test(c.log().slice(from)) ? true : undefined), c.diag);
      await sleep(1000);
      assert.equal(d.running(), true, 'the first SIGTERM waits for the batch in flight');
      d.proc.kill('SIGTERM');
      // at once: long before the batch could finish (it waits for a lock nobody releases) or shutdown_timeout (10 min)
      const exit = await within(d.exited, 30_000);
      assert.ok(exit !== undefined, `londisted did not exit on the second SIGTERM\n${c.diag()}`);
      assert.ok(exit.code !== 0 && exit.code !== null, `exit code ${String(exit.code)} (signal ${String(exit.signal)})`);
      assert.match(c.log().slice(from), /SIGTERM again: exiting at once/);

      // the abandoned transaction never commits: once the lock is free its backend goes, having changed nothing
      await releaseLock();
      await c.jobGone(s1);
      assert.equal(await c.lastTick(s1), tick, 'no tick recorded for the interrupted batch');
      assert.deepEqual(await tableDigest(cluster, s1.db, 'SELECT * FROM acct'), before, 's1 unchanged');

      // and a new supervisor picks the batch up again: nothing lost
      const d2 = await c.startDaemon();
      await c.synced([s1, s2]);
      await c.assertEqual([s1, s2]);
      assert.equal((await cluster.query<{ n: number }>(s1.db, `SELECT count(*)::int AS n FROM acct WHERE owner LIKE 'twice %'`))[0]?.n, 20);
      assert.deepEqual(await d2.stop(), { code: 0, signal: null });
    });
  });
});
