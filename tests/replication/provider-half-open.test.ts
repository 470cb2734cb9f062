// A provider that vanished without closing the connection (a half-open connection: the host or a
// middlebox dropped the flow and no reset ever came): the worker's query waits for an answer that
// never comes. provider_timeout cuts it, and the worker goes on over a new connection. The leaf
// reaches its root through a TCP proxy of the test, which half-opens the connections it holds.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TcpProxy } from '@skytools/harness';
import { ok, runLondiste } from '../cli/run-londiste.js';
import { waitFor } from './replication-env.js';
import { RootLeaf } from './root-leaf.js';

const QUEUE = 'hq';

describe('a half-open provider connection', () => {
  let rl: RootLeaf;
  let proxy: TcpProxy;
  before(async () => {
    rl = await RootLeaf.start('ho', QUEUE, { provider_timeout: '3s' });
    for (const [c, db] of [[rl.root, rl.rootDb], [rl.leaf, rl.leafDb]] as const) {
      await c.query(db, 'CREATE TABLE public.ho (id int PRIMARY KEY, n int NOT NULL)');
    }
    ok(await runLondiste([rl.rootJob, 'add-table', 'ho']), 'root add-table');
    ok(await runLondiste([rl.leafJob, 'add-table', 'ho']), 'leaf add-table');
    await rl.inSync('public.ho');
    // the leaf reaches its provider through the proxy from now on
    proxy = await TcpProxy.start(rl.root.host, rl.root.port);
    await rl.leaf.query(rl.leafDb, 'SELECT pgq_node.register_location($1, $2, $3, false)', [QUEUE, rl.rootDb, `host=127.0.0.1 port=${String(proxy.port)} user=${rl.root.user} dbname=${rl.rootDb}`]);
  });
  after(async () => {
    await rl.stop();
    await proxy.stop();
  });

  it('is cut after provider_timeout and the leaf goes on', async () => {
    await rl.root.query(rl.rootDb, 'INSERT INTO public.ho SELECT g, 0 FROM generate_series(1, 100) g');
    await rl.sameData('SELECT * FROM public.ho', 'SELECT * FROM public.ho');
    await waitFor('the worker connected through the proxy', 30_000, async () => (proxy.open > 0 ? true : undefined), rl.diag);
    for (let round = 1; round <= 2; round++) {
      proxy.halfOpen();
      await rl.root.query(rl.rootDb, 'UPDATE public.ho SET n = n + 1 WHERE id % 3 = $1', [round]);
      await rl.root.query(rl.rootDb, 'INSERT INTO public.ho SELECT g, $1 FROM generate_series($1 * 1000, $1 * 1000 + 49) g', [round]);
      await rl.sameData('SELECT * FROM public.ho', 'SELECT * FROM public.ho');
    }
    assert.match(rl.leafWorker?.output() ?? '', /provider_db: no answer for \d+ s \(provider_timeout\): connection cut/);
  });
});
