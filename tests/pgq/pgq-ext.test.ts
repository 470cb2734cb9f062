// pgq_ext on a real database: every function (batch, event and tick tracking, version,
// upgrade_schema, both the plain and the subconsumer forms), the upgrade of installations made
// before subconsumers existed, and the exactly-once pattern pgq_ext exists for: a consumer that
// writes into another database, records its progress there in the same transaction, and crashes
// between that commit and finish_batch, applies nothing twice after a restart.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { installSchemas } from '@skytools/core';
import { shippedVersion } from '@skytools/core/internal';
import { startCluster, testVersions, type PgCluster } from '@skytools/harness';
import { connect, freshDatabase, scalar, tickNow } from './support.js';

/** The pgq_ext tables as rows of text, for exact comparisons. */
async function rows(c: pg.ClientBase, table: string): Promise<string[]> {
  const r = await c.query<{ r: string }>(`SELECT t::text AS r FROM pgq_ext.${table} t ORDER BY 1`);
  return r.rows.map((x) => x.r);
}

async function primaryKey(c: pg.ClientBase, table: string): Promise<string> {
  return scalar<string>(c, `SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = $1::regclass AND contype = 'p'`, [`pgq_ext.${table}`]);
}

/** Tables as upstream pgq_ext created them before subconsumers (no subconsumer_id column). */
const PRE_SUBCONSUMER_TABLES = `
  CREATE SCHEMA pgq_ext;
  CREATE TABLE pgq_ext.completed_tick (consumer_id text NOT NULL, last_tick_id bigint NOT NULL, PRIMARY KEY (consumer_id));
  CREATE TABLE pgq_ext.completed_batch (consumer_id text NOT NULL, last_batch_id bigint NOT NULL, PRIMARY KEY (consumer_id));
  CREATE TABLE pgq_ext.completed_event (consumer_id text NOT NULL, batch_id bigint NOT NULL, event_id bigint NOT NULL, PRIMARY KEY (consumer_id, batch_id, event_id));
  CREATE TABLE pgq_ext.partial_batch (consumer_id text NOT NULL, cur_batch_id bigint NOT NULL, PRIMARY KEY (consumer_id));
  INSERT INTO pgq_ext.completed_tick VALUES ('old', 41);
  INSERT INTO pgq_ext.completed_batch VALUES ('old', 42);
  INSERT INTO pgq_ext.partial_batch VALUES ('old', 43);
  INSERT INTO pgq_ext.completed_event VALUES ('old', 43, 1), ('old', 43, 2);
`;

type Tracking = 'batch' | 'event' | 'tick' | 'none';

/**
 * One exactly-once case: its own queue in the source database, consumer name (on the queue and
 * in pgq_ext) and tables in the target database, so cases share the two databases and nothing else.
 */
interface Scenario {
  src: string;
  dst: string;
  queue: string;
  /** The consumer's name, on the queue and in pgq_ext. */
  name: string;
  account: string;
  ledger: string;
  /** The events put into the queue, in order. */
  events: { ev_id: string; amount: number }[];
}
type CrashPoint = 'after-commit' | 'before-commit' | 'mid-batch';

/**
 * A remote consumer as pgq_ext means it: reads batches from the queue in `src`, applies each
 * event (a non-idempotent account update plus a ledger row) in `dst`, and records its progress
 * in `dst` in the same transaction. 'none' is a consumer without pgq_ext, for contrast.
 */
class RemoteConsumer {
  /** Batches this run saw that pgq_ext said were already applied. */
  skippedBatches: string[] = [];
  /** Events this run skipped as already applied. */
  skippedEvents = 0;
  /** Batch ids this run opened, in order. */
  batches: string[] = [];

  private readonly name: string;

  constructor(
    private readonly src: pg.Client,
    private readonly dst: pg.Client,
    private readonly s: Scenario,
    private readonly tracking: Tracking,
  ) {
    this.name = s.name;
  }

  static async open(cluster: PgCluster, s: Scenario, tracking: Tracking): Promise<RemoteConsumer> {
    return new RemoteConsumer(await connect(cluster, s.src), await connect(cluster, s.dst), s, tracking);
  }

  private closed = false;

  /** Drop both connections as a crashing process would: no finish_batch, no commit. */
  async crash(): Promise<void> {
    await this.close();
  }

  /** Close both connections (once). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.src.end();
    await this.dst.end();
  }

  private async applyEvent(ev: { ev_id: string; ev_data: string }): Promise<void> {
    await this.dst.query(`UPDATE ${this.s.account} SET balance = balance + $1::int, events = events + 1`, [ev.ev_data]);
    await this.dst.query(`INSERT INTO ${this.s.ledger} (ev_id, amount) VALUES ($1, $2::int)`, [ev.ev_id, ev.ev_data]);
  }

  /**
   * Process batches until the queue has nothing new. With `crashAt`, stop dead at that point of
   * the batch numbered `crashInBatch` (1-based, in this run) and return 'crashed'.
   */
  async run(crashAt?: CrashPoint, crashInBatch = 1): Promise<'idle' | 'crashed'> {
    for (let n = 1; ; n++) {
      const info = (await this.src.query<{ batch_id: string | null; cur_tick_id: string | null }>(
        'SELECT batch_id::text, cur_tick_id::text FROM pgq.next_batch_info($1, $2)', [this.s.queue, this.name])).rows[0];
      if (info?.batch_id === null || info?.batch_id === undefined) return 'idle';
      const batchId = info.batch_id;
      const tickId = info.cur_tick_id ?? '';
      this.batches.push(batchId);
      const events = (await this.src.query<{ ev_id: string; ev_data: string }>(
        'SELECT ev_id::text, ev_data FROM pgq.get_batch_events($1) ORDER BY ev_id', [batchId])).rows;
      const crashHere = crashAt !== undefined && n === crashInBatch;

      if (this.tracking === 'event') {
        // one transaction per event, each recording itself
        let i = 0;
        for (const ev of events) {
          i += 1;
          await this.dst.query('BEGIN');
          if (await scalar<boolean>(this.dst, 'SELECT pgq_ext.is_event_done($1, $2, $3)', [this.name, batchId, ev.ev_id])) {
            this.skippedEvents += 1;
            await this.dst.query('ROLLBACK');
            continue;
          }
          await this.applyEvent(ev);
          assert.equal(await scalar(this.dst, 'SELECT pgq_ext.set_event_done($1, $2, $3)', [this.name, batchId, ev.ev_id]), true);
          await this.dst.query('COMMIT');
          if (crashHere && crashAt === 'mid-batch' && i === Math.ceil(events.length / 2)) {
            await this.crash();
            return 'crashed';
          }
        }
      } else {
        await this.dst.query('BEGIN');
        let done = false;
        if (this.tracking === 'batch') done = await scalar<boolean>(this.dst, 'SELECT pgq_ext.is_batch_done($1, $2)', [this.name, batchId]);
        if (this.tracking === 'tick') done = (await scalar<string | null>(this.dst, 'SELECT pgq_ext.get_last_tick($1)::text', [this.name])) === tickId;
        if (done) {
          this.skippedBatches.push(batchId);
          await this.dst.query('ROLLBACK');
        } else {
          for (const [i, ev] of events.entries()) {
            await this.applyEvent(ev);
            if (crashHere && crashAt === 'mid-batch' && i + 1 === Math.ceil(events.length / 2)) {
              await this.crash();
              return 'crashed';
            }
          }
          if (this.tracking === 'batch') assert.equal(await scalar(this.dst, 'SELECT pgq_ext.set_batch_done($1, $2)', [this.name, batchId]), true);
          if (this.tracking === 'tick') assert.equal(await scalar(this.dst, 'SELECT pgq_ext.set_last_tick($1, $2)', [this.name, tickId]), 1);
          if (crashHere && crashAt === 'before-commit') {
            await this.crash();
            return 'crashed';
          }
          await this.dst.query('COMMIT');
        }
      }
      if (crashHere && crashAt === 'after-commit') {
        await this.crash();
        return 'crashed';
      }
      await this.src.query('SELECT pgq.finish_batch($1)', [batchId]);
    }
  }
}

for (const major of testVersions()) {
  describe(`pgq_ext, PostgreSQL ${major}`, () => {
    let cluster: PgCluster;
    before(async () => {
      cluster = await startCluster(major);
    });
    after(async () => {
      await cluster.stop();
    });

    it('tracks the last applied batch per consumer and subconsumer', async () => {
      const { client: c } = await freshDatabase(cluster, 'ext_batch', ['pgq_ext']);
      try {
        const isDone = (args: unknown[]): Promise<boolean> => scalar<boolean>(c, `SELECT pgq_ext.is_batch_done(${args.map((_, i) => `$${i + 1}`).join(', ')})`, args);
        const setDone = (args: unknown[]): Promise<boolean> => scalar<boolean>(c, `SELECT pgq_ext.set_batch_done(${args.map((_, i) => `$${i + 1}`).join(', ')})`, args);
        assert.equal(await isDone(['c', 10]), false, 'nothing recorded yet');
        assert.equal(await setDone(['c', 10]), true);
        assert.equal(await isDone(['c', 10]), true);
        assert.equal(await setDone(['c', 10]), false, 'recording the same batch twice says it was done');
        assert.equal(await isDone(['c', 11]), false);
        assert.equal(await setDone(['c', 11]), true);
        assert.equal(await isDone(['c', 11]), true);
        assert.equal(await isDone(['c', 10]), false, 'only the last batch is remembered');
        // the two-argument form is subconsumer ''
        assert.equal(await isDone(['c', '', 11]), true);
        assert.equal(await isDone(['c', 'part1', 11]), false, 'subconsumers are tracked apart');
        assert.equal(await setDone(['c', 'part1', 11]), true);
        assert.equal(await setDone(['c', 'part2', 12]), true);
        assert.equal(await isDone(['c', 'part1', 11]), true);
        assert.equal(await isDone(['c', 'part2', 11]), false);
        assert.equal(await isDone(['other', 11]), false, 'consumers are tracked apart');
        // batch ids of zero or less are accepted and not recorded (as upstream)
        assert.equal(await setDone(['z', 0]), true);
        assert.equal(await isDone(['z', 0]), false);
        assert.deepEqual(await rows(c, 'completed_batch'), ['(c,"",11)', '(c,part1,11)', '(c,part2,12)']);
        // NULL names never match anything
        assert.equal(await isDone([null, 11]), false);
      } finally {
        await c.end();
      }
    });

    it('tracks applied events of the batch in progress, forgetting the previous batch', async () => {
      const { client: c } = await freshDatabase(cluster, 'ext_event', ['pgq_ext']);
      try {
        const call = (fn: string, args: unknown[]): Promise<boolean> => scalar<boolean>(c, `SELECT pgq_ext.${fn}(${args.map((_, i) => `$${i + 1}`).join(', ')})`, args);
        assert.equal(await call('is_event_done', ['c', 1, 100]), false);
        assert.equal(await call('set_event_done', ['c', 1, 100]), true);
        assert.equal(await call('set_event_done', ['c', 1, 101]), true);
        assert.equal(await call('is_event_done', ['c', 1, 100]), true);
        assert.equal(await call('is_event_done', ['c', 1, 101]), true);
        assert.equal(await call('is_event_done', ['c', 1, 102]), false);
        assert.equal(await call('set_event_done', ['c', 1, 100]), false, 'already recorded');
        assert.equal(await call('is_event_done', ['c', 2, 100]), false, 'the same event id in another batch is another event');
        assert.deepEqual(await rows(c, 'partial_batch'), ['(c,"",1)']);
        assert.deepEqual(await rows(c, 'completed_event'), ['(c,"",1,100)', '(c,"",1,101)']);

        // the next batch starts: the previous one's events are forgotten
        assert.equal(await call('set_event_done', ['c', 2, 200]), true);
        assert.equal(await call('is_event_done', ['c', 1, 100]), false);
        assert.equal(await call('is_event_done', ['c', 2, 200]), true);
        assert.deepEqual(await rows(c, 'partial_batch'), ['(c,"",2)']);
        assert.deepEqual(await rows(c, 'completed_event'), ['(c,"",2,200)']);

        // subconsumers: their own batch in progress; the 3-argument form is subconsumer ''
        assert.equal(await call('is_event_done', ['c', '', 2, 200]), true);
        assert.equal(await call('is_event_done', ['c', 's1', 2, 200]), false);
        assert.equal(await call('set_event_done', ['c', 's1', 5, 500]), true);
        assert.equal(await call('set_event_done', ['c', 's1', 5, 500]), false);
        assert.equal(await call('is_event_done', ['c', 's1', 5, 500]), true);
        assert.equal(await call('is_event_done', ['c', 2, 200]), true, 'another subconsumer\'s batch does not reset this one');
        assert.equal(await call('set_event_done', ['d', 5, 500]), true, 'another consumer');
        assert.deepEqual(await rows(c, 'partial_batch'), ['(c,"",2)', '(c,s1,5)', '(d,"",5)']);
        assert.deepEqual(await rows(c, 'completed_event'), ['(c,"",2,200)', '(c,s1,5,500)', '(d,"",5,500)']);
      } finally {
        await c.end();
      }
    });

    it('records, updates and forgets the last tick per consumer and subconsumer', async () => {
      const { client: c } = await freshDatabase(cluster, 'ext_tick', ['pgq_ext']);
      try {
        const get = (args: unknown[]): Promise<string | null> => scalar<string | null>(c, `SELECT pgq_ext.get_last_tick(${args.map((_, i) => `$${i + 1}`).join(', ')})::text`, args);
        const set = (args: unknown[]): Promise<number> => scalar<number>(c, `SELECT pgq_ext.set_last_tick(${args.map((_, i) => `$${i + 1}`).join(', ')})`, args);
        assert.equal(await get(['c']), null);
        assert.equal(await set(['c', 5]), 1);
        assert.equal(await get(['c']), '5');
        assert.equal(await set(['c', 7]), 1);
        assert.equal(await get(['c']), '7');
        assert.equal(await get(['c', '']), '7', 'the one-argument form is subconsumer \'\'');
        assert.equal(await get(['c', 's']), null);
        assert.equal(await set(['c', 's', 3]), 1);
        assert.equal(await get(['c', 's']), '3');
        assert.equal(await get(['d']), null);
        assert.deepEqual(await rows(c, 'completed_tick'), ['(c,"",7)', '(c,s,3)']);
        assert.equal(await set(['c', null]), 1, 'NULL forgets');
        assert.equal(await get(['c']), null);
        assert.equal(await get(['c', 's']), '3', 'only that subconsumer is forgotten');
        assert.equal(await set(['c', 's', null]), 1);
        assert.equal(await set(['nobody', null]), 1, 'forgetting an unknown consumer is fine');
        assert.deepEqual(await rows(c, 'completed_tick'), []);
      } finally {
        await c.end();
      }
    });

    it('reports its version, and upgrade_schema() adds subconsumers to older tables keeping their rows', async () => {
      const { client: c } = await freshDatabase(cluster, 'ext_version', ['pgq_ext']);
      try {
        assert.equal(await scalar(c, 'SELECT pgq_ext.version()'), shippedVersion('pgq_ext'));
        assert.match(await scalar<string>(c, 'SELECT pgq_ext.version()'), /^\d+\.\d+(\.\d+)*$/);
        assert.equal(await scalar(c, 'SELECT pgq_ext.upgrade_schema()'), 0, 'nothing to do on a current installation');

        // an installation from before subconsumers: drop the column (and with it the keys), restore the old keys
        await c.query(`DELETE FROM pgq_ext.completed_batch; DELETE FROM pgq_ext.completed_tick`);
        for (const [t, key] of [['completed_tick', 'consumer_id'], ['completed_batch', 'consumer_id'], ['completed_event', 'consumer_id, batch_id, event_id'], ['partial_batch', 'consumer_id']] as const) {
          await c.query(`ALTER TABLE pgq_ext.${t} DROP COLUMN subconsumer_id`);
          await c.query(`ALTER TABLE pgq_ext.${t} ADD CONSTRAINT ${t}_pkey PRIMARY KEY (${key})`);
        }
        await c.query(`INSERT INTO pgq_ext.completed_batch VALUES ('old', 42)`);
        await c.query(`INSERT INTO pgq_ext.completed_tick VALUES ('old', 41)`);
        assert.equal(await scalar(c, 'SELECT pgq_ext.upgrade_schema()'), 4, 'one change per table');
        assert.equal(await scalar(c, 'SELECT pgq_ext.upgrade_schema()'), 0, 'and nothing the second time');
        assert.equal(await primaryKey(c, 'completed_event'), 'PRIMARY KEY (consumer_id, subconsumer_id, batch_id, event_id)');
        assert.equal(await scalar(c, 'SELECT pgq_ext.is_batch_done($1, $2)', ['old', 42]), true);
        assert.equal(await scalar(c, 'SELECT pgq_ext.get_last_tick($1)::text', ['old']), '41');

        // upstream 3.1 tables: subconsumer_id without a default
        for (const t of ['completed_tick', 'completed_batch', 'completed_event', 'partial_batch']) {
          await c.query(`ALTER TABLE pgq_ext.${t} ALTER COLUMN subconsumer_id DROP DEFAULT`);
        }
        assert.equal(await scalar(c, 'SELECT pgq_ext.upgrade_schema()'), 4);
        const defaults = await c.query<{ column_default: string | null }>(
          `SELECT column_default FROM information_schema.columns WHERE table_schema = 'pgq_ext' AND column_name = 'subconsumer_id' ORDER BY table_name`);
        assert.deepEqual(defaults.rows.map((r) => r.column_default), ["''::text", "''::text", "''::text", "''::text"]);
        assert.equal(await scalar(c, 'SELECT pgq_ext.upgrade_schema()'), 0);
      } finally {
        await c.end();
      }
    });

    it('the installer upgrades a pgq_ext made before subconsumers, keeping its progress', async () => {
      await cluster.createDatabase('ext_legacy');
      const c = await connect(cluster, 'ext_legacy');
      try {
        await c.query(PRE_SUBCONSUMER_TABLES);
        const res = await installSchemas(c, ['pgq_ext']);
        assert.deepEqual(res.map((r) => [r.schema, r.version]), [['pgq_ext', shippedVersion('pgq_ext')]]);
        for (const [t, key] of [
          ['completed_tick', 'consumer_id, subconsumer_id'],
          ['completed_batch', 'consumer_id, subconsumer_id'],
          ['completed_event', 'consumer_id, subconsumer_id, batch_id, event_id'],
          ['partial_batch', 'consumer_id, subconsumer_id'],
        ] as const) {
          assert.equal(await primaryKey(c, t), `PRIMARY KEY (${key})`, t);
        }
        assert.deepEqual(await rows(c, 'completed_batch'), ['(old,42,"")']);
        assert.deepEqual(await rows(c, 'completed_event'), ['(old,43,1,"")', '(old,43,2,"")']);
        // the old progress answers through the new functions
        assert.equal(await scalar(c, `SELECT pgq_ext.get_last_tick('old')::text`), '41');
        assert.equal(await scalar(c, `SELECT pgq_ext.is_batch_done('old', 42)`), true);
        assert.equal(await scalar(c, `SELECT pgq_ext.set_batch_done('old', 42)`), false);
        assert.equal(await scalar(c, `SELECT pgq_ext.is_event_done('old', 43, 2)`), true);
        assert.equal(await scalar(c, `SELECT pgq_ext.set_event_done('old', 43, 3)`), true);
        assert.equal(await scalar(c, `SELECT pgq_ext.set_event_done('old', 43, 1)`), false);
        // and subconsumers, which the old keys refused, now work beside it
        assert.equal(await scalar(c, `SELECT pgq_ext.set_batch_done('old', 'sub', 42)`), true);
        assert.equal(await scalar(c, `SELECT pgq_ext.set_last_tick('old', 'sub', 9)`), 1);
        assert.equal(await scalar(c, `SELECT pgq_ext.get_last_tick('old')::text`), '41');
        assert.equal(await scalar(c, 'SELECT pgq_ext.upgrade_schema()'), 0);
        assert.deepEqual((await installSchemas(c, ['pgq_ext'])).map((r) => r.action), ['unchanged']);
      } finally {
        await c.end();
      }
    });

    describe('exactly once into another database', () => {
      let n = 0;
      const dbs = { src: '', dst: '' };
      before(async () => {
        for (const [k, schema] of [['src', 'pgq'], ['dst', 'pgq_ext']] as const) {
          const { db, client } = await freshDatabase(cluster, `eo_${k}`, [schema]);
          await client.end();
          dbs[k] = db;
        }
      });
      /** A new queue with three batches (5, 7 and 3 events) and new target tables for the consumer. */
      const setup = async (): Promise<Scenario> => {
        n += 1;
        const s: Scenario = { ...dbs, queue: `q${n}`, name: `remote${n}`, account: `account${n}`, ledger: `ledger${n}`, events: [] };
        await cluster.query(s.dst, `CREATE TABLE ${s.account} (balance bigint NOT NULL, events int NOT NULL); INSERT INTO ${s.account} VALUES (0, 0);
                                    CREATE TABLE ${s.ledger} (id serial PRIMARY KEY, ev_id bigint NOT NULL, amount int NOT NULL)`);
        await cluster.withClient(s.src, async (c) => {
          await c.query('SELECT pgq.create_queue($1)', [s.queue]);
          await c.query('SELECT pgq.register_consumer($1, $2)', [s.queue, s.name]);
          for (const size of [5, 7, 3]) {
            for (let i = 0; i < size; i++) {
              const amount = 1 + s.events.length * 10;
              s.events.push({ ev_id: await scalar<string>(c, `SELECT pgq.insert_event($1, 'credit', $2)::text`, [s.queue, String(amount)]), amount });
            }
            await tickNow(c, s.queue);
          }
        });
        return s;
      };
      /** The target holds every source event exactly once, and the consumer finished every batch. */
      const assertExactlyOnce = async (s: Scenario): Promise<void> => {
        assert.equal(s.events.length, 15);
        const ledger = await cluster.query<{ ev_id: string; amount: number }>(s.dst, `SELECT ev_id::text AS ev_id, amount FROM ${s.ledger} ORDER BY ${s.ledger}.ev_id, id`);
        assert.deepEqual(ledger, s.events, `each event applied once: ${JSON.stringify(ledger)} vs ${JSON.stringify(s.events)}`);
        const total = s.events.reduce((a, e) => a + e.amount, 0);
        assert.deepEqual(await cluster.query(s.dst, `SELECT balance::int, events FROM ${s.account}`), [{ balance: total, events: s.events.length }]);
        const pending = await cluster.query<{ n: string }>(s.src, 'SELECT pending_events::text AS n FROM pgq.get_consumer_info($1, $2) WHERE current_batch IS NULL', [s.queue, s.name]);
        assert.deepEqual(pending, [{ n: '0' }], 'the consumer finished every batch');
      };

      it('a consumer without pgq_ext applies the batch twice after such a crash (the problem)', async () => {
        const s = await setup();
        const first = await RemoteConsumer.open(cluster, s, 'none');
        try {
          assert.equal(await first.run('after-commit', 2), 'crashed');
        } finally {
          await first.close();
        }
        const second = await RemoteConsumer.open(cluster, s, 'none');
        try {
          assert.equal(await second.run(), 'idle');
          assert.equal(second.batches[0], first.batches[1], 'the unfinished batch comes again');
        } finally {
          await second.close();
        }
        const r = await cluster.query<{ n: number }>(s.dst, `SELECT events AS n FROM ${s.account}`);
        assert.equal(r[0]?.n, 15 + 7, 'the second batch (7 events) was applied twice');
      });

      for (const tracking of ['batch', 'tick'] as const) {
        for (const crashAt of ['after-commit', 'before-commit', 'mid-batch'] as const) {
          it(`${tracking} tracking: a crash ${crashAt.replace('-', ' ')} of the second batch applies nothing twice`, async () => {
            const s = await setup();
            const first = await RemoteConsumer.open(cluster, s, tracking);
            try {
              assert.equal(await first.run(crashAt, 2), 'crashed');
            } finally {
              await first.close();
            }
            const crashed = first.batches[1];
            const second = await RemoteConsumer.open(cluster, s, tracking);
            try {
              assert.equal(await second.run(), 'idle');
              assert.equal(second.batches[0], crashed, 'the unfinished batch comes again');
              // committed before the crash: recognised and skipped; not committed: applied now
              assert.deepEqual(second.skippedBatches, crashAt === 'after-commit' ? [crashed] : []);
            } finally {
              await second.close();
            }
            await assertExactlyOnce(s);
          });
        }
      }

      for (const crashAt of ['mid-batch', 'after-commit'] as const) {
        it(`event tracking: a crash ${crashAt.replace('-', ' ')} of the second batch applies each event once`, async () => {
          const s = await setup();
          const first = await RemoteConsumer.open(cluster, s, 'event');
          try {
            assert.equal(await first.run(crashAt, 2), 'crashed');
          } finally {
            await first.close();
          }
          const second = await RemoteConsumer.open(cluster, s, 'event');
          try {
            assert.equal(await second.run(), 'idle');
            assert.equal(second.batches[0], first.batches[1]);
            // 4 of the 7 events were committed before a mid-batch crash, all 7 before the other
            assert.equal(second.skippedEvents, crashAt === 'mid-batch' ? 4 : 7);
          } finally {
            await second.close();
          }
          await assertExactlyOnce(s);
        });
      }
    });
  });
}
