// pgq.ticker() thresholds and its NOTIFY, on a real server. What the SQL implements (as upstream
// PgQ 3.5 does), per queue, at each call:
//   - events waiting (the event sequence moved since the last tick): tick when at least
//     ticker_max_count of them wait, or when ticker_max_lag has passed since the last tick;
//   - no events waiting: tick when at least ticker_max_lag/2 has passed since the last tick and
//     either twice the previous gap between ticks or ticker_idle_period has passed (the gaps of an
//     idle queue double up to the idle period); a queue with a single tick ticks at once;
//   - ticker_paused queues (and external-ticker queues) are refused by pgq.ticker(queue) and
//     skipped by pgq.ticker();
//   - a tick that may carry events runs pg_notify('pgq_tick', queue name) in the ticking
//     transaction: the event sequence moved since the last tick (events, or force_tick), or the
//     queue holds committed events the last tick's snapshot did not see; an idle tick is not
//     announced, and under skytools.quiet_tick = on a call ticks at once and announces only
//     committed events.
// Each ticker call below reads the state it decides on (lag since the last tick, the previous
// gap, the waiting events) in the same transaction as the call, so now() is the same instant for
// both and the rule is checked exactly, whatever the machine's speed. Nothing here asserts that
// something happened within a time; time only ever makes a tick due, and polls wait for that.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { startCluster, testVersions, type PgCluster } from '@skytools/harness';
import { connect, drain, errorOf, freshDatabase, scalar, tickNow } from './support.js';
import { waitFor } from '../replication/replication-env.js';

/** The state one pgq.ticker(queue) call decided on, and its result. Durations in microseconds. */
interface TickerCall {
  ticked: string | null;
  lagUs: number;
  prevGapUs: number | null;
  newEvents: number;
  maxCount: number;
  maxLagUs: number;
  idleUs: number;
}

const us = (col: string): string => `(extract(epoch FROM ${col}) * 1000000)::bigint::text`;

/** One pgq.ticker(queue) call in its own transaction, with the state it saw. */
async function tickerCall(c: pg.ClientBase, queue: string): Promise<TickerCall> {
  await c.query('BEGIN');
  try {
    const st = await c.query<{ lag: string; prev_gap: string | null; new_events: string; max_count: number; max_lag: string; idle: string }>(
      `SELECT ${us('now() - l.tick_time')} AS lag,
              ${us('l.tick_time - p.tick_time')} AS prev_gap,
              (pgq.seq_getval(q.queue_event_seq) - l.tick_event_seq)::text AS new_events,
              q.queue_ticker_max_count AS max_count,
              ${us('q.queue_ticker_max_lag')} AS max_lag,
              ${us('q.queue_ticker_idle_period')} AS idle
         FROM pgq.queue q
         CROSS JOIN LATERAL (SELECT tick_id, tick_time, tick_event_seq FROM pgq.tick
                              WHERE tick_queue = q.queue_id ORDER BY tick_id DESC LIMIT 1) l
         LEFT JOIN LATERAL (SELECT tick_time FROM pgq.tick
                             WHERE tick_queue = q.queue_id AND tick_id < l.tick_id ORDER BY tick_id DESC LIMIT 1) p ON true
        WHERE q.queue_name = $1`,
      [queue],
    );
    const s = st.rows[0];
    if (s === undefined) throw new Error(`queue ${queue} has no tick`);
    const ticked = await scalar<string | null>(c, 'SELECT pgq.ticker($1)::text', [queue]);
    await c.query('COMMIT');
    return {
      ticked,
      lagUs: Number(s.lag),
      prevGapUs: s.prev_gap === null ? null : Number(s.prev_gap),
      newEvents: Number(s.new_events),
      maxCount: s.max_count,
      maxLagUs: Number(s.max_lag),
      idleUs: Number(s.idle),
    };
  } catch (err) {
    await c.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

/** The ticker rule (see the top of the file): should this call have ticked? */
function due(s: TickerCall): boolean {
  if (s.newEvents > 0) return s.newEvents >= s.maxCount || s.lagUs >= s.maxLagUs;
  if (s.prevGapUs === null) return true;
  return s.lagUs >= s.maxLagUs / 2 && (s.lagUs >= 2 * s.prevGapUs || s.lagUs >= s.idleUs);
}

function checkRule(s: TickerCall, what: string): void {
  const fmt = (n: number | null): string => (n === null ? 'none' : `${(n / 1000).toFixed(3)} ms`);
  assert.equal(
    s.ticked !== null,
    due(s),
    `${what}: pgq.ticker ${s.ticked === null ? 'did not tick' : `ticked (${s.ticked})`} with ${s.newEvents} new events, ` +
      `lag ${fmt(s.lagUs)}, previous gap ${fmt(s.prevGapUs)}, max_count ${s.maxCount}, max_lag ${fmt(s.maxLagUs)}, idle_period ${fmt(s.idleUs)}`,
  );
}

async function configure(c: pg.ClientBase, queue: string, cfg: Record<string, string>): Promise<void> {
  for (const [k, v] of Object.entries(cfg)) await c.query('SELECT pgq.set_queue_config($1, $2, $3)', [queue, k, v]);
}

async function tickCount(c: pg.ClientBase, queue: string): Promise<number> {
  return scalar<number>(c, `SELECT count(*)::int FROM pgq.tick t JOIN pgq.queue q ON q.queue_id = t.tick_queue WHERE q.queue_name = $1`, [queue]);
}

/** tick_time and tick_event_seq distance between a tick and the one before it. */
async function tickStep(c: pg.ClientBase, queue: string, tickId: string): Promise<{ gapUs: number; events: number }> {
  const r = await c.query<{ gap: string; events: string }>(
    `SELECT ${us('t.tick_time - p.tick_time')} AS gap, (t.tick_event_seq - p.tick_event_seq)::text AS events
       FROM pgq.queue q
       JOIN pgq.tick t ON t.tick_queue = q.queue_id AND t.tick_id = $2
       CROSS JOIN LATERAL (SELECT tick_time, tick_event_seq FROM pgq.tick
                            WHERE tick_queue = q.queue_id AND tick_id < t.tick_id ORDER BY tick_id DESC LIMIT 1) p
      WHERE q.queue_name = $1`,
    [queue, tickId],
  );
  const row = r.rows[0];
  if (row === undefined) throw new Error(`no tick ${tickId} with a predecessor in ${queue}`);
  return { gapUs: Number(row.gap), events: Number(row.events) };
}

/** Collects NOTIFY messages; `through(marker)` returns those received before the marker. */
class Listener {
  private readonly got: { channel: string; payload: string }[] = [];
  private constructor(private readonly client: pg.Client) {
    client.on('notification', (m) => this.got.push({ channel: m.channel, payload: m.payload ?? '' }));
  }

  static async start(cluster: PgCluster, db: string): Promise<Listener> {
    const client = new pg.Client(cluster.clientConfig(db));
    await client.connect();
    await client.query('LISTEN pgq_tick');
    return new Listener(client);
  }

  /**
   * The pgq_tick payloads that arrived before `marker`, which the caller has just sent on the
   * same channel from the session that did the ticking, in a later transaction: PostgreSQL
   * delivers one session's notifications in commit order, so everything committed before the
   * marker has arrived once the marker has. Consumes what it returns.
   */
  async through(marker: string): Promise<string[]> {
    await waitFor(`notification ${marker}`, 30_000, async () => (this.got.some((m) => m.payload === marker) ? true : undefined), () => JSON.stringify(this.got));
    const i = this.got.findIndex((m) => m.payload === marker);
    const before = this.got.splice(0, i + 1).slice(0, i);
    for (const m of before) assert.equal(m.channel, 'pgq_tick');
    return before.map((m) => m.payload);
  }

  async stop(): Promise<void> {
    await this.client.end();
  }
}

/** Sends numbered markers on pgq_tick, so that a listener can tell which notifications came before each. */
function markers(client: pg.ClientBase): () => Promise<string> {
  let marks = 0;
  return async () => {
    marks += 1;
    const m = `marker-${marks}`;
    await client.query(`SELECT pg_notify('pgq_tick', $1)`, [m]);
    return m;
  };
}

for (const major of testVersions()) {
  describe(`pgq.ticker thresholds and NOTIFY, PostgreSQL ${major}`, () => {
    let cluster: PgCluster;
    before(async () => {
      cluster = await startCluster(major);
    });
    after(async () => {
      await cluster.stop();
    });

    it('ticks once ticker_max_count events wait, not before', async () => {
      const { client } = await freshDatabase(cluster, 'maxcount');
      try {
        await client.query(`SELECT pgq.create_queue('q')`);
        await client.query(`SELECT pgq.register_consumer('q', 'c')`);
        // only the count can make it due: an hour of lag or idleness never passes in this test
        await configure(client, 'q', { ticker_max_count: '5', ticker_max_lag: '1 hour', ticker_idle_period: '1 hour' });
        await tickNow(client, 'q');
        assert.deepEqual(await drain(client, 'q', 'c'), []);
        const ticks = await tickCount(client, 'q');

        for (let i = 1; i <= 4; i++) {
          await client.query(`SELECT pgq.insert_event('q', 'ev', $1)`, [String(i)]);
          const s = await tickerCall(client, 'q');
          checkRule(s, `after ${i} of 5 events`);
          assert.equal(s.ticked, null, `${i} waiting events are below ticker_max_count 5`);
          assert.equal(s.newEvents, i);
        }
        assert.equal(await tickCount(client, 'q'), ticks, 'no tick while below the count');

        await client.query(`SELECT pgq.insert_event('q', 'ev', '5')`);
        const s = await tickerCall(client, 'q');
        checkRule(s, 'at the 5th event');
        assert.notEqual(s.ticked, null, 'the 5th waiting event makes the tick due');
        assert.equal((await tickStep(client, 'q', s.ticked ?? '')).events, 5);
        assert.deepEqual((await drain(client, 'q', 'c')).map((e) => e.ev_data), ['1', '2', '3', '4', '5']);

        // nothing waiting right after a tick: an idle queue does not tick before max_lag/2
        const idle = await tickerCall(client, 'q');
        checkRule(idle, 'idle right after a tick');
        assert.equal(idle.ticked, null);

        // more than the count in one go
        await client.query(`SELECT pgq.insert_event('q', 'bulk', i::text) FROM generate_series(1, 12) i`);
        const bulk = await tickerCall(client, 'q');
        checkRule(bulk, '12 events at once');
        assert.notEqual(bulk.ticked, null);
        assert.equal((await drain(client, 'q', 'c')).length, 12);
      } finally {
        await client.end();
      }
    });

    it('ticks waiting events once ticker_max_lag has passed since the last tick', async () => {
      const { client } = await freshDatabase(cluster, 'maxlag');
      try {
        await client.query(`SELECT pgq.create_queue('q')`);
        await client.query(`SELECT pgq.register_consumer('q', 'c')`);
        await configure(client, 'q', { ticker_max_count: '1000', ticker_max_lag: '400 milliseconds', ticker_idle_period: '1 hour' });
        // In one transaction (one now()): a tick, then an event, then a ticker call that sees
        // a lag of exactly zero, so it must not tick whatever the speed of the machine.
        await client.query('BEGIN');
        await client.query(`SELECT pgq.force_tick('q')`);
        const base = await scalar<string | null>(client, `SELECT pgq.ticker('q')::text`);
        assert.notEqual(base, null);
        await client.query(`SELECT pgq.insert_event('q', 'late', 'x')`);
        assert.equal(await scalar(client, `SELECT pgq.ticker('q')`), null, 'one event, zero lag: not due');
        await client.query('COMMIT');

        const calls: TickerCall[] = [];
        const tick = await waitFor('the lag tick', 30_000, async () => {
          const s = await tickerCall(client, 'q');
          calls.push(s);
          checkRule(s, `call ${calls.length}`);
          return s.ticked ?? undefined;
        }, () => `${calls.length} calls`);
        const last = calls.at(-1);
        assert.ok(last !== undefined && last.newEvents === 1 && last.lagUs >= 400_000);
        const step = await tickStep(client, 'q', tick);
        assert.ok(step.gapUs >= 400_000, `tick ${tick} came ${step.gapUs} us after the previous one, before ticker_max_lag`);
        assert.equal(step.events, 1);
        assert.deepEqual((await drain(client, 'q', 'c')).map((e) => e.ev_type), ['late']);
      } finally {
        await client.end();
      }
    });

    it('ticks an idle queue with gaps doubling from ticker_max_lag/2 up to ticker_idle_period', async () => {
      const { client } = await freshDatabase(cluster, 'idle');
      try {
        await client.query(`SELECT pgq.create_queue('q')`);
        await configure(client, 'q', { ticker_max_count: '1000', ticker_max_lag: '200 milliseconds', ticker_idle_period: '800 milliseconds' });
        await tickNow(client, 'q');
        // call the ticker often; every answer must follow the rule, and the run must show each
        // branch of it: a refusal below max_lag/2, a refusal below twice the previous gap, a tick
        // at twice the previous gap, and a tick capped by the idle period (before twice the gap)
        const seen = { belowHalfLag: false, belowDouble: false, doubled: false, capped: false };
        const ticks: string[] = [];
        let calls = 0;
        await waitFor('idle ticks reaching ticker_idle_period', 60_000, async () => {
          const s = await tickerCall(client, 'q');
          calls += 1;
          checkRule(s, `idle call ${calls}`);
          assert.equal(s.newEvents, 0);
          if (s.ticked === null) {
            if (s.lagUs < s.maxLagUs / 2) seen.belowHalfLag = true;
            else if (s.prevGapUs !== null && s.lagUs < 2 * s.prevGapUs) seen.belowDouble = true;
          } else {
            ticks.push(s.ticked);
            if (s.prevGapUs !== null && s.lagUs >= 2 * s.prevGapUs && s.lagUs < s.idleUs) seen.doubled = true;
            if (s.prevGapUs !== null && s.lagUs >= s.idleUs && s.lagUs < 2 * s.prevGapUs) seen.capped = true;
          }
          return Object.values(seen).every(Boolean) ? true : undefined;
        }, () => `${calls} calls, ${ticks.length} ticks, seen ${JSON.stringify(seen)}`);
        for (const t of ticks) {
          const step = await tickStep(client, 'q', t);
          assert.equal(step.events, 0);
          assert.ok(step.gapUs >= 100_000, `idle tick ${t} only ${step.gapUs} us after the previous one (< max_lag/2)`);
        }
      } finally {
        await client.end();
      }
    });

    it('skips paused and externally ticked queues, and counts the queues it ticks', async () => {
      const { client } = await freshDatabase(cluster, 'paused');
      try {
        // every queue due exactly when an event waits
        for (const q of ['a', 'b', 'c', 'x']) {
          await client.query('SELECT pgq.create_queue($1)', [q]);
          await configure(client, q, { ticker_max_count: '1', ticker_max_lag: '1 hour', ticker_idle_period: '1 hour' });
          await tickNow(client, q);
          await client.query(`SELECT pgq.register_consumer($1, 'reader')`, [q]);
        }
        await client.query(`SELECT pgq.insert_event('a', 't', 'a1')`);
        await client.query(`SELECT pgq.insert_event('c', 't', 'c1')`);
        await configure(client, 'c', { ticker_paused: 'true' });
        await configure(client, 'x', { external_ticker: 'true' });
        await client.query(`SELECT pgq.insert_event('x', 't', 'x1')`);
        const counts = async (): Promise<number[]> => {
          const out: number[] = [];
          for (const q of ['a', 'b', 'c', 'x']) out.push(await tickCount(client, q));
          return out;
        };
        const [a0 = 0, b0, c0 = 0, x0] = await counts();

        assert.equal(await scalar(client, 'SELECT pgq.ticker()::int'), 1, 'only a is due and tickable');
        assert.deepEqual(await counts(), [a0 + 1, b0, c0, x0]);
        assert.equal(await errorOf(client, `SELECT pgq.ticker('c')`), 'Ticker has been paused for this queue');
        assert.equal(await errorOf(client, `SELECT pgq.ticker('x')`), 'This queue has external tick source.');
        assert.equal(await errorOf(client, `SELECT pgq.ticker('nosuch')`), 'no such queue');
        assert.equal(await scalar(client, 'SELECT pgq.ticker()::int'), 0, 'nothing due any more');

        await configure(client, 'c', { ticker_paused: 'false' });
        assert.equal(await scalar(client, 'SELECT pgq.ticker()::int'), 1, 'c ticks once resumed');
        assert.deepEqual(await counts(), [a0 + 1, b0, c0 + 1, x0]);
        assert.deepEqual((await drain(client, 'c', 'reader')).map((e) => e.ev_data), ['c1'], 'the event inserted while paused is in the tick after resuming');
        assert.deepEqual((await drain(client, 'x', 'reader')).map((e) => e.ev_data), [], 'an external-ticker queue gets no tick from pgq.ticker()');
      } finally {
        await client.end();
      }
    });

    it('announces every tick on pgq_tick with the queue name, and nothing else', async () => {
      const { db, client } = await freshDatabase(cluster, 'notify');
      const listener = await Listener.start(cluster, db);
      const mark = markers(client);
      try {
        for (const q of ['a', 'b', 'c', 'd', 'x']) {
          await client.query('SELECT pgq.create_queue($1)', [q]);
          await configure(client, q, { ticker_max_count: '1', ticker_max_lag: '1 hour', ticker_idle_period: '1 hour' });
          await tickNow(client, q);
        }
        await configure(client, 'c', { ticker_paused: 'true' });
        await configure(client, 'x', { external_ticker: 'true' });
        assert.deepEqual((await listener.through(await mark())).sort(), ['a', 'a', 'b', 'b', 'c', 'c', 'd', 'd', 'x', 'x'],
          'create_queue\'s first tick and each forced tick are announced');

        // pgq.ticker(): only the queue that ticked
        for (const q of ['a', 'c', 'x']) await client.query(`SELECT pgq.insert_event($1, 't', 'd')`, [q]);
        assert.equal(await scalar(client, 'SELECT pgq.ticker()::int'), 1);
        assert.deepEqual(await listener.through(await mark()), ['a']);

        // a call that does not tick announces nothing; a rolled back tick neither
        assert.equal(await scalar(client, `SELECT pgq.ticker('b')`), null);
        await client.query(`SELECT pgq.insert_event('b', 't', 'd')`);
        await client.query('BEGIN');
        assert.notEqual(await scalar(client, `SELECT pgq.ticker('b')`), null);
        await client.query('ROLLBACK');
        assert.deepEqual(await listener.through(await mark()), []);

        // several queues in one call: one notification each, in the call's order
        await client.query(`SELECT pgq.insert_event('d', 't', 'd')`);
        const counts = async (): Promise<number[]> => [await tickCount(client, 'a'), await tickCount(client, 'b'), await tickCount(client, 'd')];
        const [a0, b0, d0] = await counts();
        assert.equal(await scalar(client, 'SELECT pgq.ticker()::int'), 2);
        assert.deepEqual(await listener.through(await mark()), ['b', 'd']);
        assert.deepEqual(await counts(), [a0, (b0 ?? 0) + 1, (d0 ?? 0) + 1], 'one tick per notification');

        // the external form (cascaded nodes) announces its ticks too; resuming a queue announces nothing by itself
        const top = await scalar<string>(client, `SELECT max(tick_id)::text FROM pgq.tick t JOIN pgq.queue q ON q.queue_id = t.tick_queue WHERE q.queue_name = 'x'`);
        await client.query(`SELECT pgq.ticker('x', $1::bigint + 1, now(), 100000)`, [top]);
        await configure(client, 'c', { ticker_paused: 'false' });
        assert.deepEqual(await listener.through(await mark()), ['x']);
        // and the resumed queue's next tick is announced
        assert.notEqual(await scalar(client, `SELECT pgq.ticker('c')`), null);
        assert.deepEqual(await listener.through(await mark()), ['c']);
      } finally {
        await listener.stop();
        await client.end();
      }
    });

    it('leaves idle ticks and quiet ticks unannounced, unless events are in them', async () => {
      const { db, client } = await freshDatabase(cluster, 'quiet');
      const listener = await Listener.start(cluster, db);
      const other = await connect(cluster, db);
      const mark = markers(client);
      // an idle tick is due whenever asked (the idle gaps and ticker_max_lag as short as they go)
      const idleTick = async (): Promise<string> => {
        let id: string | null = null;
        await waitFor('an idle tick', 30_000, async () => ((id = await scalar<string | null>(client, `SELECT pgq.ticker('q')::text`)) === null ? undefined : true));
        return id ?? '';
      };
      const quietTick = async (): Promise<void> => {
        await client.query('BEGIN');
        await client.query(`SELECT set_config('skytools.quiet_tick', 'on', true)`);
        assert.notEqual(await scalar(client, `SELECT pgq.ticker('q')`), null, 'a quiet call ticks at once');
        await client.query('COMMIT');
      };
      try {
        await client.query(`SELECT pgq.create_queue('q')`);
        await client.query(`SELECT pgq.register_consumer('q', 'c')`);
        await configure(client, 'q', { ticker_max_count: '1000', ticker_max_lag: '1 millisecond', ticker_idle_period: '1 millisecond' });
        // the sequence's first number leaves it where it was: the event table tells
        await client.query(`SELECT pgq.insert_event('q', 'e', '0')`);
        await idleTick();
        assert.deepEqual(await listener.through(await mark()), ['q', 'q'], 'the queue\'s first tick and the one with its first event are announced');
        const ticks0 = await tickCount(client, 'q');

        await idleTick();
        assert.deepEqual(await listener.through(await mark()), [], 'an idle tick after a quiet one is not announced');

        await client.query(`SELECT pgq.insert_event('q', 'e', '1')`);
        await idleTick();
        assert.deepEqual(await listener.through(await mark()), ['q'], 'a tick with events is');

        await quietTick();
        assert.deepEqual(await listener.through(await mark()), [], 'a quiet tick without events is not');
        // another session's force_tick moves the sequence: a quiet tick looks at the events
        await other.query(`SELECT pgq.force_tick('q')`);
        await quietTick();
        assert.deepEqual(await listener.through(await mark()), [], 'nor one after another session\'s force_tick');
        await client.query(`SELECT pgq.insert_event('q', 'e', '2')`);
        await quietTick();
        assert.deepEqual(await listener.through(await mark()), ['q'], 'a quiet tick with events is');
        await tickNow(client, 'q');
        assert.deepEqual(await listener.through(await mark()), ['q'], 'a plain forced tick always is');

        // an event numbered before a tick but committed after it shows up in the next, idle, tick
        await other.query('BEGIN');
        await other.query(`SELECT pgq.insert_event('q', 'e', 'late')`);
        await idleTick();
        await other.query('COMMIT');
        await idleTick();
        assert.deepEqual(await listener.through(await mark()), ['q', 'q'], 'the tick after one with another transaction running is announced');
        await idleTick();
        assert.deepEqual(await listener.through(await mark()), [], 'and the one after that, idle again, is not');
        assert.equal(await tickCount(client, 'q'), ticks0 + 9, 'every call ticked');
        assert.deepEqual((await drain(client, 'q', 'c')).map((e) => e.ev_data), ['0', '1', '2', 'late'], 'no event lost to a quiet tick');
      } finally {
        await listener.stop();
        await other.end();
        await client.end();
      }
    });
  });
}
