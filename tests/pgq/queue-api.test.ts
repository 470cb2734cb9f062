// Conformance of the PgQ SQL API: the calls, results and error texts clients of PgQ 3.5 rely on.
import assert from 'node:assert/strict';
import { after, before, describe, it, mock } from 'node:test';
import { pgq, pgqCoop } from '@skytools/core';
import { startCluster, testVersions, type PgCluster } from '@skytools/harness';
import { connect, drain, errorOf, freshDatabase, readBatch, scalar, tickNow } from './support.js';

for (const major of testVersions()) {
  describe(`PgQ API, PostgreSQL ${major}`, () => {
    let cluster: PgCluster;
    before(async () => {
      cluster = await startCluster(major);
    });
    after(async () => {
      await cluster.stop();
    });

    it('creates and drops queues with their tables and sequences', async () => {
      const { client } = await freshDatabase(cluster, 'lifecycle');
      try {
        assert.equal(await scalar(client, `SELECT pgq.create_queue('q1')`), 1);
        assert.equal(await scalar(client, `SELECT pgq.create_queue('q1')`), 0, 'second create is a no-op');
        const tables = await client.query<{ relname: string }>(
          `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'pgq' AND c.relname ~ '^event_[0-9]' AND c.relkind = 'r' ORDER BY 1`);
        assert.deepEqual(tables.rows.map((r) => r.relname), ['event_1', 'event_1_0', 'event_1_1', 'event_1_2']);
        assert.equal(await scalar(client, `SELECT count(*)::int FROM pgq.tick`), 1, 'a new queue gets its first tick');
        assert.equal(await scalar(client, `SELECT pgq.current_event_table('q1')`), 'pgq.event_1_0');

        await client.query(`SELECT pgq.register_consumer('q1', 'c1')`);
        assert.match(await errorOf(client, `SELECT pgq.drop_queue('q1')`), /consumers still attached/);
        assert.equal(await scalar(client, `SELECT pgq.drop_queue('q1', true)`), 1);
        assert.equal(await scalar(client, `SELECT count(*)::int FROM pgq.queue`), 0);
        assert.equal(await scalar(client, `SELECT count(*)::int FROM pgq.subscription`), 0);
        assert.equal(await scalar(client, `SELECT count(*)::int FROM pg_class WHERE relname LIKE 'event\\_1%'`), 0);
        assert.match(await errorOf(client, `SELECT pgq.drop_queue('nosuch')`), /No such event queue/);
      } finally {
        await client.end();
      }
    });

    it('delivers events in batches between ticks and moves the consumer on finish', async () => {
      const { client } = await freshDatabase(cluster, 'batches');
      try {
        await client.query(`SELECT pgq.create_queue('q')`);
        assert.equal(await scalar(client, `SELECT pgq.register_consumer('q', 'c')`), 1);
        assert.equal(await scalar(client, `SELECT pgq.register_consumer('q', 'c')`), 0);
        assert.equal(await scalar(client, `SELECT pgq.next_batch('q', 'c')`), null, 'no tick yet: no batch');

        await client.query(`SELECT pgq.insert_event('q', 'I', 'id=1', 'public.t', NULL, NULL, 'x4')`);
        await client.query(`SELECT pgq.insert_event('q', 'U', 'id=1')`);
        const tick = await tickNow(client, 'q');
        await client.query(`SELECT pgq.insert_event('q', 'D', 'id=1')`); // after the tick: next batch

        const info = (await client.query(`SELECT * FROM pgq.next_batch_info('q', 'c')`)).rows[0] as Record<string, unknown>;
        assert.equal(info['cur_tick_id'], tick);
        assert.equal(info['prev_tick_id'], '1');
        const batchId = info['batch_id'] as string;
        assert.equal(await scalar(client, `SELECT pgq.next_batch('q', 'c')`), batchId, 'an open batch is returned again');

        const events = await client.query(`SELECT ev_id, ev_type, ev_data, ev_extra1, ev_extra4, ev_retry FROM pgq.get_batch_events($1)`, [batchId]);
        assert.deepEqual(events.rows, [
          { ev_id: '1', ev_type: 'I', ev_data: 'id=1', ev_extra1: 'public.t', ev_extra4: 'x4', ev_retry: null },
          { ev_id: '2', ev_type: 'U', ev_data: 'id=1', ev_extra1: null, ev_extra4: null, ev_retry: null },
        ]);

        const binfo = (await client.query(`SELECT * FROM pgq.get_batch_info($1)`, [batchId])).rows[0] as Record<string, unknown>;
        assert.equal(binfo['queue_name'], 'q');
        assert.equal(binfo['consumer_name'], 'c');
        assert.equal(binfo['prev_tick_id'], '1');
        assert.equal(binfo['tick_id'], tick);

        const cons = (await client.query(`SELECT * FROM pgq.get_consumer_info('q', 'c')`)).rows[0] as Record<string, unknown>;
        assert.equal(cons['current_batch'], batchId);
        assert.equal(cons['next_tick'], tick);

        assert.equal(await scalar(client, `SELECT pgq.finish_batch($1)`, [batchId]), 1);
        assert.equal(await scalar(client, `SELECT pgq.finish_batch($1)`, [batchId]), 0, 'finishing twice only warns');
        assert.equal(await scalar(client, `SELECT pgq.next_batch('q', 'c')`), null, 'caught up');

        await tickNow(client, 'q');
        const rest = await drain(client, 'q', 'c');
        assert.deepEqual(rest.map((e) => e.ev_type), ['D']);
      } finally {
        await client.end();
      }
    });

    it('peek_next_batch tells the batch next_batch_merged opens after the open one, and its events, changing nothing', async () => {
      const { db, client } = await freshDatabase(cluster, 'peek');
      const other = await connect(cluster, db);
      try {
        await client.query(`SELECT pgq.create_queue('q')`);
        await client.query(`SELECT pgq.register_consumer('q', 'c')`);
        const peek = async (max: number): Promise<Record<string, unknown>> =>
          (await client.query(`SELECT * FROM pgq.peek_next_batch('q', 'c', $1)`, [max])).rows[0] as Record<string, unknown>;
        const none = { prev_tick_id: null, cur_tick_id: null, prev_tick_event_seq: null, cur_tick_event_seq: null, cur_tick_snapshot: null, events: null, event_sql: null };
        const open = async (max: number): Promise<Record<string, unknown>> =>
          (await client.query(`SELECT * FROM pgq.next_batch_merged('q', 'c', $1)`, [max])).rows[0] as Record<string, unknown>;
        await client.query(`SELECT pgq.insert_event('q', 'a', i::text) FROM generate_series(1, 3) i`);
        const t2 = await tickNow(client, 'q');
        assert.deepEqual(await peek(100), none, 'no batch open: nothing to tell');
        // a transaction running across the next two ticks: its event belongs to the batch after
        // the one that closes at the first of them, through the list of running transactions
        await other.query(`BEGIN; SELECT pgq.insert_event('q', 'late', 'x')`);
        await client.query(`SELECT pgq.insert_event('q', 'b', i::text) FROM generate_series(1, 3) i`);
        const t3 = await tickNow(client, 'q');
        await client.query(`SELECT pgq.insert_event('q', 'c', i::text) FROM generate_series(1, 2) i`);
        await tickNow(client, 'q');
        await other.query('COMMIT');
        await client.query(`SELECT pgq.insert_event('q', 'd', '1')`);
        const t5 = await tickNow(client, 'q');

        // tick by tick (max 0) up to t3, then a peek of all that follows
        const first = await open(0);
        assert.deepEqual([first['prev_tick_id'], first['cur_tick_id']], ['1', t2]);
        await client.query(`SELECT pgq.finish_batch($1)`, [first['batch_id']]);
        const second = await open(0);
        assert.deepEqual([second['prev_tick_id'], second['cur_tick_id']], [t2, t3]);
        const position = `SELECT last_tick, current_batch, next_tick, pending_events FROM pgq.get_consumer_info('q', 'c')`;
        const before = (await client.query(position)).rows;
        // (event positions count sequence values, not rows: a generous limit)
        const ahead = await peek(1_000_000);
        assert.deepEqual((await client.query(position)).rows, before, 'peeking changes nothing');
        assert.deepEqual([ahead['prev_tick_id'], ahead['cur_tick_id']], [t3, t5], 'from where the open batch ends to the last tick within the limit');
        const peeked = await client.query<{ ev_id: string; ev_type: string }>(ahead['event_sql'] as string);
        const secondEvents = await client.query<{ ev_type: string }>(`SELECT ev_type FROM pgq.get_batch_events($1)`, [second['batch_id']]);
        assert.deepEqual(secondEvents.rows.map((e) => e.ev_type), ['b', 'b', 'b'], 'the running transaction is not in the batch it ran across');

        await client.query(`SELECT pgq.finish_batch($1)`, [second['batch_id']]);
        const third = await open(1_000_000);
        const tick = await client.query<{ s: string }>(`SELECT tick_snapshot::text AS s FROM pgq.tick WHERE tick_id = $1`, [t5]);
        assert.deepEqual(
          [ahead['prev_tick_id'], ahead['cur_tick_id'], ahead['prev_tick_event_seq'], ahead['cur_tick_event_seq'], ahead['cur_tick_snapshot']],
          [third['prev_tick_id'], third['cur_tick_id'], third['prev_tick_event_seq'], third['cur_tick_event_seq'], tick.rows[0]?.s],
          'the batch peeked is the batch opened: ticks, event positions, snapshot',
        );
        assert.equal(ahead['events'], String(BigInt(third['cur_tick_event_seq'] as string) - BigInt(third['prev_tick_event_seq'] as string)));
        const events = await client.query<{ ev_id: string; ev_type: string }>(`SELECT ev_id, ev_type FROM pgq.get_batch_events($1)`, [third['batch_id']]);
        assert.deepEqual(peeked.rows.map((e) => [e.ev_id, e.ev_type]), events.rows.map((e) => [e.ev_id, e.ev_type]), 'the same events');
        assert.deepEqual(events.rows.map((e) => e.ev_type).sort(), ['c', 'c', 'd', 'late'], 'the late transaction included once it committed');
        await client.query(`SELECT pgq.finish_batch($1)`, [third['batch_id']]);
        assert.deepEqual(await peek(100), none, 'no batch open after the drain');
        // an open batch at the last tick: no tick follows it yet
        await client.query(`SELECT pgq.insert_event('q', 'e', '1')`);
        await tickNow(client, 'q');
        await open(100);
        assert.deepEqual(await peek(100), none, 'nothing after the last tick');
      } finally {
        await other.end();
        await client.end();
      }
    });

    it("a batch's closing tick time is also given on this host's clock, from its age on the database's (consumers and sub-consumers)", async () => {
      const { client } = await freshDatabase(cluster, 'ticklocal', ['pgq', 'pgq_coop']);
      try {
        await client.query(`SELECT pgq.create_queue('q')`);
        await client.query(`SELECT pgq.register_consumer('q', 'c')`);
        await client.query(`SELECT pgq_coop.register_subconsumer('q', 'cc', 's1')`);
        await client.query(`SELECT pgq.insert_event('q', 'a', 'x')`);
        const t = await tickNow(client, 'q');
        // as if the tick had been made an hour ago on the database's clock
        await client.query(`UPDATE pgq.tick SET tick_time = tick_time - interval '1 hour' WHERE tick_id = $1`, [t]);
        const dbTime = await scalar<Date>(client, 'SELECT tick_time FROM pgq.tick WHERE tick_id = $1', [t]);
        // and this host's clock a day ahead of the database's (frozen: Date is mocked)
        const skewed = Date.now() + 86_400_000;
        mock.timers.enable({ apis: ['Date'], now: skewed });
        let plain: Awaited<ReturnType<typeof pgq.nextBatch>>;
        let coop: Awaited<ReturnType<typeof pgqCoop.nextBatch>>;
        try {
          plain = await pgq.nextBatch(client, 'q', 'c');
          coop = await pgqCoop.nextBatch(client, 'q', 'cc', 's1', null);
        } finally {
          mock.timers.reset();
        }
        for (const [what, b] of [['consumer', plain], ['sub-consumer', coop]] as const) {
          assert.ok(b !== null, what);
          assert.equal(b.curTickId, t, what);
          assert.equal(b.curTickTime.getTime(), dbTime.getTime(), `${what}: the tick time as the database has it`);
          // an hour before this host's (skewed) now, whatever the database's clock says
          const off = skewed - 3_600_000 - b.curTickLocalTime.getTime();
          assert.ok(off >= 0 && off < 10_000, `${what}: ${String(off)} ms off an hour before this host's now`);
        }
      } finally {
        await client.end();
      }
    });

    it('reads big batches through a cursor, with an optional filter', async () => {
      const { client } = await freshDatabase(cluster, 'cursor');
      try {
        await client.query(`SELECT pgq.create_queue('q')`);
        await client.query(`SELECT pgq.register_consumer('q', 'c')`);
        await client.query(`SELECT pgq.insert_event('q', CASE WHEN i % 2 = 0 THEN 'even' ELSE 'odd' END, i::text) FROM generate_series(1, 1000) i`);
        await tickNow(client, 'q');
        const batchId = await scalar<string>(client, `SELECT pgq.next_batch('q', 'c')`);
        await client.query('BEGIN');
        const first = await client.query(`SELECT ev_data FROM pgq.get_batch_cursor($1, 'evs', 10)`, [batchId]);
        assert.deepEqual(first.rows.map((r: { ev_data: string }) => r.ev_data), ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10']);
        const rest = await client.query(`FETCH ALL FROM evs`);
        assert.equal(rest.rowCount, 990);
        await client.query('CLOSE evs');
        const evens = await client.query(`SELECT count(*)::int AS n, sum(ev_data::int)::int AS s FROM pgq.get_batch_cursor($1, 'evs2', 5000, 'ev_type = ''even''')`, [batchId]);
        assert.deepEqual(evens.rows[0], { n: 500, s: 250500 });
        await client.query('COMMIT');
        assert.equal((await client.query(`SELECT * FROM pgq.get_batch_cursor(NULL, 'x', 1)`)).rowCount, 0);
      } finally {
        await client.end();
      }
    });

    it('next_batch_custom honours min_count, min_interval and min_lag', async () => {
      const { client } = await freshDatabase(cluster, 'custom');
      try {
        await client.query(`SELECT pgq.create_queue('q')`);
        await client.query(`SELECT pgq.register_consumer('q', 'c')`);
        await client.query(`SELECT pgq.insert_event('q', 't', 'd')`);
        // a tick that covers only one event (the external-ticker form sets the sequence exactly)
        await client.query(`SELECT pgq.set_queue_config('q', 'external_ticker', 'true')`);
        await client.query(`SELECT pgq.ticker('q', 2, now(), 2)`);
        let r = (await client.query(`SELECT * FROM pgq.next_batch_custom('q', 'c', NULL, 100, NULL)`)).rows[0] as Record<string, unknown>;
        assert.equal(r['batch_id'], null, 'one event is below min_count');
        await client.query(`SELECT pgq.ticker('q', 3, now(), 500)`);
        r = (await client.query(`SELECT * FROM pgq.next_batch_custom('q', 'c', interval '1 hour', 100, NULL)`)).rows[0] as Record<string, unknown>;
        assert.equal(r['batch_id'], null, 'tick too young for min_lag');
        r = (await client.query(`SELECT * FROM pgq.next_batch_custom('q', 'c', NULL, 100, NULL)`)).rows[0] as Record<string, unknown>;
        assert.notEqual(r['batch_id'], null);
        assert.equal(r['cur_tick_id'], '3');
        assert.equal(r['prev_tick_event_seq'], '1');
        assert.equal(r['cur_tick_event_seq'], '500');
        await client.query(`SELECT pgq.finish_batch($1)`, [r['batch_id']]);
        await client.query(`SELECT pgq.ticker('q', 4, now() + interval '10 minutes', 501)`);
        r = (await client.query(`SELECT * FROM pgq.next_batch_custom('q', 'c', NULL, NULL, interval '5 minutes')`)).rows[0] as Record<string, unknown>;
        assert.equal(r['cur_tick_id'], '4', 'min_interval reached by the tick time');
      } finally {
        await client.end();
      }
    });

    it('retries events to their owner only, and batch_retry postpones a whole batch', async () => {
      const { client } = await freshDatabase(cluster, 'retry');
      try {
        await client.query(`SELECT pgq.create_queue('q')`);
        await client.query(`SELECT pgq.register_consumer('q', 'a')`);
        await client.query(`SELECT pgq.register_consumer('q', 'b')`);
        await client.query(`SELECT pgq.insert_event('q', 't', i::text) FROM generate_series(1, 3) i`);
        await tickNow(client, 'q');

        const a = await readBatch(client, 'q', 'a');
        assert.ok(a);
        assert.equal(await scalar(client, `SELECT pgq.event_retry($1, 2, 0)`, [a.batchId]), 1);
        assert.equal(await scalar(client, `SELECT pgq.event_retry($1, 2, 0)`, [a.batchId]), 0, 'already queued for retry');
        assert.match(await errorOf(client, `SELECT pgq.event_retry($1, 99, 0)`, [a.batchId]), /event not found/);
        await client.query(`SELECT pgq.finish_batch($1)`, [a.batchId]);
        assert.equal((await drain(client, 'q', 'b')).length, 3);

        assert.equal(await scalar(client, `SELECT pgq.maint_retry_events()`), 1);
        assert.equal(await scalar(client, `SELECT pgq.maint_retry_events()`), 0);
        await tickNow(client, 'q');
        const again = await drain(client, 'q', 'a');
        assert.deepEqual(again.map((e) => [e.ev_id, e.ev_data, e.ev_retry]), [['2', '2', 1]], 'a sees its retried event');
        assert.deepEqual(await drain(client, 'q', 'b'), [], 'b never sees a\'s retry');

        // batch_retry and a future retry time
        await client.query(`SELECT pgq.insert_event('q', 't', i::text) FROM generate_series(4, 5) i`);
        await tickNow(client, 'q');
        const b = await readBatch(client, 'q', 'b');
        assert.ok(b);
        assert.equal(await scalar(client, `SELECT pgq.batch_retry($1, 3600)`, [b.batchId]), 2);
        assert.equal(await scalar(client, `SELECT pgq.batch_retry($1, 3600)`, [b.batchId]), 0);
        await client.query(`SELECT pgq.finish_batch($1)`, [b.batchId]);
        assert.equal(await scalar(client, `SELECT pgq.maint_retry_events()`), 0, 'not due yet');
        assert.equal(await scalar(client, `SELECT count(*)::int FROM pgq.retry_queue`), 2);

        // event_retry_raw and the cleanup on unregister
        assert.equal(await scalar(client, `SELECT pgq.event_retry_raw('q', 'b', now(), 900, now(), 5, 'raw', 'x', NULL, NULL, NULL, NULL)`), '900');
        assert.match(await errorOf(client, `SELECT pgq.event_retry_raw('q', 'zz', now(), NULL, now(), 0, 't', 'x', NULL, NULL, NULL, NULL)`), /consumer not registered/);
        assert.equal(await scalar(client, `SELECT pgq.unregister_consumer('q', 'b')`), 1);
        assert.equal(await scalar(client, `SELECT count(*)::int FROM pgq.retry_queue`), 0);
        assert.equal(await scalar(client, `SELECT pgq.unregister_consumer('q', 'b')`), 0);
      } finally {
        await client.end();
      }
    });

    it('repositions consumers and reports the upstream errors', async () => {
      const { client } = await freshDatabase(cluster, 'errors');
      try {
        assert.equal(await errorOf(client, `SELECT pgq.register_consumer('nosuch', 'c')`), 'Event queue not created yet');
        await client.query(`SELECT pgq.create_queue('q')`);
        assert.equal(await errorOf(client, `SELECT pgq.next_batch('q', 'c')`), 'Not subscriber to queue: q/c');
        assert.equal(await errorOf(client, `SELECT pgq.register_consumer_at('q', 'c', 999)`), 'cannot reposition, tick not found: 999');
        const t2 = await tickNow(client, 'q');
        assert.equal(await scalar(client, `SELECT pgq.register_consumer_at('q', 'c', 1)`), 1);
        assert.equal(await scalar(client, `SELECT last_tick FROM pgq.get_consumer_info('q', 'c')`), '1');
        assert.equal(await scalar(client, `SELECT pgq.register_consumer_at('q', 'c', $1)`, [t2]), 0);
        assert.equal(await scalar(client, `SELECT last_tick FROM pgq.get_consumer_info('q')`), t2);
        assert.equal(await errorOf(client, `SELECT pgq.batch_retry(12345, 1)`), 'batch_retry: batch 12345 not found');
        assert.equal(await errorOf(client, `SELECT pgq.batch_event_sql(12345)`), 'batch not found');
        assert.equal(await errorOf(client, `SELECT pgq.set_queue_config('q', 'bogus', '1')`), 'cannot change parameter "boguss"');
        assert.equal(await errorOf(client, `SELECT pgq.set_queue_config('nosuch', 'ticker_max_count', '1')`), 'No such event queue');
        assert.equal(await errorOf(client, `SELECT pgq.insert_event('nosuch', 't', 'd')`), 'Event queue not found');
        await client.query(`SELECT pgq.set_queue_config('q', 'ticker_paused', 'true')`);
        assert.equal(await errorOf(client, `SELECT pgq.ticker('q')`), 'Ticker has been paused for this queue');
        await client.query(`SELECT pgq.set_queue_config('q', 'per_tx_limit', '2')`);
        assert.equal(await errorOf(client, `SELECT pgq.insert_event('q', 't', i::text) FROM generate_series(1, 3) i`),
          `Queue 'q' allows max 2 events from one TX`);
        await client.query(`SELECT pgq.insert_event('q', 't', i::text) FROM generate_series(1, 2) i`);
        await client.query(`SELECT pgq.insert_event('q', 't', i::text) FROM generate_series(1, 2) i`); // a new transaction counts anew
        await client.query(`UPDATE pgq.queue SET queue_disable_insert = true`);
        assert.equal(await errorOf(client, `SELECT pgq.insert_event('q', 't', 'd')`), 'Insert into queue disallowed');
      } finally {
        await client.end();
      }
    });

    it('reports queue figures and maintenance operations', async () => {
      const { client } = await freshDatabase(cluster, 'info');
      try {
        await client.query(`SELECT pgq.create_queue('b_queue')`);
        await client.query(`SELECT pgq.create_queue('a_queue')`);
        await client.query(`SELECT pgq.insert_event('a_queue', 't', i::text) FROM generate_series(1, 7) i`);
        const q = await client.query(`SELECT queue_name, queue_ntables, ev_new::int, last_tick_id FROM pgq.get_queue_info()`);
        assert.deepEqual(q.rows, [
          // as upstream: a fresh sequence reads as 1, so the first tick already "covers" one event
          { queue_name: 'a_queue', queue_ntables: 3, ev_new: 6, last_tick_id: '1' },
          { queue_name: 'b_queue', queue_ntables: 3, ev_new: 0, last_tick_id: '1' },
        ]);
        assert.equal((await client.query(`SELECT * FROM pgq.get_queue_info('nosuch')`)).rowCount, 0);

        await client.query(`SELECT pgq.register_consumer('a_queue', 'c')`);
        await tickNow(client, 'a_queue');
        const ci = (await client.query(`SELECT pending_events FROM pgq.get_consumer_info()`)).rows[0] as { pending_events: string };
        assert.ok(Number(ci.pending_events) >= 7, `pending_events ${ci.pending_events} counts at least the 7 events`);

        assert.deepEqual((await client.query(`SELECT * FROM pgq.maint_operations()`)).rows, [], 'autovacuum is on and nothing is due');
        await client.query(`SELECT pgq.set_queue_config('a_queue', 'rotation_period', '0')`);
        await client.query(`UPDATE pgq.queue SET queue_extra_maint = ARRAY['pgq.noop1', 'pgq.noop2'] WHERE queue_name = 'b_queue'`);
        assert.deepEqual((await client.query(`SELECT func_name, func_arg FROM pgq.maint_operations()`)).rows, [
          { func_name: 'pgq.maint_rotate_tables_step1', func_arg: 'a_queue' },
          { func_name: 'pgq.maint_rotate_tables_step2', func_arg: null },
          { func_name: 'pgq.noop1', func_arg: 'b_queue' },
          { func_name: 'pgq.noop2', func_arg: 'b_queue' },
        ]);
        assert.equal(await scalar(client, `SELECT pgq.seq_getval('pgq.batch_id_seq')`), '1');
        assert.match(await scalar<string>(client, `SELECT pgq.version()`), /^3\.\d+/);
      } finally {
        await client.end();
      }
    });
  });
}
