// Switchover and failover on a five-node cascade across three major versions, under a write load:
//
//   A (root) ─┬─ B (branch) ── D (leaf)
//             └─ C (branch) ── E (leaf)
//
// Every write of the load is one transaction inserting a ledger row with a fresh id (and bumping a
// counter row), so after each operation every node must hold exactly the ids whose commit the load
// saw (nothing lost, nothing applied twice: a second apply would be a key violation) and equal
// checksums of both tables.
//
// A CascadedConsumer (@skytools/pgq) keeps its position on leaf D and records every ledger row
// the queue carries in D's ledger_seen: after each operation it must hold exactly D's ledger
// (a row twice is a key violation), and it follows D to each new provider by itself.
//
// The `it`s are ONE SCENARIO IN ORDER (each operation starts from the cascade the one before left);
// ScenarioSteps stops the later ones at once when an earlier one failed.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { repoRoot, startCluster, testVersions, type PgCluster } from '@skytools/harness';
import { jobDir, londisteBin, ok, refused, runLondiste, type RunResult } from '../cli/run-londiste.js';
import { spawnDaemon, type Daemon } from '../replication/daemon-env.js';
import { startTicker, startWorker, tableDigest, waitCaughtUp, waitFor, type RunningWorker } from '../replication/replication-env.js';
import { ScenarioSteps } from '../support/scenario-steps.js';

const QUEUE = 'tq';
const versions = testVersions();
const v = (i: number): number => versions[Math.min(i, versions.length - 1)] ?? 15;
const NAMES = ['node_a', 'node_b', 'node_c', 'node_d', 'node_e'] as const;
type Name = (typeof NAMES)[number];

interface Place {
  cluster: PgCluster;
  db: string;
}

/** The application: one transaction after another on whichever node is the root now. */
class Load {
  target: Name = 'node_a';
  readonly committed = new Set<number>();
  /** Ids whose COMMIT was sent but not acknowledged (the server died): may or may not exist. */
  readonly uncertain = new Set<number>();
  refusals = 0;
  private next = 1;
  private running = false;

  /** The id the next write gets: every id below it was written before. */
  get nextId(): number {
    return this.next;
  }
  private loop: Promise<void> | undefined;

  constructor(private readonly place: (n: Name) => Place) {}

  start(): void {
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  /** Wait until `n` more transactions have committed. */
  async more(n: number): Promise<void> {
    const want = this.committed.size + n;
    await waitFor(`${String(n)} more committed writes`, 60_000, async () => (this.committed.size >= want ? true : undefined));
  }

  private async run(): Promise<void> {
    let client: pg.Client | undefined;
    let on: Name | undefined;
    while (this.running) {
      if (client === undefined || on !== this.target) {
        await client?.end().catch(() => undefined);
        on = this.target;
        const p = this.place(on);
        client = new pg.Client(p.cluster.clientConfig(p.db));
        client.on('error', () => undefined);
        try {
          await client.connect();
        } catch {
          client = undefined;
          await new Promise((r) => setTimeout(r, 100));
          continue;
        }
      }
      const id = this.next;
      let sentCommit = false;
      try {
        await client.query('BEGIN');
        await client.query('INSERT INTO public.ledger (id, at) VALUES ($1, $2)', [id, on]);
        await client.query('UPDATE public.acct SET n = n + 1, last_id = $1 WHERE id = $1 % 20', [id]);
        sentCommit = true;
        await client.query('COMMIT');
        this.committed.add(id);
        this.next += 1;
      } catch {
        this.refusals += 1;
        if (sentCommit) {
          this.uncertain.add(id);
          this.next += 1;
        }
        await client.query('ROLLBACK').catch(() => undefined);
        await client.end().catch(() => undefined);
        client = undefined;
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    await client?.end().catch(() => undefined);
  }
}

describe(`takeover on a five-node cascade: A on PostgreSQL ${v(0)}, B and D on ${v(1)}, C and E on ${v(2)}`, () => {
  const clusters: PgCluster[] = [];
  const place = {} as Record<Name, Place>;
  const job = {} as Record<Name, string>;
  const workers = new Map<Name, RunningWorker>();
  const tickers: { stop: () => Promise<void> }[] = [];
  const jobs = jobDir();
  const steps = new ScenarioSteps();
  const load = new Load((n) => place[n]);
  /** Writes A committed that the failover lost (set by the failover step). */
  const lostOnB: number[] = [];
  let seen: Daemon | undefined;
  const diag = (): string =>
    [...[...workers].map(([n, w]) => `${n}:\n${w.output().split('\n').slice(-10).join('\n')}`), `cascaded consumer:\n${seen?.output().split('\n').slice(-10).join('\n') ?? ''}`].join('\n----\n');
  const cli = (n: Name, ...args: string[]): Promise<RunResult> => runLondiste([job[n], ...args]);
  const q = async <R extends pg.QueryResultRow>(n: Name, sql: string, params: unknown[] = []): Promise<R[]> => place[n].cluster.query<R>(place[n].db, sql, params);

  const nodeInfo = async (n: Name): Promise<{ type: string; provider: string | null }> => {
    const r = await q<{ t: string; p: string | null }>(n, 'SELECT node_type AS t, provider_node AS p FROM pgq_node.get_node_info($1)', [QUEUE]);
    return { type: r[0]?.t ?? '?', provider: r[0]?.p ?? null };
  };

  /** The cascaded consumer on D has seen exactly D's ledger rows, each once, and reads from `provider`. */
  const consumerSawLedger = async (provider: Name): Promise<void> => {
    const ids = async (sql: string): Promise<string> => (await q<{ ids: string | null }>('node_d', sql))[0]?.ids ?? '';
    const want = await ids('SELECT string_agg(id::text, \',\' ORDER BY id) AS ids FROM public.ledger');
    await waitFor('the cascaded consumer sees D\'s ledger', 60_000, async () => ((await ids('SELECT string_agg(id::text, \',\' ORDER BY id) AS ids FROM public.ledger_seen')) === want ? true : undefined), diag);
    const st = await q<{ p: string }>('node_d', `SELECT provider_node AS p FROM pgq_node.get_consumer_state($1, 'seen')`, [QUEUE]);
    assert.equal(st[0]?.p, provider, 'the cascaded consumer reads from D\'s provider');
    for (const n of NAMES.filter((x) => x !== provider && x !== 'node_d')) {
      // (a node whose server is down answers nothing: nothing to check there)
      const left = await q<{ n: number }>(n, `SELECT count(*)::int AS n FROM pgq.get_consumer_info($1) WHERE consumer_name = 'seen'`, [QUEUE]).catch((err: unknown) => {
        if (/ECONNREFUSED|cannot connect|connect/i.test(String(err))) return [{ n: 0 }];
        throw err;
      });
      assert.equal(left[0]?.n, 0, `the cascaded consumer is not registered on ${n}`);
    }
  };

  /** Every listed node has applied everything of `root`, and holds exactly the committed ledger. */
  const converged = async (root: Name, nodes: readonly Name[]): Promise<void> => {
    for (const n of nodes) {
      if (n === root) continue;
      await waitCaughtUp(place[root].cluster, place[root].db, place[n].cluster, place[n].db, QUEUE, n, 120_000, diag);
    }
    const want = { ledger: await tableDigest(place[root].cluster, place[root].db, 'SELECT * FROM public.ledger'), acct: await tableDigest(place[root].cluster, place[root].db, 'SELECT * FROM public.acct') };
    const ids = (await q<{ id: number }>(root, 'SELECT id FROM public.ledger ORDER BY id')).map((r) => r.id);
    const missing = [...load.committed].filter((id) => !ids.includes(id));
    assert.deepEqual(missing, [], `committed writes missing on the root ${root}`);
    const strange = ids.filter((id) => !load.committed.has(id) && !load.uncertain.has(id));
    assert.deepEqual(strange, [], `rows on ${root} that no committed write made`);
    for (const n of nodes) {
      assert.deepEqual(await tableDigest(place[n].cluster, place[n].db, 'SELECT * FROM public.ledger'), want.ledger, `${n}: ledger equals ${root}'s`);
      assert.deepEqual(await tableDigest(place[n].cluster, place[n].db, 'SELECT * FROM public.acct'), want.acct, `${n}: acct equals ${root}'s`);
    }
  };

  before(async () => {
    const [c0, c1, c2] = await Promise.all([startCluster(v(0)), startCluster(v(1)), startCluster(v(2))]);
    clusters.push(c0, c1, c2);
    const at: Record<Name, PgCluster> = { node_a: c0, node_b: c1, node_d: c1, node_c: c2, node_e: c2 };
    for (const n of NAMES) {
      place[n] = { cluster: at[n], db: n };
      await at[n].createDatabase(n);
      await q(n, 'CREATE TABLE public.ledger (id int PRIMARY KEY, at text NOT NULL, written timestamptz NOT NULL DEFAULT now())');
      await q(n, 'CREATE TABLE public.acct (id int PRIMARY KEY, n int NOT NULL DEFAULT 0, last_id int)');
      if (n === 'node_a') await q(n, 'INSERT INTO public.acct (id) SELECT g FROM generate_series(0, 19) g');
      job[n] = jobs.write(n, { db: at[n].connectionString(n), queue_name: QUEUE, loop_delay: '200ms' });
    }
    const loc = (n: Name): string => place[n].cluster.connectionString(n);
    ok(await cli('node_a', 'create-root', 'node_a'), 'create-root');
    ok(await cli('node_b', 'create-branch', 'node_b', `--provider=${loc('node_a')}`), 'create-branch b');
    ok(await cli('node_c', 'create-branch', 'node_c', `--provider=${loc('node_a')}`), 'create-branch c');
    ok(await cli('node_d', 'create-leaf', 'node_d', `--provider=${loc('node_b')}`), 'create-leaf d');
    ok(await cli('node_e', 'create-leaf', 'node_e', `--provider=${loc('node_c')}`), 'create-leaf e');
    for (const n of NAMES) ok(await cli(n, 'add-table', 'ledger', 'acct'), `add-table on ${n}`);
    // pgqd's part on every node: a queue that is not the root's is skipped by pgq.ticker()
    for (const n of NAMES) tickers.push(startTicker(place[n].cluster, n, 100));
    for (const n of NAMES) workers.set(n, startWorker(job[n]));
    for (const n of NAMES) ok(await cli(n, 'wait-sync', '--wait-timeout=120'), `wait-sync on ${n}`);
    await q('node_d', 'CREATE TABLE public.ledger_seen (id int PRIMARY KEY, batch_id bigint NOT NULL)');
    seen = spawnDaemon(join(repoRoot(), 'tests', 'dist', 'cascade', 'cascaded-consumer-child.js'), [place.node_d.cluster.connectionString('node_d'), QUEUE, 'seen']);
    await waitFor('the cascaded consumer registered', 30_000, async () => (seen?.output().includes('consuming') === true ? true : undefined), diag);
  });
  after(async () => {
    await load.stop();
    await seen?.stop(5000);
    for (const w of workers.values()) await w.stop();
    for (const t of tickers) await t.stop();
    jobs.remove();
    await Promise.all(clusters.map((c) => c.stop()));
  });

  it('refuses takeovers that cannot work, changing nothing', steps.step('refusals', [], async () => {
    const before = await Promise.all(NAMES.map(nodeInfo));
    refused(await cli('node_b', 'takeover', 'node_x'), 'unknown node', /unknown node node_x/);
    refused(await cli('node_d', 'takeover', 'node_a'), 'a leaf', /node_d is a leaf; only a branch can become the root/);
    refused(await cli('node_b', 'takeover', 'node_a', '--dead-root'), 'a live root', /node_a answers at its location/);
    refused(await cli('node_b', 'takeover', 'node_b'), 'itself', /node_b is this node/);
    // B behind: its worker paused while A ticks a change
    ok(await cli('node_b', 'pause'), 'pause node_b');
    await q('node_a', 'UPDATE public.acct SET n = n WHERE id = 0');
    await q('node_a', 'SELECT pgq.force_tick($1)', [QUEUE]);
    await q('node_a', 'SELECT pgq.ticker($1)', [QUEUE]);
    await new Promise((r) => setTimeout(r, 1200));
    refused(await cli('node_b', 'takeover', 'node_a', '--max-lag=1'), 'too far behind', /node_b is [\d.]+s behind node_a \(limit --max-lag=1s\): let it catch up/);
    ok(await cli('node_b', 'resume'), 'resume node_b');
    refused(await cli('node_d', 'change-provider', '--provider=node_e'), 'a leaf as provider', /node_e cannot be a provider: it is leaf/);
    refused(await cli('node_b', 'change-provider', '--provider=node_d'), 'a loop', /node_d cannot be a provider|loop/);
    assert.deepEqual(await Promise.all(NAMES.map(nodeInfo)), before, 'nothing changed');
    assert.equal((await q<{ p: boolean }>('node_b', 'SELECT worker_paused AS p FROM pgq_node.get_node_info($1)', [QUEUE]))[0]?.p, false);
    assert.equal((await q<{ off: boolean }>('node_a', 'SELECT queue_disable_insert AS off FROM pgq.queue WHERE queue_name = $1', [QUEUE]))[0]?.off, false, 'writes still accepted on the root');
  }));

  it('switches the root from A to B under load: the load moves to B, nothing lost or doubled, C moves under B', steps.step('switchover', [], async () => {
    load.start();
    await load.more(100);
    const r = ok(await cli('node_b', 'takeover', 'node_a'), 'takeover');
    load.target = 'node_b';
    await load.more(100);
    const log = r.stderr + r.stdout;
    for (let i = 1; i <= 9; i++) assert.match(log, new RegExp(`step ${String(i)}/9: `), `step ${String(i)} logged:\n${log}`);
    assert.match(log, /takeover done in [\d.]+s: node_b is the root; node_a is a branch under it; node_c moved to node_b; writes were refused for [\d.]+s/);
    assert.deepEqual(await nodeInfo('node_b'), { type: 'root', provider: 'node_b' });
    assert.deepEqual(await nodeInfo('node_a'), { type: 'branch', provider: 'node_b' });
    assert.deepEqual(await nodeInfo('node_c'), { type: 'branch', provider: 'node_b' });
    assert.deepEqual(await nodeInfo('node_d'), { type: 'leaf', provider: 'node_b' });
    assert.deepEqual(await nodeInfo('node_e'), { type: 'leaf', provider: 'node_c' });
    await assert.rejects(q('node_a', `INSERT INTO public.ledger (id, at) VALUES (-1, 'old root')`), /disallowed|not allowed/, 'the old root refuses captured writes');
    await load.stop();
    await converged('node_b', NAMES);
    const status = ok(await cli('node_d', 'status'), 'status').stdout;
    assert.match(status, /^node_b \(root\)$/m);
    await consumerSawLedger('node_b');
  }));

  it('moves leaf D from B to C during the load', steps.step('change-provider', ['switchover'], async () => {
    load.start();
    // a provider that stays behind the node is refused, after --wait-timeout
    ok(await cli('node_c', 'pause'), 'pause node_c');
    await load.more(30);
    await waitCaughtUp(place.node_b.cluster, place.node_b.db, place.node_d.cluster, place.node_d.db, QUEUE, 'node_d', 60_000, diag);
    refused(await cli('node_b', 'change-provider', '--node=node_d', '--provider=node_c', '--wait-timeout=1'), 'a provider behind', /node_c is behind node_d \(its last tick \d+, node_d at \d+ after waiting 1s\).*nothing was changed/);
    assert.deepEqual(await nodeInfo('node_d'), { type: 'leaf', provider: 'node_b' });
    ok(await cli('node_c', 'resume'), 'resume node_c');
    await load.more(20);
    // run from another node's job file: --node names the one that moves
    const r = ok(await cli('node_b', 'change-provider', '--node=node_d', '--provider=node_c'), 'change-provider --node');
    assert.match(r.stderr, /node_d reads from node_c \(was node_b\), from tick \d+/);
    await load.more(50);
    await load.stop();
    assert.deepEqual(await nodeInfo('node_d'), { type: 'leaf', provider: 'node_c' });
    assert.deepEqual((await q<{ n: string }>('node_b', 'SELECT node_name AS n FROM pgq_node.get_subscriber_info($1)', [QUEUE])).map((x) => x.n).sort(), ['node_a', 'node_c']);
    await converged('node_b', NAMES);
    // again: already done, a no-op
    ok(await cli('node_d', 'change-provider', '--provider=node_c'), 'change-provider again');
    // the cascaded consumer followed D from B to C
    await consumerSawLedger('node_c');
    assert.match(seen?.output() ?? '', /consumer seen follows node node_d from node_b to node_c, from tick \d+/);
  }));

  it('a takeover killed with SIGKILL in the middle is finished by running it again', steps.step('kill', ['change-provider'], async () => {
    load.start();
    await load.more(50);
    // A takes the root back from B; killed once after writes were refused, once after the promotion
    for (const at of ['step 4/9', 'step 7/9']) {
      const child = spawn(process.execPath, [londisteBin(), job.node_a, 'takeover', 'node_b'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      const seen = new Promise<void>((resolve) => {
        const on = (d: Buffer): void => {
          out += d.toString();
          if (out.includes(at)) {
            child.kill('SIGKILL');
            resolve();
          }
        };
        child.stdout.on('data', on);
        child.stderr.on('data', on);
        child.on('exit', () => resolve());
      });
      await seen;
      await new Promise((r) => child.once('close', r));
      assert.equal(child.signalCode, 'SIGKILL', `killed at ${at}:\n${out}`);
    }
    // interrupted after the promotion: two roots, the old one refusing writes
    assert.equal((await nodeInfo('node_a')).type, 'root');
    assert.equal((await nodeInfo('node_b')).type, 'root');
    assert.match(ok(await cli('node_a', 'status'), 'status').stdout, /WRITES REFUSED: demoted by a takeover that has not finished/, 'status shows the takeover in progress');
    load.target = 'node_a';
    const r = ok(await cli('node_a', 'takeover', 'node_b'), 'the same takeover again');
    assert.match(r.stderr, /steps 1-6\/9: done by an earlier run/);
    assert.match(r.stderr, /takeover done .*node_a is the root; node_b is a branch under it/);
    await load.more(50);
    await load.stop();
    assert.deepEqual(await nodeInfo('node_b'), { type: 'branch', provider: 'node_a' });
    await converged('node_a', NAMES);
    ok(await cli('node_a', 'takeover', 'node_b'), 'once more: nothing left to do');
    await converged('node_a', NAMES);
  }));

  it('fails over when the root\'s server is gone: B becomes the root, the others follow', steps.step('failover', ['kill'], async () => {
    load.start();
    await load.more(50);
    // the branches fall behind, so that A has captured writes no survivor has when its server crashes
    // (C later than B: the failover has B catch up from C before its promotion)
    ok(await cli('node_b', 'pause'), 'pause node_b');
    await load.more(30);
    ok(await cli('node_c', 'pause'), 'pause node_c');
    await load.more(50);
    // a fast shutdown: the test clusters run without fsync, so only a clean stop keeps every acknowledged commit
    await clusters[0]?.stopServer('fast');
    await load.stop();
    const r = ok(await cli('node_b', 'takeover', 'node_a', '--dead-root'), 'takeover --dead-root');
    assert.match(r.stderr, /node_c is ahead \(tick \d+\): node_b catches up from it first/);
    assert.match(r.stderr, /failover done in [\d.]+s: node_b is the root; node_a is tagged dead; node_c moved to node_b/);
    load.target = 'node_b';
    const firstAfter = load.nextId;
    load.start();
    await load.more(50);
    await load.stop();
    const alive = NAMES.filter((n) => n !== 'node_a');
    assert.deepEqual(await nodeInfo('node_b'), { type: 'root', provider: 'node_b' });
    assert.equal((await nodeInfo('node_c')).provider, 'node_b', 'node_c follows node_b');
    for (const n of ['node_d', 'node_e'] as const) assert.equal((await nodeInfo(n)).provider, 'node_c', `${n} stays under node_c`);
    // what A committed but never shipped is lost to the survivors: they agree on a prefix of the ids
    for (const n of alive.filter((x) => x !== 'node_b')) {
      await waitCaughtUp(place.node_b.cluster, place.node_b.db, place[n].cluster, place[n].db, QUEUE, n, 120_000, diag);
    }
    const want = await tableDigest(place.node_b.cluster, 'node_b', 'SELECT * FROM public.ledger');
    for (const n of alive) assert.deepEqual(await tableDigest(place[n].cluster, n, 'SELECT * FROM public.ledger'), want, `${n} equals node_b`);
    await consumerSawLedger('node_c');
    const ids = new Set((await q<{ id: number }>('node_b', 'SELECT id FROM public.ledger')).map((x) => x.id));
    const lost = [...load.committed].filter((id) => !ids.has(id));
    assert.ok(lost.length >= 50, `the writes after the branches were paused are lost (${String(lost.length)})`);
    lostOnB.push(...lost);
    // lost to the cascade (resurrect reports them): from here on they are not expected anywhere
    for (const id of lost) load.committed.delete(id);
    assert.ok(lost.every((id) => id < firstAfter), `only writes from before the failover are lost: ${lost.join(',')}`);
    const written = (await q<{ n: number }>('node_b', 'SELECT count(*)::int AS n FROM public.ledger WHERE id >= $1', [firstAfter]))[0]?.n ?? 0;
    assert.ok(written >= 50, `the writes on the new root are there (${String(written)})`);
    assert.ok([...ids].every((id) => load.committed.has(id) || load.uncertain.has(id)), 'no row that was not written');
    assert.match(ok(await cli('node_b', 'members'), 'members').stdout, /node_a\s+True/);
    const st = ok(await cli('node_b', 'status', '--compact'), 'status --compact').stdout;
    assert.match(st, /^node_b \(root\) +Tables: 2\/0\/0 +Lag: .*Gravestone: node_a\.gravestone at tick \d+/m, st);
    assert.match(st, /^node_a \(dead\)/m, st);
  }));

  it('resurrects A as a branch of B, dumping exactly the writes it captured that never reached B; a resync makes it equal', steps.step('resurrect', ['failover'], async () => {
    await clusters[0]?.startServer();
    const onA = new Set((await q<{ id: number }>('node_a', 'SELECT id FROM public.ledger')).map((x) => x.id));
    const onB = new Set((await q<{ id: number }>('node_b', 'SELECT id FROM public.ledger')).map((x) => x.id));
    const onlyOnA = [...onA].filter((id) => !onB.has(id)).sort((x, y) => x - y);
    assert.ok(lostOnB.every((id) => onlyOnA.includes(id)), 'every committed write the failover lost is on A');
    const dump = join(jobs.dir, 'lost.jsonl');
    const r = ok(await cli('node_a', 'resurrect', `--dump-file=${dump}`), 'resurrect');
    assert.match(r.stderr, new RegExp(`resurrect done: node_a is a branch of node_b from tick \\d+, its worker is paused; ${String(onlyOnA.length * 2)} events \\(ids \\d+\\.\\.\\d+; public\\.(acct|ledger): ${String(onlyOnA.length)} [IU]; public\\.(acct|ledger): ${String(onlyOnA.length)} [IU]\\)`), r.stderr);
    const dumped = readFileSync(dump, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as { ev_extra1: string; ev_data: string });
    const dumpedIds = dumped.filter((e) => e.ev_extra1 === 'public.ledger').map((e) => Number(/(?:^|&)id=(\d+)/.exec(e.ev_data)?.[1])).sort((x, y) => x - y);
    assert.deepEqual(dumpedIds, onlyOnA, 'the dump holds exactly the ledger rows only A has');
    assert.deepEqual(await nodeInfo('node_a'), { type: 'branch', provider: 'node_b' });
    assert.match(ok(await cli('node_b', 'members'), 'members').stdout, /node_a\s+False/);
    assert.match(ok(await cli('node_a', 'resurrect', `--dump-file=${join(jobs.dir, 'again.jsonl')}`), 'resurrect again').stderr, /node_a is a subscriber of node_b already: nothing to resurrect/);
    refused(await cli('node_d', 'resurrect'), 'a leaf', /node_d is a leaf/);

    // the operator's choice here: take the survivors' data
    ok(await cli('node_a', 'resync', '--all'), 'resync --all');
    ok(await cli('node_a', 'resume'), 'resume');
    const ws = await cli('node_a', 'wait-sync', '--wait-timeout=60');
    assert.equal(ws.code, 0, `wait-sync on node_a: ${ws.stderr}\n${diag()}`);
    await waitCaughtUp(place.node_b.cluster, 'node_b', place.node_a.cluster, 'node_a', QUEUE, 'node_a', 120_000, diag);
    for (const t of ['ledger', 'acct']) {
      assert.deepEqual(await tableDigest(place.node_a.cluster, 'node_a', `SELECT * FROM public.${t}`), await tableDigest(place.node_b.cluster, 'node_b', `SELECT * FROM public.${t}`), `${t}: node_a equals node_b`);
    }
  }));
  it('branch takeover with --all: A takes C\'s place, C and its leaves move under A', steps.step('branch', ['resurrect'], async () => {
    load.start();
    await load.more(50);
    const r = ok(await cli('node_a', 'takeover', 'node_c', '--all'), 'takeover --all');
    assert.match(r.stderr, /takeover done .*node_c is under node_a; node_d, node_e moved to node_a/);
    await load.more(50);
    await load.stop();
    for (const n of ['node_c', 'node_d', 'node_e'] as const) assert.deepEqual((await nodeInfo(n)).provider, 'node_a', `${n} under node_a`);
    assert.deepEqual(await nodeInfo('node_a'), { type: 'branch', provider: 'node_b' });
    await converged('node_b', NAMES);
    // the cascaded consumer followed D from C to A
    await consumerSawLedger('node_a');
    // compare across versions (root on 15, node_e on 17, node_a on 13), while the load runs
    load.start();
    for (const n of ['node_e', 'node_a'] as const) {
      const out = ok(await cli(n, 'compare'), `compare on ${n}`).stdout;
      assert.match(out, /^public\.acct: root 20 rows, checksum (-?\d+); \w+ 20 rows, checksum \1: equal$/m, out);
      assert.match(out, /^public\.ledger: root \d+ rows, checksum (-?\d+); \w+ \d+ rows, checksum \1: equal$/m, out);
    }
    await load.stop();
  }));
});
