// Table handlers on a leaf, under writes on the root, each checked on the data: part keeps one
// shard (copy and events, rows moving between shards), applyfn calls a function once per event in
// order, vtable needs no table and applies nothing, qsplitter sends the table's events into
// another queue, bulk with ignore_truncate keeps rows through a TRUNCATE, change-handler switches
// a table to nop, a third-party handler from the job's handler_modules counts events. Bad
// handlers are refused with nothing added; show-handlers lists them.
import assert from 'node:assert/strict';
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startCluster, testVersions, type PgCluster } from '@skytools/harness';
import { jobDir, ok, refused, runLondiste } from '../cli/run-londiste.js';
import { startTicker, startWorker, tableDigest, tearDown, waitCaughtUp, waitFor, workersDiag, type RunningWorker } from './replication-env.js';

const versions = testVersions();
const srcMajor = versions[0] ?? 15;
const dstMajor = versions[versions.length - 1] ?? 15;
const SHARD = '(hashtext((grp)::text) & 2147483647) % 3 = 1';

describe(`table handlers, root on PostgreSQL ${srcMajor}, leaf on ${dstMajor}`, () => {
  let src: PgCluster;
  let dst: PgCluster;
  const jobs = jobDir();
  const workers: RunningWorker[] = [];
  let ticker: { stop: () => Promise<void> } | undefined;
  let root = '';
  let leaf = '';
  const diag = (): string => workersDiag(workers);

  before(async () => {
    [src, dst] = await Promise.all([startCluster(srcMajor), startCluster(dstMajor)]);
    await src.createDatabase('root');
    await dst.createDatabase('leaf');
    const tables = `CREATE TABLE acct (id int PRIMARY KEY, grp int, v text);
      CREATE TABLE logt (id int PRIMARY KEY, v text);
      CREATE TABLE keep (id int PRIMARY KEY, v text)`;
    await src.query('root', `${tables}; CREATE TABLE vt (id int PRIMARY KEY, v text); CREATE TABLE split (id int PRIMARY KEY, v text);
      CREATE TABLE cnt (id int PRIMARY KEY);
      INSERT INTO acct SELECT g, g % 100, 'a' || g FROM generate_series(1, 3000) g;
      INSERT INTO logt SELECT g, 'l' || g FROM generate_series(1, 10) g;
      INSERT INTO keep SELECT g, 'k' || g FROM generate_series(1, 50) g`);
    // the leaf has no vt nor split: their handlers need no table
    await dst.query('leaf', `${tables};
      CREATE TABLE ev_count (tbl text, n int);
      CREATE TABLE fn_log (n bigserial PRIMARY KEY, conf text, tick bigint, ev_id bigint, ev_type text, ev_data text, tbl text);
      CREATE FUNCTION public.record_event(conf text, tick bigint, ev_id bigint, ev_time timestamptz, ev_txid bigint, ev_retry int,
                                          ev_type text, ev_data text, e1 text, e2 text, e3 text, e4 text) RETURNS void
        LANGUAGE sql AS $$ INSERT INTO fn_log (conf, tick, ev_id, ev_type, ev_data, tbl) VALUES (conf, tick, ev_id, ev_type, ev_data, e1) $$`);
    root = jobs.write('h_root', { db: src.connectionString('root'), queue_name: 'q', loop_delay: '200ms' });
    leaf = jobs.write('h_leaf', { db: dst.connectionString('leaf'), queue_name: 'q', loop_delay: '200ms' });
    ok(await runLondiste([root, 'create-root', 'h_root', src.connectionString('root')]), 'create-root');
    ok(await runLondiste([root, 'add-table', 'acct', 'logt', 'keep', 'vt', 'split', 'cnt']), 'add-table root');
    ok(await runLondiste([leaf, 'create-leaf', 'h_leaf', dst.connectionString('leaf'), `--provider=${src.connectionString('root')}`]), 'create-leaf');
    await dst.query('leaf', `SELECT pgq.create_queue('side_q'); SELECT pgq.register_consumer('side_q', 'reader')`);
    ticker = startTicker(src, 'root', 100);
    workers.push(startWorker(root));
  });
  after(() => tearDown(workers, ticker, jobs, [src, dst]));

  it('refuses a handler it does not have, or bad arguments, adding nothing; show-handlers lists them', async () => {
    const cases: [string[], RegExp][] = [
      [['--handler=nosuch'], /--handler=nosuch: unknown handler nosuch; see londiste JOB show-handlers .*; nothing was changed/],
      [['--handler=dispatch', '--handler-arg=part_mode=date_field'], /--handler=dispatch: handler dispatch: part_mode=date_field needs part_field=COLUMN; nothing was changed/],
      [['--handler=daily_field', '--handler-arg=period=hour'], /handler daily_field has no argument period/],
      [['--handler=obfuscate'], /handler obfuscate: column obfuscation is not implemented yet/],
      [['--handler=part', '--handler-arg=hash_key=id', '--handler-arg=shard_count=3'], /handler part needs shard_nr=\.\.\./],
      [['--handler=part', '--handler-arg=hash_key=id', '--handler-arg=shard_count=3', '--handler-arg=shard_nr=3'], /shard_nr 3 is not below shard_count 3/],
      [['--handler=bulk', '--handler-arg=method=7'], /handler bulk: method=7 is not one of 0, 1, 2/],
      [['--handler=vtable', '--handler-arg=x=1'], /handler vtable has no argument x \(it takes none\)/],
      [['--handler-arg=x=1'], /--handler-arg needs --handler=NAME/],
      [['--handler=applyfn', '--handler-arg=func_name=public.nosuch'], /--handler=applyfn: function public\.nosuch does not exist on this node; nothing was changed/],
      [['--handler=qsplitter', '--handler-arg=queue=noq'], /--handler=qsplitter: queue noq does not exist on this node; create it first .*; nothing was changed/],
    ];
    for (const [args, re] of cases) refused(await runLondiste([leaf, 'add-table', 'acct', ...args]), args.join(' '), re);
    const local = await dst.query('leaf', `SELECT 1 FROM londiste.table_info WHERE local`);
    assert.equal(local.length, 0, 'nothing was added');
    const all = ok(await runLondiste([leaf, 'show-handlers']), 'show-handlers').stdout;
    for (const n of ['londiste', 'bulk', 'part', 'applyfn', 'qtable', 'qsplitter', 'vtable', 'nop']) assert.match(all, new RegExp(`^${n} - `, 'm'));
    assert.match(ok(await runLondiste([leaf, 'show-handlers', 'part']), 'show-handlers part').stdout, /shard_nr=\.\.\. \(required\): the shard this node keeps/);
  });

  it('applies each table as its handler says, under writes on the root', async () => {
    const add = async (table: string, ...args: string[]): Promise<void> => {
      ok(await runLondiste([leaf, 'add-table', table, ...args]), `add-table ${table} ${args.join(' ')}`);
    };
    await add('acct', '--handler=part', '--handler-arg=hash_key=grp', '--handler-arg=shard_count=3', '--handler-arg=shard_nr=1');
    await add('logt', '--handler=applyfn', '--handler-arg=func_name=public.record_event', '--handler-arg=func_conf=cfg');
    await add('keep', '--handler=bulk', '--handler-arg=ignore_truncate=1');
    await add('vt', '--handler=vtable');
    await add('split', '--handler=qsplitter', '--handler-arg=queue=side_q');
    // a handler of the job's own, from a module next to the job file
    writeFileSync(join(jobs.dir, 'count-handler.mjs'), `export const handlers = [{
      name: 'counter', describe: 'Count the events of the table in ev_count.', args: {}, needsTable: false,
      triggerArgs: () => ['virtual_table'], copy: 'none',
      apply: () => ({ kind: 'custom', run: async (ctx) => {
        await ctx.client.query('INSERT INTO ev_count SELECT ev_extra1, count(*) FROM ld_batch WHERE ' + ctx.events + ' GROUP BY 1');
      } }),
    }];\n`);
    refused(await runLondiste([leaf, 'add-table', 'cnt', '--handler=counter']), 'a handler of a module not listed', /unknown handler counter/);
    appendFileSync(leaf, 'handler_modules: [count-handler.mjs]\n');
    assert.match(ok(await runLondiste([leaf, 'show-handlers']), 'show-handlers with the module').stdout, /^counter - Count the events/m);
    await add('cnt', '--handler=counter');
    const attrs = await dst.query<{ a: string }>('leaf', `SELECT table_attrs AS a FROM londiste.table_info WHERE table_name = 'public.acct'`);
    assert.equal(attrs[0]?.a, 'handler=part%28hash_key%3Dgrp%26shard_count%3D3%26shard_nr%3D1%29', "upstream's form of the handler string");
    const w = startWorker(leaf);
    workers.push(w);
    await waitFor('every table of the leaf ok', 60_000, async () => {
      const r = await dst.query<{ n: number }>('leaf', `SELECT count(*)::int AS n FROM londiste.table_info WHERE local AND merge_state = 'ok'`);
      return r[0]?.n === 6 ? true : undefined;
    }, diag);

    for (let i = 0; i < 20; i++) {
      await src.query('root', `UPDATE acct SET v = v || '+' WHERE id % 20 = ${i}`);
      await src.query('root', `INSERT INTO acct VALUES (${5000 + i}, ${i}, 'new')`);
      await src.query('root', `DELETE FROM acct WHERE id = ${10 + i * 3}`);
    }
    // a change of the hash column moves rows between shards: in, out, or along
    await src.query('root', `UPDATE acct SET grp = grp + 1 WHERE id BETWEEN 100 AND 400`);
    await src.query('root', `INSERT INTO logt VALUES (11, 'x'); UPDATE logt SET v = 'y' WHERE id = 1; DELETE FROM logt WHERE id = 2`);
    await src.query('root', `INSERT INTO vt VALUES (1, 'v'); INSERT INTO split SELECT g, 's' FROM generate_series(1, 7) g; UPDATE split SET v = 't' WHERE id = 1`);
    await src.query('root', `TRUNCATE keep; INSERT INTO keep VALUES (1000, 'after')`);
    await src.query('root', `INSERT INTO cnt SELECT g FROM generate_series(1, 13) g; DELETE FROM cnt WHERE id <= 4`);
    await waitCaughtUp(src, 'root', dst, 'leaf', 'q', 'h_leaf', 60_000, diag);

    assert.deepEqual(await tableDigest(dst, 'leaf', 'SELECT * FROM acct'), await tableDigest(src, 'root', `SELECT * FROM acct WHERE ${SHARD}`), 'acct holds shard 1 of 3 exactly');
    const shardRows = await tableDigest(dst, 'leaf', 'SELECT * FROM acct');
    assert.ok(shardRows.rows > 800 && shardRows.rows < 1300, `about a third of the rows (${String(shardRows.rows)})`);
    // applyfn: the table copied, then one call per event, in order, with the configured conf
    assert.deepEqual(await tableDigest(dst, 'leaf', 'SELECT * FROM logt'), await tableDigest(dst, 'leaf', `SELECT g AS id, 'l' || g AS v FROM generate_series(1, 10) g`), 'logt as copied, untouched since');
    const calls = await dst.query<{ conf: string; ev_type: string; tbl: string; ordered: boolean }>(
      'leaf',
      `SELECT conf, ev_type, tbl, ev_id > coalesce(lag(ev_id) OVER (ORDER BY n), 0) AS ordered FROM fn_log ORDER BY n`,
    );
    assert.deepEqual(calls.map((c) => `${c.conf} ${c.ev_type.slice(0, 1)} ${c.tbl}`), ['cfg I public.logt', 'cfg U public.logt', 'cfg D public.logt']);
    assert.ok(calls.every((c) => c.ordered), 'called in event order');
    // bulk with ignore_truncate: the TRUNCATE left out, the insert after it applied
    assert.equal((await tableDigest(dst, 'leaf', 'SELECT * FROM keep')).rows, 51);
    // vtable: no table and no error; qsplitter: the events in side_q
    assert.equal((await dst.query('leaf', `SELECT 1 FROM pg_class WHERE relname IN ('vt', 'split')`)).length, 0);
    await dst.query('leaf', `SELECT pgq.ticker('side_q')`);
    const pfx = await dst.query<{ t: string }>('leaf', `SELECT queue_data_pfx AS t FROM pgq.queue WHERE queue_name = 'side_q'`);
    const split = await dst.query<{ op: string; n: number }>('leaf', `SELECT left(ev_type, 1) AS op, count(*)::int AS n FROM ${pfx[0]?.t ?? 'x'} WHERE ev_extra1 = 'public.split' GROUP BY 1 ORDER BY 1`);
    assert.deepEqual(split, [{ op: 'I', n: 7 }, { op: 'U', n: 1 }]);
    const counted = await dst.query<{ n: number }>('leaf', `SELECT sum(n)::int AS n FROM ev_count WHERE tbl = 'public.cnt'`);
    assert.equal(counted[0]?.n, 17, 'the module handler saw each of the 13 inserts and 4 deletes once');

    // change-handler: logt goes to nop, its events are no longer passed to the function
    ok(await runLondiste([leaf, 'change-handler', 'logt', '--handler=nop']), 'change-handler');
    await src.query('root', `INSERT INTO logt VALUES (12, 'z')`);
    await waitCaughtUp(src, 'root', dst, 'leaf', 'q', 'h_leaf', 60_000, diag);
    assert.equal((await dst.query('leaf', 'SELECT 1 FROM fn_log')).length, 3, 'no call after the change');
    assert.equal((await dst.query('leaf', 'SELECT 1 FROM logt WHERE id = 12')).length, 0, 'nop applies nothing');
    refused(await runLondiste([leaf, 'change-handler', 'logt', '--handler=nosuch']), 'change-handler to an unknown handler', /unknown handler nosuch/);
  });
});
