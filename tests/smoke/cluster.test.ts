import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';
import { processExists, startCluster, testVersions } from '@skytools/harness';

for (const major of testVersions()) {
  describe(`throw-away cluster, PostgreSQL ${major}`, () => {
    it('starts, creates a database, reports its version, stops and leaves nothing behind', async (t) => {
      const cluster = await startCluster(major);
      let stopped = false;
      t.after(async () => {
        if (!stopped) await cluster.stop();
      });
      t.diagnostic(`PostgreSQL ${cluster.serverVersion} from ${cluster.binDir} on port ${cluster.port}`);

      await cluster.createDatabase('smoke_db');
      const rows = await cluster.query<{ v: number; db: string; enc: string; wal: string }>(
        'smoke_db',
        `SELECT current_setting('server_version_num')::int AS v, current_database() AS db,
                pg_encoding_to_char(encoding) AS enc, current_setting('wal_level') AS wal
           FROM pg_database WHERE datname = current_database()`,
      );
      const row = rows[0];
      assert.ok(row);
      assert.equal(Math.floor(row.v / 10000), major, `server_version_num ${row.v} is not major ${major}`);
      assert.equal(row.db, 'smoke_db');
      assert.equal(row.enc, 'UTF8');
      assert.equal(row.wal, 'logical');

      // the server is reachable only on loopback TCP and in its private socket directory
      const listen = await cluster.query<{ v: string }>('postgres', `SELECT current_setting('listen_addresses') AS v`);
      assert.equal(listen[0]?.v, '127.0.0.1');
      assert.ok(existsSync(`${cluster.socketDir}/.s.PGSQL.${cluster.port}`), 'unix socket missing in the private directory');

      // round-trip of non-ASCII text, as the seed's data needs
      const text = await cluster.query<{ t: string }>('smoke_db', `SELECT $1::text AS t`, ['德哥']);
      assert.equal(text[0]?.t, '德哥');

      const pid = cluster.postmasterPid;
      assert.ok(pid !== undefined);
      await cluster.stop();
      stopped = true;
      assert.equal(existsSync(cluster.baseDir), false, 'cluster directory left behind');
      assert.equal(processExists(pid), false, `postmaster ${pid} still running after stop()`);
    });
  });
}
