// The schema installer: idempotent, serialised, version-aware; and the raw SQL works with psql -f.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { installSchemas } from '@skytools/core';
import { schemaDir, shippedVersion } from '@skytools/core/internal';
import { clientBinDir, runClientTool, startCluster, testVersions, type PgCluster } from '@skytools/harness';
import { connect, scalar } from './support.js';

const SCHEMA_SET = ['pgq', 'pgq_ext'] as const;

for (const major of testVersions()) {
  describe(`schema installer, PostgreSQL ${major}`, () => {
    let cluster: PgCluster;
    before(async () => {
      cluster = await startCluster(major);
    });
    after(async () => {
      await cluster.stop();
    });

    it('installs, then finds nothing to do the second time', async () => {
      await cluster.createDatabase('twice');
      const client = await connect(cluster, 'twice');
      try {
        const first = await installSchemas(client, SCHEMA_SET);
        assert.deepEqual(first.map((r) => [r.schema, r.action]), [['pgq', 'installed'], ['pgq_ext', 'installed']]);
        await client.query(`SELECT pgq.create_queue('kept')`);
        const second = await installSchemas(client, SCHEMA_SET);
        assert.deepEqual(second.map((r) => [r.schema, r.action]), [['pgq', 'unchanged'], ['pgq_ext', 'unchanged']]);
        assert.equal(await scalar(client, `SELECT count(*)::int FROM pgq.queue WHERE queue_name = 'kept'`), 1, 'data survives');
        assert.equal(await scalar(client, 'SELECT pgq.version()'), shippedVersion('pgq'));
        assert.equal(await scalar(client, 'SELECT pgq_ext.version()'), shippedVersion('pgq_ext'));
      } finally {
        await client.end();
      }
    });

    it('two installers at once both succeed, one after the other', async () => {
      await cluster.createDatabase('concurrent');
      const a = await connect(cluster, 'concurrent');
      const b = await connect(cluster, 'concurrent');
      try {
        const [ra, rb] = await Promise.all([installSchemas(a, SCHEMA_SET), installSchemas(b, SCHEMA_SET)]);
        const actions = [...ra, ...rb].filter((r) => r.schema === 'pgq').map((r) => r.action).sort();
        assert.deepEqual(actions, ['installed', 'unchanged']);
        assert.equal(await scalar(a, `SELECT count(*)::int FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'pgq' AND p.proname = 'next_batch'`), 1);
      } finally {
        await a.end();
        await b.end();
      }
    });

    it('upgrades an older installation in place, keeping queues and events', async () => {
      await cluster.createDatabase('upgrade');
      const client = await connect(cluster, 'upgrade');
      try {
        await installSchemas(client, ['pgq']);
        await client.query(`SELECT pgq.create_queue('q')`);
        await client.query(`SELECT pgq.register_consumer('q', 'c')`);
        await client.query(`SELECT pgq.insert_event('q', 't', 'survives')`);
        // make it look like an older PgQ: a column added in a later version is missing, an old
        // function body, and an older version recorded
        await client.query(`DROP TRIGGER queue_capture_refresh ON pgq.queue`);
        await client.query(`ALTER TABLE pgq.queue DROP COLUMN queue_per_tx_limit`);
        await client.query(`CREATE OR REPLACE FUNCTION pgq.next_batch(i_queue_name text, i_consumer_name text) RETURNS int8 LANGUAGE sql AS 'SELECT NULL::int8'`);
        await client.query(`CREATE OR REPLACE FUNCTION pgq.version() RETURNS text LANGUAGE sql AS $$SELECT '3.5.0.0'::text$$`);

        const res = await installSchemas(client, ['pgq']);
        assert.deepEqual(res.map((r) => [r.schema, r.action, r.from]), [['pgq', 'upgraded', '3.5.0.0']]);
        assert.equal(await scalar(client, `SELECT count(*)::int FROM pg_attribute WHERE attrelid = 'pgq.queue'::regclass AND attname = 'queue_per_tx_limit'`), 1);
        await client.query(`SELECT pgq.force_tick('q')`);
        await client.query(`SELECT pgq.ticker('q')`);
        const batch = await scalar<string | null>(client, `SELECT pgq.next_batch('q', 'c')`);
        assert.notEqual(batch, null, 'the function body was replaced');
        assert.deepEqual((await client.query(`SELECT ev_data FROM pgq.get_batch_events($1)`, [batch])).rows, [{ ev_data: 'survives' }]);
      } finally {
        await client.end();
      }
    });

    it('refuses to downgrade a newer installation', async () => {
      await cluster.createDatabase('downgrade');
      const client = await connect(cluster, 'downgrade');
      try {
        await installSchemas(client, ['pgq']);
        await client.query(`CREATE OR REPLACE FUNCTION pgq.version() RETURNS text LANGUAGE sql AS $$SELECT '9.9.9.9'::text$$`);
        await assert.rejects(installSchemas(client, ['pgq']), /9\.9\.9\.9/);
      } finally {
        await client.end();
      }
    });

    it('installs with plain psql -f, twice', async () => {
      await cluster.createDatabase('psql_raw');
      for (let round = 0; round < 2; round++) {
        for (const name of SCHEMA_SET) {
          const res = runClientTool(clientBinDir(), 'psql', ['-X', '-q', '-1', '-v', 'ON_ERROR_STOP=1', '-d', cluster.connectionString('psql_raw'), '-f', join(schemaDir(), name, 'install.sql')]);
          assert.equal(res.status, 0, `psql -f ${name}/install.sql (round ${round + 1}) failed: ${res.stderr}`);
        }
      }
      const client = await connect(cluster, 'psql_raw');
      try {
        assert.equal(await scalar(client, `SELECT pgq.create_queue('q')`), 1);
        assert.equal(await scalar(client, `SELECT pgq_ext.set_last_tick('c', 5)`), 1);
        assert.equal(await scalar(client, `SELECT pgq_ext.get_last_tick('c')`), '5');
      } finally {
        await client.end();
      }
    });
  });
}
