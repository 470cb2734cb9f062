// The leaf worker's wake-up and batching keys, black-box: the built `londiste` binary against
// root and leaf databases, ticks made by hand with pgq.ticker() so that every tick is known.
//   - loop_delay 60s: a change still arrives soon after its tick (the worker LISTENs to pgq_tick);
//   - batch_merge_events 0: a leaf that is behind applies tick by tick;
//   - batch_merge_events 100: it merges ticks into batches of at most 100 events, with read_ahead
//     each read while the one before it is applied (read_ahead false, the default: each in its
//     turn; a tick arriving meanwhile makes the read-ahead dropped);
// Each case has its own leaf database and ends with the leaf equal to the root (row count and
// checksum). Batch sizes come from the worker's debug lines `batch B (tick T): N events`,
// the number of batches also from pgq.batch_id_seq.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { startCluster, testVersions, type PgCluster } from '@skytools/harness';
import { jobDir, ok, runLondiste } from '../cli/run-londiste.js';
import { startWorker, tableDigest, waitFor, type RunningWorker } from './replication-env.js';

const major = testVersions().at(-1) ?? 15;

interface BatchLine {
  batch: string;
  tick: string;
  events: number;
  /** Its events were read while the batch before was applied. */
  readAhead: boolean;
}

/** The worker's debug lines for applied batches, in order. */
function batchLines(output: string): BatchLine[] {
  return [...output.matchAll(/ DEBUG batch (\d+) \(tick (\d+)\): (\d+) events[^\n]*/g)].map((m) => ({
    batch: m[1] ?? '', tick: m[2] ?? '', events: Number(m[3]), readAhead: m[0].includes('(read ahead)'),
  }));
}

const TABLE = `CREATE TABLE public.items (id int PRIMARY KEY, grp int NOT NULL, val text, n int NOT NULL DEFAULT 0);
               INSERT INTO public.items (id, grp, val) SELECT -g, 0, 'seed ' || g FROM generate_series(1, 20) g`;

describe(`leaf worker keys (loop_delay wake-up, batch_merge_events), PostgreSQL ${major}`, () => {
  let cluster: PgCluster;
  const jobs = jobDir();
  const workers: RunningWorker[] = [];
  let pairs = 0;

  before(async () => {
    cluster = await startCluster(major);
  });
  after(async () => {
    for (const w of workers) await w.stop();
    jobs.remove();
    await cluster.stop();
  });

  /**
   * A root replicating public.items to leaves (identical on all, added --expect-sync), the root
   * ticking only when called and then whenever an event waits. Returns the names, a function to
   * (re)write each leaf's job file, and the tick t0 that closes the setup.
   */
  const nodes = async (leafCount: number): Promise<{ root: string; leaves: string[]; leafJob: (leaf: string, keys: Record<string, string>) => string; t0: string }> => {
    pairs += 1;
    const root = `wk_root${pairs}`;
    const leaves = Array.from({ length: leafCount }, (_, i) => `wk_leaf${pairs}_${i + 1}`);
    for (const db of [root, ...leaves]) {
      await cluster.createDatabase(db);
      await cluster.query(db, TABLE);
    }
    const rootJob = jobs.write(root, { db: cluster.connectionString(root), queue_name: 'q' });
    const leafJob = (leaf: string, keys: Record<string, string>): string => jobs.write(leaf, { db: cluster.connectionString(leaf), queue_name: 'q', ...keys });
    ok(await runLondiste([rootJob, 'create-root', root, cluster.connectionString(root)]), 'create-root');
    // a tick exactly when asked for and an event waits: never on time alone
    for (const [k, v] of [['ticker_max_count', '1'], ['ticker_max_lag', '1 hour'], ['ticker_idle_period', '1 hour']]) {
      await cluster.query(root, 'SELECT pgq.set_queue_config($1, $2, $3)', ['q', k, v]);
    }
    ok(await runLondiste([rootJob, 'add-table', 'public.items']), 'add-table on the root');
    for (const leaf of leaves) {
      const lj = leafJob(leaf, {});
      ok(await runLondiste([lj, 'create-leaf', leaf, cluster.connectionString(leaf), `--provider=${cluster.connectionString(root)}`]), 'create-leaf');
      ok(await runLondiste([lj, 'add-table', 'public.items', '--expect-sync']), 'add-table on the leaf');
    }
    const t0 = await tick(root);
    return { root, leaves, leafJob, t0 };
  };

  /** One tick of the root queue, which must happen (events are waiting). */
  const tick = async (root: string): Promise<string> => {
    const r = await cluster.query<{ t: string | null }>(root, `SELECT pgq.ticker('q')::text AS t`);
    const t = r[0]?.t ?? null;
    assert.notEqual(t, null, 'the root ticks: events are waiting');
    return t ?? '';
  };

  const leafTick = async (leaf: string): Promise<bigint> => {
    const r = await cluster.query<{ t: string | null }>(leaf, `SELECT last_tick_id::text AS t FROM pgq_node.local_state WHERE queue_name = 'q' AND consumer_name = $1`, [leaf]);
    return BigInt(r[0]?.t ?? '0');
  };

  const waitLeafAt = async (leaf: string, tickId: string, timeoutMs: number, w: RunningWorker): Promise<void> => {
    await waitFor(`${leaf} at tick ${tickId}`, timeoutMs, async () => ((await leafTick(leaf)) >= BigInt(tickId) ? true : undefined), () => w.output().split('\n').slice(-20).join('\n'));
  };

  const run = (file: string): RunningWorker => {
    const w = startWorker(file);
    workers.push(w);
    return w;
  };
  const stop = async (w: RunningWorker): Promise<void> => {
    assert.equal(await w.stop(), 0, `the worker stops cleanly:\n${w.output().split('\n').slice(-10).join('\n')}`);
    workers.splice(workers.indexOf(w), 1);
  };

  const assertSame = async (root: string, leaf: string): Promise<void> => {
    const a = await tableDigest(cluster, root, 'SELECT * FROM public.items');
    const b = await tableDigest(cluster, leaf, 'SELECT * FROM public.items');
    assert.ok(a.rows > 20, 'the root has rows beyond the seed');
    assert.deepEqual(b, a, `the leaf has ${b.rows} rows, the root ${a.rows}`);
  };

  /** The root's consumer record of the leaf: caught up with `tickId`, no batch open. */
  const assertFinished = async (root: string, leaf: string, tickId: string): Promise<void> => {
    const r = await cluster.query(root, `SELECT last_tick::text, current_batch, pending_events::int FROM pgq.get_consumer_info('q', $1)`, [leaf]);
    assert.deepEqual(r, [{ last_tick: tickId, current_batch: null, pending_events: 0 }]);
  };

  it('loop_delay 60s: a new change still arrives soon after its tick, the worker being woken by NOTIFY pgq_tick', async () => {
    const { root, leaves: [leaf = ''], leafJob, t0 } = await nodes(1);
    const w = run(leafJob(leaf, { loop_delay: '60s' }));
    // Asleep: the leaf has applied t0 and its provider connection has since asked for the next
    // batch (its last statement) and found none; from there it sleeps up to loop_delay.
    const asleep = async (at: string): Promise<void> => {
      await waitLeafAt(leaf, at, 60_000, w);
      const providerSession = async (): Promise<string | undefined> => {
        const r = await cluster.query<{ s: string }>(root,
          `SELECT query_start::text AS s FROM pg_stat_activity
            WHERE datname = current_database() AND application_name = $1 AND state = 'idle' AND query LIKE '%next_batch_%'`, [`londiste ${leaf}`]);
        return r.length === 1 && (await leafTick(leaf)) === BigInt(at) ? r[0]?.s : undefined;
      };
      const since = await waitFor('the worker idle after asking for a batch', 30_000, providerSession, () => w.output().split('\n').slice(-20).join('\n'));
      // and it stays asleep: no statement on the provider during a short while (the point of this
      // pause is that nothing happens in it; a worker polling every few hundred ms would show)
      await new Promise((r) => setTimeout(r, 1500));
      assert.equal(await providerSession(), since, 'the idle worker does not poll its provider');
    };
    try {
      let last = t0;
      for (let round = 1; round <= 2; round++) {
        await asleep(last);
        await cluster.query(root, `INSERT INTO public.items (id, grp, val) VALUES ($1, 1, 'woken')`, [round]);
        last = await tick(root);
        // THE POINT OF THE TEST: the bound. 20 s is well under loop_delay (60 s) and under the
        // 30 s idle back-off, so the row can only arrive in time if the tick's NOTIFY woke the
        // worker; a worker sleeping on its timer would miss it.
        await waitFor(`round ${round}: the row on the leaf before loop_delay`, 20_000, async () => {
          const r = await cluster.query<{ n: number }>(leaf, 'SELECT count(*)::int AS n FROM public.items WHERE id = $1', [round]);
          return r[0]?.n === 1 ? true : undefined;
        }, () => w.output().split('\n').slice(-20).join('\n'));
      }
      await waitLeafAt(leaf, last, 20_000, w);
      await assertSame(root, leaf);
    } finally {
      await stop(w);
    }
  });

  it('batch_merge_events 100: a batch read ahead is dropped when a tick came meanwhile and the merged batch reaches further', async () => {
    const { root, leaves: [leaf = ''], leafJob } = await nodes(1);
    // the leaf's apply of the row with grp 99 waits for an advisory lock the test holds (a trigger
    // that fires under the replica role too): the test ticks once the next batch was read ahead
    await cluster.query(leaf, `CREATE FUNCTION public.gate() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN PERFORM pg_advisory_lock(4711); PERFORM pg_advisory_unlock(4711); RETURN NEW; END $$;
      CREATE TRIGGER gate AFTER INSERT ON public.items FOR EACH ROW WHEN (NEW.grp = 99) EXECUTE FUNCTION public.gate();
      ALTER TABLE public.items ENABLE ALWAYS TRIGGER gate`);
    const rows = async (from: number, grp: number): Promise<string> => {
      await cluster.query(root, `INSERT INTO public.items (id, grp, val) SELECT $1::int + g, CASE WHEN g = 1 THEN $2::int ELSE 1 END, 'r' FROM generate_series(1, 40) g`, [from, grp]);
      return tick(root);
    };
    await rows(0, 1);
    const t2 = await rows(100, 99);
    const t3 = await rows(200, 1);
    const gate = new pg.Client(cluster.clientConfig(leaf));
    await gate.connect();
    let w: RunningWorker | undefined;
    let t4 = '';
    try {
      await gate.query('SELECT pg_advisory_lock(4711)');
      w = run(leafJob(leaf, { loop_delay: '200ms', loglevel: 'debug', batch_merge_events: '100', read_ahead: 'true' }));
      const tail = (): string => w?.output().split('\n').slice(-20).join('\n') ?? '';
      // the first batch (two ticks, 83 events with the setup's) waits in its apply ...
      await waitFor('the leaf applying the gated row', 60_000, async () => {
        const r = await cluster.query<{ n: number }>(leaf, `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event = 'advisory'`);
        return r[0]?.n === 1 ? true : undefined;
      }, tail);
      // ... while its provider connection has read the third tick ahead, alone
      await waitFor('the read-ahead of the third tick', 60_000, async () => (w?.output().includes(`read ahead: ticks ${t2}..${t3},`) === true ? true : undefined), tail);
      // now the second batch reaches one tick further than what was read ahead
      t4 = await rows(300, 1);
      await gate.query('SELECT pg_advisory_unlock(4711)');
      await waitLeafAt(leaf, t4, 60_000, w);
      const lines = batchLines(w.output()).filter((l) => l.events > 0);
      const diag = JSON.stringify(lines);
      assert.deepEqual(lines.map((l) => [l.tick, l.readAhead]), [[t2, false], [t4, false]], `the read-ahead of one tick was not used for the batch of two: ${diag}`);
      assert.equal(lines[1]?.events, 80, `the second batch has both ticks' rows: ${diag}`);
      assert.match(w.output(), new RegExp(`read ahead of ticks ${t2}\\.\\.${t3} dropped: the batch spans ticks ${t2}\\.\\.${t4}`));
    } finally {
      await gate.end();
      if (w !== undefined) await stop(w);
    }
    await assertSame(root, leaf);
    await assertFinished(root, leaf, t4);
  });

  /** Ticks of `count` transactions of `rows` rows each (`width` characters of val), from key `from`. */
  const ticksOf = async (root: string, count: number, rows: number, width: number, from: number): Promise<string[]> => {
    const ticks: string[] = [];
    for (let i = 0; i < count; i++) {
      const first = from + i * rows;
      await cluster.query(root, `INSERT INTO public.items (id, grp, val) SELECT $1::int + g, 2, repeat(chr(65 + g % 26), $2) || g FROM generate_series(1, $3) g`, [first, width, rows]);
      ticks.push(await tick(root));
    }
    return ticks;
  };

  /**
   * Run the leaf's worker (batch_merge_events 100, debug) until it has applied `ticks` and stop
   * it; its output and its lines of batches with events, each expected to be one of `ticks`,
   * read in its turn. The leaf ends equal to the root, its consumer finished at the last tick.
   */
  const catchUpInTurn = async (root: string, leaf: string, leafJob: (leaf: string, keys: Record<string, string>) => string, ticks: string[], timeoutMs: number): Promise<string> => {
    const last = ticks.at(-1) ?? '';
    const w = run(leafJob(leaf, { loop_delay: '200ms', loglevel: 'debug', batch_merge_events: '100', read_ahead: 'true' }));
    try {
      await waitLeafAt(leaf, last, timeoutMs, w);
    } finally {
      await stop(w);
    }
    const lines = batchLines(w.output()).filter((l) => l.events > 0);
    // (the first batch also holds the setup's few events)
    assert.deepEqual(lines.map((l) => [l.tick, l.events >= 60, l.readAhead]), ticks.map((t) => [t, true, false]), `one tick per batch, nothing read ahead: ${JSON.stringify(lines)}`);
    await assertSame(root, leaf);
    await assertFinished(root, leaf, last);
    return w.output();
  };

  it('batch_merge_events 100: a next batch over 32 MB is not kept; it and the next ten are read in their turn', async () => {
    const { root, leaves: [leaf = ''], leafJob } = await nodes(1);
    // 60 events per tick, so that each batch is one tick and holds enough to read the next ahead;
    // the second tick's rows are 600 kB each (36 MB), the others small
    const [a = ''] = await ticksOf(root, 1, 60, 10, 0);
    const [b = ''] = await ticksOf(root, 1, 60, 600_000, 100);
    const rest = await ticksOf(root, 3, 60, 10, 200);
    const output = await catchUpInTurn(root, leaf, leafJob, [a, b, ...rest], 120_000);
    assert.match(output, new RegExp(`read ahead of ticks ${a}\\.\\.${b} dropped: \\d+ bytes, over the 32 MB kept; the next 10 batches are read in their turn`));
    assert.doesNotMatch(output, /read ahead: ticks/, 'no read-ahead kept');
  });

  it('batch_merge_events 100: a read-ahead that fails costs only a warning; each batch is read in its turn', async () => {
    const { root, leaves: [leaf = ''], leafJob } = await nodes(1);
    // the provider's peek fails (as a query that breaks would), its other functions work
    await cluster.query(root, `CREATE OR REPLACE FUNCTION pgq.peek_next_batch(
        IN i_queue_name text, IN i_consumer_name text, IN i_max_events int8,
        OUT prev_tick_id int8, OUT cur_tick_id int8, OUT prev_tick_event_seq int8, OUT cur_tick_event_seq int8,
        OUT cur_tick_snapshot text, OUT events int8, OUT event_sql text)
      LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'peek refused by the test'; END $$`);
    const ticks = await ticksOf(root, 4, 60, 10, 0);
    const output = await catchUpInTurn(root, leaf, leafJob, ticks, 60_000);
    // each batch tried (the last one too: whether a tick follows is what the peek tells), and warned
    const warnings = output.match(/WARNING reading the next batch ahead failed; it is read in its turn: .*peek refused by the test/g) ?? [];
    assert.equal(warnings.length, ticks.length, output.split('\n').slice(-20).join('\n'));
    assert.doesNotMatch(output, / ERROR /);
  });

  describe('a leaf that is behind', () => {
    // One root, four leaves, each used by one test below and by nothing else (the third after
    // more events: the last test adds them). The leaves catch
    // up to t0 and stop; the root stays quiet for a while (as when leaves are down overnight;
    // nothing happens during the pause, which is its point); then a burst of 30 transactions of
    // 40 events each (20 inserts, 15 updates, 5 deletes, some of rows the previous transaction
    // inserted), each closed by a tick; then one transaction of 6,200 events and its tick.
    let env: Awaited<ReturnType<typeof nodes>>;
    const burst: string[] = [];
    let bigTick = '';
    before(async () => {
      env = await nodes(4);
      const { root, leaves, leafJob, t0 } = env;
      const first = leaves.map((leaf) => run(leafJob(leaf, { loop_delay: '200ms' })));
      for (const [i, leaf] of leaves.entries()) {
        const w = first[i];
        if (w !== undefined) await waitLeafAt(leaf, t0, 60_000, w);
      }
      for (const w of first) await stop(w);
      for (const leaf of leaves) await assertFinished(root, leaf, t0);
      await new Promise((r) => setTimeout(r, 2000));
      // one connection, so that the burst is short compared with the pause before it
      await cluster.withClient(root, async (c) => {
        const tickNow = async (): Promise<string> => {
          const t = (await c.query<{ t: string | null }>(`SELECT pgq.ticker('q')::text AS t`)).rows[0]?.t ?? null;
          assert.notEqual(t, null, 'the root ticks: events are waiting');
          return t ?? '';
        };
        for (let i = 0; i < 30; i++) {
          const prev = i === 0 ? -20 : (i - 1) * 20 + 1; // first key of the previous round's rows
          await c.query(`BEGIN;
            INSERT INTO public.items (id, grp, val) SELECT ${i} * 20 + g, ${i}, 'round ${i} row ' || g FROM generate_series(1, 20) g;
            UPDATE public.items SET val = val || ' upd ${i}', n = n + 1 WHERE id BETWEEN ${prev} AND ${prev + 14};
            DELETE FROM public.items WHERE id BETWEEN ${prev + 15} AND ${prev + 19};
            COMMIT`);
          burst.push(await tickNow());
        }
        await c.query(`BEGIN;
          INSERT INTO public.items (id, grp, val) SELECT 1000 + g, g % 10, repeat('x', g % 50) FROM generate_series(1, 5500) g;
          UPDATE public.items SET n = n + 1, val = 'u' WHERE id BETWEEN 1001 AND 1600;
          DELETE FROM public.items WHERE id BETWEEN 6401 AND 6500;
          COMMIT`);
        bigTick = await tickNow();
      });
      // what the worker's merge estimate sees: 40 events per burst tick, 6,200 in the big one
      const seqs = await cluster.query<{ d: string }>(root,
        `SELECT (tick_event_seq - lag(tick_event_seq) OVER (ORDER BY tick_id))::text AS d FROM pgq.tick
          WHERE tick_id BETWEEN $1 AND $2 ORDER BY tick_id`, [t0, bigTick]);
      assert.deepEqual(seqs.slice(1).map((r) => r.d), [...burst.map(() => '40'), '6200']);
    });

    const batchSeq = async (): Promise<number> => Number((await cluster.query<{ v: string }>(env.root, `SELECT pgq.seq_getval('pgq.batch_id_seq')::text AS v`))[0]?.v);

    /** Run the leaf's worker with `keys` until it has applied the big tick; its output. */
    const catchUp = async (leaf: string, keys: Record<string, string>): Promise<{ output: string; batchesOpened: number }> => {
      const seq0 = await batchSeq();
      const w = run(env.leafJob(leaf, { loop_delay: '200ms', loglevel: 'debug', ...keys }));
      try {
        await waitLeafAt(leaf, bigTick, 90_000, w);
      } finally {
        await stop(w);
      }
      await assertSame(env.root, leaf);
      await assertFinished(env.root, leaf, bigTick);
      return { output: w.output(), batchesOpened: (await batchSeq()) - seq0 };
    };

    it('batch_merge_events 0: it applies its ticks one by one', async () => {
      const r = await catchUp(env.leaves[0] ?? '', { batch_merge_events: '0' });
      assert.deepEqual(batchLines(r.output).map((l) => [l.tick, l.events]), [...burst.map((t) => [t, 40]), [bigTick, 6200]], 'one batch per tick');
      assert.equal(r.batchesOpened, 31, 'batches opened on the root');
    });

    it('batch_merge_events 100: it merges ticks into batches of at most 100 events', async () => {
      const r = await catchUp(env.leaves[1] ?? '', { batch_merge_events: '100', read_ahead: 'true' });
      const lines = batchLines(r.output);
      const diag = JSON.stringify(lines.map((l) => `tick ${l.tick}: ${l.events}`));
      assert.equal(lines.reduce((s, l) => s + l.events, 0), 1200 + 6200, `every event applied once: ${diag}`);
      // a batch of several ticks stays within the limit; only a single tick larger than it may exceed it
      const order = [env.t0, ...burst, bigTick];
      let from = env.t0;
      for (const l of lines) {
        const ticks = order.indexOf(l.tick) - order.indexOf(from);
        from = l.tick;
        if (ticks > 1) assert.ok(l.events <= 100, `batch ${l.batch} merges ${ticks} ticks up to tick ${l.tick}, ${l.events} events: more than batch_merge_events 100: ${diag}`);
      }
      // as many 40-event ticks as stay within 100 events, two per batch; the big tick alone
      assert.deepEqual(lines.map((l) => l.tick), [...burst.filter((_, i) => i % 2 === 1), bigTick], `batches close every second tick: ${diag}`);
      assert.equal(r.batchesOpened, 16, 'batches opened on the root');
      // each batch of the burst after the first was read while the one before it was applied (no
      // tick came meanwhile); the big tick, over batch_merge_events, was read in its turn
      assert.deepEqual(lines.map((l) => l.readAhead), [false, ...burst.filter((_, i) => i % 2 === 1).slice(1).map(() => true), false], `read ahead: ${diag}`);
    });

    it('batch_merge_events 100, read_ahead false: the same batches, each read in its turn', async () => {
      const r = await catchUp(env.leaves[3] ?? '', { batch_merge_events: '100', read_ahead: 'false' });
      const lines = batchLines(r.output);
      assert.deepEqual(lines.map((l) => [l.tick, l.readAhead]), [...burst.filter((_, i) => i % 2 === 1), bigTick].map((t) => [t, false]), JSON.stringify(lines));
    });

    it('batch_merge_events 100, loop_delay 60s: an empty batch short of the last tick does not put it to sleep', async () => {
      // after the big tick: three empty ticks (forced: each one's event position jumps past the
      // merge limit, so each is a batch of its own, with no events), then 300 events and a tick.
      // The worker must go on at once after each empty batch while newer ticks wait; the bug was
      // a rest of loop_delay (60 s) after every one of them, no tick being left to wake it.
      let last = '';
      await cluster.withClient(env.root, async (c) => {
        for (let i = 0; i < 3; i++) {
          await c.query(`SELECT pgq.force_tick('q')`);
          await c.query(`SELECT pgq.ticker('q')`);
        }
        await c.query(`INSERT INTO public.items (id, grp, val) SELECT 20000 + g, 7, 'after the empty ticks' FROM generate_series(1, 300) g`);
        last = (await c.query<{ t: string }>(`SELECT pgq.ticker('q')::text AS t`)).rows[0]?.t ?? '';
      });
      const leaf = env.leaves[2] ?? '';
      const w = run(env.leafJob(leaf, { loop_delay: '60s', loglevel: 'debug', batch_merge_events: '100', read_ahead: 'true' }));
      try {
        // THE POINT OF THE TEST: the bound, well under one loop_delay
        await waitLeafAt(leaf, last, 30_000, w);
      } finally {
        await stop(w);
      }
      assert.match(w.output(), /no events \(ticks/, 'the worker took empty batches on the way');
      await assertSame(env.root, leaf);
      await assertFinished(env.root, leaf, last);
    });
  });
});
