// The `pgq` command (docs/consumer-api.md, "The pgq command") against a real database: queues made,
// shown and dropped; consumers registered, shown with their pending events, unregistered; events
// inserted; settings shown and set (a bad key changes nothing); events waiting for retry listed
// and moved back; every refusal one ERROR line and exit 1.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { installSchemas } from '@skytools/core';
import { repoRoot, startCluster, testVersions, type PgCluster } from '@skytools/harness';
import { ok, refused, runScript, type RunResult } from '../cli/run-londiste.js';

const major = testVersions()[0] ?? 15;
const pgqBin = join(repoRoot(), 'packages', 'pgq', 'dist', 'bin', 'pgq.js');

describe(`pgq command, PostgreSQL ${major}`, () => {
  let cluster: PgCluster;
  const run = (...args: string[]): Promise<RunResult> => runScript(pgqBin, ['--db', cluster.connectionString('q'), ...args]);

  before(async () => {
    cluster = await startCluster(major);
    await cluster.createDatabase('q');
    await cluster.withClient('q', (c) => installSchemas(c, ['pgq']));
  });
  after(async () => {
    await cluster?.stop();
  });

  it('creates a queue, registers a consumer, inserts events and shows them pending', async () => {
    assert.match(ok(await run('create-queue', 'jobs'), 'create-queue').stdout, /queue jobs created/);
    assert.match(ok(await run('create-queue', 'jobs'), 'create-queue again').stdout, /queue jobs exists already/);
    assert.match(ok(await run('register', 'jobs', 'worker1'), 'register').stdout, /consumer worker1 registered on jobs/);
    for (let i = 0; i < 3; i++) assert.match(ok(await run('insert', 'jobs', 'job.run', `{"n":${String(i)}}`, '--extra1', 'x'), 'insert').stdout, /event \d+ inserted into jobs/);
    const events = await cluster.query<{ n: number; x: string }>('q', `SELECT count(*)::int AS n, min(ev_extra1) AS x FROM pgq.event_template WHERE ev_type = 'job.run'`);
    assert.deepEqual(events[0], { n: 3, x: 'x' });
    // a tick now (the thresholds lowered: a forced tick would push the event sequence and with it the estimate below)
    await cluster.query('q', `SELECT pgq.set_queue_config('jobs', 'ticker_max_lag', '0')`);
    await cluster.query('q', `SELECT pgq.ticker('jobs')`);
    // pending_events is PgQ's estimate from the ticks' event sequence values (a fresh queue's first tick counts one short, as upstream's)
    const pending = /^jobs\s+worker1\s+[\d.]+s\s+[\d.]+s\s+1\s+None\s+(\d+)\s+0$/m.exec(ok(await run('consumers', 'jobs'), 'consumers').stdout)?.[1];
    assert.ok(pending === '2' || pending === '3', `pending events ${String(pending)}`);
    const queues = ok(await run('queues'), 'queues').stdout;
    assert.match(queues, /^Queues\nqueue_name\s+ticker_lag/m);
    assert.match(queues, /^jobs\s+[\d.]+s\s+.*\s+[2-9]\s+1\s+False$/m, 'a tick after the first, one consumer');
  });

  it('shows and sets queue settings, refusing a bad key without changing anything', async () => {
    assert.match(ok(await run('config', 'jobs'), 'config').stdout, /^jobs\.ticker_max_count = \d+$/m);
    const set = ok(await run('config', 'jobs', 'ticker_max_count=7', 'ticker_max_lag=2 seconds'), 'config set').stdout;
    assert.match(set, /^jobs\.ticker_max_count = 7$/m);
    assert.match(set, /^jobs\.ticker_max_lag = 2\.0s$/m);
    refused(await run('config', 'jobs', 'ticker_max_count=9', 'no_such_key=1'), 'bad key', /no_such_key: not a queue setting \(keys: ticker_max_count/);
    assert.match(ok(await run('config', 'jobs'), 'config').stdout, /^jobs\.ticker_max_count = 7$/m, 'nothing changed');
    refused(await run('config', 'nope'), 'unknown queue', /queue nope does not exist/);
  });

  it('lists events waiting for retry and moves them back into the queue', async () => {
    // worker1 takes its batch and puts two events back for an hour
    await cluster.withClient('q', async (c) => {
      const b = await c.query<{ id: string }>(`SELECT pgq.next_batch('jobs', 'worker1')::text AS id`);
      const id = b.rows[0]?.id ?? '';
      await c.query(`SELECT pgq.event_retry($1::int8, e.ev_id, 3600) FROM pgq.get_batch_events($1::int8) e ORDER BY e.ev_id LIMIT 2`, [id]);
      await c.query('SELECT pgq.finish_batch($1::int8)', [id]);
    });
    const list = ok(await run('retries', 'jobs'), 'retries').stdout;
    assert.equal(list.split('\n').filter((l) => /^jobs\s+worker1\s+\d+\s+1\s/.test(l)).length, 2, list);
    assert.match(ok(await run('consumers', 'jobs'), 'consumers').stdout, /^jobs\s+worker1\s.*\s2$/m);
    refused(await run('requeue', 'jobs', 'worker1', 'abc'), 'bad id', /abc: an event id is a number/);
    assert.match(ok(await run('requeue', 'jobs', 'worker1'), 'requeue').stdout, /2 retry events of worker1 on jobs moved back into the queue/);
    assert.match(ok(await run('retries', 'jobs'), 'retries').stdout, /no events waiting for retry/);
    const back = await cluster.query<{ n: number }>('q', `SELECT count(*)::int AS n FROM pgq.event_template WHERE ev_retry = 1`);
    assert.equal(back[0]?.n, 2, 'both back in the queue as their first retry');
  });

  it('lists failed events with their reason, sends them back or deletes them', async () => {
    // worker1 gives up on the three events of a batch
    await cluster.query('q', `SELECT pgq.insert_event('jobs', 'bad', 'p' || g) FROM generate_series(1, 3) g`);
    await cluster.query('q', `SELECT pgq.force_tick('jobs')`);
    await cluster.query('q', `SELECT pgq.ticker('jobs')`);
    const failed = await cluster.withClient('q', async (c) => {
      const b = await c.query<{ id: string }>(`SELECT pgq.next_batch('jobs', 'worker1')::text AS id`);
      const id = b.rows[0]?.id ?? '';
      const r = await c.query<{ ev_id: string }>(`SELECT e.ev_id::text FROM pgq.get_batch_events($1::int8) e WHERE e.ev_type = 'bad' ORDER BY e.ev_id`, [id]);
      for (const e of r.rows) await c.query(`SELECT pgq.event_failed($1::int8, $2::int8, 'bad data ' || $2)`, [id, e.ev_id]);
      await c.query('SELECT pgq.finish_batch($1::int8)', [id]);
      return r.rows.map((e) => e.ev_id);
    });
    assert.equal(failed.length, 3);
    const list = ok(await run('failed', 'jobs'), 'failed').stdout;
    assert.match(list, /^Failed events\nqueue_name\s+consumer_name\s+ev_id/m);
    for (const id of failed) assert.match(list, new RegExp(`^jobs\\s+worker1\\s+${id}\\s+.*bad data ${id}\\s+bad\\s+p\\d$`, 'm'), list);
    refused(await run('failed-delete', 'jobs', 'worker1'), 'delete without ids', /failed-delete needs the event ids to forget \(pgq failed lists them\), or --all/);
    refused(await run('failed-retry', 'jobs', 'worker1', 'x'), 'bad id', /x: an event id is a number \(pgq failed lists them\)/);
    assert.match(ok(await run('failed-retry', 'jobs', 'worker1', failed[0] ?? ''), 'failed-retry').stdout, /1 failed events of worker1 on jobs moved back into the queue/);
    const back = await cluster.query<{ n: number }>('q', `SELECT count(*)::int AS n FROM pgq.event_template WHERE ev_id = $1 AND ev_retry = 1`, [failed[0]]);
    assert.equal(back[0]?.n, 1, 'back in the queue as its first retry');
    assert.match(ok(await run('failed-delete', 'jobs', 'worker1', failed[1] ?? ''), 'failed-delete').stdout, /1 failed events of worker1 on jobs deleted/);
    assert.match(ok(await run('failed-delete', 'jobs', 'worker1', '--all'), 'failed-delete --all').stdout, /1 failed events of worker1 on jobs deleted/);
    assert.match(ok(await run('failed', 'jobs'), 'failed').stdout, /no failed events/);
  });

  it('refuses to drop a queue with consumers unless forced, and unregisters', async () => {
    refused(await run('drop-queue', 'jobs'), 'drop with consumers', /queue jobs has consumers \(worker1\): unregister them, or drop with --force/);
    ok(await run('create-queue', 'other'), 'create other');
    ok(await run('register', 'other', 'w'), 'register other');
    assert.match(ok(await run('unregister', 'other', 'w'), 'unregister').stdout, /consumer w unregistered from other/);
    refused(await run('unregister', 'other', 'w'), 'unregister again', /consumer w is not registered on other/);
    assert.match(ok(await run('drop-queue', 'other'), 'drop other').stdout, /queue other dropped/);
    assert.match(ok(await run('drop-queue', 'jobs', '--force'), 'drop forced').stdout, /queue jobs dropped with its consumers worker1/);
    assert.match(ok(await run('queues'), 'queues').stdout, /no queues/);
    const left = await cluster.query<{ n: number }>('q', 'SELECT count(*)::int AS n FROM pgq.queue');
    assert.equal(left[0]?.n, 0);
    refused(await runScript(pgqBin, ['--db', 'host=127.0.0.1 port=1 dbname=x password=hidden', 'queues']), 'no server', /cannot connect/);
  });

  it('installs pgq_coop and registers, lists and unregisters sub-consumers', async () => {
    ok(await run('create-queue', 'shared'), 'create shared');
    refused(await run('register', 'shared', 'team', '--subconsumer', 'a'), 'no pgq_coop yet', /sub-consumers need the pgq_coop schema in this database: pgq install pgq_coop/);
    refused(await run('install', 'londiste'), 'not installable here', /cannot install londiste: pgq install takes pgq, pgq_ext, pgq_coop/);
    assert.match(ok(await run('install', 'pgq_coop'), 'install').stdout, /^pgq \S+: unchanged\npgq_coop \S+: installed$/m);
    assert.match(ok(await run('register', 'shared', 'team', '--subconsumer', 'a'), 'register sub').stdout, /sub-consumer team\.a registered on shared/);
    ok(await run('register', 'shared', 'team', '--subconsumer', 'b'), 'register sub b');
    const listed = ok(await run('consumers', 'shared'), 'consumers').stdout;
    for (const n of ['team', 'team\\.a', 'team\\.b']) assert.match(listed, new RegExp(`^shared\\s+${n}\\s`, 'm'), listed);
    // b takes a batch: unregistering it is refused unless its batch may go
    await cluster.query('q', `SELECT pgq.insert_event('shared', 't', 'x')`);
    await cluster.query('q', `SELECT pgq.force_tick('shared')`);
    await cluster.query('q', `SELECT pgq.ticker('shared')`);
    const batch = await cluster.query<{ b: string | null }>('q', `SELECT pgq_coop.next_batch('shared', 'team', 'b')::text AS b`);
    assert.equal(typeof batch[0]?.b, 'string', 'b holds a batch');
    // a sub-consumer's failed event belongs to its consumer: listed once, under it
    await cluster.query('q', `SELECT pgq.event_failed($1::int8, e.ev_id, 'sub failed') FROM pgq.get_batch_events($1::int8) e`, [batch[0]?.b]);
    const failedRows = ok(await run('failed', 'shared'), 'failed shared').stdout.split('\n').filter((l) => l.startsWith('shared'));
    assert.equal(failedRows.length, 1, failedRows.join('\n'));
    assert.match(failedRows[0] ?? '', /^shared\s+team\s+\d+\s+.*sub failed/);
    refused(await run('unregister', 'shared', 'team', '--subconsumer', 'b'), 'holding a batch', /sub-consumer team\.b holds batch \d+: stop it first, or give --drop-batch/);
    assert.match(ok(await run('unregister', 'shared', 'team', '--subconsumer', 'b', '--drop-batch'), 'drop-batch').stdout, /sub-consumer team\.b unregistered from shared/);
    assert.match(ok(await run('unregister', 'shared', 'team', '--subconsumer', 'a'), 'unregister a').stdout, /sub-consumer team\.a unregistered from shared/);
    const subs = await cluster.query<{ n: string }>('q', `SELECT consumer_name AS n FROM pgq.get_consumer_info('shared') ORDER BY 1`);
    assert.deepEqual(subs.map((r) => r.n), ['team']);
    // pgq_coop.finish_batch closes only sub-consumers' batches (upstream's would clear a plain consumer's position)
    await cluster.query('q', `SELECT pgq.register_consumer('shared', 'plain')`);
    await cluster.query('q', `SELECT pgq.insert_event('shared', 't', 'y')`);
    await cluster.query('q', `SELECT pgq.force_tick('shared')`);
    await cluster.query('q', `SELECT pgq.ticker('shared')`);
    const plain = (await cluster.query<{ b: string }>('q', `SELECT pgq.next_batch('shared', 'plain')::text AS b`))[0]?.b;
    assert.equal(typeof plain, 'string', 'plain holds a batch');
    await assert.rejects(cluster.query('q', 'SELECT pgq_coop.finish_batch($1::int8)', [plain]), /batch \d+ is not a sub-consumer's: close it with pgq.finish_batch/);
    assert.equal((await cluster.query<{ n: number }>('q', 'SELECT pgq.finish_batch($1::int8) AS n', [plain]))[0]?.n, 1);
  });
});
