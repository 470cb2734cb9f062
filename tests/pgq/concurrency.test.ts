// PgQ correctness when transactions overlap ticks, abort, or outlive table rotation.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startCluster, testVersions, type PgCluster } from '@skytools/harness';
import { connect, drain, freshDatabase, readBatch, scalar, tickNow, type EventRow } from './support.js';

function checksum(values: readonly string[]): string {
  return createHash('sha256').update([...values].sort().join('\n')).digest('hex');
}

for (const major of testVersions()) {
  describe(`PgQ under concurrency, PostgreSQL ${major}`, () => {
    let cluster: PgCluster;
    before(async () => {
      cluster = await startCluster(major);
    });
    after(async () => {
      await cluster.stop();
    });

    it('delivers a transaction open across ticks once, in the first batch after its commit', async () => {
      const { db, client } = await freshDatabase(cluster, 'longtx');
      const producer = await connect(cluster, db);
      try {
        await client.query(`SELECT pgq.create_queue('q')`);
        await client.query(`SELECT pgq.register_consumer('q', 'c')`);

        await producer.query('BEGIN');
        await producer.query(`SELECT pgq.insert_event('q', 'long', 'before-ticks')`);
        await client.query(`SELECT pgq.insert_event('q', 'short', '1')`);
        await tickNow(client, 'q');
        const b1 = await drain(client, 'q', 'c');
        assert.deepEqual(b1.map((e) => e.ev_data), ['1'], 'the open transaction is not in the first batch');

        await client.query(`SELECT pgq.insert_event('q', 'short', '2')`);
        await tickNow(client, 'q');
        await producer.query(`SELECT pgq.insert_event('q', 'long', 'after-ticks')`);
        const b2 = await drain(client, 'q', 'c');
        assert.deepEqual(b2.map((e) => e.ev_data), ['2']);

        await producer.query('COMMIT');
        await tickNow(client, 'q');
        const b3 = await drain(client, 'q', 'c');
        assert.deepEqual(b3.map((e) => e.ev_data).sort(), ['after-ticks', 'before-ticks']);

        await tickNow(client, 'q');
        assert.deepEqual(await drain(client, 'q', 'c'), [], 'nothing is delivered twice');
      } finally {
        await producer.end();
        await client.end();
      }
    });

    it('two sessions registering one new consumer name at once both succeed, the second finding the first', async () => {
      const { db, client } = await freshDatabase(cluster, 'regrace');
      const other = await connect(cluster, db);
      try {
        await client.query(`SELECT pgq.create_queue('q')`);
        await tickNow(client, 'q');
        await client.query('BEGIN');
        assert.equal(await scalar(client, `SELECT pgq.register_consumer('q', 'racer')`), 1);
        // the second registration runs while the first is not committed: it waits for it (it
        // failed on consumer_name_uq before), then finds the subscription made
        const second = other.query<{ n: number }>(`SELECT pgq.register_consumer('q', 'racer') AS n`);
        await new Promise((r) => setTimeout(r, 300));
        await client.query('COMMIT');
        assert.equal((await second).rows[0]?.n, 0);
        assert.equal(await scalar(client, `SELECT count(*)::int FROM pgq.get_consumer_info('q', 'racer')`), 1);
      } finally {
        await other.end();
        await client.end();
      }
    });

    for (const call of ['next_batch', 'next_batch_merged'] as const) {
      it(`two sessions opening one consumer's batch at once (${call}) get the same batch`, async () => {
        const { db, client } = await freshDatabase(cluster, `openrace_${call}`);
        const other = await connect(cluster, db);
        try {
          await client.query(`SELECT pgq.create_queue('q')`);
          await client.query(`SELECT pgq.register_consumer('q', 'c')`);
          await client.query(`SELECT pgq.insert_event('q', 'e', 'x')`);
          await tickNow(client, 'q');
          const open = call === 'next_batch' ? `pgq.next_batch('q', 'c')` : `(pgq.next_batch_merged('q', 'c', 1000)).batch_id`;
          await client.query('BEGIN');
          const first = await scalar<string>(client, `SELECT ${open}::text`);
          // the second opens while the first is not committed: it saw no open batch and waits on
          // the subscription row; it took a new batch id over the same ticks before (two processes
          // of one consumer name then applied the same events twice)
          const otherPid = (await other.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid;
          let returned = false;
          const second = other.query<{ b: string }>(`SELECT ${open}::text AS b`).finally(() => (returned = true));
          // the race happens only once the second waits on the first's row lock
          for (let i = 0; ; i++) {
            const w = await client.query<{ blocked: boolean }>(`SELECT pg_backend_pid() = ANY (pg_blocking_pids($1)) AS blocked`, [otherPid]);
            if (w.rows[0]?.blocked === true) break;
            assert.ok(i < 300 && !returned, 'the second session waits on the first');
            await new Promise((r) => setTimeout(r, 50));
          }
          await client.query('COMMIT');
          assert.equal((await second).rows[0]?.b, first, 'the batch the first session opened');
          assert.equal(await scalar(client, `SELECT current_batch::text FROM pgq.get_consumer_info('q', 'c')`), first);
          const events = await client.query<EventRow>('SELECT * FROM pgq.get_batch_events($1)', [first]);
          assert.deepEqual(events.rows.map((e) => e.ev_data), ['x']);
        } finally {
          await other.end();
          await client.end();
        }
      });
    }

    it('never delivers events of aborted transactions or rolled-back savepoints', async () => {
      const { client } = await freshDatabase(cluster, 'abort');
      try {
        await client.query(`SELECT pgq.create_queue('q')`);
        await client.query(`SELECT pgq.register_consumer('q', 'c')`);
        await client.query('BEGIN');
        await client.query(`SELECT pgq.insert_event('q', 't', 'aborted')`);
        await client.query('ROLLBACK');
        await client.query('BEGIN');
        await client.query(`SELECT pgq.insert_event('q', 't', 'kept')`);
        await client.query('SAVEPOINT s');
        await client.query(`SELECT pgq.insert_event('q', 't', 'undone')`);
        await client.query('ROLLBACK TO SAVEPOINT s');
        await client.query('COMMIT');
        await tickNow(client, 'q');
        assert.deepEqual((await drain(client, 'q', 'c')).map((e) => e.ev_data), ['kept']);
      } finally {
        await client.end();
      }
    });

    it('loses nothing when tables rotate while a consumer lags and a transaction spans the switch', async () => {
      const { db, client } = await freshDatabase(cluster, 'rotate');
      const producer = await connect(cluster, db);
      try {
        await client.query(`SELECT pgq.create_queue('q')`);
        await client.query(`SELECT pgq.set_queue_config('q', 'rotation_period', '0')`);
        await client.query(`SELECT pgq.register_consumer('q', 'fast')`);
        await client.query(`SELECT pgq.register_consumer('q', 'slow')`);
        const expected: string[] = [];
        const fast: EventRow[] = [];
        const slow: EventRow[] = [];
        const rotations = async (): Promise<void> => {
          // what pgqd does: every operation in its own transaction
          const ops = await client.query<{ func_name: string; func_arg: string | null }>(`SELECT * FROM pgq.maint_operations()`);
          for (const op of ops.rows) {
            if (op.func_name.startsWith('pgq.maint_rotate_tables')) {
              await client.query(`SELECT ${op.func_name}(${op.func_arg === null ? '' : '$1'})`, op.func_arg === null ? [] : [op.func_arg]);
            }
          }
        };
        const currentTable = (): Promise<number> => scalar<number>(client, `SELECT queue_cur_table FROM pgq.queue`);
        // the current event table after each round
        const tables: number[] = [];
        let spanningTable = '';
        for (let round = 0; round < 8; round++) {
          if (round === 3) {
            await producer.query('BEGIN');
            await producer.query(`SELECT pgq.insert_event('q', 'long', 'spanning')`);
            expected.push('spanning');
            spanningTable = await scalar<string>(client, `SELECT pgq.current_event_table('q')`);
          }
          if (round === 6) {
            assert.notEqual(await scalar<string>(client, `SELECT pgq.current_event_table('q')`), spanningTable, 'the spanning transaction commits after a switch');
            await producer.query('COMMIT');
          }
          const ins = await client.query<{ v: string }>(`SELECT pgq.insert_event('q', 't', $1 || '-' || i) AS v FROM generate_series(1, 50) i`, [round]);
          for (let i = 1; i <= 50; i++) expected.push(`${round}-${i}`);
          assert.equal(ins.rowCount, 50);
          await tickNow(client, 'q');
          fast.push(...(await drain(client, 'q', 'fast')));
          // the slow consumer lags further and further: one batch every other round; moving at
          // all lets a table switch happen now and then, lagging keeps it from going further
          if (round % 2 === 1) {
            const b = await readBatch(client, 'q', 'slow');
            assert.ok(b !== null, `round ${round}: the slow consumer has a batch`);
            slow.push(...b.events);
            await client.query(`SELECT pgq.finish_batch($1)`, [b.batchId]);
          }
          await rotations();
          await rotations();
          tables.push(await currentTable());
        }
        // the rotation really happened while the consumer lagged, once while the long transaction was open
        const switches = tables.filter((t, i) => i > 0 && t !== tables[i - 1]).length;
        assert.ok(switches >= 2, `at least two table switches during the lagging rounds; current table after each round: ${tables.join(',')}`);
        assert.notEqual(tables[5], tables[2], `a switch while the transaction begun in round 3 was open (rounds 3-5); current table after each round: ${tables.join(',')}`);
        const used = await scalar<number>(client, `SELECT count(DISTINCT tableoid)::int FROM pgq.event_template`);
        assert.ok(used >= 2, `events sit in ${used} event table(s)`);
        await tickNow(client, 'q');
        fast.push(...(await drain(client, 'q', 'fast')));
        const cur = await currentTable();

        slow.push(...(await drain(client, 'q', 'slow')));
        assert.equal(slow.length, expected.length, 'the lagging consumer gets every event');
        assert.equal(checksum(slow.map((e) => e.ev_data ?? '')), checksum(expected));
        assert.equal(checksum(fast.map((e) => e.ev_data ?? '')), checksum(expected), 'the fast consumer too');

        // with nobody lagging, rotation proceeds: the current table has moved at least once
        for (let i = 0; i < 4; i++) {
          await tickNow(client, 'q');
          await drain(client, 'q', 'fast');
          await drain(client, 'q', 'slow');
          await rotations();
        }
        const after = await currentTable();
        assert.notEqual(after, cur, 'tables rotated once every consumer had moved on');
      } finally {
        await producer.end();
        await client.end();
      }
    });

    it('a consumer using only the documented API reads back exactly what concurrent producers wrote', async () => {
      const { db, client } = await freshDatabase(cluster, 'producers');
      const producers = 4;
      const perProducer = 250;
      const conns = await Promise.all(Array.from({ length: producers }, () => connect(cluster, db)));
      try {
        await client.query(`SELECT pgq.create_queue('q')`);
        await client.query(`SELECT pgq.register_consumer('q', 'reader')`);
        const written: string[] = [];
        let producing = true;
        const work = conns.map(async (conn, p) => {
          for (let i = 0; i < perProducer; i += 5) {
            await conn.query('BEGIN');
            const pending: string[] = [];
            for (let k = i; k < i + 5; k++) {
              const data = `p${p}-e${k}-${'德哥'.repeat(k % 3)}`;
              await conn.query(`SELECT pgq.insert_event('q', 'ev', $1)`, [data]);
              pending.push(data);
            }
            // every 7th transaction is rolled back: its events must never appear
            if ((i / 5) % 7 === 3) {
              await conn.query('ROLLBACK');
            } else {
              await conn.query('COMMIT');
              written.push(...pending);
            }
          }
        });
        const ticker = (async () => {
          const t = await connect(cluster, db);
          try {
            while (producing) {
              await t.query(`SELECT pgq.force_tick('q')`);
              await t.query(`SELECT pgq.ticker()`);
              await new Promise((r) => setTimeout(r, 5));
            }
            await t.query(`SELECT pgq.force_tick('q')`);
            await t.query(`SELECT pgq.ticker()`);
          } finally {
            await t.end();
          }
        })();
        const read: string[] = [];
        const reader = (async () => {
          for (;;) {
            const batch = await readBatch(client, 'q', 'reader');
            if (batch === null) {
              if (!producing) {
                // the final tick may land just after: look once more after it
                await ticker;
                const last = await drain(client, 'q', 'reader');
                read.push(...last.map((e) => e.ev_data ?? ''));
                return;
              }
              await new Promise((r) => setTimeout(r, 5));
              continue;
            }
            read.push(...batch.events.map((e) => e.ev_data ?? ''));
            await client.query(`SELECT pgq.finish_batch($1)`, [batch.batchId]);
          }
        })();
        await Promise.all(work);
        producing = false;
        await reader;
        assert.equal(read.length, written.length, `read ${read.length} events, producers committed ${written.length}`);
        assert.equal(new Set(read).size, read.length, 'no event read twice');
        assert.equal(checksum(read), checksum(written), 'same events, byte for byte');
      } finally {
        await Promise.all(conns.map((c) => c.end()));
        await client.end();
      }
    });
  });
}
