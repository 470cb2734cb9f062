// londiste.create_partition as upstream's londiste_create_part regression test expects it: a
// child of the parent for one period with its indexes, constraints (and the period's CHECK),
// rules and triggers in their enabled states, grants with their grant option, the parent's owner;
// 0 when the partition exists; awkward names; plus a native partition of a declaratively
// partitioned table, rows routed into each, and bad arguments refused.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startCluster, testVersions, type PgCluster } from '@skytools/harness';
import { errorOf, freshDatabase, scalar } from '../pgq/support.js';

const major = testVersions().at(-1) ?? 15;

describe(`londiste.create_partition, PostgreSQL ${major}`, () => {
  let cluster: PgCluster;
  before(async () => {
    cluster = await startCluster(major);
  });
  after(async () => {
    await cluster.stop();
  });

  it('creates an inherited partition carrying what the parent has, once', async () => {
    const { client: c } = await freshDatabase(cluster, 'part', ['pgq', 'pgq_node', 'londiste']);
    try {
      await c.query(`CREATE ROLE part_owner; CREATE ROLE part_r1; CREATE ROLE part_r2`);
      await c.query(`CREATE TABLE events (id int4 PRIMARY KEY, txt text NOT NULL, ctime timestamptz NOT NULL DEFAULT now(), someval int4 CHECK (someval > 0));
        CREATE INDEX ctime_idx ON events (ctime);
        CREATE RULE ignore_dups AS ON INSERT TO events WHERE (EXISTS (SELECT 1 FROM events WHERE events.id = new.id)) DO INSTEAD NOTHING;
        CREATE FUNCTION "NullTrigger"() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$;
        CREATE TRIGGER "Fooza" AFTER DELETE ON events FOR EACH ROW EXECUTE PROCEDURE "NullTrigger"();
        ALTER TABLE events ENABLE ALWAYS TRIGGER "Fooza";
        CREATE TRIGGER quiet AFTER INSERT ON events FOR EACH ROW EXECUTE PROCEDURE "NullTrigger"();
        ALTER TABLE events DISABLE TRIGGER quiet;
        GRANT SELECT, DELETE ON events TO part_r1;
        GRANT SELECT, UPDATE, DELETE ON events TO part_r2 WITH GRANT OPTION;
        GRANT SELECT, INSERT ON events TO public;
        ALTER TABLE events OWNER TO part_owner`);
      for (const t of [`'2011-01-01'`, `'2011-01-17 10:00+00'::timestamptz`, `'2011-01-31'::timestamp`]) {
        const created = await scalar<number>(c, `SELECT londiste.create_partition('events', 'events_2011_01', 'id', 'ctime', ${t}, 'month') AS r`);
        assert.equal(created, t === `'2011-01-01'` ? 1 : 0, `created with ${t}`);
      }
      const q = async (sql: string): Promise<unknown[]> => (await c.query(sql)).rows as unknown[];
      assert.equal(await scalar<number>(c, `SELECT count(*)::int AS n FROM pg_indexes WHERE schemaname = 'public' AND tablename = 'events_2011_01'`), 2, 'the key and ctime_idx');
      assert.equal(await scalar<number>(c, `SELECT count(*)::int AS n FROM pg_constraint WHERE conrelid = 'public.events_2011_01'::regclass`), 3, 'key, someval check, period check');
      const check = await scalar<string>(c, `SELECT pg_get_constraintdef(oid) AS d FROM pg_constraint WHERE conrelid = 'public.events_2011_01'::regclass AND pg_get_constraintdef(oid) LIKE '%ctime%'`);
      assert.match(check, /ctime >= '2011-01-01 00:00:00.*ctime < '2011-02-01 00:00:00/);
      assert.equal(await scalar<number>(c, `SELECT count(*)::int AS n FROM pg_rules WHERE schemaname = 'public' AND tablename = 'events_2011_01'`), 1);
      assert.deepEqual(await q(`SELECT tgname, tgenabled FROM pg_trigger WHERE tgrelid = 'events_2011_01'::regclass ORDER BY 1`), [
        { tgname: 'Fooza', tgenabled: 'A' },
        { tgname: 'quiet', tgenabled: 'D' },
      ]);
      assert.equal(await scalar<string>(c, `SELECT pg_get_userbyid(relowner)::text AS o FROM pg_class WHERE oid = 'events_2011_01'::regclass`), 'part_owner');
      assert.deepEqual(
        await q(`SELECT grantee::text, privilege_type::text, is_grantable::text FROM information_schema.table_privileges
                  WHERE table_name = 'events_2011_01' AND grantee <> 'part_owner' ORDER BY 1, 2`),
        await q(`SELECT grantee::text, privilege_type::text, is_grantable::text FROM information_schema.table_privileges
                  WHERE table_name = 'events' AND grantee <> 'part_owner' ORDER BY 1, 2`),
      );
      // the rule on the partition reads the partition: a duplicate there is ignored
      await c.query(`INSERT INTO events_2011_01 VALUES (1, 'a', '2011-01-05', 1)`);
      await c.query(`INSERT INTO events_2011_01 VALUES (1, 'b', '2011-01-06', 1)`);
      assert.equal(await scalar<number>(c, `SELECT count(*)::int AS n FROM events_2011_01`), 1);
      assert.match(await errorOf(c, `INSERT INTO events_2011_01 VALUES (2, 'feb', '2011-02-01', 1)`), /violates check constraint/);
    } finally {
      await c.end();
    }
  });

  it('handles awkward names, native partitions, and refuses what it cannot do', async () => {
    const { client: c } = await freshDatabase(cluster, 'part2', ['pgq', 'pgq_node', 'londiste']);
    try {
      await c.query(`CREATE TABLE "Bad "" table '.' name!" (id int4 PRIMARY KEY, ctime timestamptz NOT NULL);
        CREATE RULE "Ignore Dups" AS ON INSERT TO "Bad "" table '.' name!" WHERE (EXISTS (SELECT 1 FROM "Bad "" table '.' name!" b WHERE b.id = new.id)) DO INSTEAD NOTHING;
        ALTER TABLE "Bad "" table '.' name!" ENABLE ALWAYS RULE "Ignore Dups"`);
      assert.equal(await scalar<number>(c, `SELECT londiste.create_partition('public.Bad " table ''.'' name!', 'public.Bad " table ''.'' part!', 'id', 'ctime', '2011-01-01', 'month') AS r`), 1);
      assert.deepEqual((await c.query(`SELECT tablename::text, ev_enabled::text FROM pg_rules r JOIN pg_rewrite w ON w.rulename = r.rulename
          WHERE schemaname = 'public' AND tablename ILIKE 'bad%' AND w.ev_class = format('%I.%I', r.schemaname, r.tablename)::regclass ORDER BY 1`)).rows, [
        { tablename: `Bad " table '.' name!`, ev_enabled: 'A' },
        { tablename: `Bad " table '.' part!`, ev_enabled: 'A' },
      ]);

      await c.query(`CREATE TABLE hits (id int8, at timestamptz NOT NULL, PRIMARY KEY (id, at)) PARTITION BY RANGE (at)`);
      for (const [part, at] of [['hits_2026_11', '2026-11-30 23:59:59+00'], ['hits_2026_12', '2026-12-01 00:00:00+00']] as const) {
        assert.equal(await scalar<number>(c, `SELECT londiste.create_partition('hits', $1, 'id', 'at', $2::timestamptz, 'month') AS r`, [part, at]), 1);
      }
      await c.query(`INSERT INTO hits VALUES (1, '2026-11-30 23:59:59+00'), (2, '2026-12-01 00:00:00+00')`);
      assert.deepEqual((await c.query(`SELECT tableoid::regclass::text AS p, id::int FROM hits ORDER BY id`)).rows, [
        { p: 'hits_2026_11', id: 1 },
        { p: 'hits_2026_12', id: 2 },
      ]);
      assert.match(await errorOf(c, `SELECT londiste.create_partition('hits', 'hits_x', 'id', 'at', now(), 'week')`), /part_period must be hour, day, month or year, not week/);
      assert.match(await errorOf(c, `SELECT londiste.create_partition('hits', 'hits_y', 'id', '', now(), 'month')`), /needs part_field and part_time/);
      assert.match(await errorOf(c, `SELECT londiste.create_partition('nosuch', 'nosuch_1', 'id', 'at', now(), 'month')`), /relation "public.nosuch" does not exist/);
    } finally {
      await c.end();
    }
  });
});
