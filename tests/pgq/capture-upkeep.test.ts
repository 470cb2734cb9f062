// Generated capture triggers keep up with what they were written for: rotations, queue settings,
// DDL on the table (with the event trigger, and without it as a non-superuser install has it),
// dropped queues and tables; plus the urlencoder against a reference on random text, and the
// privileges a writing role needs.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type pg from 'pg';
import { startCluster, testVersions, type PgCluster } from '@skytools/harness';
import { connect, drain, errorOf, freshDatabase, scalar, tickNow } from './support.js';

/** PgQ's trigger urlencoding: letters, digits and _.- stay, space is +, other bytes %xx. */
function referenceUrlenc(s: string): string {
  let out = '';
  for (const ch of s) {
    if (/^[0-9A-Za-z_.-]$/.test(ch)) out += ch;
    else if (ch === ' ') out += '+';
    else for (const b of Buffer.from(ch, 'utf8')) out += `%${b.toString(16).padStart(2, '0')}`;
  }
  return out;
}

/** A deterministic pseudo-random generator, so a failure can be reproduced. */
function prng(seed: number): () => number {
  let x = seed;
  return () => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return x / 2147483648;
  };
}

async function generate(c: pg.ClientBase, table: string, format = 'urlenc'): Promise<void> {
  assert.equal(await scalar(c, `SELECT pgq.generate_capture_trigger('q', $1, 'cap', '{}', $2)`, [table, format]), 1);
}

async function functionSource(c: pg.ClientBase, table: string): Promise<string> {
  return scalar<string>(c, `SELECT p.prosrc FROM pgq.capture_function f JOIN pg_proc p ON p.oid = f.cf_function::regproc WHERE f.cf_table = $1::regclass`, [table]);
}

for (const major of testVersions()) {
  describe(`generated capture triggers stay current, PostgreSQL ${major}`, () => {
    let cluster: PgCluster;
    before(async () => {
      cluster = await startCluster(major, { settings: { timezone: 'UTC' } });
    });
    after(async () => {
      await cluster.stop();
    });

    it('urlencode any text exactly like the reference, whatever its characters', async () => {
      const { client } = await freshDatabase(cluster, 'urlenc');
      try {
        const rnd = prng(major);
        const alphabet = [...Array.from({ length: 127 }, (_, i) => String.fromCharCode(i + 1)), ...'德哥üé€中文𝄞 '];
        const printable = alphabet.filter((c) => c >= ' ' && c !== '\x7f');
        const texts: string[] = [];
        for (let i = 0; i < 4000; i++) {
          const from = i % 2 === 0 ? alphabet : printable;
          const n = Math.floor(rnd() * 40);
          texts.push(Array.from({ length: n }, () => from[Math.floor(rnd() * from.length)] ?? 'x').join(''));
        }
        const r = await client.query<{ n: number; got: string }>(
          `SELECT n::int, pgq._urlenc(s) AS got FROM unnest($1::text[]) WITH ORDINALITY AS x(s, n) ORDER BY n`,
          [texts],
        );
        assert.equal(r.rows.length, texts.length);
        const wrong = r.rows.filter((row) => row.got !== referenceUrlenc(texts[row.n - 1] ?? ''));
        assert.deepEqual(wrong.slice(0, 3).map((w) => [texts[w.n - 1], w.got]), [], `${wrong.length} texts encoded wrongly`);
      } finally {
        await client.end();
      }
    });

    it('write into the new current table after a rotation, losing nothing', async () => {
      const { client } = await freshDatabase(cluster, 'rotate');
      try {
        await client.query(`SELECT pgq.create_queue('q')`);
        await client.query(`SELECT pgq.register_consumer('q', 'c')`);
        await client.query(`CREATE TABLE t (id int PRIMARY KEY, v text)`);
        await generate(client, 't');
        assert.match(await functionSource(client, 't'), /INSERT INTO pgq\.event_1_0 /);
        let expected = 0;
        const got: string[] = [];
        for (let round = 1; round <= 4; round++) {
          await client.query(`INSERT INTO t SELECT g, 'r${round}' FROM generate_series(${round * 1000}, ${round * 1000 + 99}) g`);
          expected += 100;
          await tickNow(client, 'q');
          got.push(...(await drain(client, 'q', 'c')).map((e) => e.ev_data ?? ''));
          // rotate: the oldest table becomes the current one, and the function follows it
          await client.query(`UPDATE pgq.queue SET queue_rotation_period = '0', queue_switch_time = now() - interval '1 hour'`);
          await client.query(`SELECT pgq.maint_rotate_tables_step1('q')`);
          await client.query(`SELECT pgq.maint_rotate_tables_step2()`);
          const cur = await scalar<number>(client, `SELECT queue_cur_table FROM pgq.queue`);
          assert.match(await functionSource(client, 't'), new RegExp(`INSERT INTO pgq\\.event_1_${cur} `));
        }
        await client.query(`INSERT INTO t VALUES (1, 'last')`);
        expected += 1;
        assert.equal(await scalar(client, `SELECT count(*)::int FROM pgq.event_1_${await scalar<number>(client, 'SELECT queue_cur_table FROM pgq.queue')} WHERE ev_data = 'id=1&v=last'`), 1);
        await tickNow(client, 'q');
        got.push(...(await drain(client, 'q', 'c')).map((e) => e.ev_data ?? ''));
        assert.equal(got.length, expected);
        assert.equal(new Set(got).size, expected, 'no event twice');
      } finally {
        await client.end();
      }
    });

    it('follow queue settings changed by any means', async () => {
      const { client } = await freshDatabase(cluster, 'settings');
      try {
        await client.query(`SELECT pgq.create_queue('q')`);
        await client.query(`CREATE TABLE t (id int PRIMARY KEY, v text)`);
        await generate(client, 't');
        await client.query(`UPDATE pgq.queue SET queue_disable_insert = true`);
        assert.equal(await errorOf(client, `INSERT INTO t VALUES (1, 'x')`), 'Insert into queue disallowed');
        await client.query(`SET session_replication_role = replica`);
        await client.query(`INSERT INTO t VALUES (1, 'x')`); // the trigger does not fire for the replica
        await client.query(`RESET session_replication_role`);
        await client.query(`UPDATE pgq.queue SET queue_disable_insert = false`);
        await client.query(`SELECT pgq.set_queue_config('q', 'per_tx_limit', '3')`);
        await client.query(`INSERT INTO t VALUES (2, 'x'), (3, 'y')`);
        assert.equal(await errorOf(client, `INSERT INTO t SELECT g, 'z' FROM generate_series(10, 13) g`), `Queue 'q' allows max 3 events from one TX`);
        await client.query(`SELECT pgq.set_queue_config('q', 'per_tx_limit', NULL)`);
        await client.query(`INSERT INTO t SELECT g, 'z' FROM generate_series(10, 13) g`);
        assert.equal(await scalar(client, `SELECT count(*)::int FROM pgq.event_template`), 6);
      } finally {
        await client.end();
      }
    });

    for (const withEventTrigger of [true, false]) {
      it(`follow DDL on the table ${withEventTrigger ? 'through the event trigger' : 'by checking it at every statement (no event trigger)'}`, async () => {
        const { client } = await freshDatabase(cluster, withEventTrigger ? 'ddl_evt' : 'ddl_check');
        try {
          if (!withEventTrigger) await client.query('DROP EVENT TRIGGER pgq_capture_ddl');
          await client.query(`SELECT pgq.create_queue('q')`);
          await client.query(`CREATE TABLE t (id int PRIMARY KEY, v text, gone int)`);
          await generate(client, 't');
          const checks = /IS DISTINCT FROM/.test(await functionSource(client, 't'));
          assert.equal(checks, !withEventTrigger, 'the per-statement check is there only without the event trigger');
          await client.query(`INSERT INTO t VALUES (1, 'a', 0)`);
          await client.query(`ALTER TABLE t ADD COLUMN added date DEFAULT '2020-01-02', DROP COLUMN gone`);
          await client.query(`UPDATE t SET v = 'b'`);
          await client.query(`ALTER TABLE t RENAME TO t2`);
          await client.query(`ALTER TABLE t2 RENAME COLUMN v TO w`);
          await client.query(`INSERT INTO t2 VALUES (2, 'c')`);
          await client.query(`ALTER TABLE t2 DROP CONSTRAINT t_pkey, ADD PRIMARY KEY (id, w)`);
          await client.query(`DELETE FROM t2`);
          const ev = (await client.query<{ ev_type: string; ev_data: string; ev_extra1: string }>(
            `SELECT ev_type, ev_data, ev_extra1 FROM pgq.event_template ORDER BY ev_id`,
          )).rows.map((e) => `${e.ev_extra1} ${e.ev_type} ${e.ev_data}`);
          assert.deepEqual(ev, [
            'public.t I:id id=1&v=a&gone=0',
            'public.t U:id id=1&v=b&added=2020-01-02',
            'public.t2 I:id id=2&w=c&added=2020-01-02',
            'public.t2 D:id,w id=1&w=b&added=2020-01-02',
            'public.t2 D:id,w id=2&w=c&added=2020-01-02',
          ]);
          await client.query('DROP TABLE t2');
          if (!withEventTrigger) await client.query('SELECT pgq._refresh_capture_functions(NULL, true)');
          assert.equal(await scalar(client, 'SELECT count(*)::int FROM pgq.capture_function'), 0);
          assert.equal(await scalar(client, `SELECT count(*)::int FROM pg_proc WHERE proname ~ '^trg_[0-9]+_[0-9]+$' AND pronamespace = 'pgq'::regnamespace`), 0);
        } finally {
          await client.end();
        }
      });
    }

    it('refuse key updates, and leave the table writable once the queue is dropped', async () => {
      const { client } = await freshDatabase(cluster, 'keys');
      try {
        await client.query(`SELECT pgq.create_queue('q')`);
        await client.query(`CREATE TABLE t (id int PRIMARY KEY, v text)`);
        await generate(client, 't', 'json');
        await client.query(`INSERT INTO t VALUES (1, 'a'), (2, 'b')`);
        assert.equal(await errorOf(client, `UPDATE t SET id = id + 10 WHERE id = 2`), 'primary key update not allowed');
        await client.query(`UPDATE t SET v = 'c', id = id WHERE id = 2`);
        assert.equal(await scalar(client, `SELECT count(*)::int FROM pgq.event_template`), 3);
        await client.query(`SELECT pgq.drop_queue('q')`);
        assert.equal(await scalar(client, `SELECT count(*)::int FROM pg_trigger WHERE tgrelid = 't'::regclass`), 0);
        await client.query(`INSERT INTO t VALUES (3, 'd')`);
        await client.query(`UPDATE t SET id = 30 WHERE id = 3`);
        assert.equal(await scalar(client, `SELECT count(*)::int FROM t`), 3);
      } finally {
        await client.end();
      }
    });

    it('let roles with pgq_writer write to captured tables, and only them', async () => {
      const { db, client } = await freshDatabase(cluster, 'perms');
      const role = `app_${process.pid}`;
      let app: pg.Client | undefined;
      try {
        await client.query(`SELECT pgq.create_queue('q')`);
        await client.query(`CREATE TABLE t (id int PRIMARY KEY, v text)`);
        await generate(client, 't');
        await client.query(`DROP ROLE IF EXISTS ${role}`);
        await client.query(`CREATE ROLE ${role} LOGIN`);
        await client.query(`GRANT SELECT, INSERT, UPDATE ON t TO ${role}`);
        app = await connect(cluster, db);
        await app.query(`SET ROLE ${role}`);
        assert.match(await errorOf(app, `INSERT INTO t VALUES (1, 'x')`), /permission denied for (table|relation) event_1_0/);
        await client.query(`GRANT pgq_writer TO ${role}`);
        await app.query(`INSERT INTO t VALUES (1, 'x')`);
        await app.query(`UPDATE t SET v = 'y'`);
        assert.equal(await scalar(client, `SELECT string_agg(ev_data, ' ' ORDER BY ev_id) FROM pgq.event_template`), 'id=1&v=x id=1&v=y');
      } finally {
        await app?.end();
        await client.query(`DROP OWNED BY ${role}`).catch(() => undefined);
        await client.end();
        await cluster.query('postgres', `DROP ROLE IF EXISTS ${role}`).catch(() => undefined);
      }
    });
  });
}
