// One table split over two leaves with the part handler (shard 0 and shard 1 of 2), under writes
// on the root that also move rows between shards: each leaf holds exactly its shard, the two
// never share a row, and their union is the root's table.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startCluster, testVersions, type PgCluster } from '@skytools/harness';
import { jobDir, ok, runLondiste } from '../cli/run-londiste.js';
import { startTicker, startWorker, tableDigest, tearDown, waitCaughtUp, waitTablesOk, workersDiag, type RunningWorker } from './replication-env.js';

const versions = testVersions();
const srcMajor = versions[0] ?? 15;
const dstMajor = versions[versions.length - 1] ?? 15;
const shardOf = (nr: number): string => `(hashtext((cust)::text) & 2147483647) % 2 = ${String(nr)}`;

describe(`two shards of one table, root on PostgreSQL ${srcMajor}, shards on ${dstMajor}`, () => {
  let src: PgCluster;
  let dst: PgCluster;
  const jobs = jobDir();
  const workers: RunningWorker[] = [];
  let ticker: { stop: () => Promise<void> } | undefined;
  const diag = (): string => workersDiag(workers);

  before(async () => {
    [src, dst] = await Promise.all([startCluster(srcMajor), startCluster(dstMajor)]);
    await src.createDatabase('root');
    const table = 'CREATE TABLE orders (id int PRIMARY KEY, cust int NOT NULL, total numeric, note text)';
    await src.query('root', `${table}; INSERT INTO orders SELECT g, g % 97, g * 1.5, 'o' || g FROM generate_series(1, 4000) g`);
    const root = jobs.write('s_root', { db: src.connectionString('root'), queue_name: 'q', loop_delay: '200ms' });
    ok(await runLondiste([root, 'create-root', 's_root', src.connectionString('root')]), 'create-root');
    ok(await runLondiste([root, 'add-table', 'orders']), 'add-table root');
    ticker = startTicker(src, 'root', 100);
    workers.push(startWorker(root));
    for (const nr of [0, 1]) {
      await dst.createDatabase(`shard${String(nr)}`);
      await dst.query(`shard${String(nr)}`, table);
      const file = jobs.write(`s_shard${String(nr)}`, { db: dst.connectionString(`shard${String(nr)}`), queue_name: 'q', loop_delay: '200ms' });
      ok(await runLondiste([file, 'create-leaf', `s_shard${String(nr)}`, dst.connectionString(`shard${String(nr)}`), `--provider=${src.connectionString('root')}`]), `create-leaf ${String(nr)}`);
      ok(await runLondiste([file, 'add-table', 'orders', '--handler=part', '--handler-arg=hash_key=cust', '--handler-arg=shard_count=2', `--handler-arg=shard_nr=${String(nr)}`]), `add-table shard ${String(nr)}`);
      workers.push(startWorker(file));
    }
  });
  after(() => tearDown(workers, ticker, jobs, [src, dst]));

  it('keeps each shard exactly, and the two together are the whole table', async () => {
    for (let i = 0; i < 15; i++) {
      await src.query('root', `UPDATE orders SET total = total + 1 WHERE id % 15 = ${String(i)}`);
      await src.query('root', `INSERT INTO orders SELECT 10000 + ${String(i * 10)} + g, g * 7, g, 'new' FROM generate_series(1, 10) g`);
      await src.query('root', `DELETE FROM orders WHERE id = ${String(100 + i * 13)}`);
    }
    // a customer change moves orders between the shards
    await src.query('root', `UPDATE orders SET cust = cust + 1 WHERE id BETWEEN 500 AND 900`);
    for (const nr of [0, 1]) {
      await waitTablesOk(dst, `shard${String(nr)}`, 1, diag);
      await waitCaughtUp(src, 'root', dst, `shard${String(nr)}`, 'q', `s_shard${String(nr)}`, 60_000, diag);
    }
    const parts = [];
    for (const nr of [0, 1]) {
      const here = await tableDigest(dst, `shard${String(nr)}`, 'SELECT * FROM orders');
      assert.deepEqual(here, await tableDigest(src, 'root', `SELECT * FROM orders WHERE ${shardOf(nr)}`), `shard ${String(nr)} holds exactly its rows`);
      assert.ok(here.rows > 1000, `shard ${String(nr)} has ${String(here.rows)} rows`);
      parts.push(here.rows);
    }
    const whole = await tableDigest(src, 'root', 'SELECT * FROM orders');
    assert.equal((parts[0] ?? 0) + (parts[1] ?? 0), whole.rows, 'the shards together hold every row once');
    // the same rows by content: the ids of both shards are the root's, none twice
    const ids = async (nr: number): Promise<number[]> => (await dst.query<{ id: number }>(`shard${String(nr)}`, 'SELECT id FROM orders ORDER BY id')).map((r) => r.id);
    const union = [...(await ids(0)), ...(await ids(1))].sort((a, b) => a - b);
    assert.deepEqual(union, (await src.query<{ id: number }>('root', 'SELECT id FROM orders ORDER BY id')).map((r) => r.id));
  });
});
