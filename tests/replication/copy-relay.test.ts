// The initial copy's relay from a COPY TO on one server into a COPY FROM on another, between
// two major versions: every row arrives (checksums on both sides) in text and binary format,
// notices in the middle of the rows are handled, a failure on either side ends both statements
// with the failing side's error and leaves no row behind, and closing the connections (a job's
// stop) ends it.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { CopyRelay } from '@skytools/core';
import { startCluster, testVersions, type PgCluster } from '@skytools/harness';

const versions = testVersions();
const srcMajor = versions[0] ?? 15;
const dstMajor = versions[versions.length - 1] ?? 15;

const TABLE = `CREATE TABLE t (id int PRIMARY KEY, txt text, raw bytea, doc jsonb, arr int[], ts timestamptz, n numeric)`;
const COLS = 'id, txt, raw, doc, arr, ts, n';
const DIGEST = `SELECT count(*)::int AS n, coalesce(md5(string_agg(t::text, '|' ORDER BY id)), '') AS md5 FROM t`;

async function client(cluster: PgCluster): Promise<pg.Client> {
  const c = new pg.Client(cluster.clientConfig('relay'));
  // one test cuts the source's socket under the client: the client reports the loss as an 'error' event
  c.on('error', () => undefined);
  await c.connect();
  return c;
}

async function digest(c: pg.ClientBase): Promise<{ n: number; md5: string }> {
  return (await c.query<{ n: number; md5: string }>(DIGEST)).rows[0] ?? { n: -1, md5: '' };
}

describe(`COPY relay, PostgreSQL ${srcMajor} -> ${dstMajor}`, () => {
  let src: PgCluster;
  let dst: PgCluster;
  let source: pg.Client;
  let target: pg.Client;

  before(async () => {
    [src, dst] = await Promise.all([startCluster(srcMajor), startCluster(dstMajor)]);
    await Promise.all([src.createDatabase('relay'), dst.createDatabase('relay')]);
    source = await client(src);
    target = await client(dst);
    await source.query(TABLE);
    // awkward values, a few rows far bigger than a socket chunk, and many small ones
    await source.query(`INSERT INTO t
      SELECT i,
             CASE WHEN i % 7 = 0 THEN NULL WHEN i % 1000 = 1 THEN repeat(E'德哥\\\\\\t\\n\\r', 40000) ELSE 'row ' || i || E' \\\\ tab\\there\\nnewline 德哥' END,
             CASE WHEN i % 5 = 0 THEN NULL ELSE decode(md5(i::text), 'hex') || '\\x00ff'::bytea END,
             jsonb_build_object('i', i, 's', E'quote " back \\\\ 日本'),
             ARRAY[i, NULL, -i],
             '2020-01-01 00:00:00+00'::timestamptz + i * interval '1 minute',
             i / 7.0
      FROM generate_series(1, 30000) i`);
    await target.query(TABLE);
  });
  after(async () => {
    await source.end().catch(() => undefined);
    await target.end().catch(() => undefined);
    await Promise.all([src.stop(), dst.stop()]);
  });

  for (const format of ['text', 'binary'] as const) {
    it(`copies every row unchanged in ${format} format`, async () => {
      await target.query('TRUNCATE t');
      const opt = format === 'binary' ? ' (FORMAT binary)' : '';
      const relay = new CopyRelay();
      const out = await relay.run(source, `COPY (SELECT ${COLS} FROM t) TO STDOUT${opt}`, target, `COPY t (${COLS}) FROM STDIN${opt}`);
      const want = await digest(source);
      assert.equal(want.n, 30000);
      assert.deepEqual(await digest(target), want, 'same rows on both sides');
      assert.equal(out.rows, 30000, 'the target COPY count');
      assert.ok(out.bytes > 30 * 40000 * 5, `payload bytes counted (${String(out.bytes)})`);
      assert.equal(relay.rows, 30000, 'the row count once the relay has ended');
      // both connections are back in pg's hands
      assert.equal((await source.query<{ one: number }>('SELECT 1 AS one')).rows[0]?.one, 1);
      assert.equal((await target.query<{ one: number }>('SELECT 1 AS one')).rows[0]?.one, 1);
    });
  }

  it('passes notices raised in the middle of the rows to the source client', async () => {
    await target.query('TRUNCATE t');
    await source.query(`CREATE OR REPLACE FUNCTION noisy(i int) RETURNS int LANGUAGE plpgsql AS $$
      BEGIN IF i % 1000 = 0 THEN RAISE NOTICE 'at row %', i; END IF; RETURN i; END $$`);
    const notices: string[] = [];
    const onNotice = (n: { message?: string | undefined }): void => {
      notices.push(n.message ?? '');
    };
    source.on('notice', onNotice);
    try {
      await new CopyRelay().run(source, `COPY (SELECT noisy(id), txt, raw, doc, arr, ts, n FROM t ORDER BY id) TO STDOUT`, target, `COPY t (${COLS}) FROM STDIN`);
    } finally {
      source.off('notice', onNotice);
    }
    assert.deepEqual(await digest(target), await digest(source));
    assert.equal(notices.length, 30);
    assert.equal(notices[29], 'at row 30000');
  });

  it("ends the target's COPY without rows when the source fails in the middle, with the source's error", async () => {
    await target.query('TRUNCATE t');
    const err = await new CopyRelay()
      .run(source, `COPY (SELECT id, txt, raw, doc, arr, ts, n / (id - 20000) FROM t ORDER BY id) TO STDOUT`, target, `COPY t (${COLS}) FROM STDIN`)
      .then(
        () => undefined,
        (e: unknown) => e as { code?: string; message?: string },
      );
    assert.equal(err?.code, '22012', `the source's division by zero (${err?.message ?? 'no error'})`);
    assert.equal((await digest(target)).n, 0, 'no row reached the target');
    assert.equal((await source.query<{ one: number }>('SELECT 1 AS one')).rows[0]?.one, 1, 'the source connection is usable');
    assert.equal((await target.query<{ one: number }>('SELECT 1 AS one')).rows[0]?.one, 1, 'the target connection is usable');
  });

  it("stops reading the source when the target fails, with the target's error", async () => {
    await target.query('TRUNCATE t');
    await target.query('ALTER TABLE t ADD CONSTRAINT below CHECK (id < 100)');
    // some 250 MB to send: the target fails long before the source is through
    const err = await new CopyRelay()
      .run(source, `COPY (SELECT id + g * 100000, txt, raw, doc, arr, ts, n FROM t, generate_series(0, 20) g ORDER BY g, id) TO STDOUT`, target, `COPY t (${COLS}) FROM STDIN`)
      .then(
        () => undefined,
        (e: unknown) => e as { code?: string; message?: string },
      );
    await target.query('ALTER TABLE t DROP CONSTRAINT below');
    assert.equal(err?.code, '23514', `the target's check violation (${err?.message ?? 'no error'})`);
    assert.equal((await digest(target)).n, 0, 'no row stayed on the target');
    // a COPY TO cannot be stopped but by closing its connection
    await assert.rejects(source.query('SELECT 1'));
    source = await client(src);
  });

  // a target left reading the rest of the cut row waits for ever: a minute says so sooner than the file's timeout
  it("ends the target's COPY when the source connection drops in the middle of a row, and the target stays usable", { timeout: 60_000 }, async () => {
    await target.query('TRUNCATE t');
    const relay = new CopyRelay();
    // rows of some 400 kB: the socket is cut inside one of them
    const running = relay.run(source, `COPY (SELECT id + g * 100000, repeat(md5(id::text), 12500), raw, doc, arr, ts, n FROM t, generate_series(0, 20) g) TO STDOUT`, target, `COPY t (${COLS}) FROM STDIN`);
    while (relay.bytes < 1_000_000) await new Promise((r) => setTimeout(r, 2));
    (source as unknown as { connection: { stream: { destroy: () => void } } }).connection.stream.destroy();
    await assert.rejects(running, /terminated/);
    assert.equal((await target.query<{ one: number }>('SELECT 1 AS one')).rows[0]?.one, 1, 'the target reads its next statement');
    assert.equal((await digest(target)).n, 0);
    source = await client(src);
  });

  it("counts the source's rows apart from the target's (a trigger there may drop some), and runs once", async () => {
    await target.query('TRUNCATE t');
    await target.query(`CREATE FUNCTION odd_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN CASE WHEN NEW.id % 2 = 1 THEN NEW END; END $$;
      CREATE TRIGGER odd_only BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION odd_only()`);
    const relay = new CopyRelay();
    try {
      const out = await relay.run(source, `COPY (SELECT ${COLS} FROM t) TO STDOUT`, target, `COPY t (${COLS}) FROM STDIN`);
      assert.deepEqual([out.sourceRows, out.rows], [30000, 15000]);
      assert.equal((await digest(target)).n, 15000);
    } finally {
      await target.query('DROP TRIGGER odd_only ON t');
    }
    await assert.rejects(relay.run(source, 'COPY t TO STDOUT', target, 'COPY t FROM STDIN'), /once per relay/);
  });

  it('ends with an error when its connections are closed in the middle (a job stopping)', async () => {
    await target.query('TRUNCATE t');
    const relay = new CopyRelay();
    const running = relay.run(source, `COPY (SELECT id + g * 100000, txt, raw, doc, arr, ts, n FROM t, generate_series(0, 20) g) TO STDOUT`, target, `COPY t (${COLS}) FROM STDIN`);
    while (relay.rows === 0) await new Promise((r) => setTimeout(r, 5));
    await Promise.all([source.end(), target.end()]);
    await assert.rejects(running, /terminated/);
    source = await client(src);
    target = await client(dst);
    assert.equal((await digest(target)).n, 0);
  });
});
