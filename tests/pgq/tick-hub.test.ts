// londisted's shared tick listener (core TickHub): one connection per provider database, each
// tick waking the subscribers of its queue only; a listener whose connection is killed wakes
// everyone (they may have missed ticks) and listens again; the last subscriber gone, the
// connection goes too.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TickHub } from '@skytools/core';
import { startCluster, testVersions, type PgCluster } from '@skytools/harness';
import { freshDatabase, tickNow } from './support.js';
import { waitFor } from '../replication/replication-env.js';

const major = testVersions().at(-1) ?? 15;
const APP = 'test tick hub';

describe(`TickHub, PostgreSQL ${major}`, () => {
  let cluster: PgCluster;
  before(async () => {
    cluster = await startCluster(major);
  });
  after(async () => {
    await cluster.stop();
  });

  it('wakes the subscribers of the ticked queue over one connection, and survives losing it', async () => {
    const { db, client } = await freshDatabase(cluster, 'hub');
    const hub = new TickHub(undefined, APP);
    const listeners = async (): Promise<number[]> =>
      (await cluster.query<{ pid: number }>(db, 'SELECT pid FROM pg_stat_activity WHERE datname = $1 AND application_name = $2', [db, APP])).map((r) => r.pid);
    try {
      for (const q of ['a', 'b']) await client.query('SELECT pgq.create_queue($1)', [q]);
      const woken = { a1: 0, a2: 0, b: 0 };
      const loc = cluster.connectionString(db);
      const a1 = hub.subscribe(loc, 'a', () => (woken.a1 += 1));
      const a2 = hub.subscribe(loc, 'a', () => (woken.a2 += 1));
      const b = hub.subscribe(loc, 'b', () => (woken.b += 1));
      await waitFor('the listener', 30_000, async () => (a1.listening && b.listening ? true : undefined));
      assert.equal((await listeners()).length, 1, 'one connection for every subscriber');

      await tickNow(client, 'a');
      await waitFor('a tick of a', 30_000, async () => (woken.a1 === 1 && woken.a2 === 1 ? true : undefined), () => JSON.stringify(woken));
      await tickNow(client, 'b');
      await waitFor('a tick of b', 30_000, async () => (woken.b === 1 ? true : undefined), () => JSON.stringify(woken));
      assert.deepEqual(woken, { a1: 1, a2: 1, b: 1 }, 'each tick wakes its own queue\'s subscribers only');

      // the listener's backend killed: everyone is woken, then ticks are heard on a new connection
      const [pid] = await listeners();
      await cluster.query('postgres', 'SELECT pg_terminate_backend($1)', [pid]);
      await waitFor('everyone woken after the loss', 30_000, async () => (woken.a1 >= 2 && woken.a2 >= 2 && woken.b >= 2 ? true : undefined), () => JSON.stringify(woken));
      await waitFor('a new listener', 30_000, async () => {
        const now = await listeners();
        return now.length === 1 && now[0] !== pid && a1.listening ? true : undefined;
      });
      const before = { ...woken };
      await tickNow(client, 'b');
      await waitFor('a tick of b on the new connection', 30_000, async () => (woken.b === before.b + 1 ? true : undefined), () => JSON.stringify(woken));
      assert.equal(woken.a1, before.a1, 'a is not woken by b');

      a1.close();
      a2.close();
      assert.equal((await listeners()).length, 1, 'b still listens');
      b.close();
      await waitFor('the listener to close with its last subscriber', 30_000, async () => ((await listeners()).length === 0 ? true : undefined));
      assert.equal(hub.size, 0);
    } finally {
      await hub.close();
      await client.end();
    }
  });
});
