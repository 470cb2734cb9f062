// Capture triggers: exact event encodings for the interesting column types, every trigger
// argument, TRUNCATE, session_replication_role, and the generated statement triggers producing
// exactly the events of the generic row triggers.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type pg from 'pg';
import { startCluster, testVersions, type PgCluster } from '@skytools/harness';
import { errorOf, freshDatabase, scalar } from './support.js';

interface Ev {
  ev_type: string;
  ev_data: string | null;
  ev_extra1: string | null;
  ev_extra2: string | null;
  ev_extra3: string | null;
}

async function events(c: pg.ClientBase, where = 'true'): Promise<Ev[]> {
  const r = await c.query<Ev>(`SELECT ev_type, ev_data, ev_extra1, ev_extra2, ev_extra3 FROM pgq.event_template WHERE ${where} ORDER BY ev_id`);
  return r.rows;
}

const TYPES_TABLE = `(id int PRIMARY KEY, t text, b bool, i8 bigint, n numeric, f float8, ts timestamp, tstz timestamptz,
  d date, arr text[], j json, jb jsonb, ip inet, by bytea, "Mixed Case" text)`;
const ROW = `(1, 'a b&c=d%e/f "q" ''s'' 德哥', true, -9000000000, 1.50, 0.5, '2012-05-30 21:32:36.853', '2012-05-30 21:32:36+08',
  '2012-05-30', '{x,"y z"}', '{"k": [1, "v"]}', '{"k": 1}', '10.0.0.1', '\\x00ff', 'M')`;

for (const major of testVersions()) {
  describe(`capture triggers, PostgreSQL ${major}`, () => {
    let cluster: PgCluster;
    before(async () => {
      cluster = await startCluster(major, { settings: { timezone: 'UTC', datestyle: 'ISO, MDY' } });
    });
    after(async () => {
      await cluster.stop();
    });

    it('encode every column type exactly (logutriga, jsontriga, sqltriga)', async () => {
      const { client } = await freshDatabase(cluster, 'enc');
      try {
        await client.query(`SELECT pgq.create_queue('q')`);
        await client.query(`CREATE TABLE public.tl ${TYPES_TABLE}`);
        await client.query(`CREATE TABLE public.tj ${TYPES_TABLE}`);
        await client.query(`CREATE TABLE public.ts ${TYPES_TABLE}`);
        await client.query(`CREATE TRIGGER c AFTER INSERT OR UPDATE OR DELETE ON public.tl FOR EACH ROW EXECUTE PROCEDURE pgq.logutriga('q')`);
        await client.query(`CREATE TRIGGER c AFTER INSERT OR UPDATE OR DELETE ON public.tj FOR EACH ROW EXECUTE PROCEDURE pgq.jsontriga('q')`);
        await client.query(`CREATE TRIGGER c AFTER INSERT OR UPDATE OR DELETE ON public.ts FOR EACH ROW EXECUTE PROCEDURE pgq.sqltriga('q')`);
        for (const t of ['tl', 'tj', 'ts']) {
          await client.query(`INSERT INTO public.${t} VALUES ${ROW}, (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)`);
          await client.query(`UPDATE public.${t} SET b = false WHERE id = 2`);
          await client.query(`DELETE FROM public.${t} WHERE id = 2`);
        }
        const urlRow =
          'id=1&t=a+b%26c%3dd%25e%2ff+%22q%22+%27s%27+%e5%be%b7%e5%93%a5&b=t&i8=-9000000000&n=1.50&f=0.5' +
          '&ts=2012-05-30+21%3a32%3a36.853&tstz=2012-05-30+13%3a32%3a36%2b00&d=2012-05-30&arr=%7bx%2c%22y+z%22%7d' +
          '&j=%7b%22k%22%3a+%5b1%2c+%22v%22%5d%7d&jb=%7b%22k%22%3a+1%7d&ip=10.0.0.1&by=%5cx00ff&Mixed+Case=M';
        const nullRow = 'id=2&t&b&i8&n&f&ts&tstz&d&arr&j&jb&ip&by&Mixed+Case';
        assert.deepEqual(await events(client, `ev_extra1 = 'public.tl'`), [
          { ev_type: 'I:id', ev_data: urlRow, ev_extra1: 'public.tl', ev_extra2: null, ev_extra3: null },
          { ev_type: 'I:id', ev_data: nullRow, ev_extra1: 'public.tl', ev_extra2: null, ev_extra3: null },
          { ev_type: 'U:id', ev_data: nullRow.replace('&b&', '&b=f&'), ev_extra1: 'public.tl', ev_extra2: null, ev_extra3: null },
          { ev_type: 'D:id', ev_data: nullRow.replace('&b&', '&b=f&'), ev_extra1: 'public.tl', ev_extra2: null, ev_extra3: null },
        ]);
        const js = await events(client, `ev_extra1 = 'public.tj'`);
        assert.equal(js[0]?.ev_type, '{"op":"INSERT","table":["public","tj"],"pkey":["id"]}');
        assert.equal(
          js[0]?.ev_data,
          '{"id":1,"t":"a b&c=d%e/f \\"q\\" \'s\' 德哥","b":true,"i8":-9000000000,"n":"1.50","f":"0.5",' +
            '"ts":"2012-05-30T21:32:36.853","tstz":"2012-05-30T13:32:36+00:00","d":"2012-05-30","arr":"{x,\\"y z\\"}",' +
            '"j":"{\\"k\\": [1, \\"v\\"]}","jb":"{\\"k\\": 1}","ip":"10.0.0.1","by":"\\\\x00ff","Mixed Case":"M"}',
        );
        assert.equal(js[3]?.ev_type, '{"op":"DELETE","table":["public","tj"],"pkey":["id"]}');
        const sq = await events(client, `ev_extra1 = 'public.ts'`);
        assert.deepEqual(sq.map((e) => [e.ev_type, e.ev_data]), [
          ['I', `(id,t,b,i8,n,f,ts,tstz,d,arr,j,jb,ip,by,"Mixed Case") values ('1','a b&c=d%e/f "q" ''s'' 德哥','t','-9000000000','1.50','0.5','2012-05-30 21:32:36.853','2012-05-30 13:32:36+00','2012-05-30','{x,"y z"}','{"k": [1, "v"]}','{"k": 1}','10.0.0.1',E'\\\\x00ff','M')`],
          // as upstream: NULL written null, and an UPDATE sets only the columns it changed
          ['I', `(id,t,b,i8,n,f,ts,tstz,d,arr,j,jb,ip,by,"Mixed Case") values ('2',null,null,null,null,null,null,null,null,null,null,null,null,null,null)`],
          ['U', `b='f' where id='2'`],
          ['D', `id='2'`],
        ]);
      } finally {
        await client.end();
      }
    });

    it('honour ignore=, pkey=, backup, when=, ev_extra=, deny, SKIP and TRUNCATE', async () => {
      const { client } = await freshDatabase(cluster, 'args');
      try {
        await client.query(`SELECT pgq.create_queue('q')`);
        await client.query(`CREATE TABLE s (id int PRIMARY KEY, v text, noise int)`);
        await client.query(`CREATE TRIGGER c AFTER INSERT OR UPDATE OR DELETE ON s FOR EACH ROW
          EXECUTE PROCEDURE pgq.logutriga('q', 'ignore=noise', 'backup', 'when=v <> ''hidden''', 'ev_extra3=''x'' || id')`);
        await client.query(`CREATE TRIGGER t AFTER TRUNCATE ON s FOR EACH STATEMENT EXECUTE PROCEDURE pgq.sqltriga('q')`);
        await client.query(`INSERT INTO s VALUES (1, 'a', 0), (2, 'hidden', 0)`);
        await client.query(`UPDATE s SET noise = noise + 1`); // ignored column only: nothing logged
        await client.query(`UPDATE s SET v = 'b' WHERE id = 1`);
        await client.query(`TRUNCATE s`);
        assert.deepEqual(await events(client), [
          { ev_type: 'I:id', ev_data: 'id=1&v=a', ev_extra1: 'public.s', ev_extra2: null, ev_extra3: 'x1' },
          { ev_type: 'U:id', ev_data: 'id=1&v=b', ev_extra1: 'public.s', ev_extra2: 'id=1&v=a', ev_extra3: 'x1' },
          { ev_type: 'R', ev_data: '', ev_extra1: 'public.s', ev_extra2: null, ev_extra3: null },
        ]);

        await client.query(`CREATE TABLE k (a int, b int, v text)`);
        await client.query(`CREATE TRIGGER c AFTER INSERT OR UPDATE OR DELETE ON k FOR EACH ROW EXECUTE PROCEDURE pgq.logutriga('q', 'pkey=a,b')`);
        await client.query(`INSERT INTO k VALUES (1, 2, 'x')`);
        assert.equal((await events(client, `ev_extra1 = 'public.k'`))[0]?.ev_type, 'I:a,b');

        await client.query(`CREATE TABLE nopk (v text)`);
        await client.query(`CREATE TRIGGER c AFTER INSERT OR UPDATE OR DELETE ON nopk FOR EACH ROW EXECUTE PROCEDURE pgq.logutriga('q')`);
        await client.query(`INSERT INTO nopk VALUES ('x')`);
        assert.equal(await errorOf(client, `UPDATE nopk SET v = 'y'`), 'Update/Delete on table without pkey');

        await client.query(`CREATE TABLE d (id int PRIMARY KEY)`);
        await client.query(`CREATE TRIGGER c AFTER INSERT OR UPDATE OR DELETE ON d FOR EACH ROW EXECUTE PROCEDURE pgq.logutriga('q', 'deny')`);
        assert.equal(await errorOf(client, `INSERT INTO d VALUES (1)`), `Table 'public.d' to queue 'q': change not allowed (INSERT)`);

        // SKIP: the event is written, the row change itself is not
        await client.query(`CREATE TABLE sk (id int PRIMARY KEY, v text)`);
        await client.query(`CREATE TRIGGER c BEFORE INSERT OR UPDATE OR DELETE ON sk FOR EACH ROW EXECUTE PROCEDURE pgq.logutriga('q', 'SKIP')`);
        await client.query(`INSERT INTO sk VALUES (1, 'x')`);
        assert.equal(await scalar(client, `SELECT count(*)::int AS n FROM sk`), 0);
        assert.equal((await events(client, `ev_extra1 = 'public.sk'`)).length, 1);
        await client.query(`CREATE TABLE sk2 (id int PRIMARY KEY)`);
        await client.query(`CREATE TRIGGER c AFTER INSERT ON sk2 FOR EACH ROW EXECUTE PROCEDURE pgq.logutriga('q', 'SKIP')`);
        assert.equal(await errorOf(client, `INSERT INTO sk2 VALUES (1)`), 'SKIP does not work in AFTER trigger.');
        assert.equal(await errorOf(client, `INSERT INTO s VALUES (9, 'x', 0) ; UPDATE s SET id = 10 WHERE id = 9`), 'primary key update not allowed');
      } finally {
        await client.end();
      }
    });

    it('as upstream: sqltriga sets only changed columns, a no-op update sets the key to itself, magic _pgq_ev_* columns, TRUNCATE keys in jsontriga, ids taken by refused inserts', async () => {
      const { client } = await freshDatabase(cluster, 'upstream');
      try {
        await client.query(`SELECT pgq.create_queue('q')`);
        // sqltriga (upstream's trigger_base, trigger_ignore, trigger_pkey)
        await client.query(`CREATE TABLE s (id int, k text, a text, b numeric, noise int, PRIMARY KEY (id, k))`);
        await client.query(`CREATE TRIGGER c AFTER INSERT OR UPDATE OR DELETE ON s FOR EACH ROW EXECUTE PROCEDURE pgq.sqltriga('q', 'ignore=noise')`);
        await client.query(`INSERT INTO s VALUES (1, 'x y', 'a', NULL, 0)`);
        await client.query(`UPDATE s SET b = 2.50`); // one column changed
        await client.query(`UPDATE s SET a = a, b = b`); // nothing changed: logged as the first key set to itself
        await client.query(`UPDATE s SET noise = 5`); // only an ignored column: not logged
        await client.query(`UPDATE s SET noise = 6, a = NULL`); // the ignored column left out, NULL as null
        await client.query(`DELETE FROM s`);
        assert.deepEqual((await events(client, `ev_extra1 = 'public.s'`)).map((e) => [e.ev_type, e.ev_data]), [
          ['I', `(id,k,a,b) values ('1','x y','a',null)`],
          ['U', `b='2.50' where id='1' and k='x y'`],
          ['U', `id='1' where id='1' and k='x y'`],
          ['U', `a=null where id='1' and k='x y'`],
          ['D', `id='1' and k='x y'`],
        ]);

        // magic columns give the event's fields, for row triggers and generated ones alike (upstream's trigger_extra_cols)
        const magic = `(nr int PRIMARY KEY, col1 text, _pgq_ev_type text, _pgq_ev_extra1 text, _pgq_ev_extra2 text DEFAULT 'e2',
          _pgq_ev_extra3 text DEFAULT 'e3', _pgq_ev_extra4 text DEFAULT 'e4')`;
        for (const [t, how] of [['mj', 'jsontriga'], ['ml', 'logutriga'], ['ms', 'sqltriga'], ['mg', 'generated']] as const) {
          await client.query(`CREATE TABLE ${t} ${magic}`);
          if (how === 'generated') assert.equal(await scalar(client, `SELECT pgq.generate_capture_trigger('q', '${t}', 'c', '{}', 'urlenc') AS r`), 1);
          else await client.query(`CREATE TRIGGER c AFTER INSERT OR UPDATE OR DELETE ON ${t} FOR EACH ROW EXECUTE PROCEDURE pgq.${how}('q')`);
          await client.query(`INSERT INTO ${t} (nr, col1, _pgq_ev_type, _pgq_ev_extra1) VALUES (1, 'c1', 'xt', 'E1')`);
          await client.query(`UPDATE ${t} SET col1 = 'c2', _pgq_ev_extra1 = 'X1'`);
          await client.query(`DELETE FROM ${t}`);
        }
        const m = await client.query<{ ev_type: string; ev_data: string; ev_extra1: string; ev_extra2: string; ev_extra3: string; ev_extra4: string }>(
          `SELECT ev_type, ev_data, ev_extra1, ev_extra2, ev_extra3, ev_extra4 FROM pgq.event_template WHERE ev_type = 'xt' ORDER BY ev_id`);
        assert.deepEqual(m.rows.map((e) => [e.ev_data, e.ev_extra1, e.ev_extra2, e.ev_extra3, e.ev_extra4]), [
          ['{"nr":1,"col1":"c1"}', 'E1', 'e2', 'e3', 'e4'], ['{"nr":1,"col1":"c2"}', 'X1', 'e2', 'e3', 'e4'], ['{"nr":1,"col1":"c2"}', 'X1', 'e2', 'e3', 'e4'],
          ['nr=1&col1=c1', 'E1', 'e2', 'e3', 'e4'], ['nr=1&col1=c2', 'X1', 'e2', 'e3', 'e4'], ['nr=1&col1=c2', 'X1', 'e2', 'e3', 'e4'],
          [`(nr,col1) values ('1','c1')`, 'E1', 'e2', 'e3', 'e4'], [`col1='c2' where nr='1'`, 'X1', 'e2', 'e3', 'e4'], [`nr='1'`, 'X1', 'e2', 'e3', 'e4'],
          ['nr=1&col1=c1', 'E1', 'e2', 'e3', 'e4'], ['nr=1&col1=c2', 'X1', 'e2', 'e3', 'e4'], ['nr=1&col1=c2', 'X1', 'e2', 'e3', 'e4'],
        ]);
        await client.query(`CREATE TABLE bad (id int PRIMARY KEY, _pgq_ev_colour text)`);
        await client.query(`CREATE TRIGGER c AFTER INSERT ON bad FOR EACH ROW EXECUTE PROCEDURE pgq.logutriga('q')`);
        assert.equal(await errorOf(client, `INSERT INTO bad VALUES (1, 'red')`), 'Unknown magic column: _pgq_ev_colour');

        // jsontriga's TRUNCATE event names the key like its row events (upstream's trigger_trunc)
        await client.query(`CREATE TABLE tr (k1 int, k2 text, v int, PRIMARY KEY (k1, k2))`);
        await client.query(`CREATE TRIGGER t AFTER TRUNCATE ON tr FOR EACH STATEMENT EXECUTE PROCEDURE pgq.jsontriga('q')`);
        await client.query(`TRUNCATE tr`);
        assert.equal((await events(client, `ev_extra1 = 'public.tr'`))[0]?.ev_type, '{"op":"TRUNCATE","table":["public","tr"],"pkey":["k1","k2"]}');

        // an insert refused by a disabled queue or the per-transaction limit still takes its id (upstream's pgq_core_disabled)
        await client.query(`SELECT pgq.create_queue('ids')`);
        const first = await scalar<string>(client, `SELECT pgq.insert_event('ids', 't', 'd')::text AS r`);
        await client.query(`UPDATE pgq.queue SET queue_disable_insert = true WHERE queue_name = 'ids'`);
        assert.equal(await errorOf(client, `SELECT pgq.insert_event('ids', 't', 'd')`), 'Insert into queue disallowed');
        await client.query(`UPDATE pgq.queue SET queue_disable_insert = false WHERE queue_name = 'ids'`);
        assert.equal(await scalar<string>(client, `SELECT pgq.insert_event('ids', 't', 'd')::text AS r`), String(BigInt(first) + 2n));
      } finally {
        await client.end();
      }
    });

    it('log nothing under session_replication_role local, and only replica-enabled triggers fire in replica', async () => {
      const { client } = await freshDatabase(cluster, 'role');
      try {
        await client.query(`SELECT pgq.create_queue('q')`);
        await client.query(`CREATE TABLE r (id int PRIMARY KEY)`);
        await client.query(`CREATE TRIGGER c AFTER INSERT ON r FOR EACH ROW EXECUTE PROCEDURE pgq.logutriga('q')`);
        await client.query(`SET session_replication_role = 'local'`);
        await client.query(`INSERT INTO r VALUES (1)`);
        await client.query(`SET session_replication_role = 'replica'`);
        await client.query(`INSERT INTO r VALUES (2)`);
        await client.query(`ALTER TABLE r ENABLE ALWAYS TRIGGER c`);
        await client.query(`INSERT INTO r VALUES (3)`);
        await client.query(`RESET session_replication_role`);
        await client.query(`INSERT INTO r VALUES (4)`);
        assert.deepEqual((await events(client)).map((e) => e.ev_data), ['id=3', 'id=4']);
      } finally {
        await client.end();
      }
    });

    it('generated statement triggers write exactly the events of the row triggers', async () => {
      const { client } = await freshDatabase(cluster, 'equiv');
      try {
        await client.query(`SELECT pgq.create_queue('q')`);
        for (const [t, fmt] of [['gl', 'urlenc'], ['fl', 'urlenc'], ['gj', 'json'], ['fj', 'json']] as const) {
          await client.query(`CREATE TABLE ${t} ${TYPES_TABLE}`);
          if (t.startsWith('g')) {
            await client.query(`CREATE TRIGGER c AFTER INSERT OR UPDATE OR DELETE ON ${t} FOR EACH ROW
              EXECUTE PROCEDURE pgq.${fmt === 'json' ? 'jsontriga' : 'logutriga'}('q', 'backup', 'ignore=f')`);
          } else {
            assert.equal(await scalar(client, `SELECT pgq.generate_capture_trigger('q', '${t}', 'c', '{backup,ignore=f}', '${fmt}') AS r`), 1);
          }
        }
        // transactions of several statements, so that "same transaction, same place in it" means something
        const transactions = (t: string): string[][] => [
          [
            `INSERT INTO ${t} VALUES ${ROW}`,
            `INSERT INTO ${t} (id, t, n, ts) SELECT g, 'row ' || g || ' ü', g / 7.0, '2020-01-01'::timestamp + g * interval '1 minute' FROM generate_series(2, 300) g`,
          ],
          [`UPDATE ${t} SET t = t || '!', b = (id % 2 = 0) WHERE id % 3 = 0`],
          [`UPDATE ${t} SET f = 1.5`, `DELETE FROM ${t} WHERE id % 5 = 0`], // the first changes an ignored column only
          [`ALTER TABLE ${t} ADD COLUMN extra int DEFAULT 7`, `UPDATE ${t} SET extra = id WHERE id < 20`],
          [`UPDATE ${t} SET extra = -id WHERE id BETWEEN 250 AND 260`, `DELETE FROM ${t} WHERE id BETWEEN 255 AND 258`, `INSERT INTO ${t} (id, t) VALUES (255, 'again')`],
        ];
        /** Runs the workload; returns the txid of each of its transactions, in order. */
        const workload = async (t: string): Promise<string[]> => {
          const txids: string[] = [];
          for (const statements of transactions(t)) {
            await client.query('BEGIN');
            for (const sql of statements) await client.query(sql);
            txids.push(await scalar<string>(client, 'SELECT txid_current()::text'));
            await client.query('COMMIT');
          }
          return txids;
        };
        const txidsOf = new Map<string, string[]>();
        for (const t of ['gl', 'fl', 'gj', 'fj']) txidsOf.set(t, await workload(t));
        const strip = (rows: Ev[], t: string): string[] =>
          rows.map((e) => JSON.stringify([e.ev_type.replace(`"${t}"`, '"T"'), e.ev_data, e.ev_extra2]));
        /**
         * Each event as (which workload transaction wrote it, its place within that transaction, type,
         * data), in ev_id order: the txid an event carries is mapped back to the transaction that ran.
         */
        const inTransactions = async (t: string): Promise<string[]> => {
          const txids = txidsOf.get(t) ?? [];
          const r = await client.query<{ ev_txid: string; ev_type: string; ev_data: string | null }>(
            `SELECT ev_txid::text, ev_type, ev_data FROM pgq.event_template WHERE ev_extra1 = $1 ORDER BY ev_id`, [`public.${t}`]);
          const seen = new Map<number, number>();
          return r.rows.map((e) => {
            const tx = txids.indexOf(e.ev_txid);
            assert.ok(tx >= 0, `${t}: event with txid ${e.ev_txid} from none of the workload's transactions (${txids.join(', ')})`);
            const pos = (seen.get(tx) ?? 0) + 1;
            seen.set(tx, pos);
            return `tx ${tx} #${pos} ${e.ev_type.replace(`"${t}"`, '"T"')} ${e.ev_data ?? ''}`;
          });
        };
        const gl = await events(client, `ev_extra1 = 'public.gl'`);
        const fl = await events(client, `ev_extra1 = 'public.fl'`);
        assert.ok(gl.length > 400, `workload produced ${gl.length} events`);
        assert.deepEqual(strip(fl, 'fl'), strip(gl, 'gl'));
        const gj = await events(client, `ev_extra1 = 'public.gj'`);
        const fj = await events(client, `ev_extra1 = 'public.fj'`);
        assert.deepEqual(strip(fj, 'fj'), strip(gj, 'gj'));
        /** "tx 0: 300, tx 1: 100, ...": a readable first check before the event-by-event one. */
        const perTx = (lines: string[]): string => {
          const counts = new Map<string, number>();
          for (const l of lines) {
            const tx = l.split(' #')[0] ?? '';
            counts.set(tx, (counts.get(tx) ?? 0) + 1);
          }
          return [...counts].map(([tx, n]) => `${tx}: ${n}`).join(', ');
        };
        // the row trigger's events, in the transactions that wrote them (the reference)
        assert.equal(perTx(await inTransactions('gl')), 'tx 0: 300, tx 1: 100, tx 2: 60, tx 3: 16, tx 4: 12');
        // the statement triggers: the same transactions, and the same order within each
        for (const [f, g, what] of [['fl', 'gl', 'urlenc'], ['fj', 'gj', 'json']] as const) {
          const [fTx, gTx] = [await inTransactions(f), await inTransactions(g)];
          assert.equal(perTx(fTx), perTx(gTx), `${what} statement trigger: events per transaction`);
          assert.deepEqual(fTx, gTx, `${what} statement trigger: events by transaction and place within it`);
        }
        assert.equal(await errorOf(client, `UPDATE fl SET id = id + 1000 WHERE id = 1`), 'primary key update not allowed');
      } finally {
        await client.end();
      }
    });
  });
}
