// A provider that forgets the end of a batch its subscriber applied (it crashed before that commit
// reached its disk, as synchronous_commit = off allows) hands out older ticks again. The subscriber
// has its position with its data: it moves its subscription up to it and goes on, nothing applied
// twice and nothing lost. A provider that no longer has that tick still stops it with "Lost position".
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ok, runLondiste } from '../cli/run-londiste.js';
import { waitFor } from './replication-env.js';
import { RootLeaf } from './root-leaf.js';

const QUEUE = 'lq';

describe('a provider behind its subscriber', () => {
  let rl: RootLeaf;
  before(async () => {
    rl = await RootLeaf.start('lp', QUEUE);
    await rl.root.query(rl.rootDb, 'CREATE TABLE public.led (id int PRIMARY KEY, n int NOT NULL)');
    await rl.leaf.query(rl.leafDb, 'CREATE TABLE public.led (id int PRIMARY KEY, n int NOT NULL)');
    ok(await runLondiste([rl.rootJob, 'add-table', 'led']), 'root add-table');
    ok(await runLondiste([rl.leafJob, 'add-table', 'led']), 'leaf add-table');
    await rl.inSync('public.led');
  });
  after(async () => {
    await rl.stop();
  });

  const lastTick = async (): Promise<string> =>
    (await rl.leaf.query<{ t: string }>(rl.leafDb, 'SELECT last_tick_id::text AS t FROM pgq_node.local_state WHERE queue_name = $1 AND consumer_name = $2', [QUEUE, rl.leafDb]))[0]?.t ?? '';

  it('moves its subscription up to what it applied and goes on', async () => {
    for (let i = 1; i <= 5; i++) {
      await rl.root.query(rl.rootDb, 'INSERT INTO public.led SELECT g, 0 FROM generate_series($1::int, $1::int + 99) g', [i * 1000]);
      await rl.root.query(rl.rootDb, 'SELECT pgq.force_tick($1)', [QUEUE]);
      await rl.root.query(rl.rootDb, 'SELECT pgq.ticker($1)', [QUEUE]);
    }
    await rl.sameData('SELECT * FROM public.led', 'SELECT * FROM public.led');
    await rl.stopLeafWorker();
    const applied = BigInt(await lastTick());
    // the provider forgets the last batches it handed out: its subscription goes back three ticks
    const back = await rl.root.query<{ t: string }>(rl.rootDb, `SELECT tick_id::text AS t FROM pgq.tick t JOIN pgq.queue q ON q.queue_id = t.tick_queue
      WHERE q.queue_name = $1 AND tick_id < $2 ORDER BY tick_id DESC OFFSET 2 LIMIT 1`, [QUEUE, applied.toString()]);
    const older = back[0]?.t ?? '';
    await rl.root.query(rl.rootDb, 'SELECT pgq.register_consumer_at($1, $2, $3)', [QUEUE, rl.leafDb, older]);
    // changes after that, including updates that applying the old ticks twice would not show but a gap would
    await rl.root.query(rl.rootDb, 'UPDATE public.led SET n = n + 1 WHERE id % 7 = 0');
    await rl.root.query(rl.rootDb, 'INSERT INTO public.led SELECT g, 1 FROM generate_series(9000, 9049) g');
    const w = rl.startLeafWorker();
    await rl.sameData('SELECT * FROM public.led', 'SELECT * FROM public.led');
    assert.match(w.output(), new RegExp(`the provider is behind this node \\(batch ${older}\\.\\.\\d+, this node has applied tick ${applied.toString()}\\): moving the subscription there`));
    assert.doesNotMatch(w.output(), /Lost position/);
  });

  it('stops with "Lost position" when the provider no longer has the tick it applied', async () => {
    await rl.stopLeafWorker();
    const applied = await lastTick();
    const first = (await rl.root.query<{ t: string }>(rl.rootDb, 'SELECT min(tick_id)::text AS t FROM pgq.tick t JOIN pgq.queue q ON q.queue_id = t.tick_queue WHERE q.queue_name = $1', [QUEUE]))[0]?.t ?? '';
    // the subscription back to the first tick, and every tick up to and including the applied one gone
    await rl.root.query(rl.rootDb, 'SELECT pgq.register_consumer_at($1, $2, $3)', [QUEUE, rl.leafDb, first]);
    await rl.root.query(rl.rootDb, `DELETE FROM pgq.tick WHERE tick_queue = (SELECT queue_id FROM pgq.queue WHERE queue_name = $1) AND tick_id > $2 AND tick_id <= $3`, [QUEUE, first, applied]);
    await rl.root.query(rl.rootDb, 'INSERT INTO public.led VALUES (99999, 0)');
    await rl.root.query(rl.rootDb, 'SELECT pgq.force_tick($1)', [QUEUE]);
    await rl.root.query(rl.rootDb, 'SELECT pgq.ticker($1)', [QUEUE]);
    const w = rl.startLeafWorker();
    await waitFor('Lost position', 60_000, async () => (/Lost position: batch \d+\.\.\d+, dst has \d+/.test(w.output()) ? true : undefined), rl.diag);
    assert.equal((await rl.leaf.query<{ n: number }>(rl.leafDb, 'SELECT count(*)::int AS n FROM public.led WHERE id = 99999'))[0]?.n, 0, 'nothing applied past the gap');
  });
});
