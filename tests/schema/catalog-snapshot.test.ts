// The installed catalog of every schema, compared with the committed tests/schema/catalog.snapshot.txt:
// a change to install or upgrade scripts shows up as a reviewed diff of that file. Fresh installs on
// every test version, a forced re-install and an upgrade from an older installation must all give
// the same catalog. After an intended change: SKYTOOLS_UPDATE_SNAPSHOT=1 npm test -- schema/
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { installSchemas } from '@skytools/core';
import { repoRoot, startCluster, testVersions, type PgCluster } from '@skytools/harness';
import { dumpCatalog } from './catalog-dump.js';

const SNAPSHOT = join(repoRoot(), 'tests', 'schema', 'catalog.snapshot.txt');
const ALL = ['pgq', 'pgq_ext', 'pgq_coop', 'pgq_node', 'londiste'] as const;

/** The first differing lines, for a readable failure. */
function diff(want: string, got: string): string {
  const a = want.split('\n');
  const b = got.split('\n');
  const gone = a.filter((l) => !b.includes(l)).slice(0, 15).map((l) => `- ${l}`);
  const added = b.filter((l) => !a.includes(l)).slice(0, 15).map((l) => `+ ${l}`);
  return [...gone, ...added].join('\n');
}

for (const major of testVersions()) {
  describe(`catalog snapshot, PostgreSQL ${major}`, () => {
    let cluster: PgCluster;
    before(async () => {
      cluster = await startCluster(major);
    });
    after(async () => {
      await cluster.stop();
    });

    const withDb = async (name: string, fn: (c: pg.Client) => Promise<void>): Promise<void> => {
      await cluster.createDatabase(name);
      const c = new pg.Client(cluster.clientConfig(name));
      await c.connect();
      try {
        await fn(c);
      } finally {
        await c.end();
      }
    };

    it('a fresh install matches the committed snapshot, and so does a forced re-install', async () => {
      await withDb('fresh', async (c) => {
        await installSchemas(c, ALL);
        const got = await dumpCatalog(c);
        if (process.env['SKYTOOLS_UPDATE_SNAPSHOT'] === '1' && major === testVersions()[0]) writeFileSync(SNAPSHOT, got);
        const want = readFileSync(SNAPSHOT, 'utf8');
        assert.ok(got === want, `the installed catalog differs from ${SNAPSHOT}:\n${diff(want, got)}`);
        await installSchemas(c, ALL, { force: true });
        const again = await dumpCatalog(c);
        assert.ok(again === want, `a second install changed the catalog:\n${diff(want, again)}`);
      });
    });

    it('an upgrade from an older installation gives the same catalog as a fresh one', async () => {
      await withDb('upgraded', async (c) => {
        await installSchemas(c, ALL);
        // what an older release lacked: a column, a trigger, a function; what it had and this one
        // does not (a function of another signature); and an older version
        await c.query(`CREATE FUNCTION pgq._open_batch(int4, int4, int8) RETURNS int8 LANGUAGE sql AS 'SELECT NULL::int8'`);
        await c.query(`DROP TRIGGER queue_capture_refresh ON pgq.queue`);
        await c.query(`ALTER TABLE pgq.queue DROP COLUMN queue_per_tx_limit`);
        await c.query(`DROP FUNCTION pgq_node.set_consumer_uptodate(text, text, boolean)`);
        for (const s of ALL) {
          await c.query(`CREATE OR REPLACE FUNCTION ${s}.version() RETURNS text LANGUAGE sql AS $$SELECT '3.0.0'::text$$`);
        }
        const res = await installSchemas(c, ALL);
        assert.deepEqual(res.map((r) => r.action), ALL.map(() => 'upgraded'));
        const want = readFileSync(SNAPSHOT, 'utf8');
        const got = await dumpCatalog(c);
        assert.ok(got === want, `the upgraded catalog differs from a fresh install's:\n${diff(want, got)}`);
      });
    });
  });
}
