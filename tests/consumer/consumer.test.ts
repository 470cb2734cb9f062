// @skytools/pgq end to end (docs/consumer-api.md): events produced in transactions (some rolled
// back) are consumed exactly once across SIGKILLs of the consumer, locally (the handler writes in
// the batch's transaction) and into another cluster through pgq_ext (per batch and per event);
// an event put back with retry() comes again after its delay with its retry count; the counts of
// ids produced and consumed are compared, and no id is consumed twice.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { installSchemas, pgq as pgqSql } from '@skytools/core';
import { insertEvent, insertEvents } from '@skytools/pgq';
import { repoRoot, startCluster, testVersions, type PgCluster } from '@skytools/harness';
import { spawnDaemon, spawnProgram, type Daemon } from '../replication/daemon-env.js';
import { startTicker, waitFor } from '../replication/replication-env.js';

const versions = testVersions();
const CONSUMED = 'CREATE TABLE consumed (ev_id bigint NOT NULL, ev_type text, retry_count int, batch_id bigint, who text)';

function child(args: readonly string[]): Daemon {
  return spawnDaemon(join(repoRoot(), 'tests', 'dist', 'consumer', 'consumer-child.js'), args);
}

describe(`PgQ consumers for applications, ${String(versions[0])} -> ${String(versions.at(-1))}`, () => {
  let app: PgCluster;
  let tgt: PgCluster;
  let ticker: { stop: () => Promise<void> } | undefined;
  const children: Daemon[] = [];

  before(async () => {
    [app, tgt] = await Promise.all([startCluster(versions[0] ?? 15), startCluster(versions.at(-1) ?? 15)]);
    await app.createDatabase('app');
    await tgt.createDatabase('tgt');
    await app.withClient('app', async (c) => {
      await installSchemas(c, ['pgq', 'pgq_coop']);
      await c.query(CONSUMED);
      await c.query(`SELECT pgq.create_queue('orders')`);
    });
    await tgt.withClient('tgt', async (c) => {
      await installSchemas(c, ['pgq_ext']);
      await c.query(CONSUMED);
    });
    ticker = startTicker(app, 'app', 50);
  });
  after(async () => {
    for (const c of children) await c.stop(5000);
    await ticker?.stop();
    await Promise.all([app?.stop(), tgt?.stop()]);
  });

  /** Write `n` events in transactions of 50 (every fifth transaction rolled back); the ids committed. */
  const produce = async (n: number, type = 'order'): Promise<string[]> => {
    const kept: string[] = [];
    await app.withClient('app', async (c) => {
      for (let i = 0; i < n / 50; i++) {
        await c.query('BEGIN');
        const ids = await insertEvents(c, 'orders', Array.from({ length: 50 }, (_, k) => ({ type, data: { order: i * 50 + k, note: '德 \\ \t' } })));
        if (i % 5 === 4) await c.query('ROLLBACK');
        else {
          await c.query('COMMIT');
          kept.push(...ids);
        }
      }
    });
    return kept;
  };

  /** Run a consumer, SIGKILL it `kills` times while it works, then let a last one finish. */
  const consumeWithKills = async (args: string[], cluster: PgCluster, db: string, expected: number, kills: number): Promise<void> => {
    const count = async (): Promise<number> => (await cluster.query<{ n: number }>(db, 'SELECT count(*)::int AS n FROM consumed'))[0]?.n ?? 0;
    for (let k = 0; k < kills; k++) {
      // counted before the consumer starts: a fast one may be through before a count after it
      const before = await count();
      // the killed ones did it all (a fast machine): the last one below still has to find nothing more
      if (before >= expected) break;
      const c = child(args);
      children.push(c);
      try {
        await waitFor('the consumer makes progress', 60_000, async () => ((await count()) > before ? true : undefined), () => c.output());
      } finally {
        // also when it made none: a consumer left running would consume the next test's events
        c.proc.kill('SIGKILL');
        await c.exited;
      }
    }
    const last = child(args);
    children.push(last);
    await waitFor(`${String(expected)} events consumed`, 120_000, async () => ((await count()) >= expected ? true : undefined), () => last.output());
    // the killed ones may have done it all: the last one must be up (its SIGTERM handler in place) before it is stopped
    await waitFor('the last consumer up', 30_000, async () => (last.output().includes('consuming') ? true : undefined), () => last.output());
    // and nothing more comes
    await new Promise((r) => setTimeout(r, 500));
    assert.equal((await last.stop()).code, 0, last.output());
  };

  const assertExactlyOnce = async (cluster: PgCluster, db: string, ids: readonly string[]): Promise<void> => {
    const r = await cluster.query<{ n: number; d: number; same: boolean }>(
      db,
      `SELECT count(*)::int AS n, count(DISTINCT ev_id)::int AS d,
              (SELECT array_agg(x ORDER BY x) FROM unnest($1::int8[]) x) = array_agg(DISTINCT ev_id ORDER BY ev_id) AS same
         FROM consumed`,
      [ids],
    );
    const extra = await cluster.query<{ ev_id: string; ev_type: string; batch_id: string; who: string }>(db, 'SELECT ev_id::text, ev_type, batch_id::text, who FROM consumed WHERE ev_id <> ALL ($1::int8[]) ORDER BY ev_id LIMIT 5', [ids]);
    assert.deepEqual(r[0], { n: ids.length, d: ids.length, same: true }, `every committed event consumed once, no rolled-back one; not produced here: ${JSON.stringify(extra)}`);
  };

  it('a local consumer applies every committed event exactly once across SIGKILLs', async () => {
    // registered before the events exist: it sees all of them
    const first = child([app.connectionString('app'), 'orders', 'local1', 'local']);
    children.push(first);
    await waitFor('registered', 30_000, async () => (first.output().includes('consuming') ? true : undefined), () => first.output());
    await first.stop();
    const ids = await produce(3000);
    await consumeWithKills([app.connectionString('app'), 'orders', 'local1', 'local'], app, 'app', ids.length, 3);
    await assertExactlyOnce(app, 'app', ids);
  });

  for (const tracking of ['batch', 'event'] as const) {
    it(`a remote consumer (pgq_ext, per ${tracking}) applies every event exactly once in another cluster across SIGKILLs`, async () => {
      await tgt.query('tgt', 'TRUNCATE consumed');
      const name = `remote_${tracking}`;
      const args = [app.connectionString('app'), 'orders', name, `remote-${tracking}`, tgt.connectionString('tgt')];
      const first = child(args);
      children.push(first);
      await waitFor('registered', 30_000, async () => (first.output().includes('consuming') ? true : undefined), () => first.output());
      await first.stop();
      const ids = await produce(tracking === 'batch' ? 3000 : 1000);
      await consumeWithKills(args, tgt, 'tgt', ids.length, 3);
      await assertExactlyOnce(tgt, 'tgt', ids);
    });
  }

  for (const mode of ['local', 'remote-batch'] as const) {
    it(`two processes of one consumer name (${mode}) still apply every event once`, async () => {
      const [cluster, db] = mode === 'local' ? [app, 'app'] : [tgt, 'tgt'];
      await cluster.query(db, 'TRUNCATE consumed');
      const name = `twice_${mode.replace('-', '_')}`;
      const args = [app.connectionString('app'), 'orders', name, mode, ...(mode === 'local' ? [] : [tgt.connectionString('tgt')])];
      const a = child(args);
      const b = child(args);
      children.push(a, b);
      for (const c of [a, b]) await waitFor('registered', 30_000, async () => (c.output().includes('consuming') ? true : undefined), () => c.output());
      const ids = await produce(2000);
      await waitFor('every event consumed', 120_000, async () => (((await cluster.query<{ n: number }>(db, 'SELECT count(*)::int AS n FROM consumed'))[0]?.n ?? 0) >= ids.length ? true : undefined), () => `${a.output()}\n----\n${b.output()}`);
      await new Promise((r) => setTimeout(r, 1000));
      for (const c of [a, b]) assert.equal((await c.stop()).code, 0, c.output());
      await assertExactlyOnce(cluster, db, ids);
    });
  }

  it('a batch older than the one the target recorded is refused with an error, never applied again', async () => {
    // what a second process of the name sees when the first ran ahead of it (or a recreated queue database)
    await tgt.query('tgt', 'TRUNCATE consumed');
    await tgt.query('tgt', `SELECT pgq_ext.set_batch_done('stale_batch', 9000000000000), pgq_ext.set_event_done('stale_event', 9000000000000, 1)`);
    const args = (tracking: string): string[] => [app.connectionString('app'), 'orders', `stale_${tracking}`, `remote-${tracking}`, tgt.connectionString('tgt')];
    for (const tracking of ['batch', 'event']) await app.withClient('app', (c) => pgqSql.registerConsumer(c, 'orders', `stale_${tracking}`));
    // the events and a tick after them exist before the consumers start: their first batch holds them
    const ids = await produce(100);
    await app.withClient('app', (c) => pgqSql.tickNow(c, 'orders'));
    const runs = (['batch', 'event'] as const).map((tracking) => {
      const c = child(args(tracking));
      children.push(c);
      return c;
    });
    for (const c of runs) await waitFor('the refusal', 30_000, async () => (/older than batch 9000000000000 .*run one per name.*rolled back/.test(c.output()) ? true : undefined), () => c.output());
    for (const c of runs) assert.equal((await c.stop()).code, 0, c.output());
    assert.equal((await tgt.query<{ n: number }>('tgt', 'SELECT count(*)::int AS n FROM consumed'))[0]?.n, 0, 'nothing applied from a stale batch');
    // the refused batch holds events (the first tick after the registration came after some of them) and stays open
    const open = await app.query<{ n: number; ours: boolean }>(
      'app',
      `SELECT count(*)::int AS n, bool_and(ev_id = ANY ($1::int8[])) AS ours FROM pgq.get_batch_events((SELECT current_batch FROM pgq.get_consumer_info('orders', 'stale_batch')))`,
      [ids],
    );
    assert.ok((open[0]?.n ?? 0) > 0 && open[0]?.ours === true, `the refused batch held the events and stays open: ${JSON.stringify(open[0])}`);
  });

  it('sub-consumers (pgq_coop) share a consumer\'s batches: each event once, and a batch held by a killed one is taken over', async () => {
    await app.query('app', 'TRUNCATE consumed');
    const args = (sub: string): string[] => [app.connectionString('app'), 'orders', 'coop', `coop-${sub}`];
    const held = async (): Promise<string | undefined> =>
      (await app.query<{ b: string | null }>('app', `SELECT current_batch::text AS b FROM pgq.get_consumer_info('orders', 'coop.s2')`))[0]?.b ?? undefined;
    // s2 takes the first batch and sits on it; killed, it holds it in the queue
    const s2 = spawnProgram(process.execPath, [join(repoRoot(), 'tests', 'dist', 'consumer', 'consumer-child.js'), ...args('s2')], undefined, { HOLD_BATCH_MS: '600000' });
    children.push(s2);
    await waitFor('registered', 30_000, async () => (s2.output().includes('consuming') ? true : undefined), () => s2.output());
    const ids = await produce(3000);
    const batch = await waitFor('s2 holds a batch', 60_000, held, () => s2.output());
    s2.proc.kill('SIGKILL');
    await s2.exited;
    const subs = ['s1', 's3'].map((s) => child(args(s)));
    children.push(...subs);
    const count = async (): Promise<number> => (await app.query<{ n: number }>('app', 'SELECT count(*)::int AS n FROM consumed'))[0]?.n ?? 0;
    await waitFor('every event consumed', 120_000, async () => ((await count()) >= ids.length ? true : undefined), () => subs.map((c) => c.output()).join('\n----\n'));
    await new Promise((r) => setTimeout(r, 1000));
    for (const c of subs) assert.equal((await c.stop()).code, 0, c.output());
    await assertExactlyOnce(app, 'app', ids);
    const who = await app.query<{ who: string }>('app', 'SELECT DISTINCT who FROM consumed ORDER BY who');
    assert.deepEqual(who.map((w) => w.who), ['coop.s1', 'coop.s3'], 'batches shared by the living sub-consumers');
    const taken = await app.query<{ n: number }>('app', 'SELECT count(*)::int AS n FROM consumed WHERE batch_id = $1', [batch]);
    assert.ok((taken[0]?.n ?? 0) > 0, `the killed sub-consumer's batch ${batch} was applied by a sibling`);
    const shared = await app.query<{ n: number }>('app', 'SELECT count(*)::int AS n FROM (SELECT batch_id FROM consumed GROUP BY batch_id HAVING count(DISTINCT who) > 1) x');
    assert.equal(shared[0]?.n, 0, 'no batch applied by two sub-consumers');
    const left = await app.query<{ consumer_name: string }>('app', `SELECT consumer_name FROM pgq.get_consumer_info('orders') WHERE consumer_name LIKE 'coop%' ORDER BY 1`);
    assert.deepEqual(left.map((r) => r.consumer_name), ['coop', 'coop.s1', 'coop.s3'], 'the dead sub-consumer was unregistered by the sibling that took its batch');
  });

  it('sub-consumers into another database (pgq_ext per sub-consumer) apply each event once', async () => {
    await tgt.query('tgt', 'TRUNCATE consumed');
    const args = (sub: string): string[] => [app.connectionString('app'), 'orders', 'rcoop', `remote-coop-${sub}`, tgt.connectionString('tgt')];
    const subs = ['a', 'b'].map((s) => child(args(s)));
    children.push(...subs);
    for (const c of subs) await waitFor('registered', 30_000, async () => (c.output().includes('consuming') ? true : undefined), () => c.output());
    const ids = await produce(1000);
    await waitFor('every event consumed', 60_000, async () => (((await tgt.query<{ n: number }>('tgt', 'SELECT count(*)::int AS n FROM consumed'))[0]?.n ?? 0) >= ids.length ? true : undefined), () => subs.map((c) => c.output()).join('\n----\n'));
    await new Promise((r) => setTimeout(r, 500));
    for (const c of subs) assert.equal((await c.stop()).code, 0, c.output());
    await assertExactlyOnce(tgt, 'tgt', ids);
    const tracked = await tgt.query<{ subconsumer_id: string }>('tgt', `SELECT subconsumer_id FROM pgq_ext.completed_batch WHERE consumer_id = 'rcoop' ORDER BY 1`);
    assert.ok(tracked.length >= 1 && tracked.every((t) => ['a', 'b'].includes(t.subconsumer_id)), JSON.stringify(tracked));
  });

  it('an event put back with retry() comes again after its delay, with its retry count', async () => {
    await app.query('app', 'TRUNCATE consumed');
    const args = [app.connectionString('app'), 'orders', 'retrying', 'local'];
    const c = child(args);
    children.push(c);
    await waitFor('registered', 30_000, async () => (c.output().includes('consuming') ? true : undefined), () => c.output());
    const id = await app.withClient('app', (cl) => insertEvent(cl, 'orders', 'retry-once', { order: 'again' }));
    const t0 = Date.now();
    // pgqd's retry loop, here by hand: due retry events go back into the queue
    await waitFor('the retried event consumed', 60_000, async () => {
      await app.withClient('app', (cl) => pgqSql.maintRetryEvents(cl));
      const r = await app.query<{ n: number; retry: number }>('app', 'SELECT count(*)::int AS n, max(retry_count) AS retry FROM consumed WHERE ev_id = $1', [id]);
      return r[0]?.n === 1 ? r[0] : undefined;
    }, () => c.output()).then((r) => assert.equal(r.retry, 1, 'delivered again as its first retry'));
    assert.ok(Date.now() - t0 >= 1000, 'not before its delay');
    assert.equal((await c.stop()).code, 0, c.output());
    assert.match(c.output(), /"retried":1/);
  });

  for (const mode of ['local', 'remote-batch'] as const) {
    it(`an event given up on with fail() waits in the failed events with its reason, and comes back when retried (${mode})`, async () => {
      const [cluster, db] = mode === 'local' ? [app, 'app'] : [tgt, 'tgt'];
      const name = `failing_${mode.replace('-', '_')}`;
      await cluster.query(db, 'TRUNCATE consumed');
      const c = child([app.connectionString('app'), 'orders', name, mode, ...(mode === 'local' ? [] : [tgt.connectionString('tgt')])]);
      children.push(c);
      await waitFor('registered', 30_000, async () => (c.output().includes('consuming') ? true : undefined), () => c.output());
      const [poison, fine] = await app.withClient('app', (cl) => insertEvents(cl, 'orders', [{ type: 'poison', data: 'x1' }, { type: 'order', data: 'ok' }]));
      const failed = await waitFor('the event in the failed events', 30_000, async () => {
        const r = await app.query<{ ev_id: string; ev_failed_reason: string }>('app', `SELECT ev_id::text, ev_failed_reason FROM pgq.failed_event_list('orders', $1)`, [name]);
        return r.length > 0 ? r : undefined;
      }, () => c.output());
      assert.deepEqual(failed, [{ ev_id: poison, ev_failed_reason: 'cannot handle x1' }]);
      const done = await waitFor('the other event applied', 30_000, async () => {
        const r = await cluster.query<{ ev_id: string }>(db, 'SELECT ev_id::text FROM consumed ORDER BY ev_id');
        return r.length > 0 ? r : undefined;
      }, () => c.output());
      assert.deepEqual(done.map((r) => r.ev_id), [fine], 'the batch finished with the other event; the failed one not applied');
      // sent back (pgq failed-retry): it comes again, as its first retry, and is handled this time
      await app.withClient('app', (cl) => pgqSql.retryFailed(cl, 'orders', name, null));
      await waitFor('the failed event handled after its retry', 30_000, async () => {
        const r = await cluster.query<{ n: number }>(db, 'SELECT count(*)::int AS n FROM consumed WHERE ev_id = $1 AND retry_count = 1', [poison]);
        return r[0]?.n === 1 ? true : undefined;
      }, () => c.output());
      assert.equal((await app.query<{ n: number }>('app', `SELECT pgq.failed_event_count('orders', $1) AS n`, [name]))[0]?.n, 0);
      assert.equal((await cluster.query<{ n: number }>(db, 'SELECT count(*)::int AS n FROM consumed'))[0]?.n, 2, 'each event applied once');
      assert.equal((await c.stop()).code, 0, c.output());
      assert.match(c.output(), /"failed":1/);
    });
  }

  it('insertEvents outside a transaction writes all its events in one of its own, and keeps the queue limits', async () => {
    await app.query('app', `SELECT pgq.create_queue('limited')`);
    await app.withClient('app', async (c) => {
      const ids = await insertEvents(c, 'limited', Array.from({ length: 10 }, (_, i) => ({ type: 't', data: String(i) })));
      assert.deepEqual(ids, [...ids].sort((a, b) => Number(a) - Number(b)), 'ids in the order given');
      // event ids are per queue: read this queue's tables only
      const pfx = (await c.query<{ t: string }>(`SELECT queue_data_pfx AS t FROM pgq.queue WHERE queue_name = 'limited'`)).rows[0]?.t ?? '';
      const r = await c.query<{ n: number; tx: number; data: string }>(
        `SELECT count(*)::int AS n, count(DISTINCT ev_txid)::int AS tx, string_agg(ev_data, ',' ORDER BY ev_id) AS data FROM ${pfx} WHERE ev_id = ANY ($1::int8[])`,
        [ids],
      );
      assert.deepEqual(r.rows[0], { n: 10, tx: 1, data: '0,1,2,3,4,5,6,7,8,9' });
      // a per-transaction limit is enforced (pgq.insert_event's own check), and nothing of the refused call stays
      await c.query(`SELECT pgq.set_queue_config('limited', 'per_tx_limit', '5')`);
      await assert.rejects(insertEvents(c, 'limited', Array.from({ length: 6 }, () => ({ type: 't', data: 'over' }))), /allows max 5 events from one TX/);
      const over = await c.query<{ n: number }>(`SELECT count(*)::int AS n FROM pgq.event_template WHERE ev_data = 'over'`);
      assert.equal(over.rows[0]?.n, 0);
      await assert.rejects(insertEvents(c, 'no_such_queue', [{ type: 't', data: null }]), /queue no_such_queue does not exist/);
    });
  });
});
